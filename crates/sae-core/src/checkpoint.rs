//! Checkpoints: a model's parameters as candle tensors named as the
//! reference's PyTorch `state_dict` names them, and the safetensors file
//! that holds them, which loads into the reference model. A BatchTopK
//! model adds its threshold as a scalar tensor named `threshold`, as
//! dictionary_learning's `BatchTopKSAE` registers it.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::{CoreError, ModelConfig, Params, SparseAutoencoder, TENSOR_NAMES};

/// The name of BatchTopK's threshold in a checkpoint (a 0-dimensional tensor).
pub const THRESHOLD_NAME: &str = "threshold";

impl SparseAutoencoder {
    /// The parameters as CPU tensors: `encoder.weight` `[H, D]`,
    /// `encoder.bias` `[H]`, `decoder.weight` `[D, H]`, `decoder.bias` `[D]`,
    /// and `threshold` `[]` when the model has one.
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_tensors(&self) -> Result<HashMap<String, Tensor>, CoreError> {
        let shapes = Params::shapes(self.config);
        let tensors = TENSOR_NAMES.zip(self.params.as_ref().zip(shapes)).into_array().map(|(name, (v, shape))| {
            Ok::<_, CoreError>((name.to_string(), Tensor::from_slice(v, shape, &Device::Cpu)?))
        });
        let mut tensors: HashMap<String, Tensor> = tensors.into_iter().collect::<Result<_, _>>()?;
        if let Some(t) = self.threshold {
            tensors.insert(THRESHOLD_NAME.into(), Tensor::new(t, &Device::Cpu)?);
        }
        Ok(tensors)
    }

    /// Rebuilds a model from tensors named and shaped as
    /// [`SparseAutoencoder::to_tensors`] writes them.
    ///
    /// # Errors
    /// [`CoreError::StateDict`] naming a missing tensor or a wrong shape.
    pub fn from_tensors(tensors: &HashMap<String, Tensor>) -> Result<Self, CoreError> {
        let get = |name: &str| tensors.get(name).ok_or_else(|| CoreError::StateDict(format!("missing tensor {name}")));
        let (h, d) = get(TENSOR_NAMES.enc_w)?.dims2()?;
        let config = ModelConfig::new(d, h);
        let params = TENSOR_NAMES.zip(Params::shapes(config)).try_map(|(name, shape)| {
            let t = get(name)?;
            if t.dims() != shape.as_slice() {
                return Err(CoreError::StateDict(format!("{name} has shape {:?}, expected {shape:?}", t.dims())));
            }
            Ok(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?)
        })?;
        let threshold = match tensors.get(THRESHOLD_NAME) {
            Some(t) if t.rank() == 0 => Some(t.to_dtype(DType::F32)?.to_scalar::<f32>()?),
            Some(t) => return Err(CoreError::StateDict(format!("threshold has shape {:?}, expected []", t.dims()))),
            None => None,
        };
        Ok(Self { config, params, threshold })
    }

    /// The parameters as the bytes of a safetensors file (the caller writes
    /// them, atomically).
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CoreError> {
        let tensors = self.to_tensors()?;
        safetensors::serialize(&tensors, None).map_err(|e| CoreError::StateDict(e.to_string()))
    }

    /// Reads a model from a safetensors file holding
    /// [`SparseAutoencoder::to_safetensors`] (or by PyTorch from the reference model).
    ///
    /// # Errors
    /// [`CoreError::Checkpoint`] naming the file when it is missing,
    /// unreadable, or lacks a tensor or has one of the wrong shape.
    pub fn load(path: &Path) -> Result<Self, CoreError> {
        let failed = |message: String| CoreError::Checkpoint { path: path.into(), message };
        let tensors = candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| failed(e.to_string()))?;
        Self::from_tensors(&tensors).map_err(|e| failed(e.to_string()))
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
        t.insert("decoder.bias".into(), Tensor::zeros(11, DType::F32, &Device::Cpu).unwrap());
        let err = SparseAutoencoder::from_tensors(&t).unwrap_err().to_string();
        assert!(err.contains("decoder.bias has shape [11], expected [12]"), "{err}");
        let with = SparseAutoencoder { threshold: Some(0.25), ..m.clone() };
        let mut saved = with.to_tensors().unwrap();
        assert_eq!(SparseAutoencoder::from_tensors(&saved).unwrap(), with);
        saved.insert("threshold".into(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap());
        assert!(SparseAutoencoder::from_tensors(&saved).unwrap_err().to_string().contains("threshold has shape [2]"));
        t.remove("encoder.bias");
        assert!(SparseAutoencoder::from_tensors(&t).unwrap_err().to_string().contains("missing tensor encoder.bias"));
    }

    #[test]
    fn a_saved_file_loads_back_and_a_bad_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let m = SparseAutoencoder::new(ModelConfig::new(7, 3), 2);
        std::fs::write(&path, m.to_safetensors().unwrap()).unwrap();
        assert_eq!(SparseAutoencoder::load(&path).unwrap(), m);
        std::fs::write(&path, b"not a safetensors file").unwrap();
        let err = SparseAutoencoder::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        let missing = dir.path().join("absent.safetensors");
        assert!(SparseAutoencoder::load(&missing).unwrap_err().to_string().contains("absent.safetensors"));
    }
}
