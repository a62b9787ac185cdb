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

/// The sections of an experiment file, in the order [`Tiny::text`] writes
/// them; "" holds the keys before the first section.
const SECTIONS: [&str; 7] = ["", "data", "model", "training", "corruption", "sweep", "search"];

/// An experiment file as a test writes it: the tiny experiment every
/// command-line test starts from ([`tiny`]) with the keys the test changes
/// or adds, each a section, its key and its value as TOML text.
#[derive(Debug, Clone)]
pub struct Tiny(Vec<(String, String, String)>);

/// An experiment that trains in a moment: 300 training, 60 validation and
/// 40 test images, 8 hidden units, one epoch at lr 0.005, and nothing swept.
pub fn tiny() -> Tiny {
    Tiny(Vec::new())
        .images(300, 60, 40)
        .set("model.hidden", "8")
        .set("training.epochs", "1")
        .set("training.lr", "0.005")
}

impl Tiny {
    /// `key` (`section.key`, or a key before the sections such as
    /// `description`) set to `value`, TOML text: in its place if the key is
    /// already set, else after the section's other keys.
    pub fn set(mut self, key: &str, value: &str) -> Self {
        let (section, key) = key.split_once('.').unwrap_or(("", key));
        assert!(SECTIONS.contains(&section), "no section [{section}] in an experiment file");
        match self.0.iter_mut().find(|(s, k, _)| s == section && k == key) {
            Some(entry) => entry.2 = value.into(),
            None => self.0.push((section.into(), key.into(), value.into())),
        }
        self
    }

    /// The split: `train`, `validation` and `test` images.
    pub fn images(self, train: usize, validation: usize, test: usize) -> Self {
        self.set("data.train", &train.to_string())
            .set("data.validation", &validation.to_string())
            .set("data.test", &test.to_string())
    }

    /// The file's text, its sections in a fixed order.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for section in SECTIONS {
            let mut keys = self.0.iter().filter(|(s, ..)| s == section).peekable();
            if keys.peek().is_some() && !section.is_empty() {
                text += &format!("[{section}]\n");
            }
            keys.for_each(|(_, key, value)| text += &format!("{key} = {value}\n"));
        }
        text
    }
}

/// A four-run experiment: [`tiny`] over four target sparsities.
pub fn small() -> Tiny {
    tiny().set("sweep.rho", "[0.05, 0.1, 0.2, 0.3]")
}

/// A folder with a synthetic MNIST in ./data/mnist and [`small`] as `small.toml`.
pub fn setup() -> tempfile::TempDir {
    folder("data/mnist", Synthetic { train: 400, test: 60, seed: 6 }, &[("small.toml", &small().text())])
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
