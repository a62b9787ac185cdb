//! The swept parameters of an experiment, as the plots use them: which keys
//! vary, and each run's value of each.

use sae_sweep::{Experiment, RunRow, SparsityKind};

/// A key an experiment can sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Target sparsity ρ.
    Rho,
    /// Penalty weight β.
    Beta,
    /// TopK's units kept per image.
    K,
    /// L1 penalty weight.
    L1Weight,
    /// Whole sparsity mechanisms (each with its parameter).
    Sparsity,
    /// Hidden width.
    Hidden,
    /// Learning rate.
    Lr,
    /// Epoch budget.
    Epochs,
    /// Corruption kind and level.
    Corruption,
}

/// A value as text, or `–` when the run has none (ρ of a TopK run).
fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

impl Axis {
    /// The column name in runs.csv.
    pub fn key(self) -> &'static str {
        match self {
            Self::Rho => "rho",
            Self::Beta => "beta",
            Self::K => "k",
            Self::L1Weight => "l1_weight",
            Self::Sparsity => "sparsity",
            Self::Hidden => "hidden",
            Self::Lr => "lr",
            Self::Epochs => "epochs",
            Self::Corruption => "corruption",
        }
    }

    /// An axis label for plots.
    pub fn label(self) -> &'static str {
        match self {
            Self::Rho => "target sparsity ρ (log scale)",
            Self::Beta => "sparsity weight β (log scale)",
            Self::K => "units kept per image k (log scale)",
            Self::L1Weight => "L1 weight (log scale)",
            Self::Sparsity => "sparsity mechanism",
            Self::Hidden => "hidden units H (log scale)",
            Self::Lr => "learning rate (log scale)",
            Self::Epochs => "epochs",
            Self::Corruption => "corruption",
        }
    }

    /// Whether values are plotted on a log axis.
    pub fn log(self) -> bool {
        !matches!(self, Self::Epochs | Self::Corruption | Self::Sparsity)
    }

    /// Whether the axis has numeric values (corruption and mechanisms have labels).
    pub fn numeric(self) -> bool {
        !matches!(self, Self::Corruption | Self::Sparsity)
    }

    /// The numeric value of `row` on this axis (NaN where it has none).
    pub fn value(self, row: &RunRow) -> f64 {
        match self {
            Self::Rho => row.rho.unwrap_or(f64::NAN),
            Self::Beta => row.beta.unwrap_or(f64::NAN),
            Self::K => row.k.map_or(f64::NAN, |k| k as f64),
            Self::L1Weight => row.l1_weight.unwrap_or(f64::NAN),
            Self::Hidden => row.hidden as f64,
            Self::Lr => row.lr,
            Self::Epochs => row.epochs as f64,
            Self::Corruption | Self::Sparsity => f64::NAN,
        }
    }

    /// The value of `row` on this axis as text (`ρ=0.05`, `gaussian1`,
    /// `TopK k=25`).
    pub fn text(self, row: &RunRow) -> String {
        match self {
            Self::Rho => format!("ρ={}", or_dash(row.rho)),
            Self::Beta => format!("β={}", or_dash(row.beta)),
            Self::K => format!("k={}", or_dash(row.k)),
            Self::L1Weight => format!("L1 w={}", or_dash(row.l1_weight)),
            Self::Sparsity => mechanism(row),
            Self::Hidden => format!("H={}", row.hidden),
            Self::Lr => format!("lr={}", row.lr),
            Self::Epochs => format!("{} epochs", row.epochs),
            Self::Corruption => row.corruption.clone(),
        }
    }
}

/// The mechanism of `row` and its parameter, for legends and labels.
pub fn mechanism(row: &RunRow) -> String {
    match row.sparsity {
        SparsityKind::Kl => format!("KL ρ={} β={}", or_dash(row.rho), or_dash(row.beta)),
        SparsityKind::L1 => format!("L1 w={}", or_dash(row.l1_weight)),
        SparsityKind::Topk => format!("TopK k={}", or_dash(row.k)),
        SparsityKind::None => "none".into(),
    }
}

/// The mechanism's name alone (`KL`, `L1`, `TopK`, `none`), for grouping.
pub fn mechanism_kind(row: &RunRow) -> &'static str {
    match row.sparsity {
        SparsityKind::Kl => "KL",
        SparsityKind::L1 => "L1",
        SparsityKind::Topk => "TopK",
        SparsityKind::None => "none",
    }
}

/// The axes `experiment` sweeps over more than one value, in the order
/// plots prefer them. A sweep over whole mechanisms is one axis: the
/// mechanisms' own parameters are part of its values.
pub fn swept(experiment: &Experiment) -> Vec<Axis> {
    let s = &experiment.sweep;
    let mechanisms = s.sparsity.is_some();
    let per_kind = |n: Option<usize>| if mechanisms { None } else { n };
    let n_mechanisms =
        mechanisms.then(|| experiment.expand().iter().map(|r| r.config.sparsity).collect::<Vec<_>>()).map(|mut v| {
            v.dedup();
            v.len()
        });
    let lens = [
        (Axis::Sparsity, n_mechanisms),
        (Axis::Rho, per_kind(s.rho.as_ref().map(|l| l.0.len()))),
        (Axis::Beta, per_kind(s.beta.as_ref().map(|l| l.0.len()))),
        (Axis::K, per_kind(s.k.as_ref().map(|l| l.0.len()))),
        (Axis::L1Weight, per_kind(s.l1_weight.as_ref().map(|l| l.0.len()))),
        (Axis::Hidden, s.hidden.as_ref().map(|l| l.0.len())),
        (Axis::Lr, s.lr.as_ref().map(|l| l.0.len())),
        (Axis::Epochs, s.epochs.as_ref().map(|l| l.0.len())),
        (Axis::Corruption, s.corruption.as_ref().map(|l| l.0.len())),
    ];
    lens.into_iter().filter(|(_, n)| n.is_some_and(|n| n > 1)).map(|(a, _)| a).collect()
}

/// A short label of everything `row` sets on the swept `axes`.
pub fn config_label(axes: &[Axis], row: &RunRow) -> String {
    if axes.is_empty() {
        return format!("H={}", row.hidden);
    }
    axes.iter().map(|a| a.text(row)).collect::<Vec<_>>().join(", ")
}
