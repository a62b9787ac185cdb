//! Sweeps for sae-lab: experiment files, grid expansion with stable run
//! ids, the parallel runner with resume, failure isolation and shards, and
//! the result store and tidy tables.
//!
//! How a sweep flows, and where each step lives:
//!
//! 1. **The experiment file** ([`ExperimentFile`], `experiment.rs`): its
//!    sections, each value checked as it is read (`values.rs`,
//!    `sparsity.rs`), the checks that span keys (`validate.rs`; training
//!    long enough for the mechanisms' settings, `training_length.rs`) and what
//!    is allowed but said as a warning (`warnings.rs`); every
//!    parameter of a run is defined once ([`Param`], `parameter.rs`).
//! 2. **The grid** ([`Experiment::expand`], `grid.rs`): one [`RunSpec`] per
//!    point, with a stable id that hashes its canonical settings
//!    ([`Experiment::canonical`], `canonical.rs`).
//! 3. **The runner** ([`run_sweep`], `runner.rs`): the runs not yet stored
//!    ([`RunState`], `complete.rs`), locked one by one (`lock.rs`), trained
//!    in parallel on shared data (`data.rs`) by [`execute`] (`run.rs`),
//!    which scores them with the probe (`probe.rs`); a [`Shard`] takes part
//!    of the grid (`shard.rs`); progress is shown by `progress.rs`.
//! 4. **The store** ([`ResultsDir`], `store.rs`), which belongs to one
//!    experiment file (`owner.rs`): one folder per run, its
//!    [`RunRecord`] (`record.rs`), and on request its training state, from
//!    which a run of more epochs continues ([`ResultsDir::continuation`],
//!    [`execute_from`]). A command reads each run once, into a
//!    [`Snapshot`] (`snapshot.rs`) that the runner, the tables and the
//!    report share.
//! 5. **The tables** (`table.rs`): `runs.csv` and `summary.csv`, with the
//!    metrics defined once in the results schema ([`Metric`], `schema.rs`)
//!    and a suspect run's flag (`flag.rs`).

mod asha;
mod asha_pool;
mod canonical;
mod complete;
mod data;
mod engines;
mod error;
mod experiment;
mod flag;
mod grid;
mod halving;
mod lock;
mod owner;
mod param_value;
mod parameter;
mod position;
mod pre_bias_start;
mod probe;
mod progress;
mod record;
mod run;
mod runner;
mod schema;
mod search;
mod shard;
mod snapshot;
mod sparsity;
mod store;
mod table;
mod training_length;
mod validate;
mod values;
mod warnings;

pub use error::SweepError;

// 1. The experiment file.
pub use experiment::{
    experiment_name, BadExperimentName, DataSection, Experiment, ExperimentFile, ModelSection, SweepSection,
    TrainingSection,
};
pub use halving::{searched_runs, stopped_runs, Objective};
pub use parameter::{Param, ParamDef, Scale, Sweep, Value};
pub use pre_bias_start::PreBiasStart;
pub use search::{Distribution, Halving, SearchSection, Strategy};
pub use sparsity::{SparsityKind, SparsitySection};
pub use values::{
    Beta, Count, Eta, L1Weight, Label, LearningRate, NonEmpty, ProbeL2, Rho, TopK, ValidCorruption, WeightDecay, Width,
    MAX_RUNS, MAX_WIDTH,
};

// 2. The grid.
pub use grid::RunSpec;

// 3. The runner.
pub use complete::{RunState, StoredRun};
pub use data::{RunData, SharedData};
pub use lock::RunLock;
pub use probe::{probe_accuracy, NoProbeImages, ProbeImages, ProbeSection};
pub use progress::{note, ProgressMode};
pub use run::{execute, execute_from, RunResult};
pub use runner::{merge, run_sweep, MergeSummary, SweepOptions, SweepSummary, EXPERIMENT_COPY};
pub use shard::Shard;

// 4. The store.
pub use owner::OWNER_FILE;
pub use record::{RunRecord, Status};
pub use snapshot::Snapshot;
pub use store::{Continuation, ResultsDir, RunOutput, STATE_FILE};

// 5. The tables.
pub use schema::{Direction, Metric, MetricDef, Range};
pub use table::{
    collect_rows, mean_std, rebuild_tables, summarise, summary_csv, BaselineKind, BaselineRow, ConfigSummary,
    ExtraColumn, RunRow, RUNS_CSV, SUMMARY_CSV,
};
