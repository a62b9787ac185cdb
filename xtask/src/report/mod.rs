//! `cargo xtask report`: turns an experiment's results into `report.md`
//! with its tables and figures, from the stored runs and checkpoints alone
//! (nothing is retrained).

mod axes;
mod baselines;
mod pictures;
mod plots;
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
use axes::{config_label, swept, Axis};
use plots::{save, ActivationHistogram, Curves, Heatmap, Panel, Panels, Series, Tradeoff};
use table::BaselineRow;

/// The report file and its table copy.
pub const REPORT_FILE: &str = "report.md";
const TABLE_CSV: &str = "report_table.csv";
const BASELINES_CSV: &str = "baselines.csv";
/// Test digits shown per picture.
const DIGITS: usize = 10;
/// Runs pictured, at most.
const PICTURED: usize = 4;

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
    experiment: Experiment,
    grid: Vec<RunSpec>,
    axes: Vec<Axis>,
    rows: &'a [RunRow],
    groups: Vec<ConfigSummary<'a>>,
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
    let inputs = Inputs { experiment, grid, axes, rows: &rows, groups };

    let data = SharedData::load(&data_dir(&inputs.experiment.data.dataset)?)?;
    let baselines = baselines(&dir, &inputs, &data)?;
    let fig_dir = dir.root().join("figures");
    std::fs::create_dir_all(&fig_dir).with_context(|| format!("creating {}", fig_dir.display()))?;

    let mut md = header(name, &dir, &inputs);
    md.push_str("\n## Summary\n\n");
    md.push_str(&format!(
        "Test-set scores, mean ± standard deviation over seeds where there are replicates; ★ marks the highest PSNR. \
         Baselines are scored on the same corrupted test images. Also as CSV: [{TABLE_CSV}]({TABLE_CSV}); \
         every run: [{RUNS_CSV}]({RUNS_CSV}), per configuration: [{SUMMARY_CSV}]({SUMMARY_CSV}).\n\n"
    ));
    md.push_str(&table::markdown(&inputs.axes, &inputs.groups, &baselines));
    sae_sweep::write_atomic(&dir.root().join(TABLE_CSV), &table::csv(&inputs.axes, &inputs.groups, &baselines))?;
    md.push_str(&comparison_figures(&inputs, &fig_dir)?);
    md.push_str(&curves_figure(&dir, &inputs, &fig_dir)?);
    md.push_str(&run_pictures(&dir, &inputs, &data, &fig_dir)?);
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
    // Baselines depend on the data too: a cached row counts only for the same dataset, split sizes and seed.
    let d = &inp.experiment.data;
    let data_key = format!("{}/{}/{}/{}/{}", d.dataset, d.train.0, d.validation.0, d.test.0, d.split_seed);
    let cached: Vec<(String, String, usize, f64, f64, f64, String)> = csv::Reader::from_path(&path)
        .ok()
        .map(|mut r| r.deserialize().filter_map(|x| x.ok()).collect())
        .unwrap_or_default();
    let cached: Vec<_> = cached.into_iter().filter(|b| b.6 == data_key).collect();
    let covered =
        |c: &str, h: usize| cached.iter().any(|b| b.1 == c && b.2 == h) && cached.iter().any(|b| b.1 == c && b.2 == 0);
    let rows: Vec<(String, String, usize, f64, f64, f64, String)> = if wanted.iter().all(|(c, h)| covered(c, *h)) {
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
            out.push(("corrupted input".into(), corruption.clone(), 0, q.mse, q.psnr_db, q.ssim, data_key.clone()));
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
                    data_key.clone(),
                ));
            }
        }
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["baseline", "corruption", "hidden", "mse", "psnr_db", "ssim", "data"])?;
        out.iter().try_for_each(|r| w.serialize(r))?;
        sae_sweep::write_atomic(&path, &w.into_inner()?)?;
        out
    };
    Ok(rows
        .into_iter()
        // Without corruption the "corrupted input" is the clean image itself: no baseline.
        .filter(|b| !(b.2 == 0 && b.1 == Corruption::None.label()))
        .filter(|b| wanted.iter().any(|(c, h)| *c == b.1 && (b.2 == 0 || b.2 == *h)))
        .map(|(name, corruption, hidden, mse, psnr_db, ssim, _)| BaselineRow {
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
    ("kl", "KL(ρ‖ρ̂), mean over units"),
    ("active_per_image", "active units per image"),
    ("dead_fraction", "fraction of dead units"),
];

fn figure_md(stem: &str, caption: &str) -> String {
    format!("\n![{caption}](figures/{stem}.png)\n\n*{caption}* ([SVG](figures/{stem}.svg))\n")
}

/// Metrics against each numeric swept parameter, the ρ×β heatmap and the
/// sparsity–error trade-off.
fn comparison_figures(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let mut md = String::from("\n## How the swept parameters trade reconstruction against sparsity\n");
    let numeric: Vec<Axis> = inp.axes.iter().copied().filter(|a| a.numeric()).collect();
    for &x in &numeric {
        let others: Vec<Axis> = inp.axes.iter().copied().filter(|a| *a != x).collect();
        let mut lines: Vec<(String, Vec<&ConfigSummary<'_>>)> = Vec::new();
        for g in &inp.groups {
            let key = if others.is_empty() { String::new() } else { config_label(&others, g.first) };
            match lines.iter_mut().find(|l| l.0 == key) {
                Some(l) => l.1.push(g),
                None => lines.push((key, vec![g])),
            }
        }
        let panels = PANEL_METRICS
            .iter()
            .map(|(m, title)| Panel {
                title: title.to_string(),
                series: lines
                    .iter()
                    .map(|(name, gs)| {
                        let mut points: Vec<(f64, f64, Option<f64>)> = gs
                            .iter()
                            .filter_map(|g| g.stat(m).map(|(mean, sd)| (x.value(g.first), mean, sd)))
                            .collect();
                        points.sort_by(|a, b| a.0.total_cmp(&b.0));
                        Series { name: if name.is_empty() { "runs".into() } else { name.clone() }, points }
                    })
                    .collect(),
            })
            .collect();
        let stem = format!("metrics_vs_{}", x.key());
        let legend_title = others.iter().map(|a| a.key()).collect::<Vec<_>>().join(", ");
        let fig = Panels {
            title: format!("Test metrics against {}", x.key()),
            x_label: x.label().into(),
            log_x: x.log(),
            panels,
            legend_title,
        };
        save(&fig, fig_dir, &stem)?;
        md.push_str(&figure_md(&stem, &format!("Test metrics against {}; error bars: ±1 std over seeds", x.key())));
    }
    if inp.axes.contains(&Axis::Rho) && inp.axes.contains(&Axis::Beta) {
        let values = |f: fn(&RunRow) -> f64| {
            let mut v: Vec<f64> = inp.rows.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        };
        let (xs, ys) = (values(|r| r.rho), values(|r| r.beta));
        let grid = ys
            .iter()
            .map(|&b| {
                xs.iter()
                    .map(|&r| {
                        let gs: Vec<f64> = inp
                            .groups
                            .iter()
                            .filter(|g| g.first.rho == r && g.first.beta == b)
                            .filter_map(|g| g.stat("psnr_db").map(|s| s.0))
                            .collect();
                        (!gs.is_empty()).then(|| gs.iter().sum::<f64>() / gs.len() as f64)
                    })
                    .collect()
            })
            .collect();
        let fig = Heatmap {
            title: "Test PSNR (dB) over ρ and β".into(),
            xs,
            ys,
            x_label: "target sparsity ρ".into(),
            y_label: "sparsity weight β".into(),
            values: grid,
        };
        save(&fig, fig_dir, "heatmap_psnr_rho_beta")?;
        md.push_str(&figure_md(
            "heatmap_psnr_rho_beta",
            "Test PSNR over ρ × β (averaged over any other swept parameter)",
        ));
    }
    let first = inp.axes.first().copied();
    let mut colour_of: Vec<String> = Vec::new();
    let points = inp
        .groups
        .iter()
        .filter_map(|g| {
            let (active, mse) = (g.stat("active_per_image")?.0, g.stat("mse")?.0);
            let key = first.map(|a| a.text(g.first)).unwrap_or_default();
            let c = colour_of.iter().position(|k| *k == key).unwrap_or_else(|| {
                colour_of.push(key);
                colour_of.len() - 1
            });
            Some((active, mse, config_label(&inp.axes, g.first), c))
        })
        .collect();
    let fig = Tradeoff {
        title: "Sparsity against reconstruction error".into(),
        points,
        y_label: "test MSE (normalised units)".into(),
    };
    save(&fig, fig_dir, "tradeoff")?;
    md.push_str(&figure_md(
        "tradeoff",
        "Each configuration's active units per image against its test MSE; the line joins the Pareto-optimal ones (no other is both sparser and more accurate)",
    ));
    Ok(md)
}

fn curves_figure(dir: &ResultsDir, inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let first = inp.axes.first().copied();
    let mut keys: Vec<String> = Vec::new();
    let mut series = Vec::new();
    for row in inp.rows.iter().filter(|r| r.status == Status::Ok.as_str()) {
        let curve = dir.load_curve(&row.run_id)?;
        let key = first.map(|a| a.text(row)).unwrap_or_default();
        let c = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        let name = format!("{} s{}", config_label(&inp.axes, row), row.seed);
        series.push((Series { name, points: curve.iter().map(|p| (p.epoch as f64, p.val_mse, None)).collect() }, c));
    }
    if series.is_empty() {
        return Ok(String::new());
    }
    save(
        &Curves {
            title: "Validation MSE during training".into(),
            series,
            y_label: "validation MSE (log scale)".into(),
        },
        fig_dir,
        "validation_curves",
    )?;
    Ok(format!(
        "\n## Training\n{}",
        figure_md("validation_curves", "Validation MSE after every epoch, one line per run")
    ))
}

/// The runs pictured: the best configuration's first seed, then the best
/// run of each value of the first swept parameter.
fn pictured<'a>(inp: &'a Inputs<'_>) -> Vec<&'a RunRow> {
    let mut chosen: Vec<&RunRow> = Vec::new();
    if let Some(b) = table::best(&inp.groups) {
        chosen.push(inp.groups[b].ok[0]);
    }
    if let Some(axis) = inp.axes.first() {
        let mut seen: Vec<String> = chosen.iter().map(|r| axis.text(r)).collect();
        for g in &inp.groups {
            if g.ok.is_empty() || seen.contains(&axis.text(g.first)) {
                continue;
            }
            let best_here =
                inp.groups.iter().filter(|h| !h.ok.is_empty() && axis.text(h.first) == axis.text(g.first)).max_by(
                    |a, b| {
                        a.stat("psnr_db")
                            .map(|s| s.0)
                            .unwrap_or(f64::MIN)
                            .total_cmp(&b.stat("psnr_db").map(|s| s.0).unwrap_or(f64::MIN))
                    },
                );
            if let Some(h) = best_here {
                seen.push(axis.text(h.first));
                chosen.push(h.ok[0]);
            }
        }
    }
    chosen.truncate(PICTURED);
    chosen
}

fn run_pictures(dir: &ResultsDir, inp: &Inputs<'_>, data: &SharedData, fig_dir: &Path) -> Result<String> {
    let mut md = String::from("\n## What the models do\n\nFor each run pictured: the first test digits clean, corrupted, reconstructed, and reconstructed from the strongly active units only (activations below 0.5 zeroed); the decoder atoms (the decoder's output for each one-hot code); and the distribution of the units' mean activations.\n");
    for row in pictured(inp) {
        let spec = inp.grid.iter().find(|s| s.id == row.run_id).context("a pictured run is in the grid")?;
        let model = dir.load_model(&row.run_id)?;
        let run = data.for_run(&spec.config)?;
        let (test, input) = (&run.splits.test, &run.test_input);
        let n = DIGITS.min(test.n);
        let d = test.dim();
        let x = &input.pixels[..n * d];
        let fwd = model.forward(x, n);
        let thresholded = model.thresholded_recon(x, n, 0.5);
        let label = config_label(&inp.axes, row);
        let id = &row.run_id;
        let rows: [(&str, &[f32]); 4] = [
            ("clean", &test.pixels[..n * d]),
            ("corrupted input", x),
            ("reconstruction", &fwd.recon),
            ("thresholded", &thresholded),
        ];
        pictures::digit_rows(
            &fig_dir.join(format!("digits_{id}.png")),
            &format!("{label}: test digits"),
            &rows,
            n,
            test.rows,
        )?;
        pictures::atoms(
            &fig_dir.join(format!("atoms_{id}.png")),
            &format!("{label}: decoder atoms ({} units)", model.config.hidden),
            &model.decoder_atoms(),
            test.rows,
        )?;
        let all = model.forward(&input.pixels, input.n);
        let h = model.config.hidden;
        let mut rho_hat = vec![0.0f64; h];
        all.code
            .chunks_exact(h)
            .for_each(|c| rho_hat.iter_mut().zip(c).for_each(|(r, &v)| *r += v as f64 / input.n as f64));
        let hist =
            ActivationHistogram { title: format!("{label}: mean activation per unit"), values: rho_hat, rho: row.rho };
        save(&hist, fig_dir, &format!("activation_{id}"))?;
        let _ = write!(
            md,
            "\n### {label} (`{id}`)\n\nTest PSNR {:.2} dB, SSIM {:.3}, {:.1} active units per image, {:.0}% dead units.\n\n\
             ![digits](figures/digits_{id}.png)\n\n![atoms](figures/atoms_{id}.png)\n\n![activations](figures/activation_{id}.png)\n",
            row.psnr_db.unwrap_or(f64::NAN),
            row.ssim.unwrap_or(f64::NAN),
            row.active_per_image.unwrap_or(f64::NAN),
            100.0 * row.dead_fraction.unwrap_or(f64::NAN)
        );
    }
    Ok(md)
}
