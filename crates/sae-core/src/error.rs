//! The errors of sae-core.

/// What can go wrong in training or in moving parameters in and out.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The loss became NaN or infinite.
    #[error("diverged: loss {loss} at epoch {epoch}, batch {batch}")]
    Diverged {
        /// Epoch, from 1.
        epoch: usize,
        /// Batch within the epoch, from 0.
        batch: usize,
        /// The loss value.
        loss: f64,
    },
    /// A model, mechanism and batch size that cannot train together, or an
    /// evaluation setting out of range.
    #[error("{setting}: {message}")]
    Config {
        /// The setting at fault.
        setting: Setting,
        /// What was found and what was expected.
        message: String,
    },
    /// A tensor is missing from a state dict or has the wrong shape.
    #[error("state dict: {0}")]
    StateDict(String),
    /// A training state cannot continue with the settings asked for.
    #[error("training state: {0}")]
    State(String),
    /// A checkpoint file could not be written or read back.
    #[error("{path}: {message}")]
    Checkpoint {
        /// The file concerned.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A CUDA device was asked of a build without the `cuda` feature.
    #[error("device {device}: this build of sae-lab has no CUDA support (the `cuda` feature is off)")]
    CudaNotBuilt {
        /// The device setting, e.g. `cuda:0`.
        device: String,
    },
    /// A device could not be opened.
    #[error("device {device} cannot be opened")]
    Device {
        /// The device setting, e.g. `cuda:0`.
        device: String,
        /// candle's reason (boxed: candle's errors are large).
        #[source]
        source: Box<candle_core::Error>,
    },
    /// `precision = "bf16"` on a CPU (or system) without the instructions.
    #[error(
        "bf16 precision needs AVX-512-BF16 and AMX-BF16 (Intel Xeon of the 4th generation, Sapphire Rapids, or \
         later); this machine lacks {missing}"
    )]
    Bf16Unsupported {
        /// What is missing.
        missing: &'static str,
    },
    /// `precision = "bf16"` asked of the candle engine.
    #[error("bf16 precision needs the fast engine on the CPU: the candle engine trains in f32 only")]
    Bf16NeedsFastEngine,
    /// candle's CPU thread count was already fixed to another value in this
    /// process.
    #[error("candle's CPU threads are already set to {set} in this process; {asked} threads cannot apply")]
    CandleThreads {
        /// The count in force.
        set: usize,
        /// The count asked for.
        asked: usize,
    },
    /// candle reported an error.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}

/// A setting of a model, its mechanism or its training, as sae-core's
/// types name it: what [`CoreError::Config`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// [`crate::ModelConfig::activation`].
    Activation,
    /// The units TopK or BatchTopK keeps.
    K,
    /// [`crate::AuxK::aux_k`].
    AuxK,
    /// [`crate::AuxK::aux_weight`].
    AuxWeight,
    /// [`crate::AuxK::dead_after`].
    DeadAfter,
    /// [`crate::TrainConfig::batch_size`].
    BatchSize,
    /// [`crate::TrainConfig::epochs`].
    Epochs,
    /// [`crate::ModelConfig::tie_weights`].
    TieWeights,
    /// [`crate::TrainConfig::k_schedule`].
    KSchedule,
    /// [`crate::ModelConfig::architecture`].
    Architecture,
    /// [`crate::ModelConfig::unit_atoms`].
    UnitAtoms,
    /// JumpReLU's or Gated's penalty weight λ.
    Weight,
    /// JumpReLU's kernel width ε.
    Bandwidth,
    /// JumpReLU's initial threshold.
    InitialThreshold,
    /// A `k` of [`crate::progressive_evaluation`]'s ladder.
    FrontierK,
    /// The images [`crate::progressive_evaluation`] scores.
    FrontierImages,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Activation => "activation",
            Self::K => "k",
            Self::AuxK => "AuxK aux_k",
            Self::AuxWeight => "AuxK aux_weight",
            Self::DeadAfter => "AuxK dead_after",
            Self::BatchSize => "batch size",
            Self::Epochs => "epochs",
            Self::TieWeights => "tie_weights",
            Self::KSchedule => "k_schedule",
            Self::Architecture => "architecture",
            Self::UnitAtoms => "unit_atoms",
            Self::Weight => "weight",
            Self::Bandwidth => "bandwidth",
            Self::InitialThreshold => "initial_threshold",
            Self::FrontierK => "frontier k",
            Self::FrontierImages => "frontier images",
        })
    }
}
