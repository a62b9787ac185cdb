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
