//! Finding the dataset for a command, and downloading it when it is
//! nowhere to be found.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use sae_data::{download_dataset, find_dataset, DataError, DatasetName, Mirror, SearchPaths};

/// The folder of `name`'s files: found by the discovery rules, or
/// downloaded into `./data/<name>` when nothing is found (saying so).
pub fn resolve(name: &DatasetName, flag: Option<&Path>) -> Result<PathBuf> {
    let paths = SearchPaths::from_environment(flag).context("reading the current folder")?;
    match find_dataset(name, &paths) {
        Ok(source) => {
            eprintln!("data: {} ({}, found by {})", name, source.dir.display(), source.found_by);
            Ok(source.dir)
        }
        Err(not_found @ DataError::NotFound { .. }) => {
            let dest = paths.cwd.join("data").join(name.as_str());
            eprintln!("data: no {name} data found; downloading {name} into {} (checksums verified)", dest.display());
            match fetch(name, &dest) {
                Ok(()) => Ok(dest),
                Err(e) => Err(anyhow::anyhow!("{e:#}\n{not_found}\n{}", crate::advice::data_not_found(name))),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Replaces the public mirrors (for a local mirror, or for tests).
const MIRROR_ENV: &str = "SAE_DATA_MIRROR";

/// Downloads `name` into `dest`, printing each address fetched.
pub fn fetch(name: &DatasetName, dest: &Path) -> Result<()> {
    let mut mirror = Mirror::for_dataset(name)?;
    if let Ok(url) = std::env::var(MIRROR_ENV) {
        mirror.urls = vec![url];
    }
    download_dataset(&mirror, dest, |url| eprintln!("data: fetching {url}"))?;
    eprintln!("data: {name} ready in {}", dest.display());
    Ok(())
}
