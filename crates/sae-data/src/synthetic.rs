//! A small synthetic dataset in the MNIST layout (bright strokes and blobs
//! on black, 28×28), for tests, CI and demos on machines without MNIST.

use std::path::Path;

use rand::Rng;

use crate::rng::{batch_rng, SYNTHETIC_STREAM};
use crate::{DataError, Result, IDX_FILES, SIDE};

/// Writes an IDX file: the magic number, `dims`, then `body`.
fn write_idx(path: &Path, magic: u32, dims: &[usize], body: &[u8]) -> Result<()> {
    let mut bytes = magic.to_be_bytes().to_vec();
    dims.iter().for_each(|&d| bytes.extend((d as u32).to_be_bytes()));
    bytes.extend_from_slice(body);
    std::fs::write(path, bytes).map_err(DataError::io(path))
}

/// One synthetic image of class `label`: a stroke whose angle depends on
/// the class, plus a blob at a random place, with random thickness.
fn draw(label: u8, rng: &mut impl Rng) -> Vec<u8> {
    let angle = label as f32 * std::f32::consts::PI / 10.0 + rng.random_range(-0.15..0.15);
    let (cx, cy) = (13.5 + rng.random_range(-3.0..3.0), 13.5 + rng.random_range(-3.0..3.0));
    let (bx, by) = (rng.random_range(6.0..22.0), rng.random_range(6.0..22.0));
    let width = rng.random_range(1.2..2.2);
    let (dx, dy) = (angle.cos(), angle.sin());
    (0..SIDE * SIDE)
        .map(|i| {
            let (x, y) = ((i % SIDE) as f32 - cx, (i / SIDE) as f32 - cy);
            let along = x * dx + y * dy;
            let across = (x * dy - y * dx).abs();
            let stroke = if along.abs() < 9.0 { (-(across / width).powi(2)).exp() } else { 0.0 };
            let r2 = ((i % SIDE) as f32 - bx).powi(2) + ((i / SIDE) as f32 - by).powi(2);
            let blob = (-r2 / 6.0).exp() * (label % 3) as f32 / 2.0;
            (stroke.max(blob) * 255.0).round() as u8
        })
        .collect()
}

/// Writes `n_train` training and `n_test` test images with labels into
/// `dir` under the canonical MNIST names (raw IDX), drawn from `seed`.
///
/// # Errors
/// [`DataError::Io`] when a file cannot be written.
pub fn write_synthetic_dataset(dir: &Path, n_train: usize, n_test: usize, seed: u64) -> Result<()> {
    crate::create_folder(dir)?;
    for (k, n) in [(0, n_train), (2, n_test)] {
        let mut rng = batch_rng(seed, SYNTHETIC_STREAM, k as u64, 0);
        let labels: Vec<u8> = (0..n).map(|_| rng.random_range(0..10)).collect();
        let pixels: Vec<u8> = labels.iter().flat_map(|&l| draw(l, &mut rng)).collect();
        write_idx(&dir.join(IDX_FILES[k]), 0x803, &[n, SIDE, SIDE], &pixels)?;
        write_idx(&dir.join(IDX_FILES[k + 1]), 0x801, &[n], &labels)?;
    }
    Ok(())
}
