//! Latent statistics as the field defines them: a latent is dead when it
//! never fires on the evaluated images and dense when it fires on more than
//! 10% of them (SAEBench's `freq_over_10%`); firing is being non-zero, or
//! above 1e-3 for a sigmoid code, which is never exactly 0 (OpenAI's
//! threshold). `l0` counts the exactly non-zero entries.

use crate::Activation;

/// The share of images on which a latent must fire to count as dense.
const DENSE_ABOVE: f64 = 0.1;

/// How a code's latents fire over a set of images.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LatentStats {
    /// Fraction of latents that fire on no image.
    pub dead_fraction: f64,
    /// Fraction of latents that fire on more than `DENSE_ABOVE` (10%) of the images.
    pub dense_fraction: f64,
    /// Mean count of non-zero entries per image (exact zeros only: a ReLU's
    /// and a selection's; a sigmoid code's entries are all non-zero).
    pub l0: f64,
}

/// Counts per latent of the images it fires on, and of non-zero entries.
pub(crate) struct LatentCounts {
    fires: Vec<u64>,
    nonzero: u64,
    images: u64,
    above: f32,
}

impl LatentCounts {
    pub(crate) fn new(hidden: usize, activation: Activation) -> Self {
        Self { fires: vec![0; hidden], nonzero: 0, images: 0, above: activation.fires_above() }
    }

    pub(crate) fn add(&mut self, code: &[f32]) {
        for row in code.chunks_exact(self.fires.len()) {
            for (f, &v) in self.fires.iter_mut().zip(row) {
                *f += u64::from(v > self.above);
                self.nonzero += u64::from(v != 0.0);
            }
            self.images += 1;
        }
    }

    pub(crate) fn stats(&self) -> LatentStats {
        let (h, n) = (self.fires.len() as f64, self.images.max(1) as f64);
        let share = |pred: &dyn Fn(u64) -> bool| self.fires.iter().filter(|&&f| pred(f)).count() as f64 / h;
        LatentStats {
            dead_fraction: share(&|f| f == 0),
            dense_fraction: share(&|f| f as f64 > DENSE_ABOVE * n),
            l0: self.nonzero as f64 / n,
        }
    }
}

/// The statistics of a code (`[n, hidden]`) made by `activation`.
pub fn code_statistics(code: &[f32], hidden: usize, activation: Activation) -> LatentStats {
    let mut counts = LatentCounts::new(hidden, activation);
    counts.add(code);
    counts.stats()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_and_dense_latents_of_a_hand_made_code() {
        // Ten images of four latents. Latent 0 fires on every image (dense),
        // latent 1 on one image (10%: not dense), latent 2 on two (dense),
        // latent 3 on none (dead).
        let mut code = vec![0.0f32; 40];
        (0..10).for_each(|i| code[i * 4] = 0.7);
        code[4 + 1] = 0.2;
        code[2] = 0.1;
        code[8 + 2] = 0.3;
        let relu = code_statistics(&code, 4, Activation::Relu);
        assert_eq!(relu, LatentStats { dead_fraction: 0.25, dense_fraction: 0.5, l0: 1.3 });
        // As a sigmoid code, entries at or below 1e-3 do not fire but count in l0.
        code.iter_mut().skip(3).step_by(4).for_each(|v| *v = 1e-3);
        let sigmoid = code_statistics(&code, 4, Activation::Sigmoid);
        assert_eq!(sigmoid, LatentStats { dead_fraction: 0.25, dense_fraction: 0.5, l0: 2.3 });
    }
}
