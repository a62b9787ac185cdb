//! Asynchronous successive halving (Li et al. 2018, arXiv 1810.05934):
//! the rungs of halving, but a trial goes on to the next rung as soon as it
//! ranks in the best ⌊c/η⌋ of the c trials finished at its rung, so the
//! best configuration reaches the last rung while others still train. A
//! rung no more trials can reach keeps at least one, as halving does.
//!
//! Promotions are read from what is stored and what this process has
//! started: a trial whose run of a later rung is stored (or running) was
//! promoted, whatever the standings say now. So a search killed and
//! resumed keeps every promotion whose run was stored, and decides the
//! others from the standings it then finds: it may promote other trials
//! than the uninterrupted search would have (which ones depends on the
//! order in which runs finish, in any case).

use std::collections::HashSet;

use crate::halving::{promote, standings, survivors};
use crate::{Halving, RunSpec, Snapshot};

/// Which trials (labels, in grid order) reached each rung, and whether
/// each rung is closed: no more trial can reach it, and every trial that
/// did is stored there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reached<'a> {
    /// The labels of the trials that reached each rung.
    pub trials: Vec<Vec<&'a str>>,
    /// Whether each rung is closed.
    pub closed: Vec<bool>,
}

/// The runs of trial `label` at `rung`.
fn runs_of<'a>(grid: &'a [RunSpec], rung: usize, label: &'a str) -> impl Iterator<Item = &'a RunSpec> {
    grid.iter().filter(move |r| r.rung == Some(rung) && r.label == label)
}

/// The runs of the rung after `rung` that continue trial `label`'s runs
/// (a trial's label names its epochs, so it changes from rung to rung).
fn continuations<'a>(grid: &'a [RunSpec], rung: usize, label: &'a str) -> impl Iterator<Item = &'a RunSpec> {
    let ids: Vec<&str> = runs_of(grid, rung, label).map(|r| r.id.as_str()).collect();
    grid.iter().filter(move |r| r.rung == Some(rung + 1) && r.continues.as_deref().is_some_and(|c| ids.contains(&c)))
}

/// The trials each rung of an asynchronous search has reached, by what
/// `results` holds and the runs `started` by this process.
pub(crate) fn reached<'a>(
    results: &Snapshot,
    grid: &'a [RunSpec],
    halving: &Halving,
    started: &HashSet<String>,
) -> Reached<'a> {
    let mut first: Vec<&str> = Vec::new();
    for spec in grid.iter().filter(|r| r.rung == Some(0)) {
        if !first.contains(&spec.label.as_str()) {
            first.push(&spec.label);
        }
    }
    let (mut trials, mut closed) = (vec![first], Vec::new());
    for rung in 0..halving.rungs.len() {
        let done = |label: &&str| runs_of(grid, rung, label).all(|r| results.stored(r).is_some());
        let completed: Vec<&str> = trials[rung].iter().copied().filter(done).collect();
        closed.push(closed.last().is_none_or(|&c| c) && completed.len() == trials[rung].len());
        if rung + 1 == halving.rungs.len() {
            break;
        }
        let keep = if closed[rung] { survivors(completed.len(), halving.eta) } else { completed.len() / halving.eta };
        let stage: Vec<&RunSpec> = completed.iter().flat_map(|label| runs_of(grid, rung, label)).collect();
        let top = promote(&standings(results, &stage, halving), keep);
        let next = trials[rung].iter().filter_map(|label| {
            let later: Vec<&RunSpec> = continuations(grid, rung, label).collect();
            let went_on = top.iter().any(|t| t == label)
                || later.iter().any(|r| started.contains(&r.id) || results.stored(r).is_some());
            later.first().filter(|_| went_on).map(|r| r.label.as_str())
        });
        trials.push(next.collect());
    }
    Reached { trials, closed }
}

/// The runs an asynchronous search can start now, best first: the runs of
/// promoted trials not yet stored nor started, the highest rung first,
/// then the first rung's.
pub(crate) fn ready<'a>(
    results: &Snapshot,
    grid: &'a [RunSpec],
    halving: &Halving,
    started: &HashSet<String>,
) -> Vec<&'a RunSpec> {
    let reached = reached(results, grid, halving, started);
    let open = |r: &&RunSpec| !started.contains(&r.id) && results.stored(r).is_none();
    (0..halving.rungs.len())
        .rev()
        .flat_map(|rung| reached.trials[rung].iter().flat_map(move |label| runs_of(grid, rung, label)))
        .filter(open)
        .collect()
}

/// The ids of `grid`'s runs an asynchronous search has stopped: those of
/// a rung whose rung before is closed, of trials that did not reach it,
/// and every later run of a trial stopped.
pub(crate) fn stopped(results: &Snapshot, grid: &[RunSpec], halving: &Halving) -> Vec<String> {
    let reached = reached(results, grid, halving, &HashSet::new());
    let mut stopped: Vec<String> = Vec::new();
    for rung in 1..halving.rungs.len() {
        let trials = &reached.trials[rung];
        let closed_before = reached.closed[rung - 1];
        for run in grid.iter().filter(|r| r.rung == Some(rung)) {
            let after_a_stop = run.continues.as_ref().is_some_and(|c| stopped.contains(c));
            if after_a_stop || (closed_before && !trials.contains(&run.label.as_str())) {
                stopped.push(run.id.clone());
            }
        }
    }
    stopped
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{execute, Experiment, ResultsDir, SharedData};

    /// Six trials of a tiny run, halved by 3 at 1 and 3 epochs.
    const SEARCH: &str = "[data]\ntrain = 200\nvalidation = 50\ntest = 40\n[model]\nhidden = 8\n[training]\n\
                          batch_size = 20\n[sweep]\nlr = [0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]\n[search]\n\
                          strategy = \"asha\"\nmin_epochs = 1\nmax_epochs = 3\neta = 3\n";

    /// Runs finished one at a time in a fixed order: a trial goes on as
    /// soon as it is in the best ⌊c/3⌋ of the c finished, keeps its
    /// promotion when others overtake it, and the last of the rung promotes
    /// at least one; stopped runs are named only once their rung is closed.
    #[test]
    fn promotions_follow_the_order_of_completion() {
        let tmp = tempfile::tempdir().unwrap();
        sae_data::write_synthetic_dataset(&tmp.path().join("data"), 260, 40, 1).unwrap();
        let experiment = Experiment::from_toml(SEARCH, Path::new("asha.toml")).unwrap();
        let (grid, halving) = (experiment.expand(), experiment.search.halving(10).unwrap());
        assert!(halving.asynchronous);
        let data = SharedData::load(&tmp.path().join("data")).unwrap();
        let dir = ResultsDir::new(&tmp.path().join("results"), "asha");
        let store = |spec: &RunSpec| {
            let run = execute(spec, &data.for_run(&spec.config).unwrap(), |_| {});
            dir.write_run(spec, &run.output()).unwrap();
        };
        let none = HashSet::new();
        let first: Vec<&RunSpec> = grid.iter().filter(|r| r.rung == Some(0)).collect();
        // The order of completion: the last trial first.
        let order: Vec<&RunSpec> = first.iter().rev().copied().collect();
        let mut promoted: Vec<String> = Vec::new();
        for (c, spec) in order.iter().enumerate().map(|(i, s)| (i + 1, s)) {
            store(spec);
            let results = Snapshot::new(dir.clone(), &grid);
            let reached = reached(&results, &grid, &halving, &none);
            let finished = &order[..c];
            let val = |s: &RunSpec| results.stored(s).unwrap().record.final_val_mse.unwrap();
            let best = finished.iter().min_by(|a, b| val(a).total_cmp(&val(b))).unwrap();
            let best = grid.iter().find(|r| r.continues.as_ref() == Some(&best.id)).unwrap();
            match c {
                1 | 2 => assert!(reached.trials[1].is_empty(), "none of {c} is in the best ⌊{c}/3⌋"),
                3 => assert_eq!(reached.trials[1], [best.label.as_str()], "the best of three goes on"),
                _ => assert!(reached.trials[1].len() >= c / 3, "{reached:?}"),
            }
            // A trial promoted goes on at once: its run of the next rung is ready first.
            let next = ready(&results, &grid, &halving, &none);
            if let Some(label) = reached.trials[1].first() {
                assert_eq!((next[0].rung, next[0].label.as_str()), (Some(1), *label));
            }
            assert_eq!(reached.closed[0], c == order.len());
            assert!(c == order.len() || stopped(&results, &grid, &halving).is_empty(), "nothing stopped while open");
            promoted = reached.trials[1].iter().map(|l| l.to_string()).collect();
        }
        // Every promoted trial's last rung, then the rung is closed: the others are stopped.
        for spec in grid.iter().filter(|r| r.rung == Some(1) && promoted.contains(&r.label)) {
            store(spec);
        }
        let results = Snapshot::new(dir.clone(), &grid);
        assert!(ready(&results, &grid, &halving, &none).is_empty(), "the search is over");
        let stopped = stopped(&results, &grid, &halving);
        assert_eq!(stopped.len(), first.len() - promoted.len());
        assert!(reached(&results, &grid, &halving, &none).closed.iter().all(|&c| c));
    }
}
