//! Runs that go wrong after the fact or at the last moment: damaged or
//! missing run files make a run incomplete (redone, never aborting the
//! sweep, the dry run or the merge), parameters that become NaN at the very
//! last step fail the run, and merging an experiment never run is an error.

use std::path::{Path, PathBuf};

use sae_sweep::{
    merge, run_sweep, Experiment, ExperimentFile, ProgressMode, ResultsDir, RunState, Status, SweepError, SweepOptions,
    SweepSummary,
};

const BASE: &str = r#"
[data]
train = 200
validation = 40
test = 30
[model]
hidden = 8
[training]
epochs = 2
batch_size = 20
lr = 0.01
"#;

fn experiment(dir: &Path, name: &str, extra: &str) -> ExperimentFile {
    let path = dir.join(format!("{name}.toml"));
    let experiment = Experiment::from_toml(&format!("{BASE}\n{extra}"), &path).unwrap();
    ExperimentFile { name: name.into(), path, experiment }
}

fn sweep(data: &Path, results: &Path, file: &ExperimentFile) -> SweepSummary {
    let options = SweepOptions { results_root: results.into(), jobs: 2, shard: None, progress: ProgressMode::Quiet };
    run_sweep(file, &options, || Ok(data.to_path_buf())).unwrap()
}

fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    sae_data::write_synthetic_dataset(&data, 240, 30, 5).unwrap();
    let results = tmp.path().join("results");
    (tmp, data, results)
}

#[test]
fn damaged_run_files_make_the_run_incomplete_and_it_is_redone() {
    let (tmp, data, results) = fixture();
    let file = experiment(tmp.path(), "damaged", "[sweep]\nrho = [0.05, 0.1, 0.2, 0.3]\n");
    sweep(&data, &results, &file);
    let runs_csv = results.join("damaged/runs.csv");
    let before = std::fs::read_to_string(&runs_csv).unwrap();
    let dir = ResultsDir::new(&results, "damaged");
    let grid = file.experiment.expand();
    let run = |i: usize| dir.run_dir(&grid[i].id);
    // A truncated checkpoint, a missing curve, a NaN written as null, a truncated record.
    let model = std::fs::read(run(0).join("model.safetensors")).unwrap();
    std::fs::write(run(0).join("model.safetensors"), &model[..model.len() / 2]).unwrap();
    std::fs::remove_file(run(1).join("curve.csv")).unwrap();
    let metrics = std::fs::read_to_string(run(2).join("metrics.json")).unwrap();
    let mse = replace_value(&metrics, "\"mse\": ", "null");
    std::fs::write(run(2).join("metrics.json"), mse).unwrap();
    std::fs::write(run(3).join("metrics.json"), &metrics[..metrics.len() / 2]).unwrap();

    let reasons: Vec<String> = grid
        .iter()
        .map(|spec| match dir.state(spec) {
            RunState::Damaged(why) => why,
            other => panic!("{}: {other:?}", spec.id),
        })
        .collect();
    assert!(reasons[0].contains("model.safetensors"), "{}", reasons[0]);
    assert!(reasons[1].contains("curve.csv"), "{}", reasons[1]);
    assert!(reasons[2].contains("metrics.json"), "{}", reasons[2]);
    assert!(reasons[3].contains("metrics.json"), "{}", reasons[3]);

    // Merging leaves them out instead of aborting; the sweep redoes all four.
    assert_eq!(merge(&file, &results).unwrap(), 0);
    let again = sweep(&data, &results, &file);
    assert_eq!((again.done, again.skipped, again.rows), (4, 0, 4));
    assert_eq!(without_timing(&std::fs::read_to_string(&runs_csv).unwrap()), without_timing(&before));
}

/// `text` with the value after the first `key` replaced by `value`.
fn replace_value(text: &str, key: &str, value: &str) -> String {
    let start = text.find(key).unwrap() + key.len();
    let end = start + text[start..].find(',').unwrap();
    format!("{}{value}{}", &text[..start], &text[end..])
}

/// CSV text without the two timing columns (the last two).
fn without_timing(csv: &str) -> Vec<String> {
    csv.lines().map(|l| l.rsplitn(3, ',').nth(2).unwrap().to_string()).collect()
}

#[test]
fn parameters_that_become_nan_at_the_last_step_fail_the_run() {
    let (tmp, data, results) = fixture();
    // One batch per epoch and one epoch: the loss before the only step is
    // finite, and an Adam step of 1e39 (infinite in f32) ruins the weights.
    let file = experiment(tmp.path(), "last", "[sweep]\nlr = [0.01, 1e39]\n");
    let mut file = file;
    file.experiment.training.batch_size = sae_sweep::Count(200);
    file.experiment.training.epochs = sae_sweep::Count(1);
    let s = sweep(&data, &results, &file);
    assert_eq!((s.done, s.failed), (1, 1));
    let dir = ResultsDir::new(&results, "last");
    let record = dir.record(&file.experiment.expand()[1].id).unwrap().unwrap();
    assert_eq!(record.status, Status::Failed);
    assert!(record.reason.unwrap().contains("NaN or infinite after the last step"));
}

#[test]
fn merging_an_experiment_never_run_is_an_error_naming_it() {
    let (tmp, _, results) = fixture();
    let file = experiment(tmp.path(), "never", "");
    let err = merge(&file, &results).unwrap_err();
    assert!(matches!(err, SweepError::NeverRun { .. }), "{err:?}");
    assert!(err.to_string().contains("no run of never stored here"), "{err}");
    assert!(!results.join("never/runs.csv").exists(), "no empty table written");
}
