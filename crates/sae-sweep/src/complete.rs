//! Whether a stored run is complete: a run counts as done only when every
//! file it needs reads back whole; a damaged one is redone, and the sweep
//! says which file and why.

use crate::store::{CHECKPOINT_FILE, CONFIG_FILE, CURVE_FILE, METRICS_FILE};
use crate::{Experiment, ResultsDir, RunRecord, RunSpec, Status};

/// What the results folder holds of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// No folder: never run, or interrupted before it was stored.
    Missing,
    /// A folder that does not read back whole; the reason names the file.
    Damaged(String),
    /// Stored whole: its record (status `ok` or `failed`).
    Stored(Box<RunRecord>),
}

impl RunState {
    /// Whether the run is done and need not train again.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Stored(r) if r.status == Status::Ok)
    }

    /// `ok`, `failed`, `missing` or `damaged`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Damaged(_) => "damaged",
            Self::Stored(r) => r.status.as_str(),
        }
    }
}

impl ResultsDir {
    /// Reads back run `spec`'s folder: its record, config and curve, and
    /// for a successful run its checkpoint, each checked whole.
    pub fn state(&self, spec: &RunSpec) -> RunState {
        let dir = self.run_dir(&spec.id);
        if !dir.exists() {
            return RunState::Missing;
        }
        match self.check(spec) {
            Ok(record) => RunState::Stored(Box::new(record)),
            Err(why) => RunState::Damaged(why),
        }
    }

    fn check(&self, spec: &RunSpec) -> Result<RunRecord, String> {
        let dir = self.run_dir(&spec.id);
        let record = match self.record(&spec.id) {
            Ok(Some(r)) => r,
            Ok(None) => return Err(format!("{METRICS_FILE} is missing")),
            Err(e) => return Err(e.to_string()),
        };
        if record.run_id != spec.id {
            return Err(format!("{METRICS_FILE} belongs to run {}", record.run_id));
        }
        let config = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
        Experiment::from_toml(&text, &config).map_err(|e| e.to_string())?;
        let curve = self.load_curve(&spec.id).map_err(|e| e.to_string())?;
        if curve.len() != record.epochs_done {
            let path = dir.join(CURVE_FILE);
            return Err(format!("{}: {} epochs, the record says {}", path.display(), curve.len(), record.epochs_done));
        }
        if record.status == Status::Ok {
            let model = self.load_model(spec).map_err(|e| e.to_string())?;
            if model.config.hidden != spec.config.model.hidden.0 {
                let path = dir.join(CHECKPOINT_FILE);
                return Err(format!(
                    "{}: width {}, expected {}",
                    path.display(),
                    model.config.hidden,
                    spec.config.model.hidden.0
                ));
            }
        }
        Ok(record)
    }
}
