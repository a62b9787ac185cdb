//! The results folder of an experiment: one folder per run, each written
//! in a temporary folder and renamed into place whole, so a run's folder
//! is either complete or absent, whatever interrupts the sweep.

use std::path::{Path, PathBuf};

use sae_core::{CurvePoint, FrontierPoint, RunIdentity, SparseAutoencoder, StateSettings, TrainState};
use sae_data::{write_atomic, TEMPORARY};

use crate::complete::check_identity;
use crate::grid::identity_of;
use crate::{Experiment, RunData, RunRecord, RunSpec, Status, SweepError, TrainingSection};

/// How a run folder being replaced begins while it is moved aside: this,
/// then the run's id, then the process id.
pub(crate) const REPLACED: &str = ".old-";

/// Files of a run's folder.
pub(crate) const CONFIG_FILE: &str = "config.toml";
/// The per-epoch curve.
pub(crate) const CURVE_FILE: &str = "curve.csv";
/// The outcome; its presence marks the run complete.
pub(crate) const METRICS_FILE: &str = "metrics.json";
/// The trained parameters.
pub(crate) const CHECKPOINT_FILE: &str = "model.safetensors";
/// Test scores with the code truncated to each k of a ladder (exact L0).
pub(crate) const FRONTIER_FILE: &str = "frontier.csv";
/// The training state a later run continues from ([`sae_core::TrainState`]):
/// the parameters and Adam's two moments, about three checkpoints' worth,
/// so written only when asked ([`crate::execute_from`]'s `keep_state`).
pub const STATE_FILE: &str = "state.safetensors";

/// `results/<experiment>/`.
#[derive(Debug, Clone)]
pub struct ResultsDir {
    root: PathBuf,
}

/// Everything a finished run hands to the store.
#[derive(Debug)]
pub struct RunOutput<'a> {
    /// Status, metrics and timing.
    pub record: &'a RunRecord,
    /// The epochs completed.
    pub curve: &'a [CurvePoint],
    /// The trained model, absent when the run failed.
    pub model: Option<&'a SparseAutoencoder>,
    /// Its progressive evaluation (empty when the run failed).
    pub frontier: &'a [FrontierPoint],
    /// Its training state, when kept, to continue from.
    pub state: Option<&'a TrainState>,
}

/// A stored run that a run of the same configuration with more epochs
/// continues ([`ResultsDir::continuation`]).
#[derive(Debug, Clone)]
pub struct Continuation {
    /// The stored run's id.
    pub from: String,
    /// Its curve, epochs 1 to e: the continued run's curve starts with it.
    pub curve: Vec<CurvePoint>,
    /// Its training state after epoch e.
    pub state: TrainState,
}

impl ResultsDir {
    /// The folder of experiment `name` under `results_root`.
    pub fn new(results_root: &Path, name: &str) -> Self {
        Self { root: results_root.join(name) }
    }

    /// `results/<experiment>/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `results/<experiment>/runs/`.
    pub fn runs(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// The folder of run `id`.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.runs().join(id)
    }

    /// The stored outcome of run `id`, or `None` when it has not completed.
    ///
    /// # Errors
    /// [`SweepError::Corrupt`] when `metrics.json` exists but cannot be read.
    pub fn record(&self, id: &str) -> Result<Option<RunRecord>, SweepError> {
        let path = self.run_dir(id).join(METRICS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| SweepError::Corrupt { path, message: e.to_string() }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SweepError::Io { path, error: e }),
        }
    }

    /// Renames the folder of each run of `grid` stored under one of its
    /// former ids (see [`RunSpec::former_ids`]) to its id, once, saying so,
    /// then has its `metrics.json` name the new id (until then the run's
    /// checks accept a former one); returns how many. A folder already
    /// under the new id is left alone, and a rename another process made
    /// first is not an error.
    pub fn adopt_former_ids(&self, grid: &[RunSpec]) -> usize {
        if !self.runs().is_dir() {
            return 0;
        }
        let mut adopted = 0;
        for spec in grid {
            for former in &spec.former_ids {
                let (old, new) = (self.run_dir(former), self.run_dir(&spec.id));
                if old.is_dir() && !new.exists() && std::fs::rename(&old, &new).is_ok() {
                    adopted += 1;
                    self.rename_record(&spec.id);
                }
            }
        }
        if adopted > 0 {
            crate::note(&format!(
                "{}: {adopted} run folders stored under the ids of an earlier sae-lab renamed to their ids (which no \
                 longer hash the description, the order of labels or a -0.0); nothing retrained",
                self.runs().display()
            ));
        }
        adopted
    }

    /// Has run `id`'s `metrics.json` name `id`, if it names another (a
    /// former id); a record that cannot be read is left for the run's
    /// checks to find.
    fn rename_record(&self, id: &str) {
        if let Ok(Some(mut record)) = self.record(id) {
            if record.run_id != id {
                record.run_id = id.into();
                let bytes = serde_json::to_vec_pretty(&record).expect("records serialise");
                let _ = write_atomic(&self.run_dir(id).join(METRICS_FILE), &bytes);
            }
        }
    }

    /// The stored folder of `spec` under one of its former ids, when its own
    /// id has none: what [`Self::adopt_former_ids`] would rename.
    pub fn former_folder(&self, spec: &RunSpec) -> Option<String> {
        if self.run_dir(&spec.id).exists() {
            return None;
        }
        spec.former_ids.iter().find(|f| self.run_dir(f).is_dir()).cloned()
    }

    /// Writes a run's folder: config, curve, metrics, (when trained)
    /// checkpoint and (when kept) training state, in a temporary folder
    /// renamed into place. A previous
    /// folder of the same run (a failed attempt) is replaced.
    ///
    /// # Errors
    /// [`SweepError::Io`] naming the file that could not be written.
    pub fn write_run(&self, spec: &RunSpec, out: &RunOutput<'_>) -> Result<(), SweepError> {
        let runs = self.runs();
        sae_data::create_folder(&runs)?;
        // A process stopping by signal waits for the folder to be renamed into place.
        let _writing = sae_data::writing();
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{TEMPORARY}{}-", spec.id))
            .tempdir_in(&runs)
            .map_err(|e| SweepError::Io { path: runs.clone(), error: sae_data::os_error(e) })?;
        let put = |name: &str, bytes: &[u8]| write_atomic(&tmp.path().join(name), bytes);
        put(CONFIG_FILE, spec.config.to_toml().as_bytes())?;
        put(CURVE_FILE, &csv_of(out.curve))?;
        if let Some(model) = out.model {
            put(CHECKPOINT_FILE, &model.to_safetensors_as(Some(&spec.identity()))?)?;
            put(FRONTIER_FILE, &csv_of(out.frontier))?;
        }
        if let Some(state) = out.state {
            put(STATE_FILE, &state.to_safetensors_as(Some(&spec.identity()))?)?;
        }
        put(METRICS_FILE, &serde_json::to_vec_pretty(out.record).expect("records serialise"))?;
        let target = self.run_dir(&spec.id);
        // A previous attempt's folder (or whatever replaced it) goes first.
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                let old = runs.join(format!("{REPLACED}{}-{}", spec.id, std::process::id()));
                std::fs::rename(&target, &old).map_err(SweepError::io(&target))?;
                std::fs::remove_dir_all(&old).map_err(SweepError::io(&target))?;
            }
            Ok(_) => std::fs::remove_file(&target).map_err(SweepError::io(&target))?,
            Err(_) => {}
        }
        let tmp = tmp.keep();
        std::fs::rename(&tmp, &target).map_err(SweepError::io(&target))?;
        Ok(())
    }

    /// Loads the checkpoint of run `spec`, with the activation and atom
    /// constraint its configuration gives the model (the file holds tensors
    /// only: the parameters, the pre-encoder bias, and BatchTopK's
    /// threshold or TopK's k).
    ///
    /// # Errors
    /// [`SweepError::Core`] naming the file when it is missing or invalid;
    /// [`SweepError::Corrupt`] naming it when its k or its pre-encoder
    /// bias is not the run's.
    pub fn load_model(&self, spec: &RunSpec) -> Result<SparseAutoencoder, SweepError> {
        let path = self.run_dir(&spec.id).join(CHECKPOINT_FILE);
        check_identity(&path, RunIdentity::read(&path)?.as_ref(), spec)?;
        let mut model = SparseAutoencoder::load(&path)?;
        let config = spec.config.model_config(model.config.input);
        if model.config.pre_bias != config.pre_bias {
            let message =
                format!("pre_bias {}, the run's configuration says {}", model.config.pre_bias, config.pre_bias);
            return Err(SweepError::Corrupt { path, message });
        }
        (model.config.activation, model.config.unit_atoms) = (config.activation, config.unit_atoms);
        let k = spec.config.sparsity_config().top_k();
        match model.top_k {
            // A TopK checkpoint written before the model saved its k holds none.
            None if k.is_some() => Ok(model.with_mechanism(&spec.config.sparsity_config())),
            found if found == k => Ok(model),
            found => {
                Err(SweepError::Corrupt { path, message: format!("k {found:?}, the run's configuration says {k:?}") })
            }
        }
    }

    /// Reads stored run `from` to continue it as `spec`: the same
    /// configuration (but for the description) with at least as many
    /// epochs, trained on `data`. The continued run is stored under
    /// `spec`'s own id (the epochs are part of it); `from`'s folder is left
    /// as it is.
    ///
    /// # Errors
    /// [`SweepError::Continuation`] naming the file when run `from` has
    /// not completed or failed, was configured otherwise than `spec` but
    /// for its epochs, has more epochs than `spec`, was stored without its
    /// training state, or its curve or state disagree with its epochs, or
    /// its state was written by another run;
    /// [`SweepError::Core`] naming the state file when it is damaged or was
    /// trained with other settings; an unreadable file.
    pub fn continuation(&self, from: &str, spec: &RunSpec, data: &RunData) -> Result<Continuation, SweepError> {
        let dir = self.run_dir(from);
        let refuse = |file: &str, message: String| SweepError::Continuation { path: dir.join(file), message };
        let record =
            self.record(from)?.ok_or_else(|| refuse(METRICS_FILE, "missing: the run has not completed".into()))?;
        if record.status != Status::Ok {
            return Err(refuse(METRICS_FILE, format!("the run failed: {}", record.reason.unwrap_or_default())));
        }
        let config_path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&config_path).map_err(SweepError::io(&config_path))?;
        let stored = Experiment::from_toml(&text, &config_path)?;
        let identity = identity_of(from, &stored);
        let (have, want) = (stored.training.epochs.0, spec.config.training.epochs.0);
        let training = TrainingSection { epochs: spec.config.training.epochs, ..stored.training };
        let stored = Experiment { description: spec.config.description.clone(), training, ..stored };
        if stored.canonical() != spec.config.canonical() {
            let message = "configured otherwise than the run to continue (the two may differ in epochs only)";
            return Err(refuse(CONFIG_FILE, message.into()));
        }
        if have > want {
            return Err(refuse(CONFIG_FILE, format!("{have} epochs, more than the {want} to continue to")));
        }
        let curve = self.load_curve(from)?;
        if curve.len() != have {
            return Err(refuse(CURVE_FILE, format!("{} epochs, the run's configuration says {have}", curve.len())));
        }
        let path = dir.join(STATE_FILE);
        if !path.exists() {
            return Err(refuse(STATE_FILE, "missing: the run was stored without its training state".into()));
        }
        // A state lives between two rungs: one that names no run is not trusted.
        let found = RunIdentity::read(&path)?;
        let why = match &found {
            None => Some("its metadata names no run".to_string()),
            Some(_) => identity.mismatch(found.as_ref()),
        };
        if let Some(why) = why {
            return Err(refuse(STATE_FILE, format!("{why}: a file copied from another run's folder?")));
        }
        let cfg = &spec.config;
        let model = cfg.model_config(data.splits.train.dim());
        let settings = StateSettings::new(model, &cfg.training.train_config(), cfg.sparsity_config());
        let state = TrainState::load(&path, &settings, want)?;
        if state.epochs_done() != have {
            let message = format!("{} epochs of training, the run's configuration says {have}", state.epochs_done());
            return Err(refuse(STATE_FILE, message));
        }
        Ok(Continuation { from: from.into(), curve, state })
    }

    /// The ids of the run folders that hold a training state (temporary
    /// and replaced folders aside).
    pub(crate) fn runs_with_state(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.runs()) else { return Vec::new() };
        let names = entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned());
        names.filter(|id| !id.starts_with('.') && self.run_dir(id).join(STATE_FILE).is_file()).collect()
    }

    /// Removes run `id`'s training state, if it has one: the run stays
    /// complete without it.
    pub(crate) fn remove_state(&self, id: &str) {
        let _ = std::fs::remove_file(self.run_dir(id).join(STATE_FILE));
    }

    /// Reads run `id`'s curve.
    ///
    /// # Errors
    /// [`SweepError::Corrupt`] naming the file when it is missing or invalid.
    pub fn load_curve(&self, id: &str) -> Result<Vec<CurvePoint>, SweepError> {
        self.read_csv(id, CURVE_FILE)
    }

    /// Reads run `id`'s frontier (progressive evaluation).
    ///
    /// # Errors
    /// [`SweepError::Corrupt`] naming the file when it is missing (a run
    /// stored before frontiers were written has none) or invalid.
    pub fn load_frontier(&self, id: &str) -> Result<Vec<FrontierPoint>, SweepError> {
        self.read_csv(id, FRONTIER_FILE)
    }

    fn read_csv<T: serde::de::DeserializeOwned>(&self, id: &str, file: &str) -> Result<Vec<T>, SweepError> {
        let path = self.run_dir(id).join(file);
        let corrupt = |e: csv::Error| SweepError::Corrupt { path: path.clone(), message: e.to_string() };
        csv::Reader::from_path(&path).map_err(corrupt)?.deserialize().collect::<Result<_, _>>().map_err(corrupt)
    }
}

/// `rows` as CSV with a header from their field names.
fn csv_of<T: serde::Serialize>(rows: &[T]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    rows.iter().for_each(|p| w.serialize(p).expect("rows of plain fields serialise"));
    w.into_inner().expect("in memory")
}
