//! The tidy tables of an experiment, rebuilt from its run folders:
//! `runs.csv` (one row per completed run) and `summary.csv` (mean and
//! standard deviation over seeds, per configuration).

use serde::Serialize;

use crate::store::write_atomic;
use crate::{ResultsDir, RunRecord, RunSpec, RunState, Status, SweepError};

/// The tidy-table file names.
pub const RUNS_CSV: &str = "runs.csv";
/// Mean ± std over replicates.
pub const SUMMARY_CSV: &str = "summary.csv";

/// One row of `runs.csv`: every parameter, every final metric, status and
/// timing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// `ok` or `failed`.
    pub status: String,
    /// Why the run failed (empty when it did not).
    pub reason: String,
    /// Dataset name.
    pub dataset: String,
    /// Training images.
    pub train: usize,
    /// Validation images.
    pub validation: usize,
    /// Test images.
    pub test: usize,
    /// Split seed.
    pub split_seed: u64,
    /// Corruption label (`none`, `gaussian1`, `half-left`...).
    pub corruption: String,
    /// Hidden units.
    pub hidden: usize,
    /// Target sparsity.
    pub rho: f64,
    /// Sparsity weight.
    pub beta: f64,
    /// `mean` or `sum`.
    pub reduction: String,
    /// Epochs.
    pub epochs: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Weight decay.
    pub weight_decay: f64,
    /// Training seed.
    pub seed: u64,
    /// Test MSE (normalised units).
    pub mse: Option<f64>,
    /// Test PSNR, dB.
    pub psnr_db: Option<f64>,
    /// Test SSIM.
    pub ssim: Option<f64>,
    /// Test KL.
    pub kl: Option<f64>,
    /// Mean ρ̂ on the test set.
    pub rho_hat_mean: Option<f64>,
    /// Active units per test image.
    pub active_per_image: Option<f64>,
    /// Fraction of units never active on the test set.
    pub dead_fraction: Option<f64>,
    /// Validation MSE after the last epoch.
    pub final_val_mse: Option<f64>,
    /// Seconds the run took.
    pub seconds: f64,
    /// Training throughput.
    pub samples_per_s: f64,
}

/// The metric columns summarised over replicates.
pub const METRICS: [&str; 8] =
    ["mse", "psnr_db", "ssim", "kl", "rho_hat_mean", "active_per_image", "dead_fraction", "seconds"];

impl RunRow {
    /// The row of `spec` given its stored `record`.
    pub fn new(spec: &RunSpec, record: &RunRecord) -> Self {
        let c = &spec.config;
        let t = record.test.as_ref();
        Self {
            run_id: spec.id.clone(),
            status: record.status.as_str().into(),
            reason: record.reason.clone().unwrap_or_default(),
            dataset: c.data.dataset.to_string(),
            train: c.data.train.0,
            validation: c.data.validation.0,
            test: c.data.test.0,
            split_seed: c.data.split_seed,
            corruption: c.corruption.0.label(),
            hidden: c.model.hidden.0,
            rho: c.sparsity.rho.0,
            beta: c.sparsity.beta.0,
            reduction: format!("{:?}", c.sparsity.reduction).to_lowercase(),
            epochs: c.training.epochs.0,
            batch_size: c.training.batch_size.0,
            lr: c.training.lr.0,
            weight_decay: c.training.weight_decay.0,
            seed: c.training.seed,
            mse: t.map(|m| m.mse),
            psnr_db: t.and_then(|m| m.psnr_db),
            ssim: t.and_then(|m| m.ssim),
            kl: t.map(|m| m.kl),
            rho_hat_mean: t.map(|m| m.rho_hat_mean),
            active_per_image: t.map(|m| m.active_per_image),
            dead_fraction: t.map(|m| m.dead_fraction),
            final_val_mse: record.final_val_mse,
            seconds: record.seconds,
            samples_per_s: record.samples_per_s,
        }
    }

    /// The value of metric column `name` (one of [`METRICS`]).
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "mse" => self.mse,
            "psnr_db" => self.psnr_db,
            "ssim" => self.ssim,
            "kl" => self.kl,
            "rho_hat_mean" => self.rho_hat_mean,
            "active_per_image" => self.active_per_image,
            "dead_fraction" => self.dead_fraction,
            "seconds" => Some(self.seconds),
            _ => None,
        }
    }

    /// The configuration without its seed: rows that share it are
    /// replicates.
    pub fn config_key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            self.dataset,
            self.train,
            self.validation,
            self.test,
            self.split_seed,
            self.corruption,
            self.hidden,
            self.rho,
            self.beta,
            self.reduction,
            self.epochs,
            self.batch_size,
            self.lr,
            self.weight_decay
        )
    }
}

/// Mean and sample standard deviation (empty for one value).
pub fn mean_std(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, std)
}

/// The rows of every completed run of `grid`, in grid order; a damaged run
/// folder (see [`ResultsDir::state`]) has no row.
///
/// # Errors
/// None today; kept for the callers' sake.
pub fn collect_rows(dir: &ResultsDir, grid: &[RunSpec]) -> Result<Vec<RunRow>, SweepError> {
    let mut rows = Vec::new();
    for spec in grid {
        if let RunState::Stored(record) = dir.state(spec) {
            rows.push(RunRow::new(spec, &record));
        }
    }
    Ok(rows)
}

fn csv_bytes(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    write(&mut w).expect("writing to memory");
    w.into_inner().expect("writing to memory")
}

/// Rebuilds `runs.csv` and `summary.csv` from the run folders of `grid`;
/// returns the rows.
///
/// # Errors
/// An unreadable run record, or a table that cannot be written.
pub fn rebuild_tables(dir: &ResultsDir, grid: &[RunSpec]) -> Result<Vec<RunRow>, SweepError> {
    let rows = collect_rows(dir, grid)?;
    let runs = csv_bytes(|w| rows.iter().try_for_each(|r| w.serialize(r)));
    let runs = if rows.is_empty() { header_only() } else { runs };
    write_atomic(&dir.root().join(RUNS_CSV), &runs)?;
    write_atomic(&dir.root().join(SUMMARY_CSV), &summary_csv(&rows))?;
    Ok(rows)
}

/// The header of `runs.csv`, for an experiment with no completed run.
fn header_only() -> Vec<u8> {
    let mut bytes = csv_bytes(|w| w.serialize(RunRow::default()));
    let header_end = bytes.iter().position(|&b| b == b'\n').expect("a header line") + 1;
    bytes.truncate(header_end);
    bytes
}

/// The runs of one configuration (all parameters but the seed).
#[derive(Debug, Clone)]
pub struct ConfigSummary<'a> {
    /// The configuration's first run, for its parameters.
    pub first: &'a RunRow,
    /// Its successful replicates.
    pub ok: Vec<&'a RunRow>,
    /// All its completed replicates, failed ones included.
    pub total: usize,
}

impl ConfigSummary<'_> {
    /// Mean and standard deviation of `metric` over the successful
    /// replicates; `None` when none succeeded.
    pub fn stat(&self, metric: &str) -> Option<(f64, Option<f64>)> {
        let values: Vec<f64> = self.ok.iter().filter_map(|r| r.metric(metric)).collect();
        (!values.is_empty()).then(|| mean_std(&values))
    }

    /// [`ConfigSummary::stat`] as two CSV fields, empty where undefined.
    pub fn stat_fields(&self, metric: &str) -> [String; 2] {
        let (mean, std) = self.stat(metric).unzip();
        [mean.map(|m| m.to_string()).unwrap_or_default(), std.flatten().map(|s| s.to_string()).unwrap_or_default()]
    }
}

/// Groups `rows` by configuration, in the order configurations first appear.
pub fn summarise(rows: &[RunRow]) -> Vec<ConfigSummary<'_>> {
    let mut groups: Vec<(String, ConfigSummary<'_>)> = Vec::new();
    for row in rows {
        let key = row.config_key();
        let i = groups.iter().position(|g| g.0 == key).unwrap_or_else(|| {
            groups.push((key, ConfigSummary { first: row, ok: Vec::new(), total: 0 }));
            groups.len() - 1
        });
        groups[i].1.total += 1;
        if row.status == Status::Ok.as_str() {
            groups[i].1.ok.push(row);
        }
    }
    groups.into_iter().map(|g| g.1).collect()
}

/// `summary.csv`: per configuration, the number of successful replicates
/// and the mean and standard deviation of every metric.
fn summary_csv(rows: &[RunRow]) -> Vec<u8> {
    let groups = summarise(rows);
    csv_bytes(|w| {
        let mut header: Vec<String> = [
            "corruption",
            "hidden",
            "rho",
            "beta",
            "reduction",
            "epochs",
            "batch_size",
            "lr",
            "weight_decay",
            "dataset",
            "train",
            "replicates",
            "failed",
        ]
        .map(String::from)
        .to_vec();
        for m in METRICS {
            header.push(format!("{m}_mean"));
            header.push(format!("{m}_std"));
        }
        w.write_record(&header)?;
        for g in &groups {
            let first = g.first;
            let mut rec = vec![
                first.corruption.clone(),
                first.hidden.to_string(),
                first.rho.to_string(),
                first.beta.to_string(),
                first.reduction.clone(),
                first.epochs.to_string(),
                first.batch_size.to_string(),
                first.lr.to_string(),
                first.weight_decay.to_string(),
                first.dataset.clone(),
                first.train.to_string(),
                g.ok.len().to_string(),
                (g.total - g.ok.len()).to_string(),
            ];
            METRICS.iter().for_each(|m| rec.extend(g.stat_fields(m)));
            w.write_record(&rec)?;
        }
        Ok(())
    })
}
