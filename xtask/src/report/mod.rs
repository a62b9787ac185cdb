//! `cargo xtask report`: turns an experiment's results into `report.md`
//! with its tables and figures, from the stored runs and checkpoints alone
//! (nothing is retrained), each run read once ([`Snapshot`]).

mod axes;
mod baseline_table;
mod baselines;
mod figures;
mod search;
mod table;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use sae_sweep::{
    rebuild_tables, searched_runs, summarise, BaselineRow, ConfigSummary, Experiment, Metric, ResultsDir, RunRow,
    RunSpec, RunState, SharedData, Snapshot, Status, StoredRun, EXPERIMENT_COPY, RUNS_CSV, SUMMARY_CSV,
};

use crate::provenance::Provenance;
use axes::swept;
use baseline_table::baselines;
pub use baseline_table::{baselines_missing, score_ahead};
use figures::{bars, curves, frontier, heatmap, lineup, panels, runs, tradeoff};
use sae_data::remove_interrupted_writes;
use sae_sweep::{Param, Strategy};

/// The report file and its table copy.
pub const REPORT_FILE: &str = "report.md";
const TABLE_CSV: &str = "report_table.csv";

/// The experiments with results under `results_root`.
pub fn experiments(results_root: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(results_root)
        .with_context(|| format!("reading {}", results_root.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(EXPERIMENT_COPY).is_file() && has_runs(&e.path()))
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

/// Whether an experiment folder holds any run (a sweep that failed before
/// training leaves only its `experiment.toml`, which is no report's business).
fn has_runs(dir: &Path) -> bool {
    let runs = std::fs::read_dir(dir.join("runs"));
    runs.is_ok_and(|d| d.flatten().any(|e| !e.file_name().to_string_lossy().starts_with('.')))
}

/// Everything the report draws from.
struct Inputs<'a> {
    /// The results folder, each run read once.
    results: &'a Snapshot,
    experiment: Experiment,
    grid: Vec<RunSpec>,
    axes: Vec<Param>,
    rows: &'a [RunRow],
    groups: Vec<ConfigSummary<'a>>,
    /// The baselines of every corruption and width in the rows.
    baselines: Vec<BaselineRow>,
}

impl Inputs<'_> {
    /// The run of the grid whose id is `id`.
    fn spec(&self, id: &str) -> Result<&RunSpec> {
        self.grid.iter().find(|s| s.id == id).with_context(|| format!("run {id} is not in the grid"))
    }

    /// The record and curve of run `id`, one with a row.
    fn stored(&self, id: &str) -> Result<&StoredRun> {
        self.results.stored(self.spec(id)?).with_context(|| format!("run {id} is not stored whole"))
    }
}

/// Writes `results/<name>/report.md` and its figures; returns its path.
/// `read` is what this command has read of the results already (a sweep
/// that just ran), used when it covers the experiment's grid; `data_dir`
/// resolves the dataset (for the pictures and baselines).
pub fn report(
    results_root: &Path,
    name: &str,
    read: Option<Snapshot>,
    data_dir: impl FnOnce(&sae_data::DatasetName) -> Result<PathBuf>,
) -> Result<PathBuf> {
    let dir = ResultsDir::new(results_root, name);
    let exp_path = dir.root().join(EXPERIMENT_COPY);
    let text = std::fs::read_to_string(&exp_path)
        .with_context(|| format!("{}: no experiment here; run `cargo xtask sweep` first", exp_path.display()))?;
    let experiment = Experiment::from_toml(&text, &exp_path)?;
    let grid = experiment.expand();
    dir.adopt_former_ids(&grid);
    let results = read
        .filter(|r| r.dir().root() == dir.root() && r.covers(&grid))
        .unwrap_or_else(|| Snapshot::new(dir.clone(), &grid));
    let grid = searched_runs(&results, &grid, &experiment);
    let rows = tables(&results, &grid)?;
    if rows.is_empty() {
        bail!("{}: no completed run yet; run `cargo xtask sweep` on the experiment first", dir.root().display());
    }
    let axes = swept(&experiment);
    let groups = summarise(&rows);
    let mut inputs = Inputs { results: &results, experiment, grid, axes, rows: &rows, groups, baselines: Vec::new() };

    let data = SharedData::load(&data_dir(&inputs.experiment.data.dataset)?)?;
    let fig_dir = dir.root().join("figures");
    // One report at a time; what an interrupted one left is removed.
    let _lock = dir.lock_report()?;
    remove_interrupted_writes(&fig_dir, "");
    for file in [REPORT_FILE, TABLE_CSV, baseline_table::BASELINES_CSV] {
        remove_interrupted_writes(dir.root(), file);
    }
    inputs.baselines = baselines(&inputs, &data)?;
    sae_data::create_folder(&fig_dir)?;

    let mut md = header(name, &inputs);
    md.push_str("\n## Summary\n\n");
    md.push_str(&format!(
        "Test-set scores, mean ± standard deviation over seeds where there are replicates; ★ marks the highest PSNR. \
         Beside each configuration, its gain over the baselines scored on the same corrupted test images \
         (in brackets, the baseline's own score): the corrupted input itself, and its projection onto the \
         configuration's number H of principal components of the clean training images (PCA). Also as CSV: [{TABLE_CSV}]({TABLE_CSV}); \
         every run: [{RUNS_CSV}]({RUNS_CSV}), per configuration: [{SUMMARY_CSV}]({SUMMARY_CSV}).\n\n"
    ));
    md.push_str(&table::markdown(&inputs.axes, &inputs.groups, &inputs.baselines));
    let csv = table::csv(&inputs.axes, &inputs.groups, &inputs.baselines);
    sae_data::write_atomic(&dir.root().join(TABLE_CSV), &csv)?;
    md.push_str(&comparison_figures(&inputs, &fig_dir)?);
    if let Some(h) = inputs.experiment.search.halving(inputs.experiment.training.epochs.0) {
        md.push_str(&search::halving_section(&inputs, &h, &fig_dir)?);
    }
    md.push_str(&curves::validation_curves(&inputs, &fig_dir)?);
    md.push_str(&lineup::same_digits(&inputs, &data, &fig_dir)?);
    md.push_str(&runs::run_pictures(&inputs, &data, &fig_dir)?);
    let path = dir.root().join(REPORT_FILE);
    sae_data::write_atomic(&path, md.as_bytes())?;
    remove_unlinked_figures(&fig_dir, &md);
    Ok(path)
}

/// Removes the figures this report does not link (the pictures of runs no
/// longer in the grid, a panel of an axis no longer swept), so none can be
/// linked or read by mistake: `figures/` belongs to the report, and a
/// figure is kept when `figures/STEM.` appears in `md` (its PNG and SVG
/// alike). Called holding the report's lock, after `md` is written.
fn remove_unlinked_figures(fig_dir: &Path, md: &str) {
    let Ok(entries) = std::fs::read_dir(fig_dir) else { return };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_file() && !md.contains(&format!("figures/{stem}.")) && std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        stderr_line!("report: removed {removed} figures of {} that the report no longer links", fig_dir.display());
    }
}

/// The rows of the grid's stored runs. `runs.csv` and `summary.csv` are
/// rebuilt from the run folders, as the tables and figures are: the run
/// folders are the results and the tables only a view of them, so a table
/// that was damaged, edited or left behind by an older grid is replaced
/// rather than refused (saying so), and the report and its linked tables
/// never disagree.
fn tables(results: &Snapshot, grid: &[RunSpec]) -> Result<Vec<RunRow>> {
    let paths = [RUNS_CSV, SUMMARY_CSV].map(|t| results.dir().root().join(t));
    let before = paths.each_ref().map(|p| std::fs::read(p).ok());
    let rows = rebuild_tables(results, grid)?;
    for (path, before) in paths.iter().zip(before) {
        if before.is_some_and(|b| std::fs::read(path).ok() != Some(b)) {
            stderr_line!("report: {} did not match the run folders; rebuilt from them", path.display());
        }
    }
    Ok(rows)
}

/// The report's title, question, how the results were produced, and a
/// warning when some runs are missing or failed.
fn header(name: &str, inp: &Inputs<'_>) -> String {
    let mut md = format!("# Experiment `{name}`\n\n");
    if let Some(d) = &inp.experiment.description {
        let _ = writeln!(md, "**Question.** {d}\n");
    }
    md.push_str("## How these results were produced\n\n");
    md.push_str(&provenance(inp.results.dir()));
    md.push_str(&protocol(&inp.experiment));
    let swept: Vec<&str> = inp.axes.iter().map(|a| a.def().key).collect();
    let _ = writeln!(
        md,
        "- swept: {}",
        if swept.is_empty() { "nothing (a single configuration)".into() } else { swept.join(", ") }
    );
    let search = &inp.experiment.search;
    if let Some(trials) = search.trials.filter(|_| !search.ranges.is_empty()) {
        let drawn: Vec<&str> = search.ranges.keys().map(String::as_str).collect();
        let distinct = inp.experiment.distinct_trials();
        let repeats = if distinct < trials.0 { " (the others repeat an earlier draw)" } else { "" };
        let _ = writeln!(
            md,
            "- drawn from [search.ranges]: {}; {} trials, {distinct} of them distinct{repeats}",
            drawn.join(", "),
            trials.0
        );
    }
    md.push_str(&partial_results(inp));
    md.push_str(&flagged_runs(inp.rows));
    for warning in inp.experiment.warnings() {
        let _ = writeln!(md, "\n> **Note.** {warning}");
    }
    md
}

/// The command, files, code, machine and date the sweep saved, as a list.
fn provenance(dir: &ResultsDir) -> String {
    let Some(p) = Provenance::load(dir.root()) else {
        return format!("- experiment as run: [{EXPERIMENT_COPY}]({EXPERIMENT_COPY}) (no provenance record found)\n");
    };
    let mut md = String::new();
    let _ = writeln!(md, "- command: `{}`", p.command);
    let _ = writeln!(md, "- experiment file: `{}` (as run: [{EXPERIMENT_COPY}]({EXPERIMENT_COPY}))", p.experiment_file);
    let _ = writeln!(md, "- dataset: {}", p.dataset);
    let _ = writeln!(md, "- code: git revision `{}`", p.git_revision);
    let _ = writeln!(md, "- machine: {}", p.machine);
    let _ = writeln!(md, "- date: {}", p.date_utc);
    md
}

/// The data, training, model and probe of experiment `e`, as a list.
fn protocol(e: &Experiment) -> String {
    let t = &e.training;
    let mut md = format!(
        "- protocol: {} train / {} validation / {} test images of {}, Adam lr {}, batch {}, {} epochs, \
         sparsity `{}`, H = {}, corruption `{}` (swept values override these)\n",
        e.data.train.0,
        e.data.validation.0,
        e.data.test.0,
        e.data.dataset,
        t.lr.0,
        t.batch_size.0,
        t.epochs.0,
        e.sparsity.label(),
        e.model.hidden.0,
        e.corruption.0.label()
    );
    if let Some(labels) = e.data.kept_labels() {
        let _ = writeln!(md, "- images: only those labelled {labels:?}, in every set");
    }
    let probe_labels = match (e.probe.kept_labels(), e.probe.images, e.data.kept_labels()) {
        (Some(l), ..) => format!("labels {l:?}"),
        (None, sae_sweep::ProbeImages::Splits, Some(l)) => format!("labels {l:?} (the data's)"),
        (None, ..) => "labels 0 to 9".into(),
    };
    let _ = writeln!(
        md,
        "- linear probe: softmax regression (L2 {}) on the code, {probe_labels}, {}",
        e.probe.l2.0,
        match e.probe.images {
            sae_sweep::ProbeImages::Splits => "fitted on the clean training split, scored on the clean test split",
            sae_sweep::ProbeImages::Halves =>
                "fitted on half the training file's images of those labels, scored on the other half",
        }
    );
    md
}

/// A quoted warning that names the missing, damaged and failed runs (each
/// damaged or failed one with its reason); nothing when every run of the
/// grid completed.
fn partial_results(inp: &Inputs<'_>) -> String {
    let failed: Vec<&RunRow> = inp.rows.iter().filter(|r| r.status == Status::Failed).collect();
    let damaged: Vec<(&str, &String)> = inp
        .grid
        .iter()
        .filter(|spec| !inp.rows.iter().any(|r| r.run_id == spec.id))
        .filter_map(|spec| match inp.results.state(spec) {
            RunState::Damaged(why) => Some((spec.id.as_str(), why)),
            _ => None,
        })
        .collect();
    let missing = inp.grid.len() - inp.rows.len() - damaged.len();
    if missing == 0 && damaged.is_empty() && failed.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n> **Partial results.** {} of {} runs completed; {missing} missing, {} damaged, {} failed. \
         Rerun the sweep command to complete them (it redoes the damaged ones); the tables and figures below use what exists.\n",
        inp.rows.len() - failed.len(),
        inp.grid.len(),
        damaged.len(),
        failed.len()
    );
    for (id, why) in damaged {
        let _ = writeln!(md, ">\n> - damaged: `{id}`: {why}");
    }
    for r in failed {
        let _ = writeln!(md, ">\n> - failed: `{}`: {}", r.run_id, r.reason);
    }
    md
}

/// A quoted list of the runs that succeeded but are suspect (their `flag`
/// in `runs.csv`); nothing when none is.
fn flagged_runs(rows: &[RunRow]) -> String {
    let flagged: Vec<&RunRow> = rows.iter().filter(|r| !r.flag.is_empty()).collect();
    if flagged.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n> **Suspect runs.** {} of {} runs succeeded but are not to be read as results (the `flag` column of \
         runs.csv):\n",
        flagged.len(),
        rows.len()
    );
    for r in flagged {
        let _ = writeln!(md, ">\n> - `{}`: {}", r.run_id, r.flag);
    }
    md
}

/// The metrics of the metric panels, in order.
const PANEL_METRICS: [Metric; 9] = [
    Metric::Mse,
    Metric::PsnrDb,
    Metric::Ssim,
    Metric::ProbeAccuracy,
    Metric::Kl,
    Metric::ActivePerImage,
    Metric::L0,
    Metric::DeadLatents,
    Metric::DenseLatents,
];

/// Metrics against each numeric swept parameter, the ρ×β heatmap, the
/// scores per corruption and the sparsity–error trade-off: each figure
/// where the sweep fits it.
fn comparison_figures(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let mut md = String::from("\n## How the swept parameters trade reconstruction against sparsity\n");
    for x in inp.axes.iter().copied().filter(|&a| axes::numeric(a)) {
        md.push_str(&panels::metrics_against(inp, x, fig_dir)?);
    }
    let grid = inp.experiment.search.strategy == Strategy::Grid;
    if grid && inp.axes.contains(&Param::Rho) && inp.axes.contains(&Param::Beta) {
        md.push_str(&heatmap::psnr_over_rho_beta(inp, fig_dir)?);
    }
    if inp.axes.contains(&Param::Corruption) {
        md.push_str(&bars::scores_per_corruption(inp, fig_dir)?);
    }
    // Where mechanisms or their strengths vary, the headline is the frontier at exact L0.
    if inp.axes.iter().any(|&a| a == Param::Sparsity || a.of_a_mechanism()) {
        md.push_str(&frontier::fvu_against_l0(inp, fig_dir)?);
        md.push_str(&tradeoff::sparsity_against(inp, Metric::L0, Metric::ProbeAccuracy, "tradeoff_probe", fig_dir)?);
    }
    md.push_str(&tradeoff::sparsity_against(inp, Metric::ActivePerImage, Metric::Mse, "tradeoff", fig_dir)?);
    Ok(md)
}
