//! Matrix products with bf16 operands and f32 accumulation, for training
//! with `precision = "bf16"`: each operand is rounded to bf16 and packed
//! with AVX-512 (`pack.rs`), then multiplied in 32 × 32 blocks by Intel's
//! AMX tile unit (`amx.rs`). The instructions are detected at run time
//! ([`CpuFeatures::detect`]); what a CPU lacks is an error naming it
//! ([`check_bf16`]).
//!
//! AVX-512-BF16's `vdpbf16ps` alone does not pay on this project's Xeon: in
//! a loop of independent instructions it reaches half the FLOP rate of
//! f32 `vfmadd231ps`, and a kernel built on it ran the step's products at
//! 0.7–0.8 times `gemm`'s f32 speed (docs/PERFORMANCE.md).

#[cfg(target_arch = "x86_64")]
mod amx;
#[cfg(target_arch = "x86_64")]
mod pack;

use crate::matmul::MatRef;
use crate::CoreError;

/// What this CPU and operating system offer the bf16 products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CpuFeatures {
    /// AVX-512F, AVX-512BW and AVX-512-BF16 (`avx512_bf16` in
    /// /proc/cpuinfo): the conversions and the packing.
    pub avx512_bf16: bool,
    /// AMX-TILE and AMX-BF16 (`amx_tile`, `amx_bf16`).
    pub amx_bf16: bool,
    /// The kernel lets this process use the AMX tile registers (Linux's
    /// `arch_prctl(ARCH_REQ_XCOMP_PERM)`, asked once per process).
    pub amx_permitted: bool,
}

impl CpuFeatures {
    /// The features of the machine this runs on.
    pub fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{__cpuid_count, __get_cpuid_max};
            let avx512_bf16 = std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512bf16");
            // AMX's detection is not stable in `is_x86_feature_detected!`:
            // CPUID leaf 7, EDX bits 22 (AMX-BF16) and 24 (AMX-TILE).
            let edx = (__get_cpuid_max(0).0 >= 7).then(|| __cpuid_count(7, 0).edx);
            let amx_bf16 = edx.is_some_and(|edx| (edx >> 22) & 1 == 1 && (edx >> 24) & 1 == 1);
            Self { avx512_bf16, amx_bf16, amx_permitted: amx_bf16 && amx_permission() }
        }
        #[cfg(not(target_arch = "x86_64"))]
        Self::default()
    }
}

/// Asks Linux, once per process, to let it use the AMX tile data
/// (`ARCH_REQ_XCOMP_PERM` for `XFEATURE_XTILEDATA`).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn amx_permission() -> bool {
    static PERMITTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PERMITTED.get_or_init(|| {
        const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
        const XFEATURE_XTILEDATA: libc::c_long = 18;
        // SAFETY: this arch_prctl only asks the kernel to enlarge the
        // process's saved register state; it reads and writes none of our
        // memory.
        unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
    })
}

/// Other systems are not asked: AMX stays off there.
#[cfg(all(target_arch = "x86_64", not(target_os = "linux")))]
fn amx_permission() -> bool {
    false
}

/// Checks that `features` run the bf16 products.
///
/// # Errors
/// [`CoreError::Bf16Unsupported`] naming the missing instructions.
pub fn check_bf16(features: CpuFeatures) -> Result<(), CoreError> {
    let missing = if !features.avx512_bf16 {
        "AVX-512-BF16"
    } else if !features.amx_bf16 {
        "AMX-BF16"
    } else if !features.amx_permitted {
        "the operating system's permission to use AMX (arch_prctl ARCH_REQ_XCOMP_PERM)"
    } else {
        return Ok(());
    };
    Err(CoreError::Bf16Unsupported { missing })
}

/// bf16 products with reused packing buffers, on a CPU checked to have
/// the instructions.
#[derive(Debug, Clone)]
pub struct Bf16Gemm {
    a: Vec<u16>,
    b: Vec<u16>,
}

impl Bf16Gemm {
    /// Products on this machine, if it has the instructions.
    ///
    /// # Errors
    /// As [`check_bf16`] on [`CpuFeatures::detect`].
    pub fn new() -> Result<Self, CoreError> {
        check_bf16(CpuFeatures::detect())?;
        Ok(Self { a: Vec::new(), b: Vec::new() })
    }

    /// `dst = a · b` (or `dst += a · b` when `accumulate`), `dst` row-major
    /// `a.rows × b.cols`, with `a` and `b` rounded to bf16 and the sums in
    /// f32. One thread.
    ///
    /// # Panics
    /// When the shapes disagree.
    pub fn matmul(&mut self, dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
        assert_eq!(a.cols, b.rows, "inner dimensions differ");
        let (m, n) = (a.rows, b.cols);
        assert!(dst.len() >= m * n, "destination {m}×{n} needs {} values, got {}", m * n, dst.len());
        #[cfg(target_arch = "x86_64")]
        self.products(dst, a, b, accumulate);
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("Bf16Gemm::new fails off x86-64");
    }
}

/// Edge of the blocks the kernels compute at once.
#[cfg(target_arch = "x86_64")]
const BLOCK: usize = 32;

/// Whether computing `dst`'s transpose, `bᵀ aᵀ`, packs more cheaply than
/// `a b`: a left operand packs best along its rows, a right one along its
/// columns, and a transposed result costs a strided write. (Counts of
/// values moved, a transposing pack weighted three.)
#[cfg(target_arch = "x86_64")]
fn transposed_pays(a: MatRef<'_>, b: MatRef<'_>) -> bool {
    let size = |x: MatRef<'_>| x.rows * x.cols;
    let left = |x: MatRef<'_>| size(x) * if x.col_stride == 1 { 1 } else { 3 };
    let right = |x: MatRef<'_>| size(x) * if x.col_stride == 1 { 2 } else { 3 };
    let direct = left(a) + right(b);
    let transposed = left(b.t()) + right(a.t()) + a.rows * b.cols;
    transposed < direct
}

#[cfg(target_arch = "x86_64")]
impl Bf16Gemm {
    /// [`Bf16Gemm::matmul`] on x86-64. A block that lies inside `dst` goes
    /// straight between the tiles and `dst`; a block on the edge, or of a
    /// transposed product, through a 32 × 32 buffer.
    fn products(&mut self, dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
        let transposed = transposed_pays(a, b);
        let (a, b) = if transposed { (b.t(), a.t()) } else { (a, b) };
        let (rows, cols) = (a.rows.next_multiple_of(BLOCK), b.cols.next_multiple_of(BLOCK));
        let tiles = a.cols.div_ceil(pack::DEPTH);
        // SAFETY: `new` checked AVX-512F, -BW and -BF16.
        unsafe {
            pack::pack_a(a, rows, &mut self.a);
            pack::pack_b(b, cols, &mut self.b);
        }
        let panel = tiles * pack::TILE;
        let edge = Edge { rows: a.rows, cols: b.cols, transposed, accumulate };
        let mut out = [0.0f32; BLOCK * BLOCK];
        // SAFETY: `new` checked AMX-TILE, AMX-BF16 and the permission.
        let unit = unsafe { amx::Tiles::load() };
        for j in (0..cols).step_by(BLOCK) {
            let bp = |q: usize| self.b[(j / pack::ROWS + q) * panel..].as_ptr();
            for i in (0..rows).step_by(BLOCK) {
                let ap = |p: usize| self.a[(i / pack::ROWS + p) * panel..].as_ptr();
                let (ap, bp) = ([ap(0), ap(1)], [bp(0), bp(1)]);
                let inside = !transposed && i + BLOCK <= edge.rows && j + BLOCK <= edge.cols;
                // SAFETY: panels i/16 and i/16 + 1 of A, and j/16 and
                // j/16 + 1 of B, hold `tiles` tiles each (packed above for
                // `rows` and `cols`, multiples of 32). The 32 × 32 block at
                // (i, j) of the row-major `edge.rows × edge.cols` `dst` lies
                // inside it when `inside`; `out` holds 32 × 32.
                unsafe {
                    if inside {
                        let at = dst.as_mut_ptr().add(i * edge.cols + j);
                        unit.block(ap, bp, tiles, (at, edge.cols), accumulate);
                    } else {
                        unit.block(ap, bp, tiles, (out.as_mut_ptr(), BLOCK), false);
                    }
                }
                if !inside {
                    edge.write(dst, &out, i, j);
                }
            }
        }
    }
}

/// The shape of a product, and how its blocks on the edge are written.
#[cfg(target_arch = "x86_64")]
struct Edge {
    /// Rows and columns of the product computed (of `dst`'s transpose when
    /// `transposed`).
    rows: usize,
    cols: usize,
    transposed: bool,
    accumulate: bool,
}

#[cfg(target_arch = "x86_64")]
impl Edge {
    /// Writes (or adds) the part of the 32 × 32 block at row `i`, column
    /// `j` of the product that lies inside `dst`.
    fn write(&self, dst: &mut [f32], out: &[f32; BLOCK * BLOCK], i: usize, j: usize) {
        let (rows, cols) = (BLOCK.min(self.rows - i.min(self.rows)), BLOCK.min(self.cols - j.min(self.cols)));
        let accumulate = self.accumulate;
        let put = |d: &mut f32, v: f32| *d = if accumulate { *d + v } else { v };
        if self.transposed {
            for c in 0..cols {
                let line = &mut dst[(j + c) * self.rows + i..][..rows];
                line.iter_mut().enumerate().for_each(|(r, d)| put(d, out[r * BLOCK + c]));
            }
        } else {
            for r in 0..rows {
                let line = &mut dst[(i + r) * self.cols + j..][..cols];
                line.iter_mut().zip(&out[r * BLOCK..]).for_each(|(d, &v)| put(d, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matmul::{matmul, Threads};

    /// `x` rounded to the nearest bf16, ties to even.
    fn round(x: f32) -> f32 {
        let b = x.to_bits();
        f32::from_bits(b.wrapping_add(0x7fff + ((b >> 16) & 1)) & 0xffff_0000)
    }

    fn values(n: usize, seed: f32) -> Vec<f32> {
        (0..n).map(|i| ((i as f32 * seed).sin() * 1.7).clamp(-1.0, 1.0)).collect()
    }

    /// Every kernel this CPU runs, each layout of each operand, with and
    /// without accumulation, at shapes that are no multiple of the tiles:
    /// equal to the f64 product of the rounded operands to f32 summation
    /// error, and to the f32 product within bf16's rounding (2⁻⁸ of
    /// `Σ |a||b|`, each operand rounded with relative error ≤ 2⁻⁹).
    #[test]
    fn products_match_f32_within_bf16_rounding() {
        {
            let Ok(mut gemm) = Bf16Gemm::new() else {
                eprintln!("skipped: this CPU lacks the bf16 instructions");
                return;
            };
            for (m, k, n) in [(1, 1, 1), (5, 7, 3), (50, 33, 17), (37, 70, 65), (64, 50, 96), (3, 0, 4)] {
                let (a, b) = (values(m * k, 0.37), values(k * n, 0.11));
                let (at, bt) = (transpose(&a, m, k), transpose(&b, k, n));
                let views = [
                    (MatRef::new(&a, m, k), MatRef::new(&b, k, n)),
                    (MatRef::new(&at, k, m).t(), MatRef::new(&bt, n, k).t()),
                    (MatRef::new(&a, m, k), MatRef::new(&bt, n, k).t()),
                    (MatRef::new(&at, k, m).t(), MatRef::new(&b, k, n)),
                ];
                for (v, (av, bv)) in views.into_iter().enumerate() {
                    for accumulate in [false, true] {
                        let start = values(m * n, 0.53);
                        let mut got = start.clone();
                        gemm.matmul(&mut got, av, bv, accumulate);
                        let mut f32_product = start.clone();
                        matmul(&mut f32_product, av, bv, accumulate, Threads(1));
                        for (idx, (&g, &f)) in got.iter().zip(&f32_product).enumerate() {
                            let (i, j) = (idx / n, idx % n);
                            let terms = (0..k).map(|p| (a[i * k + p] as f64, b[p * n + j] as f64));
                            let bound: f64 = terms.clone().map(|(x, y)| (x * y).abs()).sum();
                            let rounded: f64 =
                                terms.map(|(x, y)| round(x as f32) as f64 * round(y as f32) as f64).sum();
                            let want = rounded + if accumulate { start[idx] as f64 } else { 0.0 };
                            let what = format!("{m}×{k}×{n} views {v} accumulate {accumulate} at {idx}");
                            assert!((g as f64 - want).abs() <= 1e-5 * (bound + 1.0), "{what}: {g} against {want}");
                            assert!((g - f).abs() as f64 <= bound / 256.0 + 1e-5, "{what}: {g} against f32 {f}");
                        }
                    }
                }
            }
        }
    }

    fn transpose(x: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        (0..rows * cols).map(|i| x[(i % rows) * cols + i / rows]).collect()
    }

    #[test]
    fn a_cpu_without_the_instructions_is_told_what_it_lacks() {
        let none = CpuFeatures::default();
        let message = check_bf16(none).unwrap_err().to_string();
        assert!(message.starts_with("bf16 precision needs") && message.contains("lacks AVX-512-BF16"), "{message}");
        let vector_only = CpuFeatures { avx512_bf16: true, ..none };
        let message = check_bf16(vector_only).unwrap_err().to_string();
        assert!(message.contains("lacks AMX-BF16"), "{message}");
        let unpermitted = CpuFeatures { amx_bf16: true, ..vector_only };
        assert!(check_bf16(unpermitted).unwrap_err().to_string().contains("permission"));
        assert!(check_bf16(CpuFeatures { amx_permitted: true, ..unpermitted }).is_ok());
    }
}
