//! Fixtures shared by the sweep tests: a tiny experiment, a synthetic
//! dataset, a quiet sweep, and `runs.csv` read back as a table.

#![allow(dead_code)] // Each test file uses its own part of this module.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sae_sweep::{
    run_sweep, Experiment, ExperimentFile, ProgressMode, ResultsDir, RunSpec, RunState, Shard, SharedData, SweepError,
    SweepOptions, SweepSummary,
};

/// A run that trains in well under a second: 200 training images of a
/// synthetic dataset, 8 hidden units, 2 epochs of 10 batches. It ends in
/// its `[training]` table, so keys that follow it belong there.
pub const BASE: &str = r#"
[data]
train = 200
validation = 50
test = 40
[model]
hidden = 8
[training]
epochs = 2
batch_size = 20
lr = 0.01
"#;

/// A halving search over three trials of [`BASE`], halved at 1 and 3
/// epochs: each trains one epoch, the best is continued to three.
pub const HALVING: &str = "[sweep]\nlr = [0.003, 0.01, 0.03]\n[search]\nstrategy = \"halving\"\nmin_epochs = 1\n\
                           max_epochs = 3\neta = 3\n";

/// `text` parsed as the experiment file `experiments/bad.toml`, its error
/// as the message a user reads.
pub fn parse(text: &str) -> Result<Experiment, String> {
    Experiment::from_toml(text, Path::new("experiments/bad.toml")).map_err(|e| e.to_string())
}

/// `error` and each of its sources, joined by ": " as the command line
/// prints them.
pub fn chain(error: &dyn std::error::Error) -> String {
    let messages: Vec<String> = std::iter::successors(Some(error), |e| e.source()).map(ToString::to_string).collect();
    messages.join(": ")
}

/// Checks that each `(text, expected)` is rejected with a message that
/// names the file and contains every one of `expected`.
pub fn assert_rejected<const N: usize>(cases: &[(&str, [&str; N])]) {
    for (text, expected) in cases {
        let msg = parse(text).expect_err("this experiment must be rejected");
        assert!(msg.starts_with("experiments/bad.toml: "), "{msg}");
        assert!(expected.iter().all(|e| msg.contains(e)), "for {text:?}: {msg}");
    }
}

/// A scratch folder with a synthetic dataset in `data` and an empty
/// `results`.
pub struct Fixture {
    /// Removed when the fixture is dropped.
    pub tmp: tempfile::TempDir,
    /// The dataset's folder.
    pub data: PathBuf,
    /// Where experiment folders go.
    pub results: PathBuf,
}

/// A new fixture, whose dataset holds enough images for [`BASE`].
pub fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    sae_data::write_synthetic_dataset(&data, 260, 40, 1).unwrap();
    let results = tmp.path().join("results");
    Fixture { tmp, data, results }
}

/// Experiment `name`: [`BASE`] followed by `extra` (sections or a sweep).
pub fn experiment(name: &str, extra: &str) -> ExperimentFile {
    let path = PathBuf::from(format!("{name}.toml"));
    let experiment = Experiment::from_toml(&format!("{BASE}\n{extra}"), &path).unwrap();
    ExperimentFile { name: name.into(), path, experiment }
}

/// Sweeps `file` on `data` into `results`, quietly.
pub fn sweep(
    file: &ExperimentFile,
    data: &Path,
    results: &Path,
    jobs: usize,
    shard: Option<Shard>,
) -> Result<SweepSummary, SweepError> {
    let options = SweepOptions { results_root: results.into(), jobs, shard, progress: ProgressMode::Quiet };
    run_sweep(file, &options, || Ok(Arc::new(SharedData::load(data)?)))
}

/// A CSV file read whole: its header and its records.
pub struct Table {
    /// Column names.
    pub headers: csv::StringRecord,
    /// One record per row.
    pub rows: Vec<csv::StringRecord>,
}

impl Table {
    /// Reads the CSV file at `path`.
    pub fn read(path: &Path) -> Self {
        let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let headers = r.headers().unwrap().clone();
        let rows = r.records().map(|x| x.unwrap()).collect();
        Self { headers, rows }
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> usize {
        self.headers.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Row `row`'s text in column `name`.
    pub fn text(&self, row: usize, name: &str) -> &str {
        &self.rows[row][self.column(name)]
    }

    /// Row `row`'s number in column `name`.
    pub fn number(&self, row: usize, name: &str) -> f64 {
        let text = self.text(row, name);
        text.parse().unwrap_or_else(|_| panic!("{name}: {text:?} is not a number"))
    }

    /// Every row without the columns `dropped` (timings, which differ from
    /// run to run), header first.
    pub fn without(&self, dropped: &[&str]) -> Vec<Vec<String>> {
        let keep: Vec<usize> = (0..self.headers.len()).filter(|&i| !dropped.contains(&&self.headers[i])).collect();
        std::iter::once(&self.headers)
            .chain(&self.rows)
            .map(|r| keep.iter().map(|&i| r[i].to_string()).collect())
            .collect()
    }
}

/// The timing columns of `runs.csv`, which differ from run to run.
pub const TIMING: [&str; 2] = ["seconds", "samples_per_s"];

/// Why each run of `grid` is damaged, in grid order.
///
/// # Panics
/// When a run is not damaged.
pub fn damage_reasons(dir: &ResultsDir, grid: &[RunSpec]) -> Vec<String> {
    grid.iter()
        .map(|spec| match dir.state(spec) {
            RunState::Damaged(why) => why,
            other => panic!("{}: {other:?}", spec.id),
        })
        .collect()
}
