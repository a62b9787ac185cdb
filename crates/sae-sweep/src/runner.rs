//! The sweep runner: picks the runs that are missing (or failed), trains
//! them in parallel on a rayon pool of its own, stores each as it ends,
//! and rebuilds the tables.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;

use crate::engines::prepare_engines;
use crate::progress::{Progress, ProgressMode};
use crate::run::execute;
use crate::store::{write_atomic, RunOutput};
use crate::table::rebuild_tables;
use crate::{ExperimentFile, ResultsDir, RunRecord, RunSpec, Shard, SharedData, Status, SweepError};

/// The copy of the experiment file kept in its results folder.
pub const EXPERIMENT_COPY: &str = "experiment.toml";

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Where experiment folders go (`results/`).
    pub results_root: PathBuf,
    /// Runs trained at once.
    pub jobs: usize,
    /// Only this part of the grid, when set.
    pub shard: Option<Shard>,
    /// How progress is shown.
    pub progress: ProgressMode,
}

/// What a sweep did.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSummary {
    /// Runs in the grid (or in this shard).
    pub total: usize,
    /// Runs trained now that succeeded.
    pub done: usize,
    /// Runs trained now that failed.
    pub failed: usize,
    /// Runs already complete, skipped.
    pub skipped: usize,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
    /// Training images per wall-clock second, over the runs trained now.
    pub samples_per_s: f64,
    /// Rows now in runs.csv (the whole grid, all shards).
    pub rows: usize,
}

/// Runs the missing part of `file`'s grid (or of one shard of it).
/// `data_dir` is asked for the dataset's folder only if something must
/// train.
///
/// # Errors
/// Data that cannot be found or read, or results that cannot be written.
/// Failed runs are not errors: they are counted in the summary.
pub fn run_sweep(
    file: &ExperimentFile,
    options: &SweepOptions,
    data_dir: impl FnOnce() -> Result<PathBuf, SweepError>,
) -> Result<SweepSummary, SweepError> {
    let start = Instant::now();
    let dir = ResultsDir::new(&options.results_root, &file.name);
    let grid = file.experiment.expand();
    let mine: Vec<&RunSpec> = grid.iter().filter(|r| options.shard.is_none_or(|s| s.contains(r))).collect();
    let mut todo = Vec::new();
    for spec in &mine {
        match dir.record(&spec.id)? {
            Some(RunRecord { status: Status::Ok, .. }) => {}
            _ => todo.push(*spec),
        }
    }
    prepare_engines(&todo)?;
    write_atomic(&dir.root().join(EXPERIMENT_COPY), file.experiment.to_toml().as_bytes())?;
    let skipped = mine.len() - todo.len();
    let (mut done, mut failed, mut samples) = (0, 0, 0.0);
    if !todo.is_empty() {
        let data = SharedData::load(&data_dir()?)?;
        let progress = Progress::new(options.progress, todo.len());
        if skipped > 0 {
            progress.println(&format!("resuming: {skipped} of {} runs already complete", mine.len()));
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(options.jobs.max(1))
            .thread_name(|i| format!("sweep-{i}"))
            .build()
            .map_err(|e| SweepError::Io { path: dir.root().into(), source: std::io::Error::other(e) })?;
        let results: Vec<Result<(Status, f64), SweepError>> = pool.install(|| {
            todo.par_iter()
                .with_max_len(1)
                .map(|spec| {
                    let bar = progress.start(spec);
                    let run_data = data.for_run(&spec.config)?;
                    let result = execute(spec, &run_data, |p| bar.epoch(p));
                    let out = RunOutput { record: &result.record, curve: &result.curve, model: result.model.as_ref() };
                    dir.write_run(spec, &out)?;
                    bar.finish(spec, &result.record);
                    let trained = result.record.samples_per_s * result.record.train_seconds;
                    Ok((result.record.status, trained))
                })
                .collect()
        });
        progress.finish();
        for r in results {
            let (status, n) = r?;
            samples += n;
            match status {
                Status::Ok => done += 1,
                Status::Failed => failed += 1,
            }
        }
    }
    let rows = rebuild_tables(&dir, &grid)?.len();
    let wall_seconds = start.elapsed().as_secs_f64();
    Ok(SweepSummary {
        total: mine.len(),
        done,
        failed,
        skipped,
        wall_seconds,
        samples_per_s: samples / wall_seconds,
        rows,
    })
}

/// Rebuilds an experiment's tables from whatever runs are complete (after
/// shards ran separately, for example).
///
/// # Errors
/// An unreadable run record, or a table that cannot be written.
pub fn merge(file: &ExperimentFile, results_root: &Path) -> Result<usize, SweepError> {
    let dir = ResultsDir::new(results_root, &file.name);
    Ok(rebuild_tables(&dir, &file.experiment.expand())?.len())
}
