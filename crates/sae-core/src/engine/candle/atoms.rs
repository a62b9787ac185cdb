//! Unit-norm decoder atoms on candle tensors: the gradient's component
//! along each atom (a column of `W₂`, `[D, H]`) removed before Adam's step,
//! the atoms rescaled to unit norm after it, as the fast engine does (the
//! norms here in f64, there in f32: the two agree within the oracle's
//! tolerance).

use candle_core::backprop::GradStore;
use candle_core::{DType, Var};

/// Replaces the gradient of `dec_w` in `grads` by its part perpendicular
/// to each atom: `g_j − (g_j·w_j / w_j·w_j) w_j`.
pub fn remove_parallel_gradient(grads: &mut GradStore, dec_w: &Var) -> candle_core::Result<()> {
    let w = dec_w.as_tensor();
    let Some(g) = grads.remove(w) else { return Ok(()) };
    let along = ((&g * w)?.sum_keepdim(0)? / w.sqr()?.sum_keepdim(0)?.clamp(f32::MIN_POSITIVE, f32::MAX)?)?;
    grads.insert(w, (&g - w.broadcast_mul(&along)?)?);
    Ok(())
}

/// Rescales every atom of `dec_w` to unit norm, the norms summed in f64.
pub fn normalise_atoms(dec_w: &Var) -> candle_core::Result<()> {
    let w = dec_w.as_tensor();
    let norms = w.to_dtype(DType::F64)?.sqr()?.sum_keepdim(0)?.sqrt()?.clamp(f64::MIN_POSITIVE, f64::MAX)?;
    dec_w.set(&w.to_dtype(DType::F64)?.broadcast_div(&norms)?.to_dtype(DType::F32)?)
}
