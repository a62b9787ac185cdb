//! The AVX-512-BF16 kernel: the same 32 × 32 blocks from the same packed
//! panels as the AMX kernel, eight rows at a time in 16 vector
//! accumulators, each `vdpbf16ps` adding 16 pair products to 16 floats.

use std::arch::x86_64::*;

use super::pack::{DEPTH, ROWS, TILE};

/// Rows of the block held in accumulators at once.
const GROUP: usize = 8;

/// `out` (32 × 32, row-major) = the panels `a` times `b` over `tiles`
/// depth tiles, as [`super::amx::Tiles::block`].
///
/// # Safety
/// AVX-512F and AVX-512-BF16 are available; the pointers as
/// [`super::amx::Tiles::block`] requires.
#[target_feature(enable = "avx512f,avx512bf16")]
pub(super) unsafe fn block(a: [*const u16; 2], b: [*const u16; 2], tiles: usize, out: *mut f32) {
    for group in 0..2 * ROWS / GROUP {
        let panel = a[group * GROUP / ROWS];
        let first_row = group * GROUP % ROWS;
        let mut acc = [[_mm512_setzero_ps(); 2]; GROUP];
        for t in 0..tiles {
            for pair in 0..ROWS {
                // SAFETY: pair row t·16 + pair of each B panel, and the pair
                // (row, 2·pair) of A's tile t, lie inside the panels.
                unsafe {
                    let row = t * TILE + pair * DEPTH;
                    let bv = [
                        std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(b[0].add(row).cast())),
                        std::mem::transmute::<__m512i, __m512bh>(_mm512_loadu_si512(b[1].add(row).cast())),
                    ];
                    for (i, acc) in acc.iter_mut().enumerate() {
                        let at = panel.add(t * TILE + (first_row + i) * DEPTH + 2 * pair).cast::<i32>();
                        let av = std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(at.read_unaligned()));
                        acc[0] = _mm512_dpbf16_ps(acc[0], av, bv[0]);
                        acc[1] = _mm512_dpbf16_ps(acc[1], av, bv[1]);
                    }
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            // SAFETY: row group·8 + i of `out` holds 32 floats.
            unsafe {
                let row = out.add((group * GROUP + i) * 2 * ROWS);
                _mm512_storeu_ps(row, acc[0]);
                _mm512_storeu_ps(row.add(ROWS), acc[1]);
            }
        }
    }
}
