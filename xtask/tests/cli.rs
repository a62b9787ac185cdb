//! The command line as a user meets it: a sweep killed with SIGKILL and
//! rerun gives the same table as an uninterrupted one, and bad input gets
//! a clear message and a non-zero exit.

mod common;

use std::process::Stdio;

use common::{complete_runs, folder, output as run, table, tiny, xtask, Synthetic};
use std::time::{Duration, Instant};

/// Eight runs of four epochs over masked inputs: long enough to be killed
/// in the middle.
fn experiment() -> String {
    tiny()
        .set("description", r#""kill test""#)
        .images(1500, 200, 100)
        .set("model.hidden", "48")
        .set("training.epochs", "4")
        .set("training.lr", "0.003")
        .set("corruption.kind", r#""masking""#)
        .set("corruption.p", "0.3")
        .set("sweep.rho", "[0.02, 0.05, 0.1, 0.2]")
        .set("sweep.beta", "[0.5, 2]")
        .text()
}

#[test]
fn a_sweep_killed_with_sigkill_resumes_to_the_same_table() {
    let tmp = folder("data/mnist", Synthetic { train: 1700, test: 100, seed: 2 }, &[("kill.toml", &experiment())]);
    let root = tmp.path();
    let sweep = |results: &str| {
        let mut c = xtask(root);
        c.args(["sweep", "kill.toml", "--jobs", "2", "--results", results]);
        c
    };

    let whole = run(&mut sweep("whole"));
    assert!(whole.status.success(), "{}", String::from_utf8_lossy(&whole.stderr));

    let runs = root.join("killed/kill/runs");
    let mut child = sweep("killed").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let start = Instant::now();
    while complete_runs(&runs) == 0 {
        assert!(start.elapsed() < Duration::from_secs(120), "no run completed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let done_at_kill = complete_runs(&runs);
    assert!(done_at_kill < 8, "the kill came before the end ({done_at_kill} of 8 complete)");

    let resumed = run(&mut sweep("killed"));
    let log = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success(), "{log}");
    assert!(log.contains(&format!("{done_at_kill} already complete")), "{log}");
    let (a, b) = (table(&root.join("whole/kill/runs.csv")), table(&root.join("killed/kill/runs.csv")));
    assert_eq!(a.len(), 8);
    assert_eq!(a, b);
}

#[test]
fn a_bad_experiment_file_exits_2_naming_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.toml"), "[sparsity]\nrho = 2\n").unwrap();
    let out = run(xtask(tmp.path()).args(["sweep", "bad.toml"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml") && err.contains("line 2") && err.contains("expected ρ in (0, 1)"), "{err}");
}

#[test]
fn missing_data_with_no_mirror_reachable_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("e.toml"), "description = \"x\"\n").unwrap();
    // Port 9 on loopback refuses connections: the download fails at once, offline.
    let out = run(xtask(tmp.path()).args(["sweep", "e.toml"]).env("SAE_DATA_MIRROR", "http://127.0.0.1:9/"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("downloading mnist into"), "{err}");
    assert!(
        err.contains("cargo xtask fetch-data mnist") && err.contains("SAE_DATA_DIR") && err.contains("--data-dir"),
        "{err}"
    );
    assert!(!tmp.path().join("data/mnist/train-images-idx3-ubyte.gz").exists(), "nothing half-written");
}

#[test]
fn a_listing_that_cannot_be_written_is_an_error_and_a_closed_pipe_is_not() {
    let tmp = folder("data", Synthetic { train: 10, test: 10, seed: 1 }, &[("e.toml", &experiment())]);
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let out = run(xtask(tmp.path()).args(["sweep", "e.toml", "--dry-run"]).stdout(full));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("writing the listing to stdout"), "{err}");
    // A reader that stops after one line closes the pipe: not an error.
    let mut child = xtask(tmp.path()).args(["sweep", "e.toml", "--dry-run"]).stdout(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn bench_refuses_a_named_data_folder_without_mnist_instead_of_using_synthetic_images() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(xtask(tmp.path()).args(["bench", "--data-dir", "missing", "--steps", "1"]));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--data-dir missing holds no mnist dataset") && !err.contains("synthetic"), "{err}");
}
