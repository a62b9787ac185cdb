//! Finding a dataset on disk, in the order the design card gives:
//! `--data-dir`, `SAE_DATA_DIR`, `./data/<name>`, `/usr/share/datasets/<name>`.

use std::path::{Path, PathBuf};

use crate::dataset::{first_missing, has_all_files};
use crate::{DataError, DatasetName, Result, IDX_FILES};

/// The environment variable that points at a dataset folder.
pub const DATA_DIR_ENV: &str = "SAE_DATA_DIR";

/// Dataset names sae-lab knows how to download or find system-wide.
const KNOWN: [&str; 2] = ["mnist", "fashion-mnist"];

/// Where a dataset was found, and which rule found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// The folder holding the four IDX files.
    pub dir: PathBuf,
    /// The rule that found it, for messages (`--data-dir`, `SAE_DATA_DIR`, ...).
    pub found_by: &'static str,
}

/// The folders to try under a user-given `dir`: `dir/<name>` first, then
/// `dir` itself unless its own name is another known dataset's (so that
/// `SAE_DATA_DIR=.../mnist` is not taken for Fashion-MNIST).
fn under(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut v = vec![dir.join(name)];
    let leaf = dir.file_name().and_then(|s| s.to_str()).unwrap_or("");
    if leaf == name || !KNOWN.contains(&leaf) {
        v.push(dir.to_path_buf());
    }
    v
}

/// Finds the folder holding `name`'s four IDX files.
///
/// `flag` is the `--data-dir` given on the command line: when set it must
/// hold the files, and nothing else is searched. `env` is the value of
/// `SAE_DATA_DIR` (passed in, so tests do not touch the process
/// environment), `cwd` the folder `./data/<name>` is relative to.
///
/// # Errors
/// [`DataError::MissingFile`] when `flag` lacks a file;
/// [`DataError::NotFound`], listing every folder searched, otherwise.
pub fn find_dataset(name: &DatasetName, flag: Option<&Path>, env: Option<&Path>, cwd: &Path) -> Result<DataSource> {
    let name = name.as_str();
    if let Some(dir) = flag {
        let found = under(dir, name).into_iter().find(|d| has_all_files(d));
        return match found {
            Some(dir) => Ok(DataSource { dir, found_by: "--data-dir" }),
            None => Err(DataError::MissingFile { dir: dir.into(), file: first_missing(dir).unwrap_or(IDX_FILES[0]) }),
        };
    }
    let mut candidates: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(dir) = env {
        candidates.extend(under(dir, name).into_iter().map(|d| (d, DATA_DIR_ENV)));
    }
    candidates.push((cwd.join("data").join(name), "./data"));
    candidates.push((Path::new("/usr/share/datasets").join(name), "/usr/share/datasets"));
    if let Some((dir, found_by)) = candidates.iter().find(|(d, _)| has_all_files(d)) {
        return Ok(DataSource { dir: dir.clone(), found_by });
    }
    let searched = candidates.iter().map(|(d, _)| d.display().to_string()).collect::<Vec<_>>().join(", ");
    let hint = if name == "fashion-mnist" {
        "; on Debian, `apt-get install dataset-fashion-mnist` installs it in /usr/share/datasets/fashion-mnist"
    } else {
        ""
    };
    Err(DataError::NotFound { dataset: name.into(), searched, hint })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::tests::write_fixture;

    fn name(s: &str) -> DatasetName {
        DatasetName(s.into())
    }

    #[test]
    fn flag_beats_env_beats_cwd() {
        let root = tempfile::tempdir().unwrap();
        let (flag, env, cwd) = (root.path().join("flag"), root.path().join("env"), root.path().join("cwd"));
        for d in [&flag, &env, &cwd.join("data/mnist")] {
            std::fs::create_dir_all(d).unwrap();
            write_fixture(d, 2, 1);
        }
        let n = name("mnist");
        assert_eq!(find_dataset(&n, Some(&flag), Some(&env), &cwd).unwrap().dir, flag);
        let s = find_dataset(&n, None, Some(&env), &cwd).unwrap();
        assert_eq!((s.dir, s.found_by), (env.clone(), "SAE_DATA_DIR"));
        let s = find_dataset(&n, None, None, &cwd).unwrap();
        assert_eq!(s.dir, cwd.join("data/mnist"));
    }

    #[test]
    fn env_may_name_the_parent_folder() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("fashion-mnist");
        std::fs::create_dir_all(&d).unwrap();
        write_fixture(&d, 2, 1);
        let s = find_dataset(&name("fashion-mnist"), None, Some(root.path()), root.path()).unwrap();
        assert_eq!(s.dir, d);
    }

    #[test]
    fn a_folder_named_after_another_dataset_is_not_taken() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("mnist");
        std::fs::create_dir_all(&d).unwrap();
        write_fixture(&d, 2, 1);
        let err = find_dataset(&name("fashion-mnist"), None, Some(&d), root.path()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("no fashion-mnist data found") && msg.contains("apt-get install"), "{msg}");
    }

    #[test]
    fn nothing_found_lists_every_folder_and_the_fix() {
        let root = tempfile::tempdir().unwrap();
        let err = find_dataset(&name("mnist"), None, Some(&root.path().join("nope")), root.path()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("nope") && msg.contains("data/mnist") && msg.contains("/usr/share/datasets/mnist"),
            "{msg}"
        );
        assert!(msg.contains("cargo xtask fetch-data mnist") && msg.contains("SAE_DATA_DIR"), "{msg}");
    }

    #[test]
    fn explicit_flag_without_files_names_the_missing_file() {
        let root = tempfile::tempdir().unwrap();
        let err = find_dataset(&name("mnist"), Some(root.path()), None, root.path()).unwrap_err();
        assert!(matches!(err, DataError::MissingFile { file: "train-images-idx3-ubyte", .. }), "{err:?}");
    }
}
