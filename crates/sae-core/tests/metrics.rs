//! The metrics on cases small enough to work out by hand: PSNR per image
//! with its 120 dB cap, active units, dead units, ρ̂ and the thresholded
//! reconstruction.

use sae_core::{evaluate, image_quality, EvalSet, ModelConfig, Quality, SparseAutoencoder, SparsityConfig};

/// 7×7 images (the smallest SSIM scores).
const SIDE: usize = 7;
const D: usize = SIDE * SIDE;

#[test]
fn psnr_is_the_mean_over_images_and_a_perfect_image_counts_120_db() {
    // Both clean images are black (-1, i.e. 0 on the [0, 1] scale). The first
    // reconstruction has one white pixel, given as 3.0 to check the clamp to
    // 1: its [0, 1] MSE is 1/49, so 10·log10(49) = 16.9020 dB. The second is
    // exact: MSE 0, capped at 1e-12, so 120 dB. The mean per image is
    // 68.4510 dB (the PSNR of the pooled MSE, 1/98, would be 19.91 dB).
    let clean = vec![-1.0f32; 2 * D];
    let mut recon = clean.clone();
    recon[3] = 3.0;
    let q = image_quality(&recon, &clean, SIDE, SIDE);
    assert!((q.psnr_db - 68.450_980).abs() < 1e-4, "{}", q.psnr_db);
    let exact = image_quality(&clean, &clean, SIDE, SIDE);
    assert!((exact.psnr_db - 120.0).abs() < 1e-9, "{}", exact.psnr_db);
    // The MSE stays in normalised units and unclamped: (3 − (−1))² / 98.
    assert!((q.mse - 16.0 / 98.0).abs() < 1e-9, "{}", q.mse);
}

/// Three units reading 7×7 images: unit 0 fires on pixel 0, unit 1 on pixel
/// 1 (gain 20), unit 2 never (bias −5, σ(−5) = 0.006693). The decoder writes
/// 0.5·h₀ + 0.25·h₁ + 1·h₂ into every pixel.
fn model() -> SparseAutoencoder {
    let mut m = SparseAutoencoder::new(ModelConfig::new(D, 3), 0);
    m.params.enc_w = vec![0.0; 3 * D];
    m.params.enc_w[0] = 20.0;
    m.params.enc_w[D + 1] = 20.0;
    m.params.enc_b = vec![0.0, 0.0, -5.0];
    m.params.dec_w = (0..D).flat_map(|_| [0.5, 0.25, 1.0]).collect();
    m.params.dec_b = vec![0.0; D];
    m
}

/// Image A lights pixel 0 only (units 0 on, 1 off); image B pixels 0 and 1
/// (units 0 and 1 on).
fn images() -> Vec<f32> {
    let mut x = vec![-1.0f32; 2 * D];
    x[0] = 1.0;
    x[D] = 1.0;
    x[D + 1] = 1.0;
    x
}

#[test]
fn active_units_latents_and_rho_hat_match_the_hand_count() {
    let x = images();
    let set = EvalSet { input: &x, clean: &x, rows: SIDE, cols: SIDE };
    let sparsity = SparsityConfig::reference();
    let m = evaluate(&model(), set, &sparsity, Quality::Skip);
    // Units above 0.5: A has 1, B has 2, so 1.5 per image.
    assert_eq!(m.active_per_image, 1.5);
    // Unit 2 (0.0067) is never above 0.5 but fires by the field's rule
    // (above 1e-3 for a sigmoid): no latent is dead; units 0 and 1 fire on
    // more than 10% of the images, unit 2 too, so all three are dense.
    assert_eq!((m.dead_latents, m.dense_latents), (Some(0.0), Some(1.0)));
    // ρ̂ = (σ(20), (σ(−20) + σ(20))/2, σ(−5)) = (1, 0.5, 0.006693); mean 0.502231.
    assert!((m.rho_hat_mean - 0.502_231).abs() < 1e-5, "{}", m.rho_hat_mean);
    assert_eq!((m.psnr_db, m.ssim), (None, None), "quality is skipped when asked");
}

#[test]
fn the_thresholded_reconstruction_drops_only_the_units_below_one_half() {
    let (m, x) = (model(), images());
    let thresholded = m.thresholded_recon(&x, 2, 0.5);
    // A keeps unit 0 only: tanh(0.5); B keeps units 0 and 1: tanh(0.75).
    // Unit 2 (0.0067) is dropped from both.
    let (a, b) = (0.5f32.tanh(), 0.75f32.tanh());
    assert!(thresholded[..D].iter().all(|v| (v - a).abs() < 1e-5), "{:?}", &thresholded[..3]);
    assert!(thresholded[D..].iter().all(|v| (v - b).abs() < 1e-5), "{:?}", &thresholded[D..D + 3]);
    // Without the threshold unit 2 adds 0.0067 to every pixel.
    let full = m.forward(&x, 2).recon;
    assert!((full[0] - (0.5f32 + 0.006_693).tanh()).abs() < 1e-5, "{}", full[0]);
}
