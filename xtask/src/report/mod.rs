//! `cargo xtask report`: turns an experiment's results into `report.md`
//! with its tables and figures, from the stored runs and checkpoints alone
//! (nothing is retrained).

mod axes;
mod baselines;
mod figures;
mod table;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use sae_core::ImageQuality;
use sae_data::Corruption;
use sae_sweep::{
    collect_rows, summarise, ConfigSummary, Experiment, ResultsDir, RunRow, RunSpec, SharedData, Status,
    EXPERIMENT_COPY, RUNS_CSV, SUMMARY_CSV,
};

use crate::provenance::Provenance;
use axes::{swept, Axis};
use figures::{bars, curves, heatmap, lineup, panels, runs, tradeoff};
use table::BaselineRow;

/// The report file and its table copy.
pub const REPORT_FILE: &str = "report.md";
const TABLE_CSV: &str = "report_table.csv";
const BASELINES_CSV: &str = "baselines.csv";

/// The experiments with results under `results_root`.
pub fn experiments(results_root: &Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(results_root)
        .with_context(|| format!("reading {}", results_root.display()))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join(EXPERIMENT_COPY).is_file())
        .filter_map(|e| e.file_name().to_str().map(String::from))
        .collect();
    names.sort();
    Ok(names)
}

/// Everything the report draws from.
struct Inputs<'a> {
    experiment: Experiment,
    grid: Vec<RunSpec>,
    axes: Vec<Axis>,
    rows: &'a [RunRow],
    groups: Vec<ConfigSummary<'a>>,
    /// The baselines of every corruption and width in the rows.
    baselines: Vec<BaselineRow>,
}

/// Writes `results/<name>/report.md` and its figures; returns its path.
/// `data_dir` resolves the dataset (for the pictures and baselines).
pub fn report(
    results_root: &Path,
    name: &str,
    data_dir: impl FnOnce(&sae_data::DatasetName) -> Result<PathBuf>,
) -> Result<PathBuf> {
    let dir = ResultsDir::new(results_root, name);
    let exp_path = dir.root().join(EXPERIMENT_COPY);
    let text = std::fs::read_to_string(&exp_path)
        .with_context(|| format!("{}: no experiment here; run `cargo xtask sweep` first", exp_path.display()))?;
    let experiment = Experiment::from_toml(&text, &exp_path)?;
    let grid = experiment.expand();
    let rows = collect_rows(&dir, &grid)?;
    if rows.is_empty() {
        bail!("{}: no completed run yet; run `cargo xtask sweep` on the experiment first", dir.root().display());
    }
    let axes = swept(&experiment);
    let groups = summarise(&rows);
    let mut inputs = Inputs { experiment, grid, axes, rows: &rows, groups, baselines: Vec::new() };

    let data = SharedData::load(&data_dir(&inputs.experiment.data.dataset)?)?;
    inputs.baselines = baselines(&dir, &inputs, &data)?;
    let fig_dir = dir.root().join("figures");
    std::fs::create_dir_all(&fig_dir).with_context(|| format!("creating {}", fig_dir.display()))?;

    let mut md = header(name, &dir, &inputs);
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
    sae_sweep::write_atomic(&dir.root().join(TABLE_CSV), &csv)?;
    md.push_str(&comparison_figures(&inputs, &fig_dir)?);
    md.push_str(&curves::validation_curves(&dir, &inputs, &fig_dir)?);
    md.push_str(&lineup::same_digits(&dir, &inputs, &data, &fig_dir)?);
    md.push_str(&runs::run_pictures(&dir, &inputs, &data, &fig_dir)?);
    let path = dir.root().join(REPORT_FILE);
    sae_sweep::write_atomic(&path, md.as_bytes())?;
    Ok(path)
}

fn header(name: &str, dir: &ResultsDir, inp: &Inputs<'_>) -> String {
    let e = &inp.experiment;
    let mut md = format!("# Experiment `{name}`\n\n");
    if let Some(d) = &e.description {
        let _ = writeln!(md, "**Question.** {d}\n");
    }
    md.push_str("## How these results were produced\n\n");
    match Provenance::load(dir.root()) {
        Some(p) => {
            let _ = writeln!(md, "- command: `{}`", p.command);
            let _ = writeln!(
                md,
                "- experiment file: `{}` (as run: [{EXPERIMENT_COPY}]({EXPERIMENT_COPY}))",
                p.experiment_file
            );
            let _ = writeln!(md, "- dataset: {}", p.dataset);
            let _ = writeln!(md, "- code: git revision `{}`", p.git_revision);
            let _ = writeln!(md, "- machine: {}", p.machine);
            let _ = writeln!(md, "- date: {}", p.date_utc);
        }
        None => {
            let _ = writeln!(
                md,
                "- experiment as run: [{EXPERIMENT_COPY}]({EXPERIMENT_COPY}) (no provenance record found)"
            );
        }
    }
    let t = &e.training;
    let _ = writeln!(
        md,
        "- protocol: {} train / {} validation / {} test images of {}, Adam lr {}, batch {}, {} epochs, \
         ρ = {}, β = {}, H = {}, corruption `{}` (swept values override these)",
        e.data.train.0,
        e.data.validation.0,
        e.data.test.0,
        e.data.dataset,
        t.lr.0,
        t.batch_size.0,
        t.epochs.0,
        e.sparsity.rho.0,
        e.sparsity.beta.0,
        e.model.hidden.0,
        e.corruption.0.label()
    );
    let swept: Vec<&str> = inp.axes.iter().map(|a| a.key()).collect();
    let _ = writeln!(
        md,
        "- swept: {}",
        if swept.is_empty() { "nothing (a single configuration)".into() } else { swept.join(", ") }
    );
    let failed: Vec<&RunRow> = inp.rows.iter().filter(|r| r.status == Status::Failed.as_str()).collect();
    let missing = inp.grid.len() - inp.rows.len();
    if missing > 0 || !failed.is_empty() {
        let _ = writeln!(
            md,
            "\n> **Partial results.** {} of {} runs completed; {missing} missing, {} failed. \
             Rerun the sweep command to complete them; the tables and figures below use what exists.",
            inp.rows.len() - failed.len(),
            inp.grid.len(),
            failed.len()
        );
        for r in failed {
            let _ = writeln!(md, ">\n> - failed: `{}`: {}", r.run_id, r.reason);
        }
    }
    md
}

/// Scores the corrupted input and the PCA projection for every corruption
/// and width in the results, reusing `baselines.csv` when it already holds
/// them.
fn baselines(dir: &ResultsDir, inp: &Inputs<'_>, data: &SharedData) -> Result<Vec<BaselineRow>> {
    let wanted: BTreeSet<(String, usize)> = inp.rows.iter().map(|r| (r.corruption.clone(), r.hidden)).collect();
    let path = dir.root().join(BASELINES_CSV);
    let cached: Vec<(String, String, usize, f64, f64, f64)> = csv::Reader::from_path(&path)
        .ok()
        .map(|mut r| r.deserialize().filter_map(|x| x.ok()).collect())
        .unwrap_or_default();
    let covered =
        |c: &str, h: usize| cached.iter().any(|b| b.1 == c && b.2 == h) && cached.iter().any(|b| b.1 == c && b.2 == 0);
    let rows: Vec<(String, String, usize, f64, f64, f64)> = if wanted.iter().all(|(c, h)| covered(c, *h)) {
        cached
    } else {
        eprintln!("report: scoring the baselines (PCA of the clean training images)");
        let mut out = Vec::new();
        let mut pca = None;
        for corruption in wanted.iter().map(|w| &w.0).collect::<BTreeSet<_>>() {
            let spec = inp
                .grid
                .iter()
                .find(|s| s.config.corruption.0.label() == *corruption)
                .context("a run of this corruption")?;
            let run = data.for_run(&spec.config)?;
            let q = baselines::corrupted_input(&run.test_input, &run.splits.test);
            out.push(("corrupted input".into(), corruption.clone(), 0, q.mse, q.psnr_db, q.ssim));
            let train = &run.splits.train;
            let pca = pca.get_or_insert_with(|| {
                baselines::Pca::fit(train.n, train.dim(), |i, j| sae_data::normalize_byte(train.image(i)[j]) as f64)
            });
            for (_, h) in wanted.iter().filter(|w| &w.0 == corruption) {
                let q = baselines::pca(pca, *h, &run.test_input, &run.splits.test);
                let share = 100.0 * pca.explained(*h);
                out.push((
                    format!("PCA (top {h}: {share:.0}% of variance)"),
                    corruption.clone(),
                    *h,
                    q.mse,
                    q.psnr_db,
                    q.ssim,
                ));
            }
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["baseline", "corruption", "hidden", "mse", "psnr_db", "ssim"])?;
        out.iter().try_for_each(|r| w.serialize(r))?;
        sae_sweep::write_atomic(&path, &w.into_inner()?)?;
        out
    };
    Ok(rows
        .into_iter()
        // Without corruption the "corrupted input" is the clean image itself: no baseline.
        .filter(|b| !(b.2 == 0 && b.1 == Corruption::None.label()))
        .filter(|b| wanted.iter().any(|(c, h)| *c == b.1 && (b.2 == 0 || b.2 == *h)))
        .map(|(name, corruption, hidden, mse, psnr_db, ssim)| BaselineRow {
            name,
            corruption,
            hidden,
            quality: ImageQuality { mse, psnr_db, ssim },
        })
        .collect())
}

const PANEL_METRICS: [(&str, &str); 6] = [
    ("mse", "test MSE (normalised units) ↓"),
    ("psnr_db", "test PSNR (dB) ↑"),
    ("ssim", "test SSIM ↑"),
    ("kl", "KL divergence from the target ρ, mean over units"),
    ("active_per_image", "active units per image"),
    ("dead_fraction", "fraction of dead units"),
];

/// Metrics against each numeric swept parameter, the ρ×β heatmap, the
/// scores per corruption and the sparsity–error trade-off: each figure
/// where the sweep fits it.
fn comparison_figures(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let mut md = String::from("\n## How the swept parameters trade reconstruction against sparsity\n");
    for x in inp.axes.iter().copied().filter(|a| a.numeric()) {
        md.push_str(&panels::metrics_against(inp, x, fig_dir)?);
    }
    if inp.axes.contains(&Axis::Rho) && inp.axes.contains(&Axis::Beta) {
        md.push_str(&heatmap::psnr_over_rho_beta(inp, fig_dir)?);
    }
    if inp.axes.contains(&Axis::Corruption) {
        md.push_str(&bars::scores_per_corruption(inp, fig_dir)?);
    }
    md.push_str(&tradeoff::sparsity_against_error(inp, fig_dir)?);
    Ok(md)
}
