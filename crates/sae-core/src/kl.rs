//! The KL-divergence sparsity penalty between a target activation ρ and the
//! observed mean activations ρ̂_j of the hidden units.

use crate::KlReduction;

/// `KL(ρ‖ρ̂) = ρ log(ρ/ρ̂) + (1−ρ) log((1−ρ)/(1−ρ̂))`, the divergence of a
/// Bernoulli(ρ̂) unit from the target Bernoulli(ρ). Zero when ρ̂ = ρ,
/// positive otherwise.
fn kl_bernoulli(rho: f64, rho_hat: f64) -> f64 {
    rho * (rho / rho_hat).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - rho_hat)).ln()
}

/// `d KL(ρ‖ρ̂) / d ρ̂ = −ρ/ρ̂ + (1−ρ)/(1−ρ̂)`.
pub(crate) fn kl_bernoulli_grad(rho: f64, rho_hat: f64) -> f64 {
    -rho / rho_hat + (1.0 - rho) / (1.0 - rho_hat)
}

/// The unweighted sparsity term: the mean (or sum) over units of
/// `KL(ρ‖ρ̂_j)`. This is the true KL; the reference logs the cross-entropy
/// `−ρ log ρ̂ − (1−ρ) log(1−ρ̂)`, which exceeds it by the entropy H(ρ).
pub fn kl_sparsity(rho: f64, rho_hat: &[f32], reduction: KlReduction) -> f64 {
    let sum: f64 = rho_hat.iter().map(|&r| kl_bernoulli(rho, r as f64)).sum();
    match reduction {
        KlReduction::Mean => sum / rho_hat.len() as f64,
        KlReduction::Sum => sum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kl_is_zero_at_target_and_positive_elsewhere() {
        for rho in [0.01, 0.05, 0.3, 0.9] {
            assert!(kl_bernoulli(rho, rho).abs() < 1e-15);
            for r in [0.001, 0.02, 0.2, 0.5, 0.99] {
                if (r - rho).abs() > 1e-9 {
                    assert!(kl_bernoulli(rho, r) > 0.0, "KL({rho}‖{r})");
                }
            }
        }
    }

    #[test]
    fn kl_matches_a_hand_computed_value() {
        // KL(0.05‖0.5) = 0.05 ln 0.1 + 0.95 ln 1.9 = −0.1151293 + 0.6097612 = 0.4946319
        assert!((kl_bernoulli(0.05, 0.5) - 0.494_631_9).abs() < 1e-6);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (rho, r) in [(0.05, 0.3), (0.2, 0.01), (0.5, 0.9)] {
            let h = 1e-6;
            let fd = (kl_bernoulli(rho, r + h) - kl_bernoulli(rho, r - h)) / (2.0 * h);
            assert!((fd - kl_bernoulli_grad(rho, r)).abs() < 1e-5 * fd.abs().max(1.0));
        }
    }

    #[test]
    fn reductions() {
        let r = [0.05f32, 0.5];
        let sum = kl_sparsity(0.05, &r, KlReduction::Sum);
        assert!((sum - kl_bernoulli(0.05, 0.5f32 as f64) - kl_bernoulli(0.05, 0.05f32 as f64)).abs() < 1e-12);
        assert!((kl_sparsity(0.05, &r, KlReduction::Mean) - sum / 2.0).abs() < 1e-12);
    }
}
