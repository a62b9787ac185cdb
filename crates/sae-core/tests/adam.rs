//! Adam against values worked out from PyTorch's update
//! (`torch/optim/adam.py`, single-tensor path):
//! `denom = sqrt(v) / sqrt(1 − β₂ᵗ) + ε`, `p −= lr / (1 − β₁ᵗ) · m / denom`.
//! With gradients of the size of ε, where ε sits decides the step.

use sae_core::{Adam, AdamState};

#[test]
fn epsilon_is_added_after_the_bias_correction_as_pytorch_does() {
    // lr 0.1, p₀ = 1, gradients 1e-8 then 3e-8. By hand:
    // t = 1: m = 1e-9, v = 1e-19, denom = 1e-8 + 1e-8, p₁ = 1 − 0.1/0.1 · 1e-9/2e-8 = 0.95.
    // t = 2: m = 3.9e-9, v = 9.999e-19, denom = 2.2365e-8 + 1e-8, p₂ = 0.886579.
    // Adding ε to sqrt(v) before the correction (lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε))
    // gives 0.996935 and then 0.988592 instead.
    let mut adam = Adam::new(0.1, 0.0);
    let (mut p, mut s) = (vec![1.0f32], AdamState::new(1));
    adam.begin_step();
    adam.update(&mut p, &[1e-8], &mut s);
    assert!((p[0] - 0.95).abs() < 1e-6, "{}", p[0]);
    adam.begin_step();
    adam.update(&mut p, &[3e-8], &mut s);
    assert!((p[0] - 0.886_579).abs() < 1e-5, "{}", p[0]);
}
