//! A training state that can be stored and taken up again, so that a run
//! trained to epoch e and continued to e′ ends bit for bit as one trained
//! to e′ in one go.
//!
//! What one step hands the next, and so what a state holds: the parameters
//! and BatchTopK's threshold (the model), Adam's two moments per tensor and
//! its step count, AuxK's count of images since each latent last fired, and
//! the epochs completed. The batches need nothing: `fill` draws each
//! batch's order and noise from its epoch and batch indices alone, and
//! [`crate::train_with`] shows a continued run the indices an uninterrupted
//! one sees. Everything else an engine holds is rebuilt by every step.
//!
//! The file is a safetensors file: the model's tensors, named as a
//! checkpoint names them (so it also loads as one); `adam.m.<name>` and
//! `adam.v.<name>` for each; `auxk.since_fired` (i64, `[H]`) once AuxK has
//! counted; and in its metadata the format, the epochs done, Adam's step
//! count and the settings it was trained with ([`StateSettings`]), which a
//! continuation must share.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::{
    AdamState, CoreError, KSchedule, ModelConfig, Params, Precision, RunIdentity, SparseAutoencoder, SparsityConfig,
    TrainConfig, TENSOR_NAMES,
};

/// The metadata key that marks a training state, and its format version.
const FORMAT_KEY: &str = "sae_lab_train_state";
/// The format written and read.
const FORMAT: &str = "1";
/// The metadata key of the epochs completed.
const EPOCHS_KEY: &str = "epochs_done";
/// The metadata key of Adam's step count.
const STEPS_KEY: &str = "adam_steps";
/// The tensor of AuxK's counts.
const SINCE_FIRED: &str = "auxk.since_fired";

/// What a state was trained with, and a continuation must train with too:
/// the model's shape and code, the mechanism, the batch size, Adam's
/// settings and the products' precision (the thread count is not
/// compared).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StateSettings {
    /// The model's shape, code and initialisation.
    pub model: ModelConfig,
    /// The sparsity mechanism.
    pub sparsity: SparsityConfig,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Adam's L2 weight decay.
    pub weight_decay: f64,
    /// The dense products' precision: absent from the metadata of an f32
    /// state (as from states written before the setting).
    pub precision: Precision,
    /// TopK's k schedule: absent from the metadata of a state trained
    /// without one (as from states written before the setting).
    pub k_schedule: Option<KSchedule>,
}

/// The metadata key of [`StateSettings::precision`].
const PRECISION_KEY: &str = "settings.precision";
/// The k schedule's metadata key.
const K_SCHEDULE_KEY: &str = "settings.k_schedule";
/// The metadata key of [`StateSettings::model`].
const MODEL_KEY: &str = "settings.model";

/// A stored setting as this sae-lab writes it: a model's settings written
/// before TopK's k lived in the mechanism alone also name it (`top_k`,
/// which `settings.sparsity` holds too); read back, they are written
/// without it. Every other setting is compared as stored.
fn as_written_now(key: &str, stored: String) -> String {
    if key != MODEL_KEY {
        return stored;
    }
    match serde_json::from_str::<ModelConfig>(&stored) {
        Ok(model) => serde_json::to_string(&model).expect("a model's settings serialise"),
        Err(_) => stored,
    }
}

/// What a state's metadata means by leaving `key` out: f32 for the
/// precision (an f32 state, like one written before the setting, has
/// none), no k schedule for the schedule; `None` for every other key,
/// which must be there.
fn default_if_absent(key: &str) -> Option<String> {
    match key {
        PRECISION_KEY => Some(serde_json::to_string(&Precision::F32).expect("a precision serialises")),
        K_SCHEDULE_KEY => Some("null".into()),
        _ => None,
    }
}

impl StateSettings {
    /// The settings of a model shaped `model` trained as `config` and
    /// `sparsity` say.
    pub fn new(model: ModelConfig, config: &TrainConfig, sparsity: SparsityConfig) -> Self {
        let (batch_size, lr, weight_decay, precision, k_schedule) =
            (config.batch_size, config.lr, config.weight_decay, config.precision, config.k_schedule);
        Self { model, sparsity, batch_size, lr, weight_decay, precision, k_schedule }
    }

    /// Each setting as a state file's metadata spells it: JSON, whose
    /// floats are written exactly; compared as text, never parsed back.
    fn entries(&self) -> [(&'static str, String); 7] {
        fn json(value: &impl serde::Serialize) -> String {
            serde_json::to_string(value).expect("settings serialise")
        }
        [
            (MODEL_KEY, json(&self.model)),
            ("settings.sparsity", json(&self.sparsity)),
            ("settings.batch_size", json(&self.batch_size)),
            ("settings.lr", json(&self.lr)),
            ("settings.weight_decay", json(&self.weight_decay)),
            (PRECISION_KEY, json(&self.precision)),
            (K_SCHEDULE_KEY, json(&self.k_schedule)),
        ]
    }

    /// Checks that `stored` (a state's settings, by metadata key) are these.
    fn compare(&self, stored: impl Fn(&str) -> Option<String>) -> Result<(), String> {
        let differ: Vec<String> = self
            .entries()
            .into_iter()
            .filter_map(|(key, want)| {
                match stored(key).map(|v| as_written_now(key, v)).or_else(|| default_if_absent(key)) {
                    Some(found) if found == want => None,
                    found => Some(format!(
                        "{} {}, expected {want}",
                        key.trim_start_matches("settings."),
                        found.as_deref().unwrap_or("missing")
                    )),
                }
            })
            .collect();
        match differ.is_empty() {
            true => Ok(()),
            false => Err(format!("trained with other settings than these: {}", differ.join("; "))),
        }
    }
}

/// Everything training carries from one step to the next, taken between
/// two epochs ([`crate::Engine::state`]); an engine built from it
/// ([`crate::resume_engine`]) goes on as if it had never stopped.
#[derive(Debug, Clone)]
pub struct TrainState {
    pub(crate) model: SparseAutoencoder,
    pub(crate) moments: Params<AdamState>,
    pub(crate) adam_steps: u64,
    pub(crate) since_fired: Option<Vec<u64>>,
    pub(crate) epochs_done: usize,
    pub(crate) settings: StateSettings,
}

impl TrainState {
    /// The model as trained so far, with BatchTopK's threshold.
    pub fn model(&self) -> &SparseAutoencoder {
        &self.model
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// What the state was trained with.
    pub fn settings(&self) -> &StateSettings {
        &self.settings
    }

    /// Checks that training with `expected` can continue from this state
    /// to `epochs` epochs.
    pub(crate) fn check(&self, expected: &StateSettings, epochs: usize) -> Result<(), String> {
        let entries = self.settings.entries();
        expected.compare(|key| entries.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone()))?;
        check_epochs(self.epochs_done, epochs)
    }

    /// The state as the bytes of a safetensors file (the caller writes
    /// them, atomically).
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CoreError> {
        self.to_safetensors_as(None)
    }

    /// [`TrainState::to_safetensors`], with the run that trained it named
    /// in the file's metadata when `identity` is given
    /// ([`RunIdentity::read`] reads it back).
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_safetensors_as(&self, identity: Option<&RunIdentity>) -> Result<Vec<u8>, CoreError> {
        let mut tensors = self.model.to_tensors()?;
        let shapes = Params::shapes(self.model.config);
        for (name, (state, shape)) in TENSOR_NAMES.zip(self.moments.as_ref().zip(shapes)).into_array() {
            let (m, v) = state.moments();
            if m.is_empty() {
                continue;
            }
            tensors.insert(format!("adam.m.{name}"), Tensor::from_slice(m, shape.as_slice(), &Device::Cpu)?);
            tensors.insert(format!("adam.v.{name}"), Tensor::from_slice(v, shape.as_slice(), &Device::Cpu)?);
        }
        if let Some(since) = &self.since_fired {
            // A count beyond i64::MAX images (never reached) is stored as i64::MAX: dead either way.
            let counts: Vec<i64> = since.iter().map(|&s| i64::try_from(s).unwrap_or(i64::MAX)).collect();
            tensors.insert(SINCE_FIRED.into(), Tensor::from_vec(counts, since.len(), &Device::Cpu)?);
        }
        let written = self.settings.entries().into_iter().filter(|(k, v)| default_if_absent(k).as_ref() != Some(v));
        let mut metadata: HashMap<String, String> = written.map(|(k, v)| (k.to_string(), v)).collect();
        metadata.insert(FORMAT_KEY.into(), FORMAT.into());
        metadata.insert(EPOCHS_KEY.into(), self.epochs_done.to_string());
        metadata.insert(STEPS_KEY.into(), self.adam_steps.to_string());
        if let Some(identity) = identity {
            identity.write(&mut metadata);
        }
        safetensors::serialize(&tensors, Some(metadata)).map_err(|e| CoreError::StateDict(e.to_string()))
    }

    /// Reads a state from a file holding [`TrainState::to_safetensors`],
    /// to continue training with `expected` to `epochs` epochs.
    ///
    /// # Errors
    /// [`CoreError::Checkpoint`] naming the file when it is missing or
    /// unreadable, is not a training state (a model checkpoint, say), lacks
    /// a tensor or has one of the wrong shape, was trained with other
    /// settings (another mechanism, width or learning rate...), or holds
    /// more epochs than `epochs`.
    pub fn load(path: &Path, expected: &StateSettings, epochs: usize) -> Result<Self, CoreError> {
        let failed = |message: String| CoreError::Checkpoint { path: path.into(), message };
        let bytes = std::fs::read(path).map_err(|e| failed(e.to_string()))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
            .map_err(|e| failed(format!("not a safetensors file: {e}")))?;
        let meta = header.metadata().clone().unwrap_or_default();
        if meta.get(FORMAT_KEY).map(String::as_str) != Some(FORMAT) {
            return Err(failed(format!(
                "not a training state of this sae-lab (its metadata lacks {FORMAT_KEY} = {FORMAT}; a model \
                 checkpoint?)"
            )));
        }
        expected.compare(|key| meta.get(key).cloned()).map_err(failed)?;
        let count = |key: &str| {
            let value = meta.get(key).and_then(|v| v.parse::<u64>().ok());
            value.ok_or_else(|| failed(format!("metadata {key} is missing or not a whole number")))
        };
        let epochs_done = usize::try_from(count(EPOCHS_KEY)?).map_err(|e| failed(e.to_string()))?;
        check_epochs(epochs_done, epochs).map_err(failed)?;
        let adam_steps = count(STEPS_KEY)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, &Device::Cpu).map_err(|e| failed(e.to_string()))?;
        Self::from_tensors(&tensors, expected, adam_steps, epochs_done).map_err(|e| failed(e.to_string()))
    }

    /// The state in `tensors`, trained with `settings`.
    fn from_tensors(
        tensors: &HashMap<String, Tensor>,
        settings: &StateSettings,
        adam_steps: u64,
        epochs_done: usize,
    ) -> Result<Self, CoreError> {
        let mut model = SparseAutoencoder::from_tensors(tensors)?.with_mechanism(&settings.sparsity);
        let (want, found) = (settings.model, model.config);
        if (found.input, found.hidden) != (want.input, want.hidden) {
            return Err(CoreError::StateDict(format!(
                "a model of {} pixels and {} units, its settings say {} and {}",
                found.input, found.hidden, want.input, want.hidden
            )));
        }
        if found.pre_bias != want.pre_bias {
            let (has, say) = (if found.pre_bias { "has" } else { "lacks" }, if want.pre_bias { "one" } else { "none" });
            return Err(CoreError::StateDict(format!("the model {has} a pre_bias tensor, its settings say {say}")));
        }
        if found.architecture != want.architecture {
            let (found, want) = (found.architecture.as_str(), want.architecture.as_str());
            return Err(CoreError::StateDict(format!("a model of architecture {found}, its settings say {want}")));
        }
        model.config = want;
        let shapes = Params::shapes(want);
        let moments = TENSOR_NAMES.zip(shapes).try_map(|(name, shape)| {
            let moment = |kind: &str| {
                if shape.iter().product::<usize>() == 0 {
                    return Ok(Vec::new());
                }
                let key = format!("adam.{kind}.{name}");
                let t = tensors.get(&key).ok_or_else(|| CoreError::StateDict(format!("missing tensor {key}")))?;
                if t.dims() != shape.as_slice() {
                    return Err(CoreError::StateDict(format!("{key} has shape {:?}, expected {shape:?}", t.dims())));
                }
                Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
            };
            Ok::<_, CoreError>(AdamState::from_moments(moment("m")?, moment("v")?))
        })?;
        let since_fired = match tensors.get(SINCE_FIRED) {
            None => None,
            Some(_) if settings.sparsity.aux().is_none() => {
                return Err(CoreError::StateDict(format!("{SINCE_FIRED} is present but the mechanism has no AuxK")))
            }
            Some(t) if t.dims() != [want.hidden] || t.dtype() != DType::I64 => {
                let message =
                    format!("{SINCE_FIRED} is {:?} {:?}, expected i64 [{}]", t.dtype(), t.dims(), want.hidden);
                return Err(CoreError::StateDict(message));
            }
            Some(t) => Some(
                t.to_vec1::<i64>()?
                    .into_iter()
                    .map(u64::try_from)
                    .collect::<Result<_, _>>()
                    .map_err(|_| CoreError::StateDict(format!("{SINCE_FIRED} holds a negative count")))?,
            ),
        };
        Ok(Self { model, moments, adam_steps, since_fired, epochs_done, settings: *settings })
    }
}

/// Checks that a state of `done` epochs can train to `epochs`.
fn check_epochs(done: usize, epochs: usize) -> Result<(), String> {
    match done <= epochs {
        true => Ok(()),
        false => Err(format!("holds {done} epochs of training, more than the {epochs} asked for")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An f32 state's metadata holds no precision (as states written
    /// before the setting), a bf16 one's does, and neither continues in
    /// the other precision.
    #[test]
    fn precision_is_stored_for_bf16_only_and_compared() {
        let (model, sparsity) = (SparseAutoencoder::new(ModelConfig::new(4, 2), 0), SparsityConfig::reference());
        let f32_config = TrainConfig { batch_size: 2, ..TrainConfig::reference() };
        let bf16_config = TrainConfig { precision: Precision::Bf16, ..f32_config };
        let expect = |c: &TrainConfig| StateSettings::new(model.config, c, sparsity);
        let moments = Params::shapes(model.config).sizes().map(AdamState::new);
        let (since_fired, settings) = (None, expect(&f32_config));
        let mut state =
            TrainState { model: model.clone(), moments, adam_steps: 0, since_fired, epochs_done: 0, settings };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.safetensors");
        let stored = |state: &TrainState| {
            let bytes = state.to_safetensors().unwrap();
            std::fs::write(&path, &bytes).unwrap();
            let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
            header.metadata().clone().unwrap_or_default().get(PRECISION_KEY).cloned()
        };
        assert_eq!(stored(&state), None);
        assert!(TrainState::load(&path, &expect(&f32_config), 50).is_ok());
        let err = TrainState::load(&path, &expect(&bf16_config), 50).unwrap_err().to_string();
        assert!(err.contains("precision \"f32\", expected \"bf16\""), "{err}");
        state.settings.precision = Precision::Bf16;
        assert_eq!(stored(&state).as_deref(), Some("\"bf16\""));
        assert!(TrainState::load(&path, &expect(&bf16_config), 50).is_ok());
        let err = state.check(&expect(&f32_config), 50).unwrap_err();
        assert!(err.contains("precision \"bf16\", expected \"f32\""), "{err}");
    }

    /// A model's settings stored before TopK's k lived in the mechanism
    /// alone, with a `top_k`, read as this sae-lab writes them.
    #[test]
    fn model_settings_with_a_top_k_read_as_written_now() {
        let model = ModelConfig { activation: crate::Activation::Relu, ..ModelConfig::new(4, 2) };
        let old = r#"{"input":4,"hidden":2,"top_k":3,"activation":"relu"}"#;
        assert_eq!(as_written_now(MODEL_KEY, old.into()), serde_json::to_string(&model).unwrap());
        assert_eq!(as_written_now("settings.lr", "0.1".into()), "0.1");
    }
}
