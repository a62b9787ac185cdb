//! Per-run locks, so two sweeps of one experiment on one results folder
//! (two terminals, two Slurm tasks) train each run once: the operating
//! system's advisory file lock, released when its holder ends, however it
//! ends, so a crashed holder never blocks anyone.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use crate::{ResultsDir, SweepError};

/// The lock file of the report, beside the runs' (a run id always ends in
/// its hash, so no run takes this name).
const REPORT_LOCK: &str = "report";

/// A held lock on one run, or on the report; released when dropped.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl ResultsDir {
    /// `results/<experiment>/.locks/`: one empty file per run ever locked
    /// (beside `runs/`, which holds run folders only).
    fn locks(&self) -> PathBuf {
        self.root().join(".locks")
    }

    /// Takes run `id`'s lock: waits for it when `wait`, else returns
    /// `None` at once if another process holds it.
    ///
    /// # Errors
    /// [`SweepError::Io`] naming the lock file when it cannot be opened or
    /// locked.
    pub fn lock_run(&self, id: &str, wait: bool) -> Result<Option<RunLock>, SweepError> {
        let dir = self.locks();
        sae_data::create_folder(&dir)?;
        let path = dir.join(id);
        let file =
            File::options().create(true).truncate(false).write(true).open(&path).map_err(SweepError::io(&path))?;
        if wait {
            file.lock().map_err(SweepError::io(&path))?;
            return Ok(Some(RunLock { _file: file }));
        }
        match file.try_lock() {
            Ok(()) => Ok(Some(RunLock { _file: file })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(SweepError::Io { path, error: e }),
        }
    }

    /// Takes the lock of the experiment's report, waiting while another
    /// process writes it.
    ///
    /// # Errors
    /// [`SweepError::Io`] naming the lock file when it cannot be opened or
    /// locked.
    pub fn lock_report(&self) -> Result<RunLock, SweepError> {
        Ok(self.lock_run(REPORT_LOCK, true)?.expect("a waiting lock is always taken"))
    }

    /// Removes what an interrupted attempt at run `id` left in `runs/`
    /// (its temporary and replaced folders). Call it holding the run's
    /// lock, so no live attempt is touched.
    pub(crate) fn remove_leftovers(&self, id: &str) {
        let Ok(entries) = std::fs::read_dir(self.runs()) else { return };
        let (tmp, old) = (format!("{}{id}-", sae_data::TEMPORARY), format!("{}{id}-", crate::store::REPLACED));
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(&tmp) || name.starts_with(&old) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_to_a_second_taker_until_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path(), "e");
        let held = dir.lock_run("a", false).unwrap();
        assert!(held.is_some());
        assert!(dir.lock_run("a", false).unwrap().is_none(), "a second open file description is refused");
        assert!(dir.lock_run("b", false).unwrap().is_some(), "other runs are free");
        drop(held);
        assert!(dir.lock_run("a", false).unwrap().is_some());
    }

    #[test]
    fn leftovers_of_one_run_are_removed_and_others_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ResultsDir::new(tmp.path(), "e");
        for name in [".tmp-a-x1", ".old-a-77", ".tmp-ab-x2", "a"] {
            std::fs::create_dir_all(dir.runs().join(name)).unwrap();
        }
        dir.remove_leftovers("a");
        let mut left: Vec<String> =
            std::fs::read_dir(dir.runs()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        left.sort();
        assert_eq!(left, [".tmp-ab-x2", "a"]);
    }
}
