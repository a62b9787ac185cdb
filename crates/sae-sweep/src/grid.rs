//! Expanding an experiment's sweep section into runs, each a complete
//! experiment with no sweep left, under a stable, readable id.

use sha2::{Digest, Sha256};

use sae_core::{ModelConfig, SparsityConfig, TrainConfig};

use crate::values::{Beta, Count, LearningRate, NonEmpty, Rho, ValidCorruption, Width};
use crate::Experiment;

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Position in the grid, from 0.
    pub index: usize,
    /// Readable and stable: the swept values, then a hash of the whole
    /// configuration, e.g. `rho0.05-beta1-3fa2c1d9`.
    pub id: String,
    /// The run's complete settings (its `sweep` section is empty).
    pub config: Experiment,
}

/// The values of one sweep axis: the list when given, else the base value.
fn axis<T: Clone>(list: &Option<NonEmpty<T>>, base: T) -> Vec<T> {
    list.as_ref().map_or_else(|| vec![base], |l| l.0.clone())
}

impl Experiment {
    /// The model shape for images of `input` pixels.
    pub fn model_config(&self, input: usize) -> ModelConfig {
        ModelConfig { input, hidden: self.model.hidden.0 }
    }

    /// The sparsity penalty.
    pub fn sparsity_config(&self) -> SparsityConfig {
        SparsityConfig { rho: self.sparsity.rho.0, beta: self.sparsity.beta.0, reduction: self.sparsity.reduction }
    }

    /// The optimisation settings.
    pub fn train_config(&self) -> TrainConfig {
        let t = &self.training;
        TrainConfig {
            epochs: t.epochs.0,
            batch_size: t.batch_size.0,
            lr: t.lr.0,
            weight_decay: t.weight_decay.0,
            seed: t.seed,
            threads: t.threads.0,
        }
    }

    /// Every run of the grid, in a fixed order: corruption, width, ρ, β,
    /// learning rate, epochs, then seed innermost (so replicates sit
    /// together).
    pub fn expand(&self) -> Vec<RunSpec> {
        let s = &self.sweep;
        let corruptions = axis(&s.corruption, self.corruption);
        let widths = axis(&s.hidden, self.model.hidden);
        let rhos = axis(&s.rho, self.sparsity.rho);
        let betas = axis(&s.beta, self.sparsity.beta);
        let lrs = axis(&s.lr, self.training.lr);
        let epochs = axis(&s.epochs, self.training.epochs);
        let seeds = axis(&s.seeds, self.training.seed);
        let mut runs = Vec::new();
        for &c in &corruptions {
            for &h in &widths {
                for &rho in &rhos {
                    for &beta in &betas {
                        for &lr in &lrs {
                            for &e in &epochs {
                                for &seed in &seeds {
                                    let config = self.point(c, h, rho, beta, lr, e, seed);
                                    let id = self.run_id(&config);
                                    runs.push(RunSpec { index: runs.len(), id, config });
                                }
                            }
                        }
                    }
                }
            }
        }
        runs
    }

    #[allow(clippy::too_many_arguments)]
    fn point(
        &self,
        corruption: ValidCorruption,
        hidden: Width,
        rho: Rho,
        beta: Beta,
        lr: LearningRate,
        epochs: Count,
        seed: u64,
    ) -> Experiment {
        let mut run = self.clone();
        run.sweep = Default::default();
        run.corruption = corruption;
        run.model.hidden = hidden;
        run.sparsity.rho = rho;
        run.sparsity.beta = beta;
        run.training.lr = lr;
        run.training.epochs = epochs;
        run.training.seed = seed;
        run
    }

    /// The id of `run`, a point of this experiment's grid: the values of
    /// the swept keys, then eight hex digits of the SHA-256 of the run's
    /// whole configuration, so changing any setting changes the id.
    fn run_id(&self, run: &Experiment) -> String {
        let s = &self.sweep;
        let mut parts = Vec::new();
        if s.corruption.is_some() {
            parts.push(run.corruption.0.label());
        }
        if s.hidden.is_some() {
            parts.push(format!("h{}", run.model.hidden.0));
        }
        if s.rho.is_some() {
            parts.push(format!("rho{}", run.sparsity.rho.0));
        }
        if s.beta.is_some() {
            parts.push(format!("beta{}", run.sparsity.beta.0));
        }
        if s.lr.is_some() {
            parts.push(format!("lr{}", run.training.lr.0));
        }
        if s.epochs.is_some() {
            parts.push(format!("e{}", run.training.epochs.0));
        }
        if s.seeds.is_some() {
            parts.push(format!("s{}", run.training.seed));
        }
        if parts.is_empty() {
            parts.push("run".into());
        }
        let json = serde_json::to_string(run).expect("an experiment always serialises");
        let hash: String = Sha256::digest(json.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
        parts.push(hash);
        parts.join("-")
    }
}
