//! Downloading a dataset from its public mirrors, for machines with
//! internet: every file is verified against the SHA-256 of its decompressed
//! IDX content and written atomically, so a failed download leaves nothing
//! half-written behind.

use std::io::Read;
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::idx::gunzip_idx;
use crate::{DataError, DatasetName, Result, IDX_FILES};

/// Where a dataset can be downloaded from, and what its files must hash to.
#[derive(Debug, Clone)]
pub struct Mirror {
    /// Base addresses tried in order (`https://`, `http://` or `file://`);
    /// each is joined with `<file>.gz`, with a `/` between them when the
    /// address lacks one.
    pub urls: Vec<String>,
    /// SHA-256 of each decompressed IDX file, in the order of [`IDX_FILES`].
    pub raw_sha256: [&'static str; 4],
}

/// SHA-256 of the canonical MNIST IDX files (decompressed), as listed in
/// `SHA256SUMS.raw` beside the shared copy of the data.
const MNIST_SHA256: [&str; 4] = [
    "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
];

/// SHA-256 of the Fashion-MNIST IDX files (decompressed), computed from the
/// files of Debian's `dataset-fashion-mnist` package.
const FASHION_SHA256: [&str; 4] = [
    "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
];

/// The datasets sae-lab downloads: each name, its public mirrors (those
/// torchvision uses) and the checksums of its files.
const KNOWN: [(&str, &[&str], [&str; 4]); 2] = [
    ("mnist", &["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"], MNIST_SHA256),
    ("fashion-mnist", &["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"], FASHION_SHA256),
];

impl Mirror {
    /// The public mirrors of a known dataset.
    ///
    /// # Errors
    /// [`DataError::NoMirror`] for a dataset sae-lab cannot download.
    pub fn for_dataset(name: &DatasetName) -> Result<Self> {
        let (_, urls, raw_sha256) = KNOWN
            .into_iter()
            .find(|k| k.0 == name.as_str())
            .ok_or_else(|| DataError::NoMirror { dataset: name.to_string() })?;
        Ok(Self { urls: urls.iter().map(|u| u.to_string()).collect(), raw_sha256 })
    }
}

/// Whether `name` is a dataset sae-lab knows (downloads, and never takes
/// a folder named after it for another).
pub(crate) fn is_known(name: &str) -> bool {
    KNOWN.iter().any(|k| k.0 == name)
}

/// The address of `file`'s `.gz` under mirror `base`.
fn address(base: &str, file: &str) -> String {
    let slash = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{slash}{file}.gz")
}

/// Refuses `dest` as the folder to fetch `name` into when it holds another
/// dataset's files or is named after another dataset (discovery takes
/// `./data/<name>` for `<name>` without checking its content); files of
/// `name` itself are fine, and kept.
///
/// # Errors
/// [`DataError::OtherDataset`] naming the file found and whose it is.
pub fn check_destination(name: &DatasetName, dest: &Path) -> Result<()> {
    let other = |found: String| DataError::OtherDataset { dest: dest.into(), dataset: name.to_string(), found };
    let leaf = dest.file_name().and_then(|l| l.to_str()).unwrap_or_default();
    if leaf != name.as_str() && is_known(leaf) {
        return Err(other(format!("the folder is named after the {leaf} dataset, so it would be taken for {leaf}")));
    }
    for (i, file) in IDX_FILES.into_iter().enumerate() {
        for stored in [dest.join(file), dest.join(format!("{file}.gz"))] {
            let Ok(bytes) = std::fs::read(&stored) else { continue };
            let raw = if stored.extension().is_some_and(|e| e == "gz") {
                gunzip_idx(&stored, file, &bytes).map(|raw| sha256_hex(&raw))
            } else {
                Ok(sha256_hex(&bytes))
            };
            let whose = raw.ok().and_then(|sum| KNOWN.iter().find(|k| k.2[i] == sum).map(|k| k.0));
            let shown = stored.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            match whose {
                Some(w) if w == name.as_str() => {}
                Some(w) => return Err(other(format!("it holds {shown} of the {w} dataset"))),
                None => {
                    return Err(other(format!(
                        "it holds a {shown} that is no file of {name} (nor of any dataset sae-lab knows)"
                    )))
                }
            }
        }
    }
    Ok(())
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Fetches one address into memory, at most 256 MiB; errors name the
/// address. A `file://` address reads a local file (a mirror on a shared
/// filesystem).
fn fetch(url: &str) -> std::result::Result<Vec<u8>, String> {
    if let Some(path) = url.strip_prefix("file://") {
        let mut body = Vec::new();
        let read = std::fs::File::open(path).and_then(|f| f.take(256 << 20).read_to_end(&mut body));
        return read.map(|_| body).map_err(|e| format!("{url}: {e}"));
    }
    let response = ureq::get(url).timeout(Duration::from_secs(120)).call().map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    response.into_reader().take(256 << 20).read_to_end(&mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

/// Checks that `gz` decompresses to content with the expected SHA-256,
/// decompressing no further than the IDX header inside announces (so a
/// gzip bomb is stopped before it fills memory).
fn verify(what: &str, file: &str, gz: &[u8], expected: &'static str) -> Result<()> {
    let raw = gunzip_idx(Path::new(what), file, gz)?;
    let found = sha256_hex(&raw);
    if found != expected {
        return Err(DataError::Checksum { what: what.into(), expected, found });
    }
    Ok(())
}

/// Downloads the four `.gz` files of a dataset into `dest`, trying each
/// mirror in turn, verifying each file and renaming it into place only
/// once verified. Files already present and correct are kept.
/// `progress` is told each address as it is fetched.
///
/// # Errors
/// [`DataError::Download`] with every mirror's answer when no mirror
/// serves a file; [`DataError::Checksum`] when content is wrong (then
/// nothing is written for that file); [`DataError::Io`] on write errors.
pub fn download_dataset(mirror: &Mirror, dest: &Path, mut progress: impl FnMut(&str)) -> Result<()> {
    // The folder is made by the first file written: a failed download leaves none.
    for (file, expected) in IDX_FILES.into_iter().zip(mirror.raw_sha256) {
        let target = dest.join(format!("{file}.gz"));
        if let Ok(existing) = std::fs::read(&target) {
            if verify(&target.display().to_string(), file, &existing, expected).is_ok() {
                continue;
            }
        }
        let mut reasons = Vec::new();
        let mut body = None;
        for base in &mirror.urls {
            let url = address(base, file);
            progress(&url);
            match fetch(&url) {
                Ok(b) => match verify(&url, file, &b, expected) {
                    Ok(()) => {
                        body = Some(b);
                        break;
                    }
                    Err(e) => reasons.push(e.to_string()),
                },
                Err(e) => reasons.push(e),
            }
        }
        let Some(body) = body else {
            return Err(DataError::Download { file, reasons: reasons.join("; ") });
        };
        crate::write_atomic(&target, &body)?;
    }
    Ok(())
}
