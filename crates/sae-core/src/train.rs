//! Training: Adam steps over shuffled, corrupted batches, with a validation
//! pass after every epoch and divergence detection.

use std::time::Instant;

use crate::engine::fast::{check_precision, Trainer};
use crate::engine::Engine;
use crate::metrics::{evaluate, EvalSet, Quality};
use crate::{validate, CoreError, Setting, SparseAutoencoder, SparsityConfig, TrainConfig};

/// One point of a training curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CurvePoint {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss (`mse + strength · penalty`) over the epoch's batches.
    pub train_loss: f64,
    /// Mean training MSE over the epoch's batches.
    pub train_mse: f64,
    /// Mean unweighted penalty term (per-batch ρ̂) over the epoch; the KL
    /// for KL runs (which older curves call `train_kl`).
    #[serde(alias = "train_kl")]
    pub train_penalty: f64,
    /// Validation MSE after the epoch.
    pub val_mse: f64,
    /// Validation KL after the epoch (ρ̂ over the whole validation set), for
    /// KL runs.
    pub val_kl: Option<f64>,
    /// Validation active units per image after the epoch.
    pub val_active_per_image: f64,
    /// Validation non-zero code entries per image after the epoch (absent
    /// from older curves).
    #[serde(default)]
    pub val_l0: Option<f64>,
    /// Seconds spent training in this epoch (validation excluded).
    pub seconds: f64,
}

/// Trains `model` with the fast engine for `config.epochs` epochs of
/// `batches_per_epoch` steps (see [`train_with`]).
///
/// # Errors
/// [`CoreError::Config`] when the model, mechanism and batch size cannot
/// train together ([`crate::validate`]); [`CoreError::Bf16Unsupported`]
/// for bf16 on a machine without the instructions;
/// [`CoreError::Diverged`] as soon as a batch loss is NaN or infinite.
pub fn train(
    model: SparseAutoencoder,
    config: &TrainConfig,
    sparsity: SparsityConfig,
    batches_per_epoch: usize,
    fill: impl FnMut(usize, usize, &mut [f32], &mut [f32]),
    validation: EvalSet<'_>,
    on_epoch: impl FnMut(&CurvePoint),
) -> Result<(SparseAutoencoder, Vec<CurvePoint>), CoreError> {
    validate(&model.config, &sparsity, config)?;
    check_precision(config.precision)?;
    let mut trainer = Trainer::new(model, config, sparsity);
    let curve = train_with(&mut trainer, config, &sparsity, batches_per_epoch, fill, validation, on_epoch)?;
    Ok((trainer.model, curve))
}

/// Trains with `engine` until it has completed `config.epochs` epochs of
/// `batches_per_epoch` steps, from the epochs it has done (0 for a fresh
/// engine, the state's for a resumed one: [`crate::resume_engine`]); the
/// trained model is then `engine.model()`. Returns the points of the epochs
/// trained now.
///
/// `fill(epoch, batch, input, target)` writes a batch (epochs count from
/// 0, so a continued run is asked for the batches an uninterrupted one is);
/// `validation` is scored after every epoch, on the host, and `on_epoch`
/// told the result.
///
/// # Errors
/// [`CoreError::Diverged`] as soon as a batch loss is NaN or infinite;
/// [`CoreError::Config`] when the engine has done more than
/// `config.epochs` epochs; any error of the engine.
pub fn train_with(
    engine: &mut dyn Engine,
    config: &TrainConfig,
    sparsity: &SparsityConfig,
    batches_per_epoch: usize,
    mut fill: impl FnMut(usize, usize, &mut [f32], &mut [f32]),
    validation: EvalSet<'_>,
    mut on_epoch: impl FnMut(&CurvePoint),
) -> Result<Vec<CurvePoint>, CoreError> {
    let d = validation.rows * validation.cols;
    let mut input = vec![0.0f32; config.batch_size * d];
    let mut target = vec![0.0f32; config.batch_size * d];
    let first = engine.epochs_done();
    if first > config.epochs {
        let message = format!("{} epochs asked for, fewer than the {first} already trained", config.epochs);
        return Err(CoreError::Config { setting: Setting::Epochs, message });
    }
    let mut curve = Vec::with_capacity(config.epochs - first);
    for epoch in first..config.epochs {
        let start = Instant::now();
        let (mut loss, mut mse, mut penalty) = (0.0, 0.0, 0.0);
        for batch in 0..batches_per_epoch {
            fill(epoch, batch, &mut input, &mut target);
            let parts = engine.step(&input, &target)?;
            if !parts.total.is_finite() {
                return Err(CoreError::Diverged { epoch: epoch + 1, batch, loss: parts.total });
            }
            loss += parts.total;
            mse += parts.mse;
            penalty += parts.penalty;
        }
        let seconds = start.elapsed().as_secs_f64();
        engine.end_epoch();
        let val = evaluate(&*engine.model()?, validation, sparsity, Quality::Skip);
        let nb = batches_per_epoch.max(1) as f64;
        let point = CurvePoint {
            epoch: epoch + 1,
            train_loss: loss / nb,
            train_mse: mse / nb,
            train_penalty: penalty / nb,
            val_mse: val.mse,
            val_kl: val.kl,
            val_active_per_image: val.active_per_image,
            val_l0: val.l0,
            seconds,
        };
        on_epoch(&point);
        curve.push(point);
    }
    Ok(curve)
}
