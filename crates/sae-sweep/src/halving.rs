//! Successive halving (Jamieson and Talwalkar 2016): every trial trains to
//! `min_epochs`, the best 1/η by a validation metric go on to `min_epochs·η`,
//! and so on up to `max_epochs`, each survivor continuing its stored run
//! rather than starting again. Promotion is a pure function of the stored
//! results, so a search killed at any moment resumes to the same choices.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use sae_core::CurvePoint;

use crate::{Experiment, Halving, Metric, RunSpec, RunState, Snapshot, Status};

/// A validation metric a halving search promotes by: measured after every
/// epoch on the validation set (never the test set), smaller is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", try_from = "String")]
pub enum Objective {
    /// Validation MSE.
    Mse,
    /// Validation KL divergence from ρ (KL runs).
    Kl,
    /// Non-zero code entries per validation image.
    L0,
    /// Units above 0.5 per validation image.
    ActivePerImage,
}

impl TryFrom<String> for Objective {
    type Error = String;

    fn try_from(key: String) -> Result<Self, String> {
        let all = [Self::Mse, Self::Kl, Self::L0, Self::ActivePerImage];
        if let Some(o) = all.into_iter().find(|o| o.key() == key) {
            return Ok(o);
        }
        let why = match Metric::from_key(&key) {
            Some(_) => "is scored on the test set only, and a search never chooses by the test set",
            None => "is not a metric of the results schema",
        };
        Err(format!("`{key}` {why}; expected a validation metric: {}", Self::KEYS))
    }
}

impl Objective {
    /// The keys, as written in files.
    pub const KEYS: &'static str = "mse, kl, l0, active_per_image";

    /// Its key, as written in files.
    pub fn key(self) -> &'static str {
        match self {
            Self::Mse => "mse",
            Self::Kl => "kl",
            Self::L0 => "l0",
            Self::ActivePerImage => "active_per_image",
        }
    }

    /// Its value at the end of `curve`, if the run measured it.
    pub fn read(self, curve: &[CurvePoint]) -> Option<f64> {
        let last = curve.last()?;
        match self {
            Self::Mse => Some(last.val_mse),
            Self::Kl => last.val_kl,
            Self::L0 => last.val_l0,
            Self::ActivePerImage => Some(last.val_active_per_image),
        }
        .filter(|v| v.is_finite())
    }
}

/// The epochs of each rung: `min`, `min·η`, `min·η²`… while below `max`,
/// then `max`.
pub(crate) fn rung_epochs(min: usize, max: usize, eta: usize) -> Vec<usize> {
    let mut rungs = Vec::new();
    let mut e = min;
    while e < max {
        rungs.push(e);
        e = e.saturating_mul(eta);
    }
    rungs.push(max);
    rungs
}

/// A trial's standing at a rung: its objectives, the mean over its seeds;
/// `None` when a replicate failed or is missing (never promoted).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Standing {
    /// The trial's label (its settings but the seed).
    label: String,
    /// The first objective, then the Pareto one if any.
    scores: Option<Vec<f64>>,
}

/// Whether `a` dominates `b`: no worse in every objective, better in one.
fn dominates(a: &[f64], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
}

/// Non-dominated rank of each point (0: the front), as NSGA-II sorts.
fn ranks(points: &[&[f64]]) -> Vec<usize> {
    let mut rank = vec![usize::MAX; points.len()];
    let mut r = 0;
    while rank.contains(&usize::MAX) {
        let front: Vec<usize> = (0..points.len())
            .filter(|&i| rank[i] == usize::MAX)
            .filter(|&i| !(0..points.len()).any(|j| rank[j] >= r && j != i && dominates(points[j], points[i])))
            .collect();
        front.iter().for_each(|&i| rank[i] = r);
        r += 1;
    }
    rank
}

/// Crowding distance of each point within its rank (NSGA-II): the sum over
/// objectives of the gap between its neighbours, normalised by the rank's
/// spread; the extremes of a rank are infinitely far.
fn crowding(points: &[&[f64]], rank: &[usize]) -> Vec<f64> {
    let mut distance = vec![0.0; points.len()];
    let dims = points.first().map_or(0, |p| p.len());
    for r in rank.iter().copied().collect::<std::collections::BTreeSet<_>>() {
        let members: Vec<usize> = (0..points.len()).filter(|&i| rank[i] == r).collect();
        (0..dims).for_each(|d| {
            let mut sorted = members.clone();
            sorted.sort_by(|&a, &b| points[a][d].total_cmp(&points[b][d]));
            let (lo, hi) = (points[sorted[0]][d], points[sorted[sorted.len() - 1]][d]);
            distance[sorted[0]] = f64::INFINITY;
            distance[sorted[sorted.len() - 1]] = f64::INFINITY;
            if hi > lo {
                for w in sorted.windows(3) {
                    distance[w[1]] += (points[w[2]][d] - points[w[0]][d]) / (hi - lo);
                }
            }
        });
    }
    distance
}

/// The labels of the trials that go on from a rung of `standings`: the
/// best `keep` by the first objective, or, with two, by non-dominated rank
/// then crowding distance (largest first); ties go to the trial listed
/// first. Trials without scores never go on.
pub(crate) fn promote(standings: &[Standing], keep: usize) -> Vec<String> {
    let scored: Vec<(usize, &[f64])> =
        standings.iter().enumerate().filter_map(|(i, s)| s.scores.as_deref().map(|v| (i, v))).collect();
    let points: Vec<&[f64]> = scored.iter().map(|s| s.1).collect();
    let rank = ranks(&points);
    let crowd = crowding(&points, &rank);
    let mut order: Vec<usize> = (0..scored.len()).collect();
    order.sort_by(|&a, &b| {
        let single = points[a].len() == 1;
        let by = if single {
            points[a][0].total_cmp(&points[b][0])
        } else {
            rank[a].cmp(&rank[b]).then(crowd[b].total_cmp(&crowd[a]))
        };
        by.then(scored[a].0.cmp(&scored[b].0))
    });
    order.into_iter().take(keep).map(|i| standings[scored[i].0].label.clone()).collect()
}

/// The standing of each trial of `stage` (runs of one rung), in the order
/// of their first run: the mean of each objective over its seeds, and none
/// when a replicate failed or is not stored.
pub(crate) fn standings(results: &Snapshot, stage: &[&RunSpec], halving: &Halving) -> Vec<Standing> {
    let mut labels: Vec<&str> = Vec::new();
    for spec in stage {
        if !labels.contains(&spec.label.as_str()) {
            labels.push(&spec.label);
        }
    }
    let score = |spec: &RunSpec| -> Option<Vec<f64>> {
        let stored = results.stored(spec).filter(|s| s.record.status == Status::Ok)?;
        halving.objectives.iter().map(|o| o.read(&stored.curve)).collect()
    };
    let n = halving.objectives.len();
    (labels.iter())
        .map(|&label| {
            let seeds: Option<Vec<Vec<f64>>> = stage.iter().filter(|s| s.label == label).map(|s| score(s)).collect();
            let scores = seeds.map(|s| (0..n).map(|i| s.iter().map(|v| v[i]).sum::<f64>() / s.len() as f64).collect());
            Standing { label: label.to_string(), scores }
        })
        .collect()
}

/// The runs of the rung after `stage` (the runs of one rung of `grid`)
/// that continue its promoted trials, by what `results` holds; `None` after
/// the last rung. A trial stands by the mean of each objective over its
/// seeds, and not at all when a replicate failed or is not stored.
pub(crate) fn promoted<'a>(
    results: &Snapshot,
    grid: &'a [RunSpec],
    stage: &[&RunSpec],
    halving: &Halving,
) -> Option<Vec<&'a RunSpec>> {
    let rung = stage.first()?.rung?;
    if rung + 1 >= halving.rungs.len() {
        return None;
    }
    let standings = standings(results, stage, halving);
    let kept = promote(&standings, survivors(standings.len(), halving.eta));
    let ids: Vec<&str> = stage.iter().filter(|s| kept.contains(&s.label)).map(|s| s.id.as_str()).collect();
    Some(
        grid.iter()
            .filter(|r| r.rung == Some(rung + 1) && r.continues.as_deref().is_some_and(|c| ids.contains(&c)))
            .collect(),
    )
}

/// The ids of `grid`'s runs that a halving search has stopped: those of a
/// rung whose rung before is stored whole and did not promote their trial.
pub fn stopped_runs(results: &Snapshot, grid: &[RunSpec], halving: &Halving) -> Vec<String> {
    if halving.asynchronous {
        return crate::asha::stopped(results, grid, halving);
    }
    let mut stopped = Vec::new();
    let mut stage: Vec<&RunSpec> = grid.iter().filter(|r| r.rung == Some(0)).collect();
    while stage.iter().all(|s| matches!(results.state(s), RunState::Stored(_))) {
        let Some(next) = promoted(results, grid, &stage, halving) else { break };
        let rung = stage.first().and_then(|s| s.rung).map(|r| r + 1);
        let left: Vec<&RunSpec> =
            grid.iter().filter(|r| r.rung == rung && !next.iter().any(|n| n.id == r.id)).collect();
        stopped.extend(left.iter().map(|r| r.id.clone()));
        stage = next;
    }
    stopped
}

/// The runs of `grid` that `experiment`'s search asks for, by what
/// `results` holds: every run but those its halving search stopped. They
/// are what the tables, the report and `merge` speak of: runs a former
/// search of the same file trained and this one stopped (another metric,
/// more trials) stay on disk for reuse, out of the tables.
pub fn searched_runs(results: &Snapshot, grid: &[RunSpec], experiment: &Experiment) -> Vec<RunSpec> {
    let stopped = match experiment.search.halving(experiment.training.epochs.0) {
        Some(halving) => stopped_runs(results, grid, &halving),
        None => Vec::new(),
    };
    grid.iter().filter(|spec| !stopped.contains(&spec.id)).cloned().collect()
}

/// Removes the training state of every run that no rung will continue any
/// more: every state in the results folder but those of the runs that a
/// run of this search not yet stored (nor stopped) continues. Those of
/// trials stopped, of rungs whose continuation is stored, and of runs of a
/// former search (another η or `max_epochs`) go. A width-256 state holds
/// the weights and Adam's two moments (4.8 MB); a finished search keeps
/// none. A continuation found damaged later trains from the first epoch,
/// saying so.
pub fn remove_spent_states(results: &Snapshot, grid: &[RunSpec], halving: &Halving) {
    let stopped = stopped_runs(results, grid, halving);
    let pending = grid.iter().filter(|s| !stopped.contains(&s.id) && results.stored(s).is_none());
    let needed: HashSet<&str> = pending.filter_map(|s| s.continues.as_deref()).collect();
    for id in results.dir().runs_with_state() {
        if !needed.contains(id.as_str()) {
            results.dir().remove_state(&id);
        }
    }
}

/// How many of `n` trials go on: a 1/η share, at least one.
pub(crate) fn survivors(n: usize, eta: usize) -> usize {
    (n / eta).max(1).min(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(label: &str, scores: Option<&[f64]>) -> Standing {
        Standing { label: label.into(), scores: scores.map(<[f64]>::to_vec) }
    }

    #[test]
    fn rungs_grow_by_eta_and_end_at_the_maximum() {
        assert_eq!(rung_epochs(1, 9, 3), [1, 3, 9]);
        assert_eq!(rung_epochs(2, 9, 3), [2, 6, 9]);
        assert_eq!(rung_epochs(5, 5, 3), [5]);
        assert_eq!(rung_epochs(1, 10, 2), [1, 2, 4, 8, 10]);
    }

    #[test]
    fn the_best_share_goes_on_ties_to_the_first_and_failures_never() {
        let s = [
            standing("a", Some(&[0.3])),
            standing("b", Some(&[0.1])),
            standing("c", None),
            standing("d", Some(&[0.2])),
            standing("e", Some(&[0.1])),
            standing("f", Some(&[0.5])),
        ];
        assert_eq!(survivors(6, 3), 2);
        assert_eq!(promote(&s, 2), ["b", "e"], "a tie goes to the trial listed first");
        assert_eq!(promote(&s, 3), ["b", "e", "d"]);
        assert_eq!(promote(&s, 6).len(), 5, "the failed trial never goes on");
        assert_eq!(survivors(2, 3), 1);
    }

    #[test]
    fn with_two_objectives_the_front_goes_first_then_the_spread_out() {
        // (mse, l0): a, b, c on the front; d dominated by b; e dominated by all.
        let s = [
            standing("a", Some(&[0.10, 200.0])),
            standing("b", Some(&[0.20, 50.0])),
            standing("c", Some(&[0.40, 10.0])),
            standing("d", Some(&[0.25, 60.0])),
            standing("e", Some(&[0.50, 300.0])),
            standing("f", Some(&[0.15, 100.0])),
        ];
        let kept = promote(&s, 4);
        // Front: a, f, b, c. The extremes a and c are infinitely crowded.
        assert_eq!(&kept[..2], ["a", "c"]);
        assert!(kept.contains(&"b".into()) && kept.contains(&"f".into()), "{kept:?}");
        let two = promote(&s, 2);
        assert_eq!(two, ["a", "c"], "the sparse-and-good end survives, not only the merely good");
    }
}
