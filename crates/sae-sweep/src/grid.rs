//! Expanding an experiment's sweep section into runs, each a complete
//! experiment with no sweep left, under a stable, readable id.

use sha2::{Digest, Sha256};

use std::collections::HashSet;

use sae_core::{Activation, RunIdentity};

use crate::search::apply;
use crate::sparsity::SparsitySection;
use crate::values::Count;
use crate::{Experiment, Param, SparsityKind};

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the grid, from 0.
    pub index: usize,
    /// Readable and stable: the swept values, then a hash of the whole
    /// configuration, e.g. `rho0.05-beta1-3fa2c1d9`.
    pub id: String,
    /// The ids earlier versions of sae-lab gave this run, where they differ
    /// from `id`: the first round hashed the experiment's `description`,
    /// and until ids hashed the canonical configuration
    /// ([`Experiment::canonical`]) labels listed in another order, all ten
    /// labels listed, or a `-0.0`, gave ids of their own. A folder stored
    /// under one is adopted, not retrained
    /// ([`crate::ResultsDir::adopt_former_ids`]).
    pub former_ids: Vec<String>,
    /// The swept values but the seed, shared by replicates: `rho0.05-beta1`
    /// (`run` when nothing is swept).
    pub label: String,
    /// A halving search's rung, from 0 (`None` for a grid or random search).
    pub rung: Option<usize>,
    /// The run of the previous rung this one continues (same settings, fewer
    /// epochs), for a halving search's rungs after the first.
    pub continues: Option<String>,
    /// The run's complete settings (its `sweep` section is empty), written
    /// canonically ([`Experiment::canonical`]).
    pub config: Experiment,
}

/// The longest readable part of an id or label, in bytes: with the hash,
/// the `.tmp-`/`.old-` prefixes and suffixes of the store and the lock's
/// `.lock`, every name stays far below the 255 bytes a file name may hold.
pub const MAX_READABLE: usize = 160;

/// `text` cut to [`MAX_READABLE`] bytes (at a character boundary); the
/// id's hash still tells apart any two runs the cut makes look alike.
fn shorten(mut text: String) -> String {
    if text.len() > MAX_READABLE {
        let end = (0..=MAX_READABLE).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        text.truncate(end);
    }
    text
}

/// The SHA-256 of `run`'s JSON form, in hex.
fn settings_digest(run: &Experiment) -> String {
    let json = serde_json::to_string(run).expect("an experiment always serialises");
    hex::encode(Sha256::digest(json.as_bytes()))
}

/// Eight hex digits of the SHA-256 of `run`'s JSON form.
fn config_hash(run: &Experiment) -> String {
    settings_digest(run)[..8].to_string()
}

impl RunSpec {
    /// The identity the run's checkpoint and training state are written
    /// with and checked against: its id, and the whole SHA-256 of its
    /// canonical configuration without its description (of which the id
    /// holds eight digits).
    pub fn identity(&self) -> RunIdentity {
        identity_of(&self.id, &self.config)
    }
}

/// The identity of run `id`, configured as `config` (canonical or not).
pub(crate) fn identity_of(id: &str, config: &Experiment) -> RunIdentity {
    let settings = Experiment { description: None, ..config.canonical() };
    RunIdentity { run: id.into(), digest: settings_digest(&settings) }
}

impl Experiment {
    /// The runs of this experiment's grid, its sweep lists crossed in
    /// [`Param::ALL`]'s order (the seed innermost, so replicates sit
    /// together), keeping only the parameters `keep` names. A parameter of
    /// one mechanism (ρ, k...) crosses only the runs of that mechanism.
    fn cross(&self, keep: impl Fn(Param) -> bool) -> Vec<Experiment> {
        let mut runs = vec![Experiment { sweep: Default::default(), search: Default::default(), ..self.clone() }];
        for &p in Param::ALL.iter().filter(|&&p| keep(p)) {
            let Some(sweep) = p.def().sweep else { continue };
            runs = runs
                .into_iter()
                .flat_map(|run| match p.applies_to(SparsityKind::of(&run.sparsity.config)) {
                    true => (sweep.vary)(&self.sweep, &run).unwrap_or_else(|| vec![run]),
                    false => vec![run],
                })
                .collect();
        }
        runs
    }

    /// The mechanisms of the grid: each listed (or the base) mechanism,
    /// crossed with the sweep lists of its own parameters (ρ and β for KL,
    /// k for TopK, the weight for L1).
    pub(crate) fn mechanisms(&self) -> Vec<SparsitySection> {
        self.cross(|p| p == Param::Sparsity || p.of_a_mechanism()).into_iter().map(|r| r.sparsity).collect()
    }

    /// Every run of the grid, in a fixed order: corruption, width,
    /// mechanism (with its ρ, β, k or weight), learning rate, epochs, then
    /// seed innermost (so replicates sit together).
    ///
    /// A random search repeats the grid for each trial, its drawn values
    /// set; a trial that draws the settings of an earlier run is that run.
    ///
    /// A halving search repeats its points for each rung, rung by rung,
    /// each at the rung's epochs and continuing its run of the rung before.
    pub fn expand(&self) -> Vec<RunSpec> {
        let grid = self.cross(|_| true);
        let points: Vec<Experiment> =
            self.draws().iter().flat_map(|d| grid.iter().map(|p| apply(d, p.clone()))).collect();
        let rungs = self.search.halving(self.training.epochs.0).map(|h| h.rungs);
        let epochs: Vec<Option<usize>> = rungs.map_or(vec![None], |r| r.into_iter().map(Some).collect());
        let mut runs: Vec<RunSpec> = Vec::new();
        let mut ids = HashSet::new();
        let mut previous: Vec<Option<String>> = vec![None; points.len()];
        for (rung, e) in epochs.iter().enumerate() {
            for (point, before) in points.iter().zip(previous.iter_mut()) {
                let mut run = point.clone();
                if let Some(e) = *e {
                    run.training.epochs = Count(e);
                }
                let (label, id, former_ids, config) = self.run_names(&run, settled(run.clone()));
                let continues = before.replace(id.clone());
                if ids.insert(id.clone()) {
                    let rung = e.map(|_| rung);
                    runs.push(RunSpec { index: runs.len(), id, former_ids, label, rung, continues, config });
                }
            }
        }
        runs
    }

    /// Whether runs of this experiment differ in `param`: listed in
    /// `[sweep]` or drawn by the search.
    pub fn varies(&self, param: Param) -> bool {
        let halving = param == Param::Epochs && self.search.strategy.halves();
        halving
            || param.is_swept(&self.sweep)
            || param.def().sweep.is_some_and(|s| self.search.ranges.contains_key(s.key))
    }

    /// The model and mechanism of each point of the grid that the two
    /// depend on (width, mechanism and its parameters, activation, the
    /// pre-encoder bias and unit-norm atoms), each [`settled`].
    pub(crate) fn models(&self) -> Vec<Experiment> {
        let shapes = |p: Param| {
            matches!(p, Param::Hidden | Param::Sparsity | Param::PreBias | Param::UnitAtoms) || p.of_a_mechanism()
        };
        self.cross(shapes).into_iter().map(settled).collect()
    }

    /// The label, id, former ids and canonical settings of `run`, a point
    /// of this experiment's grid whose settings are `config` (`run`
    /// [`settled`]): the values of the swept keys (a mechanism's own
    /// parameters inside its label when whole mechanisms are swept), then
    /// eight hex digits of the SHA-256 of the run's whole configuration,
    /// canonical and without its description, so changing any setting
    /// changes the id, and rewording the question or writing the same
    /// settings otherwise does not. The former ids hashed `config` as
    /// written, with its description and without.
    fn run_names(&self, run: &Experiment, config: Experiment) -> (String, String, Vec<String>, Experiment) {
        let mechanisms_swept = self.varies(Param::Sparsity);
        let mut parts = Vec::new();
        let mut label = None;
        for &p in Param::ALL {
            let Some(sweep) = p.def().sweep else { continue };
            if p == Param::Seed {
                label = Some(if parts.is_empty() { "run".to_string() } else { parts.join("-") });
            }
            if !self.varies(p) || (mechanisms_swept && p.of_a_mechanism()) {
                continue;
            }
            match p {
                Param::Sparsity => parts.push(run.sparsity.label()),
                _ => parts.extend(p.read(run).map(|v| format!("{}{v}", sweep.id_prefix))),
            }
        }
        if parts.is_empty() {
            parts.push("run".into());
        }
        let readable = shorten(parts.join("-"));
        let named = |run: &Experiment| format!("{readable}-{}", config_hash(run));
        let undescribed = |run: &Experiment| Experiment { description: None, ..run.clone() };
        let canonical = config.canonical();
        let id = named(&undescribed(&canonical));
        let mut former_ids = Vec::new();
        for former in [config.description.is_some().then(|| named(&config)), Some(named(&undescribed(&config)))] {
            if let Some(f) = former.filter(|f| *f != id && !former_ids.contains(f)) {
                former_ids.push(f);
            }
        }
        (shorten(label.unwrap_or_default()), id, former_ids, canonical)
    }
}

/// `run` with its mechanism's own activation, if it has one, moved into
/// `[model]`, where training reads it, and its pre-encoder bias and atom
/// constraint written as they are, unless off for a sigmoid code (the
/// reference's default), so that the sigmoid codes' runs keep their ids.
fn settled(mut run: Experiment) -> Experiment {
    let (pre_bias, unit_atoms) = (run.pre_bias(), run.unit_atoms());
    if let Some(activation) = run.sparsity.activation.take() {
        run.model.activation = activation;
    }
    let sigmoid = run.model.activation == Activation::Sigmoid;
    let written = |on: bool| (on || !sigmoid).then_some(on);
    (run.model.pre_bias, run.model.unit_atoms) = (written(pre_bias), written(unit_atoms));
    run
}
