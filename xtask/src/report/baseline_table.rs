//! The baselines of an experiment's table, scored once and cached in
//! `baselines.csv`: for every corruption and width in the results, the
//! corrupted input and its top-H PCA projection as reconstructions, and the
//! linear probe on the clean pixels and on their top-H PCA coordinates.
//! The cache is keyed by everything the scores depend on (the data and
//! probe sections), so a changed split or probe is scored afresh.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context, Result};

use sae_data::{remove_interrupted_writes, Corruption};
use sae_sweep::{
    probe_accuracy, BaselineKind, BaselineRow, Experiment, Metric, Param, ResultsDir, RunData, RunSpec, SharedData,
};

use super::baselines::{corrupted_input, pca, Pca};
use super::Inputs;

pub const BASELINES_CSV: &str = "baselines.csv";

/// The metrics a baseline can have, the cache's columns.
const SCORED: [Metric; 5] = [Metric::Mse, Metric::Fvu, Metric::PsnrDb, Metric::Ssim, Metric::ProbeAccuracy];

/// The corruptions and widths whose baselines a table needs.
type Wanted = BTreeSet<(String, usize)>;

/// What the baseline scores depend on, as the cache's key.
fn cache_key(e: &Experiment) -> String {
    serde_json::to_string(&(&e.data, &e.probe)).expect("sections serialise")
}

fn read_cache(path: &Path, key: &str) -> Vec<BaselineRow> {
    let Ok(mut reader) = csv::Reader::from_path(path) else { return Vec::new() };
    let parse = |r: &csv::StringRecord| -> Option<BaselineRow> {
        (r.get(0)? == key).then_some(())?;
        let values = SCORED.iter().zip(5..).filter_map(|(&m, i)| Some((m, r.get(i)?.parse().ok()?))).collect();
        Some(BaselineRow {
            kind: BaselineKind::parse(r.get(1)?)?,
            name: r.get(2)?.into(),
            corruption: r.get(3)?.into(),
            hidden: r.get(4)?.parse().ok()?,
            values,
        })
    };
    reader.records().filter_map(|r| r.ok()).filter_map(|r| parse(&r)).collect()
}

fn write_cache(path: &Path, key: &str, rows: &[BaselineRow]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["key", "kind", "baseline", "corruption", "hidden"];
    header.extend(SCORED.iter().map(|m| m.def().key));
    w.write_record(&header)?;
    for b in rows {
        let mut rec =
            vec![key.to_string(), b.kind.as_str().into(), b.name.clone(), b.corruption.clone(), b.hidden.to_string()];
        rec.extend(SCORED.iter().map(|&m| b.metric(m).map(|v| v.to_string()).unwrap_or_default()));
        w.write_record(&rec)?;
    }
    sae_data::write_atomic(path, &w.into_inner()?)?;
    Ok(())
}

/// Whether `rows` hold every baseline the `wanted` corruptions and widths need.
fn covers(rows: &[BaselineRow], wanted: &Wanted) -> bool {
    let has = |kind, c: &str, h: usize| rows.iter().any(|b| b.kind == kind && b.corruption == c && b.hidden == h);
    rows.iter().any(|b| b.kind == BaselineKind::Pixels)
        && wanted.iter().all(|(c, h)| {
            has(BaselineKind::Pca, c, *h) && (c == &Corruption::None.label() || has(BaselineKind::Input, c, 0))
        })
}

/// The baselines of the runs in `inp`, from the cache when it holds them.
/// The caller holds the report's lock.
pub fn baselines(inp: &Inputs<'_>, data: &SharedData) -> Result<Vec<BaselineRow>> {
    let wanted: Wanted = inp.rows.iter().map(|r| (r.text(Param::Corruption), r.config.model.hidden.0)).collect();
    let (path, key) = (inp.results.dir().root().join(BASELINES_CSV), cache_key(&inp.experiment));
    let cached = read_cache(&path, &key);
    if covers(&cached, &wanted) {
        return Ok(cached);
    }
    stderr_line!("report: scoring the baselines (PCA of the clean training images, linear probes)");
    let rows = score(&inp.grid, data, &wanted)?;
    write_cache(&path, &key, &rows)?;
    Ok(rows)
}

/// The corruptions and widths of every run of `grid`.
fn wanted_by(grid: &[RunSpec]) -> Wanted {
    grid.iter().map(|s| (s.config.corruption.0.label(), s.config.model.hidden.0)).collect()
}

/// Whether the cache in `dir` lacks a baseline that `experiment`'s report
/// will need.
pub fn baselines_missing(dir: &ResultsDir, experiment: &Experiment) -> bool {
    let cached = read_cache(&dir.root().join(BASELINES_CSV), &cache_key(experiment));
    !covers(&cached, &wanted_by(&experiment.expand()))
}

/// Scores into the cache in `dir` every baseline `experiment`'s report will
/// need, from `data`, the images the sweep's runs train on: what a sweep
/// does on a core its runs leave idle, so its report finds them ready.
pub fn score_ahead(dir: &ResultsDir, experiment: &Experiment, data: &SharedData) -> Result<()> {
    sae_data::create_folder(dir.root())?;
    let _lock = dir.lock_report()?;
    remove_interrupted_writes(dir.root(), BASELINES_CSV);
    let grid = experiment.expand();
    let (path, key) = (dir.root().join(BASELINES_CSV), cache_key(experiment));
    let wanted = wanted_by(&grid);
    if !covers(&read_cache(&path, &key), &wanted) {
        write_cache(&path, &key, &score(&grid, data, &wanted)?)?;
    }
    Ok(())
}

/// Scores the baselines of the `wanted` corruptions and widths: per
/// corruption, its input and its PCA projections; the pixel probe once.
/// The pixel probe (the longest part) runs on a second thread beside the
/// rest, which needs nothing from it.
fn score(grid: &[RunSpec], data: &SharedData, wanted: &Wanted) -> Result<Vec<BaselineRow>> {
    let mut runs = Vec::new();
    for corruption in wanted.iter().map(|w| &w.0).collect::<BTreeSet<_>>() {
        let spec =
            grid.iter().find(|s| s.config.corruption.0.label() == *corruption).context("a run of this corruption")?;
        runs.push((corruption, spec, data.for_run(&spec.config)?));
    }
    let (first_spec, first_run) = (runs[0].1, &runs[0].2);
    let (pixels, per_corruption) = rayon::join(
        || pixels_row(first_spec, first_run),
        || -> Result<Vec<Vec<BaselineRow>>> {
            let p = fit_pca(first_run);
            let mut pca_probes: Vec<(usize, f64)> = Vec::new();
            let mut out = Vec::new();
            for (corruption, spec, run) in &runs {
                let mut rows = Vec::new();
                if **corruption != Corruption::None.label() {
                    rows.push(input_row(corruption, run));
                }
                for (_, h) in wanted.iter().filter(|w| &w.0 == *corruption) {
                    rows.push(pca_row(&p, *h, spec, run, &mut pca_probes)?);
                }
                out.push(rows);
            }
            Ok(out)
        },
    );
    // In the order they always had: the first corruption's input, the pixel
    // probe, its PCA rows; then every other corruption's input and PCA rows.
    let (mut pixels, mut rows) = (Some(pixels?), Vec::new());
    for mut group in per_corruption? {
        let at = usize::from(group.first().is_some_and(|b| b.kind == BaselineKind::Input));
        group.splice(at..at, pixels.take());
        rows.extend(group);
    }
    Ok(rows)
}

/// The corrupted test input itself, scored as a reconstruction.
fn input_row(corruption: &str, run: &RunData) -> BaselineRow {
    let q = corrupted_input(&run.test_input, &run.splits.test);
    BaselineRow {
        kind: BaselineKind::Input,
        name: "corrupted input".into(),
        corruption: corruption.into(),
        hidden: 0,
        values: vec![(Metric::Mse, q.mse), (Metric::Fvu, q.fvu), (Metric::PsnrDb, q.psnr_db), (Metric::Ssim, q.ssim)],
    }
}

/// The linear probe on the raw pixels of the clean images.
fn pixels_row(spec: &RunSpec, run: &RunData) -> Result<BaselineRow> {
    let d = run.splits.test.dim();
    let accuracy = probe_accuracy(run, &spec.config, d, |x, _| x.to_vec())?;
    Ok(BaselineRow {
        kind: BaselineKind::Pixels,
        name: "raw pixels (probe)".into(),
        corruption: String::new(),
        hidden: 0,
        values: vec![(Metric::ProbeAccuracy, accuracy)],
    })
}

/// The projection of the corrupted test input onto the top `h` components
/// of `p`, scored as a reconstruction, with the probe on those `h`
/// coordinates (fitted once per width, kept in `probes`).
/// A width above the pixel count keeps every component: the projection
/// then has as many coordinates as there are pixels, not `h`.
fn pca_row(p: &Pca, h: usize, spec: &RunSpec, run: &RunData, probes: &mut Vec<(usize, f64)>) -> Result<BaselineRow> {
    let q = pca(p, h, &run.test_input, &run.splits.test);
    let components = h.min(p.mean.len());
    let accuracy = match probes.iter().find(|(k, _)| *k == components) {
        Some(&(_, a)) => a,
        None => {
            let a = probe_accuracy(run, &spec.config, components, |x, _| p.project(x, components))?;
            probes.push((components, a));
            a
        }
    };
    let name = if components < h {
        format!("PCA (all {components} components, fewer than H = {h})")
    } else {
        format!("PCA (top {h}: {:.0}% of variance)", 100.0 * p.explained(h))
    };
    Ok(BaselineRow {
        kind: BaselineKind::Pca,
        name,
        corruption: spec.config.corruption.0.label(),
        hidden: h,
        values: vec![
            (Metric::Mse, q.mse),
            (Metric::Fvu, q.fvu),
            (Metric::PsnrDb, q.psnr_db),
            (Metric::Ssim, q.ssim),
            (Metric::ProbeAccuracy, accuracy),
        ],
    })
}

/// The principal components of the clean training images of `run`.
fn fit_pca(run: &RunData) -> Pca {
    let train = &run.splits.train;
    Pca::fit(train.n, train.dim(), |i, j| sae_data::normalize_byte(train.image(i)[j]) as f64)
}
