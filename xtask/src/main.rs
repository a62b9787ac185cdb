//! The sae-lab command line: `cargo xtask sweep FILE`, `cargo xtask report`,
//! `cargo xtask merge FILE` and `cargo xtask fetch-data NAME`.

mod data;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use sae_data::DatasetName;
use sae_sweep::{run_sweep, ExperimentFile, ProgressMode, Shard, SweepOptions};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Sparse-autoencoder sweeps on MNIST-format images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train every missing run of an experiment's grid, then write its tables.
    Sweep {
        /// The experiment file (e.g. experiments/rho.toml).
        file: PathBuf,
        /// Runs trained at once (default: the machine's cores).
        #[arg(long)]
        jobs: Option<usize>,
        /// Run only shard i of n (e.g. 0/4); taken from SLURM_ARRAY_TASK_ID and
        /// SLURM_ARRAY_TASK_COUNT when those are set.
        #[arg(long)]
        shard: Option<Shard>,
        /// Folder of the dataset's IDX files (else SAE_DATA_DIR, ./data/<name>,
        /// /usr/share/datasets/<name>, else download).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Where experiment folders go.
        #[arg(long, default_value = "results")]
        results: PathBuf,
        /// List the runs (id and whether complete) without training.
        #[arg(long)]
        dry_run: bool,
    },
    /// Rebuild an experiment's runs.csv and summary.csv from its run folders.
    Merge {
        /// The experiment file.
        file: PathBuf,
        /// Where experiment folders go.
        #[arg(long, default_value = "results")]
        results: PathBuf,
    },
    /// Download a dataset (mnist or fashion-mnist), verifying checksums.
    FetchData {
        /// The dataset.
        #[arg(default_value = "mnist")]
        name: String,
        /// Destination folder (default: ./data/<name>).
        #[arg(long)]
        dest: Option<PathBuf>,
    },
}

/// Whether every run succeeded; errors abort instead.
type Outcome = Result<bool>;

/// Prints every run of the grid with its stored status.
fn dry_run(file: &ExperimentFile, results: &Path) -> Outcome {
    let dir = sae_sweep::ResultsDir::new(results, &file.name);
    for spec in file.experiment.expand() {
        let status = dir
            .record(&spec.id)?
            .map_or("missing", |r| r.status.as_str());
        println!("{:>4}  {:<8} {}", spec.index, status, spec.id);
    }
    Ok(true)
}

fn sweep(
    file: &Path,
    jobs: Option<usize>,
    shard: Option<Shard>,
    data_dir: Option<PathBuf>,
    results: PathBuf,
) -> Outcome {
    let file = ExperimentFile::load(file)?;
    let shard = match shard {
        Some(s) => Some(s),
        None => Shard::from_slurm(|k| std::env::var(k).ok())?,
    };
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = if std::io::stderr().is_terminal() {
        ProgressMode::Bars
    } else {
        ProgressMode::Lines
    };
    let grid = file.experiment.expand().len();
    let part = shard
        .map(|s| format!(", shard {}/{}", s.index, s.count))
        .unwrap_or_default();
    eprintln!(
        "sweep: {} ({grid} runs{part}), {jobs} jobs, results in {}",
        file.name,
        results.join(&file.name).display()
    );
    let options = SweepOptions {
        results_root: results.clone(),
        jobs,
        shard,
        progress,
    };
    let dataset = file.experiment.data.dataset.clone();
    let summary = run_sweep(&file, &options, || {
        data::resolve(&dataset, data_dir.as_deref())
            .map_err(|e| sae_sweep::SweepError::DataUnavailable(format!("{e:#}")))
    })?;
    eprintln!(
        "sweep: {} runs: {} done, {} failed, {} already complete; {:.1} s wall, {:.0} samples/s; {} rows in {}",
        summary.total,
        summary.done,
        summary.failed,
        summary.skipped,
        summary.wall_seconds,
        summary.samples_per_s,
        summary.rows,
        results.join(&file.name).join(sae_sweep::RUNS_CSV).display()
    );
    Ok(summary.failed == 0)
}

fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Sweep {
            file,
            dry_run: true,
            results,
            ..
        } => dry_run(&ExperimentFile::load(&file)?, &results),
        Command::Sweep {
            file,
            jobs,
            shard,
            data_dir,
            results,
            dry_run: false,
        } => sweep(&file, jobs, shard, data_dir, results),
        Command::Merge { file, results } => {
            let file = ExperimentFile::load(&file)?;
            let rows = sae_sweep::merge(&file, &results)?;
            eprintln!(
                "merge: {rows} rows in {}",
                results.join(&file.name).join(sae_sweep::RUNS_CSV).display()
            );
            Ok(true)
        }
        Command::FetchData { name, dest } => {
            let dest = dest.unwrap_or_else(|| PathBuf::from("data").join(&name));
            data::fetch(&DatasetName(name.clone()), &dest)
                .with_context(|| format!("downloading {name}"))?;
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
