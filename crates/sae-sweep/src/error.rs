//! The errors of sae-sweep.

use std::path::PathBuf;

/// What can stop a sweep as a whole (a failing run does not: it is
/// recorded as failed and the sweep goes on).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A file could not be read or written. The operating system's error
    /// is part of the message, not a separate source, so a printed chain
    /// says it once.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// An experiment file is invalid.
    #[error("{path}: {message}")]
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong, with line and column where toml gives them.
        message: String,
    },
    /// An experiment file whose name cannot name its results folder.
    #[error("{}", path.display())]
    BadFileName {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with its name.
        #[source]
        source: crate::BadExperimentName,
    },
    /// An experiment file whose name is not UTF-8 text: its name names the
    /// results folder.
    #[error(
        "{path:?}: the file name is not UTF-8 text; the experiment's name (the file name without .toml) names its \
         results folder and must be text: rename the file"
    )]
    NotUtf8 {
        /// The file concerned.
        path: PathBuf,
    },
    /// A results folder that belongs to another experiment file of the same
    /// name, with other runs: nothing was written.
    #[error(
        "{}: holds the results of {}; {} has the same name but other runs ({example} is in one grid only), and \
         two experiments' results are never mixed in one folder",
        folder.display(),
        owner.display(),
        file.display()
    )]
    OwnedByAnother {
        /// The experiment's results folder.
        folder: PathBuf,
        /// The experiment file it belongs to.
        owner: PathBuf,
        /// The file refused, made absolute.
        file: PathBuf,
        /// A run id of one grid and not the other.
        example: String,
    },
    /// A `--shard` value is malformed.
    #[error("invalid shard {0:?}: expected i/n with 0 ≤ i < n, e.g. 0/4")]
    Shard(String),
    /// The Slurm array variables do not make a shard.
    #[error(
        "SLURM_ARRAY_TASK_ID={id:?}, SLURM_ARRAY_TASK_MIN={min:?}, SLURM_ARRAY_TASK_COUNT={count:?}: expected whole \
         numbers with MIN ≤ ID < MIN + COUNT"
    )]
    Slurm {
        /// `SLURM_ARRAY_TASK_ID`.
        id: String,
        /// `SLURM_ARRAY_TASK_MIN` (0 when unset).
        min: String,
        /// `SLURM_ARRAY_TASK_COUNT`.
        count: String,
    },
    /// `merge` of an experiment no sweep has stored a run of.
    #[error("{path}: no run of {name} is stored here")]
    NeverRun {
        /// The experiment's name.
        name: String,
        /// Its results folder.
        path: PathBuf,
    },
    /// `merge` of a grid none of whose runs is stored (the experiment file
    /// changed since its sweep): the tables are left as they were.
    #[error(
        "{path}: none of the {runs} runs of this experiment's grid is stored here (did the file change since \
         its sweep?); runs.csv and summary.csv are left as they were"
    )]
    NoneStored {
        /// The runs folder.
        path: PathBuf,
        /// Runs in the grid.
        runs: usize,
    },
    /// A stored result could not be read back.
    #[error("{path}: {message}")]
    Corrupt {
        /// The file concerned.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A stored run cannot be continued.
    #[error("{}: cannot continue this run: {message}", path.display())]
    Continuation {
        /// The file at fault.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The dataset could not be found nor downloaded: the caller's error,
    /// from the function the sweep asked for the data's folder.
    #[error("no data to train on")]
    DataUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A device the runs ask for does not open, a precision cannot train
    /// here, or candle's threads cannot be set: nothing has run yet.
    #[error("the sweep cannot start")]
    Engines(#[source] sae_core::CoreError),
    /// A checkpoint or training state could not be written or read. It
    /// names its file itself, so this adds no words of its own.
    #[error(transparent)]
    Core(#[from] sae_core::CoreError),
    /// The data could not be loaded.
    #[error(transparent)]
    Data(#[from] sae_data::DataError),
}

impl SweepError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { path, error }
    }
}
