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

#[test]
fn a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table() {
    if !["sbatch", "slurmctld", "slurmd", "munged"].iter().all(|c| installed(c)) {
        sae_data::skip_test(
            "a_sweep_runs_as_a_slurm_array_and_merges_to_the_single_process_table",
            "Slurm is not installed (apt-get install slurm-wlm munge; .ci/run does)",
        );
        return;
    }
    let tmp = folder("data", Synthetic { train: 500, test: 50, seed: 3 }, &[("grid.toml", EXPERIMENT)]);
    let root = tmp.path();
    let cluster = Cluster::start(root.join("slurm"));

    let out = xtask(root)
        .args(["slurm", "grid.toml", "--array", "3", "--submit", "--results", "shared", "--data-dir", "data"])
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
    let logs = root.join("shared/grid/slurm");
    let tasks = std::fs::read_dir(&logs)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("task-"))
        .count();
    assert_eq!(tasks, 3, "one log per array task in {}", logs.display());
    assert!(root.join("shared/grid/report.md").is_file(), "the merge job wrote the report");

    let single = xtask(root)
        .args(["sweep", "grid.toml", "--results", "single", "--data-dir", "data", "--no-report"])
        .output()
        .unwrap();
    assert!(single.status.success(), "{}", String::from_utf8_lossy(&single.stderr));
    let (merged, alone) = (table(&root.join("shared/grid/runs.csv")), table(&root.join("single/grid/runs.csv")));
    assert_eq!(merged.len(), 6);
    assert_eq!(merged, alone);
}
