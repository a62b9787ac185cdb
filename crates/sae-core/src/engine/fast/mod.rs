//! The fast engine: the hand-written CPU engine, a model with its Adam
//! state and reused step buffers, trained by an explicit backward pass
//! (`gradients.rs`) over `gemm` products or, for a sparse enough code, over
//! its non-zero entries (`sparse.rs`), or with bf16 operands on AMX
//! (`bf16/`), with AuxK's path in `auxk.rs` and JumpReLU's and Gated's
//! in `code_path.rs`.

mod auxk;
pub(crate) mod bf16;
mod code_path;
pub(crate) mod gradients;
mod pre_bias;
mod products;
mod sparse;

use std::borrow::Cow;

use crate::adam::{Adam, AdamState};
use crate::atoms::{remove_parallel_gradient, renormalise_atoms};
use crate::engine::{Engine, LossParts};
use crate::matmul::Threads;
use crate::tied::{fold_encoder_gradient, transpose_into};
use crate::topk::update_threshold;
use crate::{
    CoreError, KSchedule, Params, Precision, SparseAutoencoder, SparsityConfig, StateSettings, TrainConfig, TrainState,
};

use bf16::{check_bf16, CpuFeatures};
use gradients::Workspace;

/// The fast engine: a model with its optimiser state and step buffers.
#[derive(Debug, Clone)]
pub struct Trainer {
    /// The model being trained.
    pub model: SparseAutoencoder,
    /// The sparsity penalty.
    pub sparsity: SparsityConfig,
    adam: Adam,
    states: Params<AdamState>,
    workspace: Workspace,
    threads: Threads,
    k_schedule: Option<KSchedule>,
    epochs_done: usize,
}

impl Trainer {
    /// Prepares to train `model` with batches of `config.batch_size`.
    /// [`crate::validate`] says whether the three can train together, and
    /// [`crate::check_bf16`] whether this machine runs `precision = "bf16"`
    /// ([`crate::train`] and [`crate::build_engine`] check both).
    ///
    /// # Panics
    /// For bf16 on a machine without the instructions.
    pub fn new(model: SparseAutoencoder, config: &TrainConfig, sparsity: SparsityConfig) -> Self {
        let states = Params::shapes(model.config).sizes().map(AdamState::new);
        let workspace = Workspace::with_precision(model.config, config.batch_size, config.precision);
        Self {
            workspace: workspace.unwrap_or_else(|e| panic!("{e}")),
            adam: Adam::new(config.lr, config.weight_decay),
            threads: Threads(config.threads.max(1)),
            k_schedule: config.k_schedule,
            model: model.with_mechanism(&sparsity),
            sparsity,
            states,
            epochs_done: 0,
        }
    }

    /// Takes up training from `state` with batches of `config.batch_size`:
    /// the next step is the one that followed the state's last.
    ///
    /// # Errors
    /// [`CoreError::State`] when the state was trained with other settings
    /// than `config` and `sparsity`, or for more than `config.epochs` epochs.
    pub fn resume(state: TrainState, config: &TrainConfig, sparsity: SparsityConfig) -> Result<Self, CoreError> {
        state
            .check(&StateSettings::new(state.model.config, config, sparsity), config.epochs)
            .map_err(CoreError::State)?;
        let mut trainer = Self::new(state.model, config, sparsity);
        trainer.adam = Adam::after(config.lr, config.weight_decay, state.adam_steps);
        trainer.states = state.moments;
        if let Some(since) = state.since_fired {
            trainer.workspace.resume_since_fired(trainer.model.config.input, since);
        }
        trainer.epochs_done = state.epochs_done;
        Ok(trainer)
    }

    /// The state to continue from (see [`TrainState`]).
    pub fn state(&self) -> TrainState {
        TrainState {
            model: self.model.clone(),
            moments: self.states.clone(),
            adam_steps: self.adam.steps(),
            since_fired: self.workspace.since_fired().map(<[u64]>::to_vec),
            epochs_done: self.epochs_done,
            settings: StateSettings {
                model: self.model.config,
                sparsity: self.sparsity,
                batch_size: self.workspace.batch(),
                lr: self.adam.lr,
                weight_decay: self.adam.weight_decay,
                precision: self.workspace.precision(),
                k_schedule: self.k_schedule,
            },
        }
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.epochs_done
    }

    /// Records that an epoch ended.
    pub fn end_epoch(&mut self) {
        self.epochs_done += 1;
    }

    /// One Adam step on a batch; returns the batch's loss before the step.
    /// TopK's k follows its schedule, if any; BatchTopK's threshold moves
    /// towards the smallest activation the batch kept; with unit-norm atoms
    /// the decoder's gradient loses its component along each atom before
    /// the step and the atoms are rescaled to unit norm after it; tied, the
    /// decoder learns from both layers' gradients and the encoder becomes
    /// its transpose.
    pub fn step(&mut self, input: &[f32], target: &[f32]) -> LossParts {
        let sparsity = KSchedule::sparsity_in_epoch(self.k_schedule, self.sparsity, self.epochs_done);
        let loss = self.workspace.loss_and_gradients(&self.model, input, target, &sparsity, self.threads);
        if let Some(kept_min) = self.workspace.kept_min() {
            self.model.threshold = Some(update_threshold(self.model.threshold, kept_min));
        }
        let config = self.model.config;
        let (d, h, grads) = (config.input, config.hidden, &mut self.workspace.grads);
        if config.tie_weights {
            fold_encoder_gradient(&grads.enc_w, &mut grads.dec_w, d, h);
        }
        if config.unit_atoms {
            remove_parallel_gradient(&self.model.params.dec_w, &mut grads.dec_w, h);
        }
        self.adam.begin_step();
        let tensors = self.model.params.as_mut().zip(self.workspace.grads.as_ref()).zip(self.states.as_mut());
        // Tied, the encoder is no parameter of its own: it is rewritten below.
        let trained = tensors.into_array().into_iter().skip(usize::from(config.tie_weights));
        for ((param, grad), state) in trained {
            self.adam.update(param, grad, state);
        }
        if config.unit_atoms {
            renormalise_atoms(&mut self.model.params.dec_w, h);
        }
        if config.tie_weights {
            transpose_into(&self.model.params.dec_w, &mut self.model.params.enc_w, d, h);
        }
        loss
    }

    /// Whether Adam's moments are finite for every tensor.
    pub fn optimiser_finite(&self) -> bool {
        self.states.as_ref().into_array().iter().all(|s| s.is_finite())
    }
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
