//! Matrix products on plain `f32` slices through the `gemm` crate, with
//! transposes expressed as strides instead of copies.

use gemm::Parallelism;

/// A read-only view of a matrix: `rows × cols` values of `data` at
/// `data[r * row_stride + c * col_stride]`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    pub(crate) data: &'a [f32],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major `rows × cols` matrix.
    ///
    /// # Panics
    /// When `data` is shorter than `rows * cols`.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Self {
        assert!(data.len() >= rows * cols, "matrix {rows}×{cols} needs {} values, got {}", rows * cols, data.len());
        Self { data, rows, cols, row_stride: cols, col_stride: 1 }
    }

    /// The transpose, as a view of the same memory.
    pub fn t(self) -> Self {
        Self { rows: self.cols, cols: self.rows, row_stride: self.col_stride, col_stride: self.row_stride, ..self }
    }
}

/// How many threads a matrix product may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threads(pub usize);

impl Threads {
    fn parallelism(self) -> Parallelism {
        if self.0 <= 1 {
            Parallelism::None
        } else {
            Parallelism::Rayon(self.0)
        }
    }
}

/// `dst = a · b` (or `dst += a · b` when `accumulate`), where `dst` is
/// row-major `a.rows × b.cols`.
///
/// # Panics
/// When the shapes disagree.
pub fn matmul(dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool, threads: Threads) {
    assert_eq!(a.cols, b.rows, "inner dimensions differ");
    let (m, n, k) = (a.rows, b.cols, a.cols);
    assert!(dst.len() >= m * n, "destination {m}×{n} needs {} values, got {}", m * n, dst.len());
    // SAFETY: every index the kernel touches, r * rs + c * cs for r < rows
    // and c < cols, lies inside the slices: the views were built from
    // row-major buffers checked above (or their transposes), and `dst` is a
    // row-major m × n buffer checked here. `dst` is borrowed mutably, so it
    // does not alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_stride as isize,
            a.row_stride as isize,
            b.data.as_ptr(),
            b.col_stride as isize,
            b.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            threads.parallelism(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        (0..m * n).map(|i| (0..k).map(|p| a[i / n * k + p] * b[p * n + i % n]).sum()).collect()
    }

    #[test]
    fn products_and_transposes_agree_with_the_definition() {
        let (m, k, n) = (5, 7, 3);
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let want = naive(&a, &b, m, k, n);
        let mut dst = vec![0.0; m * n];
        matmul(&mut dst, MatRef::new(&a, m, k), MatRef::new(&b, k, n), false, Threads(1));
        dst.iter().zip(&want).for_each(|(x, y)| assert!((x - y).abs() < 1e-5));
        // (bᵀ aᵀ)ᵀ = a b: compute bᵀ aᵀ into an n × m buffer from transposed views.
        let mut dt = vec![0.0; n * m];
        matmul(&mut dt, MatRef::new(&b, k, n).t(), MatRef::new(&a, m, k).t(), false, Threads(1));
        for i in 0..m {
            for j in 0..n {
                assert!((dt[j * m + i] - want[i * n + j]).abs() < 1e-5);
            }
        }
        matmul(&mut dst, MatRef::new(&a, m, k), MatRef::new(&b, k, n), true, Threads(1));
        dst.iter().zip(&want).for_each(|(x, y)| assert!((x - 2.0 * y).abs() < 1e-5));
    }
}
