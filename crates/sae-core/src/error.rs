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
    /// A tensor is missing from a state dict or has the wrong shape.
    #[error("state dict: {0}")]
    StateDict(String),
    /// candle reported an error.
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
}
