//! A sweep as a real Slurm job array: the project's script starts a
//! single-node cluster on 127.0.0.1, `cargo xtask slurm --submit` sends an
//! array of three tasks and the merge job, and the merged runs.csv equals
//! the one a single-process sweep writes. Skipped, saying so, where Slurm
//! is not installed (`.ci/run` installs it). A second test lets a task hit
//! its one-minute time limit and resubmits it to completion (about 40 s:
//! Slurm counts limits in minutes, and signals the task 0 to 30 s in).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use common::{folder, table, tiny, xtask, Synthetic, Tiny};

/// The experiment of the Slurm tests: a small split, 16 hidden units, lr
/// 0.003.
fn slurm_test() -> Tiny {
    tiny().images(400, 100, 50).set("model.hidden", "16").set("training.lr", "0.003")
}

/// Six runs of two epochs over noisy inputs.
fn grid() -> String {
    slurm_test()
        .set("description", r#""slurm test""#)
        .set("training.epochs", "2")
        .set("corruption.kind", r#""gaussian""#)
        .set("corruption.std", "0.5")
        .set("sweep.rho", "[0.02, 0.05, 0.1]")
        .set("sweep.beta", "[0.5, 2]")
        .text()
}

/// The cluster, stopped (every daemon, by pid) when dropped.
struct Cluster {
    dir: PathBuf,
    conf: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/slurm-cluster.sh")
}

impl Cluster {
    fn start(dir: PathBuf) -> Cluster {
        let out = Command::new("bash").arg(script()).arg("start").env("SLURM_LOCAL_DIR", &dir).output().unwrap();
        let mut cluster = Cluster { dir, conf: String::new() };
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "cluster start failed: {}{}", stdout, String::from_utf8_lossy(&out.stderr));
        cluster.conf = stdout.trim().strip_prefix("export SLURM_CONF=").expect("start prints SLURM_CONF").to_string();
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(script()).arg("stop").env("SLURM_LOCAL_DIR", &self.dir).status();
    }
}

fn installed(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

/// Nine trials halved by three at rungs of 1, 3 and 4 epochs.
fn halving() -> String {
    slurm_test()
        .set("description", r#""slurm halving test""#)
        .set("training.epochs", "4")
        .set("sweep.rho", "[0.02, 0.05, 0.1]")
        .set("sweep.beta", "[0.5, 1, 2]")
        .set("search.strategy", r#""halving""#)
        .set("search.min_epochs", "1")
        .set("search.eta", "3")
        .text()
}

/// Whether Slurm is here; says so and skips `test` where it is not.
fn slurm_here(test: &str) -> bool {
    let here = ["sbatch", "slurmctld", "slurmd", "munged"].iter().all(|c| installed(c));
    if !here {
        sae_data::skip_test(test, "Slurm is not installed (apt-get install slurm-wlm munge; .ci/run does)");
    }
    here
}

/// Submits `file` as an array of `tasks` with its merge job on `cluster`,
/// with `extra` arguments of `cargo xtask slurm`; returns the two job ids.
fn submit(root: &Path, cluster: &Cluster, file: &str, tasks: usize, extra: &[&str]) -> Vec<String> {
    let out = xtask(root)
        .args(["slurm", file, "--array", &tasks.to_string(), "--submit", "--results", "shared", "--data-dir", "data"])
        .args(extra)
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<String> = stdout.lines().filter_map(|l| l.split_whitespace().last()).map(String::from).collect();
    assert_eq!(ids.len(), 2, "{stdout}");
    ids
}

/// Waits until the jobs `ids` have left the queue.
fn wait(cluster: &Cluster, ids: &[String]) {
    let start = Instant::now();
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-j", &ids.join(",")])
            .env("SLURM_CONF", &cluster.conf)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "jobs still queued: {}",
            String::from_utf8_lossy(&q.stdout)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Submits `file` as an array of `tasks` with its merge job on `cluster`
/// and waits for both; returns the array tasks' logs counted.
fn submit_and_wait(root: &Path, cluster: &Cluster, file: &str, tasks: usize) -> usize {
    wait(cluster, &submit(root, cluster, file, tasks, &[]));
    let name = file.trim_end_matches(".toml");
    let logs = root.join(format!("shared/{name}/slurm"));
    std::fs::read_dir(&logs)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("task-"))
        .count()
}

/// The runs.csv of `file` swept in one process.
fn single_process(root: &Path, file: &str) -> Vec<common::Record> {
    let single =
        xtask(root).args(["sweep", file, "--results", "single", "--data-dir", "data", "--no-report"]).output().unwrap();
    assert!(single.status.success(), "{}", String::from_utf8_lossy(&single.stderr));
    table(&root.join(format!("single/{}/runs.csv", file.trim_end_matches(".toml"))))
}

/// One cluster at a time: the tests of this file share its ports.
static CLUSTER: Mutex<()> = Mutex::new(());

/// The cluster's turn, for one test.
fn cluster_turn() -> MutexGuard<'static, ()> {
    CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table() {
    if !slurm_here("a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table") {
        return;
    }
    let _turn = cluster_turn();
    let tmp = folder(
        "data",
        Synthetic { train: 500, test: 50, seed: 3 },
        &[("grid.toml", &grid()), ("halving.toml", &halving())],
    );
    let root = tmp.path();
    let cluster = Cluster::start(root.join("slurm"));
    assert_eq!(submit_and_wait(root, &cluster, "grid.toml", 3), 3, "one log per array task");
    assert!(root.join("shared/grid/report.md").is_file(), "the merge job wrote the report");
    let merged = table(&root.join("shared/grid/runs.csv"));
    assert_eq!(merged.len(), 6);
    assert_eq!(merged, single_process(root, "grid.toml"));

    // A halving search: every task takes the free runs of each rung under
    // the run locks; together they make the single process's choices.
    assert_eq!(submit_and_wait(root, &cluster, "halving.toml", 3), 3);
    let merged = table(&root.join("shared/halving/runs.csv"));
    assert_eq!(merged.len(), 9 + 3 + 1, "rungs of 1, 3 and 4 epochs");
    assert_eq!(merged, single_process(root, "halving.toml"));
}

/// Twelve runs of a fraction of a second each. Slurm checks time limits
/// every 30 s and sends the script's early SIGTERM (`--signal=B:TERM@60`,
/// a minute before a one-minute limit, so due at once) at its first check,
/// 0 to 30 s into the task.
fn timed() -> String {
    tiny()
        .set("description", r#""slurm time limit test""#)
        .images(1000, 100, 100)
        .set("model.hidden", "64")
        .set("training.epochs", "3")
        .set("training.lr", "0.003")
        .set("sweep.seeds", "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]")
        .text()
}

/// Every file under `dir` whose name starts with `.tmp-`: what an
/// interrupted write leaves.
fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with(".tmp-") {
            found.push(path.clone());
        }
        if path.is_dir() {
            found.extend(temporaries(&path));
        }
    }
    found
}

/// The complete runs of `runs` and their records, byte for byte.
fn stored(runs: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found: Vec<(String, Vec<u8>)> = std::fs::read_dir(runs)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().into_string().ok()?, std::fs::read(e.path().join("metrics.json")).ok()?)))
        .collect();
    found.sort();
    found
}

#[test]
fn a_task_that_hits_its_time_limit_stops_cleanly_and_a_resubmission_completes_it() {
    if !slurm_here("a_task_that_hits_its_time_limit_stops_cleanly_and_a_resubmission_completes_it") {
        return;
    }
    let _turn = cluster_turn();
    let tmp = folder("data", Synthetic { train: 1200, test: 100, seed: 5 }, &[("timed.toml", &timed())]);
    let root = tmp.path();
    let cluster = Cluster::start(root.join("slurm"));
    // The table of one uninterrupted process, swept meanwhile on the other core.
    let single = xtask(root)
        .args(["sweep", "timed.toml", "--results", "single", "--data-dir", "data", "--no-report", "--jobs", "1"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (shared, runs) = (root.join("shared/timed"), root.join("shared/timed/runs"));
    // The last run's lock, held here as another sweep training it would:
    // the task trains the other runs, then waits for it, so it cannot end
    // before its time limit however fast the machine (and the test stays
    // short however slow).
    let grid = sae_sweep::ExperimentFile::load(&root.join("timed.toml")).unwrap().experiment.expand();
    let held = sae_sweep::ResultsDir::new(&root.join("shared"), "timed").lock_run(&grid[11].id, false).unwrap();
    assert!(held.is_some());
    // A one-minute task is stopped 0 to 30 s after it starts, where Slurm's
    // check falls; until a task has stored a run, another is sent.
    let mut kept = Vec::new();
    for _ in 0..3 {
        let (ids, sent) = (submit(root, &cluster, "timed.toml", 1, &["--time", "1"]), Instant::now());
        wait(&cluster, &ids[..1]);
        // Stopped by the script's early SIGTERM, not at the limit (60 to 90 s).
        assert!(sent.elapsed() < Duration::from_secs(50), "the task ran {:?}", sent.elapsed());
        wait(&cluster, &ids);
        let log = std::fs::read_to_string(shared.join(format!("slurm/task-{}_0.out", ids[0]))).unwrap();
        assert!(log.contains("interrupted: the runs stored so far are kept"), "{log}");
        assert!(!log.contains("sweep: 12 runs:"), "the task ended before its time limit:\n{log}");
        assert_eq!(temporaries(&shared), Vec::<PathBuf>::new(), "a stopped task leaves no temporary file");
        let now = stored(&runs);
        assert!(kept.iter().all(|k| now.contains(k)), "the runs stored before are kept as they were");
        kept = now;
        if !kept.is_empty() {
            break;
        }
    }
    assert!(!kept.is_empty() && kept.len() < 12, "{} of 12 runs stored by the stopped tasks", kept.len());
    drop(held);
    // Resubmitted with time enough, it trains only what is missing.
    wait(&cluster, &submit(root, &cluster, "timed.toml", 1, &["--time", "10"]));
    let done = stored(&runs);
    assert_eq!(done.len(), 12);
    assert!(kept.iter().all(|k| done.contains(k)), "no stored run was trained again");
    assert_eq!(temporaries(&shared), Vec::<PathBuf>::new());
    assert!(shared.join("report.md").is_file(), "the merge job wrote the report");
    let out = single.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(table(&shared.join("runs.csv")), table(&root.join("single/timed/runs.csv")));
}
