//! Training, one engine or the other: the step interface both engines
//! implement ([`Engine`]), the parts of a batch's loss they report
//! ([`LossParts`]) and the choice between them ([`EngineKind`], made by
//! [`crate::build_engine`] and [`crate::resume_engine`] in `choice.rs`): the hand-written
//! fast engine (`fast/`, the CPU default) and the candle engine (`candle/`,
//! any device; on the CPU, for comparison). Neither engine uses the other.

pub(crate) mod candle;
pub(crate) mod choice;
pub(crate) mod fast;

use std::borrow::Cow;

use crate::{CoreError, DeviceSpec, SparseAutoencoder, TrainState};

/// The parts of a batch's loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParts {
    /// Per-pixel mean squared error against the clean target.
    pub mse: f64,
    /// The unweighted penalty term ([`crate::SparsityConfig::penalty`]; for TopK
    /// and BatchTopK with AuxK, the AuxK loss).
    pub penalty: f64,
    /// `mse + strength · penalty`, the value minimised.
    pub total: f64,
}

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
    /// ([`crate::resume_engine`]); meant to be taken between epochs.
    ///
    /// # Errors
    /// A failed copy from the device.
    fn state(&self) -> Result<TrainState, CoreError>;
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
