//! The sweep runner on a small synthetic dataset: `--jobs` invariance,
//! shards, failure isolation, resume and replicate summaries.

mod common;

use std::path::Path;

use common::{fixture, Fixture, Table, TIMING};
use sae_sweep::{ExperimentFile, Shard, SweepSummary};

/// Experiment `name` of noisy inputs, sweeping `sweep`.
fn experiment(name: &str, sweep: &str) -> ExperimentFile {
    common::experiment(name, &format!("[corruption]\nkind = \"gaussian\"\nstd = 0.5\n[sweep]\n{sweep}"))
}

fn sweep(f: &Fixture, file: &ExperimentFile, results: &Path, jobs: usize, shard: Option<Shard>) -> SweepSummary {
    common::sweep(file, &f.data, results, jobs, shard).unwrap()
}

/// The experiment's runs.csv.
fn runs(results: &Path, name: &str) -> Table {
    Table::read(&results.join(name).join("runs.csv"))
}

/// runs.csv without the timing columns, which differ from run to run.
fn table(results: &Path, name: &str) -> Vec<Vec<String>> {
    runs(results, name).without(&TIMING)
}

#[test]
fn results_do_not_depend_on_jobs() {
    let f = fixture();
    let file = experiment("jobs", "rho = [0.05, 0.2]\nseeds = [0, 1]\n");
    let (one, two) = (f.results.join("one"), f.results.join("two"));
    let s = sweep(&f, &file, &one, 1, None);
    assert_eq!((s.total, s.done, s.failed, s.skipped, s.rows), (4, 4, 0, 0, 4));
    sweep(&f, &file, &two, 2, None);
    let t = table(&one, "jobs");
    assert_eq!(t.len(), 5);
    assert_eq!(t, table(&two, "jobs"));
    let status = t[0].iter().position(|h| h == "status").unwrap();
    assert!(t[1..].iter().all(|r| r[status] == "ok"));
    for id in t[1..].iter().map(|r| &r[0]) {
        for file in ["config.toml", "curve.csv", "metrics.json", "model.safetensors"] {
            assert!(one.join("jobs/runs").join(id).join(file).is_file(), "{id}/{file}");
        }
    }
}

#[test]
fn shards_partition_the_grid_and_merge_to_the_full_table() {
    let f = fixture();
    let file = experiment("shards", "rho = [0.05, 0.1, 0.2]\nbeta = [0.5, 2]\n");
    let full = f.results.join("full");
    sweep(&f, &file, &full, 2, None);
    let shared = f.results.join("shared");
    let mut ran = 0;
    for i in 0..3 {
        let s = sweep(&f, &file, &shared, 1, Some(Shard { index: i, count: 3 }));
        assert_eq!((s.total, s.skipped), (2, 0), "each shard runs its own third, nothing twice");
        ran += s.done;
    }
    assert_eq!(ran, 6);
    assert_eq!(table(&shared, "shards"), table(&full, "shards"));
}

#[test]
fn a_diverging_run_fails_alone_and_is_retried_on_resume() {
    let f = fixture();
    let file = experiment("diverge", "lr = [0.01, 1e9]\n");
    let s = sweep(&f, &file, &f.results, 2, None);
    assert_eq!((s.done, s.failed, s.rows), (1, 1, 2));
    let t = runs(&f.results, "diverge");
    assert_eq!(t.text(0, "status"), "ok");
    assert_eq!(t.text(1, "status"), "failed");
    assert!(t.text(1, "reason").contains("diverged"), "{}", t.text(1, "reason"));
    assert_eq!(t.text(1, "mse"), "");
    let again = sweep(&f, &file, &f.results, 2, None);
    assert_eq!((again.skipped, again.failed, again.rows), (1, 1, 2), "only the failed run is redone");
}

#[test]
fn resume_runs_only_what_is_missing() {
    let f = fixture();
    let file = experiment("resume", "rho = [0.05, 0.1, 0.2]\n");
    sweep(&f, &file, &f.results, 2, None);
    let before = table(&f.results, "resume");
    let victim = f.results.join("resume/runs").join(&before[2][0]);
    std::fs::remove_dir_all(&victim).unwrap();
    std::fs::create_dir_all(f.results.join("resume/runs/.tmp-leftover")).unwrap();
    let s = sweep(&f, &file, &f.results, 2, None);
    assert_eq!((s.skipped, s.done, s.rows), (2, 1, 3));
    assert_eq!(table(&f.results, "resume"), before);
    let none = sweep(&f, &file, &f.results, 2, None);
    assert_eq!((none.skipped, none.done), (3, 0));
}

#[test]
fn replicates_are_summarised_per_configuration() {
    let f = fixture();
    let file = experiment("reps", "rho = [0.05, 0.2]\nseeds = [0, 1, 2]\n");
    sweep(&f, &file, &f.results, 2, None);
    let summary = Table::read(&f.results.join("reps/summary.csv"));
    assert_eq!(summary.rows.len(), 2);
    let runs = runs(&f.results, "reps");
    let first: Vec<f64> = (0..3).map(|i| runs.number(i, "mse")).collect();
    let mean = first.iter().sum::<f64>() / 3.0;
    let std = (first.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    assert_eq!(summary.text(0, "replicates"), "3");
    assert!((summary.number(0, "mse_mean") - mean).abs() < 1e-12);
    assert!((summary.number(0, "mse_std") - std).abs() < 1e-12);
    assert!(std > 0.0, "seeds differ");
}

#[test]
fn shard_syntax_and_slurm_variables() {
    assert_eq!("1/4".parse::<Shard>().unwrap(), Shard { index: 1, count: 4 });
    for bad in ["4/4", "1", "a/b", "0/0"] {
        assert!(bad.parse::<Shard>().unwrap_err().to_string().contains("expected i/n"), "{bad}");
    }
    let env =
        |pairs: &'static [(&str, &str)]| move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string());
    assert_eq!(Shard::from_slurm(env(&[])).unwrap(), None);
    let s = Shard::from_slurm(env(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
    ]));
    assert_eq!(s.unwrap(), Some(Shard { index: 2, count: 3 }));
    assert!(Shard::from_slurm(env(&[("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "3")])).is_err());
}

#[test]
fn every_mechanism_trains_and_reports_the_shared_metrics() {
    let f = fixture();
    let file = experiment(
        "mechanisms",
        r#"sparsity = [{ kind = "kl" }, { kind = "l1", weight = 1e-3 }, { kind = "topk", k = 3 }, { kind = "none" }]"#,
    );
    let summary = sweep(&f, &file, &f.results, 2, None);
    assert_eq!(summary.failed, 0);
    let t = runs(&f.results, "mechanisms");
    let kinds: Vec<&str> = (0..4).map(|i| t.text(i, "sparsity")).collect();
    assert_eq!(kinds, ["kl", "l1", "topk", "none"]);
    for i in 0..4 {
        let accuracy = t.number(i, "probe_accuracy");
        assert!((0.0..=1.0).contains(&accuracy), "{accuracy}");
        assert!(t.number(i, "fvu") > 0.0 && t.number(i, "l0") <= 8.0);
    }
    // TopK keeps exactly k non-zero entries (a sigmoid is never exactly 0);
    // the others keep every unit.
    assert_eq!(t.number(2, "l0"), 3.0);
    assert_eq!(t.number(3, "l0"), 8.0);
    assert!(t.number(2, "active_per_image") <= 3.0);
    // KL's parameters only where they apply; the KL metric only for KL.
    assert_eq!((t.text(0, "rho"), t.text(0, "k")), ("0.05", ""));
    assert_eq!((t.text(2, "rho"), t.text(2, "k"), t.text(2, "kl")), ("", "3", ""));
    assert_eq!(t.text(1, "l1_weight"), "0.001");
}

#[test]
fn field_codes_train_and_store_their_frontier_and_latents() {
    let f = fixture();
    let file = experiment(
        "codes",
        r#"sparsity = [{ kind = "l1", weight = 1e-3, activation = "relu" }, { kind = "topk", k = 3, activation = "relu", aux_k = 4 }, { kind = "batchtopk", k = 3, activation = "relu" }, { kind = "kl" }]"#,
    );
    assert_eq!(sweep(&f, &file, &f.results, 2, None).failed, 0);
    let t = runs(&f.results, "codes");
    let dir = sae_sweep::ResultsDir::new(&f.results, "codes");
    let grid = file.experiment.expand();
    assert_eq!((t.text(0, "activation"), t.text(3, "activation")), ("relu", "sigmoid"));
    assert_eq!((t.text(1, "aux_k"), t.text(2, "aux_k"), t.text(2, "k")), ("4", "", "3"));
    for (i, spec) in grid.iter().enumerate() {
        let frontier = dir.load_frontier(&spec.id).unwrap();
        // The ladder of a width-8 model: 5, then the width, whose truncation
        // keeps the whole code and so scores as the run itself.
        assert_eq!(frontier.iter().map(|p| p.k).collect::<Vec<_>>(), [5, 8], "{}", spec.id);
        let whole = frontier.last().unwrap();
        assert!((whole.fvu - t.number(i, "fvu")).abs() < 1e-12 * whole.fvu.max(1.0), "{}", spec.id);
        assert!(frontier[0].l0 <= 5.0 && whole.l0 == t.number(i, "l0"), "{}", spec.id);
        let (dead, dense) = (t.number(i, "dead_latents"), t.number(i, "dense_latents"));
        assert!((0.0..=1.0).contains(&dead) && (0.0..=1.0).contains(&dense) && dead + dense <= 1.0);
        // The stored model reads back with the run's activation.
        assert_eq!(dir.load_model(spec).unwrap().config.activation, spec.config.model.activation);
    }
}

#[test]
fn the_results_schema_round_trips_through_runs_csv() {
    let f = fixture();
    let file = experiment("schema", "rho = [0.05, 0.2]\n");
    sweep(&f, &file, &f.results, 1, None);
    let (dir, grid) = (sae_sweep::ResultsDir::new(&f.results, "schema"), file.experiment.expand());
    let rows = sae_sweep::collect_rows(&sae_sweep::Snapshot::new(dir, &grid), &grid);
    let t = runs(&f.results, "schema");
    assert_eq!(t.rows.len(), rows.len());
    for (i, row) in rows.iter().enumerate() {
        for &m in sae_sweep::Metric::ALL {
            let read = (!t.text(i, m.def().key).is_empty()).then(|| t.number(i, m.def().key));
            assert_eq!(read, row.metric(m), "{} of {}", m.def().key, row.run_id);
        }
        for (key, value) in row.parameters() {
            assert_eq!(t.text(i, key), value, "{key}");
        }
    }
}
