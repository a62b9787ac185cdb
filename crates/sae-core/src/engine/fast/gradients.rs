//! The loss of a batch and its gradient with respect to every parameter,
//! derived by hand and computed with fused loops into reused buffers.
//!
//! For inputs `x` `[B, D]` (less the pre-encoder bias, `x − b_pre`, for a
//! model that has one), clean targets `t`, code `h = act(x W₁ᵀ + b₁)` and
//! reconstruction `y = tanh(h W₂ᵀ + b₂)`:
//!
//! ```text
//! L      = Σ (y − t)² / (B·D) + s · P(ρ̂),  ρ̂_j = Σ_b h_bj / B
//! dz₂    = 2 (y − t) / (B·D) ⊙ (1 − y²)          dW₂ = dz₂ᵀ h    db₂ = Σ_b dz₂
//! dh     = dz₂ W₂ + s · ∂P/∂ρ̂_j / B
//! dz₁    = dh ⊙ act'(h)                           dW₁ = dz₁ᵀ x    db₁ = Σ_b dz₁
//! db_pre = −db₁ W₁
//! ```
//!
//! `act'(h)` is `h (1 − h)` for a sigmoid and `[h > 0]` for a ReLU. The
//! penalty `s · P` is β times the mean (or sum) of KL(ρ‖ρ̂_j) for KL, the
//! weight times `Σ_j ρ̂_j` for L1, and nothing otherwise. For TopK and
//! BatchTopK, `h` is the code after selection: a dropped unit's `h` is 0,
//! so `act'(h)` stops its gradient and only the kept units learn. AuxK's
//! term adds its own path from the dead latents (`auxk.rs`). When TopK or
//! BatchTopK keep at most an eighth of the units, the products with the
//! code (`h W₂ᵀ`, `dz₂ᵀ h`, `dz₂ W₂`, `dz₁ᵀ x`) visit only its non-zero
//! entries (`sparse.rs`); every other step goes through `gemm`, or with
//! `precision = "bf16"` through the bf16 products (`bf16/`): operands
//! rounded to bf16, sums and everything else in f32.

use crate::activation::tanh;
use crate::engine::LossParts;
use crate::matmul::{MatRef, Threads};
use crate::model::{activate, centre};
use crate::topk::{keep_top_k, min_positive};
use crate::{CoreError, ModelConfig, Params, Precision, SparseAutoencoder, SparsityConfig};

use super::auxk::AuxState;
use super::bf16::Bf16Gemm;
use super::code_path::CodePath;
use super::pre_bias::pre_bias_gradient;
use super::products::Products;
use super::sparse::{backward, decode, encoder_gradient, pays, SparseCode, SparseDecoder};

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
pub(super) fn output_gradient(z: &mut [f32], target: &[f32], bias: &[f32], d_bias: &mut [f32], scale: f32) -> f64 {
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
    /// The batch less the pre-encoder bias, for a model that has one.
    centred: Vec<f32>,
    /// The non-zero entries of `code`, and the transposed decoder, for a
    /// step through the sparse kernels.
    entries: SparseCode,
    decoder: SparseDecoder,
    /// Whether a sparse enough code may go through the sparse kernels
    /// (always, but in the test that holds them to `gemm`'s results).
    sparse_kernels: bool,
    /// AuxK's record of when each latent last fired, and its buffers, from
    /// the first step that needs them.
    aux: Option<AuxState>,
    /// The smallest activation BatchTopK kept in the last step.
    kept_min: Option<f32>,
    /// The bf16 products, with `precision = "bf16"`.
    bf16: Option<Bf16Gemm>,
    /// JumpReLU's or Gated's buffers.
    code_path: CodePath,
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
            centred: Vec::new(),
            entries: SparseCode::default(),
            decoder: SparseDecoder::default(),
            sparse_kernels: true,
            aux: None,
            kept_min: None,
            bf16: None,
            code_path: CodePath::new(config.architecture, batch, d, h),
            grads: Params::shapes(config).sizes().map(|n| vec![0.0; n]),
        }
    }

    /// Buffers as [`Workspace::new`], for steps whose dense products run in
    /// `precision`.
    ///
    /// # Errors
    /// [`CoreError::Bf16Unsupported`] for bf16 on a machine without the
    /// instructions ([`crate::check_bf16`]).
    pub fn with_precision(config: ModelConfig, batch: usize, precision: Precision) -> Result<Self, CoreError> {
        let bf16 = match precision {
            Precision::F32 => None,
            Precision::Bf16 => Some(Bf16Gemm::new()?),
        };
        Ok(Self { bf16, ..Self::new(config, batch) })
    }

    /// The precision of the dense products.
    pub fn precision(&self) -> Precision {
        if self.bf16.is_some() {
            Precision::Bf16
        } else {
            Precision::F32
        }
    }

    /// The smallest activation BatchTopK kept in the last step (its
    /// threshold's next observation); `None` for other mechanisms.
    pub fn kept_min(&self) -> Option<f32> {
        self.kept_min
    }

    /// Images since each latent last fired, as AuxK counts them; `None`
    /// before a step with AuxK.
    pub fn since_fired(&self) -> Option<&[u64]> {
        self.aux.as_ref().map(AuxState::since_fired)
    }

    /// Takes up AuxK's record `since_fired` (a stored training state's) for
    /// a model of `input` pixels.
    pub(crate) fn resume_since_fired(&mut self, input: usize, since_fired: Vec<u64>) {
        self.aux = Some(AuxState::resume(self.batch, input, since_fired));
    }

    /// The batch size these buffers hold.
    pub(crate) fn batch(&self) -> usize {
        self.batch
    }

    /// The forward pass of the encoder: `h = act(x W₁ᵀ + b₁)` (or
    /// JumpReLU's or Gated's code), then TopK's
    /// or BatchTopK's selection (AuxK keeps the code before it and counts
    /// which latents fired), and ρ̂.
    fn encode(
        &mut self,
        model: &SparseAutoencoder,
        input: &[f32],
        sparsity: &SparsityConfig,
        products: &mut Products<'_>,
    ) {
        let (d, h, b) = (model.config.input, model.config.hidden, self.batch);
        let (x, w1) = (MatRef::new(input, b, d), MatRef::new(&model.params.enc_w, h, d).t());
        products.matmul(&mut self.code, x, w1, false);
        match self.code_path {
            CodePath::Standard => activate(&mut self.code, &model.params.enc_b, model.config.activation),
            _ => self.code_path.encode(model, &mut self.code),
        }
        if sparsity.aux().is_some() {
            let state = self.aux.get_or_insert_with(|| AuxState::new(b, d, h));
            state.dense.copy_from_slice(&self.code);
        }
        if let Some(k) = sparsity.top_k() {
            keep_top_k(&mut self.code, h, k, &mut self.top_k_scratch);
        }
        self.kept_min = sparsity.batch_top_k().map(|k| {
            keep_top_k(&mut self.code, b * h, k.saturating_mul(b), &mut self.top_k_scratch);
            min_positive(&self.code)
        });
        if let (Some(_), Some(state)) = (sparsity.aux(), self.aux.as_mut()) {
            state.track(&self.code);
        }
        self.rho_hat.fill(0.0);
        for row in self.code.chunks_exact(h) {
            self.rho_hat.iter_mut().zip(row).for_each(|(r, v)| *r += v);
        }
        self.rho_hat.iter_mut().for_each(|r| *r /= b as f32);
    }

    /// Computes the loss of one batch and leaves its gradients in
    /// [`Workspace::grads`]. `threads` is what `gemm`'s f32 products may
    /// use; the bf16 products run on one.
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
        let mut bf16 = self.bf16.take();
        let mut products = match bf16.as_mut() {
            Some(gemm) => Products::Bf16(gemm),
            None => Products::F32(threads),
        };
        let mut centred = std::mem::take(&mut self.centred);
        let input = centre(input, &model.params.pre_b, &mut centred);
        let loss = self.step(model, input, target, sparsity, &mut products);
        let sums = self.code_path.product_gradient_sum(&self.grads.enc_b);
        pre_bias_gradient(sums, &model.params.enc_w, &mut self.grads.pre_b);
        (self.bf16, self.centred) = (bf16, centred);
        loss
    }

    /// [`Workspace::loss_and_gradients`] with its products, for `input`
    /// as the encoder sees it (less the pre-encoder bias).
    fn step(
        &mut self,
        model: &SparseAutoencoder,
        input: &[f32],
        target: &[f32],
        sparsity: &SparsityConfig,
        products: &mut Products<'_>,
    ) -> LossParts {
        let (d, h, b) = (model.config.input, model.config.hidden, self.batch);
        assert!(input.len() == b * d && target.len() == b * d, "input and target must be [batch, D]");
        self.encode(model, input, sparsity, products);
        let g = &mut self.grads;
        let mut aux = sparsity.aux().zip(self.aux.as_mut());

        // The products with the code go through the sparse kernels when
        // TopK or BatchTopK keep few enough units (`sparse.rs`).
        let kept = sparsity.top_k().or(sparsity.batch_top_k());
        let sparse = self.sparse_kernels && kept.is_some_and(|k| pays(k, h));
        let dec_w = &model.params.dec_w;
        if sparse {
            self.decoder.load(dec_w, h);
        }
        // Forward, decoder, fused with the output gradient: dz₂ overwrites y
        // (once AuxK has taken its residual t − y).
        let entries = sparse.then_some((&mut self.entries, &self.decoder));
        decode(&self.code, h, dec_w, entries, &mut self.recon, products);
        if let Some((_, state)) = &mut aux {
            state.residual(&self.recon, target, &model.params.dec_b);
        }
        let sse = output_gradient(&mut self.recon, target, &model.params.dec_b, &mut g.dec_b, 2.0 / (b * d) as f32);

        // Decoder weights, then back through W₂ into the code.
        let entries = sparse.then_some((&self.entries, &mut self.decoder));
        backward(&self.code, h, &self.recon, dec_w, entries, &mut g.dec_w, false, &mut self.d_code, products);

        // The penalty's gradient joins at the code; then through the
        // activation, and AuxK's path joins.
        sparsity.code_gradient(&self.rho_hat, b, &mut self.penalty_grad);
        let (code, penalty_grad) = (&self.code, &self.penalty_grad);
        let (code_penalty, gated_aux) =
            self.code_path.backward(model, sparsity, code, penalty_grad, &mut self.d_code, target, g, products);
        // AuxK's code goes through the sparse kernels when it too is
        // sparse enough; through `gemm` it adds to the finished `dW₂`.
        let aux_sparse = sparse && sparsity.aux().is_none_or(|config| pays(config.aux_k, h));
        if sparse && !aux_sparse {
            self.decoder.store(&mut g.dec_w);
        }
        let mut penalty = sparsity.penalty(&self.rho_hat) + code_penalty;
        if let Some((config, state)) = aux {
            let decoder = aux_sparse.then_some(&mut self.decoder);
            penalty += state.loss_and_backward(&config, model, &mut self.d_code, g, decoder, products);
        }
        if aux_sparse {
            self.decoder.store(&mut g.dec_w);
        }
        encoder_gradient(aux_sparse, &self.d_code, h, input, &mut g.enc_w, products);
        let mse = sse / (b * d) as f64;
        LossParts { mse, penalty, total: mse + sparsity.strength() * penalty + gated_aux }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, AuxK, Init};

    /// The sparse kernels give the gradients `gemm` gives, to float
    /// rounding, for TopK and BatchTopK with and without AuxK (its own
    /// code sparse, or through `gemm`), sigmoid and ReLU codes, over a few Adam-free steps of plain gradient descent (so
    /// that AuxK's record of dead latents moves too).
    #[test]
    fn sparse_kernels_match_gemm() {
        let (d, h, b) = (20, 32, 6);
        let x: Vec<f32> = (0..b * d).map(|i| ((i as f32 * 0.731).sin() * 1.3).clamp(-1.0, 1.0)).collect();
        let t: Vec<f32> = (0..b * d).map(|i| (i as f32 * 0.377).cos() * 0.9).collect();
        // aux_k = 4 of 32 goes through the sparse kernels, 8 through `gemm`.
        let sparse_aux = AuxK { aux_k: 4, aux_weight: 0.5, dead_after: b as u64 };
        let (aux, dense_aux) = (Some(sparse_aux), Some(AuxK { aux_k: 8, ..sparse_aux }));
        for (activation, init) in [(Activation::Sigmoid, Init::Pytorch), (Activation::Relu, Init::Tied)] {
            for sparsity in [
                SparsityConfig::Topk { k: 4, aux: None },
                SparsityConfig::Topk { k: 4, aux },
                SparsityConfig::BatchTopk { k: 4, aux: None },
                SparsityConfig::BatchTopk { k: 4, aux },
                SparsityConfig::Topk { k: 4, aux: dense_aux },
            ] {
                let config = ModelConfig { activation, init, ..ModelConfig::new(d, h) };
                let mut model = SparseAutoencoder::new(config, 3);
                let mut sparse = Workspace::new(config, b);
                let mut dense = Workspace { sparse_kernels: false, ..Workspace::new(config, b) };
                for step in 0..3 {
                    let a = sparse.loss_and_gradients(&model, &x, &t, &sparsity, Threads(1));
                    let g = dense.loss_and_gradients(&model, &x, &t, &sparsity, Threads(1));
                    let what = format!("{activation:?}, {sparsity:?}, step {step}");
                    assert!((a.total - g.total).abs() <= 1e-6 * g.total.abs(), "{what}: loss {a:?} against {g:?}");
                    assert!(sparsity.aux().is_none() || a.penalty > 0.0, "{what}: AuxK had no dead latent");
                    let pairs = sparse.grads.as_ref().zip(dense.grads.as_ref()).into_array();
                    for (i, (a, g)) in pairs.into_iter().enumerate() {
                        let scale = g.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                        for (u, v) in a.iter().zip(g) {
                            assert!((u - v).abs() <= 1e-5 * scale, "{what}: tensor {i}: {u} against {v}");
                        }
                    }
                    let grads = sparse.grads.as_ref();
                    model.params.as_mut().zip(grads).into_array().into_iter().for_each(|(p, g)| {
                        p.iter_mut().zip(g).for_each(|(p, g)| *p -= 0.5 * g);
                    });
                }
            }
        }
    }
}
