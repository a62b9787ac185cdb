//! A halving search's tables hold its own runs: a stored run of a trial
//! the search stopped (left by a former search of the same file) stays on
//! disk, out of `runs.csv`, and `merge` counts no stopped run as missing;
//! an objective on which every trial ties is warned of; a finished search
//! leaves no training state behind, a former search's included.

mod common;

use common::{experiment, fixture, parse, sweep, Table, HALVING};
use sae_sweep::{execute, execute_from, merge, stopped_runs, ResultsDir, RunState, SharedData, Snapshot, STATE_FILE};

#[test]
fn a_stopped_trials_stored_run_stays_out_of_the_tables() {
    let f = fixture();
    let file = experiment("halving", HALVING);
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let dir = ResultsDir::new(&f.results, "halving");
    let grid = file.experiment.expand();
    let runs_csv = || Table::read(&f.results.join("halving/runs.csv"));
    assert_eq!(runs_csv().rows.len(), 4, "three trials at one epoch, one at three");

    // A former search's run: a stopped trial's last rung, stored.
    let halving = file.experiment.search.halving(file.experiment.training.epochs.0).unwrap();
    let stopped = stopped_runs(&Snapshot::new(dir.clone(), &grid), &grid, &halving);
    assert_eq!(stopped.len(), 2);
    let former = grid.iter().find(|s| s.id == stopped[0]).unwrap();
    let data = SharedData::load(&f.data).unwrap().for_run(&former.config).unwrap();
    dir.write_run(former, &execute(former, &data, |_| {}).output()).unwrap();
    assert!(dir.state(former).is_done());

    let summary = sweep(&file, &f.data, &f.results, 1, None).unwrap();
    assert_eq!((summary.done, summary.rows), (0, 4), "nothing trained, the search's own four rows");
    let ids: Vec<String> = runs_csv().rows.iter().map(|r| r[0].to_string()).collect();
    assert!(!ids.contains(&former.id), "{ids:?}");
    assert!(matches!(dir.state(former), RunState::Stored(_)), "kept on disk for reuse");

    let merged = merge(&file, &f.results).unwrap();
    assert_eq!((merged.rows, merged.missing.len()), (4, 0), "a stopped run is not missing");
    assert!(!runs_csv().rows.iter().any(|r| r[0] == *former.id));
}

#[test]
fn an_objective_every_trial_ties_on_is_warned_of() {
    let warnings = |extra: &str| parse(&format!("{HALVING}{extra}")).unwrap().warnings();
    let pareto = warnings("pareto = \"l0\"\n");
    assert_eq!(pareto.len(), 1, "{pareto:?}");
    assert!(pareto[0].contains("search.pareto = \"l0\"") && pareto[0].contains("always its width (256)"), "{pareto:?}");
    assert!(pareto[0].ends_with("promotion is by `metric` alone"), "{pareto:?}");
    let metric = warnings("metric = \"l0\"\n");
    assert!(metric[0].ends_with("the trials listed first are promoted"), "{metric:?}");
    // L0 tells trials apart on a ReLU code, on a TopK code's k, or across widths.
    assert!(warnings("metric = \"l0\"\n[sparsity]\nkind = \"l1\"\nweight = 1e-3\nactivation = \"relu\"\n").is_empty());
    assert!(warnings("metric = \"l0\"\n[sparsity]\nkind = \"topk\"\nk = 8\n").is_empty());
    let widths = "[sweep]\nhidden = [16, 32]\n[search]\nstrategy = \"halving\"\npareto = \"l0\"\n";
    assert!(parse(widths).unwrap().warnings().is_empty());
    assert!(warnings("").is_empty());
}

/// A state left by a former search of the file (another η, another
/// `max_epochs`: a run this search never continues) is removed when the
/// search finishes, with those of its own rungs.
#[test]
fn a_finished_search_leaves_no_state_a_former_search_included() {
    let f = fixture();
    let file = experiment("halving", HALVING);
    let dir = ResultsDir::new(&f.results, "halving");
    let former = experiment("former", &HALVING.replace("max_epochs = 3\neta = 3", "max_epochs = 4\neta = 2"));
    let spec = former.experiment.expand().into_iter().find(|s| s.rung == Some(1)).unwrap();
    assert!(file.experiment.expand().iter().all(|s| s.id != spec.id), "not a run of this search");
    let data = SharedData::load(&f.data).unwrap().for_run(&spec.config).unwrap();
    dir.write_run(&spec, &execute_from(&spec, &data, None, true, |_| {}).output()).unwrap();
    assert!(dir.run_dir(&spec.id).join(STATE_FILE).is_file());

    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let states: Vec<_> = std::fs::read_dir(dir.runs())
        .unwrap()
        .flatten()
        .filter(|e| e.path().join(STATE_FILE).exists())
        .map(|e| e.file_name())
        .collect();
    assert!(states.is_empty(), "{states:?}");
    assert!(dir.run_dir(&spec.id).join("model.safetensors").is_file(), "the run itself stays");
}

/// An asynchronous search on two workers trains every first-rung trial,
/// continues each promoted one (at least the best third) to the last rung,
/// stores nothing twice when rerun, and its tables hold what it trained.
#[test]
fn an_asynchronous_search_continues_its_promoted_trials_and_resumes_to_nothing() {
    let f = fixture();
    let text =
        HALVING.replace("[0.003, 0.01, 0.03]", "[0.0003, 0.001, 0.003, 0.01, 0.03, 0.1]").replace("halving", "asha");
    let file = experiment("asha", &text);
    let summary = sweep(&file, &f.data, &f.results, 2, None).unwrap();
    let dir = ResultsDir::new(&f.results, "asha");
    let grid = file.experiment.expand();
    let last: Vec<_> = grid.iter().filter(|s| s.rung == Some(1) && dir.state(s).is_done()).collect();
    assert!(last.len() >= 2, "at least ⌊6/3⌋ trials reach the last rung: {}", last.len());
    for spec in &last {
        let record = dir.record(&spec.id).unwrap().unwrap();
        assert_eq!(record.continued_from.as_ref(), spec.continues.as_ref(), "continued, not trained again");
    }
    assert_eq!((summary.done, summary.failed, summary.rows), (6 + last.len(), 0, 6 + last.len()));
    let halving = file.experiment.search.halving(3).unwrap();
    let stopped = stopped_runs(&Snapshot::new(dir.clone(), &grid), &grid, &halving);
    assert_eq!(stopped.len(), 6 - last.len(), "the others are stopped");
    let again = sweep(&file, &f.data, &f.results, 2, None).unwrap();
    assert_eq!((again.done, again.skipped, again.rows), (0, 6 + last.len(), 6 + last.len()));
}
