//! Writing a file whole or not at all: every file sae-lab writes (tables,
//! reports, figures, checkpoints, downloads) goes through a temporary file
//! in the same folder, synced to disk and renamed over the target, so a
//! reader, a crash or a full disk sees the old content or the new, never a
//! part, and no temporary file is left behind.

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
    std::fs::create_dir_all(dir).map_err(DataError::io(dir))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode passed to open(2), which the kernel masks with the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    // The temporary file is removed when dropped, so an error below leaves nothing.
    let mut tmp = builder.tempfile_in(dir).map_err(DataError::io(path))?;
    tmp.as_file_mut().write_all(bytes).map_err(DataError::io(path))?;
    tmp.as_file().sync_all().map_err(DataError::io(path))?;
    tmp.persist(path).map_err(|e| DataError::Io { path: path.into(), error: e.error })?;
    Ok(())
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
