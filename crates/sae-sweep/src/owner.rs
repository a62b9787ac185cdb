//! Which experiment file a results folder belongs to. A folder is named
//! after its file (`results/rho/` for `rho.toml`), so two files of one name
//! in two folders would share it, each sweep rewriting the other's tables
//! and report. The folder records its file's absolute path beside the copy
//! of its experiment; another file is refused unless it runs the same runs.
//!
//! The rule, for file F sweeping (or merging) into a folder:
//!
//! - the folder is new, or records F itself (its path, or on Unix the same
//!   file reached by another path): F may write it (F edited, its
//!   description or its grid, stays the owner, as before);
//! - the folder's stored experiment has the same runs as F (same run ids):
//!   it is the same experiment, wherever it now lies (a moved checkout, a
//!   second clone), and F becomes the recorded file;
//! - the recorded file no longer exists (moved, then edited), or the folder
//!   predates the record: F takes it over, saying so;
//! - otherwise F is another experiment of the same name, and is refused
//!   with both paths: nothing is written.

use std::path::{Path, PathBuf};

use crate::{Experiment, ExperimentFile, ResultsDir, SweepError, EXPERIMENT_COPY};

/// The file, in an experiment's results folder, that holds the absolute
/// path of the experiment file it belongs to.
pub const OWNER_FILE: &str = "experiment-file.txt";

/// The lock taken while a folder is claimed (a run id always ends in its
/// hash, so no run takes this name).
const OWNER_LOCK: &str = "owner";

/// What a folder says of a file that would write it.
enum Verdict {
    /// The file may write it; the note, if any, says what changes hands.
    Allowed(Option<String>),
    /// Another experiment's folder.
    Refused(SweepError),
}

/// `path` made absolute, its links resolved where it exists.
fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).or_else(|_| std::path::absolute(path)).unwrap_or_else(|_| path.into())
}

/// Whether `a` and `b` name one file: one path, or (on Unix) one device
/// and inode, as a file reached through a bind mount or a hard link is (a
/// cluster's compute node may see the checkout under another path than
/// the login node).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return (x.dev(), x.ino()) == (y.dev(), y.ino());
        }
    }
    false
}

/// The sorted run ids of `e`.
fn run_ids(e: &Experiment) -> Vec<String> {
    let mut ids: Vec<String> = e.expand().into_iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

impl ResultsDir {
    /// The experiment file this folder records, if it records one.
    pub fn owner(&self) -> Option<PathBuf> {
        let text = std::fs::read_to_string(self.root().join(OWNER_FILE)).ok()?;
        let path = text.strip_suffix('\n').unwrap_or(&text);
        (!path.is_empty()).then(|| PathBuf::from(path))
    }

    /// Checks, writing nothing, that `file` may write this folder (see the
    /// module's rule).
    ///
    /// # Errors
    /// [`SweepError::OwnedByAnother`] naming both files when the folder
    /// belongs to another experiment file of the same name.
    pub fn check_owner(&self, file: &ExperimentFile) -> Result<(), SweepError> {
        match self.verdict(file) {
            Verdict::Allowed(_) => Ok(()),
            Verdict::Refused(e) => Err(e),
        }
    }

    /// Makes `file` this folder's experiment, if it may be (see the
    /// module's rule): writes its copy ([`EXPERIMENT_COPY`]) and its path
    /// ([`OWNER_FILE`]), under a lock so that of two files claiming one
    /// folder at once, the second sees the first's claim.
    ///
    /// # Errors
    /// [`SweepError::OwnedByAnother`] as [`Self::check_owner`], or a file
    /// that cannot be written.
    pub fn claim(&self, file: &ExperimentFile) -> Result<(), SweepError> {
        sae_data::create_folder(self.root())?;
        let _lock = self.lock_run(OWNER_LOCK, true)?.expect("a waiting lock is always taken");
        let note = match self.verdict(file) {
            Verdict::Allowed(note) => note,
            Verdict::Refused(e) => return Err(e),
        };
        sae_data::write_atomic(&self.root().join(EXPERIMENT_COPY), file.experiment.to_toml().as_bytes())?;
        let path = absolute(&file.path);
        if self.owner().as_ref() != Some(&path) {
            let text = format!("{}\n", path.to_string_lossy());
            sae_data::write_atomic(&self.root().join(OWNER_FILE), text.as_bytes())?;
        }
        if let Some(note) = note {
            crate::note(&note);
        }
        Ok(())
    }

    /// Whether `file` may write this folder, and what to say if it takes
    /// the folder over.
    fn verdict(&self, file: &ExperimentFile) -> Verdict {
        let (me, folder) = (absolute(&file.path), self.root());
        let copy = folder.join(EXPERIMENT_COPY);
        let owner = self.owner();
        if owner.as_ref().is_some_and(|o| same_file(o, &me)) || (owner.is_none() && !copy.exists()) {
            return Verdict::Allowed(None);
        }
        let stored = std::fs::read_to_string(&copy).ok().and_then(|t| Experiment::from_toml(&t, &copy).ok());
        let (mine, theirs) = (run_ids(&file.experiment), stored.as_ref().map(run_ids).unwrap_or_default());
        let (f, d) = (me.display(), folder.display());
        match owner {
            _ if mine == theirs => Verdict::Allowed(
                owner.map(|o| format!("{d}: the same runs as {}; its experiment file is now {f}", o.display())),
            ),
            None => Verdict::Allowed(Some(format!(
                "{d}: made before folders recorded their experiment file: recorded as {f} (a file of the same name \
                 elsewhere, with other runs, will be refused)"
            ))),
            Some(o) if !o.exists() => Verdict::Allowed(Some(format!(
                "{d}: its experiment file {} no longer exists; the folder is now {f}'s",
                o.display()
            ))),
            Some(owner) => {
                let only = |a: &[String], b: &[String]| a.iter().find(|id| !b.contains(id)).cloned();
                let example = only(&mine, &theirs).or_else(|| only(&theirs, &mine)).unwrap_or_default();
                Verdict::Refused(SweepError::OwnedByAnother { folder: folder.into(), owner, file: me, example })
            }
        }
    }
}
