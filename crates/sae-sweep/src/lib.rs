//! Sweeps for sae-lab: experiment files, grid expansion with stable run
//! ids, the parallel runner with resume, failure isolation and shards, and
//! the result store and tidy tables.

mod complete;
mod data;
mod engines;
mod error;
mod experiment;
mod grid;
mod lock;
mod probe;
mod progress;
mod record;
mod run;
mod runner;
mod schema;
mod shard;
mod sparsity;
mod store;
mod table;
mod validate;
mod values;

pub use complete::RunState;
pub use data::{RunData, SharedData};
pub use error::SweepError;
pub use experiment::{
    DataSection, Experiment, ExperimentFile, ModelSection, ProbeImages, ProbeSection, SweepSection, TrainingSection,
};
pub use grid::RunSpec;
pub use lock::RunLock;
pub use probe::probe_accuracy;
pub use progress::{note, ProgressMode};
pub use record::{RunRecord, Status};
pub use run::{execute, RunResult};
pub use runner::{merge, run_sweep, SweepOptions, SweepSummary, EXPERIMENT_COPY};
pub use schema::{Direction, Metric, MetricDef};
pub use shard::Shard;
pub use sparsity::{SparsityKind, SparsitySection};
pub use store::{ResultsDir, CHECKPOINT_FILE, CONFIG_FILE, CURVE_FILE, METRICS_FILE};
pub use table::{
    collect_rows, mean_std, rebuild_tables, summarise, summary_csv, BaselineKind, BaselineRow, ConfigSummary,
    ExtraColumn, RunRow, PARAMETER_COLUMNS, RUNS_CSV, SUMMARY_CSV,
};
pub use values::{
    Beta, Count, L1Weight, Label, LearningRate, NonEmpty, Rho, TopK, ValidCorruption, WeightDecay, Width, MAX_COUNT,
    MAX_RUNS, MAX_WIDTH,
};
