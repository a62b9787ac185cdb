//! The sae-lab command line: `cargo xtask sweep FILE`, `cargo xtask report`,
//! `cargo xtask merge FILE` and `cargo xtask fetch-data NAME`.

#[macro_use]
mod say;

mod advice;
mod bench;
mod data;
mod dry_run;
mod provenance;
mod report;
mod slurm;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};

use sae_data::DatasetName;
use sae_sweep::{run_sweep, ExperimentFile, ProgressMode, Shard, SharedData, Snapshot, SweepError, SweepOptions};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Sparse-autoencoder sweeps on MNIST-format images")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// This command as the user typed it, for messages that say how to run it
/// again: `cargo xtask` and the arguments, each quoted as a shell reads it
/// back (a NUL cannot be quoted, and cannot reach a program's arguments).
fn invoked_command() -> String {
    let words: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let quoted = shlex::try_join(words.iter().map(String::as_str)).unwrap_or_else(|_| words.join(" "));
    format!("cargo xtask {quoted}")
}

/// The parser of a count that must be at least 1 (`--jobs`, `--array`...).
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    count_to(usize::MAX)
}

/// The parser of a count from 1 to `max`.
fn count_to(max: usize) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..=max as u64)
}

/// The cores this process may use.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Options of the sweep command.
#[derive(clap::Args)]
struct SweepArgs {
    /// The experiment file (e.g. experiments/rho.toml).
    file: PathBuf,
    /// Runs trained at once (default: the machine's cores; at most the cores
    /// and the runs to train).
    #[arg(long, value_parser = at_least_one())]
    jobs: Option<usize>,
    /// Run only shard i of n (e.g. 0/4); taken from SLURM_ARRAY_TASK_ID and
    /// SLURM_ARRAY_TASK_COUNT when those are set.
    #[arg(long)]
    shard: Option<Shard>,
    #[command(flatten)]
    data: DataDirArg,
    #[command(flatten)]
    results: ResultsArg,
    /// List the runs (id and whether complete) without training.
    #[arg(long)]
    dry_run: bool,
    /// Do not write the report at the end (shards never write it).
    #[arg(long)]
    no_report: bool,
}

/// `--results`, as every command that reads or writes results takes it.
#[derive(Debug, Clone, clap::Args)]
pub struct ResultsArg {
    /// Where experiment folders go, one per experiment file.
    #[arg(long, default_value = "results")]
    results: PathBuf,
}

impl ResultsArg {
    /// The folder; one that is a file is refused, named as the user typed it.
    pub fn folder(&self) -> Result<&Path> {
        if self.results.exists() && !self.results.is_dir() {
            bail!(
                "--results {}: not a folder (it is a file); expected the folder that holds experiment results",
                self.results.display()
            );
        }
        Ok(&self.results)
    }
}

/// `--data-dir`, as every command that reads a dataset takes it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DataDirArg {
    /// Folder of the dataset's IDX files (else SAE_DATA_DIR, ./data/<name>,
    /// /usr/share/datasets/<name>, else download; bench: synthetic images).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl DataDirArg {
    /// The folder given, if any.
    pub fn get(&self) -> Option<&Path> {
        self.data_dir.as_deref()
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train every missing run of an experiment's grid, write its tables, then its report.
    Sweep(SweepArgs),
    /// Write report.md, tables and figures for experiments under the results folder.
    Report {
        /// Experiment names (folders under --results); default: every one.
        experiments: Vec<String>,
        #[command(flatten)]
        results: ResultsArg,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Rebuild an experiment's runs.csv and summary.csv from its run folders.
    Merge {
        /// The experiment file.
        file: PathBuf,
        #[command(flatten)]
        results: ResultsArg,
    },
    /// Write (and with --submit, submit) a Slurm job array for a sweep, plus a merge job; its
    /// files and folders must be on a filesystem every node sees.
    Slurm(slurm::SlurmArgs),
    /// Training throughput (samples/s), measured as scripts/torch_reference.py bench measures it
    /// (on synthetic images when MNIST is not found).
    Bench(bench::BenchArgs),
    /// Download a dataset (mnist or fashion-mnist), verifying checksums.
    FetchData {
        /// The dataset.
        #[arg(default_value = "mnist", value_parser = |s: &str| DatasetName::new(s))]
        name: DatasetName,
        /// Destination folder (default: ./data/<name>).
        #[arg(long)]
        dest: Option<PathBuf>,
    },
}

/// Whether every run succeeded; errors abort instead.
type Outcome = Result<bool>;

/// `--jobs`, or the cores, capped at the cores and at the runs, saying so
/// when a value given is lowered.
fn jobs(asked: Option<usize>, runs: usize) -> usize {
    let cores = cores();
    let Some(asked) = asked else { return cores.min(runs).max(1) };
    let jobs = asked.min(cores).min(runs).max(1);
    if jobs < asked {
        stderr_line!("sweep: --jobs {asked} is more than the {cores} cores or the {runs} runs; using {jobs}");
    }
    jobs
}

/// The dataset `name`, found by the discovery rules (or downloaded) as
/// [`data::resolve`] does, loaded for the runs.
fn load_data(name: &DatasetName, flag: Option<&Path>) -> Result<Arc<SharedData>, SweepError> {
    let dir = data::resolve(name, flag)
        .map_err(|e| SweepError::DataUnavailable(e.reallocate_into_boxed_dyn_error_without_backtrace()))?;
    Ok(Arc::new(SharedData::load(&dir)?))
}

/// The thread that scores the report's baselines while the runs train.
type ScoringAhead = std::thread::JoinHandle<Result<()>>;

/// The report's baselines scored ahead, on a thread of its own, when the
/// runs leave a core idle (fewer jobs of their threads than cores) and the
/// report will need baselines it has not cached: one run on a laptop then
/// spends its training time on them too. Called once the sweep has loaded
/// its `data`, after its devices opened, so that a device that cannot open
/// is still the first thing said; the thread reads the same images.
fn baselines_beside(
    file: &ExperimentFile,
    results: &Path,
    jobs: usize,
    report_after: bool,
    data: &Arc<SharedData>,
) -> Option<ScoringAhead> {
    let dir = sae_sweep::ResultsDir::new(results, &file.name);
    let experiment = file.experiment.clone();
    let idle_core = jobs * experiment.training.threads.0 < cores();
    if !(report_after && idle_core && report::baselines_missing(&dir, &experiment)) {
        return None;
    }
    stderr_line!("sweep: scoring the report's baselines beside the runs, on the core they leave idle");
    let data = Arc::clone(data);
    Some(std::thread::spawn(move || report::score_ahead(&dir, &experiment, &data)))
}

/// How long a stopping sweep waits for its writes in flight: a checkpoint
/// of the widest model takes a second or two, and Slurm's SIGKILL follows
/// its SIGTERM by `KillWait` (30 s by default).
const WRITES_TO_END: std::time::Duration = std::time::Duration::from_secs(20);

/// On Ctrl-C, SIGTERM (Slurm's at a time limit, asked for early by the
/// generated script) or SIGHUP: lets the writes in flight end (a run folder
/// or table being renamed into place) and holds back new ones, says what is
/// kept and how to resume, and exits with 130 (as a shell reports SIGINT).
/// Every stored run is whole and no temporary file or folder is left; the
/// runs that were training are redone by the next sweep.
fn on_interrupt(command: String) -> Result<()> {
    ctrlc::set_handler(move || {
        let ended = sae_data::stop_writes(WRITES_TO_END);
        let left = if ended { "" } else { " (a write still in flight is removed when its run reruns)" };
        stderr_line!(
            "\ninterrupted: the runs stored so far are kept; the interrupted ones will be redone{left}. \
             To resume, run the same command again: {command}"
        );
        std::process::exit(130);
    })
    .context("installing the SIGINT/SIGTERM/SIGHUP handler")
}

/// Writes the reports of `names` (every experiment when empty).
fn reports(results: &Path, names: Vec<String>, data_dir: Option<&Path>) -> Outcome {
    let names = if names.is_empty() { report::experiments(results)? } else { names };
    if names.is_empty() {
        anyhow::bail!("no experiment results under {}; run `cargo xtask sweep FILE` first", results.display());
    }
    for name in names {
        let name = sae_sweep::experiment_name(&name)?;
        write_report(results, &name, None, data_dir)?;
    }
    Ok(true)
}

/// Writes experiment `name`'s report, from `read` when this command has
/// read its results already.
fn write_report(results: &Path, name: &str, read: Option<Snapshot>, data_dir: Option<&Path>) -> Result<()> {
    let path = report::report(results, name, read, |dataset| data::resolve(dataset, data_dir))
        .with_context(|| format!("writing the report of {name}"))?;
    stderr_line!("report: {}", path.display());
    Ok(())
}

/// The experiment file at `path`, read and checked, with what it may
/// ask but likely does not mean said as warnings.
fn experiment_file(path: &Path) -> Result<ExperimentFile> {
    let file = ExperimentFile::load(path)?;
    for warning in file.experiment.warnings() {
        stderr_line!("sweep: warning: {}: {warning}", path.display());
    }
    Ok(file)
}

/// The shard `--shard` asks for, or a Slurm array task's; refused on a
/// halving search, whose processes share each rung's runs instead.
fn shard_of(asked: Option<Shard>, file: &ExperimentFile) -> Result<Option<Shard>> {
    match asked {
        Some(_) if file.experiment.search.strategy.halves() => bail!(
            "--shard on a {} search: its processes share each rung's runs under the run locks, not a fixed part of \
             the grid; run the same command without --shard in each process, or `cargo xtask slurm {} --array N`",
            file.experiment.search.strategy.as_str(),
            file.path.display()
        ),
        Some(s) => Ok(Some(s)),
        None => Ok(Shard::from_slurm(|k| std::env::var(k).ok())?),
    }
}

fn sweep(args: SweepArgs) -> Outcome {
    let results = args.results.folder()?;
    let file = experiment_file(&args.file)?;
    let shard = shard_of(args.shard, &file)?;
    if args.dry_run {
        return dry_run::dry_run(&file, results, shard);
    }
    // Another experiment's folder is refused before anything is said or done.
    sae_sweep::ResultsDir::new(results, &file.name).check_owner(&file)?;
    let command = invoked_command();
    on_interrupt(command.clone())?;
    let grid = file.experiment.expand().len();
    let mine = shard.map_or(grid, |s| (grid + s.count - 1 - s.index) / s.count);
    let jobs = jobs(args.jobs, mine);
    let progress = if std::io::stderr().is_terminal() { ProgressMode::Bars } else { ProgressMode::Lines };
    let out_dir = results.join(&file.name);
    let part = shard.map(|s| format!(", shard {}/{}", s.index, s.count)).unwrap_or_default();
    let jobs_word = if jobs == 1 { "job" } else { "jobs" };
    stderr_line!("sweep: {} ({grid} runs{part}), {jobs} {jobs_word}, results in {}", file.name, out_dir.display());
    let dataset = file.experiment.data.dataset.clone();
    let provenance = provenance::Provenance {
        command,
        experiment_file: file.path.display().to_string(),
        dataset: dataset.to_string(),
        git_revision: provenance::git_revision(),
        machine: provenance::machine(),
        date_utc: provenance::now_utc(),
    };
    let write_report_after = shard.is_none() && !args.no_report;
    let options = SweepOptions { results_root: results.to_path_buf(), jobs, shard, progress };
    let mut ahead = None;
    let summary = run_sweep(&file, &options, || {
        let data = load_data(&dataset, args.data.get())?;
        ahead = baselines_beside(&file, results, jobs, write_report_after, &data);
        Ok(data)
    })?;
    stderr_line!(
        "sweep: {} runs: {} done, {} failed, {} already complete; {:.1} s wall, {:.0} samples/s; {} rows in {}",
        summary.total,
        summary.done,
        summary.failed,
        summary.skipped,
        summary.wall_seconds,
        summary.samples_per_s,
        summary.rows,
        out_dir.join(sae_sweep::RUNS_CSV).display()
    );
    provenance.save(&out_dir)?;
    let all_ok = summary.failed == 0;
    if write_report_after {
        // What went wrong ahead (nothing a user sees) the report meets again and says.
        let _ = ahead.map(|thread| thread.join());
        write_report(results, &file.name, Some(summary.results), args.data.get())?;
    }
    Ok(all_ok)
}

fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Sweep(args) => sweep(args),
        Command::Report { experiments, results, data } => reports(results.folder()?, experiments, data.get()),
        Command::Slurm(args) => slurm::slurm(&args).map(|()| true),
        Command::Bench(args) => bench::bench(&args).map(|()| true),
        Command::Merge { file, results } => {
            let results = results.folder()?;
            let file = ExperimentFile::load(&file)?;
            let merged = sae_sweep::merge(&file, results)?;
            for (id, why) in &merged.damaged {
                stderr_line!("merge: left out {id} (a sweep will redo it): {why}");
            }
            for id in &merged.missing {
                stderr_line!("merge: {id} is missing (never run, or its shard has not finished)");
            }
            let table = results.join(&file.name).join(sae_sweep::RUNS_CSV);
            stderr_line!("merge: {} rows in {}", merged.rows, table.display());
            Ok(true)
        }
        Command::FetchData { name, dest } => {
            let dest = dest.unwrap_or_else(|| PathBuf::from("data").join(name.as_str()));
            data::fetch(&name, &dest).with_context(|| format!("downloading {name}"))?;
            Ok(true)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            stderr_line!("error: {e:#}");
            if let Some(fix) = advice::fix(&e) {
                stderr_line!("{fix}");
            }
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
