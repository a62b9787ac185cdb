//! The structural similarity index (Wang et al. 2004) of two grey images,
//! computed as scikit-image's `structural_similarity` does for 2-D images
//! with `data_range = 1`: a 7×7 uniform window, K₁ = 0.01, K₂ = 0.03,
//! sample covariances (normalised by 48 rather than 49), averaged over the
//! window positions that lie wholly inside the image.

const WIN: usize = 7;
const C1: f64 = (0.01 * 1.0) * (0.01 * 1.0);
const C2: f64 = (0.03 * 1.0) * (0.03 * 1.0);

/// The mean SSIM of images `a` and `b` (`rows × cols`, values in [0, 1]).
///
/// # Panics
/// When either side is smaller than 7 pixels or the slices are not
/// `rows * cols` long.
pub fn ssim(a: &[f32], b: &[f32], rows: usize, cols: usize) -> f64 {
    assert!(rows >= WIN && cols >= WIN, "SSIM needs images of at least {WIN}×{WIN}");
    assert!(a.len() == rows * cols && b.len() == rows * cols);
    let np = (WIN * WIN) as f64;
    let cov_norm = np / (np - 1.0);
    let mut total = 0.0;
    for r0 in 0..=rows - WIN {
        for c0 in 0..=cols - WIN {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
            for r in r0..r0 + WIN {
                for c in c0..c0 + WIN {
                    let (x, y) = (a[r * cols + c] as f64, b[r * cols + c] as f64);
                    sa += x;
                    sb += y;
                    saa += x * x;
                    sbb += y * y;
                    sab += x * y;
                }
            }
            let (ux, uy) = (sa / np, sb / np);
            let vx = cov_norm * (saa / np - ux * ux);
            let vy = cov_norm * (sbb / np - uy * uy);
            let vxy = cov_norm * (sab / np - ux * uy);
            total += ((2.0 * ux * uy + C1) * (2.0 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
        }
    }
    total / ((rows - WIN + 1) * (cols - WIN + 1)) as f64
}
