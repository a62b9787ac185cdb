//! A successive-halving search through the real binary: killed with
//! SIGKILL in the middle of its rungs, it resumes to the same tables as an
//! uninterrupted search, training no run twice; its dry-run shows each
//! run's rung and the trials it stopped.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{complete_runs, folder, output as run, table, tiny, xtask, Synthetic};

/// Nine trials of up to nine epochs, halved by three at rungs of 1, 3 and
/// 9 epochs.
fn search() -> String {
    tiny()
        .set("description", r#""halving kill test""#)
        .images(1500, 200, 100)
        .set("model.hidden", "32")
        .set("training.epochs", "9")
        .set("corruption.kind", r#""masking""#)
        .set("corruption.p", "0.3")
        .set("sweep.rho", "[0.02, 0.05, 0.2]")
        .set("sweep.lr", "[3e-4, 1e-3, 3e-3]")
        .set("search.strategy", r#""halving""#)
        .set("search.min_epochs", "1")
        .set("search.max_epochs", "9")
        .set("search.eta", "3")
        .text()
}

#[test]
fn a_halving_search_killed_with_sigkill_resumes_training_nothing_twice() {
    let tmp = folder("data/mnist", Synthetic { train: 1700, test: 100, seed: 3 }, &[("h.toml", &search())]);
    let root = tmp.path();
    let sweep = |results: &str| {
        let mut c = xtask(root);
        c.args(["sweep", "h.toml", "--jobs", "2", "--no-report", "--results", results]);
        c
    };
    let whole = run(&mut sweep("whole"));
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));
    // 9 trials at 1 epoch, 3 at 3, 1 at 9.
    let (a, runs) = (table(&root.join("whole/h/runs.csv")), root.join("killed/h/runs"));
    assert_eq!(a.len(), 13);

    let mut child = sweep("killed").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while complete_runs(&runs) < 10 {
        assert!(start.elapsed() < Duration::from_secs(120), "the first rung did not complete");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL, past the first rung
    child.wait().unwrap();
    let done_at_kill = complete_runs(&runs);
    assert!(done_at_kill < 13, "the kill came before the end ({done_at_kill} of 13 complete)");

    let resumed = run(&mut sweep("killed"));
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{log}");
    let trained_again = log.lines().filter(|l| l.starts_with("done ")).count();
    assert_eq!(trained_again, 13 - done_at_kill, "only the runs not stored at the kill train: {log}");
    assert_eq!(a, table(&root.join("killed/h/runs.csv")), "the same promotions, the same results");

    let listing = run(xtask(root).args(["sweep", "h.toml", "--dry-run", "--results", "killed"]));
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert_eq!(listing.lines().filter(|l| l.contains(" stopped ")).count(), 6 + 8, "{listing}");
    assert_eq!(listing.lines().filter(|l| l.starts_with("rung 2") && l.contains(" ok ")).count(), 1, "{listing}");
}

/// A folder with a synthetic MNIST and [`search`] as an asynchronous
/// search, `a.toml`.
fn asha_folder() -> tempfile::TempDir {
    let text = search().replace(r#"strategy = "halving""#, r#"strategy = "asha""#);
    folder("data/mnist", Synthetic { train: 1700, test: 100, seed: 3 }, &[("a.toml", &text)])
}

/// What a finished search must not leave in its `runs` folder: temporary
/// folders and training states.
fn leftovers(runs: &std::path::Path) -> Vec<std::path::PathBuf> {
    let entries = std::fs::read_dir(runs).unwrap().flatten();
    let left = entries
        .filter(|e| e.file_name().to_string_lossy().starts_with('.') || e.path().join("state.safetensors").exists());
    left.map(|e| e.path()).collect()
}

/// An asynchronous search killed with SIGKILL once some runs are stored
/// resumes to a finished search: every run stored at the kill is kept and
/// none trains twice, every trial on the last rung continued its runs, no
/// state or temporary file is left, and a rerun trains nothing.
#[test]
fn an_asynchronous_search_killed_with_sigkill_resumes_training_nothing_twice() {
    let tmp = asha_folder();
    let root = tmp.path();
    let sweep = || {
        let mut c = xtask(root);
        c.args(["sweep", "a.toml", "--jobs", "2", "--no-report"]);
        c
    };
    let runs = root.join("results/a/runs");
    let mut child = sweep().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while complete_runs(&runs) < 5 {
        assert!(start.elapsed() < Duration::from_secs(120), "no run completed");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done_at_kill = complete_runs(&runs);

    let resumed = run(&mut sweep());
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{log}");
    let trained_again = log.lines().filter(|l| l.starts_with("done ")).count();
    assert!(trained_again > 0, "the kill came before the end");
    assert_eq!(trained_again, complete_runs(&runs) - done_at_kill, "only the runs not stored at the kill: {log}");
    for run in std::fs::read_dir(&runs).unwrap().flatten() {
        let later_rung = ["-e3-", "-e9-"].iter().any(|e| run.file_name().to_string_lossy().contains(e));
        let record = std::fs::read_to_string(run.path().join("metrics.json")).unwrap_or_default();
        assert!(!later_rung || record.contains("\"continued_from\""), "{:?} trained anew", run.file_name());
    }
    assert!(leftovers(&runs).is_empty(), "{:?}", leftovers(&runs));
    let again = run(&mut sweep());
    assert_eq!(String::from_utf8_lossy(&again.stderr).lines().filter(|l| l.starts_with("done ")).count(), 0);
}

/// Two processes on one asynchronous search: each decides from what the
/// other stored too, and neither ends while the other trains, so the
/// search ends finished (no run missing from a fresh look), `runs.csv`
/// holds every stored run, and no training state is left.
#[test]
fn two_processes_finish_one_asynchronous_search_together() {
    let tmp = asha_folder();
    let root = tmp.path();
    let spawn = || {
        let mut c = xtask(root);
        c.args(["sweep", "a.toml", "--jobs", "1", "--no-report"]).stdout(Stdio::null()).stderr(Stdio::piped());
        c.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let listing = run(xtask(root).args(["sweep", "a.toml", "--dry-run"]));
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(!listing.contains(" missing "), "{listing}");
    let runs = root.join("results/a/runs");
    assert_eq!(table(&root.join("results/a/runs.csv")).len(), complete_runs(&runs), "{listing}");
    assert!(leftovers(&runs).is_empty(), "{:?}", leftovers(&runs));
}

/// Three trials of two seeds each, halved at 1 and 3 epochs by active
/// units with MSE as the Pareto objective, at learning rates `lr`.
fn replicated_search(lr: &str) -> String {
    tiny()
        .set("training.epochs", "3")
        .set("sweep.lr", lr)
        .set("sweep.seeds", "[0, 1]")
        .set("search.strategy", r#""halving""#)
        .set("search.min_epochs", "1")
        .set("search.eta", "3")
        .set("search.metric", r#""active_per_image""#)
        .set("search.pareto", r#""mse""#)
        .text()
}

#[test]
fn a_finished_search_reports_as_finished_with_its_seeds_objectives_and_trials() {
    let files =
        [("r.toml", replicated_search("[1e-3, 3e-3, 1e-2]")), ("f.toml", replicated_search("[1e30, 3e30, 1e31]"))];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let tmp = folder("data/mnist", Synthetic { train: 400, test: 60, seed: 6 }, &files);
    let root = tmp.path();
    let swept = run(xtask(root).args(["sweep", "r.toml", "--jobs", "2"]));
    assert!(swept.status.success(), "{}", String::from_utf8_lossy(&swept.stderr));
    let report = std::fs::read_to_string(root.join("results/r/report.md")).unwrap();
    assert!(!report.contains("Partial results"), "the stopped runs are not missing: {report}");
    assert!(report.contains("the full grid of its 3 trials (6 runs with their replicates) to 3 epochs"), "{report}");
    let header = "best validation active units per image first, promoted by the Pareto front of validation active \
                  units per image and validation MSE";
    assert!(report.contains(header), "{report}");
    let table = "| configuration | seed | validation active units per image | validation MSE | test MSE | test PSNR \
                 (dB) | probe accuracy |\n|---|---:|---:|---:|---:|---:|---:|\n";
    assert!(report.contains(table), "{report}");
    let merged = run(xtask(root).args(["merge", "r.toml"]));
    assert!(!String::from_utf8_lossy(&merged.stderr).contains("missing"), "{merged:?}");

    // Every run diverges: nothing is promoted, and the budget says so.
    let failed = run(xtask(root).args(["sweep", "f.toml", "--jobs", "2"]));
    assert!(!failed.status.success());
    let report = std::fs::read_to_string(root.join("results/f/report.md")).unwrap();
    assert!(report.contains("every run of the search failed, so no trial was promoted"), "{report}");
    assert!(!report.contains("× as many"), "{report}");
}
