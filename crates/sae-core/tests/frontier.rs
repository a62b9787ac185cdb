//! Progressive evaluation and latent statistics on small trained models:
//! at a TopK model's own k (and at the full width for any model) the
//! frontier reproduces `evaluate`'s scores to the last bit, and truncating
//! a code more never lowers its error much; bad ladders are refused.

use sae_core::{
    code_statistics, evaluate, ladder, progressive_evaluation, train, Activation, EvalSet, ModelConfig, Quality,
    SparseAutoencoder, SparsityConfig, TrainConfig, DEFAULT_LADDER,
};

/// `n` 8×8 images, each a mix of three smooth prototypes, in [-1, 1].
fn images(n: usize) -> Vec<f32> {
    let proto = |p: usize, k: usize| (k as f32 * (0.2 + 0.15 * p as f32)).sin();
    (0..n)
        .flat_map(|i| {
            let w: Vec<f32> = (0..3).map(|p| ((i * 7 + p * 13) % 11) as f32 / 11.0).collect();
            (0..64).map(move |k| ((0..3).map(|p| w[p] * proto(p, k)).sum::<f32>() * 0.6).clamp(-1.0, 1.0))
        })
        .collect()
}

/// A width-32 model trained for two epochs of 40 images with `sparsity`.
fn trained(activation: Activation, sparsity: SparsityConfig) -> SparseAutoencoder {
    let data = images(40);
    let config =
        TrainConfig { epochs: 2, batch_size: 10, lr: 3e-3, weight_decay: 0.0, threads: 1, ..TrainConfig::reference() };
    let model = ModelConfig { activation, ..ModelConfig::new(64, 32) };
    let set = EvalSet { input: &data, clean: &data, rows: 8, cols: 8 };
    let fill = |_: usize, b: usize, x: &mut [f32], t: &mut [f32]| {
        t.copy_from_slice(&data[b * 640..(b + 1) * 640]);
        x.copy_from_slice(t);
    };
    train(SparseAutoencoder::new(model, 1), &config, sparsity, 4, fill, set, |_| {}).unwrap().0
}

#[test]
fn at_its_own_k_a_topk_model_scores_as_evaluate_does() {
    let sparsity = SparsityConfig::Topk { k: 6, aux: None };
    let model = trained(Activation::Relu, sparsity);
    let test = images(700);
    let set = EvalSet { input: &test, clean: &test, rows: 8, cols: 8 };
    let native = evaluate(&model, set, &sparsity, Quality::Skip);
    let (ks, dropped) = ladder(&[6, 2, 40], 32);
    assert_eq!((ks.as_slice(), dropped), ([2, 6, 32].as_slice(), vec![40]));
    let points = progressive_evaluation(&model, set, &ks).unwrap();
    assert_eq!((points[1].k, points[1].mse, points[1].fvu), (6, native.mse, native.fvu.unwrap()));
    assert_eq!(points[1].l0, native.l0.unwrap());
    // The width leaves the code as it is; two units reconstruct worse.
    assert_eq!(points[2].mse, native.mse);
    assert!(points[0].mse > native.mse && points[0].l0 <= 2.0, "{points:?}");
}

#[test]
fn a_kl_code_is_scored_whole_at_the_width_and_truncated_below_it() {
    let sparsity = SparsityConfig::reference();
    let model = trained(Activation::Sigmoid, sparsity);
    let test = images(60);
    let set = EvalSet { input: &test, clean: &test, rows: 8, cols: 8 };
    let native = evaluate(&model, set, &sparsity, Quality::Skip);
    let (ks, _) = ladder(&DEFAULT_LADDER, 32);
    let points = progressive_evaluation(&model, set, &ks).unwrap();
    assert_eq!(ks, [5, 10, 20, 32]);
    let whole = points.last().unwrap();
    assert_eq!((whole.mse, whole.fvu, whole.l0), (native.mse, native.fvu.unwrap(), 32.0));
    assert_eq!(points.iter().map(|p| p.l0).collect::<Vec<_>>(), [5.0, 10.0, 20.0, 32.0]);
    let err = progressive_evaluation(&model, set, &[0]).unwrap_err().to_string();
    assert!(err.contains("0: expected 1 to the width, 32"), "{err}");
    // The evaluation's latent statistics are those of the model's code.
    let stats = code_statistics(&model.encode(&test, 60), 32, Activation::Sigmoid);
    assert_eq!(
        (native.dead_latents, native.dense_latents, native.l0),
        (Some(stats.dead_fraction), Some(stats.dense_fraction), Some(stats.l0))
    );
    assert_eq!(stats.l0, 32.0, "a sigmoid is never exactly 0");
}
