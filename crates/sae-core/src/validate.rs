//! The checks a model, its sparsity mechanism and its batch size pass
//! before training: the combinations sae-core cannot train are refused
//! with an error naming the setting, never a panic or a silent fallback.

use crate::{Activation, Architecture, CoreError, Init, KSchedule, ModelConfig, Setting, SparsityConfig, TrainConfig};

/// An error for `setting`.
fn bad(setting: Setting, message: String) -> CoreError {
    CoreError::Config { setting, message }
}

/// Checks that `schedule` anneals the k of a TopK or BatchTopK `sparsity`
/// from at least k and at most the width `h`, over at least one epoch.
fn check_schedule(schedule: KSchedule, sparsity: &SparsityConfig, h: usize) -> Result<(), CoreError> {
    let Some(k) = sparsity.top_k().or(sparsity.batch_top_k()) else {
        return Err(bad(
            Setting::KSchedule,
            "set for a mechanism without k: expected kind = \"topk\" or \"batchtopk\"".into(),
        ));
    };
    let KSchedule { from, epochs } = schedule;
    if from < k || from > h {
        return Err(bad(Setting::KSchedule, format!("from = {from}: expected k ({k}) to the width ({h})")));
    }
    if epochs == 0 {
        return Err(bad(Setting::KSchedule, "epochs = 0: expected at least 1".into()));
    }
    Ok(())
}

/// Checks that `value` is finite and at least 0 (`positive`: above 0).
fn finite(setting: Setting, value: f64, positive: bool) -> Result<(), CoreError> {
    match value.is_finite() && (value > 0.0 || (!positive && value == 0.0)) {
        true => Ok(()),
        false => {
            Err(bad(setting, format!("{value}: expected a finite value {}", if positive { "> 0" } else { "≥ 0" })))
        }
    }
}

/// Checks that a JumpReLU or Gated `sparsity` trains a model of its own
/// architecture with a ReLU code (and Gated with unit-norm atoms, without
/// which its L1 penalty on the gate shrinks as the atoms grow), with
/// finite weights, a positive kernel width and initial threshold.
fn check_architecture(model: &ModelConfig, sparsity: &SparsityConfig) -> Result<(), CoreError> {
    let wanted = sparsity.architecture();
    if model.architecture != wanted {
        let (found, want) = (model.architecture.as_str(), wanted.as_str());
        return Err(bad(Setting::Architecture, format!("\"{found}\" for a mechanism that trains \"{want}\"")));
    }
    if wanted == Architecture::Standard {
        return Ok(());
    }
    if model.activation != Activation::Relu {
        let found = model.activation.as_str();
        return Err(bad(
            Setting::Activation,
            format!("\"{found}\" with kind = \"{}\": expected \"relu\"", wanted.as_str()),
        ));
    }
    finite(Setting::Weight, sparsity.strength(), false)?;
    match *sparsity {
        SparsityConfig::JumpRelu { bandwidth, initial_threshold, .. } => {
            finite(Setting::Bandwidth, bandwidth, true)?;
            finite(Setting::InitialThreshold, initial_threshold, true)
        }
        _ if !model.unit_atoms => Err(bad(
            Setting::UnitAtoms,
            "false with kind = \"gated\": the gate's L1 penalty needs unit-norm atoms, expected true".into(),
        )),
        _ => Ok(()),
    }
}

/// Checks that a `k` (or `aux_k`) lies in 1..=H.
fn units(setting: Setting, k: usize, hidden: usize) -> Result<(), CoreError> {
    if k == 0 || k > hidden {
        return Err(bad(setting, format!("{k} units: expected 1 to the width, {hidden}")));
    }
    Ok(())
}

/// Checks that `model` can be trained with `sparsity` as `config` says.
///
/// # Errors
/// [`CoreError::Config`] naming the setting: `kl` with a ReLU code; `k`
/// or `aux_k` of 0 or above the width; `batchtopk` with a batch of 1; an `aux_weight`
/// that is negative or not finite; a `dead_after` of 0; tied weights that
/// do not start tied; a k schedule for a mechanism without k, starting
/// below k or above the width, or over no epoch; a JumpReLU or Gated
/// mechanism with a model of another architecture, a sigmoid code, a
/// negative or non-finite weight, a kernel width or initial threshold not
/// above 0, or (Gated) without unit-norm atoms.
pub fn validate(model: &ModelConfig, sparsity: &SparsityConfig, config: &TrainConfig) -> Result<(), CoreError> {
    let (h, batch) = (model.hidden, config.batch_size);
    check_architecture(model, sparsity)?;
    if model.tie_weights && model.init != Init::Tied {
        let message =
            format!("true with init = \"{}\": tied weights start tied, expected init = \"tied\"", model.init.as_str());
        return Err(bad(Setting::TieWeights, message));
    }
    if let Some(schedule) = config.k_schedule {
        check_schedule(schedule, sparsity, h)?;
    }
    if matches!(sparsity, SparsityConfig::Kl { .. }) && model.activation != Activation::Sigmoid {
        let found = model.activation.as_str();
        return Err(bad(
            Setting::Activation,
            format!("\"{found}\" with kind = \"kl\": the KL penalty needs a sigmoid code"),
        ));
    }
    if let Some(k) = sparsity.top_k().or(sparsity.batch_top_k()) {
        units(Setting::K, k, h)?;
    }
    if sparsity.batch_top_k().is_some() && batch < 2 {
        return Err(bad(Setting::BatchSize, format!("{batch} with kind = \"batchtopk\": expected at least 2")));
    }
    if let Some(aux) = sparsity.aux() {
        units(Setting::AuxK, aux.aux_k, h)?;
        if !(aux.aux_weight.is_finite() && aux.aux_weight >= 0.0) {
            return Err(bad(Setting::AuxWeight, format!("{}: expected a finite value ≥ 0", aux.aux_weight)));
        }
        if aux.dead_after == 0 {
            return Err(bad(Setting::DeadAfter, "0 images: expected at least 1".into()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AuxK;

    fn batch_of(batch: usize) -> TrainConfig {
        TrainConfig { batch_size: batch, ..TrainConfig::reference() }
    }

    fn err(model: ModelConfig, s: SparsityConfig, batch: usize) -> String {
        validate(&model, &s, &batch_of(batch)).unwrap_err().to_string()
    }

    #[test]
    fn bad_combinations_name_their_setting() {
        let relu = ModelConfig { activation: Activation::Relu, ..ModelConfig::new(4, 8) };
        assert!(err(relu, SparsityConfig::reference(), 2).starts_with("activation: \"relu\" with kind = \"kl\""));
        let topk = |k, aux| SparsityConfig::Topk { k, aux };
        let model = ModelConfig::new(4, 8);
        assert!(err(model, topk(9, None), 2).starts_with("k: 9 units: expected 1 to the width, 8"));
        assert!(err(model, topk(0, None), 2).starts_with("k: 0 units"));
        assert!(err(model, topk(3, Some(AuxK::new(9))), 2).starts_with("AuxK aux_k: 9 units"));
        let weight = AuxK { aux_weight: f64::NAN, ..AuxK::new(2) };
        assert!(err(model, topk(3, Some(weight)), 2).starts_with("AuxK aux_weight: NaN"));
        let never = AuxK { dead_after: 0, ..AuxK::new(2) };
        assert!(err(model, topk(3, Some(never)), 2).starts_with("AuxK dead_after: 0"));
        let batch = SparsityConfig::BatchTopk { k: 2, aux: None };
        assert!(err(ModelConfig::new(4, 8), batch, 1).starts_with("batch size: 1 with kind = \"batchtopk\""));
        assert!(validate(&ModelConfig::new(4, 8), &batch, &batch_of(2)).is_ok());
        assert!(validate(&relu, &SparsityConfig::L1 { weight: 0.1 }, &batch_of(1)).is_ok());
    }

    #[test]
    fn jumprelu_and_gated_need_their_model_and_sensible_values() {
        let jump =
            |weight, bandwidth, initial_threshold| SparsityConfig::JumpRelu { weight, bandwidth, initial_threshold };
        let relu = |architecture| ModelConfig {
            activation: Activation::Relu,
            unit_atoms: true,
            architecture,
            ..ModelConfig::new(4, 8)
        };
        let model = relu(Architecture::JumpRelu);
        assert!(validate(&model, &jump(1e-3, 1e-3, 1e-3), &batch_of(2)).is_ok());
        assert!(err(relu(Architecture::Standard), jump(1e-3, 1e-3, 1e-3), 2)
            .starts_with("architecture: \"standard\" for a mechanism that trains \"jumprelu\""));
        assert!(err(model, SparsityConfig::L1 { weight: 0.1 }, 2).starts_with("architecture: \"jumprelu\""));
        let sigmoid = ModelConfig { activation: Activation::Sigmoid, ..model };
        assert!(err(sigmoid, jump(1e-3, 1e-3, 1e-3), 2).starts_with("activation: \"sigmoid\" with kind = \"jumprelu\""));
        assert!(err(model, jump(-1.0, 1e-3, 1e-3), 2).starts_with("weight: -1: expected a finite value ≥ 0"));
        assert!(err(model, jump(f64::INFINITY, 1e-3, 1e-3), 2).starts_with("weight: inf"));
        assert!(err(model, jump(0.0, 0.0, 1e-3), 2).starts_with("bandwidth: 0: expected a finite value > 0"));
        assert!(err(model, jump(0.0, 1e-3, f64::NAN), 2).starts_with("initial_threshold: NaN"));
        let gated = relu(Architecture::Gated);
        assert!(validate(&gated, &SparsityConfig::Gated { weight: 0.0 }, &batch_of(2)).is_ok());
        let free = ModelConfig { unit_atoms: false, ..gated };
        assert!(
            err(free, SparsityConfig::Gated { weight: 1.0 }, 2).starts_with("unit_atoms: false with kind = \"gated\"")
        );
    }

    #[test]
    fn tied_weights_and_k_schedules_name_their_setting() {
        let untied = ModelConfig { tie_weights: true, ..ModelConfig::new(4, 8) };
        let topk = SparsityConfig::Topk { k: 3, aux: None };
        assert!(err(untied, topk, 2).starts_with("tie_weights: true with init = \"pytorch\""));
        assert!(validate(&ModelConfig { init: Init::Tied, ..untied }, &topk, &batch_of(2)).is_ok());
        let model = ModelConfig::new(4, 8);
        let scheduled = |from, epochs, s: SparsityConfig| {
            let config = TrainConfig { k_schedule: Some(KSchedule { from, epochs }), ..batch_of(2) };
            validate(&model, &s, &config).map_err(|e| e.to_string())
        };
        assert!(scheduled(2, 1, topk)
            .unwrap_err()
            .starts_with("k_schedule: from = 2: expected k (3) to the width (8)"));
        assert!(scheduled(9, 1, topk).unwrap_err().starts_with("k_schedule: from = 9"));
        assert!(scheduled(8, 0, topk).unwrap_err().starts_with("k_schedule: epochs = 0"));
        assert!(scheduled(8, 2, SparsityConfig::None).unwrap_err().contains("a mechanism without k"));
        assert!(scheduled(8, 2, topk).is_ok() && scheduled(3, 2, topk).is_ok());
    }
}
