//! The autoencoder's four parameter tensors, defined once and generic over
//! what is kept per tensor: the values, their gradients, Adam's moments,
//! their names and shapes.

use crate::ModelConfig;

/// One `T` per parameter tensor, in the order of the reference's PyTorch
/// `state_dict`.
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
}

/// The tensor names, as in the reference's `SAE` module, and the
/// pre-encoder bias as OpenAI's `sparse_autoencoder` names it.
pub const TENSOR_NAMES: Params<&str> = Params {
    enc_w: "encoder.weight",
    enc_b: "encoder.bias",
    dec_w: "decoder.weight",
    dec_b: "decoder.bias",
    pre_b: "pre_bias",
};

impl<T> Params<T> {
    /// From the five values in `state_dict` order.
    pub fn from_array([enc_w, enc_b, dec_w, dec_b, pre_b]: [T; 5]) -> Self {
        Self { enc_w, enc_b, dec_w, dec_b, pre_b }
    }

    /// The five values in `state_dict` order.
    pub fn into_array(self) -> [T; 5] {
        [self.enc_w, self.enc_b, self.dec_w, self.dec_b, self.pre_b]
    }

    /// Borrows each value.
    pub fn as_ref(&self) -> Params<&T> {
        Params { enc_w: &self.enc_w, enc_b: &self.enc_b, dec_w: &self.dec_w, dec_b: &self.dec_b, pre_b: &self.pre_b }
    }

    /// Borrows each value mutably.
    pub fn as_mut(&mut self) -> Params<&mut T> {
        Params {
            enc_w: &mut self.enc_w,
            enc_b: &mut self.enc_b,
            dec_w: &mut self.dec_w,
            dec_b: &mut self.dec_b,
            pre_b: &mut self.pre_b,
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
    pub fn try_map<U, E>(self, mut f: impl FnMut(T) -> Result<U, E>) -> Result<Params<U>, E> {
        let [a, b, c, d, e] = self.into_array();
        Ok(Params { enc_w: f(a)?, enc_b: f(b)?, dec_w: f(c)?, dec_b: f(d)?, pre_b: f(e)? })
    }

    /// Pairs each value with the same tensor's value in `other`.
    pub fn zip<U>(self, other: Params<U>) -> Params<(T, U)> {
        let [a, b, c, d, e] = self.into_array();
        let [f, g, h, i, j] = other.into_array();
        Params::from_array([(a, f), (b, g), (c, h), (d, i), (e, j)])
    }
}

impl Params<Vec<usize>> {
    /// The shapes of a model shaped `config`: `[H, D]`, `[H]`, `[D, H]`,
    /// `[D]`, and `[D]` for the pre-encoder bias if it has one, else `[0]`.
    pub fn shapes(config: ModelConfig) -> Self {
        let (d, h) = (config.input, config.hidden);
        let pre = if config.pre_bias { d } else { 0 };
        Params { enc_w: vec![h, d], enc_b: vec![h], dec_w: vec![d, h], dec_b: vec![d], pre_b: vec![pre] }
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
        assert_eq!(names, ["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias", "pre_bias"]);
        let shapes = Params::shapes(ModelConfig::new(6, 2));
        assert_eq!(shapes.sizes(), Params { enc_w: 12, enc_b: 2, dec_w: 12, dec_b: 6, pre_b: 0 });
        let centred = ModelConfig { pre_bias: true, ..ModelConfig::new(6, 2) };
        assert_eq!(Params::shapes(centred).pre_b, vec![6]);
        let named = TENSOR_NAMES.zip(shapes).map(|(n, s)| format!("{n}{s:?}"));
        assert_eq!(named.dec_w, "decoder.weight[6, 2]");
        let r: Result<Params<usize>, String> = named.try_map(|s| s.len().checked_sub(18).ok_or(s));
        assert_eq!(r.unwrap_err(), "encoder.bias[2]");
    }
}
