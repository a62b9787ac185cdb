//! The fast engine's matrix products in the step's precision: `gemm` in
//! f32, or bf16 operands on AMX.

use crate::matmul::{matmul, MatRef, Threads};

use super::bf16::Bf16Gemm;

/// How a training step multiplies: through `gemm` in f32 on some threads,
/// or with bf16 operands through [`Bf16Gemm`] (one thread).
pub(crate) enum Products<'a> {
    /// `gemm`, f32.
    F32(Threads),
    /// bf16 operands, f32 sums.
    Bf16(&'a mut Bf16Gemm),
}

impl Products<'_> {
    /// [`matmul`] in this precision.
    pub(crate) fn matmul(&mut self, dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>, accumulate: bool) {
        match self {
            Self::F32(threads) => matmul(dst, a, b, accumulate, *threads),
            Self::Bf16(gemm) => gemm.matmul(dst, a, b, accumulate),
        }
    }
}
