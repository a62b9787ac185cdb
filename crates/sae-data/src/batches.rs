//! Training batches: a fresh seeded shuffle every epoch and a fresh seeded
//! corruption every batch, both drawn from `(seed, epoch, batch)` alone so
//! that results never depend on scheduling.

use rand::seq::SliceRandom;

use crate::rng::{batch_rng, SHUFFLE_STREAM, TRAIN_NOISE_STREAM};
use crate::{normalize_byte, Corruption, IdxImages, ImageSet};

/// Hands out the training batches of one run.
#[derive(Debug)]
pub struct TrainBatches<'a> {
    images: &'a IdxImages,
    corruption: Corruption,
    seed: u64,
    batch_size: usize,
    epoch: Option<usize>,
    order: Vec<usize>,
}

impl<'a> TrainBatches<'a> {
    /// Batches of `batch_size` images of `images`, corrupted by `corruption`.
    pub fn new(images: &'a IdxImages, corruption: Corruption, seed: u64, batch_size: usize) -> Self {
        Self { images, corruption, seed, batch_size, epoch: None, order: (0..images.n).collect() }
    }

    /// Full batches per epoch; the last partial batch is dropped, as the
    /// reference does.
    pub fn per_epoch(&self) -> usize {
        self.images.n / self.batch_size
    }

    /// Writes batch `batch` of epoch `epoch`: the clean images into `target`
    /// and their corrupted versions into `input` (both `batch_size × dim`).
    pub fn fill(&mut self, epoch: usize, batch: usize, input: &mut [f32], target: &mut [f32]) {
        if self.epoch != Some(epoch) {
            self.order = (0..self.images.n).collect();
            self.order.shuffle(&mut batch_rng(self.seed, SHUFFLE_STREAM, epoch as u64, 0));
            self.epoch = Some(epoch);
        }
        let dim = self.images.dim();
        let rows = &self.order[batch * self.batch_size..(batch + 1) * self.batch_size];
        for (dst, &i) in target.chunks_exact_mut(dim).zip(rows) {
            dst.iter_mut().zip(self.images.image(i)).for_each(|(d, &b)| *d = normalize_byte(b));
        }
        let mut rng = batch_rng(self.seed, TRAIN_NOISE_STREAM, epoch as u64, batch as u64);
        self.corruption.apply(target, input, self.images.rows, self.images.cols, &mut rng);
    }
}

/// The corrupted version of a whole evaluation set, drawn once from
/// `(seed, stream)` so every run of an experiment is scored on the same
/// corrupted images.
pub fn corrupt_set(images: &ImageSet, corruption: Corruption, seed: u64, stream: u64) -> ImageSet {
    let mut out = images.clone();
    corruption.apply(&images.pixels, &mut out.pixels, images.rows, images.cols, &mut batch_rng(seed, stream, 0, 0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{TEST_NOISE_STREAM, VALIDATION_NOISE_STREAM};

    fn images(n: usize) -> IdxImages {
        IdxImages { n, rows: 2, cols: 2, pixels: (0..n * 4).map(|i| i as u8).collect() }
    }

    fn normalised(n: usize) -> ImageSet {
        let b = images(n);
        ImageSet::select(&b, &(0..n).collect::<Vec<_>>())
    }

    #[test]
    fn an_epoch_visits_every_image_once_in_a_seeded_order() {
        let set = images(10);
        let mut b = TrainBatches::new(&set, Corruption::None, 3, 5);
        assert_eq!(b.per_epoch(), 2);
        let mut seen = Vec::new();
        let (mut x, mut t) = (vec![0.0; 20], vec![0.0; 20]);
        for i in 0..2 {
            b.fill(0, i, &mut x, &mut t);
            assert_eq!(x, t);
            seen.extend(t.chunks(4).map(|c| ((c[0] * 0.5 + 0.5) * 255.0).round() as usize / 4));
        }
        let first = seen.clone();
        seen.sort();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
        assert_ne!(first, (0..10).collect::<Vec<_>>(), "the order is shuffled");
        b.fill(1, 0, &mut x, &mut t);
        let mut again = TrainBatches::new(&set, Corruption::None, 3, 5);
        let (mut x2, mut t2) = (vec![0.0; 20], vec![0.0; 20]);
        again.fill(1, 0, &mut x2, &mut t2);
        assert_eq!(t, t2, "a batch depends on (seed, epoch, batch) only");
    }

    #[test]
    fn fixed_evaluation_corruption_is_reproducible() {
        let set = normalised(3);
        let g = Corruption::Gaussian { std: 1.0 };
        assert_eq!(corrupt_set(&set, g, 0, TEST_NOISE_STREAM), corrupt_set(&set, g, 0, TEST_NOISE_STREAM));
        assert_ne!(corrupt_set(&set, g, 0, TEST_NOISE_STREAM), corrupt_set(&set, g, 0, VALIDATION_NOISE_STREAM));
    }
}
