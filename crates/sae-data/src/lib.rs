//! MNIST-format data for sae-lab: IDX files, dataset discovery and download,
//! the train/validation/test split, normalisation to [-1, 1] and the
//! corruptions that turn clean images into model inputs.
//!
//! This crate knows nothing about models: it hands out flat `f32` pixel
//! buffers, row-major, one image after another.

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
mod skip;
mod split;
mod synthetic;

pub use atomic_file::write_atomic;
pub use batches::{corrupt_set, TrainBatches};
pub use corruption::{Corruption, HalfSide};
pub use dataset::{DatasetName, RawDataset, IDX_FILES, SIDE};
pub use discover::{find_dataset, DataSource, SearchPaths, DATA_DIR_ENV, SYSTEM_DATASETS};
pub use download::{download_dataset, Mirror};
pub use error::DataError;
pub use idx::{parse_idx_images, parse_idx_labels, read_idx_images, read_idx_labels, IdxImages, MAX_IDX_BODY};
pub use images::{normalize_byte, ImageSet};
pub use rng::{batch_rng, TEST_NOISE_STREAM, VALIDATION_NOISE_STREAM};
pub use skip::skip_test;
pub use split::{labelled, LabelledHalves, SplitSizes, Splits};
pub use synthetic::write_synthetic_dataset;

/// The result type of this crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
