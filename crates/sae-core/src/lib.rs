//! The sparse autoencoder of sae-lab: a sigmoid (or ReLU) encoder and a
//! tanh decoder trained with Adam on MSE plus a sparsity mechanism (a
//! KL(ρ‖ρ̂) or L1 penalty, a TopK or BatchTopK selection with an optional
//! AuxK loss, JumpReLU's learned thresholds or Gated's gate, or none), its
//! evaluation metrics, the linear probe that
//! scores its features, and the pictures' raw material (thresholded
//! reconstructions, decoder atoms).
//!
//! Two engines train it behind one interface ([`Engine`]): the fast engine,
//! an explicit, gradient-checked backward pass over reused buffers with
//! direct `gemm` calls (the CPU default), and the candle engine, candle-nn
//! layers with candle's autograd, which runs on any device candle opens
//! (CUDA with the `cuda` feature) and checks the fast one. Checkpoints are
//! safetensors files named as the reference's PyTorch `state_dict`.
//!
//! Where each part lives:
//!
//! - **The model**: [`SparseAutoencoder`] (`model.rs`, its nonlinearities
//!   in `activation.rs`), its [`Params`] (`params.rs`), its settings
//!   (`config.rs`, checked together by [`validate`] in `validate.rs`) and
//!   checkpoints (`checkpoint.rs`), which name the run that wrote them
//!   ([`RunIdentity`], `identity.rs`).
//! - **Sparsity**: the penalties (`penalty.rs`, KL in `kl.rs`), JumpReLU's
//!   and Gated's codes (`jumprelu.rs`, `gated.rs`; their backward passes in
//!   each engine's `code_path.rs`), TopK and
//!   BatchTopK selection (`topk.rs`) and AuxK (each engine's `auxk.rs`).
//! - **Training**: `engine/`, with the [`Engine`] both engines implement,
//!   the [`LossParts`] they report and the choice between them
//!   ([`EngineKind`], [`build_engine`], `engine/choice.rs`); the loop over
//!   epochs ([`train`], `train.rs`), and the [`TrainState`] a run continues
//!   from (`state.rs`), with [`Adam`]'s moments (`adam.rs`).
//! - **The fast engine** (`engine/fast/`): [`Trainer`], the loss and its
//!   gradient (`gradients.rs`) over `gemm` products (`matmul.rs`, shared
//!   with inference) or, for a sparse enough code, products over its
//!   non-zero entries (`sparse.rs`), or with bf16 operands on AMX
//!   ([`Bf16Gemm`], `bf16/`, for [`Precision::Bf16`]).
//! - **The candle engine** (`engine/candle/`): [`CandleTrainer`], on a
//!   [`DeviceSpec`] (`device.rs`).
//! - **Scoring**: [`evaluate`] and its metrics (`metrics.rs`, SSIM in
//!   `ssim.rs`), and the [`LinearProbe`] (`probe.rs`, fitted by L-BFGS in
//!   `lbfgs.rs`); progressive evaluation at exact L0 ([`progressive_evaluation`],
//!   `frontier.rs`) and dead and dense latents ([`code_statistics`], counted by
//!   [`evaluate`] too; `latents.rs`).

mod activation;
mod adam;
mod architecture;
mod atoms;
mod checkpoint;
mod config;
mod device;
mod engine;
mod error;
mod frontier;
mod gated;
mod identity;
mod jumprelu;
mod kl;
mod latents;
mod lbfgs;
mod matmul;
mod metrics;
mod model;
mod params;
mod penalty;
mod probe;
mod schedule;
mod ssim;
mod state;
mod tied;
mod topk;
mod train;
mod validate;

pub use error::{CoreError, Setting};
pub use identity::RunIdentity;

// The model.
pub use architecture::Architecture;
pub use config::{Activation, AuxK, Init, KlReduction, ModelConfig, Precision, SparsityConfig, TrainConfig};
pub use model::{Forward, SparseAutoencoder};
pub use params::{Params, TENSOR_NAMES};
pub use schedule::KSchedule;
pub use validate::validate;

// Sparsity.
pub use kl::kl_sparsity;
pub use topk::keep_top_k;

// The fast engine.
pub use engine::fast::bf16::{check_bf16, Bf16Gemm, CpuFeatures};
pub use engine::fast::gradients::Workspace;
pub use engine::fast::Trainer;
pub use matmul::{matmul, MatRef, Threads};

// The candle engine.
pub use device::{limit_candle_cpu_threads, DeviceSpec};
pub use engine::candle::CandleTrainer;

// Training.
pub use adam::{Adam, AdamState};
pub use engine::choice::{build_engine, check_engine_precision, resume_engine};
pub use engine::{Engine, EngineKind, LossParts};
pub use state::{StateSettings, TrainState};
pub use train::{train, train_with, CurvePoint};

// Scoring.
pub use frontier::{fvu, ladder, progressive_evaluation, FrontierPoint, DEFAULT_LADDER};
pub use latents::{code_statistics, LatentStats};
pub use metrics::{evaluate, image_quality, to_unit, EvalSet, ImageQuality, Metrics, Quality};
pub use probe::{LinearProbe, ProbeConfig};
pub use ssim::ssim;
