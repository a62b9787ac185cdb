//! The linear probe: multinomial logistic regression (softmax, L2 on the
//! weights, not the biases) fitted to convergence on standardised features,
//! which scores how linearly a code separates the classes.
//!
//! The objective is `mean_i CE(softmax(W x_i + b), y_i) + (l2/2) ‖W‖²`,
//! that of scikit-learn's `LogisticRegression(C = 1/(l2·n))` on the same
//! standardised features.

use crate::lbfgs::{minimise, LbfgsOptions};
use crate::matmul::{matmul, MatRef, Threads};

mod kernel;

use kernel::Objective;

/// The probe's settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProbeConfig {
    /// The L2 weight on the weights (UFLDL's softmax exercise uses 1e-4).
    pub l2: f64,
    /// Converged once every gradient component is below this
    /// (scikit-learn's `tol` for L-BFGS is the same test).
    pub gradient_tolerance: f64,
    /// L-BFGS iterations at most.
    pub max_iterations: usize,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        Self { l2: 1e-4, gradient_tolerance: 1e-4, max_iterations: 1000 }
    }
}

/// A fitted probe.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearProbe {
    dim: usize,
    classes: usize,
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    /// `[dim, classes]`, on standardised features.
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// L-BFGS iterations taken.
    pub iterations: usize,
    /// Whether the gradient tolerance was met.
    pub converged: bool,
}

/// Standardised copy of `features` (`[n, dim]`).
fn standardise(features: &[f32], dim: usize, mean: &[f32], inv_std: &[f32]) -> Vec<f32> {
    let mut out = features.to_vec();
    for row in out.chunks_exact_mut(dim) {
        row.iter_mut().zip(mean).zip(inv_std).for_each(|((v, m), s)| *v = (*v - m) * s);
    }
    out
}

/// Per-feature mean and inverse standard deviation (1 for a constant
/// feature, such as a dead unit).
fn moments(features: &[f32], dim: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (features.len() / dim) as f64;
    let (mut sum, mut sq) = (vec![0.0f64; dim], vec![0.0f64; dim]);
    for row in features.chunks_exact(dim) {
        for ((s, q), &v) in sum.iter_mut().zip(&mut sq).zip(row) {
            *s += v as f64;
            *q += (v as f64) * (v as f64);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let inv_std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| {
            let var = (q / n - m * m).max(0.0);
            if var > 1e-12 {
                (1.0 / var.sqrt()) as f32
            } else {
                1.0
            }
        })
        .collect();
    (mean.iter().map(|&m| m as f32).collect(), inv_std)
}

/// `logits = X W + b` for standardised `x` (`[n, dim]`), `[n, classes]`.
fn logits(x: &[f32], dim: usize, weights: &[f32], bias: &[f32], out: &mut [f32]) {
    let (n, c) = (x.len() / dim, bias.len());
    matmul(out, MatRef::new(x, n, dim), MatRef::new(weights, dim, c), false, Threads(1));
    out.chunks_exact_mut(c).for_each(|row| row.iter_mut().zip(bias).for_each(|(v, b)| *v += b));
}

impl LinearProbe {
    /// Fits a probe to `features` (`[n, dim]`) and their `labels`; the
    /// classes are `0..=max(labels)`.
    ///
    /// # Panics
    /// When `labels` does not hold one label per row, or is empty.
    pub fn fit(features: &[f32], labels: &[u8], dim: usize, config: ProbeConfig) -> Self {
        let n = labels.len();
        assert!(n > 0 && features.len() == n * dim, "one label per feature row");
        let classes = *labels.iter().max().expect("non-empty") as usize + 1;
        let (mean, inv_std) = moments(features, dim);
        let x = standardise(features, dim, &mean, &inv_std);
        let n_w = dim * classes;
        // Two halves of the rows, evaluated by `rayon::join`: on two cores
        // when the pool has one idle (a report, a sweep's last run), one
        // after the other otherwise; the same sums either way.
        let half = n / 2;
        let (x0, x1) = x.split_at(half * dim);
        let (y0, y1) = labels.split_at(half);
        let (mut first, mut second) =
            (Objective::new(x0, y0, n, dim, classes), Objective::new(x1, y1, n, dim, classes));
        let mut second_grad = vec![0.0; n_w + classes];
        let options = LbfgsOptions {
            gradient_tolerance: config.gradient_tolerance,
            max_iterations: config.max_iterations,
            memory: 10,
        };
        let found = minimise(vec![0.0; n_w + classes], options, |theta, grad| {
            let (w, b) = theta.split_at(n_w);
            let (l0, l1) = rayon::join(
                || {
                    let (gw, gb) = grad.split_at_mut(n_w);
                    first.evaluate(w, b, gw, gb)
                },
                || {
                    let (gw, gb) = second_grad.split_at_mut(n_w);
                    second.evaluate(w, b, gw, gb)
                },
            );
            grad.iter_mut().zip(&second_grad).for_each(|(g, s)| *g += s);
            grad.iter_mut().zip(w).for_each(|(g, &w)| *g += config.l2 * w);
            l0 + l1 + 0.5 * config.l2 * w.iter().map(|v| v * v).sum::<f64>()
        });
        let (w, b) = found.x.split_at(n_w);
        Self {
            dim,
            classes,
            mean,
            inv_std,
            weights: w.iter().map(|&v| v as f32).collect(),
            bias: b.iter().map(|&v| v as f32).collect(),
            iterations: found.iterations,
            converged: found.converged,
        }
    }

    /// The predicted class of each row of `features` (`[n, dim]`).
    pub fn predict(&self, features: &[f32]) -> Vec<u8> {
        let x = standardise(features, self.dim, &self.mean, &self.inv_std);
        let mut z = vec![0.0f32; x.len() / self.dim * self.classes];
        logits(&x, self.dim, &self.weights, &self.bias, &mut z);
        z.chunks_exact(self.classes)
            .map(|row| (0..self.classes).fold(0, |best, j| if row[j] > row[best] { j } else { best }) as u8)
            .collect()
    }

    /// The fraction of rows of `features` whose predicted class is their
    /// label.
    pub fn accuracy(&self, features: &[f32], labels: &[u8]) -> f64 {
        let hits = self.predict(features).iter().zip(labels).filter(|(p, l)| p == l).count();
        hits as f64 / labels.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// `n` points of `dim` features around one centre per class.
    fn clusters(n: usize, dim: usize, classes: u8, spread: f32, seed: u64) -> (Vec<f32>, Vec<u8>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let labels: Vec<u8> = (0..n).map(|i| (i % classes as usize) as u8).collect();
        let x = labels
            .iter()
            .flat_map(|&l| (0..dim).map(move |j| if j == l as usize { 3.0 } else { 0.0 }).collect::<Vec<f32>>())
            .map(|v| v + rng.random_range(-spread..spread))
            .collect();
        (x, labels)
    }

    #[test]
    fn separates_separable_classes_perfectly() {
        let (x, y) = clusters(600, 8, 4, 1.0, 1);
        let probe = LinearProbe::fit(&x, &y, 8, ProbeConfig::default());
        assert!(probe.converged, "{} iterations", probe.iterations);
        let (xt, yt) = clusters(300, 8, 4, 1.0, 2);
        assert_eq!(probe.accuracy(&xt, &yt), 1.0);
    }

    #[test]
    fn shuffled_labels_stay_at_chance() {
        let (x, mut y) = clusters(2000, 8, 4, 1.0, 3);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        // Labels independent of the features: a uniform class per point.
        y.iter_mut().for_each(|l| *l = rng.random_range(0..4));
        let probe = LinearProbe::fit(&x, &y, 8, ProbeConfig::default());
        let (xt, _) = clusters(4000, 8, 4, 1.0, 4);
        let yt: Vec<u8> = (0..4000).map(|_| rng.random_range(0..4)).collect();
        let acc = probe.accuracy(&xt, &yt);
        // Chance is 1/4; four standard errors of a binomial over 4000 points is 0.027.
        assert!((acc - 0.25).abs() < 0.03, "accuracy {acc} on labels that carry no information");
    }

    #[test]
    fn a_constant_feature_is_harmless() {
        let (mut x, y) = clusters(200, 3, 3, 0.5, 5);
        x.chunks_exact_mut(3).for_each(|r| r[2] = 7.0);
        let probe = LinearProbe::fit(&x, &y, 3, ProbeConfig::default());
        assert!(probe.weights.iter().all(|w| w.is_finite()));
        assert!(probe.accuracy(&x, &y) > 0.6);
    }
}
