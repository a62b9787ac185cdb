//! What a run leaves behind: its status, final test metrics and timing
//! (`metrics.json` in its folder).

use serde::{Deserialize, Serialize};

use sae_core::Metrics;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Trained and scored.
    Ok,
    /// Diverged or errored; `reason` says why.
    Failed,
}

impl Status {
    /// `ok` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
        }
    }
}

/// The outcome of one run, as stored in `metrics.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: String,
    /// How it ended.
    pub status: Status,
    /// Why it failed, if it did.
    pub reason: Option<String>,
    /// Scores on the test set (absent for a failed run).
    pub test: Option<Metrics>,
    /// The linear probe's test accuracy on the run's code (absent for a
    /// failed run, and from older records).
    #[serde(default)]
    pub probe_accuracy: Option<f64>,
    /// Validation MSE after the last completed epoch.
    pub final_val_mse: Option<f64>,
    /// Epochs completed.
    pub epochs_done: usize,
    /// The stored run this one continued (its first epochs and their
    /// seconds are that run's), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continued_from: Option<String>,
    /// Seconds spent training (validation and test scoring excluded), over
    /// every epoch of the curve (a continued run's earlier ones included).
    pub train_seconds: f64,
    /// Seconds from start to end of the run, scoring included.
    pub seconds: f64,
    /// Training images processed per second of training.
    pub samples_per_s: f64,
}
