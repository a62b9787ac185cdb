//! JumpReLU's code and its straight-through gradients (Rajamanoharan et
//! al. 2024, "Jumping Ahead"): `h = z · H(z − θ)` with a learned threshold
//! `θ_j = e^{log θ_j}` per latent. The step function has no useful
//! derivative, so the paper gives the jump and the L0 norm pseudo-derivatives
//! with respect to θ through a rectangle kernel `K(u) = [|u| < ½]` of width ε:
//!
//! ```text
//! ∂h/∂θ     := −(θ/ε) K((z − θ)/ε)        ∂h/∂z     = H(z − θ)
//! ∂H(z−θ)/∂θ := −(1/ε) K((z − θ)/ε)        ∂H(z−θ)/∂z = 0
//! ```
//!
//! and `∂/∂log θ = θ · ∂/∂θ`. dictionary_learning's and SAELens's
//! `JumpReLU` and `Step` autograd functions compute the same.

/// Every threshold `θ_j = e^{log θ_j}`, written into `theta`.
pub(crate) fn thresholds(log_threshold: &[f32], theta: &mut Vec<f32>) {
    theta.clear();
    theta.extend(log_threshold.iter().map(|t| t.exp()));
}

/// The rectangle kernel at `u`: 1 where `|u| < ½`, else 0.
pub(crate) fn rectangle(u: f32) -> f32 {
    if u.abs() < 0.5 {
        1.0
    } else {
        0.0
    }
}

/// `code = z · H(z − θ)` row by row for pre-activations `z` (`[B, H]`)
/// and thresholds `theta` (`[H]`): an entry fires where it exceeds its
/// latent's threshold.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn jump(z: &[f32], theta: &[f32], code: &mut [f32]) {
    for (z_row, c_row) in z.chunks_exact(theta.len()).zip(code.chunks_exact_mut(theta.len())) {
        for ((c, &v), &t) in c_row.iter_mut().zip(z_row).zip(theta) {
            *c = if v > t { v } else { 0.0 };
        }
    }
}

/// Back through the jump and the L0 penalty, for a batch whose
/// pre-activations are `z` and whose loss has gradient `d_code` with
/// respect to the code (`[B, H]` each): `dz = dh · H(z − θ)` in place of
/// `dh`, summed into `d_bias`, and the gradient with respect to `log θ`,
/// `θ_j Σ_b K((z_bj − θ_j)/ε) (−(θ_j/ε) dh_bj − l0_weight/ε)`, written
/// into `d_log_threshold`; `l0_weight` is the penalty's weight over the
/// batch's images, λ/B.
pub(crate) fn jump_backward(
    d_code: &mut [f32],
    z: &[f32],
    theta: &[f32],
    l0_weight: f32,
    bandwidth: f32,
    d_bias: &mut [f32],
    d_log_threshold: &mut [f32],
) {
    d_bias.fill(0.0);
    d_log_threshold.fill(0.0);
    let h = theta.len();
    for (dz_row, z_row) in d_code.chunks_exact_mut(h).zip(z.chunks_exact(h)) {
        for j in 0..h {
            let (v, t, dh) = (z_row[j], theta[j], dz_row[j]);
            let kernel = rectangle((v - t) / bandwidth);
            d_log_threshold[j] += kernel * (-(t / bandwidth) * dh - l0_weight / bandwidth);
            dz_row[j] = if v > t { dh } else { 0.0 };
            d_bias[j] += dz_row[j];
        }
    }
    d_log_threshold.iter_mut().zip(theta).for_each(|(g, t)| *g *= t);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pseudo-derivative on a hand-made batch, entry by entry against
    /// the paper's formula: ε = 0.1, θ = (0.5, 1), so the kernel is 1 for
    /// z within 0.05 of θ.
    #[test]
    fn pseudo_derivative_follows_the_formula() {
        let (theta, eps, l0) = ([0.5f32, 1.0], 0.1f32, 0.2f32);
        let log: Vec<f32> = theta.iter().map(|t| t.ln()).collect();
        let mut found = Vec::new();
        thresholds(&log, &mut found);
        found.iter().zip(theta).for_each(|(a, b)| assert!((a - b).abs() < 1e-6));
        // Image 0: latent 0 just above θ (fires, in the kernel), latent 1
        // far below. Image 1: latent 0 just below θ (silent, in the
        // kernel), latent 1 just above (fires, in the kernel).
        let z = [0.52f32, 0.3, 0.47, 1.04];
        let mut code = [9.0f32; 4];
        jump(&z, &theta, &mut code);
        assert_eq!(code, [0.52, 0.0, 0.0, 1.04]);
        let dh = [2.0f32, 3.0, -1.0, 0.5];
        let mut d = dh;
        let (mut db, mut dt) = ([0.0f32; 2], [0.0f32; 2]);
        jump_backward(&mut d, &z, &theta, l0, eps, &mut db, &mut dt);
        assert_eq!(d, [2.0, 0.0, 0.0, 0.5], "dz = dh where the entry fires");
        assert_eq!(db, [2.0, 0.5]);
        let term = |t: f32, dh: f32| -(t / eps) * dh - l0 / eps;
        let want = [0.5 * (term(0.5, 2.0) + term(0.5, -1.0)), 1.0 * term(1.0, 0.5)];
        for (a, b) in dt.iter().zip(want) {
            assert!((a - b).abs() < 1e-5 * b.abs(), "{dt:?} against {want:?}");
        }
        assert_eq!((rectangle(0.49), rectangle(-0.5), rectangle(0.5)), (1.0, 0.0, 0.0));
    }
}
