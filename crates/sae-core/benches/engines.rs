//! The training step of the candle engine on the CPU beside the fast
//! engine's, one thread each, batch 50, at widths 64 and 256:
//! `cargo bench -p sae-core --bench engines`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use candle_core::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use sae_core::{CandleTrainer, Engine, ModelConfig, SparseAutoencoder, SparsityConfig, TrainConfig, Trainer};

const D: usize = 784;
const BATCH: usize = 50;

fn images(n: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    (0..n * D).map(|_| if rng.random::<f32>() < 0.8 { -1.0 } else { rng.random_range(-1.0..1.0) }).collect()
}

fn engines(c: &mut Criterion) {
    sae_core::limit_candle_cpu_threads(1).expect("candle not yet used");
    let x = images(BATCH);
    let sparsity = SparsityConfig::reference();
    let config = TrainConfig::reference();
    let mut g = c.benchmark_group("engine_step_batch50");
    g.throughput(Throughput::Elements(BATCH as u64));
    for hidden in [64, 256] {
        let model = SparseAutoencoder::new(ModelConfig::new(D, hidden), 0);
        let mut fast = Trainer::new(model.clone(), &config, sparsity);
        g.bench_with_input(BenchmarkId::new("fast", hidden), &hidden, |b, _| b.iter(|| black_box(fast.step(&x, &x))));
        let mut candle = CandleTrainer::new(&model, &config, sparsity, &Device::Cpu).expect("a CPU model");
        g.bench_with_input(BenchmarkId::new("candle", hidden), &hidden, |b, _| {
            b.iter(|| black_box(Engine::step(&mut candle, &x, &x).expect("a candle step")))
        });
    }
    g.finish();
}

criterion_group!(benches, engines);
criterion_main!(benches);
