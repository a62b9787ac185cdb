//! The `engine` and `device` settings: their defaults leave existing run
//! ids unchanged, bad values are errors with the line, CUDA from a build
//! without it stops the sweep before any run, and a candle sweep trains.

mod common;

use std::path::Path;

use common::{assert_rejected, chain, fixture, parse, Table};
use sae_core::{DeviceSpec, EngineKind};

#[test]
fn default_settings_keep_existing_run_ids() {
    // The id pinned in tests/experiment.rs, from before these settings
    // existed: spelling the defaults out must not change it.
    let sweep = "[sweep]\nrho = [0.05, 0.1]\n";
    for training in ["", "[training]\nengine = \"fast\"\n", "[training]\ndevice = \"cpu\"\nengine = \"fast\"\n"] {
        let grid = parse(&format!("{training}{sweep}")).unwrap().expand();
        assert_eq!(grid[0].id, "rho0.05-84410203", "with {training:?}");
        let toml = grid[0].config.to_toml();
        assert!(!toml.contains("engine") && !toml.contains("device"), "{toml}");
    }
    let candle = parse(&format!("[training]\nengine = \"candle\"\n{sweep}")).unwrap();
    assert_eq!(candle.training.engine, EngineKind::Candle);
    let run = &candle.expand()[0];
    assert_ne!(run.id, "rho0.05-84410203", "another engine is another run");
    assert_eq!(parse(&run.config.to_toml()).unwrap(), run.config, "the setting survives the run's config.toml");
    let gpu = parse("[training]\ndevice = \"cuda\"\n").unwrap();
    assert_eq!(gpu.training.device, DeviceSpec::Cuda(0));
    assert!(gpu.to_toml().contains("device = \"cuda:0\""));
}

#[test]
fn bad_values_name_the_line_and_what_was_expected() {
    let cases = [
        ("[training]\nengine = \"torch\"\n", ["unknown variant `torch`, expected `fast` or `candle`", "line 2"]),
        ("\n[training]\ndevice = \"gpu\"\n", ["expected \"cpu\", \"cuda\" or \"cuda:N\", found \"gpu\"", "line 3"]),
        ("[training]\ndevice = \"cuda:x\"\n", ["expected \"cpu\", \"cuda\" or \"cuda:N\"", "line 2"]),
        ("[training]\ndevice = 0\n", ["invalid type: integer `0`", "line 2"]),
    ];
    assert_rejected(&cases);
}

fn sweep(training: &str, data: &Path, results: &Path) -> Result<sae_sweep::SweepSummary, sae_sweep::SweepError> {
    common::sweep(&common::experiment("engines", training), data, results, 1, None)
}

#[test]
#[cfg(not(feature = "cuda"))]
fn cuda_without_the_feature_stops_the_sweep_before_any_run() {
    let tmp = tempfile::tempdir().unwrap();
    let results = tmp.path().join("results");
    // Were the check made later, loading this missing dataset would fail first.
    let err = sweep("device = \"cuda:1\"\n", &tmp.path().join("no-data"), &results);
    let msg = chain(&err.unwrap_err());
    assert!(msg.contains("device cuda:1: this build") && msg.contains("`cuda` feature"), "{msg}");
    assert!(!results.exists(), "nothing written");
}

#[test]
fn a_candle_sweep_trains_and_scores_like_the_fast_one() {
    let f = fixture();
    let fast = sweep("", &f.data, &f.results.join("fast")).unwrap();
    let candle = sweep("engine = \"candle\"\n", &f.data, &f.results.join("candle")).unwrap();
    assert_eq!((fast.done, candle.done, candle.failed), (1, 1, 0));
    let mse = |dir: &str| Table::read(&f.results.join(dir).join("engines/runs.csv")).number(0, "mse");
    let (f, c) = (mse("fast"), mse("candle"));
    assert!((f - c).abs() <= 1e-4 * f, "test mse: fast {f}, candle {c}");
}
