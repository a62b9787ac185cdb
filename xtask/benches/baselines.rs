//! Criterion bench of the report's PCA baseline on the full MNIST (when
//! `SAE_DATA_DIR` points at it): fitting the principal components of the
//! 50,000 clean training images, and projecting the 50,000 on the top
//! 256 (the PCA probe's features). The probes themselves are benched in
//! sae-core (`fixed_costs`). `cargo bench -p xtask --bench baselines`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};

// The report's own module, compiled into the bench; the scoring functions
// the bench does not call are unused here.
#[allow(dead_code)]
#[path = "../src/report/baselines.rs"]
mod baselines;

fn pca(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("SAE_DATA_DIR").map(PathBuf::from) else {
        eprintln!("pca skipped: set SAE_DATA_DIR to the full MNIST");
        return;
    };
    let raw = sae_data::RawDataset::load(&dir).expect("MNIST under SAE_DATA_DIR");
    let split = sae_data::Splits::new(&raw, sae_data::SplitSizes::default(), 0, None).expect("reference split");
    let train = &split.train;
    let fit = || baselines::Pca::fit(train.n, train.dim(), |i, j| sae_data::normalize_byte(train.image(i)[j]) as f64);
    let mut g = c.benchmark_group("pca_50000_mnist");
    g.sample_size(10);
    g.bench_function("fit", |b| b.iter(|| black_box(fit())));
    let p = fit();
    let x: Vec<f32> = train.pixels.iter().map(|&b| sae_data::normalize_byte(b)).collect();
    g.bench_function("project_50000_on_256", |b| b.iter(|| black_box(p.project(&x, 256))));
    g.finish();
}

criterion_group!(benches, pca);
criterion_main!(benches);
