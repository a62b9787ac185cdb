//! The sparse autoencoder of sae-lab: a sigmoid encoder and a tanh decoder
//! trained with Adam on MSE plus a sparsity mechanism (a KL(ρ‖ρ̂) or L1
//! penalty, a TopK selection, or none), its evaluation metrics, the linear
//! probe that scores its features, and the pictures' raw material
//! (thresholded reconstructions, decoder atoms).
//!
//! Two engines train it behind one interface ([`Engine`]): the fast engine,
//! an explicit, gradient-checked backward pass over reused buffers with
//! direct `gemm` calls (the CPU default), and the candle engine, candle-nn
//! layers with candle's autograd, which runs on any device candle opens
//! (CUDA with the `cuda` feature) and checks the fast one. Checkpoints are
//! safetensors files named as the reference's PyTorch `state_dict`.

mod activation;
mod adam;
mod candle_engine;
mod checkpoint;
mod config;
mod device;
mod engine;
mod error;
mod gradients;
mod kl;
mod lbfgs;
mod matmul;
mod metrics;
mod model;
mod params;
mod penalty;
mod probe;
mod ssim;
mod topk;
mod train;

pub use adam::{Adam, AdamState};
pub use candle_engine::CandleTrainer;
pub use config::{KlReduction, ModelConfig, SparsityConfig, TrainConfig};
pub use device::{limit_candle_cpu_threads, DeviceSpec};
pub use engine::{build_engine, Engine, EngineKind};
pub use error::CoreError;
pub use gradients::{Gradients, LossParts, Workspace};
pub use kl::{kl_bernoulli, kl_bernoulli_grad, kl_sparsity};
pub use matmul::Threads;
pub use metrics::{evaluate, image_quality, to_unit, variance_sum, EvalSet, ImageQuality, Metrics, Quality};
pub use model::{Forward, SparseAutoencoder};
pub use params::{Params, TENSOR_NAMES};
pub use probe::{LinearProbe, ProbeConfig};
pub use ssim::ssim;
pub use topk::keep_top_k;
pub use train::{train, train_with, CurvePoint, Trainer};
