//! The settings of a model, its sparsity penalty and its training, as plain
//! serialisable data.

use crate::Architecture;

/// The shape of the autoencoder, its code's nonlinearity and how its
/// weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ModelConfig {
    /// Pixels per image (784 for MNIST).
    pub input: usize,
    /// Hidden units `H`.
    pub hidden: usize,
    /// The encoder's nonlinearity (`sigmoid`, the reference, or `relu`).
    #[serde(default, skip_serializing_if = "Activation::is_sigmoid")]
    pub activation: Activation,
    /// How the weights start (`pytorch`, the reference, or `tied`).
    #[serde(default, skip_serializing_if = "Init::is_pytorch")]
    pub init: Init,
    /// Whether a learned vector `b_pre` `[D]` is subtracted from the input
    /// before the encoder, `h = act(W₁(x − b_pre) + b₁)` (Gao et al.'s
    /// pre-encoder bias; off in the reference).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pre_bias: bool,
    /// Whether every decoder atom (a column of `W₂`) is held at unit norm
    /// in training: the gradient's component along each atom removed before
    /// each step, the atoms rescaled to norm 1 after it (off in the
    /// reference).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unit_atoms: bool,
    /// Whether the weights stay tied throughout training: one matrix, the
    /// decoder `W₂`, whose transpose is the encoder (Makhzani and Frey's
    /// k-sparse autoencoder); needs `init = Tied`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tie_weights: bool,
    /// How the code is computed from the encoder's pre-activations: the
    /// activation alone, or JumpReLU's learned thresholds, or Gated's two
    /// paths (set by the mechanism that trains the model).
    #[serde(default, skip_serializing_if = "Architecture::is_standard")]
    pub architecture: Architecture,
}

impl ModelConfig {
    /// The reference's hidden units.
    pub const REFERENCE_HIDDEN: usize = 256;

    /// A sigmoid autoencoder of `input` pixels and `hidden` units, every
    /// activation kept, initialised as PyTorch's `Linear`, without a
    /// pre-encoder bias or a norm constraint (the reference).
    pub fn new(input: usize, hidden: usize) -> Self {
        Self {
            input,
            hidden,
            activation: Activation::default(),
            init: Init::default(),
            pre_bias: false,
            unit_atoms: false,
            tie_weights: false,
            architecture: Architecture::Standard,
        }
    }
}

/// The encoder's nonlinearity: the code is `act(W₁x + b₁)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// The logistic function, values in (0, 1) (the reference; KL needs it).
    #[default]
    Sigmoid,
    /// `max(0, z)`: the code of today's L1, TopK and BatchTopK autoencoders,
    /// whose zeros are exact.
    Relu,
}

impl Activation {
    /// Whether this is the default (left out when serialised).
    pub fn is_sigmoid(&self) -> bool {
        *self == Self::Sigmoid
    }

    /// `sigmoid` or `relu`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Relu => "relu",
        }
    }

    /// The level a code entry must exceed to count as firing: 1e-3 for a
    /// sigmoid, which is never exactly 0 (OpenAI's threshold), and 0 for a
    /// ReLU.
    pub fn fires_above(self) -> f32 {
        match self {
            Self::Sigmoid => 1e-3,
            Self::Relu => 0.0,
        }
    }
}

/// How a fresh model's weights are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// PyTorch's `nn.Linear` default for both layers (the reference).
    #[default]
    Pytorch,
    /// As Gao et al. (2024) start their TopK autoencoders: the decoder's
    /// columns (atoms) drawn as PyTorch draws them, then scaled to unit
    /// norm; the encoder the decoder's transpose; both biases zero, as
    /// EleutherAI's sparsify and SAELens start theirs.
    Tied,
}

impl Init {
    /// Whether this is the default (left out when serialised).
    pub fn is_pytorch(&self) -> bool {
        *self == Self::Pytorch
    }

    /// `pytorch` or `tied`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pytorch => "pytorch",
            Self::Tied => "tied",
        }
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
    /// before the decoder (selected by pre-activation, as the activation is
    /// monotone); no penalty term but the optional AuxK loss.
    Topk {
        /// Units kept per image, 1 ≤ k ≤ H.
        k: usize,
        /// The auxiliary loss that revives dead latents, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aux: Option<AuxK>,
    },
    /// BatchTopK (Bussmann et al. 2024): the `k·B` largest activations of a
    /// batch of `B` images kept; the model learns a threshold that replaces
    /// the batch at evaluation (see `SparseAutoencoder::threshold`).
    #[serde(rename = "batchtopk")]
    BatchTopk {
        /// Mean units kept per image, 1 ≤ k ≤ H.
        k: usize,
        /// The auxiliary loss that revives dead latents, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        aux: Option<AuxK>,
    },
    /// JumpReLU (see [`Architecture::JumpRelu`]): `weight · mean_b ‖h_b‖₀`,
    /// the L0 norm's gradient reaching the thresholds through the paper's
    /// straight-through pseudo-derivatives with a rectangle kernel of
    /// width `bandwidth`.
    #[serde(rename = "jumprelu")]
    JumpRelu {
        /// λ ≥ 0, the weight of the L0 penalty.
        weight: f64,
        /// ε > 0, the kernel's width.
        bandwidth: f64,
        /// θ > 0 every latent's threshold starts at.
        initial_threshold: f64,
    },
    /// Gated (see [`Architecture::Gated`]): `weight · mean_b ‖ReLU(π_b)‖₁`
    /// plus the auxiliary reconstruction of the target from `ReLU(π)`
    /// through a frozen copy of the decoder.
    Gated {
        /// λ ≥ 0, the weight of the gate's L1 penalty.
        weight: f64,
    },
    /// A plain autoencoder.
    None,
}

impl SparsityConfig {
    /// JumpReLU's kernel width ε by default, the paper's.
    pub const JUMPRELU_BANDWIDTH: f64 = 0.001;
    /// JumpReLU's initial threshold θ by default, the paper's.
    pub const JUMPRELU_INITIAL_THRESHOLD: f64 = 0.001;

    /// The reference's penalty: KL with ρ = 0.05, β = 1, mean over units.
    pub fn reference() -> Self {
        Self::Kl { rho: 0.05, beta: 1.0, reduction: KlReduction::Mean }
    }

    /// The units kept per image, for TopK: the one place TopK's k is set
    /// (a model trained with it keeps it, [`crate::SparseAutoencoder::top_k`]).
    pub fn top_k(&self) -> Option<usize> {
        match *self {
            Self::Topk { k, .. } => Some(k),
            _ => None,
        }
    }

    /// The mean units kept per image, for BatchTopK.
    pub fn batch_top_k(&self) -> Option<usize> {
        match *self {
            Self::BatchTopk { k, .. } => Some(k),
            _ => None,
        }
    }

    /// The architecture this mechanism trains: JumpReLU's and Gated's own,
    /// the standard one for every other.
    pub fn architecture(&self) -> Architecture {
        match self {
            Self::JumpRelu { .. } => Architecture::JumpRelu,
            Self::Gated { .. } => Architecture::Gated,
            _ => Architecture::Standard,
        }
    }

    /// The AuxK loss of a TopK or BatchTopK mechanism, if it has one.
    pub fn aux(&self) -> Option<AuxK> {
        match *self {
            Self::Topk { aux, .. } | Self::BatchTopk { aux, .. } => aux,
            _ => None,
        }
    }
}

/// The auxiliary loss of Gao et al. (2024, section A.2): the residual of
/// the main reconstruction, `e = t − y`, detached from the graph, is
/// reconstructed linearly by the `aux_k` largest activations of the dead
/// latents, `ê = W₂ a` (no bias, no tanh), and
/// `aux_weight · Σ(ê − e)² / Σ(e − ē)²` is added to the loss, ē the batch's
/// mean residual: the normalised MSE of OpenAI's reference code
/// (`normalized_mse(auxk_recons, x − recons.detach())`). With no dead
/// latent the term is 0; with fewer dead latents than `aux_k`, all of them
/// reconstruct.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AuxK {
    /// Dead latents kept per image for the auxiliary reconstruction, 1 ≤ aux_k ≤ H.
    pub aux_k: usize,
    /// The weight of the auxiliary loss (1/32, Gao et al.'s α).
    #[serde(default = "AuxK::default_weight")]
    pub aux_weight: f64,
    /// Training images without firing after which a latent counts as dead.
    #[serde(default = "AuxK::default_dead_after")]
    pub dead_after: u64,
}

impl AuxK {
    /// AuxK with `aux_k` latents and the default weight and dead horizon.
    pub fn new(aux_k: usize) -> Self {
        Self { aux_k, aux_weight: Self::default_weight(), dead_after: Self::default_dead_after() }
    }

    /// 1/32, as Gao et al.
    pub fn default_weight() -> f64 {
        1.0 / 32.0
    }

    /// 10,000 images: a fifth of an MNIST epoch (200 steps of 50). Gao et
    /// al. call a latent dead after 10M tokens without firing, for codes
    /// whose average latent fires once in 10⁵–10⁶ tokens; here a latent of
    /// a k = 25, width-256 code fires on one image in ten on average, so a
    /// latent silent for 10,000 images fires at most once in 10⁴, a
    /// thousand times below the average, and AuxK starts early enough in a
    /// short run to matter.
    pub fn default_dead_after() -> u64 {
        10_000
    }
}

/// The number format of the training step's dense matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// f32 operands and sums (the default).
    #[default]
    F32,
    /// Operands rounded to bf16 (8 bits of mantissa), sums, master weights
    /// and Adam's moments in f32, as mixed-precision training does; on
    /// AMX (the fast engine on an Intel Xeon of the 4th generation or
    /// later). Evaluation stays f32.
    Bf16,
}

impl Precision {
    /// Whether this is the default (left out when serialised).
    pub fn is_f32(&self) -> bool {
        *self == Self::F32
    }

    /// `f32` or `bf16`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::Bf16 => "bf16",
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
    /// The dense products' number format (absent from older records: f32).
    #[serde(default, skip_serializing_if = "Precision::is_f32")]
    pub precision: Precision,
    /// TopK's or BatchTopK's k annealed from a larger value in the first
    /// epochs, if at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k_schedule: Option<crate::KSchedule>,
}

impl TrainConfig {
    /// The reference protocol: 50 epochs, batch 50, Adam lr 1e-4, no decay,
    /// f32.
    pub fn reference() -> Self {
        Self {
            epochs: 50,
            batch_size: 50,
            lr: 1e-4,
            weight_decay: 0.0,
            threads: 1,
            precision: Precision::F32,
            k_schedule: None,
        }
    }
}
