//! The settings of a model, its sparsity penalty and its training, as plain
//! serialisable data.

/// The shape of the autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// Keep only the `k` largest activations of each code (TopK), if set.
    pub top_k: Option<usize>,
}

impl ModelConfig {
    /// A sigmoid autoencoder of `input` pixels and `hidden` units, every
    /// activation kept.
    pub fn new(input: usize, hidden: usize) -> Self {
        Self { input, hidden, top_k: None }
    }
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

impl KlReduction {
    /// `mean` or `sum`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Sum => "sum",
        }
    }
}

/// How the code is made sparse: a penalty added to the reconstruction
/// error (KL, L1), a hard selection in the forward pass (TopK), or nothing.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SparsityConfig {
    /// `β · reduce_j KL(ρ‖ρ̂_j)`, ρ̂_j the batch's mean activation of unit j
    /// (the reference).
    Kl {
        /// Target mean activation ρ, in (0, 1).
        rho: f64,
        /// Penalty weight β ≥ 0.
        beta: f64,
        /// Mean or sum over hidden units.
        #[serde(default)]
        reduction: KlReduction,
    },
    /// `weight · mean_b Σ_j h_bj`: the L1 norm of the (non-negative) code,
    /// averaged over the batch's images.
    L1 {
        /// Penalty weight ≥ 0.
        weight: f64,
    },
    /// The `k` largest activations of each image kept, the rest zeroed
    /// before the decoder; no penalty term.
    Topk {
        /// Units kept per image, 1 ≤ k ≤ H.
        k: usize,
    },
    /// A plain autoencoder.
    None,
}

impl SparsityConfig {
    /// The reference's penalty: KL with ρ = 0.05, β = 1, mean over units.
    pub fn reference() -> Self {
        Self::Kl { rho: 0.05, beta: 1.0, reduction: KlReduction::Mean }
    }

    /// The units kept per image, for TopK.
    pub fn top_k(&self) -> Option<usize> {
        match *self {
            Self::Topk { k } => Some(k),
            _ => None,
        }
    }
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
    /// Threads for the matrix products of one run.
    pub threads: usize,
}

impl TrainConfig {
    /// The reference protocol: 50 epochs, batch 50, Adam lr 1e-4, no decay.
    pub fn reference() -> Self {
        Self { epochs: 50, batch_size: 50, lr: 1e-4, weight_decay: 0.0, threads: 1 }
    }
}
