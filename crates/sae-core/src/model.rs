//! The sparse autoencoder: `h = act(W₁(x − b_pre) + b₁)` (a sigmoid, the
//! reference, or a ReLU; `b_pre` only with a pre-encoder bias; JumpReLU's
//! and Gated's codes in `jumprelu.rs` and `gated.rs`),
//! `y = tanh(W₂h + b₂)`, with PyTorch's default `Linear` initialisation or
//! Gao et al.'s tied one, and inference helpers (reconstruction,
//! thresholded reconstruction, decoder atoms).

use rand::distr::{Distribution, Uniform};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::activation::{relu, sigmoid, tanh};
use crate::atoms::normalise_atoms;
use crate::gated::{gated_code, magnitude_scale};
use crate::jumprelu::{jump, thresholds};
use crate::matmul::{matmul, MatRef, Threads};
use crate::tied::transpose_into;
use crate::topk::keep_top_k;
use crate::{Activation, Architecture, Init, ModelConfig, Params, SparsityConfig};

/// The parameters of a sparse autoencoder, laid out as the reference's
/// PyTorch modules store them (row-major).
#[derive(Debug, Clone, PartialEq)]
pub struct SparseAutoencoder {
    /// Input and hidden sizes.
    pub config: ModelConfig,
    /// The values of each tensor, row-major, shaped as [`Params::shapes`].
    pub params: Params<Vec<f32>>,
    /// BatchTopK's threshold, learned in training: at inference every
    /// activation at or below it is zeroed, so an image's code does not
    /// depend on the other images. `None` for other models (and for a
    /// BatchTopK model before its first step). Saved as the checkpoint's
    /// `threshold` tensor.
    pub threshold: Option<f32>,
    /// TopK's k: the forward pass keeps each code's k largest activations.
    /// Taken from the mechanism ([`SparseAutoencoder::with_mechanism`], as
    /// the engines do), never set on its own; `None` for other models.
    /// Saved as the checkpoint's `k` tensor.
    pub top_k: Option<usize>,
}

/// What a forward pass produces for a batch of `n` inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Forward {
    /// The hidden code `h`, `[n, H]`, each value in (0, 1) for a sigmoid,
    /// ≥ 0 for a ReLU.
    pub code: Vec<f32>,
    /// The reconstruction `y`, `[n, D]`, each value in (−1, 1).
    pub recon: Vec<f32>,
}

/// Samples `n` values uniformly from `[−bound, bound)`.
fn uniform(n: usize, bound: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let dist = Uniform::new(-bound, bound).expect("bound is positive and finite");
    (0..n).map(|_| dist.sample(rng)).collect()
}

/// `input` less `pre_b` row by row, written into `centred`, or `input`
/// itself when `pre_b` is empty (a model without a pre-encoder bias).
pub(crate) fn centre<'a>(input: &'a [f32], pre_b: &[f32], centred: &'a mut Vec<f32>) -> &'a [f32] {
    if pre_b.is_empty() {
        return input;
    }
    centred.clear();
    for row in input.chunks_exact(pre_b.len()) {
        centred.extend(row.iter().zip(pre_b).map(|(x, b)| x - b));
    }
    centred
}

/// `z[i, j] = act(z[i, j] + bias[j])` for a row-major `z` of width `bias.len()`.
/// Compiled also for AVX2 and chosen at run time (as every elementwise hot
/// loop here), since the default x86-64 target vectorises 4 lanes only.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn add_bias_apply(z: &mut [f32], bias: &[f32], act: impl Fn(f32) -> f32) {
    for row in z.chunks_exact_mut(bias.len()) {
        for (v, b) in row.iter_mut().zip(bias) {
            *v = act(*v + b);
        }
    }
}

/// `z = act(z + bias)` row by row, for the model's activation.
pub(crate) fn activate(z: &mut [f32], bias: &[f32], activation: Activation) {
    match activation {
        Activation::Sigmoid => add_bias_apply(z, bias, sigmoid),
        Activation::Relu => add_bias_apply(z, bias, relu),
    }
}

/// Gao et al.'s start: a decoder `[D, H]` drawn as PyTorch's, each column
/// (atom) scaled to unit norm, the encoder its transpose, zero biases.
fn tied(d: usize, h: usize, rng: &mut ChaCha8Rng) -> Params<Vec<f32>> {
    let mut dec_w = uniform(d * h, 1.0 / (h as f32).sqrt(), rng);
    normalise_atoms(&mut dec_w, h);
    let mut enc_w = vec![0.0; h * d];
    transpose_into(&dec_w, &mut enc_w, d, h);
    Params { enc_w, enc_b: vec![0.0; h], dec_w, dec_b: vec![0.0; d], ..Params::default() }
}

impl SparseAutoencoder {
    /// A fresh model drawn from a generator seeded with `seed`, initialised
    /// as `config.init` says: as PyTorch's `nn.Linear` (weights and biases
    /// uniform in ±1/√fan_in; Kaiming-uniform with a = √5 reduces to this
    /// bound), or tied (see [`Init::Tied`]). A pre-encoder bias starts at
    /// zero ([`SparseAutoencoder::start_pre_bias`] sets it from the data);
    /// with `unit_atoms` the decoder's atoms start at unit norm. A JumpReLU
    /// model's thresholds start at the paper's 0.001
    /// ([`SparseAutoencoder::start_threshold`] sets another), a Gated
    /// model's magnitude path as its gate (`r_mag` and `b_mag` zero, as
    /// dictionary_learning and SAELens start them).
    pub fn new(config: ModelConfig, seed: u64) -> Self {
        let (d, h) = (config.input, config.hidden);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut params = match config.init {
            Init::Tied => tied(d, h, &mut rng),
            Init::Pytorch => {
                let enc_bound = 1.0 / (d as f32).sqrt();
                let dec_bound = 1.0 / (h as f32).sqrt();
                Params {
                    enc_w: uniform(h * d, enc_bound, &mut rng),
                    enc_b: uniform(h, enc_bound, &mut rng),
                    dec_w: uniform(d * h, dec_bound, &mut rng),
                    dec_b: uniform(d, dec_bound, &mut rng),
                    ..Params::default()
                }
            }
        };
        if config.pre_bias {
            params.pre_b = vec![0.0; d];
        }
        match config.architecture {
            Architecture::Standard => {}
            Architecture::JumpRelu => {
                params.log_threshold = vec![(SparsityConfig::JUMPRELU_INITIAL_THRESHOLD as f32).ln(); h]
            }
            Architecture::Gated => (params.r_mag, params.b_mag) = (vec![0.0; h], vec![0.0; h]),
        }
        if config.unit_atoms && config.init != Init::Tied {
            normalise_atoms(&mut params.dec_w, h);
        }
        Self { config, params, threshold: None, top_k: None }
    }

    /// Sets the pre-encoder bias to `mean_image` (`[D]`, the training
    /// images' mean), as the field starts `b_pre` from the data; a model
    /// without one is left as it is.
    pub fn start_pre_bias(&mut self, mean_image: &[f32]) {
        if self.config.pre_bias && mean_image.len() == self.config.input {
            self.params.pre_b = mean_image.to_vec();
        }
    }

    /// Sets every JumpReLU threshold to `theta` (> 0); a model of another
    /// architecture is left as it is.
    pub fn start_threshold(&mut self, theta: f64) {
        let log = (theta as f32).ln();
        self.params.log_threshold.iter_mut().for_each(|t| *t = log);
    }

    /// This model as `sparsity` trains it and its forward pass then
    /// selects: TopK keeps the mechanism's k, every other mechanism keeps
    /// every unit (BatchTopK's threshold is learned in training).
    pub fn with_mechanism(self, sparsity: &SparsityConfig) -> Self {
        Self { top_k: sparsity.top_k(), ..self }
    }

    /// Number of trainable values.
    pub fn num_parameters(&self) -> usize {
        self.params.as_ref().into_array().iter().map(|p| p.len()).sum()
    }

    /// The hidden code of `n` inputs, written into `code` (`[n, H]`):
    /// the activations, of which TopK keeps the k largest and BatchTopK's
    /// threshold those above it.
    pub(crate) fn encode_into(&self, input: &[f32], n: usize, code: &mut [f32], threads: Threads) {
        let (d, h) = (self.config.input, self.config.hidden);
        let mut centred = Vec::new();
        let input = centre(&input[..n * d], &self.params.pre_b, &mut centred);
        matmul(code, MatRef::new(input, n, d), MatRef::new(&self.params.enc_w, h, d).t(), false, threads);
        let (code, p) = (&mut code[..n * h], &self.params);
        match self.config.architecture {
            Architecture::Standard => activate(code, &p.enc_b, self.config.activation),
            Architecture::JumpRelu => {
                add_bias_apply(code, &p.enc_b, |v| v);
                let (z, mut theta) = (code.to_vec(), Vec::new());
                thresholds(&p.log_threshold, &mut theta);
                jump(&z, &theta, code);
            }
            Architecture::Gated => {
                let (products, mut gate, mut scale) = (code.to_vec(), vec![0.0; n * h], Vec::new());
                magnitude_scale(&p.r_mag, &mut scale);
                gated_code(&products, &p.enc_b, &scale, &p.b_mag, &mut gate, code);
            }
        }
        if let Some(k) = self.top_k {
            keep_top_k(code, h, k, &mut Vec::with_capacity(h));
        }
        if let Some(t) = self.threshold {
            code.iter_mut().filter(|v| **v <= t).for_each(|v| *v = 0.0);
        }
    }

    /// The hidden code of `n` inputs (`[n, D]` → `[n, H]`), for a probe or
    /// a picture.
    pub fn encode(&self, input: &[f32], n: usize) -> Vec<f32> {
        let mut code = vec![0.0; n * self.config.hidden];
        self.encode_into(input, n, &mut code, Threads(1));
        code
    }

    /// The reconstruction of `n` codes, written into `recon` (`[n, D]`).
    pub(crate) fn decode_into(&self, code: &[f32], n: usize, recon: &mut [f32], threads: Threads) {
        let (d, h) = (self.config.input, self.config.hidden);
        matmul(recon, MatRef::new(code, n, h), MatRef::new(&self.params.dec_w, d, h).t(), false, threads);
        add_bias_apply(&mut recon[..n * d], &self.params.dec_b, tanh);
    }

    /// Encodes and decodes `n` inputs (`[n, D]`, normalised units).
    ///
    /// # Shapes
    /// `input: [n, D]` → `code: [n, H]`, `recon: [n, D]`.
    pub fn forward(&self, input: &[f32], n: usize) -> Forward {
        let code = self.encode(input, n);
        let mut recon = vec![0.0; n * self.config.input];
        self.decode_into(&code, n, &mut recon, Threads(1));
        Forward { code, recon }
    }

    /// The reconstruction after zeroing every activation below `threshold`
    /// (the reference uses 0.5): what the strongly active units alone
    /// encode.
    pub fn thresholded_recon(&self, input: &[f32], n: usize, threshold: f32) -> Vec<f32> {
        let mut code = self.forward(input, n).code;
        code.iter_mut().filter(|v| **v < threshold).for_each(|v| *v = 0.0);
        let mut recon = vec![0.0; n * self.config.input];
        self.decode_into(&code, n, &mut recon, Threads(1));
        recon
    }

    /// The decoder atoms: the decoder's output for each one-hot code, i.e.
    /// the decoding of the identity matrix, `[H, D]`.
    pub fn decoder_atoms(&self) -> Vec<f32> {
        let h = self.config.hidden;
        let mut eye = vec![0.0; h * h];
        (0..h).for_each(|j| eye[j * h + j] = 1.0);
        let mut atoms = vec![0.0; h * self.config.input];
        self.decode_into(&eye, h, &mut atoms, Threads(1));
        atoms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_follows_pytorch_bounds_and_seed() {
        let cfg = ModelConfig::new(784, 64);
        let m = SparseAutoencoder::new(cfg, 1);
        let within = |v: &[f32], b: f32| v.iter().all(|x| x.abs() <= b);
        assert!(within(&m.params.enc_w, 1.0 / 28.0) && within(&m.params.enc_b, 1.0 / 28.0));
        assert!(within(&m.params.dec_w, 0.125) && within(&m.params.dec_b, 0.125));
        // A uniform on ±b has variance b²/3.
        let var = m.params.dec_w.iter().map(|x| (x * x) as f64).sum::<f64>() / m.params.dec_w.len() as f64;
        assert!((var - 0.125f64.powi(2) / 3.0).abs() < 2e-4, "{var}");
        assert_eq!(m, SparseAutoencoder::new(cfg, 1));
        assert_ne!(m, SparseAutoencoder::new(cfg, 2));
        assert_eq!(m.num_parameters(), 2 * 784 * 64 + 64 + 784);
    }

    #[test]
    fn forward_matches_the_definition() {
        let cfg = ModelConfig::new(6, 3);
        let m = SparseAutoencoder::new(cfg, 0);
        let x: Vec<f32> = (0..12).map(|i| (i as f32 * 0.3).sin()).collect();
        let f = m.forward(&x, 2);
        for i in 0..2 {
            for j in 0..3 {
                let z: f32 = (0..6).map(|k| m.params.enc_w[j * 6 + k] * x[i * 6 + k]).sum::<f32>() + m.params.enc_b[j];
                assert!((f.code[i * 3 + j] - 1.0 / (1.0 + (-z).exp())).abs() < 1e-6);
            }
            for k in 0..6 {
                let z: f32 =
                    (0..3).map(|j| m.params.dec_w[k * 3 + j] * f.code[i * 3 + j]).sum::<f32>() + m.params.dec_b[k];
                assert!((f.recon[i * 6 + k] - z.tanh()).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn tied_init_has_unit_atoms_and_the_encoder_transposed() {
        let cfg = ModelConfig { init: Init::Tied, ..ModelConfig::new(6, 4) };
        let m = SparseAutoencoder::new(cfg, 2);
        for j in 0..4 {
            let norm: f32 = (0..6).map(|k| m.params.dec_w[k * 4 + j].powi(2)).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-6, "atom {j}: {norm}");
            (0..6).for_each(|k| assert_eq!(m.params.enc_w[j * 6 + k], m.params.dec_w[k * 4 + j]));
        }
        assert!(m.params.enc_b.iter().chain(&m.params.dec_b).all(|b| *b == 0.0));
    }

    #[test]
    fn relu_codes_and_the_threshold_zero_exactly() {
        let cfg = ModelConfig { activation: Activation::Relu, ..ModelConfig::new(6, 5) };
        let mut m = SparseAutoencoder::new(cfg, 1);
        let x: Vec<f32> = (0..18).map(|i| (i as f32 * 0.7).cos()).collect();
        let code = m.encode(&x, 3);
        assert!(code.iter().all(|v| *v >= 0.0) && code.contains(&0.0) && code.iter().any(|v| *v > 0.0));
        m.threshold = Some(0.05);
        let cut = m.encode(&x, 3);
        code.iter().zip(&cut).for_each(|(a, b)| assert_eq!(*b, if *a <= 0.05 { 0.0 } else { *a }));
    }

    #[test]
    fn atoms_decode_one_hot_codes_and_threshold_zeroes_weak_units() {
        let cfg = ModelConfig::new(5, 4);
        let m = SparseAutoencoder::new(cfg, 3);
        let atoms = m.decoder_atoms();
        for j in 0..4 {
            for k in 0..5 {
                assert!((atoms[j * 5 + k] - (m.params.dec_w[k * 4 + j] + m.params.dec_b[k]).tanh()).abs() < 1e-6);
            }
        }
        // With threshold above every activation the code is all zeros: y = tanh(b₂).
        let x = vec![0.1f32; 5];
        let r = m.thresholded_recon(&x, 1, 1.1);
        r.iter().zip(&m.params.dec_b).for_each(|(y, b)| assert!((y - b.tanh()).abs() < 1e-6));
    }
}
