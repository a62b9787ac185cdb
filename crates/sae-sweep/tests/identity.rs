//! Every checkpoint and training state names the run that wrote it: a file
//! copied into another run's folder (from another seed, another
//! corruption, another rung) is refused naming both runs, and the run it
//! landed in is retrained; an untouched continuation still matches the
//! search trained at once.

mod common;

use std::path::Path;

use common::{experiment, fixture, sweep, BASE, HALVING};
use sae_core::RunIdentity;
use sae_sweep::{execute_from, Experiment, ResultsDir, RunSpec, RunState, SharedData, STATE_FILE};

/// The fixture's KL run with `epochs` epochs, `seed`, denoising Gaussian
/// noise of `std`.
fn spec(epochs: usize, seed: u64, std: f64) -> RunSpec {
    let text = format!(
        "{}seed = {seed}\n[corruption]\nkind = \"gaussian\"\nstd = {std}\n",
        BASE.replace("epochs = 2", &format!("epochs = {epochs}"))
    );
    Experiment::from_toml(&text, Path::new("identity.toml")).unwrap().expand().remove(0)
}

#[test]
fn a_state_from_another_seed_corruption_or_rung_is_refused_naming_both_runs() {
    let f = fixture();
    let (own, seed, noise, later) = (spec(3, 0, 0.5), spec(3, 1, 0.5), spec(3, 0, 0.3), spec(6, 0, 0.5));
    let target = spec(9, 0, 0.5);
    let shared = SharedData::load(&f.data).unwrap();
    let dir = ResultsDir::new(&f.results, "identity");
    for run in [&own, &seed, &noise, &later] {
        let data = shared.for_run(&run.config).unwrap();
        dir.write_run(run, &execute_from(run, &data, None, true, |_| {}).output()).unwrap();
    }
    let state = |run: &RunSpec| dir.run_dir(&run.id).join(STATE_FILE);
    let written = RunIdentity::read(&state(&own)).unwrap();
    assert_eq!(written, Some(own.identity()), "the state names its run");
    let data = shared.for_run(&target.config).unwrap();
    let saved = std::fs::read(state(&own)).unwrap();
    for other in [&seed, &noise, &later] {
        std::fs::copy(state(other), state(&own)).unwrap();
        let err = dir.continuation(&own.id, &target, &data).unwrap_err().to_string();
        let both = format!("written by run {}, not by run {}", other.id, own.id);
        assert!(err.starts_with(&state(&own).display().to_string()) && err.contains(&both), "{err}");
    }
    // A state that names no run (its metadata stripped) is not trusted either.
    let part = execute_from(&own, &shared.for_run(&own.config).unwrap(), None, true, |_| {});
    std::fs::write(state(&own), part.state.unwrap().to_safetensors().unwrap()).unwrap();
    let err = dir.continuation(&own.id, &target, &data).unwrap_err().to_string();
    assert!(err.contains("its metadata names no run"), "{err}");
    std::fs::write(state(&own), saved).unwrap();
    assert!(dir.continuation(&own.id, &target, &data).is_ok(), "its own state continues");
}

#[test]
fn a_copied_state_is_retrained_from_the_first_epoch_and_a_copied_checkpoint_redone() {
    let f = fixture();
    let file = experiment("halving", HALVING);
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let dir = ResultsDir::new(&f.results, "halving");
    let grid = file.experiment.expand();
    let last = grid.iter().find(|s| s.rung == Some(1) && matches!(dir.state(s), RunState::Stored(_))).unwrap();
    let winner = grid.iter().find(|s| Some(&s.id) == last.continues.as_ref()).unwrap();
    let loser = grid.iter().find(|s| s.rung == Some(0) && s.id != winner.id).unwrap();
    let before = dir.record(&last.id).unwrap().unwrap();
    assert_eq!(before.continued_from.as_ref(), Some(&winner.id));
    // Both rung-0 runs stored again with their states (the search removed them).
    let shared = SharedData::load(&f.data).unwrap();
    for run in [winner, loser] {
        let data = shared.for_run(&run.config).unwrap();
        dir.write_run(run, &execute_from(run, &data, None, true, |_| {}).output()).unwrap();
    }
    let state = |run: &RunSpec| dir.run_dir(&run.id).join(STATE_FILE);
    let own = std::fs::read(state(winner)).unwrap();

    // The loser's state in the winner's folder: the last rung trains from its first epoch.
    std::fs::copy(state(loser), state(winner)).unwrap();
    std::fs::remove_dir_all(dir.run_dir(&last.id)).unwrap();
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let redone = dir.record(&last.id).unwrap().unwrap();
    assert_eq!(redone.continued_from, None, "not continued from another run's state");
    assert_eq!(redone.epochs_done, 3);

    // Its own state: continued, to the same model as the search trained at once.
    std::fs::write(state(winner), own).unwrap();
    std::fs::remove_dir_all(dir.run_dir(&last.id)).unwrap();
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let resumed = dir.record(&last.id).unwrap().unwrap();
    assert_eq!(resumed.continued_from.as_ref(), Some(&winner.id));
    assert_eq!((resumed.test, resumed.probe_accuracy), (before.test, before.probe_accuracy));

    // Another run's checkpoint in a run's folder: damaged, naming both, and retrained.
    let model = |run: &RunSpec| dir.run_dir(&run.id).join("model.safetensors");
    assert_eq!(RunIdentity::read(&model(last)).unwrap(), Some(last.identity()));
    std::fs::copy(model(loser), model(winner)).unwrap();
    let RunState::Damaged(why) = dir.state(winner) else { panic!("a copied checkpoint is damage") };
    assert!(why.contains(&format!("written by run {}, not by run {}", loser.id, winner.id)), "{why}");
    assert!(dir.load_model(winner).is_err(), "nor drawn from");
    let summary = sweep(&file, &f.data, &f.results, 1, None).unwrap();
    assert_eq!(summary.done, 1, "the damaged run is retrained");
    assert_eq!(RunIdentity::read(&model(winner)).unwrap(), Some(winner.identity()));
}
