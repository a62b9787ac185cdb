//! The `[sparsity]` section and the sweep's list of mechanisms: a
//! mechanism's `kind` and its own keys, checked together. A KL mechanism
//! is written without `kind`, exactly as before other kinds existed, so
//! the ids of existing KL runs do not change; keys added since (AuxK's,
//! a mechanism's own `activation`) are written only when given.

use serde::{Deserialize, Serialize};

use sae_core::{Activation, AuxK, KlReduction, SparsityConfig};
use sae_data::short_number;

use crate::values::{AuxWeight, Beta, Count, L1Weight, Positive, Rho, TopK};

/// A validated sparsity mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SparsityKeys", into = "SparsityKeys")]
pub struct SparsitySection {
    /// The mechanism and its parameters. A TopK or BatchTopK `k` of 0
    /// stands for one to come from the sweep's `k` list (checked in
    /// `validate.rs`).
    pub config: SparsityConfig,
    /// The code activation this mechanism trains with, overriding `[model]
    /// activation` (so that one sweep can set ReLU codes for TopK beside
    /// KL's sigmoid). Moved into the run's `[model]` when the grid expands.
    pub activation: Option<Activation>,
}

impl Default for SparsitySection {
    fn default() -> Self {
        Self::of(SparsityConfig::reference())
    }
}

impl SparsitySection {
    /// `config` with the model's activation.
    pub fn of(config: SparsityConfig) -> Self {
        Self { config, activation: None }
    }
}

/// The mechanisms, as spelled in experiment files and tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SparsityKind {
    /// KL(ρ‖ρ̂), the reference.
    #[default]
    Kl,
    /// L1 penalty on the code.
    L1,
    /// TopK selection.
    Topk,
    /// BatchTopK selection.
    Batchtopk,
    /// JumpReLU's learned thresholds with an L0 penalty.
    Jumprelu,
    /// Gated's gate and magnitude paths with an L1 penalty on the gate.
    Gated,
    /// No sparsity mechanism.
    None,
}

impl SparsityKind {
    /// The kind's name in files: `kl`, `l1`, `topk`, `batchtopk`,
    /// `jumprelu`, `gated`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kl => "kl",
            Self::L1 => "l1",
            Self::Topk => "topk",
            Self::Batchtopk => "batchtopk",
            Self::Jumprelu => "jumprelu",
            Self::Gated => "gated",
            Self::None => "none",
        }
    }

    /// The kind of `config`.
    pub fn of(config: &SparsityConfig) -> Self {
        match config {
            SparsityConfig::Kl { .. } => Self::Kl,
            SparsityConfig::L1 { .. } => Self::L1,
            SparsityConfig::Topk { .. } => Self::Topk,
            SparsityConfig::BatchTopk { .. } => Self::Batchtopk,
            SparsityConfig::JumpRelu { .. } => Self::Jumprelu,
            SparsityConfig::Gated { .. } => Self::Gated,
            SparsityConfig::None => Self::None,
        }
    }
}

/// The keys as written: each checked on its own while parsing (so its
/// error carries the line), then together by `TryFrom`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SparsityKeys {
    #[serde(default, skip_serializing_if = "is_kl")]
    kind: SparsityKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    rho: Option<Rho>,
    #[serde(skip_serializing_if = "Option::is_none")]
    beta: Option<Beta>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reduction: Option<KlReduction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    weight: Option<L1Weight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bandwidth: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_threshold: Option<Positive>,
    #[serde(skip_serializing_if = "Option::is_none")]
    k: Option<TopK>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aux_k: Option<TopK>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aux_weight: Option<AuxWeight>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_after: Option<Count>,
    #[serde(skip_serializing_if = "Option::is_none")]
    activation: Option<Activation>,
}

fn is_kl(kind: &SparsityKind) -> bool {
    *kind == SparsityKind::Kl
}

impl SparsityKeys {
    /// Checks that every key given belongs to the mechanism's `kind`.
    fn check_owners(&self) -> Result<(), String> {
        let kind = self.kind;
        let stray = |present: bool, key: &str, owner: &str| {
            if present {
                Err(format!("`{key}` belongs to kind = \"{owner}\", not kind = \"{}\"", kind.as_str()))
            } else {
                Ok(())
            }
        };
        if kind != SparsityKind::Kl {
            stray(self.rho.is_some(), "rho", "kl")?;
            stray(self.beta.is_some(), "beta", "kl")?;
            stray(self.reduction.is_some(), "reduction", "kl")?;
        }
        if !matches!(kind, SparsityKind::L1 | SparsityKind::Jumprelu | SparsityKind::Gated) {
            stray(self.weight.is_some(), "weight", "l1\", \"jumprelu\" or \"gated")?;
        }
        if kind != SparsityKind::Jumprelu {
            stray(self.bandwidth.is_some(), "bandwidth", "jumprelu")?;
            stray(self.initial_threshold.is_some(), "initial_threshold", "jumprelu")?;
        }
        if !matches!(kind, SparsityKind::Topk | SparsityKind::Batchtopk) {
            stray(self.k.is_some(), "k", "topk")?;
            stray(self.aux_k.is_some(), "aux_k", "topk")?;
        }
        Ok(())
    }
}

impl TryFrom<SparsityKeys> for SparsitySection {
    type Error = String;

    fn try_from(keys: SparsityKeys) -> Result<Self, String> {
        let kind = keys.kind;
        keys.check_owners()?;
        if keys.aux_k.is_none() {
            let needs_aux = |present: bool, key: &str| match present {
                true => Err(format!("`{key}` belongs to the AuxK loss, which `aux_k` turns on")),
                false => Ok(()),
            };
            needs_aux(keys.aux_weight.is_some(), "aux_weight")?;
            needs_aux(keys.dead_after.is_some(), "dead_after")?;
        }
        let aux = keys.aux_k.map(|a| AuxK {
            aux_k: a.0,
            aux_weight: keys.aux_weight.map_or_else(AuxK::default_weight, |w| w.0),
            dead_after: keys.dead_after.map_or_else(AuxK::default_dead_after, |d| d.0 as u64),
        });
        // A k left out may come from the sweep's `k` list (0 until then).
        let k = keys.k.map_or(0, |k| k.0);
        let reference = SparsityConfig::reference();
        let SparsityConfig::Kl { rho, beta, reduction } = reference else { unreachable!("the reference is KL") };
        let needs = |key: &str| format!("kind = \"{}\" needs `{key}`", kind.as_str());
        let config = match kind {
            SparsityKind::Kl => SparsityConfig::Kl {
                rho: keys.rho.map_or(rho, |r| r.0),
                beta: keys.beta.map_or(beta, |b| b.0),
                reduction: keys.reduction.unwrap_or(reduction),
            },
            SparsityKind::L1 => SparsityConfig::L1 { weight: keys.weight.ok_or_else(|| needs("weight"))?.0 },
            SparsityKind::Jumprelu => SparsityConfig::JumpRelu {
                weight: keys.weight.ok_or_else(|| needs("weight"))?.0,
                bandwidth: keys.bandwidth.map_or(SparsityConfig::JUMPRELU_BANDWIDTH, |b| b.0),
                initial_threshold: keys.initial_threshold.map_or(SparsityConfig::JUMPRELU_INITIAL_THRESHOLD, |t| t.0),
            },
            SparsityKind::Gated => SparsityConfig::Gated { weight: keys.weight.ok_or_else(|| needs("weight"))?.0 },
            SparsityKind::Topk => SparsityConfig::Topk { k, aux },
            SparsityKind::Batchtopk => SparsityConfig::BatchTopk { k, aux },
            SparsityKind::None => SparsityConfig::None,
        };
        Ok(Self { config, activation: keys.activation })
    }
}

impl From<SparsitySection> for SparsityKeys {
    fn from(section: SparsitySection) -> Self {
        let kind = SparsityKind::of(&section.config);
        let keys = match section.config {
            SparsityConfig::Kl { rho, beta, reduction } => {
                Self { rho: Some(Rho(rho)), beta: Some(Beta(beta)), reduction: Some(reduction), ..Self::default() }
            }
            SparsityConfig::L1 { weight } | SparsityConfig::Gated { weight } => {
                Self { kind, weight: Some(L1Weight(weight)), ..Self::default() }
            }
            // The kernel width and initial threshold are written only when not the paper's.
            SparsityConfig::JumpRelu { weight, bandwidth, initial_threshold } => Self {
                kind,
                weight: Some(L1Weight(weight)),
                bandwidth: (bandwidth != SparsityConfig::JUMPRELU_BANDWIDTH).then_some(Positive(bandwidth)),
                initial_threshold: (initial_threshold != SparsityConfig::JUMPRELU_INITIAL_THRESHOLD)
                    .then_some(Positive(initial_threshold)),
                ..Self::default()
            },
            SparsityConfig::Topk { k, aux } | SparsityConfig::BatchTopk { k, aux } => Self {
                kind,
                k: (k > 0).then_some(TopK(k)),
                aux_k: aux.map(|a| TopK(a.aux_k)),
                aux_weight: aux.map(|a| AuxWeight(a.aux_weight)),
                dead_after: aux.map(|a| Count(a.dead_after as usize)),
                ..Self::default()
            },
            SparsityConfig::None => Self { kind, ..Self::default() },
        };
        Self { activation: section.activation, ..keys }
    }
}

impl SparsitySection {
    /// The mechanism and its parameters for ids and legends, e.g.
    /// `kl-rho0.05-beta1`, `klsum-rho0.1-beta3`, `l1-w0.001`, `topk-k25`,
    /// `topk-k25-aux128-relu`, `jumprelu-l0w0.001`,
    /// `jumprelu-l0w0.001-eps0.01-th0.1`, `gated-gw0.001`, `none`.
    pub fn label(&self) -> String {
        let aux = self.config.aux().map(|a| format!("-aux{}", a.aux_k)).unwrap_or_default();
        let activation = self.activation.map(|a| format!("-{}", a.as_str())).unwrap_or_default();
        let mechanism = match self.config {
            SparsityConfig::Kl { rho, beta, reduction } => {
                let kind = if reduction == KlReduction::Sum { "klsum" } else { "kl" };
                format!("{kind}-rho{}-beta{}", short_number(rho), short_number(beta))
            }
            SparsityConfig::L1 { weight } => format!("l1-w{}", short_number(weight)),
            SparsityConfig::Topk { k, .. } => format!("topk-k{k}"),
            SparsityConfig::BatchTopk { k, .. } => format!("batchtopk-k{k}"),
            SparsityConfig::JumpRelu { weight, bandwidth, initial_threshold } => {
                let mut label = format!("jumprelu-l0w{}", short_number(weight));
                if bandwidth != SparsityConfig::JUMPRELU_BANDWIDTH {
                    label += &format!("-eps{}", short_number(bandwidth));
                }
                if initial_threshold != SparsityConfig::JUMPRELU_INITIAL_THRESHOLD {
                    label += &format!("-th{}", short_number(initial_threshold));
                }
                label
            }
            SparsityConfig::Gated { weight } => format!("gated-gw{}", short_number(weight)),
            SparsityConfig::None => "none".into(),
        };
        format!("{mechanism}{aux}{activation}")
    }
}
