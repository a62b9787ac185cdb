//! The results schema: every metric a run reports, defined once with its
//! key (the CSV column), title, unit, direction and printed digits, and
//! read from a run's record by the same definition, with the range its
//! value can take (a stored value outside it is damage, not a result).
//! Tables, summaries and plots all go through [`Metric`], so a misspelt
//! metric does not compile.

use crate::RunRecord;

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smaller is better (errors).
    Lower,
    /// Larger is better (quality, accuracy, speed).
    Higher,
    /// Neither: a description (activity, sparsity), not a score.
    Neither,
}

/// What is known about a metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricDef {
    /// The CSV column, as persisted in runs.csv and summary.csv.
    pub key: &'static str,
    /// A title for tables and panels.
    pub title: &'static str,
    /// The unit, empty when dimensionless.
    pub unit: &'static str,
    /// Which way it improves.
    pub direction: Direction,
    /// Decimal digits printed.
    pub digits: usize,
    /// The values it can take.
    pub range: Range,
}

/// The values a metric can take, by its definition (see DESIGN.md).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Range {
    /// From the first to the second, both included (the second may be infinite).
    Between(f64, f64),
    /// From 0 to the run's hidden width H (a count of units).
    Units,
}

/// Rounding a stored value may carry past its range's ends (SSIM or KL
/// computed in floating point: 1 + 1e-7, −1e-9); anything further out is
/// impossible.
const ROUNDING: f64 = 1e-6;

/// Defines [`Metric`] from one line per metric: variant, key, title,
/// unit, direction, digits, range, and how to read it from a [`RunRecord`].
macro_rules! metrics {
    ($($variant:ident: $key:literal, $title:literal, $unit:literal, $direction:ident, $digits:literal, $range:expr, |$r:ident| $read:expr;)+) => {
        /// A metric of a run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Metric {
            $(#[doc = $title] $variant,)+
        }

        impl Metric {
            /// Every metric, in the order of the tables' columns.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant),+];

            /// Its definition.
            pub fn def(self) -> MetricDef {
                match self {
                    $(Metric::$variant => MetricDef {
                        key: $key,
                        title: $title,
                        unit: $unit,
                        direction: Direction::$direction,
                        digits: $digits,
                        range: $range,
                    },)+
                }
            }

            /// Its value in `record`, if the run has one.
            pub fn read(self, record: &RunRecord) -> Option<f64> {
                match self {
                    $(Metric::$variant => { let $r = record; $read })+
                }
            }
        }
    };
}

// The ranges: MSE per pixel of a tanh output against a target in [-1, 1]
// is at most 2² = 4; PSNR on [0, 1] is at least 0 (an error of at most 1)
// and at most 120 dB (the floor 1e-12 of a perfect image); SSIM is in
// [-1, 1]; accuracies and fractions in [0, 1]; KL, FVU, activations, times
// and speeds are not negative; counts of units are at most the width.
metrics! {
    Mse: "mse", "test MSE", "normalised units", Lower, 4, Range::Between(0.0, 4.0), |r| r.test.map(|m| m.mse);
    Fvu: "fvu", "fraction of variance unexplained", "", Lower, 4, Range::Between(0.0, f64::INFINITY), |r| r.test.and_then(|m| m.fvu);
    PsnrDb: "psnr_db", "test PSNR", "dB", Higher, 2, Range::Between(0.0, 120.0), |r| r.test.and_then(|m| m.psnr_db);
    Ssim: "ssim", "test SSIM", "", Higher, 4, Range::Between(-1.0, 1.0), |r| r.test.and_then(|m| m.ssim);
    ProbeAccuracy: "probe_accuracy", "linear-probe accuracy", "", Higher, 4, Range::Between(0.0, 1.0), |r| r.probe_accuracy;
    Kl: "kl", "KL divergence from the target ρ (as trained: mean or sum over units)", "", Neither, 4, Range::Between(0.0, f64::INFINITY), |r| r.test.and_then(|m| m.kl);
    RhoHatMean: "rho_hat_mean", "mean activation", "", Neither, 4, Range::Between(0.0, f64::INFINITY), |r| r.test.map(|m| m.rho_hat_mean);
    ActivePerImage: "active_per_image", "active units per image (> 0.5)", "", Neither, 2, Range::Units, |r| r.test.map(|m| m.active_per_image);
    L0: "l0", "non-zero code entries per image (L0)", "", Neither, 2, Range::Units, |r| r.test.and_then(|m| m.l0);
    DeadLatents: "dead_latents", "dead latents (share never firing)", "", Neither, 3, Range::Between(0.0, 1.0), |r| r.test.and_then(|m| m.dead_latents);
    DenseLatents: "dense_latents", "dense latents (share firing on > 10%)", "", Neither, 3, Range::Between(0.0, 1.0), |r| r.test.and_then(|m| m.dense_latents);
    FinalValMse: "final_val_mse", "validation MSE after the last epoch", "normalised units", Lower, 4, Range::Between(0.0, 4.0), |r| r.final_val_mse;
    Seconds: "seconds", "seconds per run", "s", Neither, 1, Range::Between(0.0, f64::INFINITY), |r| Some(r.seconds);
    SamplesPerS: "samples_per_s", "training samples per second", "", Higher, 0, Range::Between(0.0, f64::INFINITY), |r| Some(r.samples_per_s);
}

impl Metric {
    /// How many metrics there are.
    pub const COUNT: usize = Self::ALL.len();

    /// The title with its direction: `test MSE ↓`, `test PSNR (dB) ↑`.
    pub fn heading(self) -> String {
        let d = self.def();
        let unit = if d.unit.is_empty() { String::new() } else { format!(" ({})", d.unit) };
        let arrow = match d.direction {
            Direction::Lower => " ↓",
            Direction::Higher => " ↑",
            Direction::Neither => "",
        };
        format!("{}{unit}{arrow}", d.title)
    }

    /// The first value of `record` its metric cannot take, for a run of
    /// width `hidden`: `mse = -5, expected a value from 0 to 4`; `None`
    /// when every value is possible.
    pub fn impossible(record: &RunRecord, hidden: usize) -> Option<String> {
        Self::ALL.iter().find_map(|&m| {
            let value = m.read(record)?;
            let (lo, hi) = match m.def().range {
                Range::Between(lo, hi) => (lo, hi),
                Range::Units => (0.0, hidden as f64),
            };
            let within = value >= lo - ROUNDING && value <= hi + ROUNDING;
            let expected = if hi.is_finite() {
                let width = if m.def().range == Range::Units { " (the width H)" } else { "" };
                format!("a value from {lo} to {hi}{width}")
            } else {
                format!("a value of {lo} or more")
            };
            (!within).then(|| format!("{} = {value}, expected {expected}", m.def().key))
        })
    }

    /// The metric whose key is `key`, for reading tables back.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|m| m.def().key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_round_trip() {
        for &m in Metric::ALL {
            assert_eq!(Metric::from_key(m.def().key), Some(m));
        }
        assert_eq!(Metric::from_key("psnr"), None);
        assert_eq!(Metric::PsnrDb.heading(), "test PSNR (dB) ↑");
    }

    #[test]
    fn impossible_values_are_named_with_their_key_and_range() {
        let record: RunRecord = serde_json::from_str(
            r#"{"run_id": "r", "status": "ok", "reason": null, "probe_accuracy": 0.9, "final_val_mse": 0.1,
                "test": {"mse": 0.1, "psnr_db": 20.0, "ssim": 1.0000001, "kl": -1e-9, "rho_hat_mean": 0.05,
                         "active_per_image": 3.0, "dead_fraction": 0.0, "fvu": 0.2, "l0": 8.0},
                "epochs_done": 1, "train_seconds": 1.0, "seconds": 1.0, "samples_per_s": 100.0}"#,
        )
        .unwrap();
        assert_eq!(Metric::impossible(&record, 8), None, "rounding at the ends is possible");
        assert_eq!(Metric::impossible(&record, 4).unwrap(), "l0 = 8, expected a value from 0 to 4 (the width H)");
        let with = |f: fn(&mut RunRecord)| {
            let mut r = record.clone();
            f(&mut r);
            Metric::impossible(&r, 8).unwrap()
        };
        assert_eq!(with(|r| r.test.as_mut().unwrap().mse = -5.0), "mse = -5, expected a value from 0 to 4");
        assert_eq!(with(|r| r.probe_accuracy = Some(7.0)), "probe_accuracy = 7, expected a value from 0 to 1");
        assert_eq!(with(|r| r.seconds = -1.0), "seconds = -1, expected a value of 0 or more");
    }
}
