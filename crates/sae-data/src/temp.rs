//! Temporary files that become real files: created with the mode an
//! ordinary file gets (0666 less the umask) rather than tempfile's private
//! 0600, so a file renamed into place is as readable as its neighbours (on
//! a cluster's shared filesystem, by the other jobs and users).

use std::path::Path;

/// A new temporary file in `dir`, with the permissions `File::create`
/// would give it.
///
/// # Errors
/// The operating system's, when `dir` is not writable.
pub fn temp_file_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".tmp-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The mode passed to open(2), which the kernel masks with the umask.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_temporary_file_gets_the_mode_of_an_ordinary_file() {
        let dir = tempfile::tempdir().unwrap();
        let ordinary = dir.path().join("ordinary");
        std::fs::write(&ordinary, b"x").unwrap();
        let tmp = temp_file_in(dir.path()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // Under the usual umask 022 the ordinary file is 0644, which tempfile's
        // default 0600 would fail (under umask 077 the two agree either way).
        assert_eq!(mode(tmp.path()), mode(&ordinary));
    }
}
