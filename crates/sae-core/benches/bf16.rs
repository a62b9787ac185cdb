//! The training step's five matrix products at the reference's shapes
//! (batch B = 50, D = 784 pixels, H hidden units), through `gemm` in f32
//! and with bf16 operands through the AMX kernel, the rounding and packing
//! of the operands included; throughput in
//! floating-point operations (2·m·n·k a product).
//! `cargo bench -p sae-core --bench bf16`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use sae_core::{matmul, Bf16Gemm, MatRef, Threads};

const B: usize = 50;
const D: usize = 784;

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// The operands of a step at width `h`: images, code, the output and code
/// gradients, and both weight matrices.
struct Step {
    h: usize,
    x: Vec<f32>,
    code: Vec<f32>,
    dz2: Vec<f32>,
    dz1: Vec<f32>,
    w1: Vec<f32>,
    w2: Vec<f32>,
}

/// A product's name, destination size and operands.
type Product<'a> = (&'static str, usize, MatRef<'a>, MatRef<'a>);

impl Step {
    fn new(h: usize) -> Self {
        let (x, code, dz2, dz1) = (values(B * D, 0), values(B * h, 1), values(B * D, 2), values(B * h, 3));
        Self { h, x, code, dz2, dz1, w1: values(h * D, 4), w2: values(D * h, 5) }
    }

    /// The five products as the fast engine calls them.
    fn products(&self) -> [Product<'_>; 5] {
        let h = self.h;
        [
            ("encoder_x_w1t", B * h, MatRef::new(&self.x, B, D), MatRef::new(&self.w1, h, D).t()),
            ("decoder_code_w2t", B * D, MatRef::new(&self.code, B, h), MatRef::new(&self.w2, D, h).t()),
            ("grad_w2_dz2t_code", D * h, MatRef::new(&self.dz2, B, D).t(), MatRef::new(&self.code, B, h)),
            ("grad_code_dz2_w2", B * h, MatRef::new(&self.dz2, B, D), MatRef::new(&self.w2, D, h)),
            ("grad_w1_dz1t_x", h * D, MatRef::new(&self.dz1, B, h).t(), MatRef::new(&self.x, B, D)),
        ]
    }
}

/// A way to multiply: `gemm` in f32, or bf16 on AMX.
enum Engine {
    F32,
    Bf16(Bf16Gemm),
}

impl Engine {
    fn all() -> Vec<(&'static str, Engine)> {
        let mut engines = vec![("f32_gemm", Engine::F32)];
        match Bf16Gemm::new() {
            Ok(gemm) => engines.push(("bf16_amx", Engine::Bf16(gemm))),
            Err(e) => eprintln!("bf16_amx skipped: {e}"),
        }
        engines
    }

    fn run(&mut self, dst: &mut [f32], a: MatRef<'_>, b: MatRef<'_>) {
        match self {
            Engine::F32 => matmul(dst, a, b, false, Threads(1)),
            Engine::Bf16(gemm) => gemm.matmul(dst, a, b, false),
        }
    }
}

/// Each product at width 256, one thread.
fn products(c: &mut Criterion) {
    let step = Step::new(256);
    let mut g = c.benchmark_group("bf16_products_b50_d784_h256");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    // Each product is B·D·H multiply-adds.
    g.throughput(Throughput::Elements(2 * (B * D * 256) as u64));
    for (engine_name, mut engine) in Engine::all() {
        for (name, size, a, b) in step.products() {
            let mut dst = vec![0.0f32; size];
            g.bench_function(BenchmarkId::new(engine_name, name), |bench| {
                bench.iter(|| engine.run(black_box(&mut dst), a, b))
            });
        }
    }
    g.finish();
}

/// The five products of a step together, at widths 64, 256 and 1024.
fn step_products(c: &mut Criterion) {
    let mut g = c.benchmark_group("bf16_step_products_b50_d784");
    g.warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    for h in [64, 256, 1024] {
        let step = Step::new(h);
        let mut dsts: Vec<Vec<f32>> = step.products().iter().map(|p| vec![0.0f32; p.1]).collect();
        g.throughput(Throughput::Elements(5 * 2 * (B * D * h) as u64));
        for (engine_name, mut engine) in Engine::all() {
            g.bench_function(BenchmarkId::new(engine_name, h), |bench| {
                bench.iter(|| {
                    for ((_, _, a, b), dst) in step.products().into_iter().zip(dsts.iter_mut()) {
                        engine.run(black_box(dst), a, b);
                    }
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, products, step_products);
criterion_main!(benches);
