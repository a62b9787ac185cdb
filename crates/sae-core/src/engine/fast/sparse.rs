//! The decoder's products and the encoder's weight gradient for a sparse
//! code (TopK's, BatchTopK's, AuxK's dead latents), touching only the
//! code's non-zero entries, as OpenAI's sparse kernels do (Gao et al.
//! 2024); a denser code goes through `gemm` (or the bf16 products). The
//! sparse kernels run on one thread, in f32, whatever the step's
//! [`Products`].
//!
//! The decoder `W₂` is stored `[D, H]` (PyTorch's layout), so a latent's
//! atom is a strided column. Each sparse step copies `W₂` once into a
//! transposed `[H, D]` scratch, where an atom is a contiguous row, and then
//! every product is a vectorised sweep over the rows of the code's latents:
//! `y_b = Σ c_bj W₂ᵀ_j`, `dc_bj = dy_b · W₂ᵀ_j` (only where `c_bj ≠ 0`: the
//! selection or the activation stops the gradient elsewhere), and
//! `dW₂ᵀ_j += c_bj dy_b`, copied back to `[D, H]` once the step's decoder
//! gradient is complete. The encoder's gradient `dW₁ = dzᵀ x` is `[H, D]`
//! already: a row per latent, a multiple of an input image added for each
//! of its non-zero entries.

use crate::matmul::MatRef;

use super::products::Products;

/// A code goes through the sparse kernels when it keeps at most one unit
/// in this many per image. In the `mechanism_step_batch50` bench, k = H/8
/// is faster sparse at width 256 (1.24 against 1.46–1.50 ms); k = H/4 is 5–8%
/// slower sparse at width 256 and level at width 1024; k = H/2 is 1.7
/// times slower sparse (docs/PERFORMANCE.md).
const SPARSE_FRACTION: usize = 8;

/// Whether a code of width `h` that keeps `kept` units per image is sparse
/// enough for the sparse kernels to pay.
pub(crate) fn pays(kept: usize, h: usize) -> bool {
    kept.saturating_mul(SPARSE_FRACTION) <= h
}

/// The non-zero entries of a `[B, H]` code, image by image (compressed
/// sparse rows).
#[derive(Debug, Clone, Default)]
pub(crate) struct SparseCode {
    /// Where each image's entries start in `index` and `value`, and their end.
    starts: Vec<usize>,
    /// The latent of each entry.
    index: Vec<u32>,
    /// The code's value at each entry.
    value: Vec<f32>,
}

impl SparseCode {
    /// Keeps the non-zero entries of `code` (`[B, H]`).
    pub(crate) fn gather(&mut self, code: &[f32], h: usize) {
        self.starts.clear();
        self.index.clear();
        self.value.clear();
        self.starts.push(0);
        for row in code.chunks_exact(h) {
            for (j, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                self.index.push(j as u32);
                self.value.push(v);
            }
            self.starts.push(self.index.len());
        }
    }

    /// Each image's entries: `(latent, value)` pairs.
    fn images(&self) -> impl Iterator<Item = impl Iterator<Item = (usize, f32)> + '_> + '_ {
        self.starts.windows(2).map(|w| {
            let entries = w[0]..w[1];
            self.index[entries.clone()].iter().map(|&j| j as usize).zip(self.value[entries].iter().copied())
        })
    }
}

/// The transposed decoder and its gradient for one sparse step.
#[derive(Debug, Clone, Default)]
pub(crate) struct SparseDecoder {
    /// `W₂ᵀ`, `[H, D]`.
    dec_t: Vec<f32>,
    /// `dW₂ᵀ`, `[H, D]`, summed over the step's codes.
    grad_t: Vec<f32>,
    /// `D`.
    d: usize,
}

impl SparseDecoder {
    /// Starts a step: copies `dec_w` (`[D, H]`) transposed, and clears the
    /// gradient.
    pub(crate) fn load(&mut self, dec_w: &[f32], h: usize) {
        self.d = dec_w.len() / h;
        self.dec_t.resize(dec_w.len(), 0.0);
        self.grad_t.clear();
        self.grad_t.resize(dec_w.len(), 0.0);
        transpose(dec_w, self.d, h, &mut self.dec_t, true);
    }

    /// Ends a step: writes the gradient summed since [`SparseDecoder::load`]
    /// into `d_dec_w` (`[D, H]`).
    pub(crate) fn store(&self, d_dec_w: &mut [f32]) {
        transpose(&self.grad_t, d_dec_w.len() / self.d, self.d, d_dec_w, false);
    }
}

/// `recon = code W₂ᵀ` for a `code` of width `h` (`[B, H]` times `[D, H]`ᵀ
/// into `[B, D]`): through `gemm`, or with `sparse` through the decoder
/// [`SparseDecoder::load`] transposed, keeping `code`'s non-zero entries
/// for [`backward`].
pub(crate) fn decode(
    code: &[f32],
    h: usize,
    dec_w: &[f32],
    sparse: Option<(&mut SparseCode, &SparseDecoder)>,
    recon: &mut [f32],
    products: &mut Products<'_>,
) {
    let (b, d) = (code.len() / h, dec_w.len() / h);
    match sparse {
        None => products.matmul(recon, MatRef::new(code, b, h), MatRef::new(dec_w, d, h).t(), false),
        Some((entries, decoder)) => {
            entries.gather(code, h);
            sparse_decode(entries, &decoder.dec_t, recon);
        }
    }
}

/// `recon_b = Σ_j c_bj W₂ᵀ_j` over each image's entries.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn sparse_decode(entries: &SparseCode, dec_t: &[f32], recon: &mut [f32]) {
    let d = recon.len() / (entries.starts.len() - 1);
    for (y, image) in recon.chunks_exact_mut(d).zip(entries.images()) {
        y.fill(0.0);
        image.for_each(|(j, v)| axpy(y, v, &dec_t[j * d..(j + 1) * d]));
    }
}

/// For the `code` of a [`decode`] and the gradient `d_recon` of its
/// reconstruction (`[B, D]`): `d_code = d_recon W₂` and the decoder's
/// gradient `d_reconᵀ code`. Through `gemm`, the latter goes into `d_dec_w`
/// (added to it when `accumulate`); with `sparse`, `d_code` is computed only
/// where `code ≠ 0` (0 elsewhere) and the latter is added to the
/// [`SparseDecoder`]'s gradient, for [`SparseDecoder::store`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    code: &[f32],
    h: usize,
    d_recon: &[f32],
    dec_w: &[f32],
    sparse: Option<(&SparseCode, &mut SparseDecoder)>,
    d_dec_w: &mut [f32],
    accumulate: bool,
    d_code: &mut [f32],
    products: &mut Products<'_>,
) {
    let (b, d) = (code.len() / h, dec_w.len() / h);
    match sparse {
        None => {
            let d_recon = MatRef::new(d_recon, b, d);
            products.matmul(d_dec_w, d_recon.t(), MatRef::new(code, b, h), accumulate);
            products.matmul(d_code, d_recon, MatRef::new(dec_w, d, h), false);
        }
        Some((entries, decoder)) => sparse_backward(entries, decoder, d_recon, d_code),
    }
}

/// `dc_bj = dy_b · W₂ᵀ_j` and `dW₂ᵀ_j += c_bj dy_b` over each image's
/// entries; `d_code` is 0 elsewhere.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn sparse_backward(entries: &SparseCode, decoder: &mut SparseDecoder, d_recon: &[f32], d_code: &mut [f32]) {
    let (d, h) = (decoder.d, d_code.len() / (entries.starts.len() - 1));
    d_code.fill(0.0);
    let rows = d_code.chunks_exact_mut(h).zip(d_recon.chunks_exact(d)).zip(entries.images());
    for ((dc, dy), image) in rows {
        for (j, v) in image {
            let atom = j * d..(j + 1) * d;
            dc[j] = dot(dy, &decoder.dec_t[atom.clone()]);
            axpy(&mut decoder.grad_t[atom], v, dy);
        }
    }
}

/// `d_enc_w = d_zᵀ x` (`[B, H]`ᵀ times `[B, D]` into `[H, D]`), through
/// `gemm`, or when `sparse` a row of `d_enc_w` per latent from the images
/// where its `d_z` is not 0.
pub(crate) fn encoder_gradient(
    sparse: bool,
    d_z: &[f32],
    h: usize,
    input: &[f32],
    d_enc_w: &mut [f32],
    products: &mut Products<'_>,
) {
    let b = d_z.len() / h;
    let d = input.len() / b;
    if sparse {
        sparse_encoder_gradient(d_z, h, input, d_enc_w);
    } else {
        products.matmul(d_enc_w, MatRef::new(d_z, b, h).t(), MatRef::new(input, b, d), false);
    }
}

/// `d_enc_w_j = Σ_b dz_bj x_b` over the images where `dz_bj ≠ 0`.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn sparse_encoder_gradient(d_z: &[f32], h: usize, input: &[f32], d_enc_w: &mut [f32]) {
    let d = d_enc_w.len() / h;
    for (j, g) in d_enc_w.chunks_exact_mut(d).enumerate() {
        g.fill(0.0);
        for (dz, x) in d_z.chunks_exact(h).zip(input.chunks_exact(d)) {
            if dz[j] != 0.0 {
                axpy(g, dz[j], x);
            }
        }
    }
}

/// `y += a x`, inlined into the kernels above so that it is compiled for
/// their instruction sets.
#[inline(always)]
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    y.iter_mut().zip(x).for_each(|(y, &x)| *y += a * x);
}

/// Independent partial sums of [`dot`]: they let the compiler vectorise it.
const LANES: usize = 16;

/// `x · y`, in [`LANES`] partial sums (inlined as [`axpy`]).
#[inline(always)]
fn dot(x: &[f32], y: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let n = x.len() / LANES * LANES;
    for (xc, yc) in x[..n].chunks_exact(LANES).zip(y[..n].chunks_exact(LANES)) {
        for k in 0..LANES {
            acc[k] += xc[k] * yc[k];
        }
    }
    let tail: f32 = x[n..].iter().zip(&y[n..]).map(|(a, b)| a * b).sum();
    acc.iter().sum::<f32>() + tail
}

/// Edge of the tiles [`transpose`] moves: eight rows of eight floats,
/// read and written as whole vectors.
const TILE: usize = 8;

/// `dst = srcᵀ` for a row-major `rows × cols` `src`, in tiles of eight
/// by eight moved with AVX shuffles where the processor has them (the
/// compiler's own code moved one float at a time through the stack). The
/// tiles go along eight rows of `src` at a time when `along_src`, else
/// along eight rows of `dst`: along the `[D, H]` matrix's rows, whose
/// stride is often a power of two (1024 floats) that sends a tile's rows
/// to one cache set unless they stream (`W₂`'s copy at width 1024: 0.6 ms
/// along it, 1.2 ms across; at width 256, 42 against 65 µs).
fn transpose(src: &[f32], rows: usize, cols: usize, dst: &mut [f32], along_src: bool) {
    assert!(src.len() >= rows * cols && dst.len() >= rows * cols, "transpose of {rows}×{cols}: buffers too short");
    let (tiled_rows, tiled_cols) = (rows / TILE * TILE, cols / TILE * TILE);
    let avx = avx_available();
    let mut tile = |r0: usize, c0: usize| {
        let (from, to) = (r0 * cols + c0, c0 * rows + r0);
        if avx {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: AVX is available, and the tile's eight rows of eight
            // floats, at `from + i · cols` in `src` and at `to + j · rows`
            // in `dst` for i, j < 8, lie inside both buffers: r0 + 8 ≤ rows
            // and c0 + 8 ≤ cols, and both hold rows · cols floats (checked
            // above).
            unsafe {
                transpose_tile_avx(src.as_ptr().add(from), cols, dst.as_mut_ptr().add(to), rows)
            };
        } else {
            for i in 0..TILE {
                (0..TILE).for_each(|j| dst[to + j * rows + i] = src[from + i * cols + j]);
            }
        }
    };
    if along_src {
        for r0 in (0..tiled_rows).step_by(TILE) {
            (0..tiled_cols).step_by(TILE).for_each(|c0| tile(r0, c0));
        }
    } else {
        for c0 in (0..tiled_cols).step_by(TILE) {
            (0..tiled_rows).step_by(TILE).for_each(|r0| tile(r0, c0));
        }
    }
    for r in 0..rows {
        let edge = if r < tiled_rows { tiled_cols } else { 0 };
        (edge..cols).for_each(|c| dst[c * rows + r] = src[r * cols + c]);
    }
}

/// Whether [`transpose_tile_avx`] can run here.
fn avx_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("avx");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Writes the transpose of the 8 × 8 tile at `src` (rows `src_stride`
/// floats apart) to `dst` (rows `dst_stride` apart): eight loads, 24
/// shuffles, eight stores.
///
/// # Safety
/// The processor has AVX; `src + i · src_stride` and `dst + i · dst_stride`
/// are valid for eight floats each, for i < 8.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn transpose_tile_avx(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
    use std::arch::x86_64::*;
    let mut r = [_mm256_setzero_ps(); TILE];
    for (i, row) in r.iter_mut().enumerate() {
        // SAFETY: the caller's promise for row i of the source.
        *row = unsafe { _mm256_loadu_ps(src.add(i * src_stride)) };
    }
    let t = [
        _mm256_unpacklo_ps(r[0], r[1]),
        _mm256_unpackhi_ps(r[0], r[1]),
        _mm256_unpacklo_ps(r[2], r[3]),
        _mm256_unpackhi_ps(r[2], r[3]),
        _mm256_unpacklo_ps(r[4], r[5]),
        _mm256_unpackhi_ps(r[4], r[5]),
        _mm256_unpacklo_ps(r[6], r[7]),
        _mm256_unpackhi_ps(r[6], r[7]),
    ];
    let s = [
        _mm256_shuffle_ps::<0x44>(t[0], t[2]),
        _mm256_shuffle_ps::<0xEE>(t[0], t[2]),
        _mm256_shuffle_ps::<0x44>(t[1], t[3]),
        _mm256_shuffle_ps::<0xEE>(t[1], t[3]),
        _mm256_shuffle_ps::<0x44>(t[4], t[6]),
        _mm256_shuffle_ps::<0xEE>(t[4], t[6]),
        _mm256_shuffle_ps::<0x44>(t[5], t[7]),
        _mm256_shuffle_ps::<0xEE>(t[5], t[7]),
    ];
    for i in 0..4 {
        let (low, high) =
            (_mm256_permute2f128_ps::<0x20>(s[i], s[i + 4]), _mm256_permute2f128_ps::<0x31>(s[i], s[i + 4]));
        // SAFETY: the caller's promise for rows i and i + 4 of the destination.
        unsafe {
            _mm256_storeu_ps(dst.add(i * dst_stride), low);
            _mm256_storeu_ps(dst.add((i + 4) * dst_stride), high);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_whole_tiles_and_edges() {
        for (rows, cols) in [(8, 8), (12, 8), (19, 27), (3, 5), (16, 40)] {
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            for along_src in [true, false] {
                let mut dst = vec![f32::NAN; rows * cols];
                transpose(&src, rows, cols, &mut dst, along_src);
                for r in 0..rows {
                    for c in 0..cols {
                        assert_eq!(dst[c * rows + r], src[r * cols + c], "{rows}×{cols} at ({r}, {c})");
                    }
                }
            }
        }
    }
}
