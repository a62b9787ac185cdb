//! Reading IDX files (the MNIST container format), raw or gzip-compressed.
//!
//! An IDX file is a big-endian header, a magic number `0x0000TTNN` (`TT` the
//! element type, 0x08 for unsigned bytes; `NN` the number of dimensions),
//! one `u32` per dimension, then the data.

use std::io::Read;
use std::path::Path;

use crate::{DataError, Result};

const MAGIC_IMAGES: u32 = 0x0000_0803;
const MAGIC_LABELS: u32 = 0x0000_0801;

/// Images as stored in an IDX file: `n` images of `rows × cols` bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub n: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `n * rows * cols` bytes, image after image, row-major.
    pub pixels: Vec<u8>,
}

impl IdxImages {
    /// Pixels per image.
    pub fn dim(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * self.dim()..(i + 1) * self.dim()]
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.dim());
        indices.iter().for_each(|&i| pixels.extend_from_slice(self.image(i)));
        Self { n: indices.len(), rows: self.rows, cols: self.cols, pixels }
    }
}

/// Reads the whole file, decompressing it when it starts with the gzip magic.
fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(DataError::io(path))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 4);
        flate2::read::GzDecoder::new(raw.as_slice()).read_to_end(&mut out).map_err(DataError::io(path))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Splits an IDX byte buffer into its dimensions and its body, checking the
/// magic number and that the body has exactly the announced length.
fn parse<'a>(path: &Path, bytes: &'a [u8], magic: u32, what: &'static str) -> Result<(Vec<usize>, &'a [u8])> {
    let ndim = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndim;
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if bytes.len() < 4 || word(0) != magic {
        let found = if bytes.len() >= 4 { word(0) } else { 0 };
        return Err(DataError::BadMagic { path: path.into(), what, expected: magic, found });
    }
    if bytes.len() < header_len {
        return Err(DataError::Truncated { path: path.into(), expected: header_len as u64, found: bytes.len() as u64 });
    }
    let dims: Vec<usize> = (1..=ndim).map(|i| word(i) as usize).collect();
    let body_len: usize = dims.iter().product();
    let body = &bytes[header_len..];
    if body.len() != body_len {
        return Err(DataError::Truncated {
            path: path.into(),
            expected: (header_len + body_len) as u64,
            found: bytes.len() as u64,
        });
    }
    Ok((dims, body))
}

/// Reads an IDX image file (`.gz` or raw).
///
/// # Errors
/// [`DataError::Io`], [`DataError::BadMagic`] or [`DataError::Truncated`],
/// each naming `path`.
pub fn read_idx_images(path: &Path) -> Result<IdxImages> {
    let bytes = read_bytes(path)?;
    let (dims, body) = parse(path, &bytes, MAGIC_IMAGES, "images")?;
    Ok(IdxImages { n: dims[0], rows: dims[1], cols: dims[2], pixels: body.to_vec() })
}

/// Reads an IDX label file (`.gz` or raw).
///
/// # Errors
/// As [`read_idx_images`].
pub fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    let bytes = read_bytes(path)?;
    let (_, body) = parse(path, &bytes, MAGIC_LABELS, "labels")?;
    Ok(body.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(magic: u32, dims: &[u32], body: &[u8]) -> Vec<u8> {
        let mut v = magic.to_be_bytes().to_vec();
        for d in dims {
            v.extend(d.to_be_bytes());
        }
        v.extend(body);
        v
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn reads_raw_and_gzip_images() {
        let dir = tempfile::tempdir().unwrap();
        let body: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        let bytes = idx(MAGIC_IMAGES, &[2, 3, 4], &body);
        let raw = write(dir.path(), "a-idx3-ubyte", &bytes);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).unwrap();
        let gz = write(dir.path(), "a-idx3-ubyte.gz", &gz.finish().unwrap());
        for p in [raw, gz] {
            let im = read_idx_images(&p).unwrap();
            assert_eq!((im.n, im.rows, im.cols), (2, 3, 4));
            assert_eq!(im.pixels, body);
        }
    }

    #[test]
    fn wrong_magic_names_file_and_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "labels-as-images", &idx(MAGIC_LABELS, &[3], &[1, 2, 3]));
        let err = read_idx_images(&p).unwrap_err();
        assert!(matches!(err, DataError::BadMagic { found: MAGIC_LABELS, .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("labels-as-images") && msg.contains("0x00000803"), "{msg}");
    }

    #[test]
    fn truncated_body_is_reported_with_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "short", &idx(MAGIC_IMAGES, &[2, 28, 28], &[0; 1000]));
        let err = read_idx_images(&p).unwrap_err();
        assert!(
            matches!(err, DataError::Truncated { expected, found, .. } if expected == 16 + 2 * 784 && found == 1016),
            "{err:?}"
        );
        assert!(err.to_string().contains("short"));
    }

    #[test]
    fn truncated_header_and_empty_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "hdr", &MAGIC_IMAGES.to_be_bytes());
        assert!(matches!(read_idx_images(&p), Err(DataError::Truncated { .. })));
        let p = write(dir.path(), "empty", &[]);
        assert!(matches!(read_idx_labels(&p), Err(DataError::BadMagic { found: 0, .. })));
    }

    #[test]
    fn missing_file_is_an_io_error_with_path() {
        let err = read_idx_labels(Path::new("/nonexistent/labels")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/labels:"), "{err}");
    }
}
