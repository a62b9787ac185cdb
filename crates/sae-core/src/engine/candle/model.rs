//! The autoencoder as candle-nn layers: a `Linear` encoder and decoder
//! built through a `VarBuilder` over a `VarMap`, so the parameters are
//! `Var`s named and shaped as the reference's PyTorch modules name them,
//! with the pre-encoder bias a `Var` of its own when the model has one.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Linear, VarBuilder, VarMap};

use crate::{Activation, CoreError, ModelConfig, Params, SparseAutoencoder, SparsityConfig, TENSOR_NAMES};

/// `h = act(encoder(x − b_pre))` (of which TopK keeps the k largest per image, or
/// BatchTopK the k·B largest of the batch), `y = tanh(decoder(h))`, on a
/// candle device.
pub struct CandleAutoencoder {
    config: ModelConfig,
    encoder: Linear,
    decoder: Linear,
    /// The pre-encoder bias `[D]`, or a tensor of no values for a model
    /// without one.
    pre_bias: Var,
    varmap: VarMap,
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
        let pre_bias = match tensors.get(TENSOR_NAMES.pre_b) {
            Some(values) => Var::from_tensor(&values.to_device(device)?)?,
            None => Var::zeros(0, DType::F32, device)?,
        };
        for name in [TENSOR_NAMES.enc_w, TENSOR_NAMES.enc_b, TENSOR_NAMES.dec_w, TENSOR_NAMES.dec_b] {
            varmap.set_one(name, tensors[name].to_device(device)?)?;
        }
        Ok(Self { config: model.config, encoder, decoder, pre_bias, varmap })
    }

    /// A training batch's activations before selection, its code and its
    /// reconstruction: `sparsity`'s TopK keeps the k largest of each image,
    /// its BatchTopK the `k·n` largest of the batch.
    ///
    /// # Shapes
    /// `input: [n, D]` → `(dense: [n, H], code: [n, H], recon: [n, D])`.
    pub fn forward(&self, input: &Tensor, sparsity: &SparsityConfig) -> candle_core::Result<[Tensor; 3]> {
        let pre = match self.config.pre_bias {
            true => self.encoder.forward(&input.broadcast_sub(self.pre_bias.as_tensor())?)?,
            false => self.encoder.forward(input)?,
        };
        let dense = match self.config.activation {
            Activation::Sigmoid => candle_nn::ops::sigmoid(&pre)?,
            Activation::Relu => pre.relu()?,
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
        Ok([dense, code, recon])
    }

    /// The model's shape, code and training constraints.
    pub fn config(&self) -> ModelConfig {
        self.config
    }

    /// The decoder's weight `[D, H]`.
    pub fn decoder_weight(&self) -> &Tensor {
        self.decoder.weight()
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
    /// The trainable variables (the pre-encoder bias of no values for a
    /// model without one).
    pub fn vars(&self) -> Params<Var> {
        let data = self.varmap.data().lock().expect("no panic while holding the varmap");
        let pre_b = TENSOR_NAMES.pre_b;
        TENSOR_NAMES.map(|name| if name == pre_b { self.pre_bias.clone() } else { data[name].clone() })
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
