//! Expanding an experiment's sweep section into runs, each a complete
//! experiment with no sweep left, under a stable, readable id.

use sha2::{Digest, Sha256};

use sae_core::SparsityConfig;
use sae_data::short_number;

use crate::sparsity::SparsitySection;
use crate::values::{Beta, L1Weight, NonEmpty, Rho, TopK};
use crate::Experiment;

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the grid, from 0.
    pub index: usize,
    /// Readable and stable: the swept values, then a hash of the whole
    /// configuration, e.g. `rho0.05-beta1-3fa2c1d9`.
    pub id: String,
    /// The id this run had before its id stopped depending on the
    /// experiment's `description` (sae-lab's first round), when that differs:
    /// a stored folder under it is adopted, not retrained
    /// ([`crate::ResultsDir::adopt_former_ids`]).
    pub former_id: Option<String>,
    /// The swept values but the seed, shared by replicates: `rho0.05-beta1`
    /// (`run` when nothing is swept).
    pub label: String,
    /// The run's complete settings (its `sweep` section is empty).
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

/// Eight hex digits of the SHA-256 of `run`'s JSON form.
fn config_hash(run: &Experiment) -> String {
    let json = serde_json::to_string(run).expect("an experiment always serialises");
    hex::encode(&Sha256::digest(json.as_bytes())[..4])
}

/// The values of one sweep axis: the list when given, else the base value.
fn axis<T: Clone>(list: &Option<NonEmpty<T>>, base: T) -> Vec<T> {
    list.as_ref().map_or_else(|| vec![base], |l| l.0.clone())
}

impl Experiment {
    /// The mechanisms of the grid: each listed (or the base) mechanism,
    /// crossed with the per-kind axes that apply to it (ρ and β for KL, k
    /// for TopK, the weight for L1).
    pub(crate) fn mechanisms(&self) -> Vec<SparsitySection> {
        let s = &self.sweep;
        let listed = axis(&s.sparsity, self.sparsity);
        let mut out = Vec::new();
        for m in listed {
            match m.0 {
                SparsityConfig::Kl { rho, beta, reduction } => {
                    for r in axis(&s.rho, Rho(rho)) {
                        for b in axis(&s.beta, Beta(beta)) {
                            out.push(SparsitySection(SparsityConfig::Kl { rho: r.0, beta: b.0, reduction }));
                        }
                    }
                }
                SparsityConfig::L1 { weight } => out.extend(
                    axis(&s.l1_weight, L1Weight(weight))
                        .iter()
                        .map(|w| SparsitySection(SparsityConfig::L1 { weight: w.0 })),
                ),
                SparsityConfig::Topk { k } => {
                    out.extend(axis(&s.k, TopK(k)).iter().map(|k| SparsitySection(SparsityConfig::Topk { k: k.0 })))
                }
                SparsityConfig::None => out.push(m),
            }
        }
        out
    }

    /// Every run of the grid, in a fixed order: corruption, width,
    /// mechanism (with its ρ, β, k or weight), learning rate, epochs, then
    /// seed innermost (so replicates sit together).
    pub fn expand(&self) -> Vec<RunSpec> {
        let s = &self.sweep;
        let corruptions = axis(&s.corruption, self.corruption);
        let widths = axis(&s.hidden, self.model.hidden);
        let mechanisms = self.mechanisms();
        let lrs = axis(&s.lr, self.training.lr);
        let epochs = axis(&s.epochs, self.training.epochs);
        let seeds = axis(&s.seeds, self.training.seed);
        let mut runs = Vec::new();
        for &c in &corruptions {
            for &h in &widths {
                for &m in &mechanisms {
                    for &lr in &lrs {
                        for &e in &epochs {
                            for &seed in &seeds {
                                let mut run = self.clone();
                                run.sweep = Default::default();
                                run.corruption = c;
                                run.model.hidden = h;
                                run.sparsity = m;
                                run.training.lr = lr;
                                run.training.epochs = e;
                                run.training.seed = seed;
                                let (label, id, former_id) = self.run_names(&run);
                                runs.push(RunSpec { index: runs.len(), id, former_id, label, config: run });
                            }
                        }
                    }
                }
            }
        }
        runs
    }

    /// The label, id and former id of `run`, a point of this experiment's
    /// grid: the values of the swept keys, then eight hex digits of the
    /// SHA-256 of the run's whole configuration but its description, so
    /// changing any setting changes the id and rewording the question does
    /// not. The former id hashed the description too.
    fn run_names(&self, run: &Experiment) -> (String, String, Option<String>) {
        let s = &self.sweep;
        let mut parts = Vec::new();
        if s.corruption.is_some() {
            parts.push(run.corruption.0.label());
        }
        if s.hidden.is_some() {
            parts.push(format!("h{}", run.model.hidden.0));
        }
        match run.sparsity.0 {
            _ if s.sparsity.is_some() => parts.push(run.sparsity.label()),
            SparsityConfig::Kl { rho, beta, .. } => {
                if s.rho.is_some() {
                    parts.push(format!("rho{}", short_number(rho)));
                }
                if s.beta.is_some() {
                    parts.push(format!("beta{}", short_number(beta)));
                }
            }
            SparsityConfig::Topk { k } if s.k.is_some() => parts.push(format!("k{k}")),
            SparsityConfig::L1 { weight } if s.l1_weight.is_some() => {
                parts.push(format!("l1w{}", short_number(weight)))
            }
            _ => {}
        }
        if s.lr.is_some() {
            parts.push(format!("lr{}", short_number(run.training.lr.0)));
        }
        if s.epochs.is_some() {
            parts.push(format!("e{}", run.training.epochs.0));
        }
        let label = if parts.is_empty() { "run".to_string() } else { parts.join("-") };
        if s.seeds.is_some() {
            parts.push(format!("s{}", run.training.seed));
        }
        if parts.is_empty() {
            parts.push("run".into());
        }
        let readable = shorten(parts.join("-"));
        let named = |run: &Experiment| format!("{readable}-{}", config_hash(run));
        let former = run.description.is_some().then(|| named(run));
        let id = named(&Experiment { description: None, ..run.clone() });
        (shorten(label), id, former)
    }
}
