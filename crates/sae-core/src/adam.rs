//! Adam, computed exactly as PyTorch's `torch.optim.Adam` does (β₁ = 0.9,
//! β₂ = 0.999, ε = 1e-8, optional L2 weight decay added to the gradient).

/// The moment estimates of one parameter tensor.
#[derive(Debug, Clone)]
pub struct AdamState {
    m: Vec<f32>,
    v: Vec<f32>,
}

/// Adam's hyperparameters and step count.
#[derive(Debug, Clone, Copy)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// L2 penalty added to each gradient (`grad += weight_decay · param`).
    pub weight_decay: f64,
    step: u64,
}

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

impl AdamState {
    /// Zero moments for a tensor of `n` values.
    pub fn new(n: usize) -> Self {
        Self { m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// Whether both moments are finite everywhere: a squared gradient
    /// beyond `f32::MAX` makes `v` infinite and every later update of
    /// that value 0, so training stops without any NaN.
    pub fn is_finite(&self) -> bool {
        self.m.iter().chain(&self.v).all(|x| x.is_finite())
    }

    /// The state of a tensor whose moments are `m` and `v` (a stored
    /// training state's).
    pub(crate) fn from_moments(m: Vec<f32>, v: Vec<f32>) -> Self {
        Self { m, v }
    }

    /// The first and second moment estimates.
    pub(crate) fn moments(&self) -> (&[f32], &[f32]) {
        (&self.m, &self.v)
    }
}

impl Adam {
    /// An optimiser that has taken no step yet.
    pub fn new(lr: f64, weight_decay: f64) -> Self {
        Self { lr, weight_decay, step: 0 }
    }

    /// An optimiser that has taken `steps` steps (a stored training
    /// state's count).
    pub(crate) fn after(lr: f64, weight_decay: f64, steps: u64) -> Self {
        Self { lr, weight_decay, step: steps }
    }

    /// The steps taken.
    pub(crate) fn steps(&self) -> u64 {
        self.step
    }

    /// Starts a step: call once per batch, before [`Adam::update`] on
    /// every tensor.
    pub fn begin_step(&mut self) {
        self.step += 1;
    }

    /// Updates `param` from `grad`:
    /// `p −= lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.
    pub fn update(&self, param: &mut [f32], grad: &[f32], state: &mut AdamState) {
        let t = self.step as i32;
        let c = StepConstants {
            step_size: (self.lr / (1.0 - BETA1.powi(t))) as f32,
            inv_sqrt_bc2: (1.0 / (1.0 - BETA2.powi(t)).sqrt()) as f32,
            weight_decay: self.weight_decay as f32,
        };
        adam_kernel(param, grad, &mut state.m, &mut state.v, c);
    }
}

/// The per-step factors of the update.
#[derive(Debug, Clone, Copy)]
struct StepConstants {
    step_size: f32,
    inv_sqrt_bc2: f32,
    weight_decay: f32,
}

/// `x`, or 0 when it is subnormal (below 1.2e-38 in magnitude). The moments
/// of a latent that stops receiving gradient (a dead ReLU or TopK unit, whose
/// gradients are exactly 0) decay by β₁ and β₂ each step into subnormal
/// numbers, on which x86 arithmetic runs tens of times slower: ReLU runs
/// trained at a third of KL's speed from their second epoch. An update from
/// such a moment moves a weight by less than 1e-30, so 0 changes nothing.
#[inline(always)]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

/// The elementwise update, compiled also for AVX2 and chosen at run time.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn adam_kernel(param: &mut [f32], grad: &[f32], m: &mut [f32], v: &mut [f32], c: StepConstants) {
    let (b1, b2, eps) = (BETA1 as f32, BETA2 as f32, EPS as f32);
    for (((p, &g), m), v) in param.iter_mut().zip(grad).zip(m.iter_mut()).zip(v.iter_mut()) {
        let g = g + c.weight_decay * *p;
        *m = flush_subnormal(b1 * *m + (1.0 - b1) * g);
        *v = flush_subnormal(b2 * *v + (1.0 - b2) * g * g);
        *p -= c.step_size * *m / (v.sqrt() * c.inv_sqrt_bc2 + eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_lr_against_its_gradient() {
        // After one step m̂ = g and v̂ = g², so the update is lr·g/(|g|+ε) ≈ lr·sign(g).
        let mut adam = Adam::new(0.01, 0.0);
        let mut p = vec![1.0f32, -2.0, 0.5];
        let mut s = AdamState::new(3);
        adam.begin_step();
        adam.update(&mut p, &[0.3, -4.0, 1e-3], &mut s);
        let want = [0.99f32, -1.99, 0.49];
        p.iter().zip(want).for_each(|(a, b)| assert!((a - b).abs() < 1e-5, "{a} {b}"));
    }

    #[test]
    fn minimises_a_quadratic_with_weight_decay() {
        // minimise (p − 3)² + decay: stationary point of 2(p−3) + 0.5p = 0 is p = 2.4.
        let mut adam = Adam::new(0.05, 0.5);
        let mut p = vec![0.0f32];
        let mut s = AdamState::new(1);
        for _ in 0..3000 {
            adam.begin_step();
            let g = [2.0 * (p[0] - 3.0)];
            adam.update(&mut p, &g, &mut s);
        }
        assert!((p[0] - 2.4).abs() < 1e-2, "{}", p[0]);
    }
}
