//! Gradient check: the hand-derived backward pass against central finite
//! differences of an independent float64 implementation of the loss, for
//! every parameter of a small model, with both KL reductions.

use sae_core::{KlReduction, ModelConfig, SparseAutoencoder, SparsityConfig, Threads, Workspace, TENSOR_NAMES};

/// The loss of the design card, written plainly in float64:
/// mse(tanh(W₂ σ(W₁x + b₁) + b₂), t) + β · reduce_j KL(ρ‖ρ̂_j).
fn loss_f64(p: &[Vec<f64>; 4], x: &[f64], t: &[f64], d: usize, h: usize, s: &SparsityConfig) -> f64 {
    let [w1, b1, w2, b2] = p;
    let n = x.len() / d;
    let mut rho_hat = vec![0.0; h];
    let mut sse = 0.0;
    for i in 0..n {
        let code: Vec<f64> = (0..h)
            .map(|j| {
                let z: f64 = (0..d).map(|k| w1[j * d + k] * x[i * d + k]).sum::<f64>() + b1[j];
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        code.iter().zip(&mut rho_hat).for_each(|(c, r)| *r += c / n as f64);
        for k in 0..d {
            let z: f64 = (0..h).map(|j| w2[k * h + j] * code[j]).sum::<f64>() + b2[k];
            sse += (z.tanh() - t[i * d + k]).powi(2);
        }
    }
    let kl: f64 =
        rho_hat.iter().map(|&r| s.rho * (s.rho / r).ln() + (1.0 - s.rho) * ((1.0 - s.rho) / (1.0 - r)).ln()).sum();
    let kl = if s.reduction == KlReduction::Mean { kl / h as f64 } else { kl };
    sse / (n * d) as f64 + s.beta * kl
}

fn check(reduction: KlReduction) {
    let (d, h, n) = (12, 5, 6);
    let model = SparseAutoencoder::new(ModelConfig { input: d, hidden: h }, 11);
    let sparsity = SparsityConfig { rho: 0.1, beta: 2.0, reduction };
    let x: Vec<f32> = (0..n * d).map(|i| ((i as f32 * 0.731).sin() * 1.7).clamp(-1.0, 1.0)).collect();
    let t: Vec<f32> = (0..n * d).map(|i| (i as f32 * 0.377).cos() * 0.9).collect();
    let mut ws = Workspace::new(model.config, n);
    let loss = ws.loss_and_gradients(&model, &x, &t, &sparsity, Threads(1));

    let to64 = |v: &[f32]| v.iter().map(|&a| a as f64).collect::<Vec<f64>>();
    let params = model.params.as_ref().map(|p| to64(p)).into_array();
    let (x64, t64) = (to64(&x), to64(&t));
    let reference = loss_f64(&params, &x64, &t64, d, h, &sparsity);
    assert!((loss.total - reference).abs() < 1e-5 * reference, "loss {} vs float64 {reference}", loss.total);

    let grads = ws.grads.as_ref().into_array();
    let names = TENSOR_NAMES.into_array();
    let step = 1e-5;
    let mut checked = 0;
    for (tensor, (grad, name)) in grads.iter().zip(names).enumerate() {
        for i in 0..grad.len() {
            let mut plus = params.clone();
            plus[tensor][i] += step;
            let mut minus = params.clone();
            minus[tensor][i] -= step;
            let fd = (loss_f64(&plus, &x64, &t64, d, h, &sparsity) - loss_f64(&minus, &x64, &t64, d, h, &sparsity))
                / (2.0 * step);
            let analytic = grad[i] as f64;
            assert!(
                (analytic - fd).abs() <= 1e-3 * fd.abs() + 2e-6,
                "{name}[{i}] ({reduction:?}): analytic {analytic:e}, finite difference {fd:e}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, model.num_parameters());
}

#[test]
fn every_gradient_matches_finite_differences_with_mean_kl() {
    check(KlReduction::Mean);
}

#[test]
fn every_gradient_matches_finite_differences_with_summed_kl() {
    check(KlReduction::Sum);
}
