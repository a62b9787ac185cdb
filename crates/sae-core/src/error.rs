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
    #[error("{key}: {message}")]
    Config {
        /// The setting at fault, as files spell it (`[sparsity] aux_k`).
        key: &'static str,
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
    #[error("[training] device = \"{device}\": this build of sae-lab has no CUDA support (the `cuda` feature is off)")]
    CudaNotBuilt {
        /// The device setting, e.g. `cuda:0`.
        device: String,
    },
    /// A device could not be opened.
    #[error("[training] device = \"{device}\" cannot be used: {message}")]
    Device {
        /// The device setting, e.g. `cuda:0`.
        device: String,
        /// candle's reason.
        message: String,
    },
    /// `precision = "bf16"` on a CPU (or system) without the instructions.
    #[error(
        "[training] precision = \"bf16\" needs AVX-512-BF16 and AMX-BF16 (Intel Xeon of the 4th generation, \
         Sapphire Rapids, or later); this machine lacks {missing}: use precision = \"f32\""
    )]
    Bf16Unsupported {
        /// What is missing.
        missing: &'static str,
    },
    /// `precision = "bf16"` asked of the candle engine.
    #[error(
        "[training] precision = \"bf16\" needs the fast engine (engine = \"fast\", device = \"cpu\"): the candle \
         engine trains in f32 only"
    )]
    Bf16NeedsFastEngine,
    /// candle's CPU thread count was already fixed to another value in this
    /// process.
    #[error("candle's CPU threads are already set to {set} in this process; threads = {asked} cannot apply")]
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
