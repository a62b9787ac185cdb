//! The operands of a bf16 product, converted from f32 (rounded to nearest,
//! ties to even, by `vcvtne2ps2bf16`) and laid out as the tile kernels
//! read them, zero past the matrix's edges:
//!
//! - the left operand `A` (`m × k`) in panels of 16 rows; a panel is
//!   `k / 32` tiles of 16 rows × 32 values (one 64-byte row of a tile each);
//! - the right operand `B` (`k × n`) in panels of 16 columns; a panel is
//!   `k / 2` rows of 16 pairs `(B[2r][c], B[2r + 1][c])`, the "VNNI" layout
//!   that `tdpbf16ps` and `vdpbf16ps` multiply, 16 rows of it to a tile.
//!
//! A row of `A` along `k`, or a row of `B` along `n`, converts with whole
//! vectors; an operand stored the other way round (a transposed view) is
//! converted along its contiguous direction and scattered (`vpscatterdd`).

use std::arch::x86_64::*;

use crate::matmul::MatRef;

/// Rows of a tile, and rows (or columns) of a panel.
pub(super) const ROWS: usize = 16;
/// bf16 values in a tile row (64 bytes): the depth of one tile product.
pub(super) const DEPTH: usize = 32;
/// bf16 values in a tile.
pub(super) const TILE: usize = ROWS * DEPTH;

/// The bits of 32 bf16 values as an integer vector.
#[inline]
fn bits512(v: __m512bh) -> __m512i {
    // SAFETY: both types are 64 bytes of plain bits, every pattern valid.
    unsafe { std::mem::transmute::<__m512bh, __m512i>(v) }
}

/// Makes `out` at least `len` long. It never shrinks: the packing writes
/// every value it uses, so the buffer is not cleared between products of
/// different shapes.
fn grow(out: &mut Vec<u16>, len: usize) {
    if out.len() < len {
        out.resize(len, 0);
    }
}

/// Lanes of a 16-lane mask that are below `valid`.
fn mask16(valid: usize) -> __mmask16 {
    if valid >= 16 {
        u16::MAX
    } else {
        (1u16 << valid) - 1
    }
}

/// The `valid` (at most 32) floats at `p` as 32 bf16 values, zero beyond
/// `valid`.
///
/// # Safety
/// AVX-512F and AVX-512-BF16 are available; `p .. p + valid` is readable.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn load32(p: *const f32, valid: usize) -> __m512i {
    // SAFETY: masked loads read only the lanes below `valid` (the caller's
    // promise) and never fault on the others; `wrapping_add` forms the
    // address of the upper half without asserting it is in bounds.
    let (lo, hi) = unsafe {
        (
            _mm512_maskz_loadu_ps(mask16(valid), p),
            _mm512_maskz_loadu_ps(mask16(valid.saturating_sub(16)), p.wrapping_add(16)),
        )
    };
    bits512(_mm512_cvtne2ps_pbh(hi, lo))
}

/// Packs `a` (`m × k`, one of its strides 1) into `out` as
/// `padded_rows / 16` row panels (the module's layout).
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512-BF16 are available.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
pub(super) unsafe fn pack_a(a: MatRef<'_>, padded_rows: usize, out: &mut Vec<u16>) {
    let tiles = a.cols.div_ceil(DEPTH);
    grow(out, padded_rows * tiles * DEPTH);
    let at = |r: usize, t: usize| ((r / ROWS * tiles + t) * ROWS + r % ROWS) * DEPTH;
    let base = a.data.as_ptr();
    if a.col_stride == 1 {
        for r in 0..padded_rows {
            for t in 0..tiles {
                let k0 = t * DEPTH;
                let v = if r < a.rows {
                    // SAFETY: row r's values k0..k0 + 32 (those below k) lie
                    // in `a.data` (MatRef's bounds).
                    unsafe { load32(base.add(r * a.row_stride + k0), a.cols - k0) }
                } else {
                    _mm512_setzero_si512()
                };
                // SAFETY: `at(r, t) + 32 ≤ out.len()`, sized above.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add(at(r, t)).cast(), v) };
            }
        }
        return;
    }
    // Rows run along memory: columns k and k + 1 of a panel's 16 rows
    // convert into one vector of 16 pairs, interleaved as in `pack_b`, and
    // scatter down the rows of the panel's tile.
    assert_eq!(a.row_stride, 1, "an operand must have a unit stride");
    let column = |k: usize, p: usize| {
        if k < a.cols && p * ROWS < a.rows {
            // SAFETY: column k's rows p·16.. (those below m) lie in `a.data`.
            unsafe { _mm512_maskz_loadu_ps(mask16(a.rows - p * ROWS), base.add(k * a.col_stride + p * ROWS)) }
        } else {
            _mm512_setzero_ps()
        }
    };
    let words = out.as_mut_ptr().cast::<i32>();
    for p in 0..padded_rows / ROWS {
        for t in 0..tiles {
            for pair in 0..DEPTH / 2 {
                let k = t * DEPTH + 2 * pair;
                let v = interleave(bits512(_mm512_cvtne2ps_pbh(column(k + 1, p), column(k, p))));
                // SAFETY: the words at `first + 16 r`, r < 16, are pair
                // `pair` of the tile's rows, inside `out`.
                unsafe { _mm512_i32scatter_epi32::<4>(words.add(at(p * ROWS, t) / 2 + pair), row_offsets(), v) };
            }
        }
    }
}

/// Word offsets of the 16 rows of a tile (or of a panel's pair rows): 16
/// words (32 bf16 values) apart.
#[inline]
#[target_feature(enable = "avx512f")]
fn row_offsets() -> __m512i {
    _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240)
}

/// Interleaves the 16-bit lanes of two 16-value rows held in one vector
/// (`row0` low, `row1` high): `row0[0], row1[0], row0[1], …`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw")]
fn interleave(v: __m512i) -> __m512i {
    const IDX: [u16; 32] = {
        let mut idx = [0u16; 32];
        let mut c = 0;
        while c < 16 {
            idx[2 * c] = c as u16;
            idx[2 * c + 1] = 16 + c as u16;
            c += 1;
        }
        idx
    };
    // SAFETY: IDX is 64 bytes.
    let idx = unsafe { _mm512_loadu_si512(IDX.as_ptr().cast()) };
    _mm512_permutexvar_epi16(idx, v)
}

/// Packs `b` (`k × n`, one of its strides 1) into `out` as
/// `padded_cols / 16` column panels of `k / 2` pair rows (the module's
/// VNNI layout), `k` rounded up to 32.
///
/// # Safety
/// AVX-512F, AVX-512BW and AVX-512-BF16 are available.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
pub(super) unsafe fn pack_b(b: MatRef<'_>, padded_cols: usize, out: &mut Vec<u16>) {
    let pairs = b.rows.div_ceil(DEPTH) * ROWS;
    let panels = padded_cols / ROWS;
    grow(out, panels * pairs * DEPTH);
    let base = b.data.as_ptr();
    if b.col_stride == 1 {
        // Two rows of 16 columns convert into one vector, interleaved.
        let row = |k: usize, q: usize| {
            if k < b.rows && q * ROWS < b.cols {
                // SAFETY: row k's columns q·16.. (those below n) lie in `b.data`.
                unsafe { _mm512_maskz_loadu_ps(mask16(b.cols - q * ROWS), base.add(k * b.row_stride + q * ROWS)) }
            } else {
                _mm512_setzero_ps()
            }
        };
        for r in 0..pairs {
            for q in 0..panels {
                let v = _mm512_cvtne2ps_pbh(row(2 * r + 1, q), row(2 * r, q));
                let v = interleave(bits512(v));
                // SAFETY: panel q's pair row r is 32 values inside `out`.
                unsafe { _mm512_storeu_si512(out.as_mut_ptr().add((q * pairs + r) * DEPTH).cast(), v) };
            }
        }
        return;
    }
    // Columns run along memory: 32 values of a column are 16 pairs already,
    // scattered down the panel's pair rows.
    assert_eq!(b.row_stride, 1, "an operand must have a unit stride");
    let words = out.as_mut_ptr().cast::<i32>();
    for c in 0..padded_cols {
        for t in 0..pairs / ROWS {
            let k0 = t * DEPTH;
            let v = if c < b.cols {
                // SAFETY: column c's rows k0.. (those below k) lie in `b.data`.
                unsafe { load32(base.add(c * b.col_stride + k0), b.rows - k0) }
            } else {
                _mm512_setzero_si512()
            };
            let first = (c / ROWS * pairs + t * ROWS) * ROWS + c % ROWS;
            // SAFETY: the 16 words at `first + 16 j`, j < 16, are pair
            // rows t·16 + j of column c, inside `out`.
            unsafe { _mm512_i32scatter_epi32::<4>(words.add(first), row_offsets(), v) };
        }
    }
}
