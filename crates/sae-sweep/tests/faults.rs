//! Runs that go wrong after the fact or at the last moment: damaged or
//! missing run files make a run incomplete (redone, never aborting the
//! sweep, the dry run or the merge), parameters that become NaN at the very
//! last step fail the run, a record edited against its own curve is
//! damage, and merging an experiment never run is an error.

mod common;

use std::path::Path;

use common::{damage_reasons, experiment, fixture, Table, TIMING};
use sae_sweep::{
    merge, Experiment, ExperimentFile, Label, NonEmpty, ResultsDir, RunSpec, RunState, Status, SweepError, SweepSummary,
};

fn sweep(data: &Path, results: &Path, file: &ExperimentFile) -> SweepSummary {
    common::sweep(file, data, results, 2, None).unwrap()
}

#[test]
fn damaged_run_files_make_the_run_incomplete_and_it_is_redone() {
    let f = fixture();
    let (data, results) = (&f.data, &f.results);
    let file = experiment("damaged", "[sweep]\nrho = [0.05, 0.1, 0.2, 0.3]\n");
    sweep(data, results, &file);
    let runs_csv = results.join("damaged/runs.csv");
    let before = Table::read(&runs_csv).without(&TIMING);
    let dir = ResultsDir::new(results, "damaged");
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

    let reasons = damage_reasons(&dir, &grid);
    assert!(reasons[0].contains("model.safetensors"), "{}", reasons[0]);
    assert!(reasons[1].contains("curve.csv"), "{}", reasons[1]);
    assert!(reasons[2].contains("metrics.json"), "{}", reasons[2]);
    assert!(reasons[3].contains("metrics.json"), "{}", reasons[3]);

    // Merging finds none of the grid's runs whole: it says so and leaves
    // the tables as they were; the sweep redoes all four.
    let tables = std::fs::read(&runs_csv).unwrap();
    let err = merge(&file, results).unwrap_err();
    assert!(matches!(err, sae_sweep::SweepError::NoneStored { runs: 4, .. }), "{err}");
    assert_eq!(std::fs::read(&runs_csv).unwrap(), tables);
    let again = sweep(data, results, &file);
    assert_eq!((again.done, again.skipped, again.rows), (4, 0, 4));
    assert_eq!(Table::read(&runs_csv).without(&TIMING), before);
}

/// A `metrics.json` whose validation MSE was edited, or a `curve.csv`
/// whose last validation MSE was: the two disagree, the run is damaged,
/// naming both files, and redone.
#[test]
fn a_record_edited_against_its_own_curve_is_damage() {
    let f = fixture();
    let file = experiment("edited", "[sweep]\nrho = [0.05, 0.1]\n");
    sweep(&f.data, &f.results, &file);
    let dir = ResultsDir::new(&f.results, "edited");
    let grid = file.experiment.expand();
    let metrics = dir.run_dir(&grid[0].id).join("metrics.json");
    let text = std::fs::read_to_string(&metrics).unwrap();
    std::fs::write(&metrics, replace_value(&text, "\"final_val_mse\": ", "0.001")).unwrap();
    let curve = dir.run_dir(&grid[1].id).join("curve.csv");
    let mut lines: Vec<String> = std::fs::read_to_string(&curve).unwrap().lines().map(String::from).collect();
    let column = lines[0].split(',').position(|c| c == "val_mse").unwrap();
    let last = lines.len() - 1;
    let mut fields: Vec<String> = lines[last].split(',').map(String::from).collect();
    fields[column] = "0.001".into();
    lines[last] = fields.join(",");
    std::fs::write(&curve, lines.join("\n") + "\n").unwrap();

    let reasons = damage_reasons(&dir, &grid);
    for why in &reasons {
        assert!(why.contains("metrics.json: final_val_mse") && why.contains("one of the two was edited"), "{why}");
    }
    assert!(reasons[0].contains("final_val_mse 0.001 is not the last validation MSE of curve.csv"), "{}", reasons[0]);
    assert_eq!(sweep(&f.data, &f.results, &file).done, 2, "both redone");
    // A NaN or an infinity written into the curve disagrees with the record too.
    for value in ["NaN", "inf"] {
        let text = std::fs::read_to_string(&curve).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let last = lines.len() - 1;
        let mut fields: Vec<String> = lines[last].split(',').map(String::from).collect();
        fields[column] = value.into();
        lines[last] = fields.join(",");
        std::fs::write(&curve, lines.join("\n") + "\n").unwrap();
        let why = &damage_reasons(&dir, &grid[1..])[0];
        assert!(why.contains(&format!("is not the last validation MSE of curve.csv, {value}")), "{why}");
        assert_eq!(sweep(&f.data, &f.results, &file).done, 1, "redone");
    }
}

/// `text` with the value after the first `key` replaced by `value`.
fn replace_value(text: &str, key: &str, value: &str) -> String {
    let start = text.find(key).unwrap() + key.len();
    let end = start + text[start..].find(',').unwrap();
    format!("{}{value}{}", &text[..start], &text[end..])
}

#[test]
fn parameters_that_become_nan_at_the_last_step_fail_the_run() {
    let f = fixture();
    // One batch per epoch and one epoch: the loss before the only step is
    // finite, and an Adam step of 3e38/(1 − β₁) (infinite in f32) ruins the
    // weights.
    let file = experiment("last", "[sweep]\nlr = [0.01, 3e38]\n");
    let mut file = file;
    file.experiment.training.batch_size = sae_sweep::Count(200);
    file.experiment.training.epochs = sae_sweep::Count(1);
    let s = sweep(&f.data, &f.results, &file);
    assert_eq!((s.done, s.failed), (1, 1));
    let dir = ResultsDir::new(&f.results, "last");
    let record = dir.record(&file.experiment.expand()[1].id).unwrap().unwrap();
    assert_eq!(record.status, Status::Failed);
    assert!(record.reason.unwrap().contains("NaN or infinite after the last step"));
}

#[test]
fn merging_an_experiment_never_run_is_an_error_naming_it() {
    let f = fixture();
    let file = experiment("never", "");
    let err = merge(&file, &f.results).unwrap_err();
    assert!(matches!(err, SweepError::NeverRun { .. }), "{err:?}");
    assert!(err.to_string().contains("no run of never is stored here"), "{err}");
    assert!(!f.results.join("never/runs.csv").exists(), "no empty table written");
}

/// Moves run `spec`'s folder to `former`, as an earlier sae-lab stored it
/// there: its record naming that id, and its configuration `written` as
/// the experiment file wrote it.
fn store_as_earlier_version(dir: &ResultsDir, spec: &RunSpec, former: &str, written: &Experiment) {
    let old = dir.run_dir(former);
    std::fs::rename(dir.run_dir(&spec.id), &old).unwrap();
    let metrics = std::fs::read_to_string(old.join("metrics.json")).unwrap();
    std::fs::write(old.join("metrics.json"), metrics.replace(&spec.id, former)).unwrap();
    std::fs::write(old.join("config.toml"), written.to_toml()).unwrap();
}

#[test]
fn rewording_the_description_keeps_the_ids_and_runs_stored_under_former_ids_are_adopted() {
    let f = fixture();
    let described = |text: &str| {
        let mut file = experiment("worded", "[sweep]\nrho = [0.05, 0.1]\n");
        file.experiment.description = Some(text.into());
        file
    };
    let (file, new_words) = (described("first"), described("second"));
    let grid = file.experiment.expand();
    assert_eq!(
        grid.iter().map(|r| &r.id).collect::<Vec<_>>(),
        new_words.experiment.expand().iter().map(|r| &r.id).collect::<Vec<_>>()
    );
    sweep(&f.data, &f.results, &file);
    // Folders as the first round named them (the description hashed in).
    let dir = ResultsDir::new(&f.results, "worded");
    for spec in &grid {
        assert_eq!(spec.former_ids.len(), 1, "a described run has a former id");
        assert_ne!(spec.former_ids[0], spec.id);
        store_as_earlier_version(&dir, spec, &spec.former_ids[0], &spec.config);
    }
    let again = sweep(&f.data, &f.results, &file);
    assert_eq!((again.done, again.skipped, again.rows), (0, 2, 2), "adopted, nothing retrained");
    let reworded = sweep(&f.data, &f.results, &new_words);
    assert_eq!((reworded.done, reworded.skipped), (0, 2), "a new description retrains nothing");
    assert!(grid.iter().all(|s| dir.run_dir(&s.id).is_dir() && !dir.run_dir(&s.former_ids[0]).exists()));
}

#[test]
fn runs_stored_under_the_id_of_labels_written_otherwise_are_adopted_not_retrained() {
    let f = fixture();
    let labels: Vec<Label> = (0..10).rev().map(Label).collect();
    let mut file = experiment("labelled", "[sweep]\nrho = [0.05, 0.1]\n");
    file.experiment.data.labels = Some(NonEmpty(labels.clone()));
    let grid = file.experiment.expand();
    let plain = experiment("labelled", "[sweep]\nrho = [0.05, 0.1]\n").experiment.expand();
    assert_eq!(grid.iter().map(|r| &r.id).collect::<Vec<_>>(), plain.iter().map(|r| &r.id).collect::<Vec<_>>());
    sweep(&f.data, &f.results, &file);
    let dir = ResultsDir::new(&f.results, "labelled");
    let before = Table::read(&f.results.join("labelled/runs.csv")).without(&TIMING);
    // As the previous sae-lab stored them: under the id of the labels as
    // written, the configuration listing them in that order.
    for spec in &grid {
        let mut written = spec.config.clone();
        written.data.labels = Some(NonEmpty(labels.clone()));
        assert_eq!(spec.former_ids.len(), 1);
        store_as_earlier_version(&dir, spec, &spec.former_ids[0], &written);
        assert_eq!(dir.state(spec), RunState::Missing, "not under its id until adopted");
    }
    let again = sweep(&f.data, &f.results, &file);
    assert_eq!((again.done, again.skipped, again.rows), (0, 2, 2), "adopted, nothing retrained");
    assert!(grid.iter().all(|s| dir.run_dir(&s.id).is_dir() && !dir.run_dir(&s.former_ids[0]).exists()));
    let record = dir.record(&grid[0].id).unwrap().unwrap();
    assert_eq!(record.run_id, grid[0].id, "migrated once: the record names its new id");
    // The file without the labels, or listing them in order, is the same experiment.
    let plain = sweep(&f.data, &f.results, &experiment("labelled", "[sweep]\nrho = [0.05, 0.1]\n"));
    assert_eq!((plain.done, plain.skipped), (0, 2));
    let run_id = |t: &[Vec<String>]| t.iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    let after = Table::read(&f.results.join("labelled/runs.csv")).without(&TIMING);
    assert_eq!(run_id(&after), run_id(&before));
}
