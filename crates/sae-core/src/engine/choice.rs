//! The choice between the engines: which one trains a model on a device,
//! in a precision, fresh or from a stored state.

use crate::engine::candle::CandleTrainer;
use crate::engine::fast::{check_precision, Trainer};
use crate::engine::{Engine, EngineKind};
use crate::{CoreError, DeviceSpec, Precision, SparseAutoencoder, SparsityConfig, TrainConfig, TrainState};

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
    crate::validate(&model.config, &sparsity, config)?;
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
    crate::validate(&state.model().config, &sparsity, config)?;
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
