//! Continuing a stored run through the sweep's API: a run of 3 epochs,
//! stored with its training state and continued to 9, matches a 9-epoch
//! run bit for bit and stores a whole curve; a run that cannot be
//! continued is refused, naming the file; a grid sweep stores no state.

mod common;

use std::path::Path;

use common::{fixture, BASE};
use sae_sweep::{execute, execute_from, Experiment, ResultsDir, RunResult, RunSpec, SharedData, Status, STATE_FILE};

/// The fixture's run, denoising Gaussian noise (drawn per batch), with
/// `epochs` epochs, `extra` settings of `[training]` and `sections` after.
fn spec_with(epochs: usize, extra: &str, sections: &str) -> RunSpec {
    let text = format!(
        "{}{extra}\n[corruption]\nkind = \"gaussian\"\nstd = 0.5\n{sections}",
        BASE.replace("epochs = 2", &format!("epochs = {epochs}"))
    );
    Experiment::from_toml(&text, Path::new("continue.toml")).unwrap().expand().remove(0)
}

/// The fixture's KL run as [`spec_with`] makes it.
fn spec(epochs: usize, extra: &str) -> RunSpec {
    spec_with(epochs, extra, "")
}

/// Stores `result` as run `spec` in `dir`.
fn store(dir: &ResultsDir, spec: &RunSpec, result: &RunResult) {
    dir.write_run(spec, &result.output()).unwrap();
}

/// The bits of every parameter.
fn bits(result: &RunResult) -> Vec<u32> {
    let model = result.model.as_ref().expect("trained");
    model.params.as_ref().into_array().iter().flat_map(|t| t.iter().map(|v| v.to_bits())).collect()
}

#[test]
fn a_run_continued_from_3_to_9_epochs_matches_one_trained_to_9() {
    // KL, and BatchTopK on a ReLU code, whose threshold carries over too
    // (on a sigmoid code at this size its threshold ends above every test
    // activation: an empty code, which fails).
    for sections in ["", "[sparsity]\nkind = \"batchtopk\"\nk = 3\nactivation = \"relu\"\n"] {
        continued_from_3_to_9(sections);
    }
}

fn continued_from_3_to_9(sections: &str) {
    let f = fixture();
    let (three, nine) = (spec_with(3, "", sections), spec_with(9, "", sections));
    assert_ne!(three.id, nine.id, "the epochs are part of a run's id");
    let data = SharedData::load(&f.data).unwrap().for_run(&nine.config).unwrap();
    let dir = ResultsDir::new(&f.results, "continue");

    let whole = execute(&nine, &data, |_| {});
    assert_eq!(whole.record.status, Status::Ok, "{:?}", whole.record.reason);
    assert!(whole.state.is_none(), "a state only when asked for");
    let part = execute_from(&three, &data, None, true, |_| {});
    store(&dir, &three, &part);
    assert!(dir.run_dir(&three.id).join(STATE_FILE).is_file());

    let from = dir.continuation(&three.id, &nine, &data).unwrap();
    let mut told = Vec::new();
    let continued = execute_from(&nine, &data, Some(from), true, |p| told.push(p.epoch));
    assert_eq!(continued.record.status, Status::Ok, "{:?}", continued.record.reason);
    assert_eq!(told, (4..=9).collect::<Vec<_>>(), "only the new epochs are trained");
    assert!(bits(&continued) == bits(&whole), "the parameters differ");
    let threshold = |r: &RunResult| r.model.as_ref().and_then(|m| m.threshold).map(f32::to_bits);
    assert_eq!(threshold(&continued), threshold(&whole));
    assert_eq!(threshold(&whole).is_some(), sections.contains("batchtopk"));
    assert_eq!(continued.record.test, whole.record.test);
    assert_eq!(continued.record.probe_accuracy, whole.record.probe_accuracy);
    assert_eq!((continued.record.epochs_done, continued.record.continued_from.as_deref()), (9, Some(&*three.id)));
    assert_eq!(continued.state.as_ref().map(|s| s.epochs_done()), Some(9));

    store(&dir, &nine, &continued);
    let curve = dir.load_curve(&nine.id).unwrap();
    assert_eq!(curve.iter().map(|p| p.epoch).collect::<Vec<_>>(), (1..=9).collect::<Vec<_>>());
    let untimed = |c: &[sae_core::CurvePoint]| c.iter().map(|p| (p.train_loss, p.val_mse)).collect::<Vec<_>>();
    assert_eq!(untimed(&curve), untimed(&whole.curve));
    assert!(dir.state(&nine).is_done(), "a continued run is stored whole");
    // The continued run's state continues in turn, and the 3-epoch run stays as it was.
    assert!(dir.continuation(&nine.id, &spec_with(10, "", sections), &data).is_ok());
    assert_eq!(dir.load_curve(&three.id).unwrap().len(), 3);
}

#[test]
fn a_run_that_cannot_be_continued_is_refused_naming_the_file() {
    let f = fixture();
    let (three, nine) = (spec(3, ""), spec(9, ""));
    let data = SharedData::load(&f.data).unwrap().for_run(&nine.config).unwrap();
    let dir = ResultsDir::new(&f.results, "continue");
    let refused = |from: &RunSpec, to: &RunSpec, file: &str| {
        let err = dir.continuation(&from.id, to, &data).unwrap_err().to_string();
        let path = dir.run_dir(&from.id).join(file);
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        err
    };
    assert!(refused(&three, &nine, "metrics.json").ends_with("missing: the run has not completed"));

    store(&dir, &three, &execute_from(&three, &data, None, true, |_| {}));
    let err = refused(&three, &spec(2, ""), "config.toml");
    assert!(err.ends_with("3 epochs, more than the 2 to continue to"), "{err}");
    let err = refused(&three, &spec(9, "seed = 7\n"), "config.toml");
    assert!(err.contains("configured otherwise than the run to continue"), "{err}");
    let state = dir.run_dir(&three.id).join(STATE_FILE);
    let bytes = std::fs::read(&state).unwrap();
    std::fs::write(&state, &bytes[..100]).unwrap();
    let err = refused(&three, &nine, STATE_FILE);
    assert!(err.contains("announced, the file holds 100"), "{err}");
    std::fs::remove_file(&state).unwrap();
    let err = refused(&three, &nine, STATE_FILE);
    assert!(err.ends_with("missing: the run was stored without its training state"), "{err}");

    // A grid sweep pays for no state file.
    let file = common::experiment("grid", "");
    common::sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let grid = ResultsDir::new(&f.results, "grid");
    let id = &file.experiment.expand()[0].id;
    assert!(grid.run_dir(id).join("model.safetensors").is_file() && !grid.run_dir(id).join(STATE_FILE).exists());
}
