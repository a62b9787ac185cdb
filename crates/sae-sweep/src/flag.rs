//! Why a run that succeeded is still suspect: its reconstruction is worse
//! than the mean image's, its code is empty or every latent is dead, or
//! its AuxK could never engage. Shown in `runs.csv`'s `flag` column and
//! listed in the report, so a degenerate run is never read as a result.

use crate::{Experiment, RunRecord, Status};

/// The reasons a successful run of settings `config` that left `record`
/// is suspect, joined by "; " (empty for a sound or failed run).
pub fn flag(config: &Experiment, record: &RunRecord) -> String {
    let Some(test) = record.test.as_ref().filter(|_| record.status == Status::Ok) else { return String::new() };
    let mut why = Vec::new();
    if let Some(fvu) = test.fvu.filter(|&f| f > 1.0) {
        why.push(format!("reconstructs worse than the mean image (FVU {fvu:.2} above 1)"));
    }
    if test.l0 == Some(0.0) {
        why.push("an empty code (L0 0)".to_string());
    } else if test.dead_latents == Some(1.0) {
        why.push("every latent dead".to_string());
    }
    if let Some(aux) = config.sparsity.config.aux() {
        let seen = config.images_trained(config.training.epochs.0);
        if aux.dead_after > seen {
            why.push(format!(
                "AuxK never engaged (dead_after {} images, {seen} trained on): the run without AuxK",
                aux.dead_after
            ));
        }
    }
    why.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sound_run_has_no_flag_and_each_fault_its_own() {
        let mut record: RunRecord = serde_json::from_str(
            r#"{"run_id": "r", "status": "ok", "reason": null, "probe_accuracy": 0.9, "final_val_mse": 0.1,
                "test": {"mse": 0.1, "psnr_db": 20.0, "ssim": 0.9, "kl": null, "rho_hat_mean": 0.05,
                         "active_per_image": 3.0, "dead_fraction": 0.0, "fvu": 0.2, "l0": 8.0, "dead_latents": 0.1},
                "epochs_done": 1, "train_seconds": 1.0, "seconds": 1.0, "samples_per_s": 100.0}"#,
        )
        .unwrap();
        let config = Experiment::default();
        assert_eq!(flag(&config, &record), "");
        let test = record.test.as_mut().unwrap();
        (test.fvu, test.dead_latents) = (Some(1.5), Some(1.0));
        assert_eq!(
            flag(&config, &record),
            "reconstructs worse than the mean image (FVU 1.50 above 1); every latent dead"
        );
        record.test.as_mut().unwrap().l0 = Some(0.0);
        assert!(flag(&config, &record).ends_with("; an empty code (L0 0)"));
        record.status = Status::Failed;
        assert_eq!(flag(&config, &record), "", "a failed run has its reason instead");
    }
}
