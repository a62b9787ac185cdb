//! Finding a dataset on disk, in the order DESIGN.md gives:
//! `--data-dir`, `SAE_DATA_DIR`, `./data/<name>`, `/usr/share/datasets/<name>`.

use std::path::{Path, PathBuf};

use crate::dataset::{first_missing, has_all_files};
use crate::download::is_known;
use crate::{DataError, DatasetName, Result};

/// The environment variable that points at a dataset folder.
pub const DATA_DIR_ENV: &str = "SAE_DATA_DIR";

/// Where the system's dataset packages install (Debian's
/// `dataset-fashion-mnist` puts its files in `fashion-mnist/` here).
pub const SYSTEM_DATASETS: &str = "/usr/share/datasets";

/// The places searched, in order; built from the process with
/// [`SearchPaths::from_environment`], or by hand in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPaths {
    /// `--data-dir`: when set it must hold the files, and nothing else is searched.
    pub flag: Option<PathBuf>,
    /// The value of `SAE_DATA_DIR`.
    pub env: Option<PathBuf>,
    /// The folder `./data/<name>` is relative to.
    pub cwd: PathBuf,
    /// The system dataset folder.
    pub system: PathBuf,
}

impl SearchPaths {
    /// The search of a command run with `--data-dir flag`: `SAE_DATA_DIR`,
    /// the current folder and [`SYSTEM_DATASETS`].
    ///
    /// # Errors
    /// When the current folder cannot be read.
    pub fn from_environment(flag: Option<&Path>) -> std::io::Result<Self> {
        Ok(Self {
            flag: flag.map(Path::to_path_buf),
            env: std::env::var_os(DATA_DIR_ENV).map(PathBuf::from),
            cwd: std::env::current_dir()?,
            system: SYSTEM_DATASETS.into(),
        })
    }
}

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
    if leaf == name || !is_known(leaf) {
        v.push(dir.to_path_buf());
    }
    v
}

/// For a folder that does not exist, the hint that a sibling differs from
/// it only in case or in `-`/`_` (`data/MNIST` for `data/mnist`): names
/// are matched exactly, so such a folder is never taken.
fn near_miss(dir: &Path) -> String {
    let fold = |s: &str| s.to_ascii_lowercase().replace('_', "-");
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name().and_then(|n| n.to_str())) else {
        return String::new();
    };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let Ok(entries) = std::fs::read_dir(parent) else { return String::new() };
    let twin = entries
        .flatten()
        .map(|e| e.file_name())
        .find(|n| n.to_str().is_some_and(|n| n != name && fold(n) == fold(name)));
    twin.map_or_else(String::new, |t| {
        let twin = dir.with_file_name(&t);
        format!(" (but {} does: names are matched exactly, so rename it to {name})", twin.display())
    })
}

/// What `dir` lacks to hold a dataset, for messages.
fn lacks(dir: &Path) -> String {
    match first_missing(dir) {
        _ if !dir.exists() => format!("{} does not exist{}", dir.display(), near_miss(dir)),
        _ if !dir.is_dir() => format!("{} is a file, not a folder", dir.display()),
        Some(file) => format!("{} lacks {file}", dir.display()),
        None => format!("{} holds the files", dir.display()),
    }
}

/// The dataset in a folder the user named (`--data-dir` or `SAE_DATA_DIR`):
/// in `dir/<name>` or `dir` itself, else an error saying what each lacks.
fn named_folder(dir: &Path, name: &str, source_name: &'static str) -> Result<DataSource> {
    let tried = under(dir, name);
    if let Some(found) = tried.iter().find(|d| has_all_files(d)) {
        return Ok(DataSource { dir: found.clone(), found_by: source_name });
    }
    let mut why: Vec<String> = tried.iter().map(|d| lacks(d)).collect();
    if !tried.iter().any(|d| d == dir) {
        why.push(format!(
            "{} itself is named after another dataset, so its files are not taken for {name}",
            dir.display()
        ));
    }
    Err(DataError::NotInFolder { source_name, dir: dir.into(), dataset: name.into(), tried: why.join("; ") })
}

/// Finds the folder holding `name`'s four IDX files, trying `paths` in
/// order: `--data-dir`, `SAE_DATA_DIR`, `./data/<name>`, then the system
/// dataset folder. A folder the user named that does not exist is an
/// error rather than a silent fall-back.
///
/// # Errors
/// [`DataError::NotInFolder`] when `--data-dir` does not hold the dataset or
/// `SAE_DATA_DIR` names no folder; [`DataError::EmptyDataDirVariable`];
/// [`DataError::NotFound`], listing every folder searched, otherwise.
pub fn find_dataset(name: &DatasetName, paths: &SearchPaths) -> Result<DataSource> {
    let name = name.as_str();
    if let Some(dir) = &paths.flag {
        return named_folder(dir, name, "--data-dir");
    }
    let mut candidates: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(dir) = &paths.env {
        if dir.as_os_str().is_empty() {
            return Err(DataError::EmptyDataDirVariable);
        }
        if !dir.is_dir() {
            return named_folder(dir, name, DATA_DIR_ENV);
        }
        candidates.extend(under(dir, name).into_iter().map(|d| (d, DATA_DIR_ENV)));
    }
    candidates.push((paths.cwd.join("data").join(name), "./data"));
    candidates.push((paths.system.join(name), SYSTEM_DATASETS));
    if let Some((dir, found_by)) = candidates.iter().find(|(d, _)| has_all_files(d)) {
        return Ok(DataSource { dir: dir.clone(), found_by });
    }
    let searched =
        candidates.iter().map(|(d, _)| format!("{}{}", d.display(), near_miss(d))).collect::<Vec<_>>().join(", ");
    Err(DataError::NotFound { dataset: name.into(), searched })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::tests::write_fixture;

    fn name(s: &str) -> DatasetName {
        DatasetName(s.into())
    }

    /// A search that never reaches the real system folders.
    fn paths(root: &Path, flag: Option<&Path>, env: Option<&Path>, cwd: &Path) -> SearchPaths {
        SearchPaths {
            flag: flag.map(Path::to_path_buf),
            env: env.map(Path::to_path_buf),
            cwd: cwd.to_path_buf(),
            system: root.join("system"),
        }
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
        let r = root.path();
        assert_eq!(find_dataset(&n, &paths(r, Some(&flag), Some(&env), &cwd)).unwrap().dir, flag);
        let s = find_dataset(&n, &paths(r, None, Some(&env), &cwd)).unwrap();
        assert_eq!((s.dir, s.found_by), (env.clone(), "SAE_DATA_DIR"));
        let s = find_dataset(&n, &paths(r, None, None, &cwd)).unwrap();
        assert_eq!(s.dir, cwd.join("data/mnist"));
        std::fs::create_dir_all(r.join("system/mnist")).unwrap();
        write_fixture(&r.join("system/mnist"), 2, 1);
        let s = find_dataset(&n, &paths(r, None, None, &r.join("elsewhere"))).unwrap();
        assert_eq!((s.dir, s.found_by), (r.join("system/mnist"), SYSTEM_DATASETS));
    }

    #[test]
    fn env_may_name_the_parent_folder() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("fashion-mnist");
        std::fs::create_dir_all(&d).unwrap();
        write_fixture(&d, 2, 1);
        let s =
            find_dataset(&name("fashion-mnist"), &paths(root.path(), None, Some(root.path()), root.path())).unwrap();
        assert_eq!(s.dir, d);
    }

    #[test]
    fn a_folder_named_after_another_dataset_is_not_taken() {
        let root = tempfile::tempdir().unwrap();
        let d = root.path().join("mnist");
        std::fs::create_dir_all(&d).unwrap();
        write_fixture(&d, 2, 1);
        let err = find_dataset(&name("fashion-mnist"), &paths(root.path(), None, Some(&d), root.path())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("no fashion-mnist data found"), "{msg}");
    }

    #[test]
    fn nothing_found_lists_every_folder() {
        let root = tempfile::tempdir().unwrap();
        let env = root.path().join("empty");
        std::fs::create_dir_all(&env).unwrap();
        let err = find_dataset(&name("mnist"), &paths(root.path(), None, Some(&env), root.path())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("empty") && msg.contains("data/mnist") && msg.contains("system/mnist"), "{msg}");
    }

    #[test]
    fn a_folder_that_differs_only_in_case_gets_a_hint() {
        let root = tempfile::tempdir().unwrap();
        write_fixture(&root.path().join("data/MNIST"), 20, 10);
        let hint = format!(
            "(but {} does: names are matched exactly, so rename it to mnist)",
            root.path().join("data/MNIST").display()
        );
        let err = find_dataset(&name("mnist"), &paths(root.path(), None, None, root.path())).unwrap_err().to_string();
        assert!(err.contains(&hint), "{err}");
        let flag = root.path().join("data");
        let err = find_dataset(&name("mnist"), &paths(root.path(), Some(&flag), None, root.path())).unwrap_err();
        assert!(err.to_string().contains(&hint), "{err}");
    }

    #[test]
    fn a_missing_or_empty_env_folder_is_an_error_not_a_fall_back() {
        let root = tempfile::tempdir().unwrap();
        let cwd = root.path().join("cwd");
        std::fs::create_dir_all(cwd.join("data/mnist")).unwrap();
        write_fixture(&cwd.join("data/mnist"), 2, 1);
        let nope = root.path().join("nope");
        let err = find_dataset(&name("mnist"), &paths(root.path(), None, Some(&nope), &cwd)).unwrap_err();
        assert!(matches!(err, DataError::NotInFolder { source_name: "SAE_DATA_DIR", .. }), "{err:?}");
        assert!(err.to_string().contains("nope does not exist"), "{err}");
        let err = find_dataset(&name("mnist"), &paths(root.path(), None, Some(Path::new("")), &cwd)).unwrap_err();
        assert!(matches!(err, DataError::EmptyDataDirVariable), "{err:?}");
    }

    #[test]
    fn explicit_flag_without_files_names_the_missing_file() {
        let root = tempfile::tempdir().unwrap();
        let err = find_dataset(&name("mnist"), &paths(root.path(), Some(root.path()), None, root.path())).unwrap_err();
        assert!(matches!(err, DataError::NotInFolder { source_name: "--data-dir", .. }), "{err:?}");
        assert!(err.to_string().contains("lacks train-images-idx3-ubyte"), "{err}");
    }

    #[test]
    fn a_flag_folder_of_another_dataset_is_not_said_to_lack_files_it_has() {
        let root = tempfile::tempdir().unwrap();
        let mnist = root.path().join("mnist");
        std::fs::create_dir_all(&mnist).unwrap();
        write_fixture(&mnist, 2, 1);
        let err =
            find_dataset(&name("fashion-mnist"), &paths(root.path(), Some(&mnist), None, root.path())).unwrap_err();
        let msg = err.to_string();
        assert!(!msg.contains("lacks train-images"), "{msg}");
        assert!(
            msg.contains("mnist/fashion-mnist does not exist") && msg.contains("named after another dataset"),
            "{msg}"
        );
    }
}
