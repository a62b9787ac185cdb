//! Helpers shared by the command-line tests: the binary, a folder made
//! for a test (synthetic data and experiment files), and CSV tables read
//! back with the csv crate.

// Each test binary compiles this module and uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// The xtask binary, run in `dir` with no data or Slurm variables inherited.
pub fn xtask(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    c.current_dir(dir)
        .env_remove("SAE_DATA_DIR")
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT");
    c
}

/// Runs `c` to its end: its exit status, stdout and stderr.
pub fn run(c: &mut Command) -> (Option<i32>, String, String) {
    let out = c.output().expect("xtask runs");
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

/// A synthetic dataset in the MNIST format: its training and test images,
/// and the seed that draws them.
#[derive(Debug, Clone, Copy)]
pub struct Synthetic {
    /// Training images.
    pub train: usize,
    /// Test images.
    pub test: usize,
    /// The seed.
    pub seed: u64,
}

/// A temporary folder holding `data` in its folder `data_dir` and each of
/// `files`, a name and its text.
pub fn folder(data_dir: &str, data: Synthetic, files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    sae_data::write_synthetic_dataset(&tmp.path().join(data_dir), data.train, data.test, data.seed).unwrap();
    for (name, text) in files {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    tmp
}

/// A four-run experiment that trains in a moment.
pub const SMALL: &str = r#"
[data]
train = 300
validation = 60
test = 40
[model]
hidden = 8
[training]
epochs = 1
lr = 0.005
[sweep]
rho = [0.05, 0.1, 0.2, 0.3]
"#;

/// A folder with a synthetic MNIST in ./data/mnist and [`SMALL`] as `small.toml`.
pub fn setup() -> tempfile::TempDir {
    folder("data/mnist", Synthetic { train: 400, test: 60, seed: 6 }, &[("small.toml", SMALL)])
}

/// A row of a CSV table: each column's name and value.
pub type Record = BTreeMap<String, String>;

/// The rows of the CSV table at `path`.
pub fn records(path: &Path) -> Vec<Record> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            header.iter().zip(&r).map(|(k, v)| (k.to_string(), v.to_string())).collect()
        })
        .collect()
}

/// The rows of a runs.csv without its timing columns, which differ from
/// run to run.
pub fn table(path: &Path) -> Vec<Record> {
    let mut rows = records(path);
    for row in &mut rows {
        row.retain(|column, _| !matches!(column.as_str(), "seconds" | "samples_per_s"));
    }
    rows
}

/// What `c` printed and how it exited.
pub fn output(c: &mut Command) -> std::process::Output {
    c.output().expect("xtask runs")
}

/// How many runs of the `runs` folder are complete (hold their metrics).
pub fn complete_runs(runs: &Path) -> usize {
    std::fs::read_dir(runs)
        .map(|d| d.filter(|e| e.as_ref().unwrap().path().join("metrics.json").is_file()).count())
        .unwrap_or(0)
}
