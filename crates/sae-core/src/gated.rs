//! The Gated code (Rajamanoharan et al. 2024, arXiv 2404.16014): from the
//! encoder's product `p = W₁x̃` (`x̃ = x − b_pre`), the gate
//! `π = p + b₁` decides which latents fire and the magnitude path, the same
//! weights scaled per latent, how strongly:
//! `h = H(π) ⊙ ReLU(e^{r_mag} ⊙ p + b_mag)`.

/// For products `p` (`[B, H]`): the gate `π = p + b₁` written into `gate`
/// and the code `H(π) ⊙ ReLU(scale ⊙ p + b_mag)` into `code`, `scale`
/// being `e^{r_mag}`.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn gated_code(
    p: &[f32],
    gate_bias: &[f32],
    scale: &[f32],
    mag_bias: &[f32],
    gate: &mut [f32],
    code: &mut [f32],
) {
    let h = gate_bias.len();
    let rows = p.chunks_exact(h).zip(gate.chunks_exact_mut(h)).zip(code.chunks_exact_mut(h));
    for ((p_row, g_row), c_row) in rows {
        for j in 0..h {
            let pi = p_row[j] + gate_bias[j];
            g_row[j] = pi;
            let magnitude = scale[j] * p_row[j] + mag_bias[j];
            c_row[j] = if pi > 0.0 && magnitude > 0.0 { magnitude } else { 0.0 };
        }
    }
}

/// `e^{r_mag}`, written into `scale`.
pub(crate) fn magnitude_scale(r_mag: &[f32], scale: &mut Vec<f32>) {
    scale.clear();
    scale.extend(r_mag.iter().map(|r| r.exp()));
}
