//! How a test that lacks its data or tool says so: skipped, with the
//! reason, on a developer's machine; failed, with the same reason, under CI
//! (`CI=true`), where everything it needs is installed and a skip would let
//! CI pass without running it.

/// Says that `test` cannot run and why: prints `skipped <test>: <why>` on
/// the terminal (past the test harness's capture) and returns, or, when the
/// `CI` variable is `true`, panics with the reason.
pub fn skip_test(test: &str, why: &str) {
    if let Some(message) = skip_message(std::env::var("CI").ok().as_deref(), test, why) {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{message}");
    }
}

/// The skip line, or a panic when `ci` is `Some("true")`.
fn skip_message(ci: Option<&str>, test: &str, why: &str) -> Option<String> {
    if ci == Some("true") {
        panic!("{test} cannot run under CI=true, where it must: {why}");
    }
    Some(format!("skipped {test}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skip_is_said_outside_ci() {
        assert_eq!(skip_message(None, "t", "no data").unwrap(), "skipped t: no data");
        assert_eq!(skip_message(Some("false"), "t", "no data").unwrap(), "skipped t: no data");
    }

    #[test]
    #[should_panic(expected = "t cannot run under CI=true, where it must: no data")]
    fn a_skip_fails_under_ci() {
        skip_message(Some("true"), "t", "no data");
    }
}
