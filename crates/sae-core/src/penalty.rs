//! The sparsity penalties as functions of the units' mean activations ρ̂:
//! both KL and L1 depend on the code only through ρ̂, so one value and one
//! per-unit gradient describe each.

use crate::kl::{kl_bernoulli_grad, kl_sparsity};
use crate::{KlReduction, SparsityConfig};

impl SparsityConfig {
    /// The unweighted penalty term of a code whose units have mean
    /// activations `rho_hat`: the mean (or sum) over units of the true
    /// KL(ρ‖ρ̂_j) for KL, `Σ_j ρ̂_j` (the mean over images of the code's L1
    /// norm) for L1, and zero for TopK, BatchTopK and none (whose AuxK
    /// loss, when they have one, the training step computes) and for
    /// JumpReLU and Gated (whose penalties, on the code's L0 norm and on the
    /// gate, the training step computes).
    pub fn penalty(&self, rho_hat: &[f32]) -> f64 {
        match *self {
            Self::Kl { rho, reduction, .. } => kl_sparsity(rho, rho_hat, reduction),
            Self::L1 { .. } => rho_hat.iter().map(|&r| r as f64).sum(),
            Self::Topk { .. } | Self::BatchTopk { .. } | Self::JumpRelu { .. } | Self::Gated { .. } | Self::None => 0.0,
        }
    }

    /// The weight of the penalty term in the loss: β for KL, the weight for
    /// L1, `aux_weight` for TopK and BatchTopK with AuxK (whose penalty term
    /// is the AuxK loss), λ for JumpReLU and Gated, 0 otherwise.
    pub fn strength(&self) -> f64 {
        match *self {
            Self::Kl { beta, .. } => beta,
            Self::L1 { weight } | Self::JumpRelu { weight, .. } | Self::Gated { weight } => weight,
            Self::Topk { aux, .. } | Self::BatchTopk { aux, .. } => aux.map_or(0.0, |a| a.aux_weight),
            Self::None => 0.0,
        }
    }

    /// Writes into `out[j]` the derivative of the weighted penalty with
    /// respect to one activation `h_bj` of a batch of `batch` images, which
    /// depends on the unit only: `strength · (∂penalty/∂ρ̂_j) / batch` (0
    /// for JumpReLU, whose L0 norm reaches the thresholds only, and Gated,
    /// whose penalty is on the gate).
    pub fn code_gradient(&self, rho_hat: &[f32], batch: usize, out: &mut [f32]) {
        let per_image = 1.0 / batch as f64;
        match *self {
            Self::Kl { rho, beta, reduction } => {
                let w = match reduction {
                    KlReduction::Mean => beta / rho_hat.len() as f64,
                    KlReduction::Sum => beta,
                };
                for (g, &r) in out.iter_mut().zip(rho_hat) {
                    *g = (w * kl_bernoulli_grad(rho, r as f64) * per_image) as f32;
                }
            }
            Self::L1 { weight } => out.fill((weight * per_image) as f32),
            Self::Topk { .. } | Self::BatchTopk { .. } | Self::JumpRelu { .. } | Self::Gated { .. } | Self::None => {
                out.fill(0.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_penalty_is_the_sum_of_mean_activations_and_its_gradient_is_flat() {
        let l1 = SparsityConfig::L1 { weight: 0.5 };
        assert!((l1.penalty(&[0.25, 0.5, 0.125]) - 0.875).abs() < 1e-12);
        let mut g = [0.0f32; 3];
        l1.code_gradient(&[0.25, 0.5, 0.125], 10, &mut g);
        assert_eq!(g, [0.05; 3]);
    }

    #[test]
    fn topk_and_none_add_nothing() {
        let s = SparsityConfig::Topk { k: 2, aux: Some(crate::AuxK::new(3)) };
        assert_eq!((s.penalty(&[0.3]), s.strength()), (0.0, 1.0 / 32.0), "AuxK's loss is the step's to compute");
        for s in [
            SparsityConfig::Topk { k: 2, aux: None },
            SparsityConfig::BatchTopk { k: 2, aux: None },
            SparsityConfig::None,
        ] {
            let mut g = [1.0f32; 2];
            s.code_gradient(&[0.3, 0.7], 4, &mut g);
            assert_eq!((s.penalty(&[0.3, 0.7]), s.strength(), g), (0.0, 0.0, [0.0; 2]));
        }
    }
}
