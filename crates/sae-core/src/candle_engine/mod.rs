//! The candle engine: the model from candle-nn layers, the loss from
//! candle ops, gradients from candle's autograd and Adam as PyTorch
//! computes it, on whatever device candle opens. On the CPU it is slower
//! than the fast engine and serves as its independent check; on a GPU it
//! is the engine that runs.

mod adam;
mod loss;
mod model;

use std::borrow::Cow;

use candle_core::{Device, Tensor, Var};

use crate::engine::Engine;
use crate::{CoreError, LossParts, Params, SparseAutoencoder, SparsityConfig, TrainConfig};

use adam::TorchAdam;
use loss::loss;
use model::CandleAutoencoder;

/// A candle model with its optimiser, on one device.
pub struct CandleTrainer {
    model: CandleAutoencoder,
    vars: Params<Var>,
    adam: TorchAdam,
    sparsity: SparsityConfig,
    device: Device,
    input_dim: usize,
}

impl CandleTrainer {
    /// Prepares to train a copy of `model` on `device`.
    ///
    /// # Errors
    /// A candle error while moving the model to the device.
    pub fn new(
        model: &SparseAutoencoder,
        config: &TrainConfig,
        sparsity: SparsityConfig,
        device: &Device,
    ) -> Result<Self, CoreError> {
        let candle_model = CandleAutoencoder::new(model, device)?;
        let vars = candle_model.vars();
        let adam = TorchAdam::new(&vars, config.lr, config.weight_decay)?;
        Ok(Self { model: candle_model, vars, adam, sparsity, device: device.clone(), input_dim: model.config.input })
    }
}

impl Engine for CandleTrainer {
    fn step(&mut self, input: &[f32], target: &[f32]) -> Result<LossParts, CoreError> {
        let shape = (input.len() / self.input_dim, self.input_dim);
        let x = Tensor::from_slice(input, shape, &self.device)?;
        let t = Tensor::from_slice(target, shape, &self.device)?;
        let (code, recon) = self.model.forward(&x)?;
        let loss = loss(&code, &recon, &t, &self.sparsity)?;
        let grads = loss.total.backward()?;
        self.adam.step(&self.vars, &grads)?;
        let mse = f64::from(loss.mse.to_scalar::<f32>()?);
        let penalty = match &loss.penalty {
            Some(p) => f64::from(p.to_scalar::<f32>()?),
            None => 0.0,
        };
        Ok(LossParts { mse, penalty, total: mse + self.sparsity.strength() * penalty })
    }

    fn model(&self) -> Result<Cow<'_, SparseAutoencoder>, CoreError> {
        Ok(Cow::Owned(self.model.to_model()?))
    }

    fn optimiser_finite(&self) -> Result<bool, CoreError> {
        self.adam.is_finite()
    }
}
