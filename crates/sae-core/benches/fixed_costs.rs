//! Criterion benches of what a sweep run costs beyond its training steps,
//! at the default sweep's sizes: a validation pass and the test scoring
//! (with PSNR and SSIM) over 10,000 images at width 256, SSIM alone, and
//! the linear probe on 50,000 MNIST codes and on the raw pixels (when
//! `SAE_DATA_DIR` points at MNIST). `cargo bench -p sae-core --bench fixed_costs`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use sae_core::{
    evaluate, ssim, EvalSet, LinearProbe, ModelConfig, ProbeConfig, Quality, SparseAutoencoder, SparsityConfig,
    TrainConfig, Trainer,
};

const D: usize = 784;

fn images(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n * D).map(|_| if rng.random::<f32>() < 0.8 { -1.0 } else { rng.random_range(-1.0..1.0) }).collect()
}

/// A validation pass (per epoch) and the final test scoring of a width-256
/// model on 10,000 images, and SSIM alone on as many pairs.
fn evaluation(c: &mut Criterion) {
    let (x, y) = (images(10_000, 0), images(10_000, 1));
    let model = SparseAutoencoder::new(ModelConfig::new(D, 256), 0);
    let set = EvalSet { input: &x, clean: &y, rows: 28, cols: 28 };
    let sparsity = SparsityConfig::reference();
    let mut g = c.benchmark_group("evaluate_10000_images_h256");
    g.sample_size(10);
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("validation", |b| b.iter(|| black_box(evaluate(&model, set, &sparsity, Quality::Skip))));
    g.bench_function("test_with_psnr_ssim", |b| b.iter(|| black_box(evaluate(&model, set, &sparsity, Quality::Score))));
    let unit = |v: &[f32]| v.iter().map(|&p| sae_core::to_unit(p)).collect::<Vec<f32>>();
    let (a, b) = (unit(&x), unit(&y));
    g.bench_function("ssim_only", |bench| {
        bench.iter(|| a.chunks_exact(D).zip(b.chunks_exact(D)).map(|(p, q)| ssim(p, q, 28, 28)).sum::<f64>())
    });
    g.finish();
}

/// The probe on the reference's 50,000 training images: on the width-256
/// code of a model trained for 500 steps (lr 1e-3, the reference's KL), as
/// a sweep's runs are scored, and on the raw pixels, as the report's
/// baseline is.
fn probe(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("SAE_DATA_DIR").map(PathBuf::from) else {
        eprintln!("probe skipped: set SAE_DATA_DIR to the full MNIST");
        return;
    };
    let raw = sae_data::RawDataset::load(&dir).expect("MNIST under SAE_DATA_DIR");
    let split = sae_data::Splits::new(&raw, sae_data::SplitSizes::default(), 0, None).expect("reference split");
    let x: Vec<f32> = split.train.pixels.iter().map(|&b| sae_data::normalize_byte(b)).collect();
    let config = TrainConfig { lr: 1e-3, ..TrainConfig::reference() };
    let model = SparseAutoencoder::new(ModelConfig::new(D, 256), 0);
    let mut trainer = Trainer::new(model, &config, SparsityConfig::reference());
    x.chunks_exact(50 * D).take(500).for_each(|batch| {
        trainer.step(batch, batch);
    });
    let code = trainer.model.encode(&x, split.train.n);
    let labels = &split.train_labels;
    let mut g = c.benchmark_group("probe_50000_mnist");
    g.sample_size(10);
    g.bench_function("codes_h256", |b| {
        b.iter(|| black_box(LinearProbe::fit(&code, labels, 256, ProbeConfig::default())))
    });
    g.bench_function("pixels", |b| b.iter(|| black_box(LinearProbe::fit(&x, labels, D, ProbeConfig::default()))));
    g.finish();
}

criterion_group!(benches, evaluation, probe);
criterion_main!(benches);
