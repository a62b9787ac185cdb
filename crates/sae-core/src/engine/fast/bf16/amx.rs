//! The AMX kernel: a 32 × 32 block of a product as four 16 × 16 f32 tiles,
//! each step over the depth loading two tiles of `A`, two of `B` and
//! issuing four `tdpbf16ps` (16 × 16 × 32 multiply-adds each). Written with
//! `asm!` since Rust's AMX intrinsics are not stable; the compiler never
//! uses the tile registers itself, so they keep their values between the
//! `asm!` statements.

use std::arch::asm;

use super::pack::{ROWS, TILE};

/// Bytes between the rows of a packed tile.
const TILE_STRIDE: usize = 64;

/// Palette 1 with eight tiles of 16 rows × 64 bytes (the layout of
/// `ldtilecfg`'s 64-byte operand: palette, start row, reserved, eight
/// 16-bit column widths, reserved, eight row counts).
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

static CONFIG: TileConfig = {
    let mut c = [0u8; 64];
    c[0] = 1;
    let mut t = 0;
    while t < 8 {
        c[16 + 2 * t] = TILE_STRIDE as u8;
        c[48 + t] = ROWS as u8;
        t += 1;
    }
    TileConfig(c)
};

/// The tile configuration loaded on this thread: built by [`Tiles::load`],
/// released (the tile registers back to their initial state, so context
/// switches stop saving them) when dropped.
pub(super) struct Tiles(());

impl Tiles {
    /// Loads the configuration.
    ///
    /// # Safety
    /// The processor has AMX-TILE and AMX-BF16 and the kernel lets this
    /// process use them (`arch_prctl(ARCH_REQ_XCOMP_PERM)` succeeded).
    pub(super) unsafe fn load() -> Self {
        // SAFETY: the caller's promise; CONFIG is a valid 64-byte configuration.
        unsafe { asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly, preserves_flags)) };
        Self(())
    }

    /// The 32 × 32 block at `out.0` (rows `out.1` floats apart) = the
    /// panels `a[0]`, `a[1]` (its rows 0–15 and 16–31) times `b[0]`, `b[1]`
    /// (its columns 0–15 and 16–31) over `tiles` depth tiles, added to the
    /// block's values when `accumulate`.
    ///
    /// # Safety
    /// Each panel pointer is valid for `tiles` packed tiles (of `A` in
    /// [`super::pack`]'s row-panel layout, of `B` in its VNNI layout), and
    /// the block's 32 rows of 32 floats are valid.
    pub(super) unsafe fn block(
        &self,
        a: [*const u16; 2],
        b: [*const u16; 2],
        tiles: usize,
        out: (*mut f32, usize),
        accumulate: bool,
    ) {
        let (c, stride) = (out.0, out.1 * 4);
        // SAFETY: the tiles are configured (`self` exists); every address is
        // inside the caller's panels or block.
        unsafe {
            let (c01, c10, c11) = (c.add(ROWS), c.add(ROWS * out.1), c.add(ROWS * out.1 + ROWS));
            if accumulate {
                asm!(
                    "tileloadd tmm0, [{c00} + {s}*1]",
                    "tileloadd tmm1, [{c01} + {s}*1]",
                    "tileloadd tmm2, [{c10} + {s}*1]",
                    "tileloadd tmm3, [{c11} + {s}*1]",
                    c00 = in(reg) c, c01 = in(reg) c01, c10 = in(reg) c10, c11 = in(reg) c11, s = in(reg) stride,
                    options(nostack, readonly, preserves_flags),
                );
            } else {
                asm!("tilezero tmm0", "tilezero tmm1", "tilezero tmm2", "tilezero tmm3", options(nostack, nomem));
            }
            for t in 0..tiles {
                let at = |p: *const u16| p.add(t * TILE);
                asm!(
                    "tileloadd tmm4, [{a0} + {s}*1]",
                    "tileloadd tmm5, [{a1} + {s}*1]",
                    "tileloadd tmm6, [{b0} + {s}*1]",
                    "tileloadd tmm7, [{b1} + {s}*1]",
                    "tdpbf16ps tmm0, tmm4, tmm6",
                    "tdpbf16ps tmm1, tmm4, tmm7",
                    "tdpbf16ps tmm2, tmm5, tmm6",
                    "tdpbf16ps tmm3, tmm5, tmm7",
                    a0 = in(reg) at(a[0]),
                    a1 = in(reg) at(a[1]),
                    b0 = in(reg) at(b[0]),
                    b1 = in(reg) at(b[1]),
                    s = in(reg) TILE_STRIDE,
                    options(nostack, readonly, preserves_flags),
                );
            }
            asm!(
                "tilestored [{c00} + {s}*1], tmm0",
                "tilestored [{c01} + {s}*1], tmm1",
                "tilestored [{c10} + {s}*1], tmm2",
                "tilestored [{c11} + {s}*1], tmm3",
                c00 = in(reg) c, c01 = in(reg) c01, c10 = in(reg) c10, c11 = in(reg) c11, s = in(reg) stride,
                options(nostack, preserves_flags),
            );
        }
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: `tilerelease` only returns the tile state to its initial
        // configuration; the tiles were configured by `load`.
        unsafe { asm!("tilerelease", options(nostack, nomem, preserves_flags)) };
    }
}
