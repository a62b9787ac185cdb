//! JumpReLU and Gated in experiment files: their keys, the model each
//! trains (its own tensors in the checkpoint), and the values and
//! combinations they refuse, naming the key and its line.

mod common;

use common::{assert_rejected, experiment, fixture, parse, sweep, Table};

const CODES: &str = r#"
[sweep]
sparsity = [
  { kind = "jumprelu", activation = "relu", weight = 1e-3, bandwidth = 0.05, initial_threshold = 0.1 },
  { kind = "gated", activation = "relu", weight = 1e-3 },
]
l0_weight = [1e-4, 1e-2]
gated_weight = [1e-4, 1e-2]
"#;

/// Both codes train on the fixture to finite results, each run's model
/// of its own architecture with its tensors, and the label names the
/// mechanism's λ (and JumpReLU's width and threshold when not the paper's).
#[test]
fn jumprelu_and_gated_sweep_to_their_own_models() {
    let f = fixture();
    let file = experiment("codes", CODES);
    let runs = file.experiment.expand();
    let labels: Vec<&str> = runs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "jumprelu-l0w0.0001-eps0.05-th0.1-relu",
            "jumprelu-l0w0.01-eps0.05-th0.1-relu",
            "gated-gw0.0001-relu",
            "gated-gw0.01-relu"
        ]
    );
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let table = Table::read(&f.results.join("codes/runs.csv"));
    assert_eq!(table.rows.len(), 4);
    for r in 0..4 {
        assert_eq!(table.text(r, "status"), "ok");
        assert!(table.number(r, "mse").is_finite());
    }
    assert_eq!(table.text(0, "l0_weight"), "0.0001");
    assert_eq!(table.text(2, "gated_weight"), "0.0001");
    // Each weight's column is filled for its own mechanism only.
    assert_eq!([table.text(0, "gated_weight"), table.text(0, "l1_weight")], ["", ""]);
    assert_eq!([table.text(2, "l0_weight"), table.text(2, "l1_weight")], ["", ""]);
    for (run, tensor) in runs.iter().zip(["log_threshold", "log_threshold", "r_mag", "r_mag"]) {
        let checkpoint = f.results.join("codes/runs").join(&run.id).join("model.safetensors");
        let model = sae_core::SparseAutoencoder::load(&checkpoint).unwrap();
        assert_eq!(model.config.architecture, run.config.sparsity.config.architecture());
        let tensors = model.to_tensors().unwrap();
        assert!(tensors.contains_key(tensor), "{}: no {tensor}", run.id);
    }
    let jump =
        sae_core::SparseAutoencoder::load(&f.results.join("codes/runs").join(&runs[0].id).join("model.safetensors"));
    let theta: Vec<f32> = jump.unwrap().params.log_threshold.iter().map(|t| t.exp()).collect();
    assert!(theta.iter().any(|t| (t - 0.1).abs() > 1e-4), "the thresholds learned from 0.1: {theta:?}");
}

#[test]
fn bad_jumprelu_and_gated_settings_are_refused_naming_the_key() {
    let jump = |extra: &str| format!("[sparsity]\nkind = \"jumprelu\"\nactivation = \"relu\"\n{extra}\n");
    let ok = format!("[model]\ninit = \"tied\"\n{}", jump("weight = 1e-3"));
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok));
    assert_rejected(&[
        (&jump("weight = -1"), ["weight", "line 4", "expected a penalty weight"]),
        (&jump("weight = nan"), ["weight", "line 4", "bad.toml"]),
        (&jump("weight = 1e-3\nbandwidth = 0"), ["bandwidth", "line 5", "above 0"]),
        (&jump("weight = 1e-3\nbandwidth = -0.1"), ["bandwidth", "line 5", "above 0"]),
        (&jump("weight = 1e-3\ninitial_threshold = 0"), ["initial_threshold", "line 5", "above 0"]),
        (&jump("weight = 1e-3\ninitial_threshold = inf"), ["initial_threshold", "line 5", "bad.toml"]),
        (&jump(""), ["kind = \"jumprelu\" needs `weight`", "line", "bad.toml"]),
        (&jump("weight = 1e-3\nrho = 0.1"), ["`rho` belongs to kind = \"kl\"", "line", "bad.toml"]),
        (&jump("weight = 1e-3\nk = 4"), ["`k` belongs to kind = \"topk\"", "line", "bad.toml"]),
        (
            "[sparsity]\nkind = \"gated\"\nweight = 1e-3\nbandwidth = 0.1\n",
            ["`bandwidth` belongs to kind = \"jumprelu\"", "line", "bad.toml"],
        ),
        (
            "[sparsity]\nkind = \"jumprelu\"\nweight = 1e-3\n",
            ["[model] activation", "\"sigmoid\"", "expected \"relu\""],
        ),
        ("[sparsity]\nkind = \"gated\"\nweight = 1e-3\n", ["[model] activation", "\"sigmoid\"", "kind = \"gated\""]),
        (
            "[model]\nunit_atoms = false\n[sparsity]\nkind = \"gated\"\nactivation = \"relu\"\nweight = 1e-3\n",
            ["[model] unit_atoms", "unit-norm atoms", "bad.toml"],
        ),
        (
            "[sparsity]\nkind = \"gated\"\nactivation = \"relu\"\nweight = 1e-3\n[sweep]\nunit_atoms = [true, false]\n",
            ["[model] unit_atoms", "unit-norm atoms", "bad.toml"],
        ),
        ("[sweep]\nl0_weight = [-1]\n", ["l0_weight", "line 2", "expected a penalty weight"]),
        ("[sweep]\ngated_weight = []\n", ["gated_weight", "line 2", "non-empty"]),
    ]);
}

/// A halving search draws JumpReLU's and Gated's λ from their ranges and
/// promotes by an objective both measure (validation MSE, with L0 as a
/// second Pareto objective), continuing the promoted runs.
#[test]
fn a_halving_search_draws_and_promotes_their_weights() {
    let f = fixture();
    let text = "[sweep]\nsparsity = [{ kind = \"jumprelu\", activation = \"relu\", weight = 1e-3, bandwidth = 0.05, initial_threshold = 0.1 }, \
                { kind = \"gated\", activation = \"relu\", weight = 1e-3 }]\n\
                [search]\nstrategy = \"halving\"\ntrials = 3\nmin_epochs = 1\nmax_epochs = 3\neta = 3\npareto = \"l0\"\n\
                [search.ranges]\nl0_weight = { log_uniform = [1e-5, 1e-1] }\ngated_weight = { log_uniform = [1e-5, 1e-1] }\n";
    let file = experiment("halving", text);
    let grid = file.experiment.expand();
    let weights: Vec<f64> = grid.iter().map(|r| r.config.sparsity.config.strength()).collect();
    assert!(weights.iter().all(|w| (1e-5..=1e-1).contains(w)), "{weights:?}");
    let drawn = |kind: &str| grid.iter().filter(|r| r.rung == Some(0) && r.label.starts_with(kind)).count();
    assert_eq!((drawn("jumprelu"), drawn("gated")), (3, 3), "three trials of each mechanism");
    sweep(&file, &f.data, &f.results, 2, None).unwrap();
    let table = Table::read(&f.results.join("halving/runs.csv"));
    let promoted: Vec<usize> = (0..table.rows.len()).filter(|&r| table.number(r, "epochs") == 3.0).collect();
    assert!(!promoted.is_empty(), "nothing was promoted");
    for r in 0..table.rows.len() {
        assert_eq!(table.text(r, "status"), "ok", "row {r}: {}", table.text(r, "reason"));
        assert!(table.number(r, "l0").is_finite() && table.number(r, "mse").is_finite(), "row {r} unmeasured");
    }
}

/// A JumpReLU run's checkpoint swapped with a Gated run's of the same
/// width is damage: each holds the other architecture's tensors, and both
/// runs are trained again.
#[test]
fn a_checkpoint_swapped_across_architectures_is_redone() {
    let f = fixture();
    let text = "[sweep]\nsparsity = [{ kind = \"jumprelu\", activation = \"relu\", weight = 1e-3, bandwidth = 0.05, initial_threshold = 0.1 }, \
                { kind = \"gated\", activation = \"relu\", weight = 1e-3 }]\n";
    let file = experiment("swap", text);
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let runs = file.experiment.expand();
    let path = |i: usize| f.results.join("swap/runs").join(&runs[i].id).join("model.safetensors");
    let held = std::fs::read(path(0)).unwrap();
    std::fs::copy(path(1), path(0)).unwrap();
    std::fs::write(path(1), held).unwrap();
    let again = sweep(&file, &f.data, &f.results, 1, None).unwrap();
    assert_eq!((again.done, again.skipped), (2, 0), "both swapped runs are trained again");
}

/// A Gated penalty so strong that every gate closes leaves a code empty
/// on every test image: the run is recorded as failed, with the reason,
/// not as a result.
#[test]
fn a_run_whose_code_is_empty_everywhere_fails() {
    let f = fixture();
    let text = "[sparsity]\nkind = \"gated\"\nactivation = \"relu\"\nweight = 1e6\n[sweep]\nepochs = [30]\n";
    let file = experiment("empty", text);
    let summary = sweep(&file, &f.data, &f.results, 1, None).unwrap();
    assert_eq!(summary.failed, 1, "the run fails");
    let table = Table::read(&f.results.join("empty/runs.csv"));
    assert!(table.text(0, "reason").contains("the code is empty on every test image"), "{}", table.text(0, "reason"));
}
