//! The checks a model, its sparsity mechanism and its batch size pass
//! before training: the combinations sae-core cannot train are refused
//! with an error naming the setting, never a panic or a silent fallback.

use crate::{Activation, CoreError, Init, KSchedule, ModelConfig, Setting, SparsityConfig, TrainConfig};

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
/// below k or above the width, or over no epoch.
pub fn validate(model: &ModelConfig, sparsity: &SparsityConfig, config: &TrainConfig) -> Result<(), CoreError> {
    let (h, batch) = (model.hidden, config.batch_size);
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
