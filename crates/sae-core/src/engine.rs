//! The training-step interface both engines implement, and the choice
//! between them: the hand-written fast engine (the CPU default) and the
//! candle engine (any device; on the CPU, for comparison).

use std::borrow::Cow;

use crate::candle_engine::CandleTrainer;
use crate::{
    check_bf16, CoreError, CpuFeatures, DeviceSpec, LossParts, Precision, SparseAutoencoder, SparsityConfig,
    TrainConfig, TrainState, Trainer,
};

/// A model with its optimiser, stepped one batch at a time. The training
/// loop ([`crate::train_with`]) needs nothing else.
pub trait Engine {
    /// One Adam step on a batch (`input`, `target`: `[batch, D]`); returns
    /// the batch's loss before the step.
    ///
    /// # Errors
    /// Whatever the engine's tensor library reports (the fast engine never
    /// fails).
    fn step(&mut self, input: &[f32], target: &[f32]) -> Result<LossParts, CoreError>;

    /// The parameters as they are now, in host memory.
    ///
    /// # Errors
    /// A failed copy from the device.
    fn model(&self) -> Result<Cow<'_, SparseAutoencoder>, CoreError>;

    /// Whether the optimiser's state is finite: when it is not, the updates
    /// it gives are 0 or NaN and training has stopped, whatever the loss
    /// says.
    ///
    /// # Errors
    /// A failed reduction on the device.
    fn optimiser_finite(&self) -> Result<bool, CoreError>;

    /// Epochs completed: 0 for a fresh engine, its state's for a resumed
    /// one.
    fn epochs_done(&self) -> usize;

    /// Records that an epoch ended ([`crate::train_with`] calls it).
    fn end_epoch(&mut self);

    /// What training carries from one step to the next, to continue from
    /// ([`resume_engine`]); meant to be taken between epochs.
    ///
    /// # Errors
    /// A failed copy from the device.
    fn state(&self) -> Result<TrainState, CoreError>;
}

impl Engine for Trainer {
    fn step(&mut self, input: &[f32], target: &[f32]) -> Result<LossParts, CoreError> {
        Ok(Trainer::step(self, input, target))
    }

    fn model(&self) -> Result<Cow<'_, SparseAutoencoder>, CoreError> {
        Ok(Cow::Borrowed(&self.model))
    }

    fn optimiser_finite(&self) -> Result<bool, CoreError> {
        Ok(Trainer::optimiser_finite(self))
    }

    fn epochs_done(&self) -> usize {
        Trainer::epochs_done(self)
    }

    fn end_epoch(&mut self) {
        Trainer::end_epoch(self);
    }

    fn state(&self) -> Result<TrainState, CoreError> {
        Ok(Trainer::state(self))
    }
}

/// Which implementation trains a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// The hand-written CPU engine: explicit backward pass, direct `gemm`
    /// calls, reused buffers (the default, and the fastest on a CPU).
    #[default]
    Fast,
    /// candle-nn layers, candle's autograd and a tensor-op Adam: runs on
    /// any device candle supports.
    Candle,
}

impl EngineKind {
    /// Whether this is the default engine (left out when serialised).
    pub fn is_fast(&self) -> bool {
        *self == Self::Fast
    }

    /// The engine that actually runs on `device`: a CUDA device always
    /// runs the candle engine; the CPU runs the one asked for.
    pub fn on(self, device: DeviceSpec) -> Self {
        if device.is_cpu() {
            self
        } else {
            Self::Candle
        }
    }
}

/// Checks that this machine runs the fast engine's products in `precision`.
///
/// # Errors
/// [`CoreError::Bf16Unsupported`] for bf16 without the instructions.
pub(crate) fn check_precision(precision: Precision) -> Result<(), CoreError> {
    match precision {
        Precision::F32 => Ok(()),
        Precision::Bf16 => check_bf16(CpuFeatures::detect()),
    }
}

/// Checks that the engine `kind` asks for on `device` trains in
/// `precision` here: bf16 needs the fast engine and the instructions.
///
/// # Errors
/// [`CoreError::Bf16NeedsFastEngine`], [`CoreError::Bf16Unsupported`].
pub fn check_engine_precision(kind: EngineKind, device: DeviceSpec, precision: Precision) -> Result<(), CoreError> {
    match kind.on(device) {
        EngineKind::Candle if precision != Precision::F32 => Err(CoreError::Bf16NeedsFastEngine),
        _ => check_precision(precision),
    }
}

/// Prepares `model` for training by the engine `kind` asks for on `device`
/// (see [`EngineKind::on`]).
///
/// # Errors
/// [`CoreError::Config`] when the model, mechanism and batch size cannot
/// train together ([`crate::validate`]); those of [`check_engine_precision`];
/// a device that cannot be opened ([`DeviceSpec::open`]), or a candle error
/// while moving the model there.
pub fn build_engine(
    kind: EngineKind,
    device: DeviceSpec,
    model: SparseAutoencoder,
    config: &TrainConfig,
    sparsity: SparsityConfig,
) -> Result<Box<dyn Engine>, CoreError> {
    crate::validate(&model.config, &sparsity, config.batch_size)?;
    check_engine_precision(kind, device, config.precision)?;
    Ok(match kind.on(device) {
        EngineKind::Fast => Box::new(Trainer::new(model, config, sparsity)),
        EngineKind::Candle => Box::new(CandleTrainer::new(&model, config, sparsity, &device.open()?)?),
    })
}

/// Takes up training from `state` with the engine `kind` asks for on
/// `device` (see [`EngineKind::on`]); either engine continues a state
/// either saved.
///
/// # Errors
/// [`CoreError::Config`] and the precision's errors as [`build_engine`];
/// [`CoreError::State`] when
/// the state was trained with other settings than `config` and
/// `sparsity`, or for more than `config.epochs` epochs; a device that
/// cannot be opened, or a candle error while moving the state there.
pub fn resume_engine(
    kind: EngineKind,
    device: DeviceSpec,
    state: TrainState,
    config: &TrainConfig,
    sparsity: SparsityConfig,
) -> Result<Box<dyn Engine>, CoreError> {
    crate::validate(&state.model().config, &sparsity, config.batch_size)?;
    check_engine_precision(kind, device, config.precision)?;
    Ok(match kind.on(device) {
        EngineKind::Fast => Box::new(Trainer::resume(state, config, sparsity)?),
        EngineKind::Candle => Box::new(CandleTrainer::resume(state, config, sparsity, &device.open()?)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelConfig;

    #[test]
    fn bf16_needs_the_fast_engine() {
        let (cpu, candle) = (DeviceSpec::Cpu, EngineKind::Candle);
        let msg = check_engine_precision(candle, cpu, Precision::Bf16).unwrap_err().to_string();
        assert!(msg.starts_with("bf16 precision needs the fast engine"), "{msg}");
        assert!(check_engine_precision(candle, cpu, Precision::F32).is_ok());
        assert!(check_engine_precision(EngineKind::Fast, cpu, Precision::F32).is_ok());
        let model = SparseAutoencoder::new(ModelConfig::new(4, 2), 0);
        let config = TrainConfig { precision: Precision::Bf16, ..TrainConfig::reference() };
        let err = CandleTrainer::new(&model, &config, SparsityConfig::reference(), &candle_core::Device::Cpu);
        assert!(matches!(err, Err(CoreError::Bf16NeedsFastEngine)));
    }
}
