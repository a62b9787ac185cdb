//! Tied weights: one matrix, the decoder `W₂` (`[D, H]`, row-major), whose
//! transpose is the encoder `W₁` (`[H, D]`). A step trains the decoder on
//! the sum of both layers' gradients, then writes its transpose into the
//! encoder.

/// `enc_w = dec_wᵀ`: the encoder `[h, d]` from the decoder `[d, h]`.
pub(crate) fn transpose_into(dec_w: &[f32], enc_w: &mut [f32], d: usize, h: usize) {
    for (j, enc_row) in enc_w.chunks_exact_mut(d).enumerate().take(h) {
        enc_row.iter_mut().enumerate().for_each(|(k, v)| *v = dec_w[k * h + j]);
    }
}

/// Adds the encoder's gradient (`[h, d]`), transposed, to the decoder's
/// (`[d, h]`): the gradient of the one matrix both layers are.
pub(crate) fn fold_encoder_gradient(d_enc_w: &[f32], d_dec_w: &mut [f32], d: usize, h: usize) {
    for (k, dec_row) in d_dec_w.chunks_exact_mut(h).enumerate().take(d) {
        dec_row.iter_mut().enumerate().for_each(|(j, g)| *g += d_enc_w[j * d + k]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_and_fold_agree_with_their_definitions() {
        let (d, h) = (3, 2);
        let dec: Vec<f32> = (0..6).map(|i| i as f32).collect();
        let mut enc = vec![0.0; 6];
        transpose_into(&dec, &mut enc, d, h);
        assert_eq!(enc, [0.0, 2.0, 4.0, 1.0, 3.0, 5.0]);
        let mut g_dec = vec![1.0; 6];
        fold_encoder_gradient(&enc, &mut g_dec, d, h);
        assert_eq!(g_dec, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }
}
