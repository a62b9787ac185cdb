//! The settings of a model, its sparsity penalty and its training, as plain
//! serialisable data.

/// The shape of the autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
}

/// How the per-unit KL divergences are combined into the sparsity term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KlReduction {
    /// The mean over hidden units (the reference).
    #[default]
    Mean,
    /// The sum over hidden units (the classic UFLDL formulation).
    Sum,
}

/// The sparsity penalty `β · reduce_j KL(ρ‖ρ̂_j)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SparsityConfig {
    /// Target mean activation ρ, in (0, 1).
    pub rho: f64,
    /// Penalty weight β ≥ 0.
    pub beta: f64,
    /// Mean or sum over hidden units.
    #[serde(default)]
    pub reduction: KlReduction,
}

/// Optimisation settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per step.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// L2 weight decay added to the gradient, as PyTorch's `Adam` does.
    pub weight_decay: f64,
    /// Seeds the initial weights (and, outside this crate, the data order
    /// and noise).
    pub seed: u64,
    /// Threads for the matrix products of one run.
    pub threads: usize,
}

impl TrainConfig {
    /// The reference protocol: 50 epochs, batch 50, Adam lr 1e-4, no decay.
    pub fn reference() -> Self {
        Self { epochs: 50, batch_size: 50, lr: 1e-4, weight_decay: 0.0, seed: 0, threads: 1 }
    }
}
