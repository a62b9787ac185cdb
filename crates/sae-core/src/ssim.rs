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
/// The window sums are separable: for each of the five moments (x, y, x²,
/// y², xy) as a plane, sums of 7 rows first, then of 7 columns of those,
/// each a vectorisable pass over whole rows; a window costs 14 additions
/// per moment rather than 49.
///
/// # Panics
/// When either side is smaller than 7 pixels or the slices are not
/// `rows * cols` long.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn ssim(a: &[f32], b: &[f32], rows: usize, cols: usize) -> f64 {
    assert!(rows >= WIN && cols >= WIN, "SSIM needs images of at least {WIN}×{WIN}");
    assert!(a.len() == rows * cols && b.len() == rows * cols);
    let (wr, wc) = (rows - WIN + 1, cols - WIN + 1);
    // The five moments as planes, then their sums down 7 rows, then along 7
    // columns of those: `[5][wr, wc]`.
    let mut planes = vec![0.0f64; 5 * rows * cols];
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x as f64, y as f64);
        [x, y, x * x, y * y, x * y].iter().enumerate().for_each(|(q, &v)| planes[q * rows * cols + i] = v);
    }
    let mut down = vec![0.0f64; wr * cols];
    let mut sums = vec![0.0f64; 5 * wr * wc];
    for (plane, across) in planes.chunks_exact(rows * cols).zip(sums.chunks_exact_mut(wr * wc)) {
        down.fill(0.0);
        for (r0, out) in down.chunks_exact_mut(cols).enumerate() {
            for row in plane[r0 * cols..(r0 + WIN) * cols].chunks_exact(cols) {
                out.iter_mut().zip(row).for_each(|(o, &v)| *o += v);
            }
        }
        for (out, row) in across.chunks_exact_mut(wc).zip(down.chunks_exact(cols)) {
            for j in 0..WIN {
                out.iter_mut().zip(&row[j..j + wc]).for_each(|(o, &v)| *o += v);
            }
        }
    }
    let sums: Vec<&[f64]> = sums.chunks_exact(wr * wc).collect();
    let np = (WIN * WIN) as f64;
    let cov_norm = np / (np - 1.0);
    let index = |i: usize| {
        let (ux, uy) = (sums[0][i] / np, sums[1][i] / np);
        let vx = cov_norm * (sums[2][i] / np - ux * ux);
        let vy = cov_norm * (sums[3][i] / np - uy * uy);
        let vxy = cov_norm * (sums[4][i] / np - ux * uy);
        ((2.0 * ux * uy + C1) * (2.0 * vxy + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2))
    };
    // Eight partial sums, so the loop vectorises.
    let whole = wr * wc / 8 * 8;
    let mut lanes = [0.0f64; 8];
    for i0 in (0..whole).step_by(8) {
        lanes.iter_mut().enumerate().for_each(|(j, l)| *l += index(i0 + j));
    }
    (lanes.iter().sum::<f64>() + (whole..wr * wc).map(index).sum::<f64>()) / (wr * wc) as f64
}
