//! Checkpoints: a model's parameters as candle tensors named as the
//! reference's PyTorch `state_dict` names them, and the safetensors file
//! that holds them, which loads into the reference model. A BatchTopK
//! model adds its threshold as a scalar tensor named `threshold`, as
//! dictionary_learning's `BatchTopKSAE` registers it, and a TopK model its
//! k as a scalar integer tensor named `k`, as its `AutoEncoderTopK` does
//! (a checkpoint written before that holds no `k`). A model with a
//! pre-encoder bias adds it as `pre_bias` `[D]`, as OpenAI's
//! `sparse_autoencoder` names it; a model without one holds no such tensor.
//! A JumpReLU model adds `log_threshold` `[H]` (what training reads back,
//! exactly) and, for readers of SAELens's format, `threshold` `[H]`, its
//! exponential; a Gated model adds `r_mag` and `b_mag` `[H]`.

use std::collections::HashMap;
use std::io::Read as _;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use safetensors::tensor::Metadata;

use crate::{Architecture, CoreError, ModelConfig, Params, RunIdentity, SparseAutoencoder, TENSOR_NAMES};

/// The name of BatchTopK's threshold in a checkpoint (a 0-dimensional
/// tensor), and of JumpReLU's thresholds (`[H]`).
const THRESHOLD_NAME: &str = "threshold";
/// The name of TopK's k in a checkpoint (a 0-dimensional i64 tensor).
const K_NAME: &str = "k";

impl SparseAutoencoder {
    /// The parameters as CPU tensors: `encoder.weight` `[H, D]`,
    /// `encoder.bias` `[H]`, `decoder.weight` `[D, H]`, `decoder.bias` `[D]`,
    /// and `pre_bias` `[D]`, `threshold` `[]` and `k` `[]` when the model
    /// has them.
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_tensors(&self) -> Result<HashMap<String, Tensor>, CoreError> {
        let shapes = Params::shapes(self.config);
        let present = TENSOR_NAMES.zip(self.params.as_ref().zip(shapes)).into_array().into_iter();
        let tensors = present.filter(|(_, (v, _))| !v.is_empty()).map(|(name, (v, shape))| {
            Ok::<_, CoreError>((name.to_string(), Tensor::from_slice(v, shape, &Device::Cpu)?))
        });
        let mut tensors: HashMap<String, Tensor> = tensors.into_iter().collect::<Result<_, _>>()?;
        if let Some(t) = self.threshold {
            tensors.insert(THRESHOLD_NAME.into(), Tensor::new(t, &Device::Cpu)?);
        }
        if self.config.architecture == Architecture::JumpRelu {
            let theta: Vec<f32> = self.params.log_threshold.iter().map(|t| t.exp()).collect();
            tensors.insert(THRESHOLD_NAME.into(), Tensor::new(theta, &Device::Cpu)?);
        }
        if let Some(k) = self.top_k {
            // A k beyond i64::MAX units cannot be: a model that wide does not fit in memory.
            tensors.insert(K_NAME.into(), Tensor::new(k as i64, &Device::Cpu)?);
        }
        Ok(tensors)
    }

    /// Rebuilds a model from tensors named and shaped as
    /// [`SparseAutoencoder::to_tensors`] writes them.
    ///
    /// # Errors
    /// [`CoreError::StateDict`] naming a missing tensor or a wrong shape.
    pub fn from_tensors(tensors: &HashMap<String, Tensor>) -> Result<Self, CoreError> {
        let config = config_of(|name| tensors.get(name).map(Tensor::dims))?;
        let params = TENSOR_NAMES.try_map(|name| match tensors.get(name) {
            Some(t) => Ok::<_, CoreError>(t.to_dtype(DType::F32)?.flatten_all()?.to_vec1::<f32>()?),
            None => Ok(Vec::new()),
        })?;
        // JumpReLU's `threshold` is its `log_threshold`'s exponential, read from the latter.
        let batch_threshold = tensors.get(THRESHOLD_NAME).filter(|_| config.architecture != Architecture::JumpRelu);
        let threshold = batch_threshold.map(|t| t.to_dtype(DType::F32)?.to_scalar::<f32>()).transpose()?;
        let top_k = tensors.get(K_NAME).map(|t| t.to_dtype(DType::I64)?.to_scalar::<i64>()).transpose()?;
        let top_k = top_k
            .map(|k| usize::try_from(k).map_err(|_| CoreError::StateDict(format!("{K_NAME} is {k}, expected k ≥ 0"))))
            .transpose()?;
        Ok(Self { config, params, threshold, top_k })
    }

    /// The parameters as the bytes of a safetensors file (the caller writes
    /// them, atomically).
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_safetensors(&self) -> Result<Vec<u8>, CoreError> {
        self.to_safetensors_as(None)
    }

    /// [`SparseAutoencoder::to_safetensors`], with the run that trained the
    /// model named in the file's metadata when `identity` is given.
    ///
    /// # Errors
    /// Only if candle fails to allocate.
    pub fn to_safetensors_as(&self, identity: Option<&RunIdentity>) -> Result<Vec<u8>, CoreError> {
        let tensors = self.to_tensors()?;
        let metadata = identity.map(|identity| {
            let mut metadata = HashMap::new();
            identity.write(&mut metadata);
            metadata
        });
        safetensors::serialize(&tensors, metadata).map_err(|e| CoreError::StateDict(e.to_string()))
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

    /// The shape of the model in a checkpoint, and the run that wrote it
    /// if the file names one ([`RunIdentity`]), from the file's header and
    /// length alone: the header parses, names every tensor with the shape
    /// [`SparseAutoencoder::load`] requires, and announces exactly the bytes
    /// that follow it. A file cut short, or anything but a checkpoint, is
    /// refused as [`SparseAutoencoder::load`] would refuse it, reading a few
    /// hundred bytes rather than the weights (a safetensors file holds no
    /// checksum, so reading the weights would prove only that they can be
    /// read).
    ///
    /// # Errors
    /// [`CoreError::Checkpoint`] naming the file and what is wrong with it.
    pub fn read_header(path: &Path) -> Result<(ModelConfig, Option<RunIdentity>), CoreError> {
        let header = read_safetensors_header(path)?;
        let tensors = header.tensors();
        let config = config_of(|name| tensors.get(name).map(|t| t.shape.as_slice()))
            .map_err(|e| CoreError::Checkpoint { path: path.into(), message: e.to_string() })?;
        Ok((config, header.metadata().as_ref().and_then(RunIdentity::from_metadata)))
    }
}

/// The header of the safetensors file at `path`, read without its
/// tensors, after checking that it announces exactly the bytes that
/// follow it.
///
/// # Errors
/// [`CoreError::Checkpoint`] naming the file when it cannot be read, is
/// too short, or its header does not parse or announces another length.
pub(crate) fn read_safetensors_header(path: &Path) -> Result<Metadata, CoreError> {
    let failed = |message: String| CoreError::Checkpoint { path: path.into(), message };
    let mut file = std::fs::File::open(path).map_err(|e| failed(e.to_string()))?;
    let len = file.metadata().map_err(|e| failed(e.to_string()))?.len();
    let mut size = [0u8; 8];
    file.read_exact(&mut size).map_err(|_| failed(format!("{len} bytes, too short for a safetensors header")))?;
    let size = u64::from_le_bytes(size);
    if size > len - 8 {
        return Err(failed(format!("a header of {size} bytes announced, the file holds {len}")));
    }
    let mut header = vec![0; size as usize];
    file.read_exact(&mut header).map_err(|e| failed(e.to_string()))?;
    let header: Metadata =
        serde_json::from_slice(&header).map_err(|e| failed(format!("not a safetensors header: {e}")))?;
    let announced = 8 + size + header.data_len() as u64;
    if announced != len {
        return Err(failed(format!("{len} bytes, its header announces {announced}")));
    }
    Ok(header)
}

/// The shape of the model that tensors of these shapes hold (`shape_of`
/// gives a tensor's dimensions by name, `None` when it is missing):
/// `encoder.weight` is `[H, D]`, every parameter has the shape H and D
/// give it (`pre_bias`, if present, `[D]`; `log_threshold`, or `r_mag`
/// and `b_mag`, if present, `[H]`, which make it a JumpReLU or Gated
/// model), and `threshold` and `k`, if present, are scalars (`threshold`
/// `[H]` for JumpReLU).
///
/// # Errors
/// [`CoreError::StateDict`] naming a missing tensor or a wrong shape.
fn config_of<'a>(shape_of: impl Fn(&str) -> Option<&'a [usize]>) -> Result<ModelConfig, CoreError> {
    let get = |name: &str| shape_of(name).ok_or_else(|| CoreError::StateDict(format!("missing tensor {name}")));
    let enc_w = get(TENSOR_NAMES.enc_w)?;
    let &[h, d] = enc_w else {
        return Err(CoreError::StateDict(format!("{} has shape {enc_w:?}, expected [H, D]", TENSOR_NAMES.enc_w)));
    };
    let architecture = match (shape_of(TENSOR_NAMES.log_threshold), shape_of(TENSOR_NAMES.r_mag)) {
        (None, None) => Architecture::Standard,
        (Some(_), None) => Architecture::JumpRelu,
        (None, Some(_)) => Architecture::Gated,
        (Some(_), Some(_)) => {
            let (jump, gated) = (TENSOR_NAMES.log_threshold, TENSOR_NAMES.r_mag);
            return Err(CoreError::StateDict(format!("both {jump} (JumpReLU) and {gated} (Gated): expected one")));
        }
    };
    let pre_bias = shape_of(TENSOR_NAMES.pre_b).is_some();
    let config = ModelConfig { pre_bias, architecture, ..ModelConfig::new(d, h) };
    let shapes = TENSOR_NAMES.zip(Params::shapes(config)).into_array();
    for (name, shape) in shapes.into_iter().filter(|(_, shape)| shape.iter().product::<usize>() > 0) {
        let found = get(name)?;
        if found != shape.as_slice() {
            return Err(CoreError::StateDict(format!("{name} has shape {found:?}, expected {shape:?}")));
        }
    }
    let threshold_shape: &[usize] = if architecture == Architecture::JumpRelu { &[h] } else { &[] };
    for (name, shape) in [(THRESHOLD_NAME, threshold_shape), (K_NAME, &[])] {
        if let Some(found) = shape_of(name).filter(|found| *found != shape) {
            return Err(CoreError::StateDict(format!("{name} has shape {found:?}, expected {shape:?}")));
        }
    }
    Ok(config)
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
        let with = SparseAutoencoder { threshold: Some(0.25), top_k: Some(3), ..m.clone() };
        let mut saved = with.to_tensors().unwrap();
        assert_eq!(SparseAutoencoder::from_tensors(&saved).unwrap(), with);
        assert_eq!(saved["k"].to_scalar::<i64>().unwrap(), 3);
        saved.insert("k".into(), Tensor::new(-1i64, &Device::Cpu).unwrap());
        assert!(SparseAutoencoder::from_tensors(&saved).unwrap_err().to_string().contains("k is -1"));
        saved.insert("threshold".into(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap());
        assert!(SparseAutoencoder::from_tensors(&saved).unwrap_err().to_string().contains("threshold has shape [2]"));
        t.remove("encoder.bias");
        assert!(SparseAutoencoder::from_tensors(&t).unwrap_err().to_string().contains("missing tensor encoder.bias"));
    }

    #[test]
    fn jumprelu_and_gated_models_round_trip_with_their_tensors() {
        for architecture in [Architecture::JumpRelu, Architecture::Gated] {
            let config = ModelConfig { architecture, pre_bias: true, ..ModelConfig::new(6, 3) };
            let mut m = SparseAutoencoder::new(config, 1);
            m.start_threshold(0.25);
            m.params.r_mag.iter_mut().for_each(|r| *r = 0.5);
            let t = m.to_tensors().unwrap();
            assert_eq!(SparseAutoencoder::from_tensors(&t).unwrap(), m, "{architecture:?}");
            let bytes = m.to_safetensors().unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("model.safetensors");
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(SparseAutoencoder::read_header(&path).unwrap().0, config);
        }
        let jump = ModelConfig { architecture: Architecture::JumpRelu, ..ModelConfig::new(6, 3) };
        let mut m = SparseAutoencoder::new(jump, 1);
        m.start_threshold(0.25);
        let mut t = m.to_tensors().unwrap();
        let theta = t["threshold"].to_vec1::<f32>().unwrap();
        assert!(theta.iter().all(|v| (v - 0.25).abs() < 1e-6), "SAELens's threshold: {theta:?}");
        t.insert("r_mag".into(), Tensor::zeros(3, DType::F32, &Device::Cpu).unwrap());
        let err = SparseAutoencoder::from_tensors(&t).unwrap_err().to_string();
        assert!(err.contains("both log_threshold (JumpReLU) and r_mag (Gated)"), "{err}");
        t.remove("r_mag");
        t.insert("threshold".into(), Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap());
        let err = SparseAutoencoder::from_tensors(&t).unwrap_err().to_string();
        assert!(err.contains("threshold has shape [2], expected [3]"), "{err}");
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

    #[test]
    fn the_header_gives_the_shape_and_refuses_what_load_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let m = SparseAutoencoder { threshold: Some(0.5), ..SparseAutoencoder::new(ModelConfig::new(7, 3), 2) };
        let bytes = m.to_safetensors().unwrap();
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(SparseAutoencoder::read_header(&path).unwrap().0, ModelConfig::new(7, 3));
        let refused = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            assert!(SparseAutoencoder::load(&path).is_err(), "load refuses it too");
            let err = SparseAutoencoder::read_header(&path).unwrap_err().to_string();
            assert!(err.starts_with(&path.display().to_string()), "{err}");
            err
        };
        let cut = refused(&bytes[..bytes.len() - 1]);
        assert!(cut.ends_with(&format!("{} bytes, its header announces {}", bytes.len() - 1, bytes.len())), "{cut}");
        assert!(refused(&[bytes.as_slice(), &[0]].concat()).contains("its header announces"));
        assert!(refused(&bytes[..5]).contains("too short for a safetensors header"));
        assert!(refused(&bytes[..20]).contains("a header of"));
        assert!(refused(&[9u8; 64]).contains("a header of"));
        let mut garbage = bytes.clone();
        garbage[8..20].fill(b'#');
        assert!(refused(&garbage).contains("not a safetensors header"));
        let mut t = m.to_tensors().unwrap();
        t.insert("decoder.bias".into(), Tensor::zeros(11, DType::F32, &Device::Cpu).unwrap());
        let err = refused(&safetensors::serialize(&t, None).unwrap());
        assert!(err.contains("decoder.bias has shape [11], expected [7]"), "{err}");
    }
}
