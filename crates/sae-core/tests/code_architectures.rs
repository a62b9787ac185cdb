//! JumpReLU's and Gated's backward passes in the fast engine against an
//! independent float64 implementation: central finite differences for
//! every tensor where the loss is differentiable (Gated's every tensor;
//! JumpReLU's every tensor but its thresholds, away from them), and
//! JumpReLU's threshold gradient against the paper's pseudo-derivative,
//! formed from the float64 `∂L/∂h`, on a batch built so that entries lie
//! inside the kernel on both sides of their thresholds.

use sae_core::{
    Activation, Architecture, Init, ModelConfig, SparseAutoencoder, SparsityConfig, Threads, Workspace, TENSOR_NAMES,
};

const D: usize = 12;
const H: usize = 8;
const N: usize = 6;
const BANDWIDTH: f64 = 0.1;

/// The tensors in `TENSOR_NAMES` order, in float64.
type P = [Vec<f64>; 8];

fn inputs() -> (Vec<f32>, Vec<f32>) {
    let x = (0..N * D).map(|i| ((i as f32 * 0.731).sin() * 1.7).clamp(-1.0, 1.0)).collect();
    let t = (0..N * D).map(|i| (i as f32 * 0.377).cos() * 0.9).collect();
    (x, t)
}

fn to64(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&a| a as f64).collect()
}

/// `W₁(x − b_pre)` of each image (no bias).
fn products(p: &P, x: &[f64]) -> Vec<Vec<f64>> {
    (0..N).map(|i| (0..H).map(|j| (0..D).map(|k| p[0][j * D + k] * (x[i * D + k] - p[4][k])).sum()).collect()).collect()
}

/// `tanh(W₂c + b₂)` of each image's code, with the decoder of `dec`.
fn decode(dec: &P, code: &[Vec<f64>]) -> Vec<f64> {
    code.iter()
        .flat_map(|c| (0..D).map(move |k| ((0..H).map(|j| dec[2][k * H + j] * c[j]).sum::<f64>() + dec[3][k]).tanh()))
        .collect()
}

fn mse(y: &[f64], t: &[f64]) -> f64 {
    y.iter().zip(t).map(|(y, t)| (y - t).powi(2)).sum::<f64>() / (N * D) as f64
}

/// JumpReLU's pre-activations and code.
fn jump_code(p: &P, x: &[f64]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let z: Vec<Vec<f64>> =
        products(p, x).into_iter().map(|r| r.iter().zip(&p[1]).map(|(a, b)| a + b).collect()).collect();
    let code = z
        .iter()
        .map(|r| r.iter().enumerate().map(|(j, &v)| if v > p[5][j].exp() { v } else { 0.0 }).collect())
        .collect();
    (z, code)
}

/// Gated's code and `ReLU(π)`.
fn gated_code(p: &P, x: &[f64]) -> (Vec<Vec<f64>>, Vec<Vec<f64>>) {
    let prods = products(p, x);
    let gate: Vec<Vec<f64>> = prods.iter().map(|r| r.iter().zip(&p[1]).map(|(a, b)| a + b).collect()).collect();
    let magnitude = |r: &Vec<f64>| -> Vec<f64> { (0..H).map(|j| p[6][j].exp() * r[j] + p[7][j]).collect() };
    let code = prods
        .iter()
        .zip(&gate)
        .map(|(r, g)| magnitude(r).iter().zip(g).map(|(&m, &g)| if g > 0.0 && m > 0.0 { m } else { 0.0 }).collect());
    (code.collect(), gate.iter().map(|r| r.iter().map(|v| v.max(0.0)).collect()).collect())
}

/// The loss in float64; Gated's auxiliary term decodes through `frozen`'s decoder.
fn loss(p: &P, frozen: &P, x: &[f64], t: &[f64], s: &SparsityConfig) -> f64 {
    match *s {
        SparsityConfig::JumpRelu { weight, .. } => {
            let code = jump_code(p, x).1;
            let l0 = code.concat().iter().filter(|v| **v != 0.0).count() as f64 / N as f64;
            mse(&decode(p, &code), t) + weight * l0
        }
        SparsityConfig::Gated { weight } => {
            let (code, gate) = gated_code(p, x);
            let l1 = gate.concat().iter().sum::<f64>() / N as f64;
            mse(&decode(p, &code), t) + weight * l1 + mse(&decode(frozen, &gate), t)
        }
        _ => unreachable!("JumpReLU and Gated only"),
    }
}

fn model(architecture: Architecture) -> SparseAutoencoder {
    let config = ModelConfig {
        activation: Activation::Relu,
        init: Init::Tied,
        pre_bias: true,
        unit_atoms: true,
        architecture,
        ..ModelConfig::new(D, H)
    };
    let mut m = SparseAutoencoder::new(config, 11);
    m.start_pre_bias(&(0..D).map(|k| (k as f32 * 0.9).cos() * 0.3).collect::<Vec<_>>());
    m.params.enc_b.iter_mut().enumerate().for_each(|(j, b)| *b = 0.2 * (j as f32 * 1.3).sin());
    m.params.r_mag.iter_mut().enumerate().for_each(|(j, r)| *r = 0.3 * (j as f32 * 0.7).cos());
    m.params.b_mag.iter_mut().enumerate().for_each(|(j, b)| *b = 0.1 * (j as f32 * 2.1).sin());
    m
}

/// Checks every gradient but `skip`'s against finite differences, and
/// returns the analytic gradients.
fn check(model: &SparseAutoencoder, s: SparsityConfig, skip: &[&str]) -> sae_core::Params<Vec<f32>> {
    let (x, t) = inputs();
    let params: P = model.params.as_ref().map(|p| to64(p)).into_array();
    let (x64, t64) = (to64(&x), to64(&t));
    let mut ws = Workspace::new(model.config, N);
    let parts = ws.loss_and_gradients(model, &x, &t, &s, Threads(1));
    let reference = loss(&params, &params, &x64, &t64, &s);
    assert!((parts.total - reference).abs() < 1e-5 * reference, "loss {} vs float64 {reference}", parts.total);
    let step = 1e-5;
    for (tensor, (grad, name)) in ws.grads.as_ref().into_array().iter().zip(TENSOR_NAMES.into_array()).enumerate() {
        if skip.contains(&name) {
            continue;
        }
        for (i, &analytic) in grad.iter().enumerate() {
            let (mut plus, mut minus) = (params.clone(), params.clone());
            plus[tensor][i] += step;
            minus[tensor][i] -= step;
            let fd = (loss(&plus, &params, &x64, &t64, &s) - loss(&minus, &params, &x64, &t64, &s)) / (2.0 * step);
            let analytic = analytic as f64;
            assert!(
                (analytic - fd).abs() <= 1e-3 * fd.abs() + 2e-6,
                "{name}[{i}] ({s:?}): {analytic:e} against {fd:e}"
            );
        }
    }
    ws.grads.clone()
}

/// Gated is differentiable wherever no gate or magnitude sits at 0: every
/// tensor, the gate's through its L1 penalty and the auxiliary loss only
/// (the step passes nothing), the decoder's through the main loss only.
#[test]
fn gated_gradients_match_finite_differences() {
    let m = model(Architecture::Gated);
    let (x, _) = inputs();
    let p: P = m.params.as_ref().map(|p| to64(p)).into_array();
    let prods = products(&p, &to64(&x));
    for row in &prods {
        for j in 0..H {
            let (gate, magnitude) = (row[j] + p[1][j], p[6][j].exp() * row[j] + p[7][j]);
            assert!(gate.abs() > 1e-3 && magnitude.abs() > 1e-3, "a kink within reach: choose other values");
        }
    }
    let (code, gate) = gated_code(&p, &to64(&x));
    let open = |c: &[Vec<f64>]| c.concat().iter().filter(|v| **v > 0.0).count();
    assert!(open(&code) > 5 && open(&gate) > open(&code), "the batch must exercise both paths");
    check(&m, SparsityConfig::Gated { weight: 0.05 }, &[]);
}

/// JumpReLU: thresholds placed so that some entries fire just above them
/// and some stay silent just below, inside the kernel; every other tensor
/// against finite differences, the thresholds against the formula
/// `θ_j Σ_b K((z−θ)/ε) (−(θ_j/ε) ∂L/∂h_bj − λ/(Bε))`.
#[test]
fn jumprelu_gradients_match_finite_differences_and_the_pseudo_derivative() {
    let mut m = model(Architecture::JumpRelu);
    let (x, t) = inputs();
    let p: P = m.params.as_ref().map(|p| to64(p)).into_array();
    let z = jump_code(&p, &to64(&x)).0;
    for j in 0..H {
        // The latent's largest positive pre-activation, just inside the kernel.
        let top = z.iter().map(|row| row[j]).fold(f64::MIN, f64::max).max(0.2);
        let side = if j % 2 == 0 { -0.2 } else { 0.2 };
        m.params.log_threshold[j] = ((top + side * BANDWIDTH) as f32).ln();
    }
    let p: P = m.params.as_ref().map(|p| to64(p)).into_array();
    let (x64, t64) = (to64(&x), to64(&t));
    let theta: Vec<f64> = p[5].iter().map(|l| l.exp()).collect();
    for row in &z {
        for j in 0..H {
            let gap = (row[j] - theta[j]).abs();
            assert!(gap > 1e-3, "a pre-activation within a finite-difference step of its threshold");
        }
    }
    let weight = 0.02;
    let s = SparsityConfig::JumpRelu { weight, bandwidth: BANDWIDTH, initial_threshold: 1e-3 };
    let grads = check(&m, s, &["log_threshold"]);
    // ∂L/∂h in float64: through the decoder, from the main reconstruction.
    let code = jump_code(&p, &x64).1;
    let y = decode(&p, &code);
    let dy: Vec<f64> = y.iter().zip(&t64).map(|(y, t)| 2.0 * (y - t) / (N * D) as f64 * (1.0 - y * y)).collect();
    let mut in_kernel = 0;
    for j in 0..H {
        let mut want = 0.0;
        for i in 0..N {
            if ((z[i][j] - theta[j]) / BANDWIDTH).abs() < 0.5 {
                in_kernel += 1;
                let dh: f64 = (0..D).map(|k| dy[i * D + k] * p[2][k * H + j]).sum();
                want += -(theta[j] / BANDWIDTH) * dh - weight / (N as f64 * BANDWIDTH);
            }
        }
        want *= theta[j];
        let found = grads.log_threshold[j] as f64;
        assert!((found - want).abs() <= 1e-4 * want.abs() + 1e-7, "log_threshold[{j}]: {found:e} against {want:e}");
    }
    assert!(in_kernel >= H, "{in_kernel} entries inside the kernel: the batch does not exercise it");
}

/// A JumpReLU model's training state continued as a Gated model of the
/// same width is refused, naming the architecture it was trained with.
#[test]
fn a_state_continues_only_as_its_own_architecture() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.safetensors");
    let config = sae_core::TrainConfig { batch_size: N, ..sae_core::TrainConfig::reference() };
    let jump = SparsityConfig::JumpRelu { weight: 1e-3, bandwidth: 0.05, initial_threshold: 0.1 };
    let mut trainer = sae_core::Trainer::new(model(Architecture::JumpRelu), &config, jump);
    let (x, t) = inputs();
    trainer.step(&x, &t);
    trainer.end_epoch();
    std::fs::write(&path, trainer.state().to_safetensors().unwrap()).unwrap();
    let gated = model(Architecture::Gated).config;
    let expected = sae_core::StateSettings::new(gated, &config, SparsityConfig::Gated { weight: 1e-3 });
    let err = sae_core::TrainState::load(&path, &expected, 50).unwrap_err().to_string();
    assert!(err.contains("jumprelu"), "{err}");
    let own = sae_core::StateSettings::new(model(Architecture::JumpRelu).config, &config, jump);
    let state = sae_core::TrainState::load(&path, &own, 50).unwrap();
    assert_eq!(state.model().params.log_threshold, trainer.model.params.log_threshold, "thresholds exactly");
}
