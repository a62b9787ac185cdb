//! Checks of an experiment that span several keys: a batch no larger than
//! the training set, bf16 only with the fast engine, sweep lists without repeated values, a grid of at
//! most [`MAX_RUNS`] runs, TopK's k against the widths, each per-kind sweep
//! axis against the mechanisms it applies to, and the probe's labels
//! against the data's.

use std::path::Path;

use sae_core::{validate, CoreError, EngineKind, Precision, Setting, SparsityConfig};

use crate::position::position;
use crate::search::apply;
use crate::sparsity::{SparsityKind, SparsitySection};
use crate::values::{MAX_DESCRIPTION, MAX_RUNS};
use crate::{Experiment, Objective, Param, ProbeImages, SweepError};

/// The fewest validation or test images: the FVU needs their variance.
const MIN_EVAL_IMAGES: usize = 2;

/// The first value of `values` that an earlier one equals, with its
/// position.
fn first_repeat<T: PartialEq>(values: &[T]) -> Option<(usize, &T)> {
    values.iter().enumerate().find(|(i, v)| values[..*i].contains(v))
}

/// sae-core's refusal of a model with its mechanism and batch size, with
/// the setting at fault named by its key in the experiment file.
fn in_file_terms(error: CoreError) -> String {
    let CoreError::Config { setting, message } = &error else { return error.to_string() };
    let key = match setting {
        Setting::Activation => "[model] activation",
        Setting::K => "[sparsity] k",
        Setting::AuxK => "[sparsity] aux_k",
        Setting::AuxWeight => "[sparsity] aux_weight",
        Setting::DeadAfter => "[sparsity] dead_after",
        Setting::BatchSize => "[training] batch_size",
        Setting::Epochs => "[training] epochs",
        Setting::TieWeights => "[model] tie_weights",
        Setting::KSchedule => "[training] k_schedule",
        Setting::Architecture => "[sparsity] kind",
        Setting::UnitAtoms => "[model] unit_atoms",
        Setting::Weight => "[sparsity] weight",
        Setting::Bandwidth => "[sparsity] bandwidth",
        Setting::InitialThreshold => "[sparsity] initial_threshold",
        Setting::FrontierK | Setting::FrontierImages => return error.to_string(),
    };
    format!("{key}: {message}")
}

impl Experiment {
    /// Checks what no single key can: run after parsing `text`, so every
    /// experiment read from a file passes it.
    ///
    /// # Errors
    /// [`SweepError::Parse`] naming `path`, the keys and what was expected,
    /// and for a repeated value its line and column in `text`.
    pub(crate) fn check(&self, path: &Path, text: &str) -> Result<(), SweepError> {
        let fail = |message: String| Err(SweepError::Parse { path: path.into(), message });
        let (batch, train) = (self.training.batch_size.0, self.data.train.0);
        if batch > train {
            return fail(format!(
                "training.batch_size = {batch} is larger than data.train = {train}: not one full batch, so nothing \
                 would train; expected a batch size ≤ {train}"
            ));
        }
        let t = &self.training;
        if t.precision != Precision::F32 && t.engine.on(t.device) == EngineKind::Candle {
            return fail(format!(
                "training.precision = \"{}\" needs engine = \"fast\" on device = \"cpu\": the candle engine trains \
                 in f32 only",
                t.precision.as_str()
            ));
        }
        self.check_sizes().or_else(fail)?;
        self.check_training_length().or_else(fail)?;
        self.check_probe_alpha().or_else(fail)?;
        self.check_labels(text).or_else(fail)?;
        self.check_search(text).or_else(fail)?;
        self.check_objectives(text).or_else(fail)?;
        // Every list of the sweep section, whatever its key, through its JSON form.
        let lists = serde_json::to_value(&self.sweep).expect("a sweep section serialises");
        let trials = self.search.trials.map_or(1, |t| t.0);
        if trials > MAX_RUNS {
            return fail(format!(
                "{}search.trials = {trials}: more than the {MAX_RUNS} runs an experiment may hold",
                position(text, &["search", "trials"], None)
            ));
        }
        let mut runs = trials;
        for (key, values) in lists.as_object().into_iter().flatten() {
            let values = values.as_array().map(Vec::as_slice).unwrap_or_default();
            if let Some((i, dup)) = first_repeat(values) {
                return fail(format!(
                    "{}sweep.{key} lists {dup} more than once: each value must appear once (it would train the same \
                     run again and count it as a replicate); replicates are `seeds`, one per seed",
                    position(text, &["sweep", key], Some(i))
                ));
            }
            runs = runs.saturating_mul(values.len());
        }
        if runs > MAX_RUNS {
            let by = if trials > 1 {
                format!(" ({trials} trials, each crossed with the [sweep] lists)")
            } else {
                String::new()
            };
            return fail(format!(
                "the sweep crosses to {runs} runs{by}, more than the {MAX_RUNS} an experiment may hold"
            ));
        }
        self.check_mechanisms(text).or_else(fail)?;
        self.check_models(text).or_else(fail)
    }

    /// The smallest sets the metrics are defined on, as a message.
    fn check_sizes(&self) -> Result<(), String> {
        if let Some(d) = self.description.as_ref().filter(|d| d.len() > MAX_DESCRIPTION) {
            return Err(format!(
                "description: {} bytes, expected at most {MAX_DESCRIPTION} (it is copied into every run's folder)",
                d.len()
            ));
        }
        for (key, n) in [("validation", self.data.validation.0), ("test", self.data.test.0)] {
            if n < MIN_EVAL_IMAGES {
                return Err(format!(
                    "data.{key} = {n}: expected at least {MIN_EVAL_IMAGES} images (the FVU divides by the variance \
                     of the clean images, which one image does not have)"
                ));
            }
        }
        Ok(())
    }

    /// Each model of the grid with its mechanism (see [`Experiment::models`])
    /// under each of the search's extreme draws: every configuration the
    /// checks that need whole runs look at, drawn ones included.
    pub(crate) fn extreme_models(&self) -> Vec<Experiment> {
        let draws = self.extreme_draws();
        self.models().iter().flat_map(|m| draws.iter().map(|d| apply(d, m.clone()))).collect()
    }

    /// A probe's α·k within every width, for TopK runs only (drawn ones
    /// included).
    fn check_probe_alpha(&self) -> Result<(), String> {
        let Some(alpha) = self.probe.alpha.map(|a| a.0) else { return Ok(()) };
        for run in self.extreme_models() {
            let Some(k) = run.sparsity.config.top_k() else {
                return Err(format!(
                    "probe.alpha is set, but a run's mechanism is \"{}\": expected kind = \"topk\" only",
                    SparsityKind::of(&run.sparsity.config).as_str()
                ));
            };
            let h = run.model.hidden.0;
            if k.saturating_mul(alpha) > h {
                return Err(format!("probe.alpha = {alpha}: α·k = {} is above the width {h}", k.saturating_mul(alpha)));
            }
        }
        Ok(())
    }

    /// Label lists without repeats (each listed once, as sweep values are:
    /// a repeat is a slip, and would make a run id of its own), and a probe
    /// of two classes or more.
    fn check_labels(&self, text: &str) -> Result<(), String> {
        for (section, labels) in [("data", self.data.kept_labels()), ("probe", self.probe.kept_labels())] {
            let labels = labels.unwrap_or_default();
            if let Some((i, dup)) = first_repeat(&labels) {
                return Err(format!(
                    "{}{section}.labels lists {dup} more than once: expected each label once",
                    position(text, &[section, "labels"], Some(i))
                ));
            }
        }
        let probe_labels = match (self.probe.kept_labels(), self.probe.images) {
            (Some(labels), _) => Some(("probe.labels", labels)),
            (None, ProbeImages::Splits) => {
                self.data.kept_labels().map(|l| ("data.labels (the probe's classes when probe.labels is not set)", l))
            }
            (None, ProbeImages::Halves) => None,
        };
        match probe_labels {
            Some((key, labels)) if labels.len() < 2 => Err(format!(
                "{key} = {labels:?}: the linear probe needs two classes or more (with one class every answer is \
                 right)"
            )),
            _ => Ok(()),
        }
    }

    /// The mechanisms' checks, as a message.
    fn check_mechanisms(&self, text: &str) -> Result<(), String> {
        let s = &self.sweep;
        let listed = s.sparsity.as_ref().map_or_else(|| vec![self.sparsity], |l| l.0.clone());
        for &p in Param::ALL.iter().filter(|p| p.of_a_mechanism() && p.is_swept(s)) {
            if !listed.iter().any(|m| p.applies_to(SparsityKind::of(&m.config))) {
                let kinds: Vec<String> = p.def().mechanisms.iter().map(|k| format!("\"{}\"", k.as_str())).collect();
                return Err(format!(
                    "[sweep] {key}: no run uses kind = {}, the only mechanism {key} applies to",
                    kinds.join(" or "),
                    key = p.def().key
                ));
            }
        }
        let widths = s.hidden.as_ref().map_or_else(|| vec![self.model.hidden], |l| l.0.clone());
        let narrowest = widths.iter().map(|w| w.0).min().expect("at least one width");
        let ks = listed.iter().filter_map(|m| m.config.top_k()).chain(s.k.iter().flat_map(|l| l.0.iter().map(|k| k.0)));
        if let Some(k) = ks.filter(|&k| k > narrowest).max() {
            return Err(format!("k = {k} is more than the hidden width {narrowest}: TopK keeps at most every unit"));
        }
        if let (ProbeImages::Splits, Some(probe), Some(data)) =
            (self.probe.images, self.probe.kept_labels(), self.data.kept_labels())
        {
            if let Some(l) = probe.iter().find(|l| !data.contains(l)) {
                return Err(format!(
                    "[probe] labels: {l} is not among [data] labels {data:?}, so the training split has no image of it \
                     (images = \"halves\" takes the probe's images from the whole training file)"
                ));
            }
        }
        let mechanisms = self.mechanisms();
        let k_missing = |m: &&SparsitySection| m.config.top_k().or(m.config.batch_top_k()) == Some(0);
        if let Some(m) = mechanisms.iter().find(k_missing).filter(|_| !self.varies(Param::K)) {
            return Err(format!(
                "kind = \"{}\" needs `k`: give it with the mechanism or list it in [sweep] k",
                SparsityKind::of(&m.config).as_str()
            ));
        }
        if let Some((_, dup)) = first_repeat(&mechanisms) {
            return Err(format!(
                "the sweep gives the mechanism {} more than once (a [sweep] axis overrides the value a listed \
                 mechanism sets): each run must appear once",
                dup.label()
            ));
        }
        let drawn_without_k = self.extreme_models().into_iter().find(|r| k_missing(&&r.sparsity));
        if let Some(run) = drawn_without_k.filter(|_| !self.varies(Param::K)) {
            return Err(format!(
                "{}[search.ranges] sparsity: kind = \"{}\" needs `k`: give it in the choice, or draw it from a `k` \
                 range",
                position(text, &["search", "ranges", "sparsity"], None),
                SparsityKind::of(&run.sparsity.config).as_str()
            ));
        }
        Ok(())
    }

    /// A halving search's objectives, each measured by every configuration
    /// it may train (drawn mechanisms included): the KL divergence from ρ
    /// by KL codes only.
    fn check_objectives(&self, text: &str) -> Result<(), String> {
        let mut unmeasured: Vec<String> = (self.extreme_models().into_iter())
            .filter(|run| !matches!(run.sparsity.config, SparsityConfig::Kl { .. }))
            .map(|run| run.sparsity.label())
            .collect();
        unmeasured.sort();
        unmeasured.dedup();
        for (key, objective) in [("metric", self.search.metric), ("pareto", self.search.pareto)] {
            if objective == Some(Objective::Kl) && !unmeasured.is_empty() {
                return Err(format!(
                    "{}search.{key} = \"kl\": the KL divergence is measured on KL codes only, and the search also \
                     trains {}; expected an objective every configuration measures: mse, l0 or active_per_image",
                    position(text, &["search", key], None),
                    unmeasured.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// sae-core's own checks of each model of the grid with its mechanism
    /// and the batch size (a KL code that is not a sigmoid, k or aux_k
    /// above the width, BatchTopK with a batch of 1...): the grid's
    /// models, named by their keys, or, for a search that draws, each
    /// configuration it may draw, named by the ranges that draw it (the
    /// first one's line) and the drawn values.
    fn check_models(&self, text: &str) -> Result<(), String> {
        // The input size plays no part in these checks.
        let check =
            |run: &Experiment| validate(&run.model_config(1), &run.sparsity.config, &run.training.train_config());
        let models = self.models();
        for draw in self.extreme_draws() {
            for run in models.iter().map(|m| apply(&draw, m.clone())) {
                let Err(error) = check(&run) else { continue };
                if draw.is_empty() {
                    return Err(in_file_terms(error));
                }
                let keys: Vec<&str> = draw.iter().filter_map(|(p, _)| p.def().sweep.map(|s| s.key)).collect();
                let values: Vec<String> = (draw.iter())
                    .map(|(p, _)| match p {
                        Param::Sparsity => format!("sparsity = {}", run.sparsity.label()),
                        _ => format!("{} = {}", p.def().key, p.read(&run).map_or("–".into(), |v| v.to_string())),
                    })
                    .collect();
                return Err(format!(
                    "{}[search.ranges] {}: a configuration the search may draw ({}) cannot train: {}",
                    position(text, &["search", "ranges", keys[0]], None),
                    keys.join(", "),
                    values.join(", "),
                    in_file_terms(error)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Experiment, String> {
        Experiment::from_toml(text, Path::new("e.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_batch_larger_than_the_training_set_is_refused() {
        let err = parse("[data]\ntrain = 100\n[training]\nbatch_size = 101\n").unwrap_err();
        assert!(err.starts_with("e.toml: training.batch_size = 101 is larger than data.train = 100"), "{err}");
        assert!(parse("[data]\ntrain = 100\n[training]\nbatch_size = 100\n").is_ok());
    }

    #[test]
    fn repeated_sweep_values_are_refused_naming_the_key_and_value() {
        for (text, key, value) in [
            ("seeds = [1, 1, 1]", "sweep.seeds", "1"),
            ("rho = [0.05, 0.1, 0.05]", "sweep.rho", "0.05"),
            ("beta = [1, 1.0]", "sweep.beta", "1.0"),
            ("corruption = [{ kind = \"none\" }, { kind = \"none\" }]", "sweep.corruption", "none"),
        ] {
            let err = parse(&format!("[sweep]\n{text}\n")).unwrap_err();
            assert!(err.contains(&format!("{key} lists")) && err.contains(value), "{text}: {err}");
            assert!(err.contains("more than once"), "{err}");
        }
        assert!(parse("[sweep]\nseeds = [1, 2]\nrho = [0.05, 0.1]\n").is_ok());
        // The repeat's line and column, as a parse error gives them.
        let err = parse("\n[sweep]\nrho = [0.05, 0.1, 0.05]\n").unwrap_err();
        assert!(err.starts_with("e.toml: line 3, column 19: sweep.rho lists 0.05 more than once"), "{err}");
        let err = parse("[sweep]\nbeta = [0.0, -0.0]\n").unwrap_err();
        assert!(err.starts_with("e.toml: line 2, column 14: sweep.beta lists"), "-0.0 is 0.0: {err}");
    }

    #[test]
    fn repeated_labels_are_refused_with_their_key_line_and_column() {
        for (text, want) in [
            ("[data]\nlabels = [3, 1, 3]\n", "e.toml: line 2, column 17: data.labels lists 3 more than once"),
            ("probe = { labels = [0, 9, 9] }\n", "e.toml: line 1, column 27: probe.labels lists 9 more than once"),
            ("[data]\nlabels = [1, 2]\n[probe]\nlabels = [2, 2]\n", "e.toml: line 4, column 14: probe.labels lists 2"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(want) && err.ends_with("expected each label once"), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_grid_of_more_than_max_runs_is_refused() {
        let list = |n: usize| (1..=n).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let err = parse(&format!("[sweep]\nseeds = [{}]\nepochs = [{}]\n", list(1000), list(101))).unwrap_err();
        assert!(err.contains("more than the 100000 an experiment may hold"), "{err}");
    }
}
