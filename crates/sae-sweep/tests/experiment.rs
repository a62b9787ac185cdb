//! Experiment files: defaults, grid expansion, stable ids, and an error for
//! every kind of bad input that names the file, the line and what was
//! expected.

mod common;

use std::path::Path;

use common::{assert_rejected, parse};
use sae_core::{KlReduction, SparsityConfig};
use sae_sweep::ExperimentFile;
use sha2::Digest as _;

#[test]
fn an_empty_file_is_the_reference_protocol() {
    let e = parse("").unwrap();
    let (t, s) = (e.training.train_config(), e.sparsity_config());
    assert_eq!((t.epochs, t.batch_size, t.lr, t.weight_decay), (50, 50, 1e-4, 0.0));
    assert_eq!(s, SparsityConfig::Kl { rho: 0.05, beta: 1.0, reduction: KlReduction::Mean });
    assert_eq!((e.data.train.0, e.data.validation.0, e.data.test.0), (50_000, 10_000, 10_000));
    assert_eq!(e.model.hidden.0, 256);
    assert_eq!(e.expand().len(), 1);
}

#[test]
fn grid_crosses_every_axis_with_seeds_innermost() {
    let e = parse(
        r#"
        [sweep]
        rho = [0.01, 0.1]
        beta = [0.5, 1, 3]
        hidden = [16, 64]
        seeds = [0, 1]
        corruption = [{ kind = "gaussian", std = 0.5 }, { kind = "half" }]
        "#,
    )
    .unwrap();
    let grid = e.expand();
    assert_eq!(grid.len(), 2 * 3 * 2 * 2 * 2);
    assert_eq!(grid.iter().map(|r| r.index).collect::<Vec<_>>(), (0..48).collect::<Vec<_>>());
    assert_eq!(grid[0].config.training.seed, 0);
    assert_eq!(grid[1].config.training.seed, 1);
    assert_eq!(grid[0].config.sparsity, grid[1].config.sparsity);
    assert!(grid[0].id.starts_with("gaussian0.5-h16-rho0.01-beta0.5-s0-"), "{}", grid[0].id);
    let mut ids: Vec<&str> = grid.iter().map(|r| r.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 48, "ids are unique");
    assert!(grid.iter().all(|r| r.config.sweep == Default::default()));
}

#[test]
fn ids_are_stable_and_follow_every_setting() {
    let text = "[sweep]\nrho = [0.05, 0.1]\n";
    let a = parse(text).unwrap().expand();
    assert_eq!(a, parse(text).unwrap().expand(), "same file, same ids");
    // Pinned: an id must not change across versions or machines unless the
    // configuration does, or resuming would redo finished runs.
    assert_eq!(a[0].id, "rho0.05-84410203");
    assert_eq!(a[1].id, "rho0.1-775a72cf");
    let b = parse(&format!("[training]\nepochs = 3\n{text}")).unwrap().expand();
    assert_ne!(a[0].id, b[0].id, "changing a base setting changes the id");
    assert_eq!(a[0].id.split('-').next(), Some("rho0.05"));
}

#[test]
fn a_run_config_is_itself_a_valid_experiment() {
    let e = parse("[sweep]\nbeta = [0, 2]\n[corruption]\nkind = \"salt_and_pepper\"\np = 0.1\n").unwrap();
    let run = &e.expand()[1];
    let again = parse(&run.config.to_toml()).unwrap();
    assert_eq!(again, run.config);
    assert_eq!(again.expand()[0].config, run.config);
}

#[test]
fn errors_name_file_line_and_expectation() {
    let cases = [
        ("[sparsity]\nrho = 1.5\n", ["expected ρ in (0, 1)", "line 2"]),
        ("[sparsity]\nrho = 0\n", ["expected ρ in (0, 1)", "line 2"]),
        ("[sparsity]\nbeta = -1\n", ["expected β = 0 or from 1.2e-38", "line 2"]),
        ("[model]\nhidden = 0\n", ["expected a width from 1 to 16384", "line 2"]),
        ("[model]\nhidden = 100000000\n", ["expected a width from 1 to 16384, found 100000000", "line 2"]),
        ("[training]\nepochs = 100000000\n", ["expected a count from 1 to 1000000", "line 2"]),
        ("[data]\ndataset = \"../x\"\n", ["expected a plain folder name", "line 2"]),
        ("[corruption]\nkind = \"half\"\nfill = 1.5\n", ["half fill must be in [-1, 1]", "line 1"]),
        ("\n[sweep]\nrho = []\n", ["expected a non-empty list", "line 3"]),
        ("[sweep]\nhidden = [16, 0]\n", ["expected a width from 1 to 16384", "line 2"]),
        ("[corruption]\nkind = \"blur\"\n", ["unknown variant `blur`, expected one of `none`, `gaussian`", "line 2"]),
        ("[corruption]\nkind = \"gaussian\"\nstd = -0.5\n", ["gaussian std must be finite and ≥ 0", "line 1"]),
        ("[training]\nepochs = \"ten\"\n", ["invalid type: string \"ten\"", "line 2"]),
        ("[training]\nepoch = 10\n", ["unknown field `epoch`", "line 2"]),
        ("[sweep]\nwidth = [16]\n", ["unknown field `width`", "line 2"]),
        ("colour = 1\n", ["unknown field `colour`", "line 1"]),
        ("[sweep]\nrho = [0.1, 1.0]\n", ["expected ρ in (0, 1)", "line 2"]),
        ("[training]\nlr = 0\n", ["expected a learning rate from 1.2e-38", "line 2"]),
        ("[sparsity]\nkind = \"topk\"\nk = 0\n", ["expected k from 1 to 16384", "line 3"]),
        ("[sparsity]\nkind = \"l1\"\nweight = -0.1\n", ["expected a penalty weight of 0 or from", "line 3"]),
        (
            "[sparsity]\nkind = \"sparse\"\n",
            ["unknown variant `sparse`, expected one of `kl`, `l1`, `topk`, `batchtopk`, `jumprelu`, `gated`, `none`", "line 2"],
        ),
        (
            "[sparsity]\nkind = \"topk\"\n",
            ["kind = \"topk\" needs `k`: give it with the mechanism or list it in [sweep] k", "bad.toml"],
        ),
        (
            "[sparsity]\nkind = \"topk\"\nk = 5\nrho = 0.1\n",
            ["`rho` belongs to kind = \"kl\", not kind = \"topk\"", "line 1"],
        ),
        ("[sparsity]\nweight = 0.1\n", ["`weight` belongs to kind = \"l1\", \"jumprelu\" or \"gated\", not kind = \"kl\"", "line 1"]),
        ("[sweep]\nsparsity = [{ kind = \"topk\", k = -3 }]\n", ["k", "line 2"]),
        ("[sweep]\nsparsity = [{ kind = \"none\" }, { kind = \"l1\" }]\n", ["kind = \"l1\" needs `weight`", "line 2"]),
        ("[data]\nlabels = [3, 10]\n", ["expected a label from 0 to 9", "line 2"]),
        ("[probe]\nlabels = []\n", ["expected a non-empty list", "line 2"]),
        ("[probe]\nimages = \"thirds\"\n", ["unknown variant `thirds`", "line 2"]),
    ];
    assert_rejected(&cases);
}

#[test]
fn field_code_errors_name_the_key() {
    let cases = [
        (
            "[model]\nactivation = \"relu\"\n",
            ["[model] activation: \"relu\" with kind = \"kl\": the KL penalty needs a sigmoid", "bad.toml"],
        ),
        ("[model]\nactivation = \"tanh\"\n", ["unknown variant `tanh`, expected `sigmoid` or `relu`", "line 2"]),
        ("[model]\ninit = \"xavier\"\n", ["unknown variant `xavier`, expected `pytorch` or `tied`", "line 2"]),
        ("[sparsity]\nkind = \"topk\"\nk = 5\naux_k = 0\n", ["expected k from 1 to 16384", "line 4"]),
        (
            "[sparsity]\nkind = \"topk\"\nk = 5\naux_weight = 0.1\n",
            ["`aux_weight` belongs to the AuxK loss, which `aux_k` turns on", "line 1"],
        ),
        (
            "[sparsity]\nkind = \"topk\"\nk = 5\naux_k = 8\naux_weight = -1\n",
            ["expected an AuxK weight of 0 or from", "line 5"],
        ),
        ("[sparsity]\nkind = \"topk\"\nk = 5\naux_k = 8\ndead_after = 0\n", ["expected a count from 1", "line 5"]),
        (
            "[sparsity]\nkind = \"l1\"\nweight = 0.1\naux_k = 8\n",
            ["`aux_k` belongs to kind = \"topk\", not kind = \"l1\"", "line 1"],
        ),
        (
            "[sparsity]\nkind = \"topk\"\nk = 5\naux_k = 300\n",
            ["[sparsity] aux_k: 300 units: expected 1 to the width, 256", "bad.toml"],
        ),
        (
            "[sparsity]\nkind = \"batchtopk\"\nk = 5\n[training]\nbatch_size = 1\n",
            ["[training] batch_size: 1 with kind = \"batchtopk\"", "bad.toml"],
        ),
        (
            "[sweep]\nsparsity = [{ kind = \"kl\", activation = \"relu\" }]\n",
            ["[model] activation: \"relu\" with kind = \"kl\"", "bad.toml"],
        ),
    ];
    assert_rejected(&cases);
}

#[test]
fn field_codes_expand_with_their_own_activation_and_axes() {
    let text = "[model]\ninit = \"tied\"\n[sweep]\nsparsity = [{ kind = \"kl\" }, \
                { kind = \"topk\", activation = \"relu\", aux_k = 64 }, { kind = \"batchtopk\", activation = \"relu\" }]\n\
                k = [10, 40]\n";
    let grid = parse(text).unwrap().expand();
    let labels: Vec<&str> = grid.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        ["kl-rho0.05-beta1", "topk-k10-aux64-relu", "topk-k40-aux64-relu", "batchtopk-k10-relu", "batchtopk-k40-relu"]
    );
    let activations: Vec<&str> = grid.iter().map(|r| r.config.model.activation.as_str()).collect();
    assert_eq!(activations, ["sigmoid", "relu", "relu", "relu", "relu"], "a mechanism's activation reaches [model]");
    assert!(grid.iter().all(|r| r.config.sparsity.activation.is_none() && r.config.model.init.as_str() == "tied"));
    let aux = grid[1].config.sparsity.config.aux().unwrap();
    assert_eq!((aux.aux_k, aux.aux_weight, aux.dead_after), (64, 1.0 / 32.0, 10_000));
    // A run's settings read back give the same run.
    let again = parse(&grid[2].config.to_toml()).unwrap();
    assert_eq!(again.expand()[0].config, grid[2].config);
}

#[test]
fn loading_names_a_missing_file() {
    let err = ExperimentFile::load(Path::new("experiments/does-not-exist.toml")).unwrap_err().to_string();
    assert!(err.starts_with("experiments/does-not-exist.toml: "), "{err}");
}

#[test]
fn the_shipped_experiments_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let file = ExperimentFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(file.experiment.description.is_some(), "{} says what it is for", path.display());
            assert!(!file.experiment.expand().is_empty());
            n += 1;
        }
    }
    assert!(n >= 3);
}

/// Checks that need more than one key name the keys and what was expected.
#[test]
fn keys_that_must_agree_are_checked_together() {
    let cases = [
        (
            "[model]\nhidden = 16\n[sparsity]\nkind = \"topk\"\nk = 20\n",
            ["k = 20 is more than the hidden width 16", "bad.toml"],
        ),
        (
            "[sparsity]\nkind = \"topk\"\nk = 8\n[sweep]\nhidden = [64, 4]\n",
            ["k = 8 is more than the hidden width 4", "bad.toml"],
        ),
        (
            "[sweep]\nk = [300]\nsparsity = [{ kind = \"topk\", k = 5 }]\n",
            ["k = 300 is more than the hidden width 256", "bad.toml"],
        ),
        ("[sweep]\nk = [5, 10]\n", ["[sweep] k: no run uses kind = \"topk\"", "bad.toml"]),
        (
            "[sparsity]\nkind = \"l1\"\nweight = 1e-3\n[sweep]\nrho = [0.1]\n",
            ["[sweep] rho: no run uses kind = \"kl\"", "bad.toml"],
        ),
        ("[sweep]\nl1_weight = [0.1]\n", ["[sweep] l1_weight: no run uses kind = \"l1\"", "bad.toml"]),
        (
            "[data]\nlabels = [5, 6]\n[probe]\nlabels = [0, 5]\n",
            ["[probe] labels: 0 is not among [data] labels [5, 6]", "bad.toml"],
        ),
    ];
    assert_rejected(&cases);
    let halves = "[data]\nlabels = [5, 6]\n[probe]\nlabels = [0, 5]\nimages = \"halves\"\n";
    assert!(parse(halves).is_ok(), "the halves take the probe's images from the whole training file");
}

#[test]
fn mechanisms_cross_with_the_axes_that_apply_to_them() {
    let e = parse(
        r#"
        [sweep]
        sparsity = [{ kind = "kl", rho = 0.05, beta = 1 }, { kind = "topk", k = 25 }, { kind = "l1", weight = 1e-3 }, { kind = "none" }]
        rho = [0.02, 0.1]
        k = [10, 40]
        seeds = [0, 1]
        "#,
    )
    .unwrap();
    let grid = e.expand();
    let labels: Vec<&str> = grid.iter().step_by(2).map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["kl-rho0.02-beta1", "kl-rho0.1-beta1", "topk-k10", "topk-k40", "l1-w0.001", "none"]);
    assert!(grid[0].id.starts_with("kl-rho0.02-beta1-s0-"), "{}", grid[0].id);
    assert!(grid[7].id.starts_with("topk-k40-s1-"), "{}", grid[7].id);
    assert_eq!(grid[6].config.sparsity_config(), SparsityConfig::Topk { k: 40, aux: None });
    assert_eq!(grid[0].config.sparsity_config().top_k(), None);
    // Each run's own file parses back to the same run.
    for run in &grid {
        let again = parse(&run.config.to_toml()).unwrap();
        assert_eq!(again, run.config, "{}", run.config.to_toml());
    }
}

#[test]
fn run_ids_stay_stable_across_versions() {
    // Ids pinned before sparsity mechanisms, labels and the probe existed:
    // new settings at their defaults are not written into the hashed
    // configuration, so existing results keep their ids and are not redone.
    let rho = parse("[sweep]\nrho = [0.05, 0.1]\n").unwrap().expand();
    assert_eq!((rho[0].id.as_str(), rho[1].id.as_str()), ("rho0.05-84410203", "rho0.1-775a72cf"));
    let kl = "[sparsity]\nkind = \"kl\"\nrho = 0.05\n[probe]\nl2 = 1e-4\n[sweep]\nrho = [0.05, 0.1]\n";
    assert_eq!(parse(kl).unwrap().expand()[0].id, "rho0.05-84410203", "explicit defaults change nothing");
    let text = parse("[sweep]\nrho = [0.05]\n").unwrap().expand()[0].config.to_toml();
    let sparsity = text.split("[sparsity]").nth(1).unwrap().split("\n[").next().unwrap();
    assert_eq!(sparsity.trim(), "rho = 0.05\nbeta = 1.0\nreduction = \"mean\"", "{text}");
    for new_key in ["labels", "[probe]", "l1_weight"] {
        assert!(!text.contains(new_key), "{new_key} written at its default:\n{text}");
    }
}

#[test]
fn settings_written_otherwise_make_the_same_id_and_keep_the_former_one() {
    // Each pair trains the same numbers; the second id of each is the one
    // sae-lab gave before ids hashed the canonical settings (pinned from
    // that version's `--dry-run`), kept so that its folders are adopted.
    let ids = |text: &str| parse(text).unwrap().expand();
    let rho = "[sweep]\nrho = [0.05, 0.1]\n";
    for (written, former) in [
        ("[data]\nlabels = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]\n", "rho0.05-89cc8833"),
        ("[data]\nlabels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n", ""),
        ("[probe]\nlabels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n", ""),
    ] {
        let grid = ids(&format!("{written}{rho}"));
        assert_eq!((grid[0].id.as_str(), grid[1].id.as_str()), ("rho0.05-84410203", "rho0.1-775a72cf"), "{written}");
        if !former.is_empty() {
            assert_eq!(grid[0].former_ids, [former], "{written}");
        }
    }
    let (shuffled, sorted) =
        (ids(&format!("[data]\nlabels = [7, 1, 3]\n{rho}")), ids(&format!("[data]\nlabels = [1, 3, 7]\n{rho}")));
    assert_eq!((shuffled[0].id.as_str(), sorted[0].id.as_str()), ("rho0.05-d811cb55", "rho0.05-d811cb55"));
    assert_eq!(shuffled[0].former_ids, ["rho0.05-f0a21456"]);
    assert!(sorted[0].former_ids.is_empty(), "already canonical: {:?}", sorted[0].former_ids);
    assert_eq!(shuffled[0].config.data.kept_labels(), Some(vec![1, 3, 7]), "the run's settings are canonical");
    let l1 = |w: &str| ids(&format!("[sparsity]\nkind = \"l1\"\nweight = {w}\n"));
    assert_eq!((l1("-0.0")[0].id.as_str(), l1("0.0")[0].id.as_str()), ("run-7071e33f", "run-7071e33f"));
    assert_eq!(l1("-0.0")[0].former_ids, ["run-588cfb4a"]);
    let swept = ids("[sweep]\nsparsity = [{ kind = \"l1\", weight = -0.0 }, { kind = \"l1\", weight = 0.1 }]\n");
    assert_eq!(swept[0].id, "l1-w0-7071e33f");
    // A description adds the first round's id, which hashed it.
    let described = ids(&format!("description = \"d\"\n[data]\nlabels = [7, 1, 3]\n{rho}"));
    assert_eq!(described[0].id, "rho0.05-d811cb55");
    assert_eq!(described[0].former_ids.len(), 2, "{:?}", described[0].former_ids);
    assert_eq!(described[0].former_ids[1], "rho0.05-f0a21456");
}

#[test]
fn the_ids_of_every_shipped_experiment_are_pinned() {
    // Pinned from `cargo xtask sweep experiments/NAME.toml --dry-run` before
    // ids hashed the canonical settings: the runs, and 16 hex digits of the
    // SHA-256 of their ids joined by line breaks. A shipped experiment's
    // results must never be retrained because sae-lab changed, unless what
    // trains them changed: mechanisms and k-sparse were pinned again when
    // ReLU codes took the field's recipe (a pre-encoder bias, unit-norm
    // atoms) by default, and mechanisms gained an L1 weight; mechanisms
    // again when it gained JumpReLU and Gated (its 50 earlier runs keep
    // their ids: the sweep found them complete). search-asha's runs are
    // search-halving's: the search section names no run.
    let pins = [
        ("beta", 12, "d7876528e68f73e7"),
        ("k-sparse", 1, "5c6ce656537b99f0"),
        ("mechanisms", 70, "e59e4c9f4926ea70"),
        ("noise", 9, "4e368d951b5df142"),
        ("quick", 2, "7e3c886cea83d4bc"),
        ("recipe", 24, "5020a03da743e464"),
        ("rho", 10, "9dfdd64be4a1cad4"),
        ("rho-beta", 16, "1bc1ccd61ebf8883"),
        ("search-asha", 81, "ba79ab8a94fbb38b"),
        ("search-halving", 81, "ba79ab8a94fbb38b"),
        ("search-random", 16, "94463d794442ff6f"),
        ("seed-clean", 3, "1ed64b1ba47ffa21"),
        ("seed-denoise", 1, "9ca4e443d66350c6"),
        ("seed-half", 1, "3c8fb6ecb6cab3cf"),
        ("self-taught", 2, "6e78a53eb215deb9"),
        ("width", 7, "bd262e3149a7db4d"),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut shipped: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".toml").map(String::from))
        .collect();
    shipped.sort();
    assert_eq!(shipped, pins.iter().map(|p| p.0).collect::<Vec<_>>(), "a new shipped experiment gets its pin");
    for (name, runs, digest) in pins {
        let grid = ExperimentFile::load(&dir.join(format!("{name}.toml"))).unwrap().experiment.expand();
        let ids: Vec<&str> = grid.iter().map(|r| r.id.as_str()).collect();
        let hash = hex::encode(&sha2::Sha256::digest(ids.join("\n").as_bytes())[..8]);
        assert_eq!((grid.len(), hash.as_str()), (runs, digest), "{name}: {ids:#?}");
    }
}

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_refused_by_load_itself() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(std::ffi::OsStr::from_bytes(b"bad\xff.toml"));
    std::fs::write(&path, "").unwrap();
    let err = ExperimentFile::load(&path).unwrap_err();
    assert!(matches!(err, sae_sweep::SweepError::NotUtf8 { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(r#"bad\xFF.toml": the file name is not UTF-8 text"#) && !msg.contains("empty"), "{msg}");
}

#[test]
fn an_experiment_name_that_is_not_a_plain_folder_name_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for file in ["...toml", ".hidden.toml"] {
        let path = tmp.path().join(file);
        std::fs::write(&path, "").unwrap();
        let err = common::chain(&ExperimentFile::load(&path).unwrap_err());
        assert!(err.contains(file) && err.contains("must be a plain folder name"), "{file}: {err}");
    }
    for bad in ["", "..", "../x", "a/b"] {
        assert!(sae_sweep::experiment_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(sae_sweep::experiment_name("long exp").unwrap(), "long exp");
}
