//! JumpReLU's and Gated's codes from candle ops, for autograd, as the
//! fast engine's `code_path.rs` computes them by hand.
//!
//! JumpReLU's pseudo-derivatives are built from ops autograd already
//! knows: the threshold enters as `θ − θ̄` (θ̄ detached), which is exactly
//! 0 in value and has derivative 1, times the detached pseudo-derivative,
//! so the value is the paper's code and L0 norm and the gradient with
//! respect to θ the paper's, on any device.

use candle_core::{DType, Tensor};

/// JumpReLU's code `z · H(z − θ)` and L0 norm `mean_b Σ_j H(z_bj − θ_j)`
/// from pre-activations `z` (`[n, H]`), `θ = e^{log_threshold}`, with the
/// rectangle kernel of width `bandwidth` giving both their derivative with
/// respect to θ.
pub fn jump(z: &Tensor, log_threshold: &Tensor, bandwidth: f64) -> candle_core::Result<(Tensor, Tensor)> {
    let n = z.dim(0)? as f64;
    let theta = log_threshold.exp()?;
    let fixed = theta.detach();
    let fires = z.broadcast_gt(&fixed)?.to_dtype(DType::F32)?;
    let kernel =
        z.detach().broadcast_sub(&fixed)?.affine(1.0 / bandwidth, 0.0)?.abs()?.lt(0.5)?.to_dtype(DType::F32)?;
    // Zero in value; −K/ε per unit of θ in gradient.
    let step_derivative = kernel.affine(-1.0 / bandwidth, 0.0)?.broadcast_mul(&(&theta - &fixed)?)?;
    let code = ((z * &fires)? + step_derivative.broadcast_mul(&fixed)?)?;
    let l0 = ((fires.sum_all()? + step_derivative.sum_all()?)? / n)?;
    Ok((code, l0))
}

/// Gated's code `H(π) ⊙ ReLU(e^{r_mag} ⊙ p + b_mag)` and gate `ReLU(π)`,
/// `π = p + gate_bias`, from the encoder's product `p` (`[n, H]`).
pub fn gated(p: &Tensor, gate_bias: &Tensor, r_mag: &Tensor, b_mag: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
    let gate = p.broadcast_add(gate_bias)?;
    let magnitude = p.broadcast_mul(&r_mag.exp()?)?.broadcast_add(b_mag)?.relu()?;
    let open = gate.gt(0.0)?.to_dtype(DType::F32)?;
    Ok(((magnitude * open)?, gate.relu()?))
}

/// Gated's auxiliary loss: the MSE against `target` of the reconstruction
/// `tanh(gate W₂ᵀ + b₂)` through the decoder `dec_w` `[D, H]`, `dec_b`
/// held constant.
pub fn gated_aux(gate: &Tensor, dec_w: &Tensor, dec_b: &Tensor, target: &Tensor) -> candle_core::Result<Tensor> {
    let recon = gate.matmul(&dec_w.detach().t()?)?.broadcast_add(&dec_b.detach())?.tanh()?;
    candle_nn::loss::mse(&recon, target)
}
