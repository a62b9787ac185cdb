//! The baselines every table carries: the corrupted input itself, and the
//! projection of the corrupted input onto the top-H principal components of
//! the clean training images (PCA), scored by the same metrics as the
//! models. The products over images run in `f32` (the covariance summed in
//! `f64` across blocks), the eigendecomposition in `f64`.

use nalgebra::{DMatrix, SymmetricEigen};

use sae_core::{image_quality, ImageQuality};
use sae_data::ImageSet;

/// The principal components of a set of images.
#[derive(Debug, Clone)]
pub struct Pca {
    /// The mean image.
    pub mean: Vec<f32>,
    /// Components as rows, by decreasing variance, `[D, D]`.
    pub components: DMatrix<f32>,
    /// Their variances, decreasing.
    pub variances: Vec<f64>,
}

/// Rows per block when accumulating the covariance: each block's product
/// is summed in `f32`, the blocks in `f64`.
const BLOCK: usize = 1000;

impl Pca {
    /// Fits the principal components of `n` images of `d` pixels, pixel `j`
    /// of image `i` being `value(i, j)` (the sample covariance, normalised by
    /// n − 1).
    pub fn fit(n: usize, d: usize, value: impl Fn(usize, usize) -> f64) -> Self {
        let mut mean = vec![0.0f64; d];
        for i in 0..n {
            mean.iter_mut().enumerate().for_each(|(j, m)| *m += value(i, j));
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut cov = DMatrix::<f64>::zeros(d, d);
        for start in (0..n).step_by(BLOCK) {
            let rows = BLOCK.min(n - start);
            // Column i is image i: filled and read in memory order.
            let block = DMatrix::<f32>::from_fn(d, rows, |j, i| (value(start + i, j) - mean[j]) as f32);
            cov += (&block * block.transpose()).cast::<f64>();
        }
        cov /= (n.max(2) - 1) as f64;
        let eig = SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let components = DMatrix::from_fn(d, d, |k, j| eig.eigenvectors[(j, order[k])] as f32);
        let variances = order.iter().map(|&k| eig.eigenvalues[k]).collect();
        Self { mean: mean.iter().map(|&m| m as f32).collect(), components, variances }
    }

    /// The fraction of the total variance the top `k` components hold.
    pub fn explained(&self, k: usize) -> f64 {
        let total: f64 = self.variances.iter().sum();
        self.variances.iter().take(k).sum::<f64>() / total
    }

    /// The coordinates of `input` (`[n, D]`) on the top `k` components,
    /// `Uₖᵀ (x − μ)`, as the columns of a `[k, n]` matrix (so its memory is
    /// row-major `[n, k]`).
    fn coordinates(&self, input: &[f32], k: usize) -> DMatrix<f32> {
        let d = self.mean.len();
        let n = input.len() / d;
        let centred = DMatrix::<f32>::from_fn(d, n, |j, i| input[i * d + j] - self.mean[j]);
        self.components.rows(0, k.min(d)) * centred
    }

    /// [`Pca::coordinates`] as row-major `f32`: the probe's features.
    pub fn project(&self, input: &[f32], k: usize) -> Vec<f32> {
        self.coordinates(input, k).as_slice().to_vec()
    }

    /// Projects `input` (`[n, D]`) onto the top `k` components and back:
    /// `μ + Uₖ Uₖᵀ (x − μ)`.
    pub fn reconstruct(&self, input: &[f32], k: usize) -> Vec<f32> {
        let d = self.mean.len();
        let recon = self.components.rows(0, k.min(d)).transpose() * self.coordinates(input, k);
        recon.as_slice().chunks_exact(d).flat_map(|row| row.iter().zip(&self.mean).map(|(v, m)| v + m)).collect()
    }
}

/// The scores of the corrupted input itself against the clean images.
pub fn corrupted_input(input: &ImageSet, clean: &ImageSet) -> ImageQuality {
    image_quality(&input.pixels, &clean.pixels, clean.rows, clean.cols)
}

/// The scores of the top-`k` PCA projection of `input` against `clean`.
pub fn pca(pca: &Pca, k: usize, input: &ImageSet, clean: &ImageSet) -> ImageQuality {
    image_quality(&pca.reconstruct(&input.pixels, k), &clean.pixels, clean.rows, clean.cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four 1×3 images, i.e. points in 3-D, checked by hand: the
    /// points (±2, ±1, 0) + (1, 1, 1) have mean (1, 1, 1), variance 16/3 along
    /// x, 4/3 along y, 0 along z.
    fn set() -> ImageSet {
        let pts = [[3.0, 2.0, 1.0], [-1.0, 2.0, 1.0], [3.0, 0.0, 1.0], [-1.0, 0.0, 1.0]];
        ImageSet { n: 4, rows: 1, cols: 3, pixels: pts.iter().flatten().copied().collect() }
    }

    fn fit(s: &ImageSet) -> Pca {
        Pca::fit(s.n, s.dim(), |i, j| s.pixels[i * s.dim() + j] as f64)
    }

    #[test]
    fn components_and_variances_match_a_hand_computed_case() {
        let p = fit(&set());
        assert_eq!(p.mean, vec![1.0, 1.0, 1.0]);
        assert!((p.variances[0] - 16.0 / 3.0).abs() < 1e-9 && (p.variances[1] - 4.0 / 3.0).abs() < 1e-9);
        assert!(p.variances[2].abs() < 1e-9);
        assert!((p.explained(1) - 0.8).abs() < 1e-9 && (p.explained(3) - 1.0).abs() < 1e-12);
        assert!((p.components[(0, 0)].abs() - 1.0).abs() < 1e-6, "first component is the x axis");
        assert!((p.components[(1, 1)].abs() - 1.0).abs() < 1e-6, "second is the y axis");
    }

    #[test]
    fn projection_keeps_the_top_components_only() {
        let p = fit(&set());
        // (3, 2, 1): one component keeps x, drops y back to the mean.
        let r1 = p.reconstruct(&[3.0, 2.0, 1.0], 1);
        [3.0, 1.0, 1.0].iter().zip(&r1).for_each(|(a, b)| assert!((a - b).abs() < 1e-6, "{r1:?}"));
        let r2 = p.reconstruct(&[3.0, 2.0, 5.0], 2);
        [3.0, 2.0, 1.0].iter().zip(&r2).for_each(|(a, b)| assert!((a - b).abs() < 1e-6, "{r2:?}"));
        let all = p.reconstruct(&[0.5, -0.25, 7.0], 3);
        [0.5, -0.25, 7.0].iter().zip(&all).for_each(|(a, b)| assert!((a - b).abs() < 1e-5));
        // (3, 2, 1) − mean = (2, 1, 0): coordinates ±2 and ±1 on the x and y axes.
        let c = p.project(&[3.0, 2.0, 1.0], 2);
        assert!((c[0].abs() - 2.0).abs() < 1e-6 && (c[1].abs() - 1.0).abs() < 1e-6, "{c:?}");
    }
}
