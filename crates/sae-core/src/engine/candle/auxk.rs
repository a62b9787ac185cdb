//! AuxK from candle ops (see [`crate::AuxK`] and the fast engine's
//! `auxk.rs`): the dead latents' `aux_k` largest activations reconstruct
//! the detached residual through the decoder's weight alone.

use candle_core::{DType, Tensor};

/// Images since each latent last fired, kept on the host.
pub struct DeadLatents {
    since_fired: Vec<u64>,
}

impl DeadLatents {
    /// A record in which no latent has fired yet.
    pub fn new(hidden: usize) -> Self {
        Self { since_fired: vec![0; hidden] }
    }

    /// The record `since_fired` (a stored state's).
    pub fn resume(since_fired: Vec<u64>) -> Self {
        Self { since_fired }
    }

    /// Images since each latent last fired.
    pub fn since_fired(&self) -> &[u64] {
        &self.since_fired
    }

    /// Records which latents fired (were non-zero) in a batch's `code`.
    ///
    /// # Errors
    /// A candle error while reducing the code or copying it to the host.
    pub fn track(&mut self, code: &Tensor) -> candle_core::Result<()> {
        let batch = code.dims2()?.0 as u64;
        let fired = code.abs()?.max(0)?.to_vec1::<f32>()?;
        for (since, f) in self.since_fired.iter_mut().zip(fired) {
            *since = if f != 0.0 { 0 } else { since.saturating_add(batch) };
        }
        Ok(())
    }

    /// Which latents are dead: not fired for `dead_after` images.
    fn dead(&self, dead_after: u64) -> Vec<bool> {
        self.since_fired.iter().map(|&s| s >= dead_after).collect()
    }
}

/// The unweighted AuxK loss `Σ (ê − e)² / Σ (e − ē)²` of a batch whose
/// activations before selection are `dense` (`[B, H]`) and reconstruction
/// `recon`, or `None` when no latent is dead or the residual does not vary
/// (the fast engine's zero).
///
/// # Errors
/// A candle error.
pub fn aux_loss(
    dense: &Tensor,
    recon: &Tensor,
    target: &Tensor,
    dec_w: &Tensor,
    latents: &DeadLatents,
    config: &crate::AuxK,
) -> candle_core::Result<Option<Tensor>> {
    let dead = latents.dead(config.dead_after);
    let count = dead.iter().filter(|d| **d).count();
    let residual = (target - recon)?.detach();
    let centred = residual.broadcast_sub(&residual.mean_keepdim(0)?)?;
    let denom = centred.sqr()?.sum_all()?;
    if count == 0 || denom.to_scalar::<f32>()? <= 0.0 {
        return Ok(None);
    }
    let mask: Vec<f32> = dead.iter().map(|&d| f32::from(u8::from(d))).collect();
    let dead = Tensor::from_vec(mask, (1, latents.since_fired.len()), dense.device())?;
    // Live latents at −1, below every activation, so the k-th largest of a
    // row is a dead latent's.
    let masked = dense.detach().broadcast_mul(&dead)?.broadcast_add(&dead.affine(1.0, -1.0)?)?;
    let (sorted, _) = masked.sort_last_dim(false)?;
    let kth = sorted.narrow(1, config.aux_k.min(count) - 1, 1)?;
    let keep = masked.broadcast_ge(&kth)?.to_dtype(DType::F32)?.broadcast_mul(&dead)?;
    let aux_code = (dense * keep)?;
    let aux_recon = aux_code.matmul(&dec_w.t()?)?;
    Ok(Some((aux_recon - residual)?.sqr()?.sum_all()?.broadcast_div(&denom)?))
}
