//! The pre-encoder bias's gradient in the fast engine, from the encoder
//! bias's.

/// `db_pre = −db₁ W₁`: the pre-encoder bias enters every image's
/// pre-activation as `−W₁ b_pre`, so its gradient is the encoder bias's
/// through `−W₁ᵀ` (nothing for a model without one, whose `d_pre` is
/// empty).
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(super) fn pre_bias_gradient(d_enc_b: &[f32], enc_w: &[f32], d_pre: &mut [f32]) {
    if d_pre.is_empty() {
        return;
    }
    d_pre.fill(0.0);
    for (&g, row) in d_enc_b.iter().zip(enc_w.chunks_exact(d_pre.len())) {
        d_pre.iter_mut().zip(row).for_each(|(p, w)| *p -= g * w);
    }
}
