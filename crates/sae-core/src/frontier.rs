//! Progressive evaluation at exact L0 (Gao et al. 2024, fig. 10): a
//! trained model scored with its code truncated to the `k` largest entries
//! of each image, for a ladder of `k`, so that every mechanism (KL and L1
//! codes included) is compared on the same sparsity–reconstruction
//! frontier.

use crate::matmul::Threads;
use crate::metrics::{squared_error, variance_sum, CHUNK};
use crate::topk::keep_top_k;
use crate::{CoreError, EvalSet, Setting, SparseAutoencoder};

/// The ladder of `k` scored after training, to which the width is added.
pub const DEFAULT_LADDER: [usize; 6] = [5, 10, 20, 40, 80, 160];

/// A model's scores with its code truncated to `k` entries per image.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrontierPoint {
    /// Entries kept per image.
    pub k: usize,
    /// Mean count of non-zero entries per image after truncation: `k`, or
    /// less where an image's code has fewer non-zero entries (a ReLU's or a
    /// TopK code's zeros).
    pub l0: f64,
    /// Per-pixel MSE against the clean images, normalised units.
    pub mse: f64,
    /// Fraction of variance unexplained, as [`fvu`] defines it.
    pub fvu: f64,
}

/// `Σ (y − x)² / Σ (x − x̄)²` for reconstructions `recon` of `clean` (both
/// `[n, d]`), x̄ the mean clean image: 1 for predicting the mean image, 0
/// for a perfect reconstruction. The same quotient as
/// [`crate::Metrics::fvu`].
pub fn fvu(recon: &[f32], clean: &[f32], d: usize) -> f64 {
    squared_error(recon, clean) / variance_sum(clean, d)
}

/// The ladder for a model of width `hidden`: the values of `ks` from 1 to
/// below the width, sorted and without repeats, then the width itself
/// (the untruncated code); and, second, the values dropped as 0 or above
/// the width, for the caller to report.
pub fn ladder(ks: &[usize], hidden: usize) -> (Vec<usize>, Vec<usize>) {
    let mut kept: Vec<usize> = ks.iter().copied().filter(|&k| k >= 1 && k < hidden).collect();
    kept.sort_unstable();
    kept.dedup();
    kept.push(hidden);
    let dropped = ks.iter().copied().filter(|&k| k == 0 || k > hidden).collect();
    (kept, dropped)
}

/// Scores `model` on `set` with its code (as [`SparseAutoencoder::encode`]
/// gives it: after TopK or BatchTopK's threshold) truncated to the `k`
/// largest entries of each image, for each `k` of `ks` (see [`ladder`]).
/// At a TopK model's own `k` the scores are those of [`crate::evaluate`],
/// to the last bit. Costs one encoding and one decoding per `k`.
///
/// # Errors
/// [`CoreError::Config`] for a `k` of 0 or above the width, or images of
/// another size than the model's input.
pub fn progressive_evaluation(
    model: &SparseAutoencoder,
    set: EvalSet<'_>,
    ks: &[usize],
) -> Result<Vec<FrontierPoint>, CoreError> {
    let (d, h) = (model.config.input, model.config.hidden);
    if let Some(&k) = ks.iter().find(|&&k| k == 0 || k > h) {
        return Err(CoreError::Config {
            setting: Setting::FrontierK,
            message: format!("{k}: expected 1 to the width, {h}"),
        });
    }
    if set.rows * set.cols != d {
        let message = format!("{}×{} images for a model of {d} inputs", set.rows, set.cols);
        return Err(CoreError::Config { setting: Setting::FrontierImages, message });
    }
    let n = set.len();
    let (mut code, mut kept) = (vec![0.0f32; CHUNK * h], vec![0.0f32; CHUNK * h]);
    let mut recon = vec![0.0f32; CHUNK * d];
    let mut scratch = Vec::with_capacity(h);
    let (mut sse, mut nonzero) = (vec![0.0f64; ks.len()], vec![0usize; ks.len()]);
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        let clean = &set.clean[start * d..(start + m) * d];
        model.encode_into(&set.input[start * d..(start + m) * d], m, &mut code, Threads(1));
        for (i, &k) in ks.iter().enumerate() {
            kept[..m * h].copy_from_slice(&code[..m * h]);
            keep_top_k(&mut kept[..m * h], h, k, &mut scratch);
            nonzero[i] += kept[..m * h].iter().filter(|v| **v != 0.0).count();
            model.decode_into(&kept, m, &mut recon, Threads(1));
            sse[i] += squared_error(&recon[..m * d], clean);
        }
    }
    let variance = variance_sum(set.clean, d);
    let points = ks.iter().zip(sse.iter().zip(&nonzero)).map(|(&k, (&sse, &nz))| FrontierPoint {
        k,
        l0: nz as f64 / n as f64,
        mse: sse / (n * d) as f64,
        fvu: sse / variance,
    });
    Ok(points.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_ends_at_the_width_and_names_what_it_drops() {
        assert_eq!(ladder(&DEFAULT_LADDER, 256), (vec![5, 10, 20, 40, 80, 160, 256], vec![]));
        assert_eq!(ladder(&DEFAULT_LADDER, 64), (vec![5, 10, 20, 40, 64], vec![80, 160]));
        assert_eq!(ladder(&[0, 20, 5, 20, 16], 16), (vec![5, 16], vec![0, 20, 20]));
    }

    #[test]
    fn predicting_the_mean_image_leaves_all_the_variance() {
        // Values whose sums are exact in float64, so the quotient is exactly 1.
        let clean = [-1.0f32, 0.5, 1.0, 0.25, 0.0, -0.5, 1.0, 0.75];
        let mean = [0.25f32; 8];
        assert_eq!(fvu(&mean, &clean, 2), 1.0);
        assert_eq!(fvu(&clean, &clean, 2), 0.0);
    }
}
