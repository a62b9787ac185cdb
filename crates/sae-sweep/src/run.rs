//! Executing one run: train on its data, score it on the test set, and
//! turn any failure (divergence, error, panic) into a failed record.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Instant;

use sae_core::{
    build_engine, evaluate, ladder, progressive_evaluation, resume_engine, train_with, CurvePoint, EvalSet,
    FrontierPoint, Metrics, ModelConfig, Params, Quality, SparseAutoencoder, TrainState, DEFAULT_LADDER, TENSOR_NAMES,
};
use sae_data::{short_number, TrainBatches};

use crate::{probe_accuracy, Continuation, RunData, RunOutput, RunRecord, RunSpec, Status};

/// A finished run: its record, its curve and, when it trained, its model
/// (and its training state, when asked to keep it).
#[derive(Debug)]
pub struct RunResult {
    /// Status, metrics and timing.
    pub record: RunRecord,
    /// The completed epochs.
    pub curve: Vec<CurvePoint>,
    /// The trained model (absent when the run failed).
    pub model: Option<SparseAutoencoder>,
    /// Its test scores at exact L0 (empty when the run failed).
    pub frontier: Vec<FrontierPoint>,
    /// The training state to continue from (absent when the run failed or
    /// was not asked to keep it).
    pub state: Option<TrainState>,
}

impl RunResult {
    /// What the store writes of this run.
    pub fn output(&self) -> RunOutput<'_> {
        RunOutput {
            record: &self.record,
            curve: &self.curve,
            model: self.model.as_ref(),
            frontier: &self.frontier,
            state: self.state.as_ref(),
        }
    }
}

/// A run that trained and passed its checks.
struct Scored {
    model: SparseAutoencoder,
    state: Option<TrainState>,
    metrics: Metrics,
    frontier: Vec<FrontierPoint>,
    accuracy: f64,
    samples_per_epoch: usize,
}

/// Trains and scores `spec` on `data` from its first epoch, telling
/// `on_epoch` each epoch's point. Never panics: failures become a record
/// with status `failed`.
pub fn execute(spec: &RunSpec, data: &RunData, on_epoch: impl FnMut(&CurvePoint)) -> RunResult {
    execute_from(spec, data, None, false, on_epoch)
}

/// Trains and scores `spec` on `data`, as [`execute`], from the stored run
/// `from` when given ([`crate::ResultsDir::continuation`]): its state is
/// trained on from its epoch e to `spec`'s, which ends as `spec` trained
/// in one go would, and the result's curve is `from`'s followed by the new
/// epochs (`on_epoch` is told the new ones). With `keep_state`, the
/// result holds the training state to store beside the run
/// ([`crate::STATE_FILE`]), so that it can be continued in turn.
pub fn execute_from(
    spec: &RunSpec,
    data: &RunData,
    from: Option<Continuation>,
    keep_state: bool,
    mut on_epoch: impl FnMut(&CurvePoint),
) -> RunResult {
    let start = Instant::now();
    let continued_from = from.as_ref().map(|c| c.from.clone());
    let (mut curve, state) = match from {
        Some(c) => (c.curve, Some(c.state)),
        None => (Vec::new(), None),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let on_epoch = |p: &CurvePoint| {
            curve.push(*p);
            on_epoch(p);
        };
        let trained = train_run(spec, data, state, keep_state, on_epoch)?;
        score(spec, data, trained)
    }))
    .unwrap_or_else(|panic| Err(format!("panicked: {}", panic_message(panic.as_ref()))));
    let train_seconds: f64 = curve.iter().map(|p| p.seconds).sum();
    let samples = (outcome.as_ref().map_or(0, |s| s.samples_per_epoch) * curve.len()) as f64;
    let mut record = RunRecord {
        run_id: spec.id.clone(),
        status: Status::Ok,
        reason: None,
        test: None,
        probe_accuracy: None,
        final_val_mse: curve.last().map(|p| p.val_mse),
        epochs_done: curve.len(),
        continued_from,
        train_seconds,
        seconds: start.elapsed().as_secs_f64(),
        samples_per_s: if train_seconds > 0.0 { samples / train_seconds } else { 0.0 },
    };
    let (model, frontier, state) = match outcome {
        Ok(scored) => {
            (record.test, record.probe_accuracy) = (Some(scored.metrics), Some(scored.accuracy));
            (Some(scored.model), scored.frontier, scored.state)
        }
        Err(reason) => {
            (record.status, record.reason) = (Status::Failed, Some(reason));
            (None, Vec::new(), None)
        }
    };
    RunResult { record, curve, model, frontier, state }
}

/// A run that trained: its model, its state when kept, and the images it
/// saw per epoch.
struct Trained {
    model: SparseAutoencoder,
    state: Option<TrainState>,
    samples_per_epoch: usize,
}

/// Trains `spec`'s model on its training split, from `state` when given,
/// keeping the final state when `keep_state`; a run that trained nothing
/// or diverged (see [`check_trained`]) is an error, checked against the
/// model `spec`'s seed draws, as for a run trained in one go.
fn train_run(
    spec: &RunSpec,
    data: &RunData,
    state: Option<TrainState>,
    keep_state: bool,
    on_epoch: impl FnMut(&CurvePoint),
) -> Result<Trained, String> {
    let cfg = &spec.config;
    let (train_cfg, sparsity, t) = (cfg.training.train_config(), cfg.sparsity_config(), &cfg.training);
    let s = &data.splits;
    reserve_memory(cfg.model_config(s.train.dim()), train_cfg.batch_size)?;
    let mut model = SparseAutoencoder::new(cfg.model_config(s.train.dim()), t.seed).with_mechanism(&sparsity);
    if model.config.pre_bias {
        model.start_pre_bias(&cfg.model.pre_bias_start.of(&s.train));
    }
    if let sae_core::SparsityConfig::JumpRelu { initial_threshold, .. } = sparsity {
        model.start_threshold(initial_threshold);
    }
    let mut batches = TrainBatches::new(&s.train, cfg.corruption.0, t.seed, train_cfg.batch_size);
    let per_epoch = batches.per_epoch();
    let (val, val_input) = (&s.validation, &data.val_input);
    let validation = EvalSet { input: &val_input.pixels, clean: &val.pixels, rows: val.rows, cols: val.cols };
    let untrained =
        Untrained { val_mse: evaluate(&model, validation, &sparsity, Quality::Skip).mse, params: model.params.clone() };
    let fill = |e: usize, b: usize, x: &mut [f32], t: &mut [f32]| batches.fill(e, b, x, t);
    let engine = match state {
        Some(state) => resume_engine(t.engine, t.device, state, &train_cfg, sparsity),
        None => build_engine(t.engine, t.device, model, &train_cfg, sparsity),
    };
    let trained = engine.and_then(|mut engine| {
        let curve = train_with(engine.as_mut(), &train_cfg, &sparsity, per_epoch, fill, validation, on_epoch)?;
        let state = if keep_state { Some(engine.state()?) } else { None };
        Ok((engine.model()?.into_owned(), engine.optimiser_finite()?, curve, state))
    });
    let (model, optimiser_finite, curve, state) = trained.map_err(|e| e.to_string())?;
    if !optimiser_finite {
        return Err("trained nothing: Adam's moments overflowed float32 (a gradient beyond about 1e19, from a \
                    penalty weight or weight decay too large), so its updates became 0"
            .into());
    }
    check_trained(&untrained, &model, curve.last().map(|p| p.val_mse))?;
    Ok(Trained { model, state, samples_per_epoch: per_epoch * train_cfg.batch_size })
}

/// The largest parameter magnitude of a model that has not diverged: with
/// a weight of 1,000, one grey level of one pixel (2/255 in normalised
/// units) moves a pre-activation by 7.8, from a sigmoid's 0.5 to 0.9996. No
/// healthy run comes near it: Adam moves a value by about `lr` a step, so
/// 50,000 steps at lr 1e-3 reach 50 at most.
const MAX_PARAMETER: f32 = 1000.0;

/// The model before its first step: its parameters and validation MSE.
struct Untrained {
    params: Params<Vec<f32>>,
    val_mse: f64,
}

/// Checks that training did something and did not diverge: every parameter
/// finite and within [`MAX_PARAMETER`], every tensor moved from its initial
/// values, and the final
/// validation MSE below the untrained model's (which even a model that
/// learnt only its decoder bias, the mean image, beats).
fn check_trained(untrained: &Untrained, model: &SparseAutoencoder, val_mse: Option<f64>) -> Result<(), String> {
    // The loss is checked before each step; the last step's result only here.
    if !finite(&model.params) {
        return Err("diverged: the parameters are NaN or infinite after the last step".into());
    }
    let tensors = model.params.as_ref().into_array();
    let largest = tensors.iter().flat_map(|t| t.iter()).fold(0.0f32, |m, v| m.max(v.abs()));
    if largest > MAX_PARAMETER {
        return Err(format!(
            "diverged: a parameter reached {}, beyond the {MAX_PARAMETER} at which one grey level of one pixel \
             saturates a unit (a learning rate too large?)",
            short_number(largest)
        ));
    }
    let pairs = untrained.params.as_ref().zip(model.params.as_ref()).into_array();
    // A tensor of no values (the pre-encoder bias of a model without one) has nothing to change.
    if let Some(i) = pairs.iter().position(|(before, after)| !after.is_empty() && before == after) {
        let name = TENSOR_NAMES.into_array()[i];
        let why = match name == TENSOR_NAMES.log_threshold {
            true => "no pre-activation came within half the kernel's width of its threshold: a wider `bandwidth`?",
            false => "no latent ever fired, or a learning rate or update too small for float32?",
        };
        return Err(format!("trained nothing: {name} never changed from its initial values ({why})"));
    }
    match val_mse {
        Some(mse) if mse >= untrained.val_mse => Err(format!(
            "diverged: the validation MSE ended at {}, not below the untrained model's {} (a learning rate too \
             large?)",
            short_number(mse),
            short_number(untrained.val_mse)
        )),
        _ => Ok(()),
    }
}

/// Scores a trained model on the test split and with the linear probe.
fn score(spec: &RunSpec, data: &RunData, trained: Trained) -> Result<Scored, String> {
    let Trained { model, state, samples_per_epoch } = trained;
    let (test, input) = (&data.splits.test, &data.test_input);
    let set = EvalSet { input: &input.pixels, clean: &test.pixels, rows: test.rows, cols: test.cols };
    let metrics = evaluate(&model, set, &spec.config.sparsity_config(), Quality::Score);
    let scores = [
        ("mse", Some(metrics.mse)),
        ("rho_hat_mean", Some(metrics.rho_hat_mean)),
        ("active_per_image", Some(metrics.active_per_image)),
        ("dead_latents", metrics.dead_latents),
        ("dense_latents", metrics.dense_latents),
        ("psnr_db", metrics.psnr_db),
        ("ssim", metrics.ssim),
        ("kl", metrics.kl),
        ("fvu", metrics.fvu),
        ("l0", metrics.l0),
    ];
    let bad: Vec<&str> = scores.iter().filter(|(_, v)| v.is_some_and(|v| !v.is_finite())).map(|(k, _)| *k).collect();
    if !bad.is_empty() {
        return Err(format!("the test metrics {} are NaN or infinite", bad.join(", ")));
    }
    if metrics.l0 == Some(0.0) {
        return Err("trained nothing: the code is empty on every test image, every latent dead (a penalty weight \
                    too large, or thresholds above every pre-activation?)"
            .into());
    }
    let (ladder, _) = ladder(&DEFAULT_LADDER, model.config.hidden);
    let frontier = progressive_evaluation(&model, set, &ladder).map_err(|e| format!("frontier: {e}"))?;
    let alpha = spec.config.probe.alpha.map(|a| a.0);
    let probed = SparseAutoencoder { top_k: model.top_k.map(|k| k * alpha.unwrap_or(1)), ..model.clone() };
    let accuracy = probe_accuracy(data, &spec.config, model.config.hidden, |x, n| probed.encode(x, n))
        .map_err(|e| format!("probe: {e}"))?;
    Ok(Scored { model, state, metrics, frontier, accuracy, samples_per_epoch })
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "unknown panic".into())
}

/// Whether every value of every tensor is finite.
fn finite(params: &Params<Vec<f32>>) -> bool {
    params.as_ref().into_array().iter().all(|t| t.iter().all(|v| v.is_finite()))
}

/// Asks the allocator, without aborting, for the memory a run of `model`
/// with batches of `batch` images needs (parameters, gradients and Adam's
/// two moments; the batch's activations and their gradients), so that a run
/// the system cannot hold is recorded as failed instead of aborting the
/// sweep when a buffer is allocated.
fn reserve_memory(model: ModelConfig, batch: usize) -> Result<(), String> {
    let (d, h) = (model.input, model.hidden);
    let floats = (|| {
        let params = d.checked_mul(h)?.checked_mul(2)?.checked_add(d + h)?;
        let activations = batch.checked_mul(d.checked_add(h)?.checked_mul(3)?)?;
        params.checked_mul(4)?.checked_add(activations)?.checked_mul(4)
    })();
    let refused = || format!("out of memory: a width-{h} model with batches of {batch} images does not fit");
    let bytes = floats.ok_or_else(refused)?;
    Vec::<u8>::new().try_reserve_exact(bytes).map_err(|_| refused())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_the_system_refuses_is_an_error_not_an_abort() {
        assert!(reserve_memory(ModelConfig::new(784, 256), 50).is_ok());
        let err = reserve_memory(ModelConfig::new(784, usize::MAX / 8), 50).unwrap_err();
        assert!(err.starts_with("out of memory: a width-"), "{err}");
        // Representable but far beyond any machine's address space (2^60 bytes).
        assert!(reserve_memory(ModelConfig::new(784, 1 << 30), 1 << 26).is_err());
    }
}
