//! Training end to end on a small synthetic set: validation error falls,
//! the curve is complete, and the same seed gives the same numbers; a
//! BatchTopK model learns its threshold.

mod common;

use common::images;

use sae_core::{
    evaluate, train, Activation, AuxK, CoreError, CurvePoint, EvalSet, KlReduction, ModelConfig, Quality,
    SparseAutoencoder, SparsityConfig, TrainConfig,
};

fn run(seed: u64, epochs: usize) -> Result<(SparseAutoencoder, Vec<CurvePoint>), CoreError> {
    let (train_set, val) = (images(200, 0), images(50, 1000));
    let config =
        TrainConfig { epochs, batch_size: 10, lr: 3e-3, weight_decay: 0.0, threads: 1, ..TrainConfig::reference() };
    let sparsity = SparsityConfig::Kl { rho: 0.1, beta: 0.1, reduction: KlReduction::Mean };
    let model = SparseAutoencoder::new(ModelConfig::new(64, 16), seed);
    let set = EvalSet { input: &val, clean: &val, rows: 8, cols: 8 };
    let fill = |_e: usize, b: usize, x: &mut [f32], t: &mut [f32]| {
        t.copy_from_slice(&train_set[b * 640..(b + 1) * 640]);
        x.copy_from_slice(t);
    };
    train(model, &config, sparsity, 20, fill, set, |_| {})
}

#[test]
fn validation_error_falls_and_is_reproducible() {
    let (model, curve) = run(3, 8).unwrap();
    assert_eq!(curve.len(), 8);
    assert_eq!(curve.iter().map(|p| p.epoch).collect::<Vec<_>>(), (1..=8).collect::<Vec<_>>());
    let untrained = SparseAutoencoder::new(model.config, 3);
    let val = images(50, 1000);
    let set = EvalSet { input: &val, clean: &val, rows: 8, cols: 8 };
    let sparsity = SparsityConfig::Kl { rho: 0.1, beta: 0.1, reduction: KlReduction::Mean };
    let before = evaluate(&untrained, set, &sparsity, Quality::Score);
    let after = evaluate(&model, set, &sparsity, Quality::Score);
    assert!(after.mse < 0.5 * before.mse, "validation mse {} → {}", before.mse, after.mse);
    assert!(curve[7].val_mse < curve[0].val_mse);
    assert!(after.psnr_db.unwrap() > before.psnr_db.unwrap());
    assert_eq!(after.mse, curve[7].val_mse);

    let (again, curve_again) = run(3, 8).unwrap();
    assert_eq!(again, model);
    let strip = |c: &[CurvePoint]| c.iter().map(|p| (p.train_loss, p.val_mse, p.val_kl)).collect::<Vec<_>>();
    assert_eq!(strip(&curve_again), strip(&curve));
    // Another seed, trained as long: only the seed differs between the two.
    let (other, _) = run(4, 8).unwrap();
    assert_ne!(other.params.enc_w, model.params.enc_w);
}

#[test]
fn a_nan_input_is_reported_as_divergence() {
    let config =
        TrainConfig { epochs: 2, batch_size: 4, lr: 1e-3, weight_decay: 0.0, threads: 1, ..TrainConfig::reference() };
    let sparsity = SparsityConfig::reference();
    let model = SparseAutoencoder::new(ModelConfig::new(64, 8), 0);
    let val = images(4, 0);
    let set = EvalSet { input: &val, clean: &val, rows: 8, cols: 8 };
    let fill = |e: usize, b: usize, x: &mut [f32], t: &mut [f32]| {
        t.copy_from_slice(&val);
        x.copy_from_slice(&val);
        if e == 1 && b == 2 {
            x[5] = f32::NAN;
        }
    };
    let err = train(model, &config, sparsity, 3, fill, set, |_| {}).unwrap_err();
    assert!(matches!(err, CoreError::Diverged { epoch: 2, batch: 2, .. }), "{err:?}");
}

#[test]
fn batchtopk_learns_a_threshold_and_bad_settings_are_refused() {
    let data = images(40, 0);
    let set = EvalSet { input: &data, clean: &data, rows: 8, cols: 8 };
    let fill = |_e: usize, b: usize, x: &mut [f32], t: &mut [f32]| {
        t.copy_from_slice(&data[b * 640..(b + 1) * 640]);
        x.copy_from_slice(t);
    };
    let config =
        TrainConfig { epochs: 2, batch_size: 10, lr: 3e-3, weight_decay: 0.0, threads: 1, ..TrainConfig::reference() };
    let relu = ModelConfig { activation: Activation::Relu, ..ModelConfig::new(64, 16) };
    let sparsity = SparsityConfig::BatchTopk { k: 3, aux: Some(AuxK::new(4)) };
    let (model, _) = train(SparseAutoencoder::new(relu, 0), &config, sparsity, 4, fill, set, |_| {}).unwrap();
    let threshold = model.threshold.expect("a BatchTopK model keeps its threshold");
    assert!(threshold > 0.0);
    let code = model.encode(&data, 40);
    assert!(code.iter().all(|v| *v == 0.0 || *v > threshold), "the threshold replaces the batch at inference");
    let one = TrainConfig { batch_size: 1, ..config };
    let err = train(SparseAutoencoder::new(relu, 0), &one, sparsity, 4, fill, set, |_| {}).unwrap_err();
    assert!(err.to_string().starts_with("batch size: 1 with kind = \"batchtopk\""), "{err}");
}
