//! An experiment's results as one command sees them: each run of its grid
//! read back and checked once ([`ResultsDir::state`]), the first time the
//! command asks for it, then handed to the runner, the halving decisions,
//! the tables and the report alike. A run this process stores, or finds
//! stored by another while it holds the run's lock, replaces what was read.

use std::collections::HashMap;
use std::sync::OnceLock;

use sae_core::SparseAutoencoder;

use crate::{ResultsDir, RunSpec, RunState, StoredRun, SweepError};

/// What a command has read of an experiment's results folder.
#[derive(Debug)]
pub struct Snapshot {
    dir: ResultsDir,
    runs: HashMap<String, Read>,
}

/// What has been read of one run.
#[derive(Debug, Default)]
struct Read {
    state: OnceLock<RunState>,
    /// Its trained model, read whole by what draws with it.
    model: OnceLock<SparseAutoencoder>,
}

impl Snapshot {
    /// The results of `grid`'s runs in `dir`, none read yet.
    pub fn new(dir: ResultsDir, grid: &[RunSpec]) -> Self {
        Self { dir, runs: grid.iter().map(|spec| (spec.id.clone(), Read::default())).collect() }
    }

    /// The results folder.
    pub fn dir(&self) -> &ResultsDir {
        &self.dir
    }

    /// Whether every run of `grid` is one of this snapshot's.
    pub fn covers(&self, grid: &[RunSpec]) -> bool {
        grid.iter().all(|spec| self.runs.contains_key(&spec.id))
    }

    fn read(&self, spec: &RunSpec) -> &Read {
        self.runs.get(&spec.id).expect("a run of the snapshot's grid")
    }

    /// What the folder holds of run `spec`, read back and checked the
    /// first time it is asked for.
    ///
    /// # Panics
    /// When `spec` is not a run of the grid the snapshot was made for.
    pub fn state(&self, spec: &RunSpec) -> &RunState {
        self.read(spec).state.get_or_init(|| self.dir.state(spec))
    }

    /// Run `spec`'s record and curve, when its folder reads back whole.
    pub fn stored(&self, spec: &RunSpec) -> Option<&StoredRun> {
        match self.state(spec) {
            RunState::Stored(stored) => Some(stored),
            _ => None,
        }
    }

    /// Run `spec`'s trained model, read from its checkpoint the first time
    /// it is asked for ([`ResultsDir::load_model`]).
    ///
    /// # Errors
    /// [`SweepError::Core`] naming the checkpoint when it cannot be read.
    pub fn model(&self, spec: &RunSpec) -> Result<&SparseAutoencoder, SweepError> {
        let cell = &self.read(spec).model;
        if cell.get().is_none() {
            // Set by another thread meanwhile, it is the same model.
            let _ = cell.set(self.dir.load_model(spec)?);
        }
        Ok(cell.get().expect("set above"))
    }

    /// Forgets what was read of every run not stored whole, so that the
    /// next look reads its folder again: what another process has stored
    /// since (an asynchronous search decides from it).
    pub(crate) fn forget_unstored(&mut self) {
        for read in self.runs.values_mut() {
            if read.state.get().is_some_and(|s| !matches!(s, RunState::Stored(_))) {
                *read = Read::default();
            }
        }
    }

    /// Records `state` as run `spec`'s: what this process read back after
    /// storing the run, or after finding it stored by another.
    pub(crate) fn set(&mut self, spec: &RunSpec, state: RunState) {
        self.runs.insert(spec.id.clone(), Read { state: state.into(), model: OnceLock::new() });
    }
}
