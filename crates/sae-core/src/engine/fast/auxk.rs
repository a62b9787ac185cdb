//! AuxK in the fast engine (Gao et al. 2024, section A.2; see
//! [`crate::AuxK`]): which latents are dead, the residual they
//! reconstruct, and the auxiliary loss's gradient.
//!
//! For the residual `e = t − y` (a constant: detached), the activations
//! before selection `h⁰`, and `a` the `aux_k` largest of `h⁰` among the
//! dead latents of each image (the rest 0):
//!
//! ```text
//! ê  = a W₂ᵀ      L_aux = w · Σ (ê − e)² / Σ (e − ē)²
//! dê = 2w (ê − e) / Σ (e − ē)²     dW₂ += dêᵀ a     dz₁ += (dê W₂) ⊙ act'(a)
//! ```
//!
//! A latent is dead in a step when it has not fired (been non-zero in the
//! selected code) on the last `dead_after` images, this batch's included,
//! so it is 0 in this batch's code and the two paths touch different
//! latents.

use crate::activation::tanh;
use crate::metrics::variance_sum;
use crate::topk::keep_top_k;
use crate::{Activation, AuxK, Params, SparseAutoencoder};

use super::products::Products;
use super::sparse::{backward, decode, SparseCode, SparseDecoder};

/// When each latent last fired, and AuxK's buffers for one batch size.
#[derive(Debug, Clone)]
pub(crate) struct AuxState {
    /// Images since each latent last fired.
    since_fired: Vec<u64>,
    /// The activations before selection `[B, H]`, then the auxiliary code.
    pub(crate) dense: Vec<f32>,
    /// `t − y`, `[B, D]`.
    residual: Vec<f32>,
    /// `ê`, then `dê`, `[B, D]`.
    recon: Vec<f32>,
    /// `dê W₂`, `[B, H]`.
    d_code: Vec<f32>,
    scratch: Vec<u64>,
    /// The non-zero entries of the auxiliary code, for a sparse step.
    entries: SparseCode,
}

impl AuxState {
    /// A record in which no latent has fired yet, for batches of `batch`.
    pub(crate) fn new(batch: usize, d: usize, h: usize) -> Self {
        Self {
            since_fired: vec![0; h],
            dense: vec![0.0; batch * h],
            residual: vec![0.0; batch * d],
            recon: vec![0.0; batch * d],
            d_code: vec![0.0; batch * h],
            scratch: Vec::with_capacity(h),
            entries: SparseCode::default(),
        }
    }

    /// The record `since_fired` (a stored training state's), for batches
    /// of `batch`.
    pub(crate) fn resume(batch: usize, d: usize, since_fired: Vec<u64>) -> Self {
        let h = since_fired.len();
        Self { since_fired, ..Self::new(batch, d, h) }
    }

    /// Images since each latent last fired.
    pub(crate) fn since_fired(&self) -> &[u64] {
        &self.since_fired
    }

    /// Records which latents fired in a batch's selected `code` (`[B, H]`).
    pub(crate) fn track(&mut self, code: &[f32]) {
        let h = self.since_fired.len();
        let b = code.len() / h;
        for (j, since) in self.since_fired.iter_mut().enumerate() {
            if (0..b).any(|i| code[i * h + j] != 0.0) {
                *since = 0;
            } else {
                *since = since.saturating_add(b as u64);
            }
        }
    }

    /// Keeps `e = t − tanh(z + b₂)` from the decoder's pre-activations `z`,
    /// computed as the main loss computes `y`.
    pub(crate) fn residual(&mut self, z: &[f32], target: &[f32], bias: &[f32]) {
        let d = bias.len();
        for ((e_row, z_row), t_row) in
            self.residual.chunks_exact_mut(d).zip(z.chunks_exact(d)).zip(target.chunks_exact(d))
        {
            for (((e, &zv), &t), &b) in e_row.iter_mut().zip(z_row).zip(t_row).zip(bias) {
                *e = t - tanh(zv + b);
            }
        }
    }

    /// Replaces [`AuxState::dense`] by the auxiliary code: the `aux_k`
    /// largest activations of the dead latents of each image. Returns the
    /// number of dead latents.
    fn select(&mut self, config: &AuxK) -> usize {
        let h = self.since_fired.len();
        let dead = self.since_fired.iter().filter(|s| **s >= config.dead_after).count();
        for row in self.dense.chunks_exact_mut(h) {
            row.iter_mut().zip(&self.since_fired).filter(|(_, s)| **s < config.dead_after).for_each(|(v, _)| *v = 0.0);
        }
        keep_top_k(&mut self.dense, h, config.aux_k.min(dead), &mut self.scratch);
        dead
    }

    /// The unweighted auxiliary loss `Σ (ê − e)² / Σ (e − ē)²` of the batch
    /// whose encoder gradient `dz₁` (`[B, H]`) is in `d_z1`; adds the
    /// weighted loss's gradient to `d_z1`, `grads.enc_b` and `grads.dec_w`
    /// (to the `decoder`'s gradient instead, through the sparse kernels, in
    /// a sparse step).
    /// 0, changing nothing, when no latent is dead or the residual does not
    /// vary.
    pub(crate) fn loss_and_backward(
        &mut self,
        config: &AuxK,
        model: &SparseAutoencoder,
        d_z1: &mut [f32],
        grads: &mut Params<Vec<f32>>,
        decoder: Option<&mut SparseDecoder>,
        products: &mut Products<'_>,
    ) -> f64 {
        let (d, h) = (model.config.input, model.config.hidden);
        let denom = variance_sum(&self.residual, d);
        if self.select(config) == 0 || denom <= 0.0 {
            return 0.0;
        }
        let (code, dec_w) = (&self.dense, &model.params.dec_w);
        let entries = decoder.as_deref().map(|decoder| (&mut self.entries, decoder));
        decode(code, h, dec_w, entries, &mut self.recon, products);
        let scale = (2.0 * config.aux_weight / denom) as f32;
        let mut sse = 0.0f64;
        for (r, e) in self.recon.iter_mut().zip(&self.residual) {
            let diff = *r - e;
            sse += f64::from(diff * diff);
            *r = scale * diff;
        }
        let entries = decoder.map(|decoder| (&self.entries, decoder));
        backward(code, h, &self.recon, dec_w, entries, &mut grads.dec_w, true, &mut self.d_code, products);
        let derivative = |a: f32| match model.config.activation {
            Activation::Sigmoid => a * (1.0 - a),
            Activation::Relu if a > 0.0 => 1.0,
            Activation::Relu => 0.0,
        };
        let rows = d_z1.chunks_exact_mut(h).zip(self.d_code.chunks_exact(h)).zip(self.dense.chunks_exact(h));
        for ((dz_row, dh_row), a_row) in rows {
            for (((dz, &dh), &a), db) in dz_row.iter_mut().zip(dh_row).zip(a_row).zip(grads.enc_b.iter_mut()) {
                let g = dh * derivative(a);
                *dz += g;
                *db += g;
            }
        }
        sse / denom
    }
}
