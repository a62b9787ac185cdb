//! MNIST-format data for sae-lab: IDX files, dataset discovery and download,
//! the train/validation/test split, normalisation to [-1, 1] and the
//! corruptions that turn clean images into model inputs.
//!
//! This crate knows nothing about models: it hands out flat `f32` pixel
//! buffers, row-major, one image after another.
//!
//! Where each part lives:
//!
//! - **Finding the files**: [`find_dataset`] (`discover.rs`), the
//!   [`DatasetName`] and layout (`dataset.rs`), [`download_dataset`]
//!   (`download.rs`).
//! - **Reading them**: IDX parsing (`idx.rs`) into normalised
//!   [`ImageSet`]s (`images.rs`), and the seeded [`Splits`] (`split.rs`).
//! - **Corrupting inputs**: [`Corruption`] (`corruption.rs`, Gaussian
//!   samples in `normal.rs`), drawn from named random streams (`rng.rs`),
//!   batch by batch ([`TrainBatches`], `batches.rs`).
//! - **Names**: [`short_number`] (`short_number.rs`), numbers in ids and
//!   labels.
//! - **Writing files**: [`write_atomic`] (`atomic_file.rs`), which every
//!   crate of the workspace writes through, and [`stop_writes`]
//!   (`writes.rs`), with which a process stopped by a signal exits between
//!   writes.
//! - **For tests**: a [`write_synthetic_dataset`] (`synthetic.rs`) and
//!   [`skip_test`] (`skip.rs`).

mod atomic_file;
mod batches;
mod corruption;
mod dataset;
mod discover;
mod download;
mod error;
mod idx;
mod images;
mod normal;
mod rng;
mod short_number;
mod skip;
mod split;
mod synthetic;
mod writes;

pub use error::DataError;

// Finding the files.
pub use dataset::{DatasetName, RawDataset, IDX_FILES, SIDE};
pub use discover::{find_dataset, DataSource, SearchPaths, DATA_DIR_ENV, SYSTEM_DATASETS};
pub use download::{check_destination, download_dataset, Mirror};

// Reading them.
pub use idx::{parse_idx_images, parse_idx_labels, IdxImages};
pub use images::{normalize_byte, ImageSet};
pub use split::{labelled, LabelledHalves, SplitSizes, Splits};

// Corrupting inputs.
pub use batches::{corrupt_set, TrainBatches};
pub use corruption::{Corruption, HalfSide};
pub use rng::{batch_rng, TEST_NOISE_STREAM, VALIDATION_NOISE_STREAM};

// Names.
pub use short_number::short_number;

// Writing files.
pub use atomic_file::{create_folder, os_error, remove_interrupted_writes, write_atomic, TEMPORARY};
pub use writes::{stop_writes, writing, Writing};

// For tests.
pub use skip::skip_test;
pub use synthetic::write_synthetic_dataset;

/// The result type of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
