//! The autoencoder as candle-nn layers: a `Linear` encoder and decoder
//! built through a `VarBuilder` over a `VarMap`, so the parameters are
//! `Var`s named and shaped as the reference's PyTorch modules name them.

use candle_core::{DType, Device, Module, Tensor, Var};
use candle_nn::{Linear, VarBuilder, VarMap};

use crate::{CoreError, ModelConfig, Params, SparseAutoencoder, TENSOR_NAMES};

/// `h = sigmoid(encoder(x))` (of which TopK keeps the k largest per image),
/// `y = tanh(decoder(h))`, on a candle device.
pub struct CandleAutoencoder {
    config: ModelConfig,
    encoder: Linear,
    decoder: Linear,
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
        for (name, tensor) in model.to_tensors()? {
            varmap.set_one(name, tensor.to_device(device)?)?;
        }
        Ok(Self { config: model.config, encoder, decoder, varmap })
    }

    /// The code and the reconstruction of a batch.
    ///
    /// # Shapes
    /// `input: [n, D]` → `(code: [n, H], recon: [n, D])`.
    pub fn forward(&self, input: &Tensor) -> candle_core::Result<(Tensor, Tensor)> {
        let mut code = candle_nn::ops::sigmoid(&self.encoder.forward(input)?)?;
        if let Some(k) = self.config.top_k {
            code = keep_top_k(&code, k)?;
        }
        let recon = self.decoder.forward(&code)?.tanh()?;
        Ok((code, recon))
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
    /// The trainable variables.
    pub fn vars(&self) -> Params<Var> {
        let data = self.varmap.data().lock().expect("no panic while holding the varmap");
        TENSOR_NAMES.map(|name| data[name].clone())
    }

    /// The current values, copied to the host.
    ///
    /// # Errors
    /// A failed copy from the device.
    pub fn to_model(&self) -> Result<SparseAutoencoder, CoreError> {
        let params = self.vars().try_map(|v| v.as_tensor().flatten_all()?.to_vec1::<f32>())?;
        Ok(SparseAutoencoder { config: self.config, params })
    }
}
