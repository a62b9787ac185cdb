//! Numbers as they appear in names (run ids, labels, folder and lock
//! names): as written when short, in scientific notation when not, so a
//! name stays short whatever value a file accepts.

use std::fmt::{Display, LowerExp};

/// Longest plain spelling kept; a longer one (`1e-250` written out is 252
/// characters) switches to scientific notation.
const LONGEST_PLAIN: usize = 12;

/// `v` for a name: Rust's shortest round-trip spelling (`0.05`, `1`,
/// `0.0001`) when it has at most 12 characters, else its scientific form
/// (`1e-250`, `1.5e30`); `-0` is written `0`. At most 24 characters for any
/// `f64`, and the same spelling every value had before this rule for the
/// values experiments use. An `f32` is spelt as an `f32` (`0.1`, not the
/// `0.10000000149011612` of its widening).
pub fn short_number<T: Display + LowerExp>(v: T) -> String {
    let plain = v.to_string();
    if plain == "-0" {
        "0".into()
    } else if plain.len() <= LONGEST_PLAIN {
        plain
    } else {
        format!("{v:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyday_values_keep_their_plain_spelling() {
        for (v, text) in
            [(0.05, "0.05"), (1.0, "1"), (1e-4, "0.0001"), (3e-4, "0.0003"), (0.0306, "0.0306"), (1000.0, "1000")]
        {
            assert_eq!(short_number(v), text);
        }
    }

    #[test]
    fn extreme_values_are_short_and_negative_zero_is_zero() {
        assert_eq!(short_number(1e-250), "1e-250");
        assert_eq!(short_number(1e30), "1e30");
        assert_eq!(short_number(-0.0), "0");
        assert_eq!(short_number(0.1f32), "0.1");
        assert_eq!(short_number(1e-40f32), "1e-40");
        for v in [f64::MIN_POSITIVE, f64::MAX, f64::MIN, 5e-324, 1.2345678901234567e-7, -1.2345678901234567e300] {
            assert!(short_number(v).len() <= 24, "{v}: {}", short_number(v));
        }
    }
}
