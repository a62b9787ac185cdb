//! The loss of a batch and its gradient with respect to every parameter,
//! derived by hand and computed with fused loops into reused buffers.
//!
//! For inputs `x` `[B, D]`, clean targets `t`, code `h = σ(x W₁ᵀ + b₁)` and
//! reconstruction `y = tanh(h W₂ᵀ + b₂)`:
//!
//! ```text
//! L      = Σ (y − t)² / (B·D) + s · P(ρ̂),  ρ̂_j = Σ_b h_bj / B
//! dz₂    = 2 (y − t) / (B·D) ⊙ (1 − y²)          dW₂ = dz₂ᵀ h    db₂ = Σ_b dz₂
//! dh     = dz₂ W₂ + s · ∂P/∂ρ̂_j / B
//! dz₁    = dh ⊙ h (1 − h)                         dW₁ = dz₁ᵀ x    db₁ = Σ_b dz₁
//! ```
//!
//! The penalty `s · P` is β times the mean (or sum) of KL(ρ‖ρ̂_j) for KL,
//! the weight times `Σ_j ρ̂_j` for L1, and nothing otherwise. For TopK, `h`
//! is the code after selection: a dropped unit's `h` is 0, so `h (1 − h)`
//! stops its gradient and only the kept units learn.

use crate::activation::{sigmoid, tanh};
use crate::matmul::{matmul, MatRef, Threads};
use crate::model::add_bias_apply;
use crate::topk::keep_top_k;
use crate::{ModelConfig, Params, SparseAutoencoder, SparsityConfig};

/// Independent partial sums of the squared error: they let the compiler
/// vectorise the sum without reordering any floating-point addition.
const LANES: usize = 8;

/// `Σ (y − t)²` over one image, in [`LANES`] partial sums.
#[inline(always)]
fn squared_error(y: &[f32], t: &[f32]) -> f64 {
    let mut acc = [0.0f32; LANES];
    let n = y.len() / LANES * LANES;
    for (yc, tc) in y[..n].chunks_exact(LANES).zip(t[..n].chunks_exact(LANES)) {
        for k in 0..LANES {
            let d = yc[k] - tc[k];
            acc[k] += d * d;
        }
    }
    let tail: f32 = y[n..].iter().zip(&t[n..]).map(|(a, b)| (a - b) * (a - b)).sum();
    acc.iter().map(|&a| a as f64).sum::<f64>() + tail as f64
}

/// For a batch whose decoder pre-activations are `z` (`[B, D]`): computes
/// `y = tanh(z + b₂)`, returns `Σ (y − t)²`, and leaves
/// `dz₂ = scale · (y − t) · (1 − y²)` in `z`, summed into `db₂`. Three
/// simple passes over each row while it stays in L1, each of which
/// vectorises.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn output_gradient(z: &mut [f32], target: &[f32], bias: &[f32], d_bias: &mut [f32], scale: f32) -> f64 {
    let d = bias.len();
    d_bias.fill(0.0);
    let mut sse = 0.0;
    for (row, t_row) in z.chunks_exact_mut(d).zip(target.chunks_exact(d)) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = tanh(*v + b);
        }
        sse += squared_error(row, t_row);
        for ((v, &t), db) in row.iter_mut().zip(t_row).zip(d_bias.iter_mut()) {
            let y = *v;
            *v = scale * (y - t) * (1.0 - y * y);
            *db += *v;
        }
    }
    sse
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

/// The parts of a batch's loss.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossParts {
    /// Per-pixel mean squared error against the clean target.
    pub mse: f64,
    /// The unweighted penalty term ([`SparsityConfig::penalty`]).
    pub penalty: f64,
    /// `mse + strength · penalty`, the value minimised.
    pub total: f64,
}

/// d loss / d each parameter, with the model's layout.
pub type Gradients = Params<Vec<f32>>;

/// Buffers for one batch size, reused from step to step so that training
/// allocates nothing after the first step.
#[derive(Debug, Clone)]
pub struct Workspace {
    batch: usize,
    code: Vec<f32>,
    recon: Vec<f32>,
    d_code: Vec<f32>,
    rho_hat: Vec<f32>,
    penalty_grad: Vec<f32>,
    top_k_scratch: Vec<u64>,
    /// The gradients of the last [`Workspace::loss_and_gradients`] call.
    pub grads: Gradients,
}

impl Workspace {
    /// Buffers for batches of `batch` images of a model shaped `config`.
    pub fn new(config: ModelConfig, batch: usize) -> Self {
        let (d, h) = (config.input, config.hidden);
        Self {
            batch,
            code: vec![0.0; batch * h],
            recon: vec![0.0; batch * d],
            d_code: vec![0.0; batch * h],
            rho_hat: vec![0.0; h],
            penalty_grad: vec![0.0; h],
            top_k_scratch: Vec::with_capacity(h),
            grads: Params::shapes(config).sizes().map(|n| vec![0.0; n]),
        }
    }

    /// Computes the loss of one batch and leaves its gradients in
    /// [`Workspace::grads`].
    ///
    /// # Shapes
    /// `input`, `target`: `[batch, D]`.
    pub fn loss_and_gradients(
        &mut self,
        model: &SparseAutoencoder,
        input: &[f32],
        target: &[f32],
        sparsity: &SparsityConfig,
        threads: Threads,
    ) -> LossParts {
        let (d, h, b) = (model.config.input, model.config.hidden, self.batch);
        assert_eq!(input.len(), b * d, "input must be [batch, D]");
        assert_eq!(target.len(), b * d, "target must be [batch, D]");
        let g = &mut self.grads;

        // Forward, encoder: h = σ(x W₁ᵀ + b₁) (then TopK's selection), and ρ̂.
        matmul(&mut self.code, MatRef::new(input, b, d), MatRef::new(&model.params.enc_w, h, d).t(), false, threads);
        add_bias_apply(&mut self.code, &model.params.enc_b, sigmoid);
        if let Some(k) = model.config.top_k {
            keep_top_k(&mut self.code, h, k, &mut self.top_k_scratch);
        }
        self.rho_hat.fill(0.0);
        for row in self.code.chunks_exact(h) {
            self.rho_hat.iter_mut().zip(row).for_each(|(r, v)| *r += v);
        }
        self.rho_hat.iter_mut().for_each(|r| *r /= b as f32);

        // Forward, decoder, fused with the output gradient: dz₂ overwrites y.
        matmul(
            &mut self.recon,
            MatRef::new(&self.code, b, h),
            MatRef::new(&model.params.dec_w, d, h).t(),
            false,
            threads,
        );
        let sse = output_gradient(&mut self.recon, target, &model.params.dec_b, &mut g.dec_b, 2.0 / (b * d) as f32);
        let d_z2 = MatRef::new(&self.recon, b, d);

        // Decoder weights, then back through W₂ into the code.
        matmul(&mut g.dec_w, d_z2.t(), MatRef::new(&self.code, b, h), false, threads);
        matmul(&mut self.d_code, d_z2, MatRef::new(&model.params.dec_w, d, h), false, threads);

        // The penalty's gradient joins at the code; then through the sigmoid.
        sparsity.code_gradient(&self.rho_hat, b, &mut self.penalty_grad);
        sigmoid_backward(&mut self.d_code, &self.code, &self.penalty_grad, &mut g.enc_b);
        matmul(&mut g.enc_w, MatRef::new(&self.d_code, b, h).t(), MatRef::new(input, b, d), false, threads);

        let mse = sse / (b * d) as f64;
        let penalty = sparsity.penalty(&self.rho_hat);
        LossParts { mse, penalty, total: mse + sparsity.strength() * penalty }
    }
}
