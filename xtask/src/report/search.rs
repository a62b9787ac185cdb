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
use sae_sweep::{Halving, Metric, Objective, RunSpec, Status};

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
    md.push_str(&budget(inp, halving, &trials));
    md.push_str(&promotions(inp, &trials));
    md.push_str(&best(inp, halving)?);
    Ok(md)
}

/// The epochs and seconds the search trained (a continued run counts only
/// the epochs it added), beside the full grid's: its trials (and their
/// replicates) trained to the last rung. A search whose every run failed
/// promoted nothing and has no budget to compare.
fn budget(inp: &Inputs<'_>, halving: &Halving, trials: &[Trial<'_>]) -> String {
    let max = *halving.rungs.last().expect("a search has a rung");
    let epochs_of = |id: &str| inp.grid.iter().find(|g| g.id == id).map_or(0, |g| g.config.training.epochs.0);
    let (mut epochs, mut seconds, mut succeeded) = (0usize, 0.0, false);
    for spec in &inp.grid {
        let Some(record) = inp.results.stored(spec).map(|s| &s.record) else { continue };
        let from = record.continued_from.as_deref().map_or(0, epochs_of);
        let share = 1.0 - from as f64 / record.epochs_done.max(1) as f64;
        epochs += record.epochs_done.saturating_sub(from);
        seconds += record.train_seconds * share;
        succeeded |= record.status == Status::Ok;
    }
    if !succeeded {
        return "
Budget: every run of the search failed, so no trial was promoted and there is no budget to \
                compare with the full grid's.\n"
            .into();
    }
    let runs = trials.len();
    let mut labels: Vec<&str> = trials.iter().map(|t| t.runs[0].label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    let replicates = if labels.len() < runs { format!(" ({runs} runs with their replicates)") } else { String::new() };
    let grid_epochs = runs * max;
    let per_epoch = if epochs > 0 { seconds / epochs as f64 } else { f64::NAN };
    format!(
        "\nBudget: the search trained {epochs} epochs in {seconds:.0} s of training; the full grid of its {} \
         trials{replicates} to {max} epochs would train {grid_epochs} epochs (about {:.0} s at the same cost per \
         epoch), {:.1}× as many.\n",
        labels.len(),
        per_epoch * grid_epochs as f64,
        grid_epochs as f64 / epochs.max(1) as f64
    )
}

/// When each trial that went on stored its run of each rung, in seconds
/// from the start of the search's first run (read from when each run's
/// record was written), earliest promotion first: an asynchronous search
/// shows its best trials reaching the last rung while others still train.
fn promotions(inp: &Inputs<'_>, trials: &[Trial<'_>]) -> String {
    let stored_at = |spec: &RunSpec| {
        let record = inp.results.dir().run_dir(&spec.id).join("metrics.json");
        let written = std::fs::metadata(record).and_then(|m| m.modified()).ok()?;
        written.duration_since(std::time::UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
    };
    let seconds = |spec: &RunSpec| inp.results.stored(spec).map_or(0.0, |s| s.record.seconds);
    let first_start = (trials.iter().flat_map(|t| &t.runs))
        .filter_map(|r| stored_at(r).map(|at| at - seconds(r)))
        .fold(f64::INFINITY, f64::min);
    let mut went_on: Vec<(Vec<Option<f64>>, &Trial<'_>)> = (trials.iter().filter(|t| t.runs.len() > 1))
        .map(|t| (t.runs.iter().map(|r| stored_at(r).map(|at| at - first_start)).collect(), t))
        .collect();
    if went_on.is_empty() || !first_start.is_finite() {
        return String::new();
    }
    went_on.sort_by(|a, b| a.0[1].unwrap_or(f64::INFINITY).total_cmp(&b.0[1].unwrap_or(f64::INFINITY)));
    let rungs = went_on.iter().map(|(at, _)| at.len()).max().unwrap_or(0);
    let mut md = String::from(
        "\nWhen each trial that went on stored each rung's run, in seconds from the start of the search's first \
         run:\n\n| configuration |",
    );
    (0..rungs).for_each(|r| md.push_str(&format!(" rung {r} |")));
    md.push_str(&format!("\n|---|{}\n", "---:|".repeat(rungs)));
    for (at, trial) in went_on {
        let cells: Vec<String> =
            (0..rungs).map(|r| at.get(r).copied().flatten().map_or("–".into(), |s| format!("{s:.1}"))).collect();
        let first = trial.runs[0];
        let _ = writeln!(md, "| `{}`, seed {} | {} |", first.label, first.config.training.seed, cells.join(" | "));
    }
    md
}

/// What the search promoted by, as its table's columns name it.
fn objective_name(objective: Objective) -> &'static str {
    match objective {
        Objective::Mse => "validation MSE",
        Objective::Kl => "validation KL",
        Objective::L0 => "validation L0",
        Objective::ActivePerImage => "validation active units per image",
    }
}

/// The runs of the last rung, best by the search's first objective first
/// (its Pareto objective beside it), with their seeds where the search
/// has replicates, and their test scores.
fn best(inp: &Inputs<'_>, halving: &Halving) -> Result<String> {
    let last = halving.rungs.len() - 1;
    let mut finals = Vec::new();
    for spec in inp.grid.iter().filter(|s| s.rung == Some(last)) {
        let Some(row) = inp.rows.iter().find(|r| r.run_id == spec.id && r.status == Status::Ok) else { continue };
        let curve = &inp.stored(&spec.id)?.curve;
        finals.push((spec, row, halving.objectives.iter().map(|o| o.read(curve)).collect::<Vec<_>>()));
    }
    let first = |scores: &[Option<f64>]| scores[0].unwrap_or(f64::INFINITY);
    finals.sort_by(|a, b| first(&a.2).total_cmp(&first(&b.2)));
    let seeds =
        inp.grid.iter().any(|s| s.rung == Some(0) && s.config.training.seed != inp.grid[0].config.training.seed);
    let names: Vec<&str> = halving.objectives.iter().map(|&o| objective_name(o)).collect();
    let pareto = names.get(1).map(|p| format!(", promoted by the Pareto front of {} and {p}", names[0]));
    if finals.is_empty() {
        return Ok("\nNo configuration of the last rung is stored whole yet.\n".into());
    }
    let mut md = format!(
        "\nThe configurations of the last rung, best {} first{} (the test set was never used to choose):\n\n\
         | configuration |{} {} | test MSE | test PSNR (dB) | probe accuracy |\n|---|{}{}---:|---:|---:|\n",
        names[0],
        pareto.unwrap_or_default(),
        if seeds { " seed |" } else { "" },
        names.join(" | "),
        if seeds { "---:|" } else { "" },
        "---:|".repeat(names.len()),
    );
    for (spec, r, scores) in finals {
        let m = |metric: Metric| r.metric(metric).map_or("–".into(), |v| format!("{v:.4}"));
        let seed = if seeds { format!(" {} |", spec.config.training.seed) } else { String::new() };
        let scores: Vec<String> = scores.iter().map(|v| v.map_or("–".into(), |v| format!("{v:.4}"))).collect();
        let psnr = r.metric(Metric::PsnrDb).map_or("–".into(), |v| format!("{v:.2}"));
        let (mse, probe) = (m(Metric::Mse), m(Metric::ProbeAccuracy));
        let _ = writeln!(md, "| `{}` |{seed} {} | {mse} | {psnr} | {probe} |", spec.label, scores.join(" | "));
    }
    Ok(md)
}
