//! `println!` and `eprintln!` for the whole crate, replaced by versions that
//! ignore a closed or broken stream: `cargo xtask sweep ... 2>&1 | head -1`
//! must not panic on the broken pipe and lose the sweep, and a closed pipe is
//! not an error (as ripgrep treats it).

/// Writes a line to stdout, ignoring failure.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Writes a line to stderr, ignoring failure.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
