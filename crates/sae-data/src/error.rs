//! The errors of sae-data: each names the file or address it concerns and
//! what was expected.

use std::path::PathBuf;

/// Everything that can go wrong while finding, fetching or reading data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened, read, decompressed or written. The
    /// operating system's error is part of the message, not a separate
    /// source, so a printed chain says it once.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// What the operating system or decoder said.
        error: std::io::Error,
    },
    /// The file has no bytes at all.
    #[error("{path}: empty file, expected an IDX {what} file")]
    Empty {
        /// The file concerned.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
    },
    /// The first four bytes are not the IDX magic number expected.
    #[error("{path}: not an IDX {what} file: magic number 0x{found:08x}, expected 0x{expected:08x}")]
    BadMagic {
        /// The file concerned.
        path: PathBuf,
        /// "images" or "labels".
        what: &'static str,
        /// The magic number expected.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// The body is longer than its header announces.
    #[error(
        "{path}: trailing data: the IDX header announces {expected} bytes, the file holds more (at least {found})"
    )]
    TrailingData {
        /// The file concerned.
        path: PathBuf,
        /// Bytes announced by the header (plus the header itself).
        expected: u64,
        /// Bytes present (for a gzip file, as far as it was decompressed).
        found: u64,
    },
    /// The header announces more data than sae-lab reads, or more than a
    /// machine word can count.
    #[error("{path}: the IDX header announces dimensions {dims:?}, more than the {limit} bytes sae-lab reads")]
    TooLarge {
        /// The file concerned.
        path: PathBuf,
        /// The dimensions announced.
        dims: Vec<usize>,
        /// The largest body accepted, in bytes.
        limit: u64,
    },
    /// A label outside the ten classes of an MNIST-layout dataset.
    #[error("{path}: label {label} at position {index}, expected a class from 0 to 9")]
    BadLabel {
        /// The label file.
        path: PathBuf,
        /// The label's position, from 0.
        index: usize,
        /// The value found.
        label: u8,
    },
    /// The body is shorter than its header announces.
    #[error("{path}: truncated IDX file: header announces {expected} bytes of data, found {found}")]
    Truncated {
        /// The file concerned.
        path: PathBuf,
        /// Bytes announced by the header (plus the header itself).
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// Images have a size other than the one required.
    #[error("{path}: images are {found_rows}×{found_cols}, expected {rows}×{cols}")]
    Dimensions {
        /// The file concerned.
        path: PathBuf,
        /// Rows expected.
        rows: usize,
        /// Columns expected.
        cols: usize,
        /// Rows found.
        found_rows: usize,
        /// Columns found.
        found_cols: usize,
    },
    /// An image file and its label file disagree on the number of items.
    #[error("{images} holds {n_images} images but {labels} holds {n_labels} labels")]
    CountMismatch {
        /// The image file.
        images: PathBuf,
        /// Its image count.
        n_images: usize,
        /// The label file.
        labels: PathBuf,
        /// Its label count.
        n_labels: usize,
    },
    /// A split asks for more images than the file holds.
    #[error("the split needs {needed} images from the {file} file, which holds {available}")]
    SplitTooLarge {
        /// "training" (train + validation images) or "test".
        file: &'static str,
        /// Images the split needs.
        needed: usize,
        /// Images available.
        available: usize,
    },
    /// Fewer images carry the selected labels than a set needs.
    #[error("{set} needs {needed} images with labels {labels:?}, but the {file} file has only {available}")]
    TooFewLabelled {
        /// The set: `training and validation`, `test` or `probe`.
        set: &'static str,
        /// The file the images come from: `training` or `test`.
        file: &'static str,
        /// The labels kept.
        labels: Vec<u8>,
        /// Images needed.
        needed: usize,
        /// Images with those labels.
        available: usize,
    },
    /// No folder holds the dataset.
    #[error("no {dataset} data found; looked in: {searched}")]
    NotFound {
        /// The dataset's name.
        dataset: String,
        /// Every folder searched, joined for display.
        searched: String,
    },
    /// A folder named explicitly lacks one of the dataset's files.
    #[error("{dir}: missing {file} (or {file}.gz)")]
    MissingFile {
        /// The folder.
        dir: PathBuf,
        /// The canonical file name missing.
        file: &'static str,
    },
    /// A folder named by `--data-dir` or `SAE_DATA_DIR` does not hold the
    /// dataset, in itself nor in a subfolder named after it.
    #[error("{source_name} {dir} holds no {dataset} dataset: {tried}")]
    NotInFolder {
        /// `--data-dir` or `SAE_DATA_DIR`.
        source_name: &'static str,
        /// The folder given.
        dir: PathBuf,
        /// The dataset's name.
        dataset: String,
        /// What each folder tried lacks, joined for display.
        tried: String,
    },
    /// `SAE_DATA_DIR` is set to an empty value.
    #[error("SAE_DATA_DIR is set but empty: unset it, or set it to the folder of the dataset's IDX files")]
    EmptyDataDirVariable,
    /// A dataset name that is not a plain folder name.
    #[error("dataset {0:?}: expected a plain folder name (letters, digits, '-', '_', '.'; not starting with '.')")]
    BadDatasetName(String),
    /// Downloaded content does not match its known checksum.
    #[error("{what}: SHA-256 of the decompressed content is {found}, expected {expected}")]
    Checksum {
        /// The address or file checked.
        what: String,
        /// The checksum expected.
        expected: &'static str,
        /// The checksum found.
        found: String,
    },
    /// Every mirror failed for a file.
    #[error("could not download {file}: {reasons}")]
    Download {
        /// The canonical file name.
        file: &'static str,
        /// What each mirror answered, joined for display.
        reasons: String,
    },
    /// A folder is needed where a file (or other non-folder) stands.
    #[error("{}: not a folder (it is a file){}; expected a folder there: move the file away or choose another folder", found.display(), needed_by(found, wanted))]
    NotAFolder {
        /// The path that is not a folder.
        found: PathBuf,
        /// The folder wanted (`found` itself, or a folder inside it).
        wanted: PathBuf,
    },
    /// A download destination holds another dataset's files, or is named
    /// after another dataset.
    #[error("{}: {found}; fetching {dataset} there would mix two datasets: choose another --dest (the default is ./data/{dataset})", dest.display())]
    OtherDataset {
        /// The destination folder.
        dest: PathBuf,
        /// The dataset being fetched.
        dataset: String,
        /// What the folder holds or is named after.
        found: String,
    },
    /// The dataset has no download source.
    #[error("{dataset} has no download mirror known to sae-lab")]
    NoMirror {
        /// The dataset's name.
        dataset: String,
    },
}

/// ` (needed for FOLDER)` when the folder wanted lies inside `found`.
fn needed_by(found: &std::path::Path, wanted: &std::path::Path) -> String {
    if found == wanted {
        String::new()
    } else {
        format!(", and {} needs it to be one", wanted.display())
    }
}

impl DataError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |error| Self::Io { path, error }
    }
}
