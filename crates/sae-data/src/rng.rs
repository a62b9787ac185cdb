//! Seeded random streams: every random draw in sae-data comes from a
//! stream named by a constant here and indexed by numbers such as
//! `(epoch, batch)`, so results never depend on scheduling.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The per-epoch shuffle of the training set.
pub const SHUFFLE_STREAM: u64 = 1;
/// The per-batch training corruption.
pub const TRAIN_NOISE_STREAM: u64 = 2;
/// The fixed validation corruption.
pub const VALIDATION_NOISE_STREAM: u64 = 3;
/// The fixed test corruption.
pub const TEST_NOISE_STREAM: u64 = 4;
/// The train/validation split.
pub const SPLIT_STREAM: u64 = 5;
/// The stream that shuffles the probe's own images before halving them.
pub const PROBE_STREAM: u64 = 7;
/// The synthetic dataset.
pub const SYNTHETIC_STREAM: u64 = 6;

/// A random stream determined by `(seed, stream, a, b)` alone, for example
/// `(seed, TRAIN_NOISE, epoch, batch)`: whichever thread draws it and
/// whenever, the numbers are the same.
pub fn batch_rng(seed: u64, stream: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    for (chunk, word) in key.chunks_exact_mut(8).zip([seed, stream, a, b]) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}
