//! The sparse autoencoder of sae-lab: a sigmoid encoder and a tanh decoder
//! trained with Adam on MSE plus a sparsity mechanism (a KL(ρ‖ρ̂) or L1
//! penalty, a TopK selection, or none), its evaluation metrics, the linear
//! probe that scores its features, and the pictures' raw material
//! (thresholded reconstructions, decoder atoms).
//!
//! The training step is an explicit, gradient-checked backward pass over
//! reused buffers with direct `gemm` calls; candle is the tensor type at
//! the crate's edge, for checkpoints. This crate reads and writes no files.

mod activation;
mod adam;
mod config;
mod error;
mod gradients;
mod kl;
mod lbfgs;
mod matmul;
mod metrics;
mod model;
mod penalty;
mod probe;
mod ssim;
mod state_dict;
mod topk;
mod train;

pub use adam::{Adam, AdamState};
pub use config::{KlReduction, ModelConfig, SparsityConfig, TrainConfig};
pub use error::CoreError;
pub use gradients::{Gradients, LossParts, Workspace};
pub use kl::{kl_bernoulli, kl_bernoulli_grad, kl_sparsity};
pub use matmul::Threads;
pub use metrics::{evaluate, image_quality, to_unit, variance_sum, EvalSet, ImageQuality, Metrics, Quality};
pub use model::{Forward, SparseAutoencoder};
pub use probe::{LinearProbe, ProbeConfig};
pub use ssim::ssim;
pub use state_dict::TENSOR_NAMES;
pub use topk::keep_top_k;
pub use train::{train, CurvePoint, Trainer};
