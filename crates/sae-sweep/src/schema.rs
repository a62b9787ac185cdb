//! The results schema: every metric a run reports, defined once with its
//! key (the CSV column), title, unit, direction and printed digits, and
//! read from a run's record by the same definition. Tables, summaries and
//! plots all go through [`Metric`], so a misspelt metric does not compile.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Defines [`Metric`] from one line per metric: variant, key, title,
/// unit, direction, digits, and how to read it from a [`RunRecord`].
macro_rules! metrics {
    ($($variant:ident: $key:literal, $title:literal, $unit:literal, $direction:ident, $digits:literal, |$r:ident| $read:expr;)+) => {
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

metrics! {
    Mse: "mse", "test MSE", "normalised units", Lower, 4, |r| r.test.map(|m| m.mse);
    Fvu: "fvu", "fraction of variance unexplained", "", Lower, 4, |r| r.test.and_then(|m| m.fvu);
    PsnrDb: "psnr_db", "test PSNR", "dB", Higher, 2, |r| r.test.and_then(|m| m.psnr_db);
    Ssim: "ssim", "test SSIM", "", Higher, 4, |r| r.test.and_then(|m| m.ssim);
    ProbeAccuracy: "probe_accuracy", "linear-probe accuracy", "", Higher, 4, |r| r.probe_accuracy;
    Kl: "kl", "KL divergence from the target ρ (as trained: mean or sum over units)", "", Neither, 4, |r| r.test.and_then(|m| m.kl);
    RhoHatMean: "rho_hat_mean", "mean activation", "", Neither, 4, |r| r.test.map(|m| m.rho_hat_mean);
    ActivePerImage: "active_per_image", "active units per image (> 0.5)", "", Neither, 2, |r| r.test.map(|m| m.active_per_image);
    L0: "l0", "non-zero code entries per image (L0)", "", Neither, 2, |r| r.test.and_then(|m| m.l0);
    DeadFraction: "dead_fraction", "fraction of dead units", "", Neither, 3, |r| r.test.map(|m| m.dead_fraction);
    FinalValMse: "final_val_mse", "validation MSE after the last epoch", "normalised units", Lower, 4, |r| r.final_val_mse;
    Seconds: "seconds", "seconds per run", "s", Neither, 1, |r| Some(r.seconds);
    SamplesPerS: "samples_per_s", "training samples per second", "", Higher, 0, |r| Some(r.samples_per_s);
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
}
