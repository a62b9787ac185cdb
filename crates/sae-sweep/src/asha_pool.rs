//! Training an asynchronous halving search: `jobs` workers, each taking
//! the best run ready ([`crate::asha::ready`]) as soon as it is free, so a
//! promoted trial starts its next rung while others still train. A run
//! another process holds is left to it, then waited for, and the search
//! goes on from what it stored.

use std::collections::HashSet;
use std::sync::{Condvar, Mutex};

use crate::asha::ready;
use crate::engines::prepare_engines;
use crate::halving::searched_runs;
use crate::progress::Progress;
use crate::runner::{attempt, LazyData, Sweep, Trained};
use crate::{Halving, RunSpec, SharedData, Snapshot, SweepError};

/// What the workers share, under one lock.
struct Pool<'s, 'g> {
    results: &'s mut Snapshot,
    /// Runs this process has started (running or stored).
    started: HashSet<String>,
    running: usize,
    /// Runs another process held when their turn came.
    busy: Vec<&'g RunSpec>,
    trained: Trained,
    error: Option<SweepError>,
}

/// The search and what its workers read.
struct Search<'a> {
    sweep: &'a Sweep<'a>,
    halving: &'a Halving,
    data: &'a SharedData,
    progress: &'a Progress,
}

/// Trains the asynchronous halving search of `sweep` until no run can
/// start, each worker storing its runs into `results` as they end; returns
/// what the runs came to, and how many runs the search holds (the runs of
/// the trials that reached each rung) and found complete.
///
/// # Errors
/// A device that cannot open or data that cannot be found (before anything
/// is written), or the first error a run's attempt meets (a run that fails
/// is not one).
pub(crate) fn train_asynchronously(
    sweep: &Sweep<'_>,
    halving: &Halving,
    results: &mut Snapshot,
    data: &mut LazyData<'_>,
) -> Result<(Trained, usize, usize), SweepError> {
    let first = ready(results, sweep.grid, halving, &HashSet::new()).len();
    prepare_engines(&sweep.grid.iter().collect::<Vec<_>>())?;
    let loaded = if first == 0 { None } else { Some(data.get()?) };
    sweep.dir.claim(sweep.file)?;
    let mut trained = Trained::default();
    if let Some(data) = loaded {
        let progress = Progress::new(sweep.options.progress, first);
        let search = Search { sweep, halving, data: &data, progress: &progress };
        let outcome = train_pool(&search, results, sweep.options.jobs);
        progress.finish();
        trained = outcome?;
    }
    let total = searched_runs(results, sweep.grid, &sweep.file.experiment).len();
    let found_complete = total.saturating_sub(trained.done + trained.failed + trained.done_elsewhere);
    Ok((trained, total, found_complete))
}

/// Trains on `jobs` workers until no run can start; a run another process
/// held is then waited for, and the workers go on from what it stored.
fn train_pool(search: &Search<'_>, results: &mut Snapshot, jobs: usize) -> Result<Trained, SweepError> {
    let (mut total, mut started) = (Trained::default(), HashSet::new());
    loop {
        let (busy, trained, error) = (Vec::new(), Trained::default(), None);
        let pool = Mutex::new(Pool { results: &mut *results, started, running: 0, busy, trained, error });
        let turn = Condvar::new();
        std::thread::scope(|scope| {
            for _ in 0..jobs.max(1) {
                scope.spawn(|| work(search, &pool, &turn));
            }
        });
        let Pool { started: now_started, busy, trained, error, .. } =
            pool.into_inner().expect("no worker panics holding the lock");
        total.add(trained);
        if let Some(error) = error {
            return Err(error);
        }
        if busy.is_empty() && !waited_for_others(search.sweep, results)? {
            return Ok(total);
        }
        let s = search.sweep;
        search.progress.println(&format!("waiting for {} runs that another sweep is training", busy.len()));
        for spec in &busy {
            let seen = results.state(spec).clone();
            let outcome = attempt(s.dir, search.data, search.progress, spec, &seen, true, s.continued)?;
            if let Some(state) = total.count(outcome) {
                results.set(spec, state);
            }
        }
        started = now_started;
    }
}

/// Waits for every run of the search that another process is training
/// (its lock is held), so that no process ends the search while another
/// may still store what promotes a trial; returns whether it waited.
fn waited_for_others(sweep: &Sweep<'_>, results: &mut Snapshot) -> Result<bool, SweepError> {
    results.forget_unstored();
    let mut waited = false;
    for spec in sweep.grid.iter().filter(|s| results.stored(s).is_none()) {
        if sweep.dir.lock_run(&spec.id, false)?.is_none() {
            drop(sweep.dir.lock_run(&spec.id, true)?);
            waited = true;
        }
    }
    results.forget_unstored();
    Ok(waited)
}

/// One worker: takes the best ready run, trains it, stores it, until no
/// run is ready and none is running.
fn work<'g>(search: &Search<'g>, pool: &Mutex<Pool<'_, 'g>>, turn: &Condvar) {
    let lock = || pool.lock().expect("no worker panics holding the lock");
    loop {
        let (spec, seen) = {
            let mut p = lock();
            loop {
                if p.error.is_some() {
                    return;
                }
                // What another process stored since counts too.
                p.results.forget_unstored();
                if let Some(&spec) = ready(p.results, search.sweep.grid, search.halving, &p.started).first() {
                    p.started.insert(spec.id.clone());
                    p.running += 1;
                    break (spec, p.results.state(spec).clone());
                }
                if p.running == 0 {
                    turn.notify_all();
                    return;
                }
                p = turn.wait(p).expect("no worker panics holding the lock");
            }
        };
        let s = search.sweep;
        let outcome = attempt(s.dir, search.data, search.progress, spec, &seen, false, s.continued);
        let mut p = lock();
        p.running -= 1;
        match outcome {
            Ok(attempt) => match p.trained.count(attempt) {
                Some(state) => p.results.set(spec, state),
                None => p.busy.push(spec),
            },
            Err(error) => p.error = Some(error),
        }
        turn.notify_all();
    }
}
