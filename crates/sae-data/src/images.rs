//! A set of images normalised to [-1, 1] as flat `f32` rows, the form every
//! other part of sae-lab consumes.

use crate::IdxImages;

/// `n` images of `rows × cols` pixels in normalised units: a byte `b`
/// becomes `(b/255 − 0.5)/0.5`, as the reference's `ToTensor` followed by
/// `Normalize((0.5,), (0.5,))`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    /// Number of images.
    pub n: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `n * rows * cols` values, image after image, row-major.
    pub pixels: Vec<f32>,
}

/// Maps a byte to normalised units exactly as the reference computes it in
/// `f32`: first `/255`, then `(x − 0.5)/0.5`.
#[inline(always)]
pub fn normalize_byte(b: u8) -> f32 {
    (b as f32 / 255.0 - 0.5) / 0.5
}

impl ImageSet {
    /// The images of `idx` at `indices`, in that order, normalised.
    pub fn select(idx: &IdxImages, indices: &[usize]) -> Self {
        let dim = idx.rows * idx.cols;
        let mut pixels = Vec::with_capacity(indices.len() * dim);
        for &i in indices {
            pixels.extend(idx.pixels[i * dim..(i + 1) * dim].iter().map(|&b| normalize_byte(b)));
        }
        Self { n: indices.len(), rows: idx.rows, cols: idx.cols, pixels }
    }

    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[f32] {
        &self.pixels[i * self.dim()..(i + 1) * self.dim()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_maps_bytes_onto_minus_one_one() {
        assert_eq!(normalize_byte(0), -1.0);
        assert_eq!(normalize_byte(255), 1.0);
        assert!((normalize_byte(128) - (128.0 / 255.0 - 0.5) * 2.0).abs() < 1e-7);
    }

    #[test]
    fn select_keeps_order() {
        let idx = IdxImages { n: 3, rows: 1, cols: 2, pixels: vec![0, 255, 10, 20, 30, 40] };
        let s = ImageSet::select(&idx, &[2, 0]);
        assert_eq!(s.n, 2);
        assert_eq!(s.image(0), &[normalize_byte(30), normalize_byte(40)]);
        assert_eq!(s.image(1), &[-1.0, 1.0]);
    }
}
