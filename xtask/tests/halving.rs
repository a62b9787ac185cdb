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
