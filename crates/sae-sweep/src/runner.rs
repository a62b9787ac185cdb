//! The sweep runner: picks the runs that are missing (or failed), trains
//! them in parallel on a rayon pool of its own, stores each as it ends,
//! and rebuilds the tables, reading each stored run once ([`Snapshot`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::asha_pool::train_asynchronously;
use crate::engines::prepare_engines;
use crate::halving::{promoted, remove_spent_states, searched_runs};
use crate::progress::{Progress, ProgressMode};
use crate::run::execute_from;
use crate::table::rebuild_tables;
use crate::{ExperimentFile, Halving, ResultsDir, RunSpec, RunState, Shard, SharedData, Snapshot, Status, SweepError};

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
#[derive(Debug)]
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
    /// The results as the sweep read and left them, for the report.
    pub results: Snapshot,
}

/// Runs the missing part of `file`'s grid (or of one shard of it).
/// `load_data` is asked for the dataset, once, only if something must
/// train; the caller may share what it loads (a report's baselines scored
/// beside the runs read the same images).
///
/// # Errors
/// [`SweepError::OwnedByAnother`] when the results folder belongs to
/// another experiment file of the same name (see `owner.rs`); data that
/// cannot be found or read, or results that cannot be written. Failed runs
/// are not errors: they are counted in the summary.
pub fn run_sweep(
    file: &ExperimentFile,
    options: &SweepOptions,
    load_data: impl FnOnce() -> Result<Arc<SharedData>, SweepError>,
) -> Result<SweepSummary, SweepError> {
    let start = Instant::now();
    let dir = ResultsDir::new(&options.results_root, &file.name);
    // Another experiment's folder is refused before anything is touched.
    dir.check_owner(file)?;
    let grid = file.experiment.expand();
    dir.adopt_former_ids(&grid);
    let halving = file.experiment.search.halving(file.experiment.training.epochs.0);
    // The runs a later rung continues keep their training state.
    let continued: HashSet<&str> = grid.iter().filter_map(|r| r.continues.as_deref()).collect();
    let mut results = Snapshot::new(dir.clone(), &grid);
    let mut data = LazyData { data: None, load: Some(Box::new(load_data)) };
    let sweep = Sweep { file, dir: &dir, grid: &grid, continued: &continued, options };
    let (trained, total, skipped) = match halving.as_ref().filter(|h| h.asynchronous) {
        Some(h) => train_asynchronously(&sweep, h, &mut results, &mut data)?,
        None => sweep.train_in_stages(halving.as_ref(), &mut results, &mut data)?,
    };
    halving.iter().for_each(|h| remove_spent_states(&results, &grid, h));
    let rows = rebuild_tables(&results, &searched_runs(&results, &grid, &file.experiment))?.len();
    let wall_seconds = start.elapsed().as_secs_f64();
    Ok(SweepSummary {
        total,
        done: trained.done,
        failed: trained.failed,
        skipped: skipped + trained.done_elsewhere,
        wall_seconds,
        samples_per_s: trained.samples / wall_seconds,
        rows,
        results,
    })
}

/// What every way of training a sweep reads.
pub(crate) struct Sweep<'a> {
    pub(crate) file: &'a ExperimentFile,
    pub(crate) dir: &'a ResultsDir,
    pub(crate) grid: &'a [RunSpec],
    /// The runs a later rung continues, which keep their training state.
    pub(crate) continued: &'a HashSet<&'a str>,
    pub(crate) options: &'a SweepOptions,
}

/// What loads the dataset, once.
type Loader<'f> = Box<dyn FnOnce() -> Result<Arc<SharedData>, SweepError> + 'f>;

/// The dataset, loaded the first time a run needs it.
pub(crate) struct LazyData<'f> {
    data: Option<Arc<SharedData>>,
    load: Option<Loader<'f>>,
}

impl LazyData<'_> {
    /// The dataset, loading it if it is not yet.
    pub(crate) fn get(&mut self) -> Result<Arc<SharedData>, SweepError> {
        if let Some(load) = self.load.take() {
            self.data = Some(load()?);
        }
        Ok(self.data.clone().expect("loaded above"))
    }
}

impl Sweep<'_> {
    /// Trains the grid (of the shard), or a halving search rung by rung,
    /// each rung when the one before has finished; returns what the runs
    /// came to, and how many runs the sweep holds and found complete.
    fn train_in_stages(
        &self,
        halving: Option<&Halving>,
        results: &mut Snapshot,
        data: &mut LazyData<'_>,
    ) -> Result<(Trained, usize, usize), SweepError> {
        let (dir, grid, options) = (self.dir, self.grid, self.options);
        // The tasks of a halving search each take whatever work is free under
        // the run locks, rung by rung, rather than a fixed shard.
        let shard = options.shard.filter(|_| halving.is_none());
        let mut stage: Vec<&RunSpec> =
            grid.iter().filter(|r| r.rung.is_none_or(|r| r == 0) && shard.is_none_or(|s| s.contains(r))).collect();
        let (mut trained, mut total, mut skipped) = (Trained::default(), 0, 0);
        loop {
            let todo: Vec<(&RunSpec, &RunState)> =
                stage.iter().map(|spec| (*spec, results.state(spec))).filter(|(_, state)| !state.is_done()).collect();
            // A device that cannot open, then data that cannot be found, stop
            // the sweep before anything is written.
            prepare_engines(&todo.iter().map(|(spec, _)| *spec).collect::<Vec<_>>())?;
            let loaded = if todo.is_empty() { None } else { Some(data.get()?) };
            dir.claim(self.file)?;
            (total, skipped) = (total + stage.len(), skipped + stage.len() - todo.len());
            if let Some(data) = loaded {
                let (counts, stored) = train_stage(dir, &todo, stage.len(), self.continued, options, &data)?;
                trained.add(counts);
                stored.into_iter().for_each(|(spec, state)| results.set(spec, state));
            }
            let Some(h) = halving else { break };
            stage = match promoted(results, grid, &stage, h) {
                Some(next) => next,
                None => break,
            };
        }
        Ok((trained, total, skipped))
    }
}

/// Runs stored (or found stored) by this sweep, each with its folder read
/// back.
type Stored<'a> = Vec<(&'a RunSpec, RunState)>;

/// Trains `todo`, the runs of a stage of `total` not yet stored, showing
/// progress as `options` asks.
fn train_stage<'a>(
    dir: &ResultsDir,
    todo: &[(&'a RunSpec, &RunState)],
    total: usize,
    continued: &HashSet<&str>,
    options: &SweepOptions,
    data: &SharedData,
) -> Result<(Trained, Stored<'a>), SweepError> {
    let progress = Progress::new(options.progress, todo.len());
    if todo.len() < total {
        progress.println(&format!("resuming: {} of {total} runs already complete", total - todo.len()));
    }
    train_missing(dir, todo, continued, options.jobs, data, &progress)
}

/// What the runs trained by this sweep came to.
#[derive(Default)]
pub(crate) struct Trained {
    pub(crate) done: usize,
    pub(crate) failed: usize,
    /// Runs another sweep finished while this one waited for them.
    pub(crate) done_elsewhere: usize,
    /// Training images processed.
    pub(crate) samples: f64,
}

impl Trained {
    /// Counts what `attempt` came to; returns the run's folder as stored,
    /// unless another process holds it.
    pub(crate) fn count(&mut self, attempt: Attempt) -> Option<RunState> {
        match attempt {
            Attempt::Trained(Status::Ok, n, state) => {
                (self.done, self.samples) = (self.done + 1, self.samples + n);
                Some(state)
            }
            Attempt::Trained(Status::Failed, _, state) => {
                self.failed += 1;
                Some(state)
            }
            Attempt::DoneElsewhere(state) => {
                self.done_elsewhere += 1;
                Some(state)
            }
            Attempt::Busy => None,
        }
    }

    /// Adds `more`'s counts to these.
    pub(crate) fn add(&mut self, more: Trained) {
        self.done += more.done;
        self.failed += more.failed;
        self.done_elsewhere += more.done_elsewhere;
        self.samples += more.samples;
    }
}

/// Trains the runs of `todo` on a pool of `jobs` threads, storing each as
/// it ends; returns what they came to, and each run stored with its folder
/// read back.
fn train_missing<'a>(
    dir: &ResultsDir,
    todo: &[(&'a RunSpec, &RunState)],
    continued: &HashSet<&str>,
    jobs: usize,
    data: &SharedData,
    progress: &Progress,
) -> Result<(Trained, Stored<'a>), SweepError> {
    for (spec, state) in todo {
        if let RunState::Damaged(why) = state {
            progress.println(&format!("redoing {}: incomplete: {why}", spec.id));
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.clamp(1, todo.len()))
        .thread_name(|i| format!("sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Io { path: dir.root().into(), error: std::io::Error::other(e) })?;
    let try_run =
        |(spec, seen): &(&RunSpec, &RunState), wait: bool| attempt(dir, data, progress, spec, seen, wait, continued);
    // Runs another process holds are put off, then waited for: they are
    // usually done by then, and are skipped.
    let first: Vec<Result<Attempt, SweepError>> =
        pool.install(|| todo.par_iter().with_max_len(1).map(|t| try_run(t, false)).collect());
    let busy: Vec<_> = todo.iter().zip(&first).filter(|(_, a)| matches!(a, Ok(Attempt::Busy))).map(|x| x.0).collect();
    if !busy.is_empty() {
        progress.println(&format!("waiting for {} runs that another sweep is training", busy.len()));
    }
    let second: Vec<Result<Attempt, SweepError>> =
        pool.install(|| busy.par_iter().with_max_len(1).map(|t| try_run(t, true)).collect());
    progress.finish();
    let (mut trained, mut stored) = (Trained::default(), Vec::new());
    for (&(spec, _), a) in todo.iter().zip(first).chain(busy.iter().copied().zip(second)) {
        if let Some(state) = trained.count(a?) {
            stored.push((spec, state));
        }
    }
    Ok((trained, stored))
}

/// How one attempt at a run ended.
pub(crate) enum Attempt {
    /// Trained now, with its status, the training images processed and
    /// its folder as stored, read back.
    Trained(Status, f64, RunState),
    /// Another process stored it while this one waited for its lock: the
    /// folder it stored.
    DoneElsewhere(RunState),
    /// Another process holds its lock (only when not waiting).
    Busy,
}

/// Trains `spec` under its lock, unless another process holds the lock
/// (and `wait` is false) or stored the run meanwhile (its state is no longer
/// the `seen` one).
pub(crate) fn attempt(
    dir: &ResultsDir,
    data: &SharedData,
    progress: &Progress,
    spec: &RunSpec,
    seen: &RunState,
    wait: bool,
    continued: &HashSet<&str>,
) -> Result<Attempt, SweepError> {
    let Some(_lock) = dir.lock_run(&spec.id, wait)? else {
        return Ok(Attempt::Busy);
    };
    let now = dir.state(spec);
    if now.is_done() || (now != *seen && matches!(now, RunState::Stored(_))) {
        progress.skip(spec, "stored meanwhile by another sweep");
        return Ok(Attempt::DoneElsewhere(now));
    }
    dir.remove_leftovers(&spec.id);
    let bar = progress.start(spec);
    let run_data = data.for_run(&spec.config)?;
    // A halving rung continues its trial's run of the rung before, and keeps
    // its own state when a later rung may continue it in turn.
    let from = match spec.continues.as_deref().map(|c| dir.continuation(c, spec, &run_data)) {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            progress.println(&format!("{}: training from the first epoch: {e}", spec.id));
            None
        }
        None => None,
    };
    let result = execute_from(spec, &run_data, from, continued.contains(spec.id.as_str()), |p| bar.epoch(p));
    dir.write_run(spec, &result.output())?;
    bar.finish(spec, &result.record);
    // Read back as any later command reads it: a NaN is stored as null.
    let stored = dir.state(spec);
    Ok(Attempt::Trained(result.record.status, result.record.samples_per_s * result.record.train_seconds, stored))
}

/// What a merge found: the rows it wrote, and the runs of the grid it did
/// not find whole.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeSummary {
    /// Rows written to `runs.csv`.
    pub rows: usize,
    /// Ids of the grid's runs with no folder.
    pub missing: Vec<String>,
    /// Ids of the grid's runs whose folder does not read back whole, each
    /// with the reason.
    pub damaged: Vec<(String, String)>,
}

/// Rebuilds an experiment's tables from whatever runs are complete (after
/// shards ran separately, for example).
///
/// # Errors
/// [`SweepError::NeverRun`] when no run of the experiment was ever stored
/// there (a wrong `--results`, a sweep not yet run);
/// [`SweepError::OwnedByAnother`] when the folder belongs to another
/// experiment file of the same name;
/// [`SweepError::NoneStored`] when the folder holds runs but none of this
/// grid's (the file changed since the sweep), leaving the tables as they
/// were; or a table that cannot be written.
pub fn merge(file: &ExperimentFile, results_root: &Path) -> Result<MergeSummary, SweepError> {
    let dir = ResultsDir::new(results_root, &file.name);
    if !dir.runs().is_dir() {
        return Err(SweepError::NeverRun { name: file.name.clone(), path: dir.root().into() });
    }
    dir.check_owner(file)?;
    let grid = file.experiment.expand();
    dir.adopt_former_ids(&grid);
    let results = Snapshot::new(dir.clone(), &grid);
    let grid = searched_runs(&results, &grid, &file.experiment);
    let (mut missing, mut damaged, mut stored) = (Vec::new(), Vec::new(), 0);
    for spec in &grid {
        match results.state(spec) {
            RunState::Missing => missing.push(spec.id.clone()),
            RunState::Damaged(why) => damaged.push((spec.id.clone(), why.clone())),
            RunState::Stored(_) => stored += 1,
        }
    }
    if stored == 0 {
        return Err(SweepError::NoneStored { path: dir.runs(), runs: grid.len() });
    }
    // The tables become this file's: so does the experiment the report reads.
    dir.claim(file)?;
    Ok(MergeSummary { rows: rebuild_tables(&results, &grid)?.len(), missing, damaged })
}
