//! The candle engine: the model from candle-nn layers, the loss from
//! candle ops, gradients from candle's autograd and Adam as PyTorch
//! computes it, on whatever device candle opens. On the CPU it is slower
//! than the fast engine and serves as its independent check; on a GPU it
//! is the engine that runs.

mod adam;
mod atoms;
mod auxk;
mod code_path;
mod loss;
mod model;
mod tied;

use std::borrow::Cow;

use candle_core::{Device, Tensor, Var};

use crate::engine::{Engine, LossParts};
use crate::topk::{min_positive, update_threshold};
use crate::{
    CoreError, KSchedule, Params, Precision, SparseAutoencoder, SparsityConfig, StateSettings, TrainConfig, TrainState,
};

use adam::TorchAdam;
use auxk::{aux_loss, DeadLatents};
use code_path::gated_aux as gated_aux_loss;
use loss::loss;
use model::CandleAutoencoder;

/// A candle model with its optimiser, on one device.
pub struct CandleTrainer {
    model: CandleAutoencoder,
    vars: Params<Var>,
    adam: TorchAdam,
    sparsity: SparsityConfig,
    device: Device,
    input_dim: usize,
    /// TopK's or BatchTopK's k schedule, if any.
    k_schedule: Option<KSchedule>,
    /// AuxK's record of when each latent last fired.
    latents: DeadLatents,
    /// BatchTopK's threshold, kept on the host.
    threshold: Option<f32>,
    batch_size: usize,
    epochs_done: usize,
}

impl CandleTrainer {
    /// Prepares to train a copy of `model` on `device`.
    ///
    /// # Errors
    /// [`CoreError::Config`] when the model, mechanism and batch size cannot
    /// train together ([`crate::validate`]); [`CoreError::Bf16NeedsFastEngine`]
    /// for `precision = "bf16"`; a candle error while moving the model to
    /// the device.
    pub fn new(
        model: &SparseAutoencoder,
        config: &TrainConfig,
        sparsity: SparsityConfig,
        device: &Device,
    ) -> Result<Self, CoreError> {
        crate::validate(&model.config, &sparsity, config)?;
        if config.precision != Precision::F32 {
            return Err(CoreError::Bf16NeedsFastEngine);
        }
        let candle_model = CandleAutoencoder::new(model, device)?;
        let vars = candle_model.vars();
        let adam = TorchAdam::new(&vars, config.lr, config.weight_decay)?;
        Ok(Self {
            model: candle_model,
            vars,
            adam,
            sparsity,
            device: device.clone(),
            input_dim: model.config.input,
            k_schedule: config.k_schedule,
            latents: DeadLatents::new(model.config.hidden),
            threshold: model.threshold,
            batch_size: config.batch_size,
            epochs_done: 0,
        })
    }

    /// Takes up training from `state` on `device` (see
    /// [`crate::resume_engine`]).
    ///
    /// # Errors
    /// [`CoreError::State`] when the state was trained with other settings
    /// than `config` and `sparsity`, or for more than `config.epochs`
    /// epochs; a candle error while moving the state to the device.
    pub fn resume(
        state: TrainState,
        config: &TrainConfig,
        sparsity: SparsityConfig,
        device: &Device,
    ) -> Result<Self, CoreError> {
        state
            .check(&StateSettings::new(state.model.config, config, sparsity), config.epochs)
            .map_err(CoreError::State)?;
        let mut trainer = Self::new(&state.model, config, sparsity, device)?;
        trainer.adam.restore(&trainer.vars, &state.moments, state.adam_steps)?;
        if let Some(since) = state.since_fired {
            trainer.latents = DeadLatents::resume(since);
        }
        trainer.epochs_done = state.epochs_done;
        Ok(trainer)
    }
}

impl Engine for CandleTrainer {
    fn step(&mut self, input: &[f32], target: &[f32]) -> Result<LossParts, CoreError> {
        let shape = (input.len() / self.input_dim, self.input_dim);
        let x = Tensor::from_slice(input, shape, &self.device)?;
        let t = Tensor::from_slice(target, shape, &self.device)?;
        let sparsity = KSchedule::sparsity_in_epoch(self.k_schedule, self.sparsity, self.epochs_done);
        let pass = self.model.forward(&x, &sparsity)?;
        let (dense, code, recon) = (&pass.dense, &pass.code, &pass.recon);
        let mut loss = loss(code, recon, &t, &sparsity, pass.code_penalty)?;
        let mut gated_aux = 0.0;
        if let Some(gate) = &pass.gate {
            let aux = gated_aux_loss(gate, self.model.decoder_weight(), self.model.decoder_bias(), &t)?;
            gated_aux = f64::from(aux.to_scalar::<f32>()?);
            loss.total = (&loss.total + aux)?;
        }
        if self.sparsity.batch_top_k().is_some() {
            let kept_min = min_positive(&code.flatten_all()?.to_vec1::<f32>()?);
            self.threshold = Some(update_threshold(self.threshold, kept_min));
        }
        if let Some(config) = self.sparsity.aux() {
            self.latents.track(code)?;
            let dec_w = self.model.decoder_weight();
            if let Some(aux) = aux_loss(dense, recon, &t, dec_w, &self.latents, &config)? {
                loss.total = (&loss.total + (&aux * config.aux_weight)?)?;
                loss.penalty = Some(aux);
            }
        }
        let mut grads = loss.total.backward()?;
        let config = self.model.config();
        if config.tie_weights {
            tied::fold_encoder_gradient(&mut grads, &self.vars.enc_w, &self.vars.dec_w)?;
        }
        if config.unit_atoms {
            atoms::remove_parallel_gradient(&mut grads, &self.vars.dec_w)?;
        }
        self.adam.step(&self.vars, &grads)?;
        if config.unit_atoms {
            atoms::normalise_atoms(&self.vars.dec_w)?;
        }
        if config.tie_weights {
            tied::tie(&self.vars.enc_w, &self.vars.dec_w)?;
        }
        let mse = f64::from(loss.mse.to_scalar::<f32>()?);
        let penalty = match &loss.penalty {
            Some(p) => f64::from(p.to_scalar::<f32>()?),
            None => 0.0,
        };
        Ok(LossParts { mse, penalty, total: mse + self.sparsity.strength() * penalty + gated_aux })
    }

    fn model(&self) -> Result<Cow<'_, SparseAutoencoder>, CoreError> {
        Ok(Cow::Owned(self.model.to_model(self.threshold, &self.sparsity)?))
    }

    fn optimiser_finite(&self) -> Result<bool, CoreError> {
        self.adam.is_finite()
    }

    fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    fn end_epoch(&mut self) {
        self.epochs_done += 1;
    }

    fn state(&self) -> Result<TrainState, CoreError> {
        let model = self.model.to_model(self.threshold, &self.sparsity)?;
        let (moments, adam_steps) = self.adam.export()?;
        let (lr, weight_decay) = self.adam.settings();
        Ok(TrainState {
            settings: StateSettings {
                model: model.config,
                sparsity: self.sparsity,
                batch_size: self.batch_size,
                lr,
                weight_decay,
                precision: Precision::F32,
                k_schedule: self.k_schedule,
            },
            model,
            moments,
            adam_steps,
            since_fired: self.sparsity.aux().map(|_| self.latents.since_fired().to_vec()),
            epochs_done: self.epochs_done,
        })
    }
}
