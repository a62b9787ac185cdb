//! The experiment file: base settings (data, corruption, model, sparsity,
//! training) and a sweep section listing values to cross. Every section and
//! key is optional and defaults to the reference protocol; unknown keys are
//! rejected.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use sae_core::{
    Activation, DeviceSpec, EngineKind, Init, KSchedule, ModelConfig, Precision, SparsityConfig, TrainConfig,
};
use sae_data::DatasetName;

use crate::pre_bias_start::PreBiasStart;
use crate::probe::ProbeSection;
use crate::search::SearchSection;
use crate::sparsity::SparsitySection;
use crate::values::{
    Beta, Count, L1Weight, Label, LearningRate, NonEmpty, Rho, Threads, TopK, ValidCorruption, WeightDecay, Width,
};
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
    /// Only the images of these labels, in every set (default: all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<NonEmpty<Label>>,
}

impl DataSection {
    /// The labels kept, as bytes, if the section selects any.
    pub fn kept_labels(&self) -> Option<Vec<u8>> {
        label_bytes(&self.labels)
    }
}

/// A list of labels as bytes, if one is given.
pub(crate) fn label_bytes(labels: &Option<NonEmpty<Label>>) -> Option<Vec<u8>> {
    labels.as_ref().map(|l| l.0.iter().map(|x| x.0).collect())
}

impl Default for DataSection {
    fn default() -> Self {
        let sizes = sae_data::SplitSizes::default();
        Self {
            dataset: DatasetName("mnist".into()),
            train: Count(sizes.train),
            validation: Count(sizes.validation),
            test: Count(sizes.test),
            split_seed: 0,
            labels: None,
        }
    }
}

/// The model's shape, code and initial weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Hidden units.
    pub hidden: Width,
    /// The encoder's nonlinearity: `"sigmoid"` (the default, the
    /// reference's) or `"relu"`. Left out of the serialised run when
    /// default, so run ids made before the setting existed stay the same.
    #[serde(skip_serializing_if = "Activation::is_sigmoid")]
    pub activation: Activation,
    /// How the weights start: `"pytorch"` (the default) or `"tied"` (the
    /// encoder the transpose of a decoder of unit-norm atoms). Left out
    /// when default, as `activation`.
    #[serde(skip_serializing_if = "Init::is_pytorch")]
    pub init: Init,
    /// Whether a learned pre-encoder bias is subtracted from the input
    /// (default: on for a ReLU code, as the field trains TopK, BatchTopK
    /// and L1 codes; off for a sigmoid code, the reference). Settled to its
    /// value in each run, and left out when off for a sigmoid code, so the
    /// reference's run ids stay the same.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_bias: Option<bool>,
    /// Where the pre-encoder bias starts: `"mean"` (the default), the mean
    /// training image, or `"median"`, their geometric median (Gao et al.).
    /// Left out when default.
    #[serde(skip_serializing_if = "PreBiasStart::is_mean")]
    pub pre_bias_start: PreBiasStart,
    /// Whether the decoder's atoms are held at unit norm in training
    /// (default: as `pre_bias`, on for a ReLU code, as the field trains
    /// them, off for a sigmoid code). Settled and left out as `pre_bias`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_atoms: Option<bool>,
    /// Whether the encoder stays the decoder's transpose throughout
    /// training (Makhzani and Frey's k-sparse autoencoder; needs
    /// `init = "tied"`). Left out when off.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tie_weights: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            hidden: Width(ModelConfig::REFERENCE_HIDDEN),
            activation: Activation::default(),
            init: Init::default(),
            pre_bias: None,
            pre_bias_start: PreBiasStart::Mean,
            unit_atoms: None,
            tie_weights: false,
        }
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
    pub threads: Threads,
    /// `"fast"` (the default) or `"candle"`: which engine trains on the
    /// CPU. Left out of the serialised run when default, so run ids made
    /// before the setting existed stay the same.
    #[serde(skip_serializing_if = "EngineKind::is_fast")]
    pub engine: EngineKind,
    /// `"cpu"` (the default), `"cuda"` or `"cuda:N"`; a CUDA device runs
    /// the candle engine. Left out when default, as `engine`.
    #[serde(skip_serializing_if = "DeviceSpec::is_cpu")]
    pub device: DeviceSpec,
    /// `"f32"` (the default) or `"bf16"`: the number format of the fast
    /// engine's dense products (bf16 needs AMX, checked before a sweep
    /// starts). Left out when default, as `engine`.
    #[serde(skip_serializing_if = "Precision::is_f32", deserialize_with = "crate::values::precision")]
    pub precision: Precision,
    /// TopK's or BatchTopK's k annealed from `from` to the mechanism's k
    /// over the first `epochs` epochs (Makhzani and Frey's schedule),
    /// `{ from = 100, epochs = 10 }`. Left out when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k_schedule: Option<KSchedule>,
}

impl TrainingSection {
    /// The settings sae-core trains with (the seed, which seeds the sweep's
    /// own draws, stays here).
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs.0,
            batch_size: self.batch_size.0,
            lr: self.lr.0,
            weight_decay: self.weight_decay.0,
            threads: self.threads.0,
            precision: self.precision,
            k_schedule: self.k_schedule,
        }
    }
}

impl Default for TrainingSection {
    /// sae-core's reference protocol, seed 0, on the default engine and
    /// device.
    fn default() -> Self {
        let reference = TrainConfig::reference();
        Self {
            epochs: Count(reference.epochs),
            batch_size: Count(reference.batch_size),
            lr: LearningRate(reference.lr),
            weight_decay: WeightDecay(reference.weight_decay),
            seed: 0,
            threads: Threads(reference.threads),
            engine: EngineKind::default(),
            device: DeviceSpec::default(),
            precision: reference.precision,
            k_schedule: None,
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
    /// Whole sparsity mechanisms, each with its own keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sparsity: Option<NonEmpty<SparsitySection>>,
    /// TopK's units kept per image (for the `topk` mechanisms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k: Option<NonEmpty<TopK>>,
    /// L1 penalty weights (for the `l1` mechanisms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1_weight: Option<NonEmpty<L1Weight>>,
    /// JumpReLU's L0 penalty weights λ (for the `jumprelu` mechanisms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l0_weight: Option<NonEmpty<L1Weight>>,
    /// Gated's L1 penalty weights λ on the gate (for the `gated` mechanisms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gated_weight: Option<NonEmpty<L1Weight>>,
    /// With and without the pre-encoder bias.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pre_bias: Option<NonEmpty<bool>>,
    /// With and without unit-norm decoder atoms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_atoms: Option<NonEmpty<bool>>,
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
    /// Sparsity mechanism.
    pub sparsity: SparsitySection,
    /// Optimisation.
    pub training: TrainingSection,
    /// The linear probe (written only when it differs from the default).
    #[serde(skip_serializing_if = "ProbeSection::is_default")]
    pub probe: ProbeSection,
    /// Values to cross.
    pub sweep: SweepSection,
    /// How runs are chosen: the grid (the default, written only when
    /// another strategy is chosen, so existing ids stay the same) or a
    /// random search.
    #[serde(skip_serializing_if = "SearchSection::is_default")]
    pub search: SearchSection,
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
        experiment.check(path, text)?;
        Ok(experiment)
    }

    /// This experiment as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("an experiment always serialises")
    }

    /// The model shape for images of `input` pixels (TopK's k is the
    /// mechanism's: [`Self::sparsity_config`]).
    pub fn model_config(&self, input: usize) -> ModelConfig {
        ModelConfig {
            activation: self.activation(),
            init: self.model.init,
            pre_bias: self.pre_bias(),
            unit_atoms: self.unit_atoms(),
            tie_weights: self.model.tie_weights,
            architecture: self.sparsity.config.architecture(),
            ..ModelConfig::new(input, self.model.hidden.0)
        }
    }

    /// The code's activation: the mechanism's own, if it has one, else
    /// the model's.
    pub fn activation(&self) -> Activation {
        self.sparsity.activation.unwrap_or(self.model.activation)
    }

    /// Whether the model has a pre-encoder bias: as `[model] pre_bias`
    /// says, by default for a ReLU code.
    pub fn pre_bias(&self) -> bool {
        self.model.pre_bias.unwrap_or(self.activation() == Activation::Relu)
    }

    /// Whether the decoder's atoms are held at unit norm: as
    /// `[model] unit_atoms` says, by default for a ReLU code.
    pub fn unit_atoms(&self) -> bool {
        self.model.unit_atoms.unwrap_or(self.activation() == Activation::Relu)
    }

    /// The sparsity mechanism.
    pub fn sparsity_config(&self) -> SparsityConfig {
        self.sparsity.config
    }
}

impl ExperimentFile {
    /// Reads and validates an experiment file. Its name (the file name
    /// without `.toml`) names its results folder, so it must be text: a
    /// name that is not UTF-8 is refused as such, before the file is read.
    ///
    /// # Errors
    /// [`SweepError::NotUtf8`] and [`SweepError::BadFileName`] for a file
    /// name that is not UTF-8 text or not a plain folder name,
    /// [`SweepError::Io`] when unreadable,
    /// [`SweepError::Parse`] for invalid content.
    pub fn load(path: &Path) -> Result<Self, SweepError> {
        let stem = path.file_stem().unwrap_or_default();
        let Some(stem) = stem.to_str() else {
            return Err(SweepError::NotUtf8 { path: path.into() });
        };
        let name = experiment_name(stem).map_err(|source| SweepError::BadFileName { path: path.into(), source })?;
        let text = std::fs::read_to_string(path).map_err(SweepError::io(path))?;
        let experiment = Experiment::from_toml(&text, path)?;
        Ok(Self { name, path: path.into(), experiment })
    }
}

/// `name` as the name of an experiment, which names its folder under the
/// results folder: one plain folder name, so that nothing is written
/// outside it.
///
/// # Errors
/// [`BadExperimentName`] when it is empty, a path, or starts with `.`.
pub fn experiment_name(name: &str) -> Result<String, BadExperimentName> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\']) {
        return Err(BadExperimentName { name: name.into() });
    }
    Ok(name.to_string())
}

/// An experiment name that is not one plain folder name.
#[derive(Debug, thiserror::Error)]
#[error(
    "the experiment name {name:?} (the file name without .toml) must be a plain folder name, not empty, without \
     '/' or '\\', and not starting with '.'"
)]
pub struct BadExperimentName {
    /// The name refused.
    pub name: String,
}
