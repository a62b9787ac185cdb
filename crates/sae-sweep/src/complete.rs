//! Whether a stored run is complete: a run counts as done only when every
//! file it needs reads back whole, its metrics are values they can take
//! and agree with its curve, its configuration is still the one its id
//! stands for and its checkpoint was written by it; a damaged one is
//! redone, and the sweep says which file and why.

use std::path::Path;

use sae_core::{CurvePoint, RunIdentity, SparseAutoencoder};

use crate::grid::identity_of;
use crate::store::{CHECKPOINT_FILE, CONFIG_FILE, CURVE_FILE, METRICS_FILE};
use crate::{Experiment, Metric, ResultsDir, RunRecord, RunSpec, Status, SweepError};

/// What the results folder holds of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// No folder: never run, or interrupted before it was stored.
    Missing,
    /// A folder that does not read back whole; the reason names the file.
    Damaged(String),
    /// Stored whole: its record (status `ok` or `failed`) and curve.
    Stored(Box<StoredRun>),
}

/// What a run folder that reads back whole holds, besides its checkpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Its outcome (`metrics.json`).
    pub record: RunRecord,
    /// Its epochs (`curve.csv`).
    pub curve: Vec<CurvePoint>,
}

impl RunState {
    /// Whether the run is done and need not train again.
    pub fn is_done(&self) -> bool {
        matches!(self, Self::Stored(r) if r.record.status == Status::Ok)
    }

    /// `ok`, `failed`, `missing` or `damaged`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Damaged(_) => "damaged",
            Self::Stored(r) => r.record.status.as_str(),
        }
    }
}

impl ResultsDir {
    /// Reads back run `spec`'s folder: its record, config and curve, and
    /// for a successful run its checkpoint's header and length
    /// ([`SparseAutoencoder::read_header`]: the weights are read only by
    /// what draws with them), each checked whole.
    pub fn state(&self, spec: &RunSpec) -> RunState {
        let dir = self.run_dir(&spec.id);
        if !dir.exists() {
            return RunState::Missing;
        }
        match self.check(spec) {
            Ok(stored) => RunState::Stored(Box::new(stored)),
            Err(why) => RunState::Damaged(why),
        }
    }

    fn check(&self, spec: &RunSpec) -> Result<StoredRun, String> {
        let dir = self.run_dir(&spec.id);
        let record = match self.record(&spec.id) {
            Ok(Some(r)) => r,
            Ok(None) => return Err(format!("{METRICS_FILE} is missing")),
            Err(e) => return Err(e.to_string()),
        };
        // A folder adopted from a former id keeps the record it was stored with.
        if record.run_id != spec.id && !spec.former_ids.contains(&record.run_id) {
            return Err(format!("{METRICS_FILE} belongs to run {}", record.run_id));
        }
        if let Some(why) = Metric::impossible(&record, spec.config.model.hidden.0) {
            return Err(format!("{}: {why}", dir.join(METRICS_FILE).display()));
        }
        let config = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
        let stored = Experiment::from_toml(&text, &config).map_err(|e| e.to_string())?;
        if let Some(difference) = first_difference(&stored, &spec.config) {
            return Err(format!(
                "{}: edited after the run: {difference}, so the results are not those of this file",
                config.display()
            ));
        }
        let curve = self.load_curve(&spec.id).map_err(|e| e.to_string())?;
        if curve.len() != record.epochs_done {
            let path = dir.join(CURVE_FILE);
            return Err(format!("{}: {} epochs, the record says {}", path.display(), curve.len(), record.epochs_done));
        }
        check_final_val_mse(&record, &curve, &dir)?;
        if record.status == Status::Ok {
            check_checkpoint(&dir.join(CHECKPOINT_FILE), spec)?;
        }
        Ok(StoredRun { record, curve })
    }
}

/// Checks that a record's validation MSE is the last of its curve (the two
/// files' writers may round the last digit apart).
fn check_final_val_mse(record: &RunRecord, curve: &[CurvePoint], dir: &Path) -> Result<(), String> {
    let Some(curve_says) = curve.last().map(|p| p.val_mse) else { return Ok(()) };
    // A NaN or infinity is stored as null; the two writers may round the last digit apart.
    let agree = match record.final_val_mse {
        Some(stored) => {
            curve_says.is_finite() && (stored - curve_says).abs() <= 1e-12 * stored.abs().max(curve_says.abs())
        }
        None => !curve_says.is_finite(),
    };
    if agree {
        return Ok(());
    }
    let stored = record.final_val_mse.map_or("null".into(), |v| v.to_string());
    Err(format!(
        "{}: final_val_mse {stored} is not the last validation MSE of {CURVE_FILE}, {curve_says}: one of the two was \
         edited",
        dir.join(METRICS_FILE).display()
    ))
}

/// Checks that the checkpoint at `path` holds run `spec`'s model: its
/// width, pre-encoder bias and architecture, and the run that wrote it.
fn check_checkpoint(path: &Path, spec: &RunSpec) -> Result<(), String> {
    let (model, found) = SparseAutoencoder::read_header(path).map_err(|e| e.to_string())?;
    if model.hidden != spec.config.model.hidden.0 {
        return Err(format!("{}: width {}, expected {}", path.display(), model.hidden, spec.config.model.hidden.0));
    }
    if model.pre_bias != spec.config.pre_bias() {
        let (found, want) = (model.pre_bias, spec.config.pre_bias());
        return Err(format!("{}: pre_bias {found}, the run's configuration says {want}", path.display()));
    }
    let want = spec.config.sparsity.config.architecture();
    if model.architecture != want {
        let (found, want) = (model.architecture.as_str(), want.as_str());
        return Err(format!("{}: a {found} model, the run's configuration says {want}", path.display()));
    }
    check_identity(path, found.as_ref(), spec).map_err(|e| e.to_string())
}

/// Checks that the checkpoint at `path`, in run `spec`'s folder, whose
/// header names the run `found`, was written by that run (or names no run:
/// a file stored before identities); a folder adopted from a former id may
/// hold files written under it.
///
/// # Errors
/// [`SweepError::Corrupt`] naming the file and both runs when another run
/// wrote it.
pub(crate) fn check_identity(path: &Path, found: Option<&RunIdentity>, spec: &RunSpec) -> Result<(), SweepError> {
    let own = |id: &String| identity_of(id, &spec.config);
    let expected = match found {
        Some(f) if spec.former_ids.contains(&f.run) => own(&f.run),
        _ => spec.identity(),
    };
    match expected.mismatch(found) {
        Some(why) => {
            let message = format!("{why}: a file copied from another run's folder?");
            Err(SweepError::Corrupt { path: path.into(), message })
        }
        None => Ok(()),
    }
}

/// Where the configuration `stored` in a run folder departs from `run`, the
/// configuration its id stands for: `training.lr is 0.001, the run's id
/// stands for 0.005`. The description is not compared, and both are
/// compared canonically ([`Experiment::canonical`]): the id hashes neither
/// the description nor how the settings were written.
fn first_difference(stored: &Experiment, run: &Experiment) -> Option<String> {
    let json = |e: &Experiment| serde_json::to_value(Experiment { description: None, ..e.canonical() }).ok();
    let (stored, run) = (json(stored)?, json(run)?);
    let mut path = Vec::new();
    let (found, wanted) = differing(&stored, &run, &mut path)?;
    Some(format!("{} is {found}, the run's id stands for {wanted}", path.join(".")))
}

/// The first values where `a` and `b` differ, with their key path.
fn differing<'v>(
    a: &'v serde_json::Value,
    b: &'v serde_json::Value,
    path: &mut Vec<String>,
) -> Option<(&'v serde_json::Value, &'v serde_json::Value)> {
    use serde_json::Value::{Null, Object};
    match (a, b) {
        (Object(x), Object(y)) => x.keys().chain(y.keys()).find_map(|k| {
            path.push(k.clone());
            let found = differing(x.get(k).unwrap_or(&Null), y.get(k).unwrap_or(&Null), path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        _ => (a != b).then_some((a, b)),
    }
}
