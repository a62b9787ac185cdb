//! The autoencoder as candle-nn layers: a `Linear` encoder and decoder
//! built through a `VarBuilder` over a `VarMap`, so the parameters are
//! `Var`s named and shaped as the reference's PyTorch modules name them,
//! with the pre-encoder bias and JumpReLU's and Gated's tensors `Var`s of
//! their own when the model has them.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Linear, VarBuilder, VarMap};

use crate::{
    Activation, Architecture, CoreError, ModelConfig, Params, SparseAutoencoder, SparsityConfig, TENSOR_NAMES,
};

use super::code_path::{gated, jump};

/// `h = act(encoder(x − b_pre))` (of which TopK keeps the k largest per image, or
/// BatchTopK the k·B largest of the batch), `y = tanh(decoder(h))`, on a
/// candle device.
pub struct CandleAutoencoder {
    config: ModelConfig,
    encoder: Linear,
    decoder: Linear,
    /// The tensors only some models have (the pre-encoder bias, JumpReLU's
    /// threshold, Gated's magnitude tensors), of no values where the model
    /// lacks them; `None` for the four the layers hold.
    extra: Params<Option<Var>>,
    varmap: VarMap,
}

/// A training batch's pass through the model.
pub struct Pass {
    /// The activations before TopK's or BatchTopK's selection, `[n, H]`.
    pub dense: Tensor,
    /// The code, `[n, H]`.
    pub code: Tensor,
    /// The reconstruction, `[n, D]`.
    pub recon: Tensor,
    /// JumpReLU's L0 norm or Gated's L1 norm of its gate (the mean over
    /// images), the mechanism's penalty.
    pub code_penalty: Option<Tensor>,
    /// Gated's `ReLU(π)`, `[n, H]`, for its auxiliary loss.
    pub gate: Option<Tensor>,
}

impl CandleAutoencoder {
    /// The layers of a model shaped as `model`, holding its values, on
    /// `device`. candle-nn's own initialisation is overwritten, so both
    /// engines start from the same weights.
    ///
    /// # Errors
    /// A candle error while allocating or copying to the device.
    pub fn new(model: &SparseAutoencoder, device: &Device) -> Result<Self, CoreError> {
        let (d, h) = (model.config.input, model.config.hidden);
        let mut varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, device);
        let encoder = candle_nn::linear(d, h, vb.pp("encoder"))?;
        let decoder = candle_nn::linear(h, d, vb.pp("decoder"))?;
        // BatchTopK's threshold and TopK's k are no variables: the trainer
        // keeps the threshold on the host, the mechanism k.
        let tensors = model.to_tensors()?;
        let layers = [TENSOR_NAMES.enc_w, TENSOR_NAMES.enc_b, TENSOR_NAMES.dec_w, TENSOR_NAMES.dec_b];
        for name in layers {
            varmap.set_one(name, tensors[name].to_device(device)?)?;
        }
        let extra = TENSOR_NAMES.try_map(|name| match tensors.get(name) {
            _ if layers.contains(&name) => Ok::<_, CoreError>(None),
            Some(values) => Ok(Some(Var::from_tensor(&values.to_device(device)?)?)),
            None => Ok(Some(Var::zeros(0, DType::F32, device)?)),
        })?;
        Ok(Self { config: model.config, encoder, decoder, extra, varmap })
    }

    /// The tensor of an extra variable (one [`CandleAutoencoder::new`] made).
    fn extra(var: &Option<Var>) -> &Tensor {
        var.as_ref().expect("the extra tensors are variables").as_tensor()
    }

    /// A training batch's pass: `sparsity`'s TopK keeps the k largest of
    /// each image, its BatchTopK the `k·n` largest of the batch; JumpReLU
    /// and Gated compute their own code and penalty.
    ///
    /// # Shapes
    /// `input: [n, D]`.
    pub fn forward(&self, input: &Tensor, sparsity: &SparsityConfig) -> candle_core::Result<Pass> {
        let input = match self.config.pre_bias {
            true => input.broadcast_sub(Self::extra(&self.extra.pre_b))?,
            false => input.clone(),
        };
        let (mut code_penalty, mut gate) = (None, None);
        let dense = match (self.config.architecture, *sparsity) {
            (Architecture::JumpRelu, SparsityConfig::JumpRelu { bandwidth, .. }) => {
                let z = self.encoder.forward(&input)?;
                let (code, l0) = jump(&z, Self::extra(&self.extra.log_threshold), bandwidth)?;
                code_penalty = Some(l0);
                code
            }
            (Architecture::Gated, _) => {
                let p = input.matmul(&self.encoder.weight().t()?)?;
                let gate_bias = self.encoder.bias().expect("the encoder has a bias");
                let (r_mag, b_mag) = (Self::extra(&self.extra.r_mag), Self::extra(&self.extra.b_mag));
                let (code, relu_gate) = gated(&p, gate_bias, r_mag, b_mag)?;
                code_penalty = Some(relu_gate.sum(1)?.mean_all()?);
                gate = Some(relu_gate);
                code
            }
            _ => {
                let pre = self.encoder.forward(&input)?;
                match self.config.activation {
                    Activation::Sigmoid => candle_nn::ops::sigmoid(&pre)?,
                    Activation::Relu => pre.relu()?,
                }
            }
        };
        let mut code = dense.clone();
        if let Some(k) = sparsity.top_k() {
            code = keep_top_k(&code, k)?;
        }
        if let Some(k) = sparsity.batch_top_k() {
            let (n, h) = code.dims2()?;
            code = keep_top_k(&code.reshape((1, n * h))?, k * n)?.reshape((n, h))?;
        }
        let recon = self.decoder.forward(&code)?.tanh()?;
        Ok(Pass { dense, code, recon, code_penalty, gate })
    }

    /// The model's shape, code and training constraints.
    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// The decoder's weight `[D, H]`.
    pub fn decoder_weight(&self) -> &Tensor {
        self.decoder.weight()
    }

    /// The decoder's bias `[D]`.
    pub fn decoder_bias(&self) -> &Tensor {
        self.decoder.bias().expect("the decoder has a bias")
    }
}

/// TopK from candle ops: each row's k-th largest value (a descending sort)
/// is its threshold, and a mask of the values at or above it, held constant,
/// multiplies the code, so the gradient reaches the kept units only. Unlike
/// the fast engine it keeps every tied value, which only matters at exact
/// ties.
fn keep_top_k(code: &Tensor, k: usize) -> candle_core::Result<Tensor> {
    let (sorted, _) = code.sort_last_dim(false)?;
    let threshold = sorted.narrow(1, k - 1, 1)?;
    let mask = code.broadcast_ge(&threshold)?.to_dtype(code.dtype())?.detach();
    code * mask
}

impl CandleAutoencoder {
    /// The trainable variables (of no values where the model lacks them).
    pub fn vars(&self) -> Params<Var> {
        let data = self.varmap.data().lock().expect("no panic while holding the varmap");
        TENSOR_NAMES.zip(self.extra.clone()).map(|(name, extra)| extra.unwrap_or_else(|| data[name].clone()))
    }

    /// The current values, copied to the host, with BatchTopK's
    /// `threshold`, as `sparsity` trains them.
    ///
    /// # Errors
    /// A failed copy from the device.
    pub fn to_model(&self, threshold: Option<f32>, sparsity: &SparsityConfig) -> Result<SparseAutoencoder, CoreError> {
        let params = self.vars().try_map(|v| v.as_tensor().flatten_all()?.to_vec1::<f32>())?;
        Ok(SparseAutoencoder { config: self.config, params, threshold, top_k: None }.with_mechanism(sparsity))
    }
}
