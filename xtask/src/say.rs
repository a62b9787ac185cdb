//! The one way this binary prints a line: `stdout_line!` and `stderr_line!`
//! ignore a closed or broken stream, so `cargo xtask sweep ... 2>&1 | head -1`
//! does not panic on the broken pipe and lose the sweep; a closed pipe is not
//! an error (as ripgrep treats it). Where losing the text matters (a dry-run
//! listing), the caller writes to stdout itself and reports the error.

/// Writes a line to stdout, ignoring failure.
macro_rules! stdout_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Writes a line to stderr, ignoring failure.
macro_rules! stderr_line {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
