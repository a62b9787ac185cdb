//! The probe's objective at matrix-product speed: per block of rows, the
//! logits, the softmax and the weights' gradient in one pass, in register
//! tiles compiled for AVX-512 and AVX2 (chosen at run time).
//!
//! The logits tile holds 8 rows × 16 classes (the classes padded to 16);
//! the gradient tile holds 32 features × 10 classes, so MNIST's ten classes
//! cost no padding there.

use crate::activation::exp;

/// Classes per logits group: one 16-lane vector.
const GROUP: usize = 16;
/// Rows per logits tile.
const ROWS: usize = 8;
/// Classes per gradient tile.
const CLASS_TILE: usize = 10;
/// Rows per block: a block of 256 rows of 784 features (784 KiB) stays in
/// L2 between the logits and the gradient.
const BLOCK: usize = 256;

/// `a · b + c`, fused where the target has FMA (a constant once inlined).
#[inline(always)]
fn madd(fused: bool, a: f32, b: f32, c: f32) -> f32 {
    if fused {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Asks for the cache line at `p`, so the rows of the next tiles arrive
/// while this one is computed (the logits read each block from memory).
#[inline(always)]
fn prefetch(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it never faults, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
}

/// `bias + Σ_k x[r][k] w[k]` for `R` rows from `x` (row stride `dim`),
/// one group of 16 classes (`w` row stride `stride`).
#[inline(always)]
fn logits_tile<const R: usize>(
    fused: bool,
    x: &[f32],
    dim: usize,
    w: &[f32],
    stride: usize,
    bias: &[f32],
) -> [[f32; GROUP]; R] {
    let bias: [f32; GROUP] = bias[..GROUP].try_into().expect("a group");
    let mut acc = [bias; R];
    // One slice per row, each `dim` long, so that indexing them by `k < dim`
    // needs no bounds check.
    let rows: [&[f32]; R] = std::array::from_fn(|r| &x[r * dim..(r + 1) * dim]);
    for (k, wk) in w.chunks(stride).take(dim).enumerate() {
        let wk: &[f32; GROUP] = wk[..GROUP].try_into().expect("a group");
        if k % 16 == 0 {
            for r in 0..R {
                prefetch(x.as_ptr().wrapping_add((2 * R + r) * dim + k));
            }
        }
        for (a, xr) in acc.iter_mut().zip(&rows) {
            let xv = xr[k];
            a.iter_mut().zip(wk).for_each(|(a, &wv)| *a = madd(fused, xv, wv, *a));
        }
    }
    acc
}

/// The logits of the `m` rows of `x` into `z` (`[m, cp]`), `w` being
/// `[dim, cp]` and `cp` a multiple of 16.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn logits(x: &[f32], dim: usize, w: &[f32], bias: &[f32], z: &mut [f32]) {
    let fused = multiversion::target::target_cfg_f!(target_feature = "fma");
    let cp = bias.len();
    let m = z.len() / cp;
    let mut put = |r: usize, g: usize, tile: &[[f32; GROUP]]| {
        tile.iter().enumerate().for_each(|(i, t)| z[(r + i) * cp + g..(r + i) * cp + g + GROUP].copy_from_slice(t))
    };
    for g in (0..cp).step_by(GROUP) {
        let full = m / ROWS * ROWS;
        for r in (0..full).step_by(ROWS) {
            put(r, g, &logits_tile::<ROWS>(fused, &x[r * dim..], dim, &w[g..], cp, &bias[g..]));
        }
        for r in full..m {
            put(r, g, &logits_tile::<1>(fused, &x[r * dim..], dim, &w[g..], cp, &bias[g..]));
        }
    }
}

/// `acc[c][j] = Σ_i x[i][j] g[i][c]` over the `m` rows of a block, `x`
/// and `g` starting at the tile's first feature and class (row strides
/// `dim` and `gs`).
#[inline(always)]
fn gradient_tile<const K: usize>(
    fused: bool,
    x: &[f32],
    dim: usize,
    g: &[f32],
    gs: usize,
    m: usize,
) -> [[f32; K]; CLASS_TILE] {
    let mut acc = [[0.0f32; K]; CLASS_TILE];
    for i in 0..m {
        let xs: &[f32; K] = x[i * dim..i * dim + K].try_into().expect("a tile");
        let gi: &[f32; CLASS_TILE] = g[i * gs..i * gs + CLASS_TILE].try_into().expect("a tile");
        for (a, &gv) in acc.iter_mut().zip(gi) {
            a.iter_mut().zip(xs).for_each(|(a, &xv)| *a = madd(fused, xv, gv, *a));
        }
    }
    acc
}

/// `dw[k][c] += Σ_i x[i][k] g[i][c]` over the `m` rows of `x`; `g` is
/// `[m, gs]`, `dw` is `[dim, gs]`, `gs` a multiple of 10.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma", "aarch64+neon"))]
fn gradient(x: &[f32], dim: usize, g: &[f32], gs: usize, dw: &mut [f64]) {
    let fused = multiversion::target::target_cfg_f!(target_feature = "fma");
    let m = g.len() / gs;
    let mut add = |k0: usize, c0: usize, acc: &[[f32; 32]], width: usize| {
        for (c, a) in acc.iter().enumerate() {
            a[..width].iter().enumerate().for_each(|(j, &v)| dw[(k0 + j) * gs + c0 + c] += v as f64);
        }
    };
    for c0 in (0..gs).step_by(CLASS_TILE) {
        let mut k0 = 0;
        while k0 < dim {
            let mut wide = [[0.0f32; 32]; CLASS_TILE];
            let width = match dim - k0 {
                32.. => {
                    wide = gradient_tile::<32>(fused, &x[k0..], dim, &g[c0..], gs, m);
                    32
                }
                16.. => {
                    let t = gradient_tile::<16>(fused, &x[k0..], dim, &g[c0..], gs, m);
                    wide.iter_mut().zip(&t).for_each(|(w, t)| w[..16].copy_from_slice(t));
                    16
                }
                _ => {
                    let t = gradient_tile::<1>(fused, &x[k0..], dim, &g[c0..], gs, m);
                    wide.iter_mut().zip(&t).for_each(|(w, t)| w[0] = t[0]);
                    1
                }
            };
            add(k0, c0, &wide, width);
            k0 += width;
        }
    }
}

/// Rows whose softmax sums are multiplied before one logarithm: each sum
/// lies in [1, classes], so 64 of them stay far inside `f64` for up to 256
/// classes.
const LOG_BATCH: usize = 64;

/// Turns the logits `z` (`[m, cp]`) into `g = (softmax(z) − onehot(y)) / n`
/// (`[m, gs]`, padding zero); adds each class's sum of `g` to `gb` and
/// returns the rows' summed cross-entropy.
fn softmax(z: &[f32], cp: usize, labels: &[u8], n: usize, g: &mut [f32], gs: usize, gb: &mut [f64]) -> f64 {
    let classes = gb.len();
    let inv_n = 1.0 / n as f32;
    let (mut loss, mut product) = (0.0f64, 1.0f64);
    for (i, ((zr, gr), &y)) in z.chunks_exact(cp).zip(g.chunks_exact_mut(gs)).zip(labels).enumerate() {
        let (zr, gr) = (&zr[..classes], &mut gr[..classes]);
        let max = zr.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
        gr.iter_mut().zip(zr).for_each(|(o, &v)| *o = exp(v - max));
        let sum: f32 = gr.iter().sum();
        product *= sum as f64;
        loss += (max - zr[y as usize]) as f64;
        if i % LOG_BATCH == LOG_BATCH - 1 {
            loss += product.ln();
            product = 1.0;
        }
        let scale = inv_n / sum;
        gr.iter_mut().for_each(|v| *v *= scale);
        gr[y as usize] -= inv_n;
        gb.iter_mut().zip(gr.iter()).for_each(|(b, &v)| *b += v as f64);
    }
    loss + product.ln()
}

/// The probe's cross-entropy and its gradient over some rows of the
/// standardised features, with the buffers it reuses from one evaluation to
/// the next.
#[derive(Debug)]
pub(super) struct Objective<'a> {
    x: &'a [f32],
    labels: &'a [u8],
    /// Rows of the whole objective, of which these are a part (the mean's
    /// denominator).
    n: usize,
    dim: usize,
    classes: usize,
    /// Classes padded to a multiple of 16 (the logits' row stride).
    cp: usize,
    /// Classes padded to a multiple of 10 (the gradient's row stride).
    gs: usize,
    /// The weights, `[dim, cp]`.
    w: Vec<f32>,
    bias: Vec<f32>,
    z: Vec<f32>,
    g: Vec<f32>,
    dw: Vec<f64>,
}

impl<'a> Objective<'a> {
    /// The part of an objective over `n` rows that `x` (`[m, dim]`) and
    /// `labels` (each below `classes`) hold.
    pub(super) fn new(x: &'a [f32], labels: &'a [u8], n: usize, dim: usize, classes: usize) -> Self {
        let cp = classes.div_ceil(GROUP) * GROUP;
        let gs = classes.div_ceil(CLASS_TILE) * CLASS_TILE;
        Self {
            x,
            labels,
            n,
            dim,
            classes,
            cp,
            gs,
            w: vec![0.0; dim * cp],
            bias: vec![0.0; cp],
            z: vec![0.0; BLOCK * cp],
            g: vec![0.0; BLOCK * gs],
            dw: vec![0.0; dim * gs],
        }
    }

    /// These rows' share of the mean cross-entropy at weights `w`
    /// (`[dim, classes]`) and biases `b`; writes its gradient with respect
    /// to each into `gw` and `gb`.
    pub(super) fn evaluate(&mut self, w: &[f64], b: &[f64], gw: &mut [f64], gb: &mut [f64]) -> f64 {
        let (dim, c, cp, gs) = (self.dim, self.classes, self.cp, self.gs);
        for (row, src) in self.w.chunks_exact_mut(cp).zip(w.chunks_exact(c)) {
            row[..c].iter_mut().zip(src).for_each(|(o, &v)| *o = v as f32);
        }
        self.bias[..c].iter_mut().zip(b).for_each(|(o, &v)| *o = v as f32);
        self.dw.fill(0.0);
        gb.fill(0.0);
        let n = self.n;
        let mut loss = 0.0;
        for (xb, yb) in self.x.chunks(BLOCK * dim).zip(self.labels.chunks(BLOCK)) {
            let m = yb.len();
            logits(xb, dim, &self.w, &self.bias, &mut self.z[..m * cp]);
            loss += softmax(&self.z[..m * cp], cp, yb, n, &mut self.g[..m * gs], gs, gb);
            gradient(xb, dim, &self.g[..m * gs], gs, &mut self.dw);
        }
        for (out, src) in gw.chunks_exact_mut(c).zip(self.dw.chunks_exact(gs)) {
            out.copy_from_slice(&src[..c]);
        }
        loss / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The objective in `f64`, from its definition.
    fn naive(x: &[f32], y: &[u8], dim: usize, c: usize, w: &[f64], b: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let n = y.len();
        let (mut loss, mut gw, mut gb) = (0.0, vec![0.0; dim * c], vec![0.0; c]);
        for (row, &label) in x.chunks_exact(dim).zip(y) {
            let z: Vec<f64> =
                (0..c).map(|j| b[j] + (0..dim).map(|k| row[k] as f64 * w[k * c + j]).sum::<f64>()).collect();
            let max = z.iter().fold(f64::NEG_INFINITY, |a, &v| a.max(v));
            let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
            loss += sum.ln() + max - z[label as usize];
            for j in 0..c {
                let g = ((z[j] - max).exp() / sum - f64::from(u8::from(j == label as usize))) / n as f64;
                gb[j] += g;
                (0..dim).for_each(|k| gw[k * c + j] += row[k] as f64 * g);
            }
        }
        (loss / n as f64, gw, gb)
    }

    #[test]
    fn matches_the_definition_at_odd_sizes() {
        // 603 rows (two full blocks and a tail of 91, not a multiple of 8),
        // 53 features (32 + 16 + 5) and 21 classes (two logits groups, three
        // gradient tiles).
        let (n, dim, c) = (603, 53, 21);
        let x: Vec<f32> = (0..n * dim).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        let y: Vec<u8> = (0..n).map(|i| ((i * 31) % c) as u8).collect();
        let w: Vec<f64> = (0..dim * c).map(|i| ((i * 104_729) % 200) as f64 / 1000.0 - 0.1).collect();
        let b: Vec<f64> = (0..c).map(|j| j as f64 / 50.0).collect();
        let (mut gw, mut gb) = (vec![0.0; dim * c], vec![0.0; c]);
        let loss = Objective::new(&x, &y, n, dim, c).evaluate(&w, &b, &mut gw, &mut gb);
        let (want, want_w, want_b) = naive(&x, &y, dim, c, &w, &b);
        assert!((loss - want).abs() < 1e-5 * want, "{loss} against {want}");
        gw.iter()
            .chain(&gb)
            .zip(want_w.iter().chain(&want_b))
            .for_each(|(g, w)| assert!((g - w).abs() < 1e-6, "{g} against {w}"));
    }
}
