//! The command line against a hostile user: bad flags and values, a closed
//! stderr, Ctrl-C, two sweeps at once on one results folder, stray and
//! missing results. Each case of docs/RELIABILITY.md that needs the real
//! binary is here.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{records, run, setup, small, table, xtask};

#[test]
fn jobs_zero_is_refused_and_too_many_jobs_are_capped_with_a_note() {
    let tmp = setup();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--jobs", "0"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--jobs") && err.contains("0 is not in 1.."), "{err}");
    for extra in [&[][..], &["--max-running", "0"], &["--cpus-per-task", "0"]] {
        let array = if extra.is_empty() { "0" } else { "2" };
        let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "small.toml", "--array", array]).args(extra));
        let flag = extra.first().unwrap_or(&"--array");
        assert_eq!(code, Some(2), "{flag}: {err}");
        assert!(err.contains(flag) && err.contains("0 is not in 1.."), "{err}");
    }
    let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "small.toml", "--array", "100"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--array 100 is more than the 4 runs") && err.contains("use --array 4 or fewer"), "{err}");
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--jobs", "100000", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("--jobs 100000 is more than the") && err.contains("using "), "{err}");
}

/// A halving search is shared rung by rung, never by a fixed shard: an
/// explicit `--shard` is refused with the way that works, and an array
/// wider than its first rung is refused naming that rung.
#[test]
fn cluster_options_on_a_halving_search_do_what_they_say_or_are_refused() {
    let search = common::small().set("search.strategy", r#""halving""#).set("training.epochs", "9").text();
    let tmp = setup();
    std::fs::write(tmp.path().join("h.toml"), search).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "h.toml", "--shard", "0/2"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--shard on a halving search") && err.contains("without --shard in each process"), "{err}");
    assert!(!tmp.path().join("results/h").exists(), "nothing trained");
    let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "h.toml", "--array", "5"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--array 5 is more than the 4 runs of the first rung (the widest) of the halving search"),
        "{err}"
    );
    let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "h.toml", "--array", "4"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("slurm: a halving search, 4 runs at the first of 3 rungs; 4 tasks share each rung's runs"),
        "{err}"
    );
}

#[test]
fn slurm_values_an_sbatch_header_cannot_carry_are_refused_and_the_submit_hint_is_the_whole_command() {
    let tmp = setup();
    let script = tmp.path().join("results/small/slurm/array.sbatch");
    for (flag, value) in [("--time", ""), ("--time", "1\n#SBATCH --wrap=evil"), ("--sbatch", "--account=x\ny")] {
        let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "small.toml", "--array", "2", flag, value]));
        assert_eq!(code, Some(2), "{flag} {value:?}: {err}");
        assert!(err.contains(flag), "{err}");
        assert!(!script.exists(), "no script written for {flag} {value:?}");
    }
    let (code, _, err) = run(xtask(tmp.path()).args(["slurm", "small.toml", "--array", "2", "--time", "1:00:00"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("submit with: cargo xtask slurm small.toml --array 2 --time 1:00:00 --submit"), "{err}");
}

#[test]
fn a_report_removes_what_an_interrupted_report_left_and_nothing_else() {
    let tmp = setup();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    let root = tmp.path().join("results/small");
    std::fs::create_dir_all(root.join("figures")).unwrap();
    // As a kill -9 leaves them: a figure and the report half-written, and a
    // sweep's table being written at this moment (not the report's to remove).
    for stale in ["figures/.tmp-digits.png-Ab12Cd", ".tmp-report.md-Xy34Zw", ".tmp-runs.csv-Qr56St"] {
        std::fs::write(root.join(stale), b"partial").unwrap();
    }
    let (code, _, err) = run(xtask(tmp.path()).args(["report", "small"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(root.join("report.md").is_file());
    assert!(!root.join("figures/.tmp-digits.png-Ab12Cd").exists() && !root.join(".tmp-report.md-Xy34Zw").exists());
    assert!(root.join(".tmp-runs.csv-Qr56St").exists());
}

#[test]
fn bench_values_out_of_range_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    for (flag, value) in [
        ("--hidden", "0"),
        ("--hidden", "20000"),
        ("--batch", "0"),
        ("--batch", "70000"),
        ("--threads", "100000"),
        ("--steps", "0"),
        ("--repeats", "0"),
        ("--steps", "100000000"),
        ("--repeats", "100000000"),
    ] {
        let (code, _, err) = run(xtask(tmp.path()).args(["bench", flag, value]));
        assert_eq!(code, Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag) && err.contains("is not in 1.."), "{err}");
    }
    let (code, _, err) = run(xtask(tmp.path()).args(["bench", "--warmup", "100000000"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--warmup") && err.contains("is not in 0..=1000000"), "{err}");
}

#[test]
fn bad_values_are_refused_at_parse_time_with_line_and_column() {
    let tmp = setup();
    for (text, expected) in [
        ("[model]\nhidden = 100000000\n", "expected a width from 1 to 16384"),
        ("[training]\nepochs = 100000000\n", "expected a count from 1 to 1000000"),
        ("[data]\ndataset = \"../x\"\n", "expected a plain folder name"),
        ("[corruption]\nkind = \"half\"\nfill = 2\n", "half fill must be in [-1, 1]"),
    ] {
        std::fs::write(tmp.path().join("bad.toml"), text).unwrap();
        let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "bad.toml"]));
        assert_eq!(code, Some(2), "{text}: {err}");
        assert!(err.contains("bad.toml") && err.contains("line ") && err.contains(expected), "{text}: {err}");
    }
    std::fs::write(tmp.path().join("bad.toml"), "[data]\ntrain = 100\n[training]\nbatch_size = 500\n").unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "bad.toml"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("training.batch_size = 500 is larger than data.train = 100"), "{err}");
}

#[test]
fn errors_name_what_the_user_typed() {
    let tmp = setup();
    std::fs::write(tmp.path().join("afile"), "x").unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--results", "afile"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("--results afile: not a folder"), "{err}");
    let (code, _, err) = run(xtask(tmp.path())
        .args(["sweep", "small.toml"])
        .env("SLURM_ARRAY_TASK_ID", "x")
        .env("SLURM_ARRAY_TASK_COUNT", "3"));
    assert_eq!(code, Some(2));
    assert!(err.contains("SLURM_ARRAY_TASK_ID=\"x\""), "{err}");
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]).env("SAE_DATA_DIR", ""));
    assert_eq!(code, Some(2));
    assert!(err.contains("SAE_DATA_DIR is set but empty"), "{err}");
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]).env("SAE_DATA_DIR", "nowhere"));
    assert_eq!(code, Some(2));
    assert!(err.contains("SAE_DATA_DIR nowhere holds no mnist dataset") && err.contains("does not exist"), "{err}");
    let (code, _, err) = run(xtask(tmp.path()).args(["fetch-data", "../x"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("expected a plain folder name"), "{err}");
    let (code, _, err) = run(xtask(tmp.path()).args(["merge", "small.toml"]));
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no run of small is stored here") && err.contains("fix: run `cargo xtask sweep FILE` first"),
        "{err}"
    );
    assert!(!tmp.path().join("results/small/runs.csv").exists());
}

#[test]
fn the_dry_run_honours_the_shard() {
    let tmp = setup();
    let (code, out, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--dry-run", "--shard", "1/2"]));
    assert_eq!(code, Some(0), "{err}");
    let indices: Vec<&str> = out.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    assert_eq!(indices, ["1", "3"], "{out}");
    assert!(out.lines().all(|l| l.contains("missing")), "{out}");
}

#[test]
fn a_closed_stderr_does_not_stop_the_sweep() {
    let tmp = setup();
    let mut child = xtask(tmp.path())
        .args(["sweep", "small.toml", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // every later write to stderr meets a broken pipe
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(table(&tmp.path().join("results/small/runs.csv")).len(), 4);
    assert!(tmp.path().join("results/small/report.md").is_file());
}

#[test]
fn a_closed_stdout_ends_a_dry_run_quietly() {
    let tmp = setup();
    let mut child = xtask(tmp.path())
        .args(["sweep", "small.toml", "--dry-run"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // as `| head -0` would
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn the_baseline_cache_is_keyed_by_the_data() {
    let tmp = setup();
    let noisy = small().set("corruption.kind", r#""gaussian""#).set("corruption.std", "0.5");
    std::fs::write(tmp.path().join("small.toml"), noisy.text()).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(0), "{err}");
    let baselines = tmp.path().join("results/small/baselines.csv");
    // Each row's key: the experiment's data and probe sections, as JSON.
    let keys = || -> Vec<String> { records(&baselines).into_iter().map(|row| row["key"].clone()).collect() };
    assert!(
        keys().iter().all(|k| k.contains(r#""train":300,"validation":60,"test":40,"split_seed":0"#)),
        "{:?}",
        keys()
    );
    // The same experiment on another split: the cached baselines no longer apply.
    std::fs::write(tmp.path().join("small.toml"), noisy.set("data.split_seed", "1").text()).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("scoring the baselines"), "{err}");
    assert!(keys().iter().all(|k| k.contains(r#""split_seed":1"#)), "{:?}", keys());
}

#[test]
fn sigint_sigterm_and_sighup_say_how_to_resume_exit_130_and_the_rerun_completes() {
    for signal in ["INT", "TERM", "HUP"] {
        interrupt_and_resume(signal);
    }
}

/// Sends `signal` to a sweep mid-run, then checks the message, the status
/// and that a rerun completes with nothing left behind.
fn interrupt_and_resume(signal: &str) {
    let tmp = setup();
    // Two runs of a second or more each, so the interrupt comes mid-run.
    let slow = small().set("training.epochs", "1000").set("sweep.rho", "[0.05, 0.1]");
    std::fs::write(tmp.path().join("slow.toml"), slow.text()).unwrap();
    let child = xtask(tmp.path())
        .args(["sweep", "slow.toml", "--jobs", "1", "--no-report"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the first run is under way (its lock is taken).
    let locks = tmp.path().join("results/slow/.locks");
    let start = Instant::now();
    while !locks.is_dir() {
        assert!(start.elapsed() < Duration::from_secs(60), "the sweep never started a run");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "SIG{signal}: {err}");
    assert!(err.contains("interrupted") && err.contains("run the same command again"), "{err}");
    assert!(err.contains("cargo xtask sweep slow.toml --jobs 1 --no-report"), "{err}");

    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "slow.toml", "--jobs", "2", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(table(&tmp.path().join("results/slow/runs.csv")).len(), 2);
    let leftovers: Vec<String> = std::fs::read_dir(tmp.path().join("results/slow/runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-") || n.starts_with(".old-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn two_sweeps_at_once_train_each_run_once() {
    let tmp = setup();
    let spawn = || {
        xtask(tmp.path())
            .args(["sweep", "small.toml", "--jobs", "1", "--no-report"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let logs = [a, b].map(|o| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stderr).into_owned()
    });
    let trained: usize = logs.iter().map(|l| l.lines().filter(|x| x.starts_with("done ")).count()).sum();
    assert_eq!(trained, 4, "each of the 4 runs trained by exactly one sweep:\n{}\n---\n{}", logs[0], logs[1]);
    assert_eq!(table(&tmp.path().join("results/small/runs.csv")).len(), 4);
}

#[test]
fn report_of_everything_passes_over_a_stray_experiment_folder() {
    let tmp = setup();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(0), "{err}");
    // What a sweep that failed before training leaves: its experiment copy alone.
    std::fs::create_dir_all(tmp.path().join("results/stray")).unwrap();
    std::fs::copy(tmp.path().join("results/small/experiment.toml"), tmp.path().join("results/stray/experiment.toml"))
        .unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["report"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("small/report.md") && !err.contains("stray"), "{err}");
}

#[cfg(unix)]
#[test]
fn tables_checkpoints_and_data_get_the_mode_of_ordinary_files() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = setup();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let ordinary = tmp.path().join("ordinary");
    std::fs::write(&ordinary, "x").unwrap();
    let results = tmp.path().join("results/small");
    let runs = std::fs::read_dir(results.join("runs")).unwrap().flatten();
    let one = runs.map(|e| e.path()).find(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.')).unwrap();
    for p in
        [results.join("runs.csv"), results.join("summary.csv"), one.join("model.safetensors"), one.join("metrics.json")]
    {
        assert_eq!(mode(&p), mode(&ordinary), "{}", p.display());
    }
}
