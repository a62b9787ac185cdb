//! Limited-memory BFGS with a backtracking (Armijo) line search, for the
//! smooth convex objectives of this crate (the linear probe). The cost and
//! the gradient come from one call, since both need the same products.

use std::collections::VecDeque;

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LbfgsOptions {
    /// Converged once every gradient component is below this in magnitude.
    pub gradient_tolerance: f64,
    /// Iterations at most.
    pub max_iterations: usize,
    /// Correction pairs kept.
    pub memory: usize,
}

/// How a minimisation ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    /// The parameters found.
    pub x: Vec<f64>,
    /// The objective there.
    pub value: f64,
    /// Iterations taken.
    pub iterations: usize,
    /// Whether the gradient tolerance was met (rather than the iteration
    /// limit, or a line search that could make no progress).
    pub converged: bool,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The curvature pairs kept: a step `s`, the gradient's change `y` over it,
/// and `1 / s·y`.
type Pairs = VecDeque<(Vec<f64>, Vec<f64>, f64)>;

/// Writes `d = −H g` by the two-loop recursion, where `H` is the inverse
/// Hessian estimated from `pairs`.
fn search_direction(pairs: &Pairs, g: &[f64], d: &mut [f64]) {
    d.iter_mut().zip(g).for_each(|(d, g)| *d = -g);
    let mut alphas = Vec::with_capacity(pairs.len());
    for (s, y, rho) in pairs.iter().rev() {
        let a = rho * dot(s, d);
        d.iter_mut().zip(y).for_each(|(d, y)| *d -= a * y);
        alphas.push(a);
    }
    if let Some((s, y, _)) = pairs.back() {
        let gamma = dot(s, y) / dot(y, y);
        d.iter_mut().for_each(|d| *d *= gamma);
    }
    for ((s, y, rho), a) in pairs.iter().zip(alphas.iter().rev()) {
        let b = rho * dot(y, d);
        d.iter_mut().zip(s).for_each(|(d, s)| *d += (a - b) * s);
    }
}

/// Minimises `f` from `x`; `f(x, grad)` returns the value and writes the
/// gradient.
pub fn minimise(mut x: Vec<f64>, options: LbfgsOptions, mut f: impl FnMut(&[f64], &mut [f64]) -> f64) -> Minimum {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut value = f(&x, &mut g);
    let mut pairs: Pairs = VecDeque::with_capacity(options.memory);
    let (mut x_new, mut g_new, mut d) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for iteration in 0..options.max_iterations {
        if g.iter().all(|v| v.abs() < options.gradient_tolerance) {
            return Minimum { x, value, iterations: iteration, converged: true };
        }
        search_direction(&pairs, &g, &mut d);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            pairs.clear();
            d.iter_mut().zip(&g).for_each(|(d, g)| *d = -g);
            slope = dot(&g, &d);
        }
        // Backtracking: the first step of a steepest descent is scaled to a
        // unit move, later steps start at the quasi-Newton step.
        let mut step = if pairs.is_empty() { 1.0 / dot(&g, &g).sqrt().max(1.0) } else { 1.0 };
        let value_new = loop {
            x_new.iter_mut().zip(&x).zip(&d).for_each(|((xn, x), d)| *xn = x + step * d);
            let v = f(&x_new, &mut g_new);
            if v <= value + 1e-4 * step * slope {
                break Some(v);
            }
            step *= 0.5;
            if step < 1e-12 {
                break None;
            }
        };
        let Some(value_new) = value_new else {
            return Minimum { x, value, iterations: iteration, converged: false };
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if pairs.len() == options.memory {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        std::mem::swap(&mut x, &mut x_new);
        std::mem::swap(&mut g, &mut g_new);
        value = value_new;
    }
    let converged = g.iter().all(|v| v.abs() < options.gradient_tolerance);
    Minimum { x, value, iterations: options.max_iterations, converged }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_an_ill_conditioned_quadratic() {
        // f = Σ c_i (x_i − i)², condition number 10⁴.
        let c = [1.0, 10.0, 100.0, 1e4];
        let options = LbfgsOptions { gradient_tolerance: 1e-9, max_iterations: 200, memory: 5 };
        let m = minimise(vec![0.0; 4], options, |x, g| {
            (0..4).for_each(|i| g[i] = 2.0 * c[i] * (x[i] - i as f64));
            (0..4).map(|i| c[i] * (x[i] - i as f64).powi(2)).sum()
        });
        assert!(m.converged, "{m:?}");
        m.x.iter().enumerate().for_each(|(i, v)| assert!((v - i as f64).abs() < 1e-6, "{m:?}"));
    }

    #[test]
    fn minimises_rosenbrock() {
        let options = LbfgsOptions { gradient_tolerance: 1e-8, max_iterations: 500, memory: 7 };
        let m = minimise(vec![-1.2, 1.0], options, |x, g| {
            let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
            g[0] = -2.0 * a - 400.0 * x[0] * b;
            g[1] = 200.0 * b;
            a * a + 100.0 * b * b
        });
        assert!(m.converged && (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5, "{m:?}");
    }
}
