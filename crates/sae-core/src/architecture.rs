//! How a model computes its code from the encoder's pre-activations: the
//! standard code, JumpReLU's or Gated's.

/// How the code is computed from `x̃ = x − b_pre`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Architecture {
    /// `h = act(W₁x̃ + b₁)` (then TopK's or BatchTopK's selection, if any).
    #[default]
    Standard,
    /// JumpReLU (Rajamanoharan et al. 2024, arXiv 2407.14435):
    /// `h = z · H(z − θ)`, `z = W₁x̃ + b₁`, with a learned threshold
    /// `θ_j > 0` per latent, stored as `log θ` (the `log_threshold` tensor).
    #[serde(rename = "jumprelu")]
    JumpRelu,
    /// Gated (Rajamanoharan et al. 2024, arXiv 2404.16014): the gate
    /// `π = W₁x̃ + b₁` decides which latents fire, the magnitude
    /// `ReLU(e^{r_j} (W₁x̃)_j + b_mag,j)` how strongly; `h = H(π) ⊙ magnitude`
    /// (the `r_mag` and `b_mag` tensors).
    Gated,
}

impl Architecture {
    /// Whether this is the default (left out when serialised).
    pub fn is_standard(&self) -> bool {
        *self == Self::Standard
    }

    /// `standard`, `jumprelu` or `gated`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Standard => "standard",
            Self::JumpRelu => "jumprelu",
            Self::Gated => "gated",
        }
    }
}
