//! The report's section on a halving search: every trial's validation
//! curve with the rung boundaries, trials that reached the last rung told
//! apart from those stopped earlier, the budget spent against the full
//! grid's, and the best configurations with their test scores.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;

use super::figures::curves::Curves;
use super::figures::panels::Series;
use super::figures::publish;
use super::Inputs;
use sae_sweep::{Halving, Metric, RunRow, RunSpec, Status};

/// A trial followed through its rungs: its runs, one per rung reached.
struct Trial<'a> {
    runs: Vec<&'a RunSpec>,
}

/// Each trial of `grid` (a rung-0 run) with the runs that continue it and
/// are stored.
fn trials<'a>(grid: &'a [RunSpec], stored: &dyn Fn(&RunSpec) -> bool) -> Vec<Trial<'a>> {
    grid.iter()
        .filter(|r| r.rung == Some(0) && stored(r))
        .map(|first| {
            let mut runs = vec![first];
            while let Some(next) =
                grid.iter().find(|r| r.continues.as_deref() == Some(&runs[runs.len() - 1].id) && stored(r))
            {
                runs.push(next);
            }
            Trial { runs }
        })
        .collect()
}

/// The search section of the report for `halving`; returns its markdown.
pub fn halving_section(inp: &Inputs<'_>, halving: &Halving, fig_dir: &Path) -> Result<String> {
    let row = |id: &str| inp.rows.iter().find(|r| r.run_id == id);
    let stored = |spec: &RunSpec| row(&spec.id).is_some();
    let trials = trials(&inp.grid, &stored);
    let last = halving.rungs.len() - 1;
    let mut series = Vec::new();
    for t in &trials {
        let end = t.runs[t.runs.len() - 1];
        let curve = &inp.stored(&end.id)?.curve;
        let reached = end.rung.unwrap_or(0);
        let points = curve.iter().filter(|p| p.val_mse > 0.0 && p.val_mse.is_finite());
        let name =
            if reached == last { "reached the last rung".into() } else { format!("stopped after rung {reached}") };
        series.push((Series { name, points: points.map(|p| (p.epoch as f64, p.val_mse, None)).collect() }, reached));
    }
    // Trials stopped earlier first, so the survivors are drawn on top.
    series.sort_by_key(|s| s.1);
    let fig = Curves {
        title: "Successive halving: validation MSE of every trial".into(),
        series,
        y_label: "validation MSE (log scale)".into(),
        marks: halving.rungs.iter().map(|&e| e as f64).collect(),
    };
    let caption = "Validation MSE after every epoch of each trial, coloured by the last rung it reached; dotted \
                   verticals: the rungs' epoch budgets";
    let mut md = String::from("\n## The search\n");
    md.push_str(&publish(&fig, fig_dir, "halving_curves", caption)?);
    md.push_str(&budget(inp, halving, trials.len()));
    md.push_str(&best(inp, last));
    Ok(md)
}

/// The epochs and seconds the search trained (a continued run counts only
/// the epochs it added), beside the full grid's.
fn budget(inp: &Inputs<'_>, halving: &Halving, trials: usize) -> String {
    let max = *halving.rungs.last().expect("a search has a rung");
    let epochs_of = |id: &str| inp.grid.iter().find(|g| g.id == id).map_or(0, |g| g.config.training.epochs.0);
    let (mut epochs, mut seconds) = (0usize, 0.0);
    for spec in &inp.grid {
        let Some(record) = inp.results.stored(spec).map(|s| &s.record) else { continue };
        let from = record.continued_from.as_deref().map_or(0, epochs_of);
        let share = 1.0 - from as f64 / record.epochs_done.max(1) as f64;
        epochs += record.epochs_done.saturating_sub(from);
        seconds += record.train_seconds * share;
    }
    let grid_epochs = trials * max;
    let per_epoch = if epochs > 0 { seconds / epochs as f64 } else { f64::NAN };
    format!(
        "\nBudget: the search trained {epochs} epochs in {seconds:.0} s of training; the full grid of its {trials} \
         trials to {max} epochs would train {grid_epochs} epochs (about {:.0} s at the same cost per epoch), {:.1}× \
         as many.\n",
        per_epoch * grid_epochs as f64,
        grid_epochs as f64 / epochs.max(1) as f64
    )
}

/// The trials of the last rung, best validation MSE first, with their
/// test scores.
fn best(inp: &Inputs<'_>, last: usize) -> String {
    let mut finals: Vec<(&RunSpec, &RunRow)> = inp
        .grid
        .iter()
        .filter(|s| s.rung == Some(last))
        .filter_map(|s| inp.rows.iter().find(|r| r.run_id == s.id && r.status == Status::Ok).map(|r| (s, r)))
        .collect();
    let val = |r: &RunRow| r.metric(Metric::FinalValMse).unwrap_or(f64::INFINITY);
    finals.sort_by(|a, b| val(a.1).total_cmp(&val(b.1)));
    let mut md = String::from(
        "\nThe configurations of the last rung, best validation MSE first (the test set was never used to choose):\n\n\
         | configuration | validation MSE | test MSE | test PSNR (dB) | probe accuracy |\n|---|---:|---:|---:|---:|\n",
    );
    for (spec, r) in finals {
        let m = |metric: Metric| r.metric(metric).map_or("–".into(), |v| format!("{v:.4}"));
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} | {} |",
            spec.label,
            m(Metric::FinalValMse),
            m(Metric::Mse),
            r.metric(Metric::PsnrDb).map_or("–".into(), |v| format!("{v:.2}")),
            m(Metric::ProbeAccuracy)
        );
    }
    md
}
