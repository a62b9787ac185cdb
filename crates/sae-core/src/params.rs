//! The autoencoder's parameter tensors, defined once and generic over
//! what is kept per tensor: the values, their gradients, Adam's moments,
//! their names and shapes.

use crate::{Architecture, ModelConfig};

/// One `T` per parameter tensor, in the order of the reference's PyTorch
/// `state_dict`, then the tensors only some models have (of no values in
/// the others, and absent from their checkpoints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<T> {
    /// `encoder.weight`, `[H, D]`.
    pub enc_w: T,
    /// `encoder.bias`, `[H]`.
    pub enc_b: T,
    /// `decoder.weight`, `[D, H]`.
    pub dec_w: T,
    /// `decoder.bias`, `[D]`.
    pub dec_b: T,
    /// `pre_bias`, `[D]` for a model with a pre-encoder bias, `[0]` (no
    /// values, absent from checkpoints) otherwise.
    pub pre_b: T,
    /// `log_threshold`, `[H]` for a JumpReLU model: `log θ_j`.
    pub log_threshold: T,
    /// `r_mag`, `[H]` for a Gated model: the magnitude path's weights are
    /// the gate's rows scaled by `e^{r_mag,j}`.
    pub r_mag: T,
    /// `b_mag`, `[H]` for a Gated model: the magnitude path's bias.
    pub b_mag: T,
}

/// The tensor names, as in the reference's `SAE` module, and the
/// pre-encoder bias as OpenAI's `sparse_autoencoder` names it, JumpReLU's
/// and Gated's tensors as SAELens's training modules name them.
pub const TENSOR_NAMES: Params<&str> = Params {
    enc_w: "encoder.weight",
    enc_b: "encoder.bias",
    dec_w: "decoder.weight",
    dec_b: "decoder.bias",
    pre_b: "pre_bias",
    log_threshold: "log_threshold",
    r_mag: "r_mag",
    b_mag: "b_mag",
};

/// How many tensors [`Params`] holds.
const COUNT: usize = 8;

impl<T> Params<T> {
    /// From the values in order.
    pub fn from_array([enc_w, enc_b, dec_w, dec_b, pre_b, log_threshold, r_mag, b_mag]: [T; COUNT]) -> Self {
        Self { enc_w, enc_b, dec_w, dec_b, pre_b, log_threshold, r_mag, b_mag }
    }

    /// The values in order.
    pub fn into_array(self) -> [T; COUNT] {
        [self.enc_w, self.enc_b, self.dec_w, self.dec_b, self.pre_b, self.log_threshold, self.r_mag, self.b_mag]
    }

    /// Borrows each value.
    pub fn as_ref(&self) -> Params<&T> {
        Params {
            enc_w: &self.enc_w,
            enc_b: &self.enc_b,
            dec_w: &self.dec_w,
            dec_b: &self.dec_b,
            pre_b: &self.pre_b,
            log_threshold: &self.log_threshold,
            r_mag: &self.r_mag,
            b_mag: &self.b_mag,
        }
    }

    /// Borrows each value mutably.
    pub fn as_mut(&mut self) -> Params<&mut T> {
        Params {
            enc_w: &mut self.enc_w,
            enc_b: &mut self.enc_b,
            dec_w: &mut self.dec_w,
            dec_b: &mut self.dec_b,
            pre_b: &mut self.pre_b,
            log_threshold: &mut self.log_threshold,
            r_mag: &mut self.r_mag,
            b_mag: &mut self.b_mag,
        }
    }

    /// Applies `f` to each value, in `state_dict` order.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Params<U> {
        Params::from_array(self.into_array().map(f))
    }

    /// Applies a fallible `f` to each value, in order, stopping at the
    /// first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Params<U>, E> {
        let values: Vec<U> = self.into_array().into_iter().map(f).collect::<Result<_, _>>()?;
        let values: [U; COUNT] = values.try_into().unwrap_or_else(|_| unreachable!("one value per tensor"));
        Ok(Params::from_array(values))
    }

    /// Pairs each value with the same tensor's value in `other`.
    pub fn zip<U>(self, other: Params<U>) -> Params<(T, U)> {
        let mut other = other.into_array().into_iter();
        self.map(|t| (t, other.next().expect("one value per tensor")))
    }
}

impl Params<Vec<usize>> {
    /// The shapes of a model shaped `config`: `[H, D]`, `[H]`, `[D, H]`,
    /// `[D]`, `[D]` for the pre-encoder bias if it has one, `[H]` for
    /// JumpReLU's threshold and Gated's two magnitude tensors if it is
    /// such a model; `[0]` for a tensor the model lacks.
    pub fn shapes(config: ModelConfig) -> Self {
        let (d, h) = (config.input, config.hidden);
        let pre = if config.pre_bias { d } else { 0 };
        let jump = if config.architecture == Architecture::JumpRelu { h } else { 0 };
        let gated = if config.architecture == Architecture::Gated { h } else { 0 };
        Params {
            enc_w: vec![h, d],
            enc_b: vec![h],
            dec_w: vec![d, h],
            dec_b: vec![d],
            pre_b: vec![pre],
            log_threshold: vec![jump],
            r_mag: vec![gated],
            b_mag: vec![gated],
        }
    }

    /// The number of values of each tensor.
    pub fn sizes(&self) -> Params<usize> {
        self.as_ref().map(|s| s.iter().product())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_names_and_shapes_agree() {
        let names = TENSOR_NAMES.into_array();
        let state_dict = ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias", "pre_bias"];
        assert_eq!(names[..5], state_dict);
        let shapes = Params::shapes(ModelConfig::new(6, 2));
        assert_eq!(shapes.sizes().into_array(), [12, 2, 12, 6, 0, 0, 0, 0]);
        let centred = ModelConfig { pre_bias: true, ..ModelConfig::new(6, 2) };
        assert_eq!(Params::shapes(centred).pre_b, vec![6]);
        let jump = ModelConfig { architecture: Architecture::JumpRelu, ..ModelConfig::new(6, 2) };
        assert_eq!(Params::shapes(jump).sizes().into_array(), [12, 2, 12, 6, 0, 2, 0, 0]);
        let gated = ModelConfig { architecture: Architecture::Gated, ..ModelConfig::new(6, 2) };
        assert_eq!(Params::shapes(gated).sizes().into_array(), [12, 2, 12, 6, 0, 0, 2, 2]);
        let named = TENSOR_NAMES.zip(shapes).map(|(n, s)| format!("{n}{s:?}"));
        assert_eq!(named.dec_w, "decoder.weight[6, 2]");
        let r: Result<Params<usize>, String> = named.try_map(|s| s.len().checked_sub(18).ok_or(s));
        assert_eq!(r.unwrap_err(), "encoder.bias[2]");
    }
}
