//! A dataset in the MNIST layout: four IDX files under canonical names, and
//! loading them from one folder with every consistency check.

use std::path::{Path, PathBuf};

use crate::idx::{read_idx_images, read_idx_labels};
use crate::{DataError, IdxImages, Result};

/// The canonical file names of an MNIST-layout dataset, in the order
/// train images, train labels, test images, test labels.
pub const IDX_FILES: [&str; 4] =
    ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

/// Image side every model in sae-lab expects.
pub const SIDE: usize = 28;

/// The name of a dataset, as written in experiment files (`"mnist"`,
/// `"fashion-mnist"`, or any folder name holding the four IDX files).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct DatasetName(pub String);

impl<'de> serde::Deserialize<'de> for DatasetName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl DatasetName {
    /// A dataset name, checked to be a plain folder name: a name such as
    /// `../x` or `/etc` would otherwise be joined to the search folders as
    /// a path.
    ///
    /// # Errors
    /// [`DataError::BadDatasetName`].
    pub fn new(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if name.is_empty() || name.starts_with('.') || !name.chars().all(plain) {
            return Err(DataError::BadDatasetName(name));
        }
        Ok(Self(name))
    }

    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DatasetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The four files of a dataset, read and checked: 28×28 images, as many
/// labels as images.
#[derive(Debug, Clone)]
pub struct RawDataset {
    /// The folder the files came from.
    pub dir: PathBuf,
    /// The training images (60,000 for MNIST).
    pub train_images: IdxImages,
    /// One label per training image.
    pub train_labels: Vec<u8>,
    /// The test images (10,000 for MNIST).
    pub test_images: IdxImages,
    /// One label per test image.
    pub test_labels: Vec<u8>,
}

/// The path of `name` in `dir`, raw or `.gz`, whichever exists (raw first).
pub(crate) fn idx_path(dir: &Path, name: &'static str) -> Result<PathBuf> {
    let raw = dir.join(name);
    if raw.is_file() {
        return Ok(raw);
    }
    let gz = dir.join(format!("{name}.gz"));
    if gz.is_file() {
        return Ok(gz);
    }
    Err(DataError::MissingFile { dir: dir.into(), file: name })
}

/// The first of the four files that `dir` lacks, raw and compressed.
pub(crate) fn first_missing(dir: &Path) -> Option<&'static str> {
    IDX_FILES.into_iter().find(|f| idx_path(dir, f).is_err())
}

/// Whether `dir` holds all four files, raw or compressed.
pub(crate) fn has_all_files(dir: &Path) -> bool {
    first_missing(dir).is_none()
}

fn read_pair(dir: &Path, images: &'static str, labels: &'static str) -> Result<(IdxImages, Vec<u8>)> {
    let (ip, lp) = (idx_path(dir, images)?, idx_path(dir, labels)?);
    let im = read_idx_images(&ip)?;
    if (im.rows, im.cols) != (SIDE, SIDE) {
        return Err(DataError::Dimensions {
            path: ip,
            rows: SIDE,
            cols: SIDE,
            found_rows: im.rows,
            found_cols: im.cols,
        });
    }
    let lab = read_idx_labels(&lp)?;
    if let Some((index, &label)) = lab.iter().enumerate().find(|(_, &l)| l > 9) {
        return Err(DataError::BadLabel { path: lp, index, label });
    }
    if lab.len() != im.n {
        return Err(DataError::CountMismatch { images: ip, n_images: im.n, labels: lp, n_labels: lab.len() });
    }
    Ok((im, lab))
}

impl RawDataset {
    /// Reads the four files from `dir`.
    ///
    /// # Errors
    /// A missing file, any IDX error, images that are not 28×28, or image
    /// and label counts that disagree; each names the file.
    pub fn load(dir: &Path) -> Result<Self> {
        // The two pairs decompress on two threads: the training images are
        // most of the work, the rest runs beside them.
        let (train, test) = std::thread::scope(|s| {
            let train = s.spawn(|| read_pair(dir, IDX_FILES[0], IDX_FILES[1]));
            let test = read_pair(dir, IDX_FILES[2], IDX_FILES[3]);
            (train.join().expect("reading does not panic"), test)
        });
        let ((train_images, train_labels), (test_images, test_labels)) = (train?, test?);
        Ok(Self { dir: dir.into(), train_images, train_labels, test_images, test_labels })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a small synthetic dataset in the MNIST layout.
    pub(crate) fn write_fixture(dir: &Path, n_train: usize, n_test: usize) {
        crate::write_synthetic_dataset(dir, n_train, n_test, 0).unwrap();
    }

    #[test]
    fn loads_a_fixture() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 30, 10);
        let d = RawDataset::load(dir.path()).unwrap();
        assert_eq!((d.train_images.n, d.test_images.n, d.test_labels.len()), (30, 10, 10));
    }

    #[test]
    fn image_and_label_counts_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 30, 10);
        let mut v = 0x801u32.to_be_bytes().to_vec();
        v.extend(29u32.to_be_bytes());
        v.extend([0u8; 29]);
        std::fs::write(dir.path().join(IDX_FILES[1]), v).unwrap();
        let err = RawDataset::load(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::CountMismatch { n_images: 30, n_labels: 29, .. }), "{err:?}");
        assert!(err.to_string().contains("train-labels-idx1-ubyte"));
    }

    #[test]
    fn images_must_be_28_by_28() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 3, 2);
        let mut v = 0x803u32.to_be_bytes().to_vec();
        [2u32, 32, 32].iter().for_each(|d| v.extend(d.to_be_bytes()));
        v.extend(vec![0u8; 2 * 32 * 32]);
        std::fs::write(dir.path().join(IDX_FILES[2]), v).unwrap();
        let err = RawDataset::load(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::Dimensions { found_rows: 32, .. }), "{err:?}");
        assert!(err.to_string().contains("t10k-images-idx3-ubyte: images are 32×32, expected 28×28"));
    }

    #[test]
    fn labels_above_nine_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 3, 2);
        let mut v = 0x801u32.to_be_bytes().to_vec();
        v.extend(2u32.to_be_bytes());
        v.extend([7u8, 12]);
        std::fs::write(dir.path().join(IDX_FILES[3]), v).unwrap();
        let err = RawDataset::load(dir.path()).unwrap_err();
        assert!(matches!(err, DataError::BadLabel { index: 1, label: 12, .. }), "{err:?}");
        assert!(err.to_string().contains("t10k-labels-idx1-ubyte: label 12 at position 1"), "{err}");
    }

    #[test]
    fn dataset_names_are_plain_folder_names() {
        for good in ["mnist", "fashion-mnist", "emnist_digits", "set.v2"] {
            assert!(DatasetName::new(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", "/etc", ".hidden", "..", "a\\b", "x y"] {
            assert!(matches!(DatasetName::new(bad), Err(DataError::BadDatasetName(_))), "{bad}");
        }
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 3, 2);
        std::fs::remove_file(dir.path().join(IDX_FILES[3])).unwrap();
        let err = RawDataset::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("missing t10k-labels-idx1-ubyte"), "{err}");
    }
}
