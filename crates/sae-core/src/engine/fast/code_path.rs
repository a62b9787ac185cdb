//! The buffers and passes of each code in the fast engine: JumpReLU's and
//! Gated's forward pass from the encoder's product (the standard code's is
//! the activation), and every code's backward pass from the code's
//! gradient to the encoder's product and the architecture's own tensors.
//!
//! The standard code: `dz = (dh + pg) · act'(h)`, `pg` the penalty's
//! gradient, `act'(h)` `h (1 − h)` for a sigmoid, `[h > 0]` for a ReLU.
//! JumpReLU: `dz = dh · H(z − θ)` and the thresholds' pseudo-derivatives
//! (`jumprelu.rs`); its penalty `λ · mean_b ‖h_b‖₀` reaches only the
//! thresholds. Gated, with `p = W₁x̃`, gate `π = p + b₁`, magnitude
//! `m = e^{r} ⊙ p + b_mag`, code `h = H(π) ⊙ ReLU(m)`, and the auxiliary
//! reconstruction `y_a = tanh(ReLU(π) W₂ᵀ + b₂)` through the decoder held
//! constant:
//!
//! ```text
//! L     = mse(y, t) + λ · mean_b Σ_j ReLU(π)_bj + mse(y_a, t)
//! dm    = dh ⊙ [h > 0]            db_mag = Σ_b dm     dr = Σ_b dm ⊙ e^{r} ⊙ p
//! da    = dz_a W₂                 (dz_a: y_a's output gradient; W₂, b₂ get none)
//! dπ    = (da + λ/B) ⊙ [π > 0]    db₁ = Σ_b dπ
//! dp    = dπ + e^{r} ⊙ dm         dW₁ = dpᵀ x̃     db_pre = −(Σ_b dp) W₁
//! ```

use crate::gated::{gated_code, magnitude_scale};
use crate::jumprelu::{jump, jump_backward, thresholds};
use crate::matmul::MatRef;
use crate::model::add_bias_apply;
use crate::{Activation, Architecture, SparseAutoencoder, SparsityConfig};

use super::gradients::{output_gradient, Gradients};
use super::products::Products;

/// A code's own buffers, for one batch size.
#[derive(Debug, Clone)]
pub(super) enum CodePath {
    /// `act(W₁x̃ + b₁)`: nothing of its own.
    Standard,
    /// JumpReLU's pre-activations `z` (`[B, H]`) and thresholds `θ` (`[H]`).
    Jump { z: Vec<f32>, theta: Vec<f32> },
    /// Gated's buffers.
    Gated(Box<GatedBuffers>),
}

/// Gated's products, gate, scales and auxiliary reconstruction.
#[derive(Debug, Clone)]
pub(super) struct GatedBuffers {
    /// `p = W₁x̃`, `[B, H]`.
    p: Vec<f32>,
    /// `π`, then `ReLU(π)`, `[B, H]`.
    gate: Vec<f32>,
    /// `e^{r_mag}`, `[H]`.
    scale: Vec<f32>,
    /// `y_a`, then its output gradient, `[B, D]`.
    aux: Vec<f32>,
    /// `da`, `[B, H]`.
    d_gate: Vec<f32>,
    /// The decoder bias's gradient from the auxiliary path, discarded.
    frozen_bias: Vec<f32>,
    /// `Σ_b dp`, `[H]`, for the pre-encoder bias's gradient.
    d_p_sum: Vec<f32>,
}

/// Back through the sigmoid: `dz₁ = (dh + pg_j) · h (1 − h)` in place of
/// `dh` (`[B, H]`), summed into `db₁`; `pg` is the penalty's gradient.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn sigmoid_backward(d_code: &mut [f32], code: &[f32], penalty_grad: &[f32], d_bias: &mut [f32]) {
    let h = penalty_grad.len();
    d_bias.fill(0.0);
    for (dz_row, h_row) in d_code.chunks_exact_mut(h).zip(code.chunks_exact(h)) {
        for (((dz, &hv), &kg), db) in dz_row.iter_mut().zip(h_row).zip(penalty_grad).zip(d_bias.iter_mut()) {
            *dz = (*dz + kg) * hv * (1.0 - hv);
            *db += *dz;
        }
    }
}

/// Back through a ReLU: `dz₁ = (dh + pg_j) · [h > 0]` in place of `dh`,
/// summed into `db₁`.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn relu_backward(d_code: &mut [f32], code: &[f32], penalty_grad: &[f32], d_bias: &mut [f32]) {
    let h = penalty_grad.len();
    d_bias.fill(0.0);
    for (dz_row, h_row) in d_code.chunks_exact_mut(h).zip(code.chunks_exact(h)) {
        for (((dz, &hv), &kg), db) in dz_row.iter_mut().zip(h_row).zip(penalty_grad).zip(d_bias.iter_mut()) {
            *dz = if hv > 0.0 { *dz + kg } else { 0.0 };
            *db += *dz;
        }
    }
}

impl CodePath {
    /// The buffers of a model of `architecture`, for batches of `b` images
    /// of `d` pixels and `h` units.
    pub(super) fn new(architecture: Architecture, b: usize, d: usize, h: usize) -> Self {
        match architecture {
            Architecture::Standard => Self::Standard,
            Architecture::JumpRelu => Self::Jump { z: vec![0.0; b * h], theta: Vec::with_capacity(h) },
            Architecture::Gated => Self::Gated(Box::new(GatedBuffers {
                p: vec![0.0; b * h],
                gate: vec![0.0; b * h],
                scale: Vec::with_capacity(h),
                aux: vec![0.0; b * d],
                d_gate: vec![0.0; b * h],
                frozen_bias: vec![0.0; d],
                d_p_sum: vec![0.0; h],
            })),
        }
    }

    /// The code from the encoder's product `W₁x̃`, in place in `code`
    /// (`[B, H]`), for a JumpReLU or Gated model (the standard code is the
    /// caller's).
    pub(super) fn encode(&mut self, model: &SparseAutoencoder, code: &mut [f32]) {
        let p = &model.params;
        match self {
            Self::Standard => {}
            Self::Jump { z, theta } => {
                add_bias_apply(code, &p.enc_b, |v| v);
                z.copy_from_slice(code);
                thresholds(&p.log_threshold, theta);
                jump(z, theta, code);
            }
            Self::Gated(g) => {
                g.p.copy_from_slice(code);
                magnitude_scale(&p.r_mag, &mut g.scale);
                gated_code(&g.p, &p.enc_b, &g.scale, &p.b_mag, &mut g.gate, code);
            }
        }
    }

    /// The backward pass from `d_code` (`dh`, `[B, H]`) to the gradient of
    /// the encoder's product, left in `d_code`, filling the encoder bias's
    /// and the architecture's own gradients; `penalty_grad` is the standard
    /// code's penalty gradient per unit. Returns the unweighted penalty of
    /// JumpReLU (the mean L0 norm) or Gated (the mean L1 norm of `ReLU(π)`),
    /// 0 for the standard code, and Gated's auxiliary MSE (0 otherwise).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn backward(
        &mut self,
        model: &SparseAutoencoder,
        sparsity: &SparsityConfig,
        code: &[f32],
        penalty_grad: &[f32],
        d_code: &mut [f32],
        target: &[f32],
        g: &mut Gradients,
        products: &mut Products<'_>,
    ) -> (f64, f64) {
        let b = code.len() / model.config.hidden;
        let per_image = sparsity.strength() as f32 / b as f32;
        match self {
            Self::Standard => {
                match model.config.activation {
                    Activation::Sigmoid => sigmoid_backward(d_code, code, penalty_grad, &mut g.enc_b),
                    Activation::Relu => relu_backward(d_code, code, penalty_grad, &mut g.enc_b),
                }
                (0.0, 0.0)
            }
            Self::Jump { z, theta } => {
                let SparsityConfig::JumpRelu { bandwidth, .. } = *sparsity else {
                    unreachable!("validate pairs a JumpReLU model with its mechanism")
                };
                let (enc_b, log_threshold) = (&mut g.enc_b, &mut g.log_threshold);
                jump_backward(d_code, z, theta, per_image, bandwidth as f32, enc_b, log_threshold);
                let fired = code.iter().filter(|v| **v != 0.0).count();
                (fired as f64 / b as f64, 0.0)
            }
            Self::Gated(buffers) => buffers.backward(model, code, d_code, target, per_image, g, products),
        }
    }

    /// `Σ_b dp` for a Gated model (the encoder's product is not the
    /// pre-activation plus a bias), or `d_enc_b` for every other.
    pub(super) fn product_gradient_sum<'a>(&'a self, d_enc_b: &'a [f32]) -> &'a [f32] {
        match self {
            Self::Gated(g) => &g.d_p_sum,
            _ => d_enc_b,
        }
    }
}

impl GatedBuffers {
    /// [`CodePath::backward`] for Gated; `per_image` is λ/B.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        model: &SparseAutoencoder,
        code: &[f32],
        d_code: &mut [f32],
        target: &[f32],
        per_image: f32,
        g: &mut Gradients,
        products: &mut Products<'_>,
    ) -> (f64, f64) {
        let (d, h) = (model.config.input, model.config.hidden);
        let b = code.len() / h;
        let p = &model.params;
        // The magnitude path: dm where the code fires, then e^{r} dm into dp.
        g.b_mag.fill(0.0);
        g.r_mag.fill(0.0);
        for ((dc, c), pr) in d_code.chunks_exact_mut(h).zip(code.chunks_exact(h)).zip(self.p.chunks_exact(h)) {
            for j in 0..h {
                let dm = if c[j] > 0.0 { dc[j] } else { 0.0 };
                g.b_mag[j] += dm;
                g.r_mag[j] += dm * self.scale[j] * pr[j];
                dc[j] = dm * self.scale[j];
            }
        }
        // The auxiliary reconstruction from ReLU(π) through the decoder held constant.
        self.gate.iter_mut().for_each(|v| *v = v.max(0.0));
        let l1 = self.gate.iter().map(|&v| f64::from(v)).sum::<f64>() / b as f64;
        let dec_w = MatRef::new(&p.dec_w, d, h);
        products.matmul(&mut self.aux, MatRef::new(&self.gate, b, h), dec_w.t(), false);
        let scale = 2.0 / (b * d) as f32;
        let aux_sse = output_gradient(&mut self.aux, target, &p.dec_b, &mut self.frozen_bias, scale);
        products.matmul(&mut self.d_gate, MatRef::new(&self.aux, b, d), dec_w, false);
        // The gate: its penalty and the auxiliary path where it is open.
        g.enc_b.fill(0.0);
        self.d_p_sum.fill(0.0);
        for ((dc, a), da) in d_code.chunks_exact_mut(h).zip(self.gate.chunks_exact(h)).zip(self.d_gate.chunks_exact(h))
        {
            for j in 0..h {
                let d_pi = if a[j] > 0.0 { da[j] + per_image } else { 0.0 };
                g.enc_b[j] += d_pi;
                dc[j] += d_pi;
                self.d_p_sum[j] += dc[j];
            }
        }
        (l1, aux_sse / (b * d) as f64)
    }
}
