//! Adam on candle tensors, computed as PyTorch's `torch.optim.Adam` (and
//! the fast engine) computes it: L2 weight decay added to the gradient.
//! candle-nn's `AdamW` decays the weights instead (`θ ← θ(1 − lr·λ)`),
//! which differs as soon as the decay is not zero.

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use crate::{AdamState, CoreError, Params};

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

/// Adam's hyperparameters, step count and moment estimates.
pub struct TorchAdam {
    lr: f64,
    weight_decay: f64,
    step: i32,
    moments: Params<(Tensor, Tensor)>,
}

impl TorchAdam {
    /// Zero moments for `vars`.
    ///
    /// # Errors
    /// A candle error while allocating.
    pub fn new(vars: &Params<Var>, lr: f64, weight_decay: f64) -> Result<Self, CoreError> {
        let moments = vars.as_ref().try_map(|v| Ok::<_, CoreError>((v.zeros_like()?, v.zeros_like()?)))?;
        Ok(Self { lr, weight_decay, step: 0, moments })
    }

    /// Whether every moment is finite (see `AdamState::is_finite`).
    ///
    /// # Errors
    /// A candle error while reducing the moments.
    pub fn is_finite(&self) -> Result<bool, CoreError> {
        for (m, v) in self.moments.as_ref().into_array() {
            for t in [m, v] {
                let sum = t.abs()?.sum_all()?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
                if !sum.is_finite() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The learning rate and weight decay.
    pub fn settings(&self) -> (f64, f64) {
        (self.lr, self.weight_decay)
    }

    /// The moments on the host, and the steps taken.
    ///
    /// # Errors
    /// A failed copy from the device.
    pub fn export(&self) -> Result<(Params<AdamState>, u64), CoreError> {
        let host = |t: &Tensor| t.flatten_all()?.to_vec1::<f32>();
        let moments =
            self.moments.as_ref().try_map(|(m, v)| Ok::<_, CoreError>(AdamState::from_moments(host(m)?, host(v)?)))?;
        Ok((moments, u64::try_from(self.step).expect("the step count is never negative")))
    }

    /// Takes up `moments` and `steps` (a stored state's), shaped as `vars`.
    ///
    /// # Errors
    /// A step count beyond `i32`, or a candle error while moving the
    /// moments to the device.
    pub fn restore(&mut self, vars: &Params<Var>, moments: &Params<AdamState>, steps: u64) -> Result<(), CoreError> {
        self.step = i32::try_from(steps)
            .map_err(|_| CoreError::State(format!("{steps} Adam steps, beyond this engine's count")))?;
        let pairs = vars.as_ref().zip(moments.as_ref()).zip(self.moments.as_mut());
        for ((var, state), (m, v)) in pairs.into_array() {
            let (host_m, host_v) = state.moments();
            *m = Tensor::from_slice(host_m, var.shape(), var.device())?;
            *v = Tensor::from_slice(host_v, var.shape(), var.device())?;
        }
        Ok(())
    }

    /// One step of every variable from its gradient in `grads`:
    /// `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
    /// `θ ← θ − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`, with the constants
    /// rounded to `f32` and the operations in the fast engine's order, so the
    /// two agree to the last bit on equal gradients.
    ///
    /// # Errors
    /// A variable without a gradient, or a candle error.
    pub fn step(&mut self, vars: &Params<Var>, grads: &GradStore) -> Result<(), CoreError> {
        self.step += 1;
        let step_size = (self.lr / (1.0 - f64::from(BETA1).powi(self.step))) as f32;
        let inv_sqrt_bc2 = (1.0 / (1.0 - f64::from(BETA2).powi(self.step)).sqrt()) as f32;
        let (decay, f) = (self.weight_decay as f32, f64::from);
        for (var, (m, v)) in vars.as_ref().zip(self.moments.as_mut()).into_array() {
            // A model without a pre-encoder bias holds it as a tensor of no values.
            if var.elem_count() == 0 {
                continue;
            }
            let theta = var.as_tensor();
            let g = grads.get(theta).ok_or_else(|| candle_core::Error::Msg("a parameter has no gradient".into()))?;
            let g = if decay == 0.0 { g.clone() } else { (g + (theta * f(decay))?)? };
            *m = ((&*m * f(BETA1))? + (&g * f(1.0 - BETA1))?)?;
            *v = ((&*v * f(BETA2))? + ((&g * f(1.0 - BETA2))? * &g)?)?;
            let denom = ((v.sqrt()? * f(inv_sqrt_bc2))? + f(EPS))?;
            var.set(&(theta - ((&*m * f(step_size))? / denom)?)?)?;
        }
        Ok(())
    }
}
