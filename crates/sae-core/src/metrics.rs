//! Scoring a model on an evaluation set: every metric DESIGN.md defines
//! that needs no labels (mse, fvu, psnr_db, ssim, kl, rho_hat_mean,
//! active_per_image, l0, and the dead and dense latents of `latents.rs`).

use crate::kl::kl_sparsity;
use crate::latents::LatentCounts;
use crate::matmul::Threads;
use crate::ssim::ssim;
use crate::{SparseAutoencoder, SparsityConfig};

/// An evaluation set: corrupted inputs and the clean images they came from.
#[derive(Debug, Clone, Copy)]
pub struct EvalSet<'a> {
    /// Model inputs, `[n, rows·cols]`, normalised units.
    pub input: &'a [f32],
    /// Clean targets, same shape.
    pub clean: &'a [f32],
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
}

impl EvalSet<'_> {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.clean.len() / (self.rows * self.cols)
    }

    /// Whether the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.clean.is_empty()
    }
}

/// The scores of a model on a set.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metrics {
    /// Per-pixel MSE against the clean images, normalised units.
    pub mse: f64,
    /// Fraction of variance unexplained: `Σ (y − x)² / Σ (x − x̄)²`, x̄ the
    /// set's mean clean image (absent from older records).
    #[serde(default)]
    pub fvu: Option<f64>,
    /// Mean over images of the PSNR on the [0, 1] scale, in dB (scored on
    /// the test set only).
    pub psnr_db: Option<f64>,
    /// Mean SSIM on the [0, 1] scale (scored on the test set only).
    pub ssim: Option<f64>,
    /// Mean (or sum, as trained) over units of KL(ρ‖ρ̂_j), ρ̂_j over the
    /// set; for KL runs only.
    pub kl: Option<f64>,
    /// Mean over units of ρ̂_j.
    pub rho_hat_mean: f64,
    /// Mean count per image of hidden units with activation > 0.5.
    pub active_per_image: f64,
    /// Mean count per image of non-zero code entries (absent from older
    /// records).
    #[serde(default)]
    pub l0: Option<f64>,
    /// Fraction of latents that never fire on the set ([`crate::LatentStats`]:
    /// non-zero, or above 1e-3 for a sigmoid code). Absent from
    /// older records, which counted units never above 0.5 instead.
    #[serde(default)]
    pub dead_latents: Option<f64>,
    /// Fraction of latents that fire on more than 10% of the set's images
    /// (absent from older records).
    #[serde(default)]
    pub dense_latents: Option<f64>,
}

/// Whether to score image quality (PSNR and SSIM), which costs more than
/// the rest together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quality {
    /// Score mse, kl and the activity statistics only (per-epoch validation).
    Skip,
    /// Score everything (final test).
    Score,
}

/// Maps a normalised value onto [0, 1] as the metrics define it.
pub fn to_unit(v: f32) -> f32 {
    ((v + 1.0) * 0.5).clamp(0.0, 1.0)
}

/// How close a set of reconstructions is to the clean images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageQuality {
    /// Per-pixel MSE, normalised units.
    pub mse: f64,
    /// Fraction of variance unexplained.
    pub fvu: f64,
    /// Mean over images of the PSNR on the [0, 1] scale, in dB.
    pub psnr_db: f64,
    /// Mean SSIM on the [0, 1] scale.
    pub ssim: f64,
}

/// Partial sums kept by the reductions below, so that their loops vectorise.
const LANES: usize = 8;

/// `Σ (a − b)²`, in `f64`, in eight partial sums.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn squared_error(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0.0f64; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| ((x - y) * (x - y)) as f64).sum();
    for (x, y) in ca.zip(cb) {
        lanes.iter_mut().zip(x.iter().zip(y)).for_each(|(l, (x, y))| *l += ((x - y) * (x - y)) as f64);
    }
    lanes.iter().sum::<f64>() + tail
}

/// `Σ (x − x̄)²` over a set of images (`[n, d]`), x̄ the mean image: the
/// denominator of the fraction of variance unexplained.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn variance_sum(clean: &[f32], d: usize) -> f64 {
    let n = (clean.len() / d) as f64;
    let (mut sum, mut sq) = (vec![0.0f64; d], vec![0.0f64; d]);
    for row in clean.chunks_exact(d) {
        for ((s, q), &x) in sum.iter_mut().zip(sq.iter_mut()).zip(row) {
            *s += x as f64;
            *q += (x as f64) * (x as f64);
        }
    }
    sq.iter().sum::<f64>() - sum.iter().map(|s| s * s / n).sum::<f64>()
}

/// Adds each unit's activations over the rows of `code` (`[m, h]`) to
/// `rho_sum`; returns the count of entries above 0.5.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn unit_sums(code: &[f32], rho_sum: &mut [f64]) -> usize {
    let mut active = 0usize;
    for row in code.chunks_exact(rho_sum.len()) {
        for (&v, rs) in row.iter().zip(rho_sum.iter_mut()) {
            *rs += v as f64;
            active += usize::from(v > 0.5);
        }
    }
    active
}

/// Scores reconstructions `recon` of `clean` (both `[n, rows·cols]`,
/// normalised units) by the shared definitions: the baselines and the
/// models are scored by this one function.
pub fn image_quality(recon: &[f32], clean: &[f32], rows: usize, cols: usize) -> ImageQuality {
    let d = rows * cols;
    let n = clean.len() / d;
    let (mut psnr, mut ssim_sum) = (0.0, 0.0);
    let (mut a01, mut b01) = (vec![0.0f32; d], vec![0.0f32; d]);
    for (y, c) in recon.chunks_exact(d).zip(clean.chunks_exact(d)) {
        a01.iter_mut().zip(c).for_each(|(o, &v)| *o = to_unit(v));
        b01.iter_mut().zip(y).for_each(|(o, &v)| *o = to_unit(v));
        let mse01 = squared_error(&a01, &b01) / d as f64;
        psnr += 10.0 * (1.0 / mse01.max(1e-12)).log10();
        ssim_sum += ssim(&a01, &b01, rows, cols);
    }
    let sse = squared_error(recon, clean);
    ImageQuality {
        mse: sse / clean.len() as f64,
        fvu: sse / variance_sum(clean, d),
        psnr_db: psnr / n as f64,
        ssim: ssim_sum / n as f64,
    }
}

/// Images scored per forward pass.
pub(crate) const CHUNK: usize = 500;

/// Scores `model` on `set`.
pub fn evaluate(model: &SparseAutoencoder, set: EvalSet<'_>, sparsity: &SparsityConfig, quality: Quality) -> Metrics {
    let (d, h) = (model.config.input, model.config.hidden);
    assert_eq!(set.rows * set.cols, d, "images must have the model's input size");
    let n = set.len();
    let mut code = vec![0.0f32; CHUNK * h];
    let mut recon = vec![0.0f32; CHUNK * d];
    let (mut sse, mut active, mut psnr_sum, mut ssim_sum) = (0.0f64, 0usize, 0.0f64, 0.0f64);
    let mut rho_sum = vec![0.0f64; h];
    let mut latents = LatentCounts::new(h, model.config.activation);
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        let input = &set.input[start * d..(start + m) * d];
        let clean = &set.clean[start * d..(start + m) * d];
        model.encode_into(input, m, &mut code, Threads(1));
        model.decode_into(&code, m, &mut recon, Threads(1));
        active += unit_sums(&code[..m * h], &mut rho_sum);
        latents.add(&code[..m * h]);
        if quality == Quality::Score {
            let q = image_quality(&recon[..m * d], clean, set.rows, set.cols);
            psnr_sum += q.psnr_db * m as f64;
            ssim_sum += q.ssim * m as f64;
        }
        sse += squared_error(&recon[..m * d], clean);
    }
    let rho_hat: Vec<f32> = rho_sum.iter().map(|s| (s / n as f64) as f32).collect();
    let scored = |sum: f64| (quality == Quality::Score).then(|| sum / n as f64);
    let latents = latents.stats();
    Metrics {
        mse: sse / (n * d) as f64,
        fvu: Some(sse / variance_sum(set.clean, d)),
        psnr_db: scored(psnr_sum),
        ssim: scored(ssim_sum),
        kl: match *sparsity {
            SparsityConfig::Kl { rho, reduction, .. } => Some(kl_sparsity(rho, &rho_hat, reduction)),
            _ => None,
        },
        rho_hat_mean: rho_sum.iter().sum::<f64>() / (n * h) as f64,
        active_per_image: active as f64 / n as f64,
        l0: Some(latents.l0),
        dead_latents: Some(latents.dead_fraction),
        dense_latents: Some(latents.dense_fraction),
    }
}
