//! The field's recipe for ReLU codes on the tiny fixture: a pre-encoder
//! bias and unit-norm atoms, their defaults per code, their keys, and
//! what the bias does to TopK's dead latents; and the keys of Makhzani and
//! Frey's k-sparse training, with the contradictions they refuse.

mod common;

use common::{assert_rejected, experiment, fixture, parse, sweep, Table};

/// TopK on a ReLU code from tied weights, with and without the bias, three
/// seeds: 32 latents, 4 kept per image.
const TOPK: &str = r#"
[data]
train = 200
validation = 50
test = 40
[model]
hidden = 32
init = "tied"
activation = "relu"
[sparsity]
kind = "topk"
k = 4
[training]
epochs = 4
batch_size = 20
lr = 0.01
[sweep]
pre_bias = [true, false]
seeds = [0, 1, 2]
"#;

/// Without the bias the synthetic images' black background (−1 in
/// normalised units) makes many latents negative on every image, so they
/// never fire; centred by the mean image, fewer stay dead.
#[test]
fn a_pre_encoder_bias_leaves_fewer_topk_latents_dead() {
    let f = fixture();
    let path = std::path::PathBuf::from("recipe.toml");
    let file = sae_sweep::ExperimentFile {
        name: "recipe".into(),
        path: path.clone(),
        experiment: sae_sweep::Experiment::from_toml(TOPK, &path).unwrap(),
    };
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let table = Table::read(&f.results.join("recipe/runs.csv"));
    let mean_dead = |on: &str| {
        let rows: Vec<usize> = (0..table.rows.len()).filter(|&r| table.text(r, "pre_bias") == on).collect();
        assert_eq!(rows.len(), 3, "three seeds with pre_bias {on}");
        rows.iter().map(|&r| table.number(r, "dead_latents")).sum::<f64>() / 3.0
    };
    let (with, without) = (mean_dead("on"), mean_dead("off"));
    eprintln!("dead latents: {with:.3} with the pre-encoder bias, {without:.3} without");
    assert!(with < without, "dead latents: {with} with the pre-encoder bias, {without} without");
}

/// A checkpoint swapped between a run with the pre-encoder bias and one
/// without is damage, found before the report reads it: the next sweep
/// trains both again.
#[test]
fn a_checkpoint_swapped_across_the_pre_encoder_bias_is_redone() {
    let f = fixture();
    let text = TOPK.replace("seeds = [0, 1, 2]", "seeds = [0]");
    let path = std::path::PathBuf::from("recipe.toml");
    let file = sae_sweep::ExperimentFile {
        name: "recipe".into(),
        path: path.clone(),
        experiment: sae_sweep::Experiment::from_toml(&text, &path).unwrap(),
    };
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let runs = f.results.join("recipe/runs");
    let folders: Vec<_> = std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()).collect();
    let [a, b] = &folders[..] else { panic!("two runs: {folders:?}") };
    let (a, b) = (a.join("model.safetensors"), b.join("model.safetensors"));
    let held = std::fs::read(&a).unwrap();
    std::fs::copy(&b, &a).unwrap();
    std::fs::write(&b, held).unwrap();
    let again = sweep(&file, &f.data, &f.results, 1, None).unwrap();
    assert_eq!((again.done, again.skipped), (2, 0), "both swapped runs are trained again");
}

/// The defaults: both on for a ReLU code, off for the reference's sigmoid
/// code. The reference's runs keep the ids they had before the keys
/// existed, and a ReLU code's change.
#[test]
fn the_recipe_defaults_follow_the_code() {
    let relu = experiment("relu", "[sparsity]\nkind = \"l1\"\nweight = 1e-3\nactivation = \"relu\"\n");
    let config = relu.experiment.model_config(784);
    assert!(config.pre_bias && config.unit_atoms);
    let reference = experiment("reference", "");
    let config = reference.experiment.model_config(784);
    assert!(!config.pre_bias && !config.unit_atoms);
    let grid = reference.experiment.expand();
    assert_eq!(grid[0].config.model.pre_bias, None, "the reference's settings are written as before");
    assert_eq!(grid[0].config.model.unit_atoms, None);
    let mut tied = parse(&format!("{}\n", TOPK.replace("[sweep]\npre_bias = [true, false]\n", "[sweep]\n"))).unwrap();
    assert!(tied.model_config(784).unit_atoms && tied.model_config(784).pre_bias);
    tied.model.pre_bias = Some(false);
    tied.model.unit_atoms = Some(false);
    let config = tied.model_config(784);
    assert!(!config.pre_bias && !config.unit_atoms, "the keys override the defaults");
    let runs = tied.expand();
    assert_eq!((runs[0].config.model.pre_bias, runs[0].config.model.unit_atoms), (Some(false), Some(false)));
}

#[test]
fn the_recipe_keys_take_booleans_only() {
    assert_rejected(&[
        ("[model]\npre_bias = \"yes\"\n", ["pre_bias", "line 2", "expected a boolean"]),
        ("[model]\nunit_atoms = 1\n", ["unit_atoms", "line 2", "expected a boolean"]),
        ("[sweep]\npre_bias = []\n", ["pre_bias", "line 2", "non-empty"]),
    ]);
}

#[test]
fn k_sparse_keys_that_contradict_are_refused_naming_the_key() {
    let topk = "[sparsity]\nkind = \"topk\"\nk = 4\nactivation = \"relu\"\n";
    let tied = "[model]\nhidden = 16\ninit = \"tied\"\ntie_weights = true\n";
    let ok =
        format!("{tied}{topk}[training]\nepochs = 4\nk_schedule = {{ from = 8, epochs = 2 }}\n[probe]\nalpha = 3\n");
    assert!(parse(&ok).is_ok(), "{:?}", parse(&ok));
    let training = |schedule: &str| format!("{tied}{topk}[training]\nepochs = 4\nk_schedule = {schedule}\n");
    assert_rejected(&[
        (&format!("[model]\ntie_weights = true\n{topk}"), ["[model] tie_weights", "init = \"pytorch\"", "tied"]),
        (&training("{ from = 8, epochs = 5 }"), ["k_schedule", "epochs = 5", "longer than training (4 epochs"]),
        (&training("{ from = 2, epochs = 2 }"), ["[training] k_schedule", "from = 2", "expected k (4)"]),
        (&training("{ from = 17, epochs = 2 }"), ["[training] k_schedule", "from = 17", "width (16)"]),
        (&training("{ from = 8, epochs = 0 }"), ["[training] k_schedule", "epochs = 0", "at least 1"]),
        (&training("{ from = 8 }"), ["k_schedule", "line 11", "missing field `epochs`"]),
        (&format!("{tied}{topk}[probe]\nalpha = 5\n"), ["probe.alpha = 5", "α·k = 20", "width 16"]),
        ("[probe]\nalpha = 3\n", ["probe.alpha", "\"kl\"", "topk"]),
        (
            &format!("{tied}[training]\nk_schedule = {{ from = 8, epochs = 1 }}\n"),
            ["[training] k_schedule", "without k", "topk"],
        ),
        (
            &format!("{}[search]\nstrategy = \"halving\"\nmax_epochs = 3\n", training("{ from = 8, epochs = 2 }")),
            ["k_schedule", "epochs = 2", "longer than training (1 epochs"],
        ),
        (
            &format!(
                "{tied}[probe]\nalpha = 2\n[search]\nstrategy = \"random\"\ntrials = 2\n[search.ranges]\nsparsity = \
                 {{ choice = [{{ kind = \"topk\", k = 4 }}, {{ kind = \"l1\", weight = 0.1 }}] }}\n"
            ),
            ["probe.alpha", "\"l1\"", "topk"],
        ),
    ]);
}
