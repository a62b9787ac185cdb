//! A sweep as a real Slurm job array: the project's script starts a
//! single-node cluster on 127.0.0.1, `cargo xtask slurm --submit` sends an
//! array of three tasks and the merge job, and the merged runs.csv equals
//! the one a single-process sweep writes. Skipped, saying so, where Slurm
//! is not installed (`.ci/run` installs it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{folder, table, xtask, Synthetic};

const EXPERIMENT: &str = r#"
description = "slurm test"
[data]
train = 400
validation = 100
test = 50
[model]
hidden = 16
[training]
epochs = 2
lr = 0.003
[corruption]
kind = "gaussian"
std = 0.5
[sweep]
rho = [0.02, 0.05, 0.1]
beta = [0.5, 2]
"#;

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

const HALVING: &str = r#"
description = "slurm halving test"
[data]
train = 400
validation = 100
test = 50
[model]
hidden = 16
[training]
epochs = 4
lr = 0.003
[sweep]
rho = [0.02, 0.05, 0.1]
beta = [0.5, 1, 2]
[search]
strategy = "halving"
min_epochs = 1
eta = 3
"#;

/// Whether Slurm is here; says so and skips `test` where it is not.
fn slurm_here(test: &str) -> bool {
    let here = ["sbatch", "slurmctld", "slurmd", "munged"].iter().all(|c| installed(c));
    if !here {
        sae_data::skip_test(test, "Slurm is not installed (apt-get install slurm-wlm munge; .ci/run does)");
    }
    here
}

/// Submits `file` as an array of `tasks` with its merge job on `cluster`
/// and waits for both; returns the array tasks' logs counted.
fn submit_and_wait(root: &Path, cluster: &Cluster, file: &str, tasks: usize) -> usize {
    let out = xtask(root)
        .args(["slurm", file, "--array", &tasks.to_string(), "--submit", "--results", "shared", "--data-dir", "data"])
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let ids: Vec<String> = stdout.lines().filter_map(|l| l.split_whitespace().last()).map(String::from).collect();
    assert_eq!(ids.len(), 2, "{stdout}");
    let start = Instant::now();
    loop {
        let q = Command::new("squeue")
            .args(["-h", "-j", &ids.join(",")])
            .env("SLURM_CONF", &cluster.conf)
            .output()
            .unwrap();
        if String::from_utf8_lossy(&q.stdout).trim().is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "jobs still queued: {}",
            String::from_utf8_lossy(&q.stdout)
        );
        std::thread::sleep(Duration::from_millis(500));
    }
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

#[test]
fn a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table() {
    if !slurm_here("a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table") {
        return;
    }
    let tmp = folder(
        "data",
        Synthetic { train: 500, test: 50, seed: 3 },
        &[("grid.toml", EXPERIMENT), ("halving.toml", HALVING)],
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
