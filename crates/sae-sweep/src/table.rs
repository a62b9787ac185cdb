//! The tidy tables of an experiment, rebuilt from its run folders:
//! `runs.csv` (one row per completed run) and `summary.csv` (mean and
//! standard deviation over seeds, per configuration).

use crate::flag::flag;
use crate::{Experiment, Metric, Param, RunRecord, RunSpec, Snapshot, Status, SweepError, Value};
use sae_data::write_atomic;

/// The tidy-table file names.
pub const RUNS_CSV: &str = "runs.csv";
/// Mean ± std over replicates.
pub const SUMMARY_CSV: &str = "summary.csv";

/// One row of `runs.csv`: every parameter ([`Param`]), every final metric,
/// status and timing. Column names are the definitions' keys, not derived
/// from Rust names, so renaming a variant never changes a file.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    /// Run id.
    pub run_id: String,
    /// The configuration's label: the swept values but the seed.
    pub label: String,
    /// How the run ended.
    pub status: Status,
    /// Why the run failed (empty when it did not).
    pub reason: String,
    /// Why a successful run is suspect (empty when it is not: [`flag`]).
    pub flag: String,
    /// The run's settings.
    pub config: Experiment,
    params: [Option<Value>; Param::COUNT],
    values: [Option<f64>; Metric::COUNT],
}

/// An optional value as a CSV field: empty when absent.
fn field<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl RunRow {
    /// The row of `spec` given its stored `record`.
    pub fn new(spec: &RunSpec, record: &RunRecord) -> Self {
        Self {
            run_id: spec.id.clone(),
            label: spec.label.clone(),
            status: record.status,
            reason: record.reason.clone().unwrap_or_default(),
            flag: flag(&spec.config, record),
            config: spec.config.clone(),
            params: std::array::from_fn(|i| Param::ALL[i].read(&spec.config)),
            values: std::array::from_fn(|i| Metric::ALL[i].read(record)),
        }
    }

    /// The value of `metric`, if the run has one.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.values[metric as usize]
    }

    /// The value of `param`, if it applies to the run.
    pub fn param(&self, param: Param) -> Option<&Value> {
        self.params[param as usize].as_ref()
    }

    /// The value of `param` as a number, if it has one.
    pub fn number(&self, param: Param) -> Option<f64> {
        self.param(param).and_then(Value::number)
    }

    /// The value of `param` as its column's text (empty where it has none).
    pub fn text(&self, param: Param) -> String {
        field(self.param(param))
    }

    /// The parameter columns with this row's values.
    pub fn parameters(&self) -> impl Iterator<Item = (&'static str, String)> + '_ {
        Param::ALL.iter().map(|&p| (p.def().key, self.text(p)))
    }

    /// The configuration without its seed: rows that share it are
    /// replicates.
    pub fn config_key(&self) -> String {
        self.parameters().filter(|(k, _)| *k != "seed").map(|(_, v)| v).collect::<Vec<_>>().join("|")
    }

    /// The header of `runs.csv`.
    fn header() -> Vec<String> {
        ["run_id", "label", "status", "reason", "flag"]
            .into_iter()
            .chain(Param::ALL.iter().map(|p| p.def().key))
            .map(String::from)
            .chain(metric_keys())
            .collect()
    }

    /// This row as `runs.csv` fields.
    fn record(&self) -> Vec<String> {
        let text = [&self.run_id, &self.label, self.status.as_str(), &self.reason, &self.flag].map(String::from);
        text.into_iter().chain(self.parameters().map(|(_, v)| v)).chain(self.values.iter().map(|v| field(*v))).collect()
    }
}

fn metric_keys() -> impl Iterator<Item = String> {
    Metric::ALL.iter().map(|m| m.def().key.to_string())
}

/// Mean and sample standard deviation (empty for one value).
pub fn mean_std(values: &[f64]) -> (f64, Option<f64>) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let std = (values.len() > 1).then(|| (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt());
    (mean, std)
}

/// The rows of every completed run of `grid`, in grid order; a damaged run
/// folder (see [`crate::ResultsDir::state`]) has no row.
pub fn collect_rows(results: &Snapshot, grid: &[RunSpec]) -> Vec<RunRow> {
    grid.iter().filter_map(|spec| results.stored(spec).map(|s| RunRow::new(spec, &s.record))).collect()
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
/// A table that cannot be written.
pub fn rebuild_tables(results: &Snapshot, grid: &[RunSpec]) -> Result<Vec<RunRow>, SweepError> {
    let (dir, rows) = (results.dir(), collect_rows(results, grid));
    let runs = csv_bytes(|w| {
        w.write_record(RunRow::header())?;
        rows.iter().try_for_each(|r| w.write_record(r.record()))
    });
    write_atomic(&dir.root().join(RUNS_CSV), &runs)?;
    let groups = summarise(&rows);
    let labels: Vec<String> = groups.iter().map(|g| g.first.label.clone()).collect();
    write_atomic(&dir.root().join(SUMMARY_CSV), &summary_csv(&groups, &labels, None, &[], &[]))?;
    Ok(rows)
}

/// The baselines a summary table carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineKind {
    /// The corrupted input itself, scored as a reconstruction.
    Input,
    /// The projection onto the top-H principal components of the clean
    /// training images: a reconstruction, and features for the probe.
    Pca,
    /// The clean pixels as the probe's features.
    Pixels,
}

impl BaselineKind {
    /// `input`, `pca` or `pixels`, as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Pca => "pca",
            Self::Pixels => "pixels",
        }
    }

    /// The kind written as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Input, Self::Pca, Self::Pixels].into_iter().find(|k| k.as_str() == text)
    }
}

/// A row of a summary table that is not a configuration of runs: a
/// baseline scored on the same test images.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineRow {
    /// Which baseline.
    pub kind: BaselineKind,
    /// What it is: `corrupted input`, `PCA (top 64: 86% of variance)`, `raw pixels`.
    pub name: String,
    /// The corruption label it was scored under.
    pub corruption: String,
    /// The width it matches (0 when it has none).
    pub hidden: usize,
    /// Its scores.
    pub values: Vec<(Metric, f64)>,
}

impl BaselineRow {
    /// Its value of `metric`, if it has one.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        self.values.iter().find(|(m, _)| *m == metric).map(|(_, v)| *v)
    }
}

/// A summary table's columns beyond the parameters and metrics: a name and
/// one value per configuration.
pub type ExtraColumn = (&'static str, Vec<String>);

/// A summary table as CSV, `summary.csv` and the report's table alike: per
/// configuration its label, whether it is `best`, every parameter but the
/// seed, the successful and failed replicates, the mean and standard
/// deviation of every metric and any `extra` columns; then one row per
/// baseline.
pub fn summary_csv(
    groups: &[ConfigSummary<'_>],
    labels: &[String],
    best: Option<usize>,
    extra: &[ExtraColumn],
    baselines: &[BaselineRow],
) -> Vec<u8> {
    let params: Vec<&str> = Param::ALL.iter().map(|p| p.def().key).filter(|c| *c != "seed").collect();
    csv_bytes(|w| {
        let mut header: Vec<String> =
            ["kind", "label", "best"].into_iter().chain(params.iter().copied()).map(String::from).collect();
        header.extend(["replicates".into(), "failed".into()]);
        for m in Metric::ALL {
            header.extend([format!("{}_mean", m.def().key), format!("{}_std", m.def().key)]);
        }
        header.extend(extra.iter().map(|c| c.0.to_string()));
        w.write_record(&header)?;
        for (i, (g, label)) in groups.iter().zip(labels).enumerate() {
            let mut rec = vec!["model".into(), label.clone(), (Some(i) == best).to_string()];
            rec.extend(g.first.parameters().filter(|(k, _)| *k != "seed").map(|(_, v)| v));
            rec.extend([g.ok.len().to_string(), (g.total - g.ok.len()).to_string()]);
            Metric::ALL.iter().for_each(|&m| rec.extend(g.stat_fields(m)));
            rec.extend(extra.iter().map(|c| c.1[i].clone()));
            w.write_record(&rec)?;
        }
        for b in baselines {
            let mut rec = vec![format!("baseline:{}", b.kind.as_str()), b.name.clone(), "false".into()];
            rec.extend(params.iter().map(|&c| match c {
                "corruption" => b.corruption.clone(),
                "hidden" if b.hidden > 0 => b.hidden.to_string(),
                _ => String::new(),
            }));
            rec.extend([String::new(), String::new()]);
            Metric::ALL.iter().for_each(|&m| rec.extend([field(b.metric(m)), String::new()]));
            rec.extend(extra.iter().map(|_| String::new()));
            w.write_record(&rec)?;
        }
        Ok(())
    })
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
    pub fn stat(&self, metric: Metric) -> Option<(f64, Option<f64>)> {
        let values: Vec<f64> = self.ok.iter().filter_map(|r| r.metric(metric)).collect();
        (!values.is_empty()).then(|| mean_std(&values))
    }

    /// [`ConfigSummary::stat`] as two CSV fields, empty where undefined.
    pub fn stat_fields(&self, metric: Metric) -> [String; 2] {
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
        if row.status == Status::Ok {
            groups[i].1.ok.push(row);
        }
    }
    groups.into_iter().map(|g| g.1).collect()
}
