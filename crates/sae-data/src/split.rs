//! The seeded split of a dataset into training, validation and test sets.

use rand::seq::SliceRandom;

use crate::rng::{batch_rng, SPLIT_STREAM};
use crate::{DataError, IdxImages, ImageSet, RawDataset, Result};

/// How many images each set takes. The reference uses 50,000 training and
/// 10,000 validation images out of MNIST's 60,000, and all 10,000 test
/// images; smaller numbers make quick experiments and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
/// validation and test images.
#[derive(Debug, Clone)]
pub struct Splits {
    /// Images the model trains on.
    pub train: IdxImages,
    /// Images scored after every epoch.
    pub validation: ImageSet,
    /// Images scored once, at the end.
    pub test: ImageSet,
}

impl Splits {
    /// Permutes the training file with `seed`; the first `validation`
    /// images of the permutation form the validation set and the next
    /// `train` the training set, as in the reference.
    ///
    /// # Errors
    /// [`DataError::SplitTooLarge`] when the sizes exceed the files.
    pub fn new(raw: &RawDataset, sizes: SplitSizes, seed: u64) -> Result<Self> {
        let available = raw.train_images.n;
        let needed = sizes.train + sizes.validation;
        if needed > available {
            return Err(DataError::SplitTooLarge { file: "training", needed, available });
        }
        if sizes.test > raw.test_images.n {
            return Err(DataError::SplitTooLarge { file: "test", needed: sizes.test, available: raw.test_images.n });
        }
        let mut perm: Vec<usize> = (0..available).collect();
        perm.shuffle(&mut batch_rng(seed, SPLIT_STREAM, 0, 0));
        let test: Vec<usize> = (0..sizes.test).collect();
        // Two threads: the training copy beside the normalised evaluation sets.
        let (train, (validation, test)) = std::thread::scope(|s| {
            let eval = s.spawn(|| {
                let validation = ImageSet::select(&raw.train_images, &perm[..sizes.validation]);
                (validation, ImageSet::select(&raw.test_images, &test))
            });
            let train = raw.train_images.select(&perm[sizes.validation..needed]);
            (train, eval.join().expect("selecting does not panic"))
        });
        Ok(Self { train, validation, test })
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
        let a = Splits::new(&raw, sizes, 7).unwrap();
        let b = Splits::new(&raw, sizes, 7).unwrap();
        let c = Splits::new(&raw, sizes, 8).unwrap();
        assert_eq!((a.train.n, a.validation.n, a.test.n), (25, 10, 4));
        assert_eq!(a.train, b.train);
        assert_ne!(a.train, c.train);
        for i in 0..a.validation.n {
            let normalised = |j: usize| a.train.image(j).iter().map(|&b| crate::normalize_byte(b)).collect::<Vec<_>>();
            assert!((0..a.train.n).all(|j| normalised(j) != a.validation.image(i)));
        }
        let too_big = SplitSizes { train: 35, validation: 10, test: 4 };
        let err = Splits::new(&raw, too_big, 0).unwrap_err();
        assert!(matches!(err, DataError::SplitTooLarge { file: "training", needed: 45, available: 40 }), "{err:?}");
        let err = Splits::new(&raw, SplitSizes { train: 25, validation: 10, test: 11 }, 0).unwrap_err();
        assert_eq!(err.to_string(), "the split needs 11 images from the test file, which holds 10");
    }
}
