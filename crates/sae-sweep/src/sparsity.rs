//! The `[sparsity]` section and the sweep's list of mechanisms: a
//! mechanism's `kind` and its own keys, checked together. A KL mechanism
//! is written without `kind`, exactly as before other kinds existed, so
//! the ids of existing KL runs do not change.

use serde::{Deserialize, Serialize};

use sae_core::{KlReduction, SparsityConfig};
use sae_data::short_number;

use crate::values::{Beta, L1Weight, Rho, TopK};

/// A validated sparsity mechanism.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SparsityKeys", into = "SparsityKeys")]
pub struct SparsitySection(pub SparsityConfig);

impl Default for SparsitySection {
    fn default() -> Self {
        Self(SparsityConfig::reference())
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
    /// No sparsity mechanism.
    None,
}

impl SparsityKind {
    /// The kind's name in files: `kl`, `l1`, `topk`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kl => "kl",
            Self::L1 => "l1",
            Self::Topk => "topk",
            Self::None => "none",
        }
    }

    /// The kind of `config`.
    pub fn of(config: &SparsityConfig) -> Self {
        match config {
            SparsityConfig::Kl { .. } => Self::Kl,
            SparsityConfig::L1 { .. } => Self::L1,
            SparsityConfig::Topk { .. } => Self::Topk,
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
    k: Option<TopK>,
}

fn is_kl(kind: &SparsityKind) -> bool {
    *kind == SparsityKind::Kl
}

impl TryFrom<SparsityKeys> for SparsitySection {
    type Error = String;

    fn try_from(keys: SparsityKeys) -> Result<Self, String> {
        let kind = keys.kind;
        let stray = |present: bool, key: &str, owner: &str| {
            if present {
                Err(format!("`{key}` belongs to kind = \"{owner}\", not kind = \"{}\"", kind.as_str()))
            } else {
                Ok(())
            }
        };
        if kind != SparsityKind::Kl {
            stray(keys.rho.is_some(), "rho", "kl")?;
            stray(keys.beta.is_some(), "beta", "kl")?;
            stray(keys.reduction.is_some(), "reduction", "kl")?;
        }
        if kind != SparsityKind::L1 {
            stray(keys.weight.is_some(), "weight", "l1")?;
        }
        if kind != SparsityKind::Topk {
            stray(keys.k.is_some(), "k", "topk")?;
        }
        let reference = SparsityConfig::reference();
        let SparsityConfig::Kl { rho, beta, reduction } = reference else { unreachable!("the reference is KL") };
        let needs = |key: &str| format!("kind = \"{}\" needs `{key}`", kind.as_str());
        Ok(Self(match kind {
            SparsityKind::Kl => SparsityConfig::Kl {
                rho: keys.rho.map_or(rho, |r| r.0),
                beta: keys.beta.map_or(beta, |b| b.0),
                reduction: keys.reduction.unwrap_or(reduction),
            },
            SparsityKind::L1 => SparsityConfig::L1 { weight: keys.weight.ok_or_else(|| needs("weight"))?.0 },
            SparsityKind::Topk => SparsityConfig::Topk { k: keys.k.ok_or_else(|| needs("k"))?.0 },
            SparsityKind::None => SparsityConfig::None,
        }))
    }
}

impl From<SparsitySection> for SparsityKeys {
    fn from(section: SparsitySection) -> Self {
        let kind = SparsityKind::of(&section.0);
        match section.0 {
            SparsityConfig::Kl { rho, beta, reduction } => {
                Self { rho: Some(Rho(rho)), beta: Some(Beta(beta)), reduction: Some(reduction), ..Self::default() }
            }
            SparsityConfig::L1 { weight } => Self { kind, weight: Some(L1Weight(weight)), ..Self::default() },
            SparsityConfig::Topk { k } => Self { kind, k: Some(TopK(k)), ..Self::default() },
            SparsityConfig::None => Self { kind, ..Self::default() },
        }
    }
}

impl SparsitySection {
    /// The mechanism and its parameters for ids and legends, e.g.
    /// `kl-rho0.05-beta1`, `klsum-rho0.1-beta3`, `l1-w0.001`, `topk-k25`,
    /// `none`.
    pub fn label(&self) -> String {
        match self.0 {
            SparsityConfig::Kl { rho, beta, reduction } => {
                let kind = if reduction == KlReduction::Sum { "klsum" } else { "kl" };
                format!("{kind}-rho{}-beta{}", short_number(rho), short_number(beta))
            }
            SparsityConfig::L1 { weight } => format!("l1-w{}", short_number(weight)),
            SparsityConfig::Topk { k } => format!("topk-k{k}"),
            SparsityConfig::None => "none".into(),
        }
    }
}
