//! Moving a model's parameters to and from candle tensors named as the
//! reference's PyTorch `state_dict` names them, so a checkpoint written
//! with candle's safetensors support loads into the reference model.

use std::collections::HashMap;

use candle_core::{Device, Tensor};

use crate::{CoreError, ModelConfig, SparseAutoencoder};

/// The tensor names, as in the reference's `SAE` module.
pub const TENSOR_NAMES: [&str; 4] = ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"];

impl SparseAutoencoder {
    /// The parameters as CPU tensors: `encoder.weight` `[H, D]`,
    /// `encoder.bias` `[H]`, `decoder.weight` `[D, H]`, `decoder.bias` `[D]`.
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_tensors(&self) -> Result<HashMap<String, Tensor>, CoreError> {
        let (d, h) = (self.config.input, self.config.hidden);
        let cpu = &Device::Cpu;
        Ok(HashMap::from([
            (TENSOR_NAMES[0].to_string(), Tensor::from_slice(&self.enc_w, (h, d), cpu)?),
            (TENSOR_NAMES[1].to_string(), Tensor::from_slice(&self.enc_b, h, cpu)?),
            (TENSOR_NAMES[2].to_string(), Tensor::from_slice(&self.dec_w, (d, h), cpu)?),
            (TENSOR_NAMES[3].to_string(), Tensor::from_slice(&self.dec_b, d, cpu)?),
        ]))
    }

    /// Rebuilds a model from tensors named and shaped as
    /// [`SparseAutoencoder::to_tensors`] writes them; every activation is
    /// kept (set `config.top_k` for a TopK model).
    ///
    /// # Errors
    /// [`CoreError::StateDict`] naming a missing tensor or a wrong shape.
    pub fn from_tensors(tensors: &HashMap<String, Tensor>) -> Result<Self, CoreError> {
        let get = |name: &str| tensors.get(name).ok_or_else(|| CoreError::StateDict(format!("missing tensor {name}")));
        let (h, d) = get(TENSOR_NAMES[0])?.dims2()?;
        let config = ModelConfig::new(d, h);
        let mut values = TENSOR_NAMES.iter().zip([vec![h, d], vec![h], vec![d, h], vec![d]]).map(|(name, shape)| {
            let t = get(name)?;
            if t.dims() != shape.as_slice() {
                return Err(CoreError::StateDict(format!("{name} has shape {:?}, expected {shape:?}", t.dims())));
            }
            Ok(t.to_dtype(candle_core::DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
        });
        let mut next = || values.next().expect("four tensors");
        Ok(Self { config, enc_w: next()?, enc_b: next()?, dec_w: next()?, dec_b: next()? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_shape_errors() {
        let m = SparseAutoencoder::new(ModelConfig::new(12, 5), 4);
        let mut t = m.to_tensors().unwrap();
        assert_eq!(t["decoder.weight"].dims(), &[12, 5]);
        assert_eq!(SparseAutoencoder::from_tensors(&t).unwrap(), m);
        t.insert("decoder.bias".into(), Tensor::zeros(11, candle_core::DType::F32, &Device::Cpu).unwrap());
        let err = SparseAutoencoder::from_tensors(&t).unwrap_err().to_string();
        assert!(err.contains("decoder.bias has shape [11], expected [12]"), "{err}");
        t.remove("encoder.bias");
        assert!(SparseAutoencoder::from_tensors(&t).unwrap_err().to_string().contains("missing tensor encoder.bias"));
    }
}
