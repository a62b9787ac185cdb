//! Runs that look fine and are not: training that did nothing (Adam's
//! moments overflowed, an update below float32) and training that blew up
//! while its loss stayed finite are recorded as failed, with a reason that
//! says which, for every mechanism and both engines; and values that cannot
//! train at all are refused when the file is read.

mod common;

use common::{assert_rejected, experiment, fixture, Table};

/// The status and reason of every run of a sweep of `extra` over [`common::BASE`].
fn outcomes(name: &str, extra: &str) -> Vec<(String, String)> {
    let f = fixture();
    let file = experiment(name, extra);
    common::sweep(&file, &f.data, &f.results, 2, None).unwrap();
    let table = Table::read(&f.results.join(name).join("runs.csv"));
    (0..table.rows.len()).map(|i| (table.text(i, "status").into(), table.text(i, "reason").into())).collect()
}

#[test]
fn a_penalty_so_large_that_adam_overflows_trains_nothing_and_fails() {
    for engine in ["fast", "candle"] {
        let extra = format!(
            "engine = \"{engine}\"\n[sweep]\nsparsity = [{{ kind = \"kl\", beta = 1e30 }}, {{ kind = \"l1\", weight = 1e30 }}]\n"
        );
        for (status, reason) in outcomes("overflow", &extra) {
            assert_eq!(status, "failed", "{engine}: {reason}");
            assert!(reason.starts_with("trained nothing: Adam's moments overflowed float32"), "{engine}: {reason}");
        }
    }
}

#[test]
fn a_run_that_blew_up_with_a_finite_loss_fails_for_every_mechanism() {
    let mechanisms =
        r#"sparsity = [{ kind = "none" }, { kind = "l1", weight = 1e-3 }, { kind = "topk", k = 3 }, { kind = "kl" }]"#;
    for engine in ["fast", "candle"] {
        let extra = format!("engine = \"{engine}\"\n[sweep]\nlr = [1000, 1e30]\n{mechanisms}\n");
        for (status, reason) in outcomes("blown", &extra) {
            assert_eq!(status, "failed", "{engine}: {reason}");
            assert!(reason.starts_with("diverged: "), "{engine}: {reason}");
        }
    }
    // The same grid at a sane learning rate trains.
    for (status, reason) in outcomes("sane", &format!("[sweep]\n{mechanisms}\n")) {
        assert_eq!(status, "ok", "{reason}");
    }
}

#[test]
fn values_float32_cannot_hold_are_refused_when_the_file_is_read() {
    assert_rejected(&[
        ("[training]\nlr = 1e-300\n", ["line 2", "a learning rate from 1.2e-38", "found 1e-300"]),
        ("[training]\nlr = 1e39\n", ["line 2", "float32", "found 1e39"]),
        ("[training]\nweight_decay = 1e-45\n", ["line 2", "weight decay", "found 1e-45"]),
        ("[sparsity]\nbeta = 1e40\n", ["line 2", "float32", "found 1e40"]),
        ("[sweep]\nrho = [0.05, 1e-250]\n", ["line 2", "ρ in (0, 1)", "found 1e-250"]),
        ("[sweep]\nl1_weight = [1e-39]\n", ["line 2", "a penalty weight", "found 1e-39"]),
    ]);
}

#[test]
fn sets_too_small_to_score_and_one_class_probes_are_refused() {
    assert_rejected(&[
        ("[data]\nvalidation = 1\n", ["data.validation = 1", "at least 2 images"]),
        ("[data]\ntest = 1\n", ["data.test = 1", "at least 2 images"]),
        ("[data]\nlabels = [5]\n", ["data.labels", "two classes or more"]),
        ("[probe]\nlabels = [3]\n", ["probe.labels = [3]", "two classes or more"]),
        ("[data]\nlabels = [3, 4, 3]\n", ["data.labels", "lists 3 more than once"]),
        ("[probe]\nlabels = [1, 1]\n", ["probe.labels", "lists 1 more than once"]),
        ("[probe]\nl2 = 1e30\n", ["a probe L2 weight from 0 to 10", "found 1e30"]),
    ]);
    // One data label is fine when the probe takes its images elsewhere.
    assert!(common::parse("[data]\nlabels = [5]\n[probe]\nlabels = [0, 1]\nimages = \"halves\"\n").is_ok());
}

#[test]
fn ids_stay_short_for_any_accepted_value() {
    let text = "[sweep]\nrho = [0.05, 1.2345678901234567e-30]\nbeta = [3e38]\nlr = [1.5e-38]\n\
                corruption = [{ kind = \"gaussian\", std = 1e-40 }]\nseeds = [9223372036854775807]\n";
    let experiment = common::parse(text).unwrap();
    let runs = experiment.expand();
    for run in &runs {
        assert!(run.id.len() <= 120, "{} bytes: {}", run.id.len(), run.id);
    }
    assert!(runs[1].id.starts_with("gaussian1e-40-rho1.2345678901234567e-30-beta3e38-lr1.5e-38-s"), "{}", runs[1].id);
}

#[test]
fn absurd_thread_counts_and_descriptions_are_refused() {
    assert_rejected(&[("[training]\nthreads = 1000000\n", ["line 2", "threads from 1 to 256", "found 1000000"])]);
    let long = format!("description = \"{}\"\n", "x".repeat(10_001));
    assert_rejected(&[(long.as_str(), ["description: 10001 bytes", "at most 10000"])]);
}
