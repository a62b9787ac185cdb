//! Writing a file whole or not at all: every file sae-lab writes (tables,
//! reports, figures, checkpoints, downloads) goes through a temporary file
//! in the same folder, synced to disk and renamed over the target, so a
//! reader, a crash or a full disk sees the old content or the new, never a
//! part, and no temporary file is left behind (nor by a process stopped by
//! a signal: see `writes.rs`).

use std::io::Write;
use std::path::Path;

use crate::DataError;

/// Writes `bytes` to `path` atomically, creating its folder when missing.
/// The file gets the mode an ordinary file gets (0666 less the umask)
/// rather than a temporary file's private 0600, so on a cluster's shared
/// filesystem the other jobs and users can read it.
///
/// # Errors
/// [`DataError::Io`] naming `path` (never the temporary file's name) with
/// the operating system's error.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    create_folder(dir)?;
    // The target's name, cut so the temporary one fits the 255 bytes a name may have.
    let name: String = path.file_name().map_or("".into(), |n| n.to_string_lossy()).chars().take(100).collect();
    let prefix = format!("{TEMPORARY}{name}-");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode passed to open(2), which the kernel masks with the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let failed = |e: std::io::Error| DataError::Io { path: path.into(), error: os_error(e) };
    // A process stopping by signal waits for this write to end ([`crate::stop_writes`]).
    let _writing = crate::writing();
    // The temporary file is removed when dropped, so an error below leaves nothing.
    let mut tmp = builder.tempfile_in(dir).map_err(failed)?;
    tmp.as_file_mut().write_all(bytes).map_err(failed)?;
    tmp.as_file().sync_all().map_err(failed)?;
    tmp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// Creates folder `dir` and its parents, as `create_dir_all` does; where
/// a file stands in the way the error names it (`results/small: not a
/// folder (it is a file)`), not the operating system's bare `File exists`.
///
/// # Errors
/// [`DataError::NotAFolder`] naming the file in the way; [`DataError::Io`]
/// otherwise.
pub fn create_folder(dir: &Path) -> Result<(), DataError> {
    std::fs::create_dir_all(dir).map_err(|error| {
        let is_file = |p: &&Path| std::fs::metadata(p).is_ok_and(|m| !m.is_dir());
        match dir.ancestors().find(is_file) {
            Some(found) => DataError::NotAFolder { found: found.into(), wanted: dir.into() },
            None => DataError::Io { path: dir.into(), error },
        }
    })
}

/// How every temporary file or folder of sae-lab begins: this, then the
/// target's name, then a random part ([`write_atomic`]'s files, a run's
/// folder while it is written).
pub const TEMPORARY: &str = ".tmp-";

/// The operating system's error alone: tempfile appends ` at path "…"`,
/// the temporary file's name, to the errors it returns (keeping the OS
/// error only in that text), which would name a file the user never asked
/// for instead of the one being written.
pub fn os_error(error: std::io::Error) -> std::io::Error {
    if error.raw_os_error().is_some() || error.get_ref().is_none() {
        return error;
    }
    let text = error.to_string();
    match text.rsplit_once(" at path \"") {
        Some((os, _)) => std::io::Error::new(error.kind(), os.to_string()),
        None => error,
    }
}

/// Removes the temporary files that interrupted [`write_atomic`] calls (a
/// `kill -9`, a power cut) left in `dir` for targets whose names start
/// with `target_prefix` (`""`: every target). Call it only while no other
/// process is writing such a target there.
pub fn remove_interrupted_writes(dir: &Path, target_prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!("{TEMPORARY}{target_prefix}");
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) && entry.path().is_file() {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_content_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/table.csv");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let names: Vec<_> =
            std::fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["table.csv"]);
    }

    #[test]
    fn an_error_names_the_target_not_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the rename fails.
        let path = dir.path().join("taken");
        std::fs::create_dir_all(path.join("inside")).unwrap();
        let err = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: ", path.display())), "{err}");
        assert!(!err.contains(".tmp-"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn interrupted_writes_of_the_named_targets_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".tmp-report.md-a1", ".tmp-runs.csv-b2", ".tmp-x.png-c3", "report.md"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_interrupted_writes(dir.path(), "report");
        let mut left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        left.sort();
        assert_eq!(left, [".tmp-runs.csv-b2", ".tmp-x.png-c3", "report.md"]);
        remove_interrupted_writes(dir.path(), "");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["report.md"]);
    }

    #[test]
    fn a_file_where_a_folder_is_needed_is_named_not_called_existing() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("results");
        std::fs::write(&file, "x").unwrap();
        for wanted in [file.clone(), file.join("small/runs")] {
            let e = create_folder(&wanted).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{}: not a folder (it is a file)", file.display())), "{e}");
            assert!(!e.contains("File exists") && !e.contains("Not a directory"), "{e}");
        }
        let e = write_atomic(&file.join("small/runs.csv"), b"x").unwrap_err().to_string();
        assert!(e.contains(&format!("and {} needs it to be one", file.join("small").display())), "{e}");
    }

    #[test]
    fn tempfile_errors_lose_the_temporary_name() {
        let missing = Path::new("/nonexistent-folder-of-sae-lab");
        let err = tempfile::Builder::new().prefix(".tmp-x-").tempfile_in(missing).unwrap_err();
        assert!(err.to_string().contains(".tmp-x-"), "tempfile names its file: {err}");
        assert_eq!(os_error(err).to_string(), "No such file or directory (os error 2)");
    }

    #[test]
    fn a_long_name_still_leaves_room_for_the_temporary_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("{}.png", "x".repeat(250)));
        write_atomic(&path, b"x").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"x");
    }

    #[cfg(unix)]
    #[test]
    fn the_file_gets_the_mode_of_an_ordinary_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (ordinary, atomic) = (dir.path().join("ordinary"), dir.path().join("atomic"));
        std::fs::write(&ordinary, b"x").unwrap();
        write_atomic(&atomic, b"x").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Under the usual umask 022 the ordinary file is 0644, which tempfile's
        // default 0600 would fail (under umask 077 the two agree either way).
        assert_eq!(mode(&atomic), mode(&ordinary));
    }
}
