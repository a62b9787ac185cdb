//! The swept parameters of an experiment as the plots use them: which
//! parameters vary, in the order plots prefer them, and each run's value
//! as legend text.

use std::collections::HashSet;

use sae_sweep::{Experiment, Param, RunRow, Scale, SparsityKind};

/// Whether `param` is plotted on a log axis.
pub fn log(param: Param) -> bool {
    param.def().scale == Scale::Log
}

/// Whether `param` has numeric values (corruption and mechanisms have names).
pub fn numeric(param: Param) -> bool {
    param.def().scale != Scale::Categorical
}

/// The value of `row` on `axis` as text (`ρ=0.05`, `gaussian1`,
/// `TopK k=25`).
pub fn text(axis: Param, row: &RunRow) -> String {
    match axis {
        Param::Sparsity => mechanism(row),
        _ => axis.text(row.param(axis)),
    }
}

/// The mechanism of `row` and its parameters, for legends and labels.
pub fn mechanism(row: &RunRow) -> String {
    let own = |p: Param| p.text(row.param(p));
    match SparsityKind::of(&row.config.sparsity.config) {
        SparsityKind::Kl => format!("KL {} {}", own(Param::Rho), own(Param::Beta)),
        SparsityKind::L1 => own(Param::L1Weight),
        SparsityKind::Topk | SparsityKind::Batchtopk => format!("{} {}", mechanism_kind(row), own(Param::K)),
        SparsityKind::Jumprelu => format!("JumpReLU {}", own(Param::L0Weight)),
        SparsityKind::Gated => format!("Gated {}", own(Param::GatedWeight)),
        SparsityKind::None => "none".into(),
    }
}

/// The mechanism's name alone (`KL`, `L1`, `TopK`, `TopK+AuxK`,
/// `BatchTopK`, `JumpReLU`, `Gated`, `none`), for grouping.
pub fn mechanism_kind(row: &RunRow) -> &'static str {
    let aux = row.config.sparsity.config.aux().is_some();
    match SparsityKind::of(&row.config.sparsity.config) {
        SparsityKind::Kl => "KL",
        SparsityKind::L1 => "L1",
        SparsityKind::Topk if aux => "TopK+AuxK",
        SparsityKind::Topk => "TopK",
        SparsityKind::Batchtopk if aux => "BatchTopK+AuxK",
        SparsityKind::Batchtopk => "BatchTopK",
        SparsityKind::Jumprelu => "JumpReLU",
        SparsityKind::Gated => "Gated",
        SparsityKind::None => "none",
    }
}

/// The parameters `experiment` sweeps or draws over more than one value, in the
/// order plots prefer them: the mechanism's, then the others, corruption
/// last. A sweep over whole mechanisms is one axis: the mechanisms' own
/// parameters are part of its values.
pub fn swept(experiment: &Experiment) -> Vec<Param> {
    let mechanisms_swept = experiment.varies(Param::Sparsity);
    let runs = experiment.expand();
    let distinct = |p: Param| match p {
        Param::Sparsity => runs.iter().map(|r| format!("{:?}", r.config.sparsity)).collect::<HashSet<_>>().len(),
        _ => runs.iter().map(|r| p.read(&r.config).map(|v| v.to_string())).collect::<HashSet<_>>().len(),
    };
    let mut axes: Vec<Param> = Param::ALL
        .iter()
        .copied()
        .filter(|&p| p != Param::Seed && experiment.varies(p) && !(mechanisms_swept && p.of_a_mechanism()))
        .filter(|&p| distinct(p) > 1)
        .collect();
    let rank = |p: &Param| match p {
        Param::Corruption => 2,
        p if *p == Param::Sparsity || p.of_a_mechanism() => 0,
        _ => 1,
    };
    axes.sort_by_key(rank);
    axes
}

/// A short label of everything `row` sets on the swept `axes`.
pub fn config_label(axes: &[Param], row: &RunRow) -> String {
    if axes.is_empty() {
        return format!("H={}", row.config.model.hidden.0);
    }
    axes.iter().map(|&a| text(a, row)).collect::<Vec<_>>().join(", ")
}

/// The numeric value of `row` on `axis` (NaN where it has none).
pub fn value(axis: Param, row: &RunRow) -> f64 {
    row.number(axis).unwrap_or(f64::NAN)
}
