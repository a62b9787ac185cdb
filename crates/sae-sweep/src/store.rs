//! The results folder of an experiment: one folder per run, each written
//! in a temporary folder and renamed into place whole, so a run's folder
//! is either complete or absent, whatever interrupts the sweep.

use std::path::{Path, PathBuf};

use sae_core::{CurvePoint, SparseAutoencoder};
use sae_data::write_atomic;

use crate::{RunRecord, RunSpec, SweepError};

/// Files of a run's folder.
pub const CONFIG_FILE: &str = "config.toml";
/// The per-epoch curve.
pub const CURVE_FILE: &str = "curve.csv";
/// The outcome; its presence marks the run complete.
pub const METRICS_FILE: &str = "metrics.json";
/// The trained parameters.
pub const CHECKPOINT_FILE: &str = "model.safetensors";

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

    /// Renames the folder of each run of `grid` stored under its former id
    /// (see [`RunSpec::former_id`]) to its id, once; returns how many. A
    /// folder already under the new id is left alone, and a rename another
    /// process made first is not an error.
    pub fn adopt_former_ids(&self, grid: &[RunSpec]) -> usize {
        if !self.runs().is_dir() {
            return 0;
        }
        let mut adopted = 0;
        for spec in grid {
            let Some(former) = &spec.former_id else { continue };
            let (old, new) = (self.run_dir(former), self.run_dir(&spec.id));
            if old.is_dir() && !new.exists() && std::fs::rename(&old, &new).is_ok() {
                adopted += 1;
            }
        }
        if adopted > 0 {
            crate::note(&format!(
                "{}: {adopted} run folders renamed to ids that no longer depend on the description (nothing retrained)",
                self.runs().display()
            ));
        }
        adopted
    }

    /// Writes a run's folder: config, curve, metrics and (when trained)
    /// checkpoint, in a temporary folder renamed into place. A previous
    /// folder of the same run (a failed attempt) is replaced.
    ///
    /// # Errors
    /// [`SweepError::Io`] naming the file that could not be written.
    pub fn write_run(&self, spec: &RunSpec, out: &RunOutput<'_>) -> Result<(), SweepError> {
        let runs = self.runs();
        std::fs::create_dir_all(&runs).map_err(SweepError::io(&runs))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".tmp-{}-", spec.id))
            .tempdir_in(&runs)
            .map_err(|e| SweepError::Io { path: runs.clone(), error: sae_data::os_error(e) })?;
        let put = |name: &str, bytes: &[u8]| write_atomic(&tmp.path().join(name), bytes);
        put(CONFIG_FILE, spec.config.to_toml().as_bytes())?;
        put(CURVE_FILE, &curve_csv(out.curve))?;
        if let Some(model) = out.model {
            put(CHECKPOINT_FILE, &model.to_safetensors()?)?;
        }
        put(METRICS_FILE, &serde_json::to_vec_pretty(out.record).expect("records serialise"))?;
        let target = self.run_dir(&spec.id);
        // A previous attempt's folder (or whatever replaced it) goes first.
        match std::fs::symlink_metadata(&target) {
            Ok(meta) if meta.is_dir() => {
                let old = runs.join(format!(".old-{}-{}", spec.id, std::process::id()));
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

    /// Loads the checkpoint of run `spec`, as its configuration shapes the
    /// model (a TopK model selects in its forward pass; the file holds the
    /// tensors only).
    ///
    /// # Errors
    /// [`SweepError::Core`] naming the file when it is missing or invalid.
    pub fn load_model(&self, spec: &RunSpec) -> Result<SparseAutoencoder, SweepError> {
        let mut model = SparseAutoencoder::load(&self.run_dir(&spec.id).join(CHECKPOINT_FILE))?;
        model.config.top_k = spec.config.sparsity_config().top_k();
        Ok(model)
    }

    /// Reads run `id`'s curve.
    ///
    /// # Errors
    /// [`SweepError::Corrupt`] naming the file when it is missing or invalid.
    pub fn load_curve(&self, id: &str) -> Result<Vec<CurvePoint>, SweepError> {
        let path = self.run_dir(id).join(CURVE_FILE);
        let corrupt = |e: csv::Error| SweepError::Corrupt { path: path.clone(), message: e.to_string() };
        csv::Reader::from_path(&path).map_err(corrupt)?.deserialize().collect::<Result<_, _>>().map_err(corrupt)
    }
}

fn curve_csv(curve: &[CurvePoint]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    curve.iter().for_each(|p| w.serialize(p).expect("curve points serialise"));
    w.into_inner().expect("in memory")
}
