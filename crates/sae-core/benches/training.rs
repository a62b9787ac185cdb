//! Criterion benches of the hot paths: a training step at several widths
//! and batch sizes, a step of each sparsity mechanism at widths 256 and
//! 1024 and TopK's selection alone, an evaluation pass, the progressive
//! evaluation of a frontier, the KL term (the probe is in `fixed_costs`),
//! reading and normalising the full MNIST (when `SAE_DATA_DIR` points at
//! it) and one whole epoch. `cargo bench -p sae-core`; CI runs each once with
//! `cargo test --benches`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use sae_core::{
    evaluate, kl_sparsity, train, Activation, AuxK, EvalSet, Init, KlReduction, ModelConfig, Quality,
    SparseAutoencoder, SparsityConfig, TrainConfig, Trainer,
};

const D: usize = 784;

fn images(n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..n * D).map(|_| if rng.random::<f32>() < 0.8 { -1.0 } else { rng.random_range(-1.0..1.0) }).collect()
}

fn sparsity() -> SparsityConfig {
    SparsityConfig::reference()
}

fn train_step(c: &mut Criterion) {
    let mut g = c.benchmark_group("train_step");
    for batch in [50, 256] {
        let x = images(batch);
        g.throughput(Throughput::Elements(batch as u64));
        for hidden in [16, 64, 256, 1024] {
            let cfg = TrainConfig { batch_size: batch, ..TrainConfig::reference() };
            let model = SparseAutoencoder::new(ModelConfig::new(D, hidden), 0);
            let mut trainer = Trainer::new(model, &cfg, sparsity());
            g.bench_with_input(BenchmarkId::new(format!("batch{batch}"), hidden), &hidden, |b, _| {
                b.iter(|| black_box(trainer.step(&x, &x)))
            });
        }
    }
    g.finish();
}

/// A batch-50 step of each mechanism at widths 256 and 1024, side by side
/// in one run, and TopK's selection on its own (the cost it adds to a
/// step). The TopK and BatchTopK steps come with the sigmoid code (the
/// default) and with the ReLU code and tied start they are trained with
/// (`_relu`), and with AuxK (`_auxk`: `aux_k` = 64, and a latent counts as
/// dead as soon as a batch does not fire it, so AuxK always has work).
fn mechanisms(c: &mut Criterion) {
    let batch = 50;
    let x = images(batch);
    let cfg = TrainConfig::reference();
    let mut g = c.benchmark_group("mechanism_step_batch50");
    g.throughput(Throughput::Elements(batch as u64));
    let auxk = Some(AuxK { dead_after: 1, ..AuxK::new(64) });
    let (sigmoid, relu) = (Activation::Sigmoid, Activation::Relu);
    let kinds = [
        ("kl", SparsityConfig::reference(), sigmoid),
        ("l1", SparsityConfig::L1 { weight: 1e-3 }, sigmoid),
        ("topk25", SparsityConfig::Topk { k: 25, aux: None }, sigmoid),
        ("topk32", SparsityConfig::Topk { k: 32, aux: None }, sigmoid),
        ("topk64", SparsityConfig::Topk { k: 64, aux: None }, sigmoid),
        ("batchtopk25", SparsityConfig::BatchTopk { k: 25, aux: None }, sigmoid),
        ("l1_relu", SparsityConfig::L1 { weight: 1e-3 }, relu),
        ("topk25_relu", SparsityConfig::Topk { k: 25, aux: None }, relu),
        ("topk32_relu", SparsityConfig::Topk { k: 32, aux: None }, relu),
        ("topk64_relu", SparsityConfig::Topk { k: 64, aux: None }, relu),
        ("batchtopk25_relu", SparsityConfig::BatchTopk { k: 25, aux: None }, relu),
        ("topk32_relu_auxk", SparsityConfig::Topk { k: 32, aux: auxk }, relu),
        ("none", SparsityConfig::None, sigmoid),
    ];
    for hidden in [256, 1024] {
        for (name, sparsity, activation) in kinds {
            let init = if activation == relu { Init::Tied } else { Init::Pytorch };
            let config = ModelConfig { activation, init, ..ModelConfig::new(D, hidden) };
            let mut trainer = Trainer::new(SparseAutoencoder::new(config, 0), &cfg, sparsity);
            g.bench_with_input(BenchmarkId::new(name, hidden), &hidden, |b, _| {
                b.iter(|| black_box(trainer.step(&x, &x)))
            });
        }
        let code = SparseAutoencoder::new(ModelConfig::new(D, hidden), 0).encode(&x, batch);
        let mut scratch = Vec::new();
        g.bench_with_input(BenchmarkId::new("topk25_selection_only", hidden), &hidden, |b, _| {
            b.iter_batched_ref(
                || code.clone(),
                |c| sae_core::keep_top_k(black_box(c), hidden, 25, &mut scratch),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

/// L1, TopK, JumpReLU and Gated steps on ReLU codes with the field's
/// recipe (a pre-encoder bias and unit-norm atoms), at widths 256 and
/// 1024: against `mechanism_step_batch50`'s `l1_relu` and `topk25_relu`,
/// what the recipe costs, and against `l1_relu` here, what JumpReLU's and
/// Gated's codes cost.
fn recipe(c: &mut Criterion) {
    let batch = 50;
    let x = images(batch);
    let cfg = TrainConfig::reference();
    let mut g = c.benchmark_group("recipe_step_batch50");
    g.throughput(Throughput::Elements(batch as u64));
    for hidden in [256, 1024] {
        for (name, sparsity) in [
            ("l1_relu", SparsityConfig::L1 { weight: 1e-3 }),
            ("topk25_relu", SparsityConfig::Topk { k: 25, aux: None }),
            ("jumprelu", SparsityConfig::JumpRelu { weight: 1e-3, bandwidth: 0.05, initial_threshold: 0.1 }),
            ("gated", SparsityConfig::Gated { weight: 1e-3 }),
        ] {
            let config = ModelConfig {
                activation: Activation::Relu,
                init: Init::Tied,
                pre_bias: true,
                unit_atoms: true,
                architecture: sparsity.architecture(),
                ..ModelConfig::new(D, hidden)
            };
            let mut trainer = Trainer::new(SparseAutoencoder::new(config, 0), &cfg, sparsity);
            g.bench_with_input(BenchmarkId::new(name, hidden), &hidden, |b, _| {
                b.iter(|| black_box(trainer.step(&x, &x)))
            });
        }
    }
    g.finish();
}

fn evaluation(c: &mut Criterion) {
    let x = images(2000);
    let model = SparseAutoencoder::new(ModelConfig::new(D, 256), 0);
    let set = EvalSet { input: &x, clean: &x, rows: 28, cols: 28 };
    let mut g = c.benchmark_group("evaluate_2000_images_h256");
    g.throughput(Throughput::Elements(2000));
    g.bench_function("curve_metrics", |b| b.iter(|| black_box(evaluate(&model, set, &sparsity(), Quality::Skip))));
    g.sample_size(10);
    g.bench_function("all_metrics", |b| b.iter(|| black_box(evaluate(&model, set, &sparsity(), Quality::Score))));
    g.finish();
}

/// The progressive evaluation of a width-256 model on the 10,000 test
/// images, over the default ladder (5 to 160, then the width): to set
/// beside 50 times the `epoch` bench (a 10-epoch run of 50,000 images).
fn frontier(c: &mut Criterion) {
    let x = images(10_000);
    let model = SparseAutoencoder::new(ModelConfig::new(D, 256), 0);
    let set = EvalSet { input: &x, clean: &x, rows: 28, cols: 28 };
    let (ks, _) = sae_core::ladder(&sae_core::DEFAULT_LADDER, 256);
    let mut g = c.benchmark_group("frontier");
    g.sample_size(10);
    g.bench_function("10000_images_h256_default_ladder", |b| {
        b.iter(|| black_box(sae_core::progressive_evaluation(&model, set, &ks).expect("a valid ladder")))
    });
    g.finish();
}

fn kl_term(c: &mut Criterion) {
    let rho_hat: Vec<f32> = (0..1024).map(|j| 0.01 + 0.9 * j as f32 / 1024.0).collect();
    c.bench_function("kl_sparsity_1024_units", |b| {
        b.iter(|| black_box(kl_sparsity(0.05, black_box(&rho_hat), KlReduction::Mean)))
    });
}

fn load_mnist(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("SAE_DATA_DIR").map(PathBuf::from) else {
        sae_data::skip_test("load_mnist", "set SAE_DATA_DIR to the full MNIST");
        return;
    };
    let mut g = c.benchmark_group("mnist");
    g.sample_size(10);
    g.bench_function("read_and_split_normalised", |b| {
        b.iter(|| {
            let raw = sae_data::RawDataset::load(&dir).expect("MNIST under SAE_DATA_DIR");
            black_box(sae_data::Splits::new(&raw, sae_data::SplitSizes::default(), 0, None).expect("reference split"))
        })
    });
    g.finish();
}

fn epoch(c: &mut Criterion) {
    let (n, hidden) = (10_000, 256);
    let x = images(n);
    let val = images(500);
    let cfg = TrainConfig { epochs: 1, ..TrainConfig::reference() };
    let mut g = c.benchmark_group("epoch");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("10000_images_h256_batch50_with_validation", |b| {
        b.iter(|| {
            let model = SparseAutoencoder::new(ModelConfig::new(D, hidden), 0);
            let fill = |_: usize, i: usize, inp: &mut [f32], t: &mut [f32]| {
                t.copy_from_slice(&x[i * 50 * D..(i + 1) * 50 * D]);
                inp.copy_from_slice(t);
            };
            let set = EvalSet { input: &val, clean: &val, rows: 28, cols: 28 };
            black_box(train(model, &cfg, sparsity(), n / 50, fill, set, |_| {}).expect("finite loss"))
        })
    });
    g.finish();
}

criterion_group!(benches, train_step, mechanisms, recipe, evaluation, frontier, kl_term, load_mnist, epoch);
criterion_main!(benches);
