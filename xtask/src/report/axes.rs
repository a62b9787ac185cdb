//! The swept parameters of an experiment, as the plots use them: which keys
//! vary, and each run's value of each.

use sae_sweep::{Experiment, RunRow};

/// A key an experiment can sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Target sparsity ρ.
    Rho,
    /// Penalty weight β.
    Beta,
    /// Hidden width.
    Hidden,
    /// Learning rate.
    Lr,
    /// Epoch budget.
    Epochs,
    /// Corruption kind and level.
    Corruption,
}

impl Axis {
    /// The column name in runs.csv.
    pub fn key(self) -> &'static str {
        match self {
            Self::Rho => "rho",
            Self::Beta => "beta",
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
            Self::Hidden => "hidden units H (log scale)",
            Self::Lr => "learning rate (log scale)",
            Self::Epochs => "epochs",
            Self::Corruption => "corruption",
        }
    }

    /// Whether values are plotted on a log axis.
    pub fn log(self) -> bool {
        !matches!(self, Self::Epochs | Self::Corruption)
    }

    /// Whether the axis has numeric values (corruption has labels).
    pub fn numeric(self) -> bool {
        self != Self::Corruption
    }

    /// The numeric value of `row` on this axis (NaN for corruption).
    pub fn value(self, row: &RunRow) -> f64 {
        match self {
            Self::Rho => row.rho,
            Self::Beta => row.beta,
            Self::Hidden => row.hidden as f64,
            Self::Lr => row.lr,
            Self::Epochs => row.epochs as f64,
            Self::Corruption => f64::NAN,
        }
    }

    /// The value of `row` on this axis as text (`ρ=0.05`, `gaussian1`).
    pub fn text(self, row: &RunRow) -> String {
        match self {
            Self::Rho => format!("ρ={}", row.rho),
            Self::Beta => format!("β={}", row.beta),
            Self::Hidden => format!("H={}", row.hidden),
            Self::Lr => format!("lr={}", row.lr),
            Self::Epochs => format!("{} epochs", row.epochs),
            Self::Corruption => row.corruption.clone(),
        }
    }
}

/// The axes `experiment` sweeps over more than one value, in the order
/// plots prefer them.
pub fn swept(experiment: &Experiment) -> Vec<Axis> {
    let s = &experiment.sweep;
    let lens = [
        (Axis::Rho, s.rho.as_ref().map(|l| l.0.len())),
        (Axis::Beta, s.beta.as_ref().map(|l| l.0.len())),
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
