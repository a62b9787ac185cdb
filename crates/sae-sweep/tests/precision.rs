//! The `[training] precision` setting: f32, the default, leaves run ids
//! and run configs as they were; bf16 is another run, recorded in its
//! `config.toml`; bad values and bf16 with the candle engine are errors
//! naming the file and the key; a bf16 sweep trains and scores like the
//! f32 one to bf16's rounding (on a CPU with AMX-BF16; elsewhere it stops
//! before any run, naming what the CPU lacks).

mod common;

use std::path::Path;

use common::{assert_rejected, chain, fixture, parse, Table};
use sae_core::{check_bf16, CpuFeatures, Precision};

#[test]
fn f32_keeps_existing_run_ids_and_bf16_is_another_run() {
    // The id pinned in tests/experiment.rs, from before the setting existed.
    let sweep = "[sweep]\nrho = [0.05, 0.1]\n";
    for training in ["", "[training]\nprecision = \"f32\"\n"] {
        let grid = parse(&format!("{training}{sweep}")).unwrap().expand();
        assert_eq!(grid[0].id, "rho0.05-84410203", "with {training:?}");
        assert!(!grid[0].config.to_toml().contains("precision"));
    }
    let bf16 = parse(&format!("[training]\nprecision = \"bf16\"\n{sweep}")).unwrap();
    assert_eq!(bf16.training.train_config().precision, Precision::Bf16);
    let run = &bf16.expand()[0];
    assert_ne!(run.id, "rho0.05-84410203", "another precision is another run");
    assert!(run.config.to_toml().contains("precision = \"bf16\""));
    assert_eq!(parse(&run.config.to_toml()).unwrap(), run.config, "the setting survives the run's config.toml");
}

#[test]
fn bad_values_name_the_file_the_key_and_the_accepted_values() {
    let cases = [
        ("[training]\nprecision = \"f16\"\n", ["expected \"f32\" or \"bf16\", found \"f16\"", "precision", "line 2"]),
        (
            "\n[training]\nprecision = \"BF16\"\n",
            ["expected \"f32\" or \"bf16\", found \"BF16\"", "precision", "line 3"],
        ),
        ("[training]\nprecision = 16\n", ["expected \"f32\" or \"bf16\", found 16", "precision", "line 2"]),
        ("[training]\nprecision = []\n", ["expected \"f32\" or \"bf16\", found []", "precision", "line 2"]),
        (
            "[training]\nengine = \"candle\"\nprecision = \"bf16\"\n",
            ["training.precision = \"bf16\" needs engine = \"fast\" on device = \"cpu\"", "f32 only", "bad.toml"],
        ),
        (
            "[training]\ndevice = \"cuda\"\nprecision = \"bf16\"\n",
            ["training.precision = \"bf16\" needs engine = \"fast\" on device = \"cpu\"", "f32 only", "bad.toml"],
        ),
    ];
    assert_rejected(&cases);
}

fn sweep(training: &str, data: &Path, results: &Path) -> Result<sae_sweep::SweepSummary, sae_sweep::SweepError> {
    common::sweep(&common::experiment("precision", training), data, results, 1, None)
}

#[test]
fn a_bf16_sweep_trains_and_scores_like_the_f32_one() {
    let f = fixture();
    let bf16 = sweep("precision = \"bf16\"\n", &f.data, &f.results.join("bf16"));
    if let Err(lacks) = check_bf16(CpuFeatures::detect()) {
        let msg = chain(&bf16.unwrap_err());
        assert_eq!(
            msg,
            format!("the sweep cannot start: {lacks}"),
            "stopped before any run, naming what the CPU lacks"
        );
        assert!(!f.results.join("bf16").exists(), "nothing written");
        return eprintln!("bf16 sweep skipped: {msg}");
    }
    let fast = sweep("", &f.data, &f.results.join("f32")).unwrap();
    let bf16 = bf16.unwrap();
    assert_eq!((fast.done, bf16.done, bf16.failed), (1, 1, 0));
    let table = |dir: &str| Table::read(&f.results.join(dir).join("precision/runs.csv"));
    let (f32_mse, bf16_mse) = (table("f32").number(0, "mse"), table("bf16").number(0, "mse"));
    assert!((f32_mse - bf16_mse).abs() <= 0.02 * f32_mse, "test mse: f32 {f32_mse}, bf16 {bf16_mse}");
    assert_ne!(f32_mse, bf16_mse, "the bf16 run rounds its products");
    let runs = f.results.join("bf16/precision/runs");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("precision = \"bf16\""), "{config}");
}
