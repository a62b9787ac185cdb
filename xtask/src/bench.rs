//! `cargo xtask bench`: training throughput in samples per second, measured
//! the way the PyTorch reference's `scripts/torch_reference.py bench`
//! measures it (data in memory, batch 50, warm-up steps, then timed steps),
//! so the two can be compared side by side.

use std::time::Instant;

use anyhow::Result;
use clap::ValueEnum;

use sae_core::{
    check_engine_precision, DeviceSpec, EngineKind, ModelConfig, Precision, SparseAutoencoder, SparsityConfig,
    TrainConfig, Trainer,
};
use sae_data::{Corruption, IdxImages, RawDataset, SplitSizes, Splits, TrainBatches};
use sae_sweep::MAX_WIDTH;

use crate::DataDirArg;

/// The most timed or warm-up steps: a step of the reference (H = 256,
/// batch 50) takes about 0.2 ms on one core, so a million is minutes, the
/// default 2,000 already gives a stable rate, and `1e8` (hours, with no
/// sign of life) is a typo rather than a measurement.
const MAX_STEPS: usize = 1_000_000;

/// The most repetitions: a spread over 100 repeats is already exact to a
/// few per cent; more only multiplies the time.
const MAX_REPEATS: usize = 100;

/// What to measure.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Hidden widths.
    #[arg(long, num_args = 1.., default_values_t = [16, 64, 256], value_parser = crate::count_to(MAX_WIDTH))]
    pub hidden: Vec<usize>,
    /// Matrix-product threads per model (at most the cores).
    #[arg(long, num_args = 1.., default_values_t = [1], value_parser = crate::count_to(crate::cores()))]
    pub threads: Vec<usize>,
    /// Timed steps (at most a million).
    #[arg(long, default_value_t = 2000, value_parser = crate::count_to(MAX_STEPS))]
    pub steps: usize,
    /// Untimed steps first (at most a million).
    #[arg(long, default_value_t = 200, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=MAX_STEPS as u64))]
    pub warmup: usize,
    /// Images per step (at most the 50,000 training images).
    #[arg(long, default_value_t = TrainConfig::reference().batch_size, value_parser = crate::count_to(SplitSizes::default().train))]
    pub batch: usize,
    /// What the model learns to reconstruct.
    #[arg(long, value_enum, default_value_t = Task::Clean)]
    pub task: Task,
    /// Number formats of the products (bf16 needs AMX-BF16), measured one
    /// after the other for each width and thread count.
    #[arg(long, num_args = 1.., value_enum, default_values_t = [BenchPrecision::F32])]
    pub precision: Vec<BenchPrecision>,
    /// Repetitions of every measurement (at most 100).
    #[arg(long, default_value_t = 1, value_parser = crate::count_to(MAX_REPEATS))]
    pub repeats: usize,
    /// One JSON object per line, as scripts/torch_reference.py bench --json prints.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `[training] precision` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPrecision {
    /// f32 products (the default).
    F32,
    /// bf16 operands, f32 sums.
    Bf16,
}

impl BenchPrecision {
    /// The setting it names.
    fn precision(self) -> Precision {
        match self {
            Self::F32 => Precision::F32,
            Self::Bf16 => Precision::Bf16,
        }
    }
}

/// The reference notebook's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Task {
    /// Clean images in, clean images out.
    Clean,
    /// Gaussian noise of std 1 added to the input.
    Denoise,
    /// The left half of the input set to mid grey.
    Half,
}

impl Task {
    /// The corruption of the task's inputs.
    fn corruption(self) -> Corruption {
        match self {
            Self::Clean => Corruption::None,
            Self::Denoise => Corruption::Gaussian { std: 1.0 },
            Self::Half => Corruption::Half { side: sae_data::HalfSide::Left, fill: 0.0 },
        }
    }

    /// Its name on the command line (`clean`, `denoise`, `half`).
    fn name(self) -> String {
        self.to_possible_value().expect("no task is skipped").get_name().to_string()
    }
}

/// MNIST's training images; synthetic ones when no folder was named and
/// none is found. A folder named by `--data-dir` or `SAE_DATA_DIR` that
/// does not hold MNIST is an error, never a silent switch to synthetic data.
fn training_images(args: &BenchArgs) -> Result<IdxImages> {
    let named = args.data.get().is_some() || std::env::var_os(sae_data::DATA_DIR_ENV).is_some();
    let found = sae_data::SearchPaths::from_environment(args.data.get())
        .map_err(anyhow::Error::from)
        .and_then(|p| Ok(sae_data::find_dataset(&sae_data::DatasetName("mnist".into()), &p)?))
        .and_then(|s| Ok(RawDataset::load(&s.dir)?));
    let raw = match found {
        Ok(raw) => raw,
        Err(e) if named => return Err(e.context("bench: the MNIST folder named by --data-dir or SAE_DATA_DIR")),
        Err(_) => {
            stderr_line!("bench: MNIST not found; using 60,000 synthetic images");
            let dir = std::env::temp_dir().join(format!("sae-bench-{}", std::process::id()));
            sae_data::write_synthetic_dataset(&dir, 60_000, 10, 0)?;
            let raw = RawDataset::load(&dir);
            let _ = std::fs::remove_dir_all(&dir);
            raw?
        }
    };
    let sizes = SplitSizes { test: 10, ..SplitSizes::default() };
    Ok(Splits::new(&raw, sizes, 0, None)?.train)
}

/// Seconds for `args.steps` timed steps of one model (after
/// `args.warmup` untimed ones).
fn time_steps(
    args: &BenchArgs,
    images: &IdxImages,
    hidden: usize,
    threads: usize,
    precision: Precision,
) -> Result<f64> {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build()?;
    let config = TrainConfig { batch_size: args.batch, threads, precision, ..TrainConfig::reference() };
    let model = SparseAutoencoder::new(ModelConfig::new(images.dim(), hidden), 0);
    let mut trainer = Trainer::new(model, &config, SparsityConfig::reference());
    let mut batches = TrainBatches::new(images, args.task.corruption(), 0, args.batch);
    let per_epoch = batches.per_epoch();
    let mut x = vec![0.0f32; args.batch * images.dim()];
    let mut t = x.clone();
    let mut step = |i: usize| {
        batches.fill(i / per_epoch, i % per_epoch, &mut x, &mut t);
        trainer.step(&x, &t);
    };
    Ok(pool.install(|| {
        (0..args.warmup).for_each(&mut step);
        let start = Instant::now();
        (args.warmup..args.warmup + args.steps).for_each(&mut step);
        start.elapsed().as_secs_f64()
    }))
}

/// Runs the measurements and prints one line (or JSON object) each.
pub fn bench(args: &BenchArgs) -> Result<()> {
    let precisions: Vec<Precision> = args.precision.iter().map(|p| p.precision()).collect();
    for &precision in &precisions {
        check_engine_precision(EngineKind::Fast, DeviceSpec::Cpu, precision)?;
    }
    let images = training_images(args)?;
    for rep in 0..args.repeats {
        for &hidden in &args.hidden {
            for (&threads, &precision) in args.threads.iter().flat_map(|t| precisions.iter().map(move |p| (t, p))) {
                let seconds = time_steps(args, &images, hidden, threads, precision)?;
                let sps = (args.steps * args.batch) as f64 / seconds;
                let us = seconds / args.steps as f64 * 1e6;
                let name = precision.as_str();
                if args.json {
                    stdout_line!(
                        "{}",
                        serde_json::json!({"framework": "sae-lab", "device": "cpu", "task": args.task.name(), "hidden": hidden,
                            "threads": threads, "precision": name, "rep": rep, "steps": args.steps, "seconds": seconds,
                            "samples_per_s": sps, "us_per_step": us})
                    );
                } else {
                    stdout_line!(
                        "sae-lab H={hidden:4} threads={threads} precision={name} rep={rep}: {sps:10.0} samples/s ({us:.1} us/step)"
                    );
                }
            }
        }
    }
    Ok(())
}
