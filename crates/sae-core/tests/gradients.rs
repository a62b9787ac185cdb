//! Gradient check: the hand-derived backward pass against central finite
//! differences of an independent float64 implementation of the loss, for
//! every parameter of a small model and every sparsity mechanism (KL with
//! both reductions, L1, TopK and BatchTopK away from ties, AuxK, none),
//! with sigmoid and ReLU codes, with and without a pre-encoder bias; the
//! same with bf16 products to bf16's tolerance; and AuxK's residual shown
//! detached.

use sae_core::{
    Activation, AuxK, KlReduction, ModelConfig, Precision, SparseAutoencoder, SparsityConfig, Threads, Workspace,
    TENSOR_NAMES,
};

const D: usize = 12;
const H: usize = 8;
const N: usize = 6;

type P = [Vec<f64>; 8];

/// The pre-activations `W₁(x − b_pre) + b₁` of each image (`b_pre` the
/// fifth tensor, empty for a model without one).
fn pre_f64(p: &P, x: &[f64]) -> Vec<Vec<f64>> {
    let (w1, b1, pre) = (&p[0], &p[1], &p[4]);
    let centred = |i: usize, k: usize| x[i * D + k] - pre.get(k).copied().unwrap_or(0.0);
    (0..N)
        .map(|i| (0..H).map(|j| (0..D).map(|k| w1[j * D + k] * centred(i, k)).sum::<f64>() + b1[j]).collect())
        .collect()
}

/// The activations before any selection.
fn dense_f64(p: &P, x: &[f64], act: Activation) -> Vec<Vec<f64>> {
    let f = |z: f64| if act == Activation::Sigmoid { 1.0 / (1.0 + (-z).exp()) } else { z.max(0.0) };
    pre_f64(p, x).into_iter().map(|row| row.into_iter().map(f).collect()).collect()
}

/// Zeroes all but the `k` largest of `values` (ties at zero are harmless).
fn keep_largest(values: &mut [f64], k: usize) {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let kth = sorted[k - 1];
    values.iter_mut().filter(|v| **v < kth).for_each(|v| *v = 0.0);
}

/// The code after TopK's selection per image or BatchTopK's over the batch.
fn select(dense: &[Vec<f64>], s: &SparsityConfig) -> Vec<Vec<f64>> {
    let mut code = dense.to_vec();
    match *s {
        SparsityConfig::Topk { k, .. } => code.iter_mut().for_each(|row| keep_largest(row, k)),
        SparsityConfig::BatchTopk { k, .. } => {
            let mut flat = code.concat();
            keep_largest(&mut flat, k * N);
            code = flat.chunks(H).map(<[f64]>::to_vec).collect();
        }
        _ => {}
    }
    code
}

/// `tanh(W₂c + b₂)` for each image's code.
fn decode(p: &P, code: &[Vec<f64>]) -> Vec<f64> {
    let (w2, b2) = (&p[2], &p[3]);
    code.iter()
        .flat_map(|c| (0..D).map(move |k| ((0..H).map(|j| w2[k * H + j] * c[j]).sum::<f64>() + b2[k]).tanh()))
        .collect()
}

/// The dead latents of a fresh record whose `dead_after` is at most the
/// batch: those the batch's code never fired.
fn dead(code: &[Vec<f64>]) -> Vec<bool> {
    (0..H).map(|j| code.iter().all(|row| row[j] == 0.0)).collect()
}

/// Each image's auxiliary code: its `aux_k` largest activations among the dead latents.
fn aux_code(dense: &[Vec<f64>], code: &[Vec<f64>], aux_k: usize) -> Vec<Vec<f64>> {
    let dead = dead(code);
    let count = dead.iter().filter(|d| **d).count();
    let mut a: Vec<Vec<f64>> =
        dense.iter().map(|r| r.iter().zip(&dead).map(|(v, d)| if *d { *v } else { 0.0 }).collect()).collect();
    a.iter_mut().for_each(|row| keep_largest(row, aux_k.min(count)));
    a
}

/// `w · Σ (W₂a − e)² / Σ (e − ē)²` against a fixed residual `e`.
fn aux_f64(p: &P, aux: &[Vec<f64>], residual: &[f64], weight: f64) -> f64 {
    let mean: Vec<f64> = (0..D).map(|k| (0..N).map(|i| residual[i * D + k]).sum::<f64>() / N as f64).collect();
    let denom: f64 = residual.iter().enumerate().map(|(i, e)| (e - mean[i % D]).powi(2)).sum();
    let mut sse = 0.0;
    for (i, a) in aux.iter().enumerate() {
        for k in 0..D {
            let e_hat: f64 = (0..H).map(|j| p[2][k * H + j] * a[j]).sum();
            sse += (e_hat - residual[i * D + k]).powi(2);
        }
    }
    weight * sse / denom
}

/// The training loss, written plainly in float64:
/// `mse(tanh(W₂c + b₂), t)` plus the mechanism's penalty plus AuxK's term
/// against `residual` (held fixed: detached).
fn loss_f64(p: &P, x: &[f64], t: &[f64], act: Activation, s: &SparsityConfig, residual: &[f64]) -> f64 {
    let dense = dense_f64(p, x, act);
    let code = select(&dense, s);
    let rho_hat: Vec<f64> = (0..H).map(|j| code.iter().map(|c| c[j]).sum::<f64>() / N as f64).collect();
    let sse: f64 = decode(p, &code).iter().zip(t).map(|(y, t)| (y - t).powi(2)).sum();
    let penalty = match *s {
        SparsityConfig::Kl { rho, beta, reduction } => {
            let kl: f64 =
                rho_hat.iter().map(|&r| rho * (rho / r).ln() + (1.0 - rho) * ((1.0 - rho) / (1.0 - r)).ln()).sum();
            beta * if reduction == KlReduction::Mean { kl / H as f64 } else { kl }
        }
        // The mean over images of each image's Σ_j h_j.
        SparsityConfig::L1 { weight } => weight * rho_hat.iter().sum::<f64>(),
        _ => s.aux().map_or(0.0, |a| aux_f64(p, &aux_code(&dense, &code, a.aux_k), residual, a.aux_weight)),
    };
    sse / (N * D) as f64 + penalty
}

/// `t − y` of the unperturbed model.
fn residual_f64(p: &P, x: &[f64], t: &[f64], act: Activation, s: &SparsityConfig) -> Vec<f64> {
    decode(p, &select(&dense_f64(p, x, act), s)).iter().zip(t).map(|(y, t)| t - y).collect()
}

/// Asserts that no finite-difference step crosses a kink: a ReLU's zero,
/// or a selection's boundary (between the kept and the first dropped
/// positive value).
fn assert_away_from_kinks(p: &P, x: &[f64], act: Activation, s: &SparsityConfig) {
    if act == Activation::Relu {
        assert!(pre_f64(p, x).concat().iter().all(|z| z.abs() > 1e-3), "a pre-activation near 0: choose another seed");
    }
    let gap = |values: &[f64], k: usize| {
        let mut sorted = values.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        assert!(sorted[k - 1] <= 0.0 || sorted[k - 1] - sorted[k] > 1e-3, "a near tie in {sorted:?}");
    };
    let dense = dense_f64(p, x, act);
    match *s {
        SparsityConfig::Topk { k, .. } => dense.iter().for_each(|row| gap(row, k)),
        SparsityConfig::BatchTopk { k, .. } => gap(&dense.concat(), k * N),
        _ => {}
    }
    if let Some(aux) = s.aux() {
        let dead = dead(&select(&dense, s));
        let count = dead.iter().filter(|d| **d).count();
        assert!(count > aux.aux_k, "{count} dead latents: too few to select {} of", aux.aux_k);
        for row in &dense {
            let of_dead: Vec<f64> = row.iter().zip(&dead).filter(|(_, d)| **d).map(|(v, _)| *v).collect();
            gap(&of_dead, aux.aux_k);
        }
    }
}

fn inputs() -> (Vec<f32>, Vec<f32>) {
    let x = (0..N * D).map(|i| ((i as f32 * 0.731).sin() * 1.7).clamp(-1.0, 1.0)).collect();
    let t = (0..N * D).map(|i| (i as f32 * 0.377).cos() * 0.9).collect();
    (x, t)
}

fn model(activation: Activation) -> SparseAutoencoder {
    SparseAutoencoder::new(ModelConfig { activation, ..ModelConfig::new(D, H) }, 11)
}

/// [`model`] with a pre-encoder bias away from zero, as if started from a
/// mean image.
fn centred_model(activation: Activation) -> SparseAutoencoder {
    let mut model = SparseAutoencoder::new(ModelConfig { activation, pre_bias: true, ..ModelConfig::new(D, H) }, 11);
    model.start_pre_bias(&(0..D).map(|k| (k as f32 * 0.9).cos() * 0.6).collect::<Vec<_>>());
    model
}

fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}

/// How close the analytic gradients must come to the finite differences:
/// `|g − fd| ≤ rel·|fd| + floor + of_max·max|fd|`, the maximum over the
/// tensor; and the loss to the float64 one, within `loss` relatively.
struct Tolerance {
    loss: f64,
    rel: f64,
    floor: f64,
    of_max: f64,
}

/// f32 products: the float64 gradients to f32 rounding.
const F32: Tolerance = Tolerance { loss: 1e-5, rel: 1e-3, floor: 2e-6, of_max: 0.0 };

/// bf16 products: each operand is rounded with a relative error of at most
/// 2⁻⁹ (8 significant bits), so a product's entry is off by up to about
/// 2⁻⁸ of `Σ |a||b|`, which is the entry's size when its terms agree and
/// a few times it when they cancel: 4% of the entry plus 1% of the
/// tensor's largest (the errors measured here stay under half of that).
const BF16: Tolerance = Tolerance { loss: 1e-2, rel: 4e-2, floor: 2e-6, of_max: 1e-2 };

fn check(activation: Activation, sparsity: SparsityConfig) {
    check_in(model(activation), sparsity, Precision::F32, &F32);
}

fn check_in(model: SparseAutoencoder, sparsity: SparsityConfig, precision: Precision, tol: &Tolerance) {
    let activation = model.config.activation;
    let (x, t) = inputs();
    let params: P = model.params.as_ref().map(|p| to64(p)).into_array();
    let (x64, t64) = (to64(&x), to64(&t));
    assert_away_from_kinks(&params, &x64, activation, &sparsity);
    let mut ws = match Workspace::with_precision(model.config, N, precision) {
        Ok(ws) => ws,
        Err(e) => return eprintln!("skipped ({activation:?}, {sparsity:?}): {e}"),
    };
    let loss = ws.loss_and_gradients(&model, &x, &t, &sparsity, Threads(1));
    let residual = residual_f64(&params, &x64, &t64, activation, &sparsity);
    let f = |p: &P| loss_f64(p, &x64, &t64, activation, &sparsity, &residual);
    let reference = f(&params);
    assert!((loss.total - reference).abs() < tol.loss * reference, "loss {} vs float64 {reference}", loss.total);
    let step = 1e-5;
    let mut checked = 0;
    for (tensor, (grad, name)) in ws.grads.as_ref().into_array().iter().zip(TENSOR_NAMES.into_array()).enumerate() {
        let fd: Vec<f64> = (0..grad.len())
            .map(|i| {
                let (mut plus, mut minus) = (params.clone(), params.clone());
                plus[tensor][i] += step;
                minus[tensor][i] -= step;
                (f(&plus) - f(&minus)) / (2.0 * step)
            })
            .collect();
        let largest = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (&analytic, &fd)) in grad.iter().zip(&fd).enumerate() {
            let analytic = analytic as f64;
            assert!(
                (analytic - fd).abs() <= tol.rel * fd.abs() + tol.floor + tol.of_max * largest,
                "{name}[{i}] ({activation:?}, {sparsity:?}, {precision:?}): analytic {analytic:e}, finite difference \
                 {fd:e}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, model.num_parameters());
}

fn aux(aux_k: usize) -> Option<AuxK> {
    Some(AuxK { aux_k, aux_weight: 0.5, dead_after: N as u64 })
}

#[test]
fn every_gradient_matches_finite_differences_with_kl() {
    check(Activation::Sigmoid, SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Mean });
    check(Activation::Sigmoid, SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Sum });
}

/// With bf16 products, the smooth mechanisms (a TopK selection could flip
/// on bf16's rounding of the pre-activations) to bf16's tolerance; skipped
/// with a message on a CPU without AMX-BF16.
#[test]
fn bf16_gradients_match_finite_differences_to_bf16_rounding() {
    let kl = SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Mean };
    check_in(model(Activation::Sigmoid), kl, Precision::Bf16, &BF16);
    for activation in [Activation::Sigmoid, Activation::Relu] {
        check_in(model(activation), SparsityConfig::L1 { weight: 0.3 }, Precision::Bf16, &BF16);
        check_in(model(activation), SparsityConfig::None, Precision::Bf16, &BF16);
    }
    check_in(centred_model(Activation::Relu), SparsityConfig::L1 { weight: 0.3 }, Precision::Bf16, &BF16);
}

/// The pre-encoder bias's gradient, and every other one through it, for
/// each mechanism: KL on a sigmoid code, L1, TopK (sparse kernels and
/// `gemm`), BatchTopK and AuxK on ReLU codes.
#[test]
fn every_gradient_matches_finite_differences_with_a_pre_encoder_bias() {
    let kl = SparsityConfig::Kl { rho: 0.1, beta: 2.0, reduction: KlReduction::Mean };
    check_in(centred_model(Activation::Sigmoid), kl, Precision::F32, &F32);
    for sparsity in [
        SparsityConfig::L1 { weight: 0.3 },
        SparsityConfig::Topk { k: 1, aux: None },
        SparsityConfig::Topk { k: 2, aux: None },
        SparsityConfig::BatchTopk { k: 2, aux: None },
        SparsityConfig::Topk { k: 1, aux: aux(1) },
    ] {
        check_in(centred_model(Activation::Relu), sparsity, Precision::F32, &F32);
    }
}

#[test]
fn every_gradient_matches_finite_differences_with_l1_and_none() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        check(activation, SparsityConfig::L1 { weight: 0.3 });
        check(activation, SparsityConfig::None);
    }
}

#[test]
fn every_gradient_matches_finite_differences_with_topk_and_batchtopk() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        // k = 1 of 8 goes through the sparse kernels, k = 2 through `gemm`.
        for k in [1, 2] {
            check(activation, SparsityConfig::Topk { k, aux: None });
            check(activation, SparsityConfig::BatchTopk { k, aux: None });
        }
    }
}

#[test]
fn every_gradient_matches_finite_differences_with_auxk() {
    for activation in [Activation::Sigmoid, Activation::Relu] {
        check(activation, SparsityConfig::Topk { k: 1, aux: aux(1) });
        check(activation, SparsityConfig::BatchTopk { k: 1, aux: aux(1) });
    }
}

/// The residual reaches the decoder bias only through `y`: detached, AuxK
/// adds nothing to the bias's gradient, and a finite difference that let
/// the residual move with the parameters would disagree with the
/// gradient by far more than the check's tolerance.
#[test]
fn auxk_residual_is_detached() {
    let with = SparsityConfig::Topk { k: 1, aux: aux(1) };
    let without = SparsityConfig::Topk { k: 1, aux: None };
    let model = model(Activation::Relu);
    let (x, t) = inputs();
    let mut ws = Workspace::new(model.config, N);
    ws.loss_and_gradients(&model, &x, &t, &with, Threads(1));
    let mut plain = Workspace::new(model.config, N);
    plain.loss_and_gradients(&model, &x, &t, &without, Threads(1));
    assert_eq!(ws.grads.dec_b, plain.grads.dec_b);
    assert_ne!(ws.grads.dec_w, plain.grads.dec_w, "AuxK changes the decoder's weights");
    let params: P = model.params.as_ref().map(|p| to64(p)).into_array();
    let (x64, t64) = (to64(&x), to64(&t));
    let attached =
        |p: &P| loss_f64(p, &x64, &t64, Activation::Relu, &with, &residual_f64(p, &x64, &t64, Activation::Relu, &with));
    let worst = (0..D)
        .map(|i| {
            let (mut plus, mut minus) = (params.clone(), params.clone());
            plus[3][i] += 1e-5;
            minus[3][i] -= 1e-5;
            let fd = (attached(&plus) - attached(&minus)) / 2e-5;
            (fd - ws.grads.dec_b[i] as f64).abs() / (1e-3 * fd.abs() + 2e-6)
        })
        .fold(0.0, f64::max);
    assert!(worst > 10.0, "an attached residual changes the bias's gradient by only {worst}× the tolerance");
}
