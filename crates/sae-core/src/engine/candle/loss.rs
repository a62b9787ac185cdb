//! The loss from candle ops, for autograd: the reconstruction MSE
//! (candle-nn's `loss::mse`) plus each mechanism's penalty (KL, L1; TopK,
//! BatchTopK and none add none, but AuxK's loss, `auxk.rs`; JumpReLU's and
//! Gated's come with their code, `code_path.rs`), each a small
//! function of the code and the reconstruction. candle-nn has no KL
//! divergence between Bernoulli means nor an L1 penalty, so those two are
//! written here.

use candle_core::Tensor;

use crate::{KlReduction, SparsityConfig};

/// The parts of a batch's loss, as scalar tensors on the model's device.
pub struct CandleLoss {
    /// `mse + strength · penalty`, the value differentiated.
    pub total: Tensor,
    /// Per-pixel mean squared error against the clean target.
    pub mse: Tensor,
    /// The unweighted penalty term (absent for TopK and none).
    pub penalty: Option<Tensor>,
}

/// The mean (or sum) over units of `KL(ρ‖ρ̂_j)`, `ρ̂_j` the batch mean of
/// unit j, written `ρ ln ρ + (1−ρ) ln(1−ρ) − ρ ln ρ̂ − (1−ρ) ln(1−ρ̂)` so
/// that autograd differentiates two logarithms.
pub fn kl(code: &Tensor, rho: f64, reduction: KlReduction) -> candle_core::Result<Tensor> {
    let rho_hat = code.mean(0)?;
    let neg_entropy = rho * rho.ln() + (1.0 - rho) * (1.0 - rho).ln();
    let cross = ((rho_hat.log()? * rho)? + (rho_hat.affine(-1.0, 1.0)?.log()? * (1.0 - rho))?)?;
    let per_unit = cross.affine(-1.0, neg_entropy)?;
    match reduction {
        KlReduction::Mean => per_unit.mean_all(),
        KlReduction::Sum => per_unit.sum_all(),
    }
}

/// The loss of a batch whose code is `code` (`[B, H]`) and reconstruction
/// `recon` (`[B, D]`), against clean `target` (`[B, D]`); `code_penalty`
/// is JumpReLU's or Gated's penalty, which the forward pass computes with
/// their code.
pub fn loss(
    code: &Tensor,
    recon: &Tensor,
    target: &Tensor,
    sparsity: &SparsityConfig,
    code_penalty: Option<Tensor>,
) -> candle_core::Result<CandleLoss> {
    // The mean over batch and pixels of `(recon − target)²`.
    let mse = candle_nn::loss::mse(recon, target)?;
    let penalty = match *sparsity {
        SparsityConfig::Kl { rho, reduction, .. } => Some(kl(code, rho, reduction)?),
        // The mean over images of each code's L1 norm (the code is ≥ 0).
        SparsityConfig::L1 { .. } => Some(code.sum(1)?.mean_all()?),
        SparsityConfig::JumpRelu { .. } | SparsityConfig::Gated { .. } => code_penalty,
        SparsityConfig::Topk { .. } | SparsityConfig::BatchTopk { .. } | SparsityConfig::None => None,
    };
    let total = match &penalty {
        Some(p) => (&mse + (p * sparsity.strength())?)?,
        None => mse.clone(),
    };
    Ok(CandleLoss { total, mse, penalty })
}
