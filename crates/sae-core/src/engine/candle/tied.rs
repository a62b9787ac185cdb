//! Tied weights on candle tensors: the decoder learns from both layers'
//! gradients and the encoder is rewritten as its transpose, as the fast
//! engine does.

use candle_core::backprop::GradStore;
use candle_core::Var;

/// Adds the encoder's gradient, transposed, to the decoder's, and leaves
/// the encoder a zero gradient (it is no parameter of its own).
pub fn fold_encoder_gradient(grads: &mut GradStore, enc_w: &Var, dec_w: &Var) -> candle_core::Result<()> {
    let (enc, dec) = (enc_w.as_tensor(), dec_w.as_tensor());
    let (Some(d_enc), Some(d_dec)) = (grads.remove(enc), grads.remove(dec)) else { return Ok(()) };
    grads.insert(dec, (d_dec + d_enc.t()?)?);
    grads.insert(enc, d_enc.zeros_like()?);
    Ok(())
}

/// Writes the decoder's transpose into the encoder.
pub fn tie(enc_w: &Var, dec_w: &Var) -> candle_core::Result<()> {
    enc_w.set(&dec_w.as_tensor().t()?.contiguous()?)
}
