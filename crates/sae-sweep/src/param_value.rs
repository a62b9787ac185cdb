//! A parameter's value in one run, as tables, legends and run names write
//! it.

use std::fmt;

use sae_data::short_number;

/// A parameter's value in one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A count or seed.
    Integer(u64),
    /// A real number.
    Real(f64),
    /// A name (dataset, corruption, mechanism...).
    Text(String),
}

impl Value {
    /// The value as a number; `None` for names.
    pub fn number(&self) -> Option<f64> {
        match self {
            Self::Integer(n) => Some(*n as f64),
            Self::Real(x) => Some(*x),
            Self::Text(_) => None,
        }
    }
}

impl fmt::Display for Value {
    /// As written in tables and names: reals short (`0.05`, `1e-250`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Integer(n) => write!(f, "{n}"),
            Self::Real(x) => f.write_str(&short_number(*x)),
            Self::Text(s) => f.write_str(s),
        }
    }
}
