//! A results folder changed after its sweep, through the real binary:
//! damaged tables, impossible metric values and edited run configurations
//! at `report`, each named with its file and why (docs/RELIABILITY.md,
//! "Damaged tables and impossible values").

mod common;

use std::path::Path;

use common::{run, setup, table, xtask};

/// The run folders of `results/small`, sorted by id.
fn run_dirs(root: &Path) -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("results/small/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    dirs.sort();
    dirs
}

/// `path` with its first `from` replaced by `to` (which must be there).
fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{}: no {from:?} in {text}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn damaged_tables_impossible_values_and_edited_configs_are_named_at_report() {
    let tmp = setup();
    let root = tmp.path();
    let (code, _, err) = run(xtask(root).args(["sweep", "small.toml", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    let results = root.join("results/small");
    let good = table(&results.join("runs.csv"));
    std::fs::write(results.join("runs.csv"), "garbage\x00,\"unclosed\n1,2,3\n").unwrap();
    std::fs::write(results.join("summary.csv"), "").unwrap();
    let (code, _, err) = run(xtask(root).args(["report", "small"]));
    assert_eq!(code, Some(0), "{err}");
    for t in ["runs.csv", "summary.csv"] {
        assert!(err.contains(&format!("small/{t} did not match the run folders; rebuilt from them")), "{err}");
    }
    assert_eq!(table(&results.join("runs.csv")), good, "rebuilt as the sweep wrote it");

    // An impossible MSE, an impossible probe accuracy and an edited learning rate.
    let dirs = run_dirs(root);
    let metrics = |i: usize| dirs[i].join("metrics.json");
    let mse = std::fs::read_to_string(metrics(0)).unwrap();
    let start = mse.find("\"mse\": ").unwrap() + 7;
    let end = start + mse[start..].find(',').unwrap();
    std::fs::write(metrics(0), format!("{}-5{}", &mse[..start], &mse[end..])).unwrap();
    let probe = std::fs::read_to_string(metrics(1)).unwrap();
    let start = probe.find("\"probe_accuracy\": ").unwrap() + 18;
    let end = start + probe[start..].find(',').unwrap();
    std::fs::write(metrics(1), format!("{}7{}", &probe[..start], &probe[end..])).unwrap();
    edit(&dirs[2].join("config.toml"), "lr = 0.005", "lr = 0.001");

    let (code, _, err) = run(xtask(root).args(["report", "small"]));
    assert_eq!(code, Some(0), "{err}");
    let md = std::fs::read_to_string(results.join("report.md")).unwrap();
    assert!(md.contains("1 of 4 runs completed; 0 missing, 3 damaged, 0 failed"), "{md}");
    let id = |i: usize| dirs[i].file_name().unwrap().to_string_lossy().into_owned();
    for (i, why) in [
        (0, "metrics.json: mse = -5, expected a value from 0 to 4".to_string()),
        (1, "metrics.json: probe_accuracy = 7, expected a value from 0 to 1".into()),
        (2, "config.toml: edited after the run: training.lr is 0.001, the run's id stands for 0.005".into()),
    ] {
        assert!(md.contains(&format!("damaged: `{}`: ", id(i))) && md.contains(&why), "{why}:\n{md}");
    }
    assert_eq!(table(&results.join("runs.csv")).len(), 1, "damaged runs have no row");
    let (_, listing, _) = run(xtask(root).args(["sweep", "small.toml", "--dry-run"]));
    assert_eq!(listing.matches("damaged").count(), 3, "{listing}");

    // The sweep redoes the three, and the table is whole again.
    let (code, _, err) = run(xtask(root).args(["sweep", "small.toml", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(err.matches("redoing ").count(), 3, "{err}");
    assert_eq!(table(&results.join("runs.csv")), good);
}

#[test]
fn figures_of_runs_no_longer_in_the_grid_are_removed() {
    let tmp = setup();
    let root = tmp.path();
    let (code, _, err) = run(xtask(root).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(0), "{err}");
    let figures = root.join("results/small/figures");
    let names = || -> Vec<String> {
        std::fs::read_dir(&figures).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    };
    let dropped: Vec<String> =
        run_dirs(root)[2..].iter().map(|d| d.file_name().unwrap().to_string_lossy().into()).collect();
    assert!(
        names().iter().any(|n| dropped.iter().any(|id| n.contains(id.as_str()))),
        "pictured at first: {:?}",
        names()
    );
    let text = std::fs::read_to_string(root.join("small.toml")).unwrap();
    std::fs::write(root.join("small.toml"), text.replace("rho = [0.05, 0.1, 0.2, 0.3]", "rho = [0.05, 0.1]")).unwrap();
    let (code, _, err) = run(xtask(root).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("figures that the report no longer links"), "{err}");
    let md = std::fs::read_to_string(root.join("results/small/report.md")).unwrap();
    for name in names() {
        assert!(!dropped.iter().any(|id| name.contains(id.as_str())), "{name} is of a run no longer in the grid");
        let stem = name.rsplit_once('.').unwrap().0;
        assert!(md.contains(&format!("figures/{stem}.")), "{name} is not linked");
    }
}
