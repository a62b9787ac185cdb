//! The seeded split of a dataset into training, validation and test sets.

use rand::seq::SliceRandom;

use crate::rng::{batch_rng, PROBE_STREAM, SPLIT_STREAM};
use crate::{DataError, IdxImages, ImageSet, RawDataset, Result};

/// How many images each set takes. The reference uses 50,000 training and
/// 10,000 validation images out of MNIST's 60,000, and all 10,000 test
/// images; smaller numbers make quick experiments and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSizes {
    /// Training images.
    pub train: usize,
    /// Validation images, drawn from the training file like the training set.
    pub validation: usize,
    /// Test images, the first ones of the test file.
    pub test: usize,
}

impl Default for SplitSizes {
    fn default() -> Self {
        Self { train: 50_000, validation: 10_000, test: 10_000 }
    }
}

/// Training images (kept as bytes, normalised batch by batch: a quarter of
/// the memory, and nothing to convert at load time), and normalised
/// validation and test images, each with its labels.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Images the model trains on.
    pub train: IdxImages,
    /// The label of each training image.
    pub train_labels: Vec<u8>,
    /// Images scored after every epoch.
    pub validation: ImageSet,
    /// Images scored once, at the end.
    pub test: ImageSet,
    /// The label of each test image.
    pub test_labels: Vec<u8>,
}

/// The positions of the images whose label is in `keep` (every position
/// when `keep` is `None`).
pub fn labelled(labels: &[u8], keep: Option<&[u8]>) -> Vec<usize> {
    (0..labels.len()).filter(|&i| keep.is_none_or(|k| k.contains(&labels[i]))).collect()
}

/// The probe's own images when it learns from labels the autoencoder never
/// saw (UFLDL's self-taught protocol): the training file's images of some
/// labels, shuffled with a seed and halved, one half to fit and one to score.
#[derive(Debug, Clone)]
pub struct LabelledHalves {
    /// Images to fit on, normalised, with their labels.
    pub fit: (ImageSet, Vec<u8>),
    /// Images to score on, normalised, with their labels.
    pub score: (ImageSet, Vec<u8>),
}

impl LabelledHalves {
    /// The training file's images with a label in `keep`, permuted with
    /// `seed` and split in two halves (the first gets the odd one).
    ///
    /// # Errors
    /// [`DataError::TooFewLabelled`] when fewer than two images qualify.
    pub fn new(raw: &RawDataset, keep: &[u8], seed: u64) -> Result<Self> {
        let mut eligible = labelled(&raw.train_labels, Some(keep));
        if eligible.len() < 2 {
            let (needed, available) = (2, eligible.len());
            return Err(DataError::TooFewLabelled {
                set: "probe",
                file: "training",
                labels: keep.into(),
                needed,
                available,
            });
        }
        eligible.shuffle(&mut batch_rng(seed, PROBE_STREAM, 0, 0));
        let (a, b) = eligible.split_at(eligible.len().div_ceil(2));
        let take =
            |ix: &[usize]| (ImageSet::select(&raw.train_images, ix), ix.iter().map(|&i| raw.train_labels[i]).collect());
        Ok(Self { fit: take(a), score: take(b) })
    }
}

impl Splits {
    /// Permutes the training file with `seed`; the first `validation`
    /// images of the permutation form the validation set and the next
    /// `train` the training set, as in the reference. With `keep`, only the
    /// images of those labels take part (training and test files alike);
    /// without it the split is the reference's.
    ///
    /// # Errors
    /// [`DataError::SplitTooLarge`] when the sizes exceed the files,
    /// [`DataError::TooFewLabelled`] when they exceed the kept images.
    pub fn new(raw: &RawDataset, sizes: SplitSizes, seed: u64, keep: Option<&[u8]>) -> Result<Self> {
        let mut perm = labelled(&raw.train_labels, keep);
        let test_ix = labelled(&raw.test_labels, keep);
        let needed = sizes.train + sizes.validation;
        let too_few = |set, file, needed, available| match keep {
            Some(k) => DataError::TooFewLabelled { set, file, labels: k.into(), needed, available },
            None => DataError::SplitTooLarge { file, needed, available },
        };
        if needed > perm.len() {
            return Err(too_few("training and validation", "training", needed, perm.len()));
        }
        if sizes.test > test_ix.len() {
            return Err(too_few("test", "test", sizes.test, test_ix.len()));
        }
        perm.shuffle(&mut batch_rng(seed, SPLIT_STREAM, 0, 0));
        let test_ix = &test_ix[..sizes.test];
        // Two threads: the training copy beside the normalised evaluation sets.
        let (train, (validation, test)) = std::thread::scope(|s| {
            let eval = s.spawn(|| {
                let validation = ImageSet::select(&raw.train_images, &perm[..sizes.validation]);
                (validation, ImageSet::select(&raw.test_images, test_ix))
            });
            let train = raw.train_images.select(&perm[sizes.validation..needed]);
            (train, eval.join().expect("selecting does not panic"))
        });
        let train_labels = perm[sizes.validation..needed].iter().map(|&i| raw.train_labels[i]).collect();
        let test_labels = test_ix.iter().map(|&i| raw.test_labels[i]).collect();
        Ok(Self { train, train_labels, validation, test, test_labels })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::tests::write_fixture;

    #[test]
    fn split_is_seeded_disjoint_and_sized() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 40, 10);
        let raw = RawDataset::load(dir.path()).unwrap();
        let sizes = SplitSizes { train: 25, validation: 10, test: 4 };
        let a = Splits::new(&raw, sizes, 7, None).unwrap();
        let b = Splits::new(&raw, sizes, 7, None).unwrap();
        let c = Splits::new(&raw, sizes, 8, None).unwrap();
        assert_eq!((a.train.n, a.validation.n, a.test.n), (25, 10, 4));
        assert_eq!(a.train, b.train);
        assert_ne!(a.train, c.train);
        for i in 0..a.validation.n {
            let normalised = |j: usize| a.train.image(j).iter().map(|&b| crate::normalize_byte(b)).collect::<Vec<_>>();
            assert!((0..a.train.n).all(|j| normalised(j) != a.validation.image(i)));
        }
        let too_big = SplitSizes { train: 35, validation: 10, test: 4 };
        let err = Splits::new(&raw, too_big, 0, None).unwrap_err();
        assert!(matches!(err, DataError::SplitTooLarge { file: "training", needed: 45, available: 40 }), "{err:?}");
        let err = Splits::new(&raw, SplitSizes { train: 25, validation: 10, test: 11 }, 0, None).unwrap_err();
        assert_eq!(err.to_string(), "the split needs 11 images from the test file, which holds 10");
    }

    #[test]
    fn labels_follow_their_images_and_select_them() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 60, 20);
        let raw = RawDataset::load(dir.path()).unwrap();
        let label_of = |img: &[u8], file: &IdxImages, labels: &[u8]| {
            let dim = file.rows * file.cols;
            (0..file.n).find(|&i| &file.pixels[i * dim..(i + 1) * dim] == img).map(|i| labels[i]).unwrap()
        };
        let all = Splits::new(&raw, SplitSizes { train: 30, validation: 10, test: 20 }, 3, None).unwrap();
        for i in 0..all.train.n {
            assert_eq!(all.train_labels[i], label_of(all.train.image(i), &raw.train_images, &raw.train_labels));
        }
        assert_eq!(all.test_labels, raw.test_labels);
        let keep = [1u8, 2];
        let kept_train = raw.train_labels.iter().filter(|l| keep.contains(l)).count();
        let sizes = SplitSizes { train: kept_train - 2, validation: 2, test: 3 };
        let some = Splits::new(&raw, sizes, 3, Some(&keep)).unwrap();
        assert!(some.train_labels.iter().chain(&some.test_labels).all(|l| keep.contains(l)));
        let too_many = SplitSizes { train: kept_train, ..sizes };
        let err = Splits::new(&raw, too_many, 3, Some(&keep)).unwrap_err().to_string();
        assert!(err.contains(&format!("needs {} images with labels [1, 2]", kept_train + 2)), "{err}");
    }

    #[test]
    fn halves_are_disjoint_balanced_and_of_the_kept_labels() {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path(), 60, 5);
        let raw = RawDataset::load(dir.path()).unwrap();
        let h = LabelledHalves::new(&raw, &[0, 3], 1).unwrap();
        let kept = raw.train_labels.iter().filter(|l| [0, 3].contains(l)).count();
        assert_eq!(h.fit.0.n + h.score.0.n, kept);
        assert!(h.fit.0.n - h.score.0.n <= 1);
        assert!(h.fit.1.iter().chain(&h.score.1).all(|l| [0, 3].contains(l)));
        let err = LabelledHalves::new(&raw, &[42], 1).unwrap_err().to_string();
        assert!(err.contains("probe needs 2 images with labels [42]"), "{err}");
    }
}
