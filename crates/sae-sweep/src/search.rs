//! The `[search]` section: how an experiment chooses its runs. `grid` (the
//! default) crosses the sweep lists; `random` draws `trials` points from
//! ranges given per parameter, trial i's draw depending on the seed and i
//! alone (so more trials keep the first ones and their results), each trial
//! crossed with the sweep lists, seeds innermost; `halving` trains the
//! points of either (the grid's, or the trials drawn from ranges) rung by
//! rung, keeping the best share (`halving.rs`).

use std::collections::BTreeMap;

use rand::Rng;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use sae_data::batch_rng;

use crate::halving::{rung_epochs, Objective};
use crate::position::position;
use crate::values::{Count, Eta};
use crate::{Experiment, Param, SparsityKind, SweepSection};

/// The random stream of a search's draws.
const SEARCH_STREAM: u64 = 8;

/// Significant digits a drawn real keeps, so that ids and tables read
/// `rho0.0123` rather than seventeen digits.
const DRAWN_DIGITS: i32 = 3;

/// How runs are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Every point of the sweep lists' grid.
    #[default]
    Grid,
    /// `trials` points drawn from `[search.ranges]`, each crossed with the
    /// sweep lists.
    Random,
    /// Successive halving over the grid's points, or over trials drawn
    /// from `[search.ranges]` when it has any.
    Halving,
    /// Asynchronous successive halving (Li et al. 2018): halving's rungs,
    /// but a trial goes on as soon as it is in the best 1/η of those
    /// finished at its rung, rather than when its whole rung has finished.
    Asha,
}

impl Strategy {
    /// Its name, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grid => "grid",
            Self::Random => "random",
            Self::Halving => "halving",
            Self::Asha => "asha",
        }
    }

    /// Whether the search halves its trials rung by rung (synchronously
    /// or not).
    pub fn halves(self) -> bool {
        matches!(self, Self::Halving | Self::Asha)
    }
}

/// Where a parameter's values are drawn from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform between the two bounds.
    Uniform([f64; 2]),
    /// Uniform in the logarithm between the two bounds (both > 0).
    LogUniform([f64; 2]),
    /// One of the values, each as likely.
    Choice(Vec<toml::Value>),
}

/// The range as written, checked by [`Distribution`]'s `Deserialize`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum DistributionKeys {
    Uniform([f64; 2]),
    LogUniform([f64; 2]),
    Choice(Vec<toml::Value>),
}

impl<'de> Deserialize<'de> for Distribution {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let bounds = |[low, high]: [f64; 2], log: bool| {
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(D::Error::custom(format!(
                    "expected finite bounds [low, high] with low < high, found [{low}, {high}]"
                )));
            }
            if log && low <= 0.0 {
                return Err(D::Error::custom(format!(
                    "a log-uniform range needs bounds above 0, found [{low}, {high}]"
                )));
            }
            Ok([low, high])
        };
        Ok(match DistributionKeys::deserialize(d)? {
            DistributionKeys::Uniform(b) => Self::Uniform(bounds(b, false)?),
            DistributionKeys::LogUniform(b) => Self::LogUniform(bounds(b, true)?),
            DistributionKeys::Choice(v) if v.is_empty() => return Err(D::Error::custom("expected a non-empty choice")),
            DistributionKeys::Choice(v) => Self::Choice(v),
        })
    }
}

/// The `[search]` section.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchSection {
    /// How runs are chosen.
    pub strategy: Strategy,
    /// Points drawn by a random search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trials: Option<Count>,
    /// Seeds the draws (not the training: that is `[training] seed`);
    /// 0 when not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Where each drawn parameter's values come from, by its `[sweep]` key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub ranges: BTreeMap<String, Distribution>,
    /// Halving: the validation metric that promotes (default `mse`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<Objective>,
    /// Halving: a second objective; promotion is then by non-dominated
    /// rank, then crowding distance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pareto: Option<Objective>,
    /// Halving: the first rung's epochs (default 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_epochs: Option<Count>,
    /// Halving: the last rung's epochs (default `[training] epochs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_epochs: Option<Count>,
    /// Halving: the share kept at each rung is 1/η, and each rung trains η
    /// times longer (default 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<Eta>,
}

/// A halving search's settings, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Halving {
    /// What promotes, then the Pareto objective if any.
    pub objectives: Vec<Objective>,
    /// The epochs of each rung.
    pub rungs: Vec<usize>,
    /// The share kept is 1/eta.
    pub eta: usize,
    /// Whether a trial goes on as soon as it ranks in the best 1/η of
    /// those finished at its rung (`strategy = "asha"`).
    pub asynchronous: bool,
}

impl SearchSection {
    /// Whether the section is at its default (the grid, nothing drawn).
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The halving settings, for a halving search; `epochs` is `[training]
    /// epochs`, the default last rung.
    pub fn halving(&self, epochs: usize) -> Option<Halving> {
        self.strategy.halves().then(|| {
            let (min, max) = self.epoch_bounds(epochs);
            let eta = self.eta.map_or(3, |e| e.0);
            let objectives = [Some(self.metric.unwrap_or(Objective::Mse)), self.pareto].into_iter().flatten().collect();
            let asynchronous = self.strategy == Strategy::Asha;
            Halving { objectives, rungs: rung_epochs(min, max, eta), eta, asynchronous }
        })
    }

    /// Halving's first and last rungs' epochs: `min_epochs` (default 1) and
    /// `max_epochs` (default `epochs`, `[training] epochs`).
    fn epoch_bounds(&self, epochs: usize) -> (usize, usize) {
        (self.min_epochs.map_or(1, |c| c.0), self.max_epochs.map_or(epochs, |c| c.0))
    }

    /// Whether trials are drawn from ranges.
    fn draws_trials(&self) -> bool {
        self.strategy == Strategy::Random || (self.strategy.halves() && !self.ranges.is_empty())
    }

    /// The parameter each range draws, in [`Param::ALL`]'s order.
    ///
    /// # Errors
    /// A key that names no parameter that can be swept.
    pub(crate) fn drawn(&self) -> Result<Vec<(Param, &Distribution)>, String> {
        if let Some(key) = self.ranges.keys().find(|k| sweep_param(k).is_none()) {
            let keys: Vec<&str> = Param::ALL.iter().filter_map(|p| p.def().sweep).map(|s| s.key).collect();
            return Err(format!(
                "[search.ranges] {key}: not a parameter a search can draw; expected one of {}",
                keys.join(", ")
            ));
        }
        Ok(Param::ALL
            .iter()
            .filter_map(|&p| p.def().sweep.and_then(|s| self.ranges.get(s.key)).map(|r| (p, r)))
            .collect())
    }
}

/// The parameter whose `[sweep]` key is `key`.
fn sweep_param(key: &str) -> Option<Param> {
    Param::ALL.iter().copied().find(|p| p.def().sweep.is_some_and(|s| s.key == key))
}

/// `x` rounded to [`DRAWN_DIGITS`] significant digits.
fn rounded(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let scale = 10f64.powi(DRAWN_DIGITS - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

/// A one-value sweep list of `key` holding `value`, checked as the
/// `[sweep]` list would be (so a drawn value meets the parameter's bounds).
fn one_value(key: &str, value: toml::Value) -> Result<SweepSection, String> {
    let mut table = toml::Table::new();
    table.insert(key.into(), toml::Value::Array(vec![value]));
    SweepSection::deserialize(toml::Value::Table(table)).map_err(|e| e.message().to_string())
}

impl Distribution {
    /// A value drawn from `rng`: a real rounded to three significant
    /// digits where that stays inside the range (a range narrower than the
    /// rounding, such as `[0.9996, 0.9999]`, keeps its draw unrounded), a
    /// whole number for an integer parameter.
    fn draw(&self, rng: &mut impl Rng, integer: bool) -> toml::Value {
        let within = |x: f64, [low, high]: [f64; 2]| {
            let (x, round) = (x.clamp(low, high), rounded(x));
            if integer {
                toml::Value::Integer(x.round() as i64)
            } else {
                toml::Value::Float(if (low..=high).contains(&round) { round } else { x })
            }
        };
        match self {
            Self::Uniform(b @ [low, high]) => within(rng.random_range(*low..*high), *b),
            Self::LogUniform(b @ [low, high]) => within(rng.random_range(low.ln()..high.ln()).exp(), *b),
            Self::Choice(values) => values[rng.random_range(0..values.len())].clone(),
        }
    }

    /// The values a range can reach at its ends (its bounds, or every
    /// choice), to check against the parameter's own bounds.
    fn extremes(&self, integer: bool) -> Vec<toml::Value> {
        let real = |x: f64| if integer { toml::Value::Integer(x.round() as i64) } else { toml::Value::Float(x) };
        match self {
            Self::Uniform(b) | Self::LogUniform(b) => b.iter().map(|&x| real(x)).collect(),
            Self::Choice(values) => values.clone(),
        }
    }
}

/// One trial's drawn values, each as a one-value sweep list.
pub(crate) type Draw = Vec<(Param, SweepSection)>;

impl Experiment {
    /// Each trial's draw, in trial order; a grid has one trial, which
    /// draws nothing.
    pub(crate) fn draws(&self) -> Vec<Draw> {
        if !self.search.draws_trials() {
            return vec![Vec::new()];
        }
        let drawn = self.search.drawn().expect("checked when the file was read");
        let trials = self.search.trials.map_or(1, |t| t.0) as u64;
        let draw = |trial: u64| {
            let draw_one = |(i, &(param, range)): (usize, &(Param, &Distribution))| {
                let mut rng = batch_rng(self.search.seed.unwrap_or(0), SEARCH_STREAM, trial, i as u64);
                let value = range.draw(&mut rng, param.def().integer);
                (param, one_value(sweep_key(param), value).expect("range ends are checked against the bounds"))
            };
            drawn.iter().enumerate().map(draw_one).collect()
        };
        (0..trials).map(draw).collect()
    }

    /// Every combination of the drawn parameters' extreme values (a
    /// range's bounds, every choice), for the checks that need whole runs;
    /// one empty draw when nothing is drawn.
    pub(crate) fn extreme_draws(&self) -> Vec<Draw> {
        let drawn = self.search.drawn().unwrap_or_default();
        drawn.iter().fold(vec![Vec::new()], |draws, &(param, range)| {
            let lists: Vec<SweepSection> = range
                .extremes(param.def().integer)
                .into_iter()
                .filter_map(|v| one_value(sweep_key(param), v).ok())
                .collect();
            draws
                .iter()
                .flat_map(|d| lists.iter().map(move |l| d.iter().cloned().chain([(param, l.clone())]).collect()))
                .collect()
        })
    }

    /// The search section's checks: ranges of parameters that can be
    /// drawn, whose ends meet the parameter's bounds, on no parameter also
    /// listed in `[sweep]` and on mechanisms the search has, and `trials`
    /// and `seed` with a search that draws only.
    pub(crate) fn check_search(&self, text: &str) -> Result<(), String> {
        let s = &self.search;
        let drawn = s.drawn()?;
        let halving_keys = [
            ("metric", s.metric.is_some()),
            ("pareto", s.pareto.is_some()),
            ("min_epochs", s.min_epochs.is_some()),
            ("max_epochs", s.max_epochs.is_some()),
            ("eta", s.eta.is_some()),
        ];
        if let Some((key, _)) = halving_keys.iter().find(|k| k.1).filter(|_| !s.strategy.halves()) {
            return Err(format!("[search] {key} needs strategy = \"halving\" or \"asha\""));
        }
        match s.strategy {
            Strategy::Grid if !s.ranges.is_empty() || s.trials.is_some() => {
                return Err("[search] ranges and trials need strategy = \"random\" or \"halving\"".into());
            }
            Strategy::Random | Strategy::Halving | Strategy::Asha if s.draws_trials() && s.trials.is_none() => {
                return Err("[search] ranges need `trials`, the number of points to draw".into());
            }
            Strategy::Random if drawn.is_empty() => {
                return Err("[search] strategy = \"random\" needs at least one range in [search.ranges]".into());
            }
            Strategy::Halving | Strategy::Asha if s.trials.is_some() && drawn.is_empty() => {
                return Err("[search] trials need ranges to draw from in [search.ranges]".into());
            }
            _ => {}
        }
        if s.seed.is_some() && drawn.is_empty() {
            let at = position(text, &["search", "seed"], None);
            return Err(format!("{at}[search] seed seeds the draws of [search.ranges], and this search draws nothing"));
        }
        self.check_halving()?;
        for &(param, range) in &drawn {
            let key = sweep_key(param);
            if param.is_swept(&self.sweep) {
                return Err(format!(
                    "[search.ranges] {key}: also listed in [sweep]; give it a range or a list, not both"
                ));
            }
            for value in range.extremes(param.def().integer) {
                one_value(key, value).map_err(|e| format!("[search.ranges] {key}: {e}"))?;
            }
        }
        // The mechanisms trained: the grid's, or those drawn from a choice.
        let kinds: Vec<SparsityKind> =
            self.extreme_models().iter().map(|run| SparsityKind::of(&run.sparsity.config)).collect();
        for (param, _) in drawn {
            if !kinds.iter().any(|&kind| param.applies_to(kind)) {
                let key = sweep_key(param);
                return Err(format!("[search.ranges] {key}: no mechanism of the search is one {key} applies to"));
            }
        }
        Ok(())
    }
    /// A halving search's checks: rungs that grow, epochs that the search
    /// alone sets, and a second objective that is another one.
    fn check_halving(&self) -> Result<(), String> {
        let s = &self.search;
        let Some(h) = s.halving(self.training.epochs.0) else { return Ok(()) };
        let (min, max) = s.epoch_bounds(self.training.epochs.0);
        if min > max {
            return Err(format!("[search] min_epochs = {min} is more than max_epochs = {max}"));
        }
        if Param::Epochs.is_swept(&self.sweep) || s.ranges.contains_key("epochs") {
            return Err("[sweep] epochs: a halving search sets each rung's epochs itself; remove the list (use \
                        [search] min_epochs and max_epochs)"
                .into());
        }
        if h.objectives.len() == 2 && h.objectives[0] == h.objectives[1] {
            return Err(format!(
                "[search] pareto = \"{}\" is the metric itself; expected a second objective",
                h.objectives[1].key()
            ));
        }
        Ok(())
    }
}

/// `run` with the values of `draw` that apply to its mechanism.
pub(crate) fn apply(draw: &Draw, run: Experiment) -> Experiment {
    draw.iter().fold(run, |run, (param, list)| {
        if !param.applies_to(SparsityKind::of(&run.sparsity.config)) {
            return run;
        }
        let vary = param.def().sweep.expect("drawn parameters are sweepable").vary;
        vary(list, &run).and_then(|mut v| v.pop()).unwrap_or(run)
    })
}

/// The `[sweep]` key of a parameter a search draws.
fn sweep_key(param: Param) -> &'static str {
    param.def().sweep.expect("drawn parameters are sweepable").key
}
