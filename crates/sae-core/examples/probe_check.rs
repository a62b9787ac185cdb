//! The linear probe on a fixed, framework-neutral protocol, so that
//! `scripts/compare_probe.py` can fit scikit-learn's `LogisticRegression`
//! on exactly the same features: fit on the first `N` MNIST training
//! images, score on the 10,000 test images; features are the raw pixels
//! (normalised units) or, given a checkpoint, the model's code.
//!
//! `cargo run --release -p sae-core --example probe_check -- DATA_DIR N [CHECKPOINT]`
//! prints one JSON line.

use std::path::Path;
use std::time::Instant;

use sae_core::{LinearProbe, ProbeConfig, SparseAutoencoder};
use sae_data::{normalize_byte, RawDataset};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: probe_check DATA_DIR N [CHECKPOINT.safetensors]");
        std::process::exit(2);
    }
    let raw = RawDataset::load(Path::new(&args[1])).unwrap_or_else(|e| panic!("{e}"));
    let n: usize = args[2].parse().expect("N is a count");
    let d = raw.train_images.dim();
    let fit: Vec<f32> = raw.train_images.pixels[..n * d].iter().map(|&b| normalize_byte(b)).collect();
    let score: Vec<f32> = raw.test_images.pixels.iter().map(|&b| normalize_byte(b)).collect();
    let (features, fit, score, dim) = match args.get(3) {
        None => ("pixels".to_string(), fit, score, d),
        Some(path) => {
            let tensors = candle_core::safetensors::load(path, &candle_core::Device::Cpu).expect("a checkpoint");
            let model = SparseAutoencoder::from_tensors(&tensors).expect("a sae-lab checkpoint");
            let h = model.config.hidden;
            (format!("code of {path}"), model.encode(&fit, n), model.encode(&score, raw.test_images.n), h)
        }
    };
    let start = Instant::now();
    let probe = LinearProbe::fit(&fit, &raw.train_labels[..n], dim, ProbeConfig::default());
    let seconds = start.elapsed().as_secs_f64();
    let accuracy = probe.accuracy(&score, &raw.test_labels);
    println!(
        "{{\"features\": \"{features}\", \"n_fit\": {n}, \"l2\": {}, \"accuracy\": {accuracy}, \"fit_seconds\": {seconds:.3}, \"iterations\": {}, \"converged\": {}}}",
        ProbeConfig::default().l2,
        probe.iterations,
        probe.converged
    );
}
