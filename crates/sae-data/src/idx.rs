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

    /// The mean image in normalised units ([`crate::normalize_byte`]),
    /// summed in f64: where a pre-encoder bias starts.
    pub fn mean_image(&self) -> Vec<f32> {
        let mut sums = vec![0.0f64; self.dim()];
        for image in self.pixels.chunks_exact(self.dim().max(1)) {
            sums.iter_mut().zip(image).for_each(|(s, &b)| *s += crate::normalize_byte(b) as f64);
        }
        sums.iter().map(|s| (s / self.n.max(1) as f64) as f32).collect()
    }

    /// The geometric median of the images in normalised units: the point
    /// whose summed Euclidean distance to every image is least, where Gao
    /// et al. start their pre-encoder bias. Weiszfeld's iteration from the
    /// mean, `iterations` times, in f64.
    pub fn geometric_median(&self, iterations: usize) -> Vec<f32> {
        let d = self.dim();
        let value = |b: u8| crate::normalize_byte(b) as f64;
        let mut median: Vec<f64> = self.mean_image().iter().map(|&v| v as f64).collect();
        for _ in 0..iterations {
            let (mut sum, mut weights) = (vec![0.0f64; d], 0.0f64);
            for image in self.pixels.chunks_exact(d.max(1)) {
                let distance = image.iter().zip(&median).map(|(&x, m)| (value(x) - m).powi(2)).sum::<f64>().sqrt();
                // An image at the current point pulls with a large, finite weight.
                let weight = 1.0 / distance.max(1e-9);
                sum.iter_mut().zip(image).for_each(|(s, &x)| *s += weight * value(x));
                weights += weight;
            }
            if weights > 0.0 {
                median = sum.iter().map(|s| s / weights).collect();
            }
        }
        median.iter().map(|&v| v as f32).collect()
    }

    /// The images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.dim());
        indices.iter().for_each(|&i| pixels.extend_from_slice(self.image(i)));
        Self { n: indices.len(), rows: self.rows, cols: self.cols, pixels }
    }
}

/// The most data bytes an IDX file may announce (2 GiB, four times the
/// largest MNIST-layout set in use, EMNIST's 547 MB): a larger header is
/// refused before anything is allocated for it.
const MAX_IDX_BODY: u64 = 2 << 30;

/// The header of an IDX file whose magic number is `magic`: its length and
/// the dimensions it announces, with their product checked.
struct Header {
    len: usize,
    dims: Vec<usize>,
    body_len: usize,
}

/// Reads the header at the start of `bytes`; `bytes` may hold only part of
/// the file (a gzip stream is decoded header first).
fn header(path: &Path, bytes: &[u8], magic: u32, what: &'static str) -> Result<Header> {
    if bytes.is_empty() {
        return Err(DataError::Empty { path: path.into(), what });
    }
    let ndim = (magic & 0xff) as usize;
    let len = 4 + 4 * ndim;
    let word = |i: usize| u32::from_be_bytes(bytes[4 * i..4 * i + 4].try_into().expect("4 bytes"));
    if bytes.len() >= 4 && word(0) != magic {
        return Err(DataError::BadMagic { path: path.into(), what, expected: magic, found: word(0) });
    }
    if bytes.len() < len {
        return Err(DataError::Truncated { path: path.into(), expected: len as u64, found: bytes.len() as u64 });
    }
    let dims: Vec<usize> = (1..=ndim).map(|i| word(i) as usize).collect();
    let body = dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64)).filter(|&b| b <= MAX_IDX_BODY);
    let Some(body_len) = body else {
        return Err(DataError::TooLarge { path: path.into(), dims, limit: MAX_IDX_BODY });
    };
    Ok(Header { len, dims, body_len: body_len as usize })
}

/// Decompresses a gzip stream, never past one byte more than the IDX
/// header inside it announces: a stream that inflates further (a gzip
/// bomb, a wrong file) is stopped there, whatever it would grow to.
fn gunzip_capped(path: &Path, gz: &[u8], magic: u32, what: &'static str) -> Result<Vec<u8>> {
    let mut decoder = flate2::read::GzDecoder::new(gz);
    let head_len = 4 + 4 * (magic & 0xff) as u64;
    let mut out = Vec::new();
    (&mut decoder).take(head_len).read_to_end(&mut out).map_err(DataError::io(path))?;
    let h = header(path, &out, magic, what)?;
    let announced = (h.len + h.body_len) as u64;
    (&mut decoder).take(announced + 1 - out.len() as u64).read_to_end(&mut out).map_err(DataError::io(path))?;
    if out.len() as u64 > announced {
        return Err(DataError::TrailingData { path: path.into(), expected: announced, found: out.len() as u64 });
    }
    Ok(out)
}

/// Splits an IDX byte buffer into its dimensions and its body, checking the
/// magic number and that the body has exactly the announced length.
fn parse<'a>(path: &Path, bytes: &'a [u8], magic: u32, what: &'static str) -> Result<(Vec<usize>, &'a [u8])> {
    let h = header(path, bytes, magic, what)?;
    let body = &bytes[h.len..];
    let expected = (h.len + h.body_len) as u64;
    if body.len() < h.body_len {
        return Err(DataError::Truncated { path: path.into(), expected, found: bytes.len() as u64 });
    }
    if body.len() > h.body_len {
        return Err(DataError::TrailingData { path: path.into(), expected, found: bytes.len() as u64 });
    }
    Ok((h.dims, body))
}

/// Decompresses the gzip stream of the canonical IDX file `file` (images
/// or labels by its name), capped as [`parse_idx_images`] caps it.
pub(crate) fn gunzip_idx(path: &Path, file: &str, gz: &[u8]) -> Result<Vec<u8>> {
    if file.contains("labels") {
        gunzip_capped(path, gz, MAGIC_LABELS, "labels")
    } else {
        gunzip_capped(path, gz, MAGIC_IMAGES, "images")
    }
}

/// Reads IDX image bytes already in memory (raw or gzip), as the files are
/// read; `path` only labels errors.
///
/// # Errors
/// [`DataError::Io`] (a damaged gzip stream), [`DataError::Empty`],
/// [`DataError::BadMagic`], [`DataError::Truncated`],
/// [`DataError::TrailingData`] or [`DataError::TooLarge`], each naming `path`.
pub fn parse_idx_images(path: &Path, bytes: &[u8]) -> Result<IdxImages> {
    let bytes = decoded(path, bytes, MAGIC_IMAGES, "images")?;
    let (dims, body) = parse(path, &bytes, MAGIC_IMAGES, "images")?;
    Ok(IdxImages { n: dims[0], rows: dims[1], cols: dims[2], pixels: body.to_vec() })
}

/// Reads IDX label bytes already in memory (raw or gzip).
///
/// # Errors
/// As [`parse_idx_images`].
pub fn parse_idx_labels(path: &Path, bytes: &[u8]) -> Result<Vec<u8>> {
    let bytes = decoded(path, bytes, MAGIC_LABELS, "labels")?;
    let (_, body) = parse(path, &bytes, MAGIC_LABELS, "labels")?;
    Ok(body.to_vec())
}

/// `bytes` decompressed (capped) when gzip, else borrowed as they are.
fn decoded<'a>(path: &Path, bytes: &'a [u8], magic: u32, what: &'static str) -> Result<std::borrow::Cow<'a, [u8]>> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        gunzip_capped(path, bytes, magic, what).map(std::borrow::Cow::Owned)
    } else {
        Ok(std::borrow::Cow::Borrowed(bytes))
    }
}

/// Reads an IDX image file (`.gz` or raw).
///
/// # Errors
/// [`DataError::Io`] when unreadable, else as [`parse_idx_images`].
pub(crate) fn read_idx_images(path: &Path) -> Result<IdxImages> {
    parse_idx_images(path, &std::fs::read(path).map_err(DataError::io(path))?)
}

/// Reads an IDX label file (`.gz` or raw).
///
/// # Errors
/// As [`read_idx_images`].
pub(crate) fn read_idx_labels(path: &Path) -> Result<Vec<u8>> {
    parse_idx_labels(path, &std::fs::read(path).map_err(DataError::io(path))?)
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

    /// Three images of one pixel: 0 (−1 normalised), 0 and 255 (1). Their
    /// mean is −1/3; their geometric median is the majority's −1.
    #[test]
    fn mean_and_geometric_median_of_images() {
        let images = IdxImages { n: 3, rows: 1, cols: 1, pixels: vec![0, 0, 255] };
        assert!((images.mean_image()[0] + 1.0 / 3.0).abs() < 1e-6);
        let median = images.geometric_median(50)[0];
        assert!((median + 1.0).abs() < 1e-3, "{median}");
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
        assert!(matches!(read_idx_images(&p), Err(DataError::Truncated { expected: 16, found: 4, .. })));
        let p = write(dir.path(), "empty", &[]);
        let err = read_idx_labels(&p).unwrap_err();
        assert!(matches!(err, DataError::Empty { .. }), "{err:?}");
        assert!(err.to_string().ends_with("empty: empty file, expected an IDX labels file"), "{err}");
    }

    #[test]
    fn trailing_bytes_are_not_called_truncated() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "long", &idx(MAGIC_LABELS, &[3], &[1, 2, 3, 4, 5]));
        let err = read_idx_labels(&p).unwrap_err();
        assert!(matches!(err, DataError::TrailingData { expected: 11, found: 13, .. }), "{err:?}");
        assert!(err.to_string().contains("trailing data"), "{err}");
    }

    #[test]
    fn dimensions_whose_product_overflows_or_exceeds_the_limit_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for dims in [[u32::MAX, u32::MAX, u32::MAX], [60_000, 1000, 1000]] {
            let p = write(dir.path(), "huge", &idx(MAGIC_IMAGES, &dims, &[0; 10]));
            let err = read_idx_images(&p).unwrap_err();
            assert!(matches!(err, DataError::TooLarge { .. }), "{dims:?}: {err:?}");
        }
    }

    #[test]
    fn a_gzip_bomb_is_decompressed_no_further_than_its_header_announces() {
        // A header announcing 2 labels, then 64 MiB of zeros: 64 KiB compressed.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&idx(MAGIC_LABELS, &[2], &[0, 1])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        (0..64).for_each(|_| gz.write_all(&zeros).unwrap());
        let bomb = gz.finish().unwrap();
        let err = parse_idx_labels(Path::new("bomb.gz"), &bomb).unwrap_err();
        // Decompression stopped one byte past the 10 announced bytes.
        assert!(matches!(err, DataError::TrailingData { expected: 10, found: 11, .. }), "{err:?}");
    }

    #[test]
    fn missing_file_is_an_io_error_with_path() {
        let err = read_idx_labels(Path::new("/nonexistent/labels")).unwrap_err();
        assert!(err.to_string().starts_with("/nonexistent/labels:"), "{err}");
    }
}
