//! The experiment file: base settings (data, corruption, model, sparsity,
//! training) and a sweep section listing values to cross. Every section and
//! key is optional and defaults to the reference protocol; unknown keys are
//! rejected.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use sae_core::KlReduction;
use sae_data::DatasetName;

use crate::values::{Beta, Count, LearningRate, NonEmpty, Rho, ValidCorruption, WeightDecay, Width};
use crate::SweepError;

/// Which images, and how they are split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    /// `"mnist"`, `"fashion-mnist"` or any folder name of MNIST-layout files.
    pub dataset: DatasetName,
    /// Training images (the reference: 50,000).
    pub train: Count,
    /// Validation images, from the training file (the reference: 10,000).
    pub validation: Count,
    /// Test images, the first of the test file (the reference: 10,000).
    pub test: Count,
    /// Seeds the split and the fixed validation and test corruptions.
    pub split_seed: u64,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            dataset: DatasetName("mnist".into()),
            train: Count(50_000),
            validation: Count(10_000),
            test: Count(10_000),
            split_seed: 0,
        }
    }
}

/// The model's shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Hidden units.
    pub hidden: Width,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self { hidden: Width(256) }
    }
}

/// The sparsity penalty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SparsitySection {
    /// Target activation ρ.
    pub rho: Rho,
    /// Penalty weight β.
    pub beta: Beta,
    /// `"mean"` (the reference) or `"sum"` over hidden units.
    pub reduction: KlReduction,
}

impl Default for SparsitySection {
    fn default() -> Self {
        Self { rho: Rho(0.05), beta: Beta(1.0), reduction: KlReduction::Mean }
    }
}

/// Optimisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingSection {
    /// Passes over the training set.
    pub epochs: Count,
    /// Images per Adam step.
    pub batch_size: Count,
    /// Adam's learning rate.
    pub lr: LearningRate,
    /// L2 weight decay.
    pub weight_decay: WeightDecay,
    /// Seeds initial weights, batch order and training noise.
    pub seed: u64,
    /// Threads for one run's matrix products.
    pub threads: Count,
}

impl Default for TrainingSection {
    fn default() -> Self {
        Self {
            epochs: Count(50),
            batch_size: Count(50),
            lr: LearningRate(1e-4),
            weight_decay: WeightDecay(0.0),
            seed: 0,
            threads: Count(1),
        }
    }
}

/// Values to cross; each list replaces the base value of its key.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SweepSection {
    /// Corruptions (kinds and levels).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corruption: Option<NonEmpty<ValidCorruption>>,
    /// Hidden widths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hidden: Option<NonEmpty<Width>>,
    /// Target sparsities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rho: Option<NonEmpty<Rho>>,
    /// Penalty weights.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beta: Option<NonEmpty<Beta>>,
    /// Learning rates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<NonEmpty<LearningRate>>,
    /// Epoch budgets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<NonEmpty<Count>>,
    /// Seeds: one replicate per seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeds: Option<NonEmpty<u64>>,
}

/// A parsed, validated experiment file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Experiment {
    /// The question the experiment answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Data and split.
    pub data: DataSection,
    /// How inputs are corrupted (default: not at all).
    pub corruption: ValidCorruption,
    /// Model shape.
    pub model: ModelSection,
    /// Sparsity penalty.
    pub sparsity: SparsitySection,
    /// Optimisation.
    pub training: TrainingSection,
    /// Values to cross.
    pub sweep: SweepSection,
}

/// An experiment with its name and the file it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentFile {
    /// The file's stem, which names the results folder.
    pub name: String,
    /// The file read.
    pub path: PathBuf,
    /// Its content.
    pub experiment: Experiment,
}

impl Experiment {
    /// Parses TOML text; `path` only labels errors.
    ///
    /// # Errors
    /// [`SweepError::Parse`] naming the file, with toml's line, column
    /// and message (unknown key, wrong type, value out of range...), or the
    /// keys of a check that spans several (see `validate.rs`).
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, SweepError> {
        let experiment: Self =
            toml::from_str(text).map_err(|e| SweepError::Parse { path: path.into(), message: e.to_string() })?;
        experiment.check(path)?;
        Ok(experiment)
    }

    /// This experiment as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an experiment always serialises")
    }
}

impl ExperimentFile {
    /// Reads and validates an experiment file.
    ///
    /// # Errors
    /// [`SweepError::Io`] when unreadable, [`SweepError::Parse`] otherwise.
    pub fn load(path: &Path) -> Result<Self, SweepError> {
        let text = std::fs::read_to_string(path).map_err(SweepError::io(path))?;
        let experiment = Experiment::from_toml(&text, path)?;
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| SweepError::Parse { path: path.into(), message: "file has no usable name".into() })?
            .to_string();
        Ok(Self { name, path: path.into(), experiment })
    }
}
