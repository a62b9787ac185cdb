//! Gradient check: the hand-derived backward pass against central finite
//! differences of an independent float64 implementation of the loss, for
//! every parameter of a small model and every sparsity mechanism (KL with
//! both reductions, L1, TopK away from ties, none).

use sae_core::{KlReduction, ModelConfig, SparseAutoencoder, SparsityConfig, Threads, Workspace, TENSOR_NAMES};

/// The loss of the design card, written plainly in float64:
/// mse(tanh(W₂ c + b₂), t) + the mechanism's penalty, where
/// c = σ(W₁x + b₁), of which TopK keeps the k largest per image.
fn loss_f64(p: &[Vec<f64>; 4], x: &[f64], t: &[f64], d: usize, h: usize, s: &SparsityConfig) -> f64 {
    let [w1, b1, w2, b2] = p;
    let n = x.len() / d;
    let mut rho_hat = vec![0.0; h];
    let mut sse = 0.0;
    for i in 0..n {
        let mut code: Vec<f64> = (0..h)
            .map(|j| {
                let z: f64 = (0..d).map(|k| w1[j * d + k] * x[i * d + k]).sum::<f64>() + b1[j];
                1.0 / (1.0 + (-z).exp())
            })
            .collect();
        if let SparsityConfig::Topk { k } = *s {
            let mut sorted = code.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let kth = sorted[k - 1];
            code.iter_mut().filter(|v| **v < kth).for_each(|v| *v = 0.0);
        }
        code.iter().zip(&mut rho_hat).for_each(|(c, r)| *r += c / n as f64);
        for k in 0..d {
            let z: f64 = (0..h).map(|j| w2[k * h + j] * code[j]).sum::<f64>() + b2[k];
            sse += (z.tanh() - t[i * d + k]).powi(2);
        }
    }
    let penalty = match *s {
        SparsityConfig::Kl { rho, beta, reduction } => {
            let kl: f64 =
                rho_hat.iter().map(|&r| rho * (rho / r).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - r)).ln()).sum();
            beta * if reduction == KlReduction::Mean { kl / h as f64 } else { kl }
        }
        // The mean over images of each image's Σ_j h_j.
        SparsityConfig::L1 { weight } => weight * rho_hat.iter().sum::<f64>(),
        SparsityConfig::Topk { .. } | SparsityConfig::None => 0.0,
    };
    sse / (n * d) as f64 + penalty
}

fn check(sparsity: SparsityConfig) {
    let (d, h, n) = (12, 5, 6);
    let mut config = ModelConfig::new(d, h);
    config.top_k = sparsity.top_k();
    let model = SparseAutoencoder::new(config, 11);
    let x: Vec<f32> = (0..n * d).map(|i| ((i as f32 * 0.731).sin() * 1.7).clamp(-1.0, 1.0)).collect();
    let t: Vec<f32> = (0..n * d).map(|i| (i as f32 * 0.377).cos() * 0.9).collect();
    if let Some(k) = sparsity.top_k() {
        // Away from ties: the k-th and (k+1)-th activations of every image
        // differ by far more than a finite-difference step can move them.
        for row in model.forward(&x, n).code.chunks_exact(h) {
            let mut sigmoid: Vec<f32> = row.to_vec();
            sigmoid.sort_by(|a, b| b.total_cmp(a));
            assert!(sigmoid[k - 1] > 0.0, "TopK keeps k positive activations");
        }
        let plain = SparseAutoencoder { config: ModelConfig::new(d, h), ..model.clone() };
        for row in plain.forward(&x, n).code.chunks_exact(h) {
            let mut sorted = row.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            assert!(sorted[k - 1] - sorted[k] > 1e-3, "a near tie in {sorted:?}: choose another seed");
        }
    }
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
                "{name}[{i}] ({sparsity:?}): analytic {analytic:e}, finite difference {fd:e}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, model.num_parameters());
}

#[test]
fn every_gradient_matches_finite_differences_with_mean_kl() {
    check(SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Mean });
}

#[test]
fn every_gradient_matches_finite_differences_with_summed_kl() {
    check(SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Sum });
}

#[test]
fn every_gradient_matches_finite_differences_with_l1() {
    check(SparsityConfig::L1 { weight: 0.3 });
}

#[test]
fn every_gradient_matches_finite_differences_with_topk() {
    check(SparsityConfig::Topk { k: 2 });
}

#[test]
fn every_gradient_matches_finite_differences_without_a_penalty() {
    check(SparsityConfig::None);
}
