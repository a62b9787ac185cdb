//! Random search: trial draws that depend on the seed and the trial alone,
//! values inside their ranges and the parameters' bounds, lists crossed
//! with trials, and an error for every bad `[search]` input.

mod common;

use common::{assert_rejected, experiment, fixture, parse, sweep};
use sae_sweep::{Param, ResultsDir, RunSpec, STATE_FILE};

const SEARCH: &str = "[search]\nstrategy = \"random\"\ntrials = TRIALS\nseed = 7\n[search.ranges]\n\
                      rho = { log_uniform = [0.005, 0.3] }\nlr = { uniform = [1e-4, 1e-2] }\n\
                      hidden = { choice = [16, 64, 256] }\nepochs = { uniform = [1, 4] }\n";

fn search(trials: usize, extra: &str) -> String {
    format!("{extra}{}", SEARCH.replace("TRIALS", &trials.to_string()))
}

#[test]
fn more_trials_keep_the_first_ones() {
    let eight = parse(&search(8, "")).unwrap().expand();
    let sixteen = parse(&search(16, "")).unwrap().expand();
    assert_eq!(eight.len(), 8);
    assert_eq!(sixteen.len(), 16);
    assert_eq!(eight[..], sixteen[..8], "trial i's draw depends on the seed and i alone");
    let other_seed = parse(&search(8, "").replace("seed = 7", "seed = 8")).unwrap().expand();
    assert_ne!(eight[0].id, other_seed[0].id);
}

#[test]
fn draws_stay_in_their_ranges_rounded_to_three_digits() {
    let runs = parse(&search(64, "")).unwrap().expand();
    let mut widths = Vec::new();
    for run in &runs {
        let c = &run.config;
        let rho = Param::Rho.read(c).and_then(|v| v.number()).unwrap();
        assert!((0.005..=0.3).contains(&rho), "{rho}");
        let scale = 10f64.powi(2 - rho.log10().floor() as i32);
        assert!(((rho * scale).round() - rho * scale).abs() < 1e-6, "{rho} has three significant digits");
        assert!((1e-4..=1e-2).contains(&c.training.lr.0));
        assert!((1..=4).contains(&c.training.epochs.0), "a whole number of epochs");
        widths.push(c.model.hidden.0);
        assert!(run.label.contains(&format!("rho{}", sae_data::short_number(rho))), "{}", run.label);
    }
    for w in [16, 64, 256] {
        assert!(widths.contains(&w), "every choice is drawn in 64 trials");
    }
}

/// A range narrower than the three-digit rounding: each draw stays in it,
/// unrounded where rounding would leave it (rounded, 0.9996–0.9999 would
/// draw 1.00, outside ρ's bounds); a log-uniform range's far end as well.
#[test]
fn a_range_narrower_than_the_rounding_keeps_its_draws_inside() {
    for range in ["uniform = [0.9996, 0.9999]", "log_uniform = [0.9996, 0.9999]", "uniform = [0.5, 0.9999]"] {
        let text = format!("[search]\nstrategy = \"random\"\ntrials = 1000\n[search.ranges]\nrho = {{ {range} }}\n");
        let [low, high] = if range.contains("0.5") { [0.5, 0.9999] } else { [0.9996, 0.9999] };
        for run in parse(&text).unwrap().expand() {
            let rho = Param::Rho.read(&run.config).and_then(|v| v.number()).unwrap();
            assert!((low..=high).contains(&rho), "{range}: drew {rho}");
        }
    }
}

#[test]
fn sweep_lists_cross_every_trial_and_seeds_stay_replicates() {
    let runs = parse(&search(3, "[sweep]\nseeds = [0, 1]\nbeta = [1, 3]\n")).unwrap().expand();
    assert_eq!(runs.len(), 12);
    // Trial outermost, then the lists, seeds innermost: replicates share a label.
    assert_eq!(runs[0].label, runs[1].label);
    assert_ne!(runs[0].id, runs[1].id);
    assert_eq!(runs[0].config.model.hidden, runs[3].config.model.hidden, "one trial, two betas");
}

#[test]
fn a_grid_experiment_is_unchanged_by_the_search_section() {
    let grid = parse("[sweep]\nrho = [0.05, 0.1]\n").unwrap().expand();
    let explicit = parse("[sweep]\nrho = [0.05, 0.1]\n[search]\nstrategy = \"grid\"\n").unwrap().expand();
    assert_eq!(grid, explicit);
    assert!(!grid[0].config.to_toml().contains("search"));
}

#[test]
fn bad_search_input_names_the_key() {
    let random = |ranges: &str| format!("[search]\nstrategy = \"random\"\ntrials = 4\n[search.ranges]\n{ranges}\n");
    let cases = [
        (random("rho = { uniform = [0.3, 0.1] }"), ["expected finite bounds [low, high] with low < high", "line 5"]),
        (random("rho = { log_uniform = [0, 0.1] }"), ["a log-uniform range needs bounds above 0", "line 5"]),
        (random("hidden = { choice = [] }"), ["expected a non-empty choice", "line 5"]),
        (random("rho = { normal = [0.1, 0.2] }"), ["unknown variant `normal`", "line 5"]),
        (
            random("colour = { choice = [1] }"),
            ["[search.ranges] colour: not a parameter a search can draw", "bad.toml"],
        ),
        (random("rho = { uniform = [0.1, 2] }"), ["[search.ranges] rho: expected ρ in (0, 1)", "bad.toml"]),
        (random("hidden = { choice = [64, 0] }"), ["[search.ranges] hidden: expected a width from 1", "bad.toml"]),
        (
            random("rho = { uniform = [0.1, 0.2] }")
                .replace("[search]", "[sparsity]\nkind = \"topk\"\nk = 5\n[search]"),
            ["[search.ranges] rho: no mechanism of the search is one rho applies to", "bad.toml"],
        ),
        (
            random("rho = { uniform = [0.1, 0.2] }").replace("[search]", "[sweep]\nrho = [0.1]\n[search]"),
            ["[search.ranges] rho: also listed in [sweep]", "bad.toml"],
        ),
        (
            random("k = { choice = [300] }").replace("[search]", "[sparsity]\nkind = \"topk\"\n[search]"),
            ["[sparsity] k: 300 units", "bad.toml"],
        ),
        (
            "[search]\nstrategy = \"random\"\n[search.ranges]\nrho = { uniform = [0.1, 0.2] }\n".into(),
            ["ranges need `trials`", "bad.toml"],
        ),
        ("[search]\nstrategy = \"random\"\ntrials = 0\n".into(), ["expected a count from 1", "line 3"]),
        ("[search]\nstrategy = \"random\"\ntrials = 3\n".into(), ["needs at least one range", "bad.toml"]),
        ("[search]\ntrials = 3\n".into(), ["ranges and trials need strategy = \"random\" or \"halving\"", "bad.toml"]),
        ("[search]\nstrategy = \"optuna\"\n".into(), ["unknown variant `optuna`", "line 2"]),
    ];
    let cases: Vec<(&str, [&str; 2])> = cases.iter().map(|(t, e)| (t.as_str(), *e)).collect();
    assert_rejected(&cases);
}

#[test]
fn bad_halving_input_names_the_key() {
    let halving = |keys: &str| format!("[sweep]\nrho = [0.05, 0.1]\n[search]\nstrategy = \"halving\"\n{keys}\n");
    let cases = [
        (halving("eta = 1"), ["expected η from 2 to 100", "line 5"]),
        (
            halving("min_epochs = 5\nmax_epochs = 3"),
            ["[search] min_epochs = 5 is more than max_epochs = 3", "bad.toml"],
        ),
        (halving("metric = \"probe_accuracy\""), ["`probe_accuracy` is scored on the test set only", "line 5"]),
        (halving("metric = \"loss\""), ["`loss` is not a metric of the results schema", "line 5"]),
        (halving("pareto = \"mse\""), ["pareto = \"mse\" is the metric itself", "bad.toml"]),
        (
            halving("").replace("rho = [0.05, 0.1]", "epochs = [1, 2]"),
            ["[sweep] epochs: a halving search sets each rung's epochs", "bad.toml"],
        ),
        ("[search]\neta = 3\n".into(), ["[search] eta needs strategy = \"halving\"", "bad.toml"]),
        (halving("trials = 4"), ["[search] trials need ranges", "bad.toml"]),
    ];
    let cases: Vec<(&str, [&str; 2])> = cases.iter().map(|(t, e)| (t.as_str(), *e)).collect();
    assert_rejected(&cases);
}

/// A halving search promotes only by what every configuration it trains
/// measures: the KL divergence is refused over TopK, L1 or plain codes,
/// swept or drawn, naming the key, its line and the codes that lack it.
#[test]
fn a_search_objective_some_configuration_cannot_measure_is_refused() {
    let halving = |sweep: &str, keys: &str| format!("{sweep}[search]\nstrategy = \"halving\"\n{keys}\n");
    let topk = "[sparsity]\nkind = \"topk\"\n[sweep]\nk = [4, 8]\n";
    let mixed = "[sweep]\nsparsity = [{ kind = \"topk\", k = 4 }, { kind = \"none\" }, { kind = \"kl\" }]\n";
    let drawn = "[search.ranges]\nsparsity = { choice = [{ kind = \"kl\" }, { kind = \"l1\", weight = 0.1 }] }\n";
    assert_rejected(&[
        (&halving(topk, "metric = \"kl\""), ["search.metric = \"kl\"", "line 7", "topk-k4, topk-k8"]),
        (&halving(mixed, "pareto = \"kl\""), ["search.pareto = \"kl\"", "line 5", "none, topk-k4"]),
        (&halving("", &format!("metric = \"kl\"\ntrials = 4\n{drawn}")), ["search.metric", "line 3", "l1-w0.1"]),
    ]);
    assert!(parse(&halving("[sweep]\nrho = [0.05, 0.1]\n", "metric = \"kl\"\npareto = \"l0\"")).is_ok());
}

#[test]
fn halving_promotes_the_best_third_by_the_mean_over_seeds() {
    let f = fixture();
    let text = "[sweep]\nlr = [1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1]\nseeds = [0, 1]\n\
                [search]\nstrategy = \"halving\"\nmin_epochs = 1\nmax_epochs = 2\neta = 3\n";
    let file = experiment("halving", text);
    let summary = sweep(&file, &f.data, &f.results, 2, None).unwrap();
    assert_eq!(summary.total, 12 + 4, "six trials of two seeds, then the best two trials");
    let dir = ResultsDir::new(&f.results, "halving");
    let grid = file.experiment.expand();
    let val = |id: &str| dir.load_curve(id).unwrap().last().unwrap().val_mse;
    let mut first: Vec<(f64, &str)> = Vec::new();
    for pair in grid.iter().filter(|r| r.rung == Some(0)).collect::<Vec<_>>().chunks(2) {
        assert_eq!(pair[0].label, pair[1].label, "replicates sit together");
        first.push(((val(&pair[0].id) + val(&pair[1].id)) / 2.0, &pair[0].label));
    }
    first.sort_by(|a, b| a.0.total_cmp(&b.0));
    let stored: Vec<&RunSpec> = grid.iter().filter(|r| r.rung == Some(1) && dir.run_dir(&r.id).is_dir()).collect();
    assert_eq!(stored.len(), 4);
    for r in &stored {
        let parent = grid.iter().find(|g| Some(&g.id) == r.continues.as_ref()).unwrap();
        assert!([first[0].1, first[1].1].contains(&parent.label.as_str()), "{} was not among the best", parent.label);
        assert_eq!(r.config.training.epochs.0, 2);
    }
    let states: Vec<&str> =
        grid.iter().filter(|r| dir.run_dir(&r.id).join(STATE_FILE).exists()).map(|r| r.id.as_str()).collect();
    assert!(states.is_empty(), "a finished search keeps no training state: {states:?}");
}

#[test]
fn a_topk_search_may_draw_its_k() {
    let text = "[sparsity]\nkind = \"topk\"\n[search]\nstrategy = \"random\"\ntrials = 4\n[search.ranges]\nk = { choice = [4, 8] }\n";
    let runs = parse(text).unwrap().expand();
    assert!(runs.len() <= 2 && runs.iter().all(|r| matches!(r.config.sparsity.config.top_k(), Some(4 | 8))));
}

/// A configuration only a draw makes, refused naming `[search.ranges]`,
/// the ranges that draw it, the drawn values and the line; a `[search]`
/// key with nothing to act on refused; a range a drawn mechanism uses
/// accepted.
#[test]
fn a_drawn_configuration_that_cannot_train_is_refused_naming_its_ranges_and_line() {
    let random = |ranges: &str| format!("[search]\nstrategy = \"random\"\ntrials = 4\n[search.ranges]\n{ranges}\n");
    let topk = "[model]\nhidden = 64\n[sparsity]\nkind = \"topk\"\nk = 4\n";
    let kl = "{ kind = \"kl\", rho = 0.05, beta = 1 }";
    let cases = [
        (
            format!("{topk}{}", random("k = { uniform = [1, 20] }\nhidden = { choice = [8, 64] }")),
            vec!["line 11", "[search.ranges] hidden, k: a configuration the search may draw (hidden = 8, k = 20)", "[sparsity] k: 20 units"],
        ),
        (
            random(&format!("sparsity = {{ choice = [{{ kind = \"topk\" }}, {kl}] }}")),
            vec!["line 5", "[search.ranges] sparsity: kind = \"topk\" needs `k`: give it in the choice"],
        ),
        (
            format!("[model]\nhidden = 16\n{}", random(&format!("sparsity = {{ choice = [{{ kind = \"topk\", k = 4, aux_k = 32 }}, {kl}] }}"))),
            vec!["line 7", "(sparsity = topk-k4-aux32) cannot train: [sparsity] aux_k: 32 units"],
        ),
        (
            random("sparsity = { choice = [{ kind = \"kl\", rho = 0.05, beta = 1, activation = \"relu\" }, { kind = \"none\" }] }"),
            vec!["line 5", "(sparsity = kl-rho0.05-beta1-relu) cannot train", "the KL penalty needs a sigmoid code"],
        ),
        (
            random("rho = { uniform = [0.01, 0.1] }\nsparsity = { choice = [{ kind = \"topk\", k = 4 }, { kind = \"none\" }] }"),
            vec!["[search.ranges] rho: no mechanism of the search is one rho applies to"],
        ),
        (random("rho = { uniform = [0.01, 0.1] }").replace("trials = 4", "trials = 100001"), vec!["line 3", "search.trials = 100001: more than the 100000 runs"]),
        ("[sweep]\nrho = [0.01, 0.1]\n[search]\nseed = 3\n".into(), vec!["line 4", "[search] seed seeds the draws of [search.ranges], and this search draws nothing"]),
    ];
    for (text, expected) in &cases {
        let msg = parse(text).expect_err(text);
        assert!(msg.starts_with("experiments/bad.toml: "), "{msg}");
        assert!(expected.iter().all(|e| msg.contains(e)), "for {text:?}: {msg}");
    }
    let k_for_a_drawn_topk =
        random(&format!("k = {{ uniform = [1, 20] }}\nsparsity = {{ choice = [{{ kind = \"topk\" }}, {kl}] }}"));
    let runs = parse(&k_for_a_drawn_topk).unwrap().expand();
    assert!(runs.iter().all(|r| r.config.sparsity.config.top_k().is_none_or(|k| (1..=20).contains(&k))), "{runs:?}");
}

#[test]
fn trials_that_repeat_an_earlier_draw_are_warned_of() {
    let text = "[search]\nstrategy = \"random\"\ntrials = 10\n[search.ranges]\nhidden = { choice = [8, 16] }\n";
    let experiment = parse(text).unwrap();
    assert_eq!((experiment.expand().len(), experiment.distinct_trials()), (2, 2));
    let warnings = experiment.warnings();
    assert!(
        warnings[0].starts_with("search.trials = 10: the ranges drew 2 distinct configurations, so 8 trials repeat"),
        "{warnings:?}"
    );
    assert!(parse(&search(8, "")).unwrap().warnings().is_empty(), "real ranges draw anew");
}
