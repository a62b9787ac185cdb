//! Finding the dataset for a command, and downloading it when it is
//! nowhere to be found.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use sae_data::{check_destination, download_dataset, find_dataset, DataError, DatasetName, Mirror, SearchPaths};

/// The folder of `name`'s files: found by the discovery rules, or
/// downloaded into `./data/<name>` when nothing is found (saying so).
pub fn resolve(name: &DatasetName, flag: Option<&Path>) -> Result<PathBuf> {
    let paths = SearchPaths::from_environment(flag).context("reading the current folder")?;
    match find_dataset(name, &paths) {
        Ok(source) => {
            stderr_line!("data: {} ({}, found by {})", name, source.dir.display(), source.found_by);
            Ok(source.dir)
        }
        Err(not_found @ DataError::NotFound { .. }) => {
            let dest = paths.cwd.join("data").join(name.as_str());
            stderr_line!("data: no {name} data found; downloading {name} into {} (checksums verified)", dest.display());
            match fetch(name, &dest) {
                Ok(()) => Ok(dest),
                Err(download) => Err(NotFetched { name: name.clone(), not_found, dest, download }.into()),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// A dataset found nowhere, whose download failed too.
#[derive(Debug, thiserror::Error)]
#[error("{not_found}; downloading it into {} failed", dest.display())]
pub struct NotFetched {
    /// The dataset.
    pub name: DatasetName,
    /// Where it was looked for.
    not_found: DataError,
    /// Where it was to be downloaded.
    dest: PathBuf,
    /// Why the download failed.
    #[source]
    download: anyhow::Error,
}

/// Replaces the public mirrors (for a local mirror, or for tests).
pub const MIRROR_ENV: &str = "SAE_DATA_MIRROR";

/// Downloads `name` into `dest`, printing each address fetched; a `dest`
/// that holds another dataset is refused first. An error of a mirror set
/// by `SAE_DATA_MIRROR` names the variable.
pub fn fetch(name: &DatasetName, dest: &Path) -> Result<()> {
    check_destination(name, dest)?;
    let mut mirror = Mirror::for_dataset(name)?;
    let from_env = std::env::var(MIRROR_ENV).ok();
    if let Some(url) = &from_env {
        mirror.urls = vec![url.clone()];
    }
    let downloaded = download_dataset(&mirror, dest, |url| stderr_line!("data: fetching {url}"));
    match from_env {
        Some(url) => {
            downloaded.with_context(|| format!("{MIRROR_ENV}={url}, the mirror used instead of the public ones"))?
        }
        None => downloaded?,
    }
    stderr_line!("data: {name} ready in {}", dest.display());
    Ok(())
}
