//! Validated values of experiment files: each checks its range while the
//! TOML is parsed, so an error carries the file's line and column.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use sae_core::Precision;
use sae_data::Corruption;

/// Defines a newtype over a number that only deserializes when `check`
/// holds, failing with "expected {what}, found {value}".
macro_rules! validated {
    ($(#[$doc:meta])* $name:ident($inner:ty), $check:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl $name {
            /// Checks `value`, returning it wrapped or the error message.
            pub fn new(value: $inner) -> Result<Self, String> {
                let check: fn($inner) -> bool = $check;
                if check(value) {
                    Ok(Self(value))
                } else {
                    Err(format!("expected {}, found {}", $what, sae_data::short_number(value)))
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(<$inner>::deserialize(d)?).map_err(D::Error::custom)
            }
        }
    };
}

/// Whether `v` survives the conversion to the `f32` arithmetic of training:
/// 0, or a normal `f32` (neither rounded to 0 or a subnormal nor beyond
/// `f32::MAX`).
fn f32_representable(v: f64) -> bool {
    v == 0.0 || (v as f32).is_normal()
}

validated!(
    /// A target sparsity ρ, strictly between 0 and 1.
    Rho(f64), |v| v > 0.0 && v < 1.0 && f32_representable(v), "ρ in (0, 1) (exclusive), at least 1.2e-38 (float32)"
);
validated!(
    /// A penalty weight β ≥ 0.
    Beta(f64), |v| v >= 0.0 && f32_representable(v), "β = 0 or from 1.2e-38 to 3.4e38 (float32)"
);
validated!(
    /// A hidden width from 1 to [`MAX_WIDTH`] units.
    Width(usize), |v| v > 0 && v <= MAX_WIDTH, format!("a width from 1 to {MAX_WIDTH}")
);
validated!(
    /// A learning rate > 0.
    LearningRate(f64), |v| v > 0.0 && f32_representable(v), "a learning rate from 1.2e-38 to 3.4e38 (float32)"
);
validated!(
    /// A weight decay ≥ 0.
    WeightDecay(f64), |v| v >= 0.0 && f32_representable(v), "a weight decay of 0 or from 1.2e-38 to 3.4e38 (float32)"
);
validated!(
    /// The linear probe's L2 weight, from 0 to `MAX_PROBE_L2`: beyond it
    /// the penalty swamps the data and the probe scores below chance.
    ProbeL2(f64), |v| (0.0..=MAX_PROBE_L2).contains(&v), format!("a probe L2 weight from 0 to {MAX_PROBE_L2}")
);
validated!(
    /// A penalty weight ≥ 0 (L1's, JumpReLU's λ, Gated's λ).
    L1Weight(f64), |v| v >= 0.0 && f32_representable(v), "a penalty weight of 0 or from 1.2e-38 to 3.4e38 (float32)"
);
validated!(
    /// JumpReLU's kernel width ε, or its initial threshold: above 0.
    Positive(f64), |v| v > 0.0 && f32_representable(v), "a value from 1.2e-38 to 3.4e38 (float32), above 0"
);
validated!(
    /// The weight of TopK's auxiliary (AuxK) loss, ≥ 0.
    AuxWeight(f64), |v| v >= 0.0 && f32_representable(v), "an AuxK weight of 0 or from 1.2e-38 to 3.4e38 (float32)"
);
validated!(
    /// Units kept per image by TopK, at least one (and at most the width,
    /// checked against the experiment's widths).
    TopK(usize), |v| v > 0 && v <= MAX_WIDTH, format!("k from 1 to {MAX_WIDTH}")
);
validated!(
    /// A class label of an MNIST-layout dataset, 0 to 9.
    Label(u8), |v| v <= 9, "a label from 0 to 9"
);
validated!(
    /// A count from 1 to `MAX_COUNT` (epochs, batch size, threads, images).
    Count(usize), |v| v > 0 && v <= MAX_COUNT, format!("a count from 1 to {MAX_COUNT}")

);

validated!(
    /// Successive halving's η: each rung keeps 1/η of its trials and trains
    /// them η times longer; 2 to 100.
    Eta(usize), |v| (2..=100).contains(&v), "η from 2 to 100"
);

validated!(
    /// Matrix-product threads of one run, from 1 to [`MAX_THREADS`].
    Threads(usize), |v| v > 0 && v <= MAX_THREADS, format!("threads from 1 to {MAX_THREADS}")
);

// Bounds: where values stop being meaningful, refused while parsing rather
// than met as an allocation failure hours into a sweep.

/// The widest hidden layer accepted: 16,384 units, 21 times the 784 pixels
/// of an MNIST image; its parameters with Adam's state take 0.4 GB.
pub const MAX_WIDTH: usize = 16_384;

/// The largest count accepted (epochs, batch size, threads, images): a
/// million, beyond any MNIST-layout set or sensible budget.
const MAX_COUNT: usize = 1_000_000;

/// The largest L2 weight of the linear probe: 10, ten thousand times the
/// default, where the weights of a standardised 784-pixel probe are already
/// held near 0.
const MAX_PROBE_L2: f64 = 10.0;

/// The most matrix-product threads a run may ask for: 256, more cores than
/// one machine here has; a million threads made a run 600 times slower.
const MAX_THREADS: usize = 256;

/// The longest `description`, in bytes: a paragraph, not a file (it is
/// copied into every run's folder).
pub(crate) const MAX_DESCRIPTION: usize = 10_000;

/// The most runs one experiment's grid may hold.
pub const MAX_RUNS: usize = 100_000;

/// A corruption whose parameters are in range.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct ValidCorruption(pub Corruption);

impl<'de> Deserialize<'de> for ValidCorruption {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let c = Corruption::deserialize(d)?;
        c.validate().map_err(D::Error::custom)?;
        Ok(Self(c))
    }
}

/// A list with at least one element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct NonEmpty<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<T>::deserialize(d)?;
        if v.is_empty() {
            return Err(D::Error::custom("expected a non-empty list"));
        }
        Ok(Self(v))
    }
}

/// `[training] precision`: `"f32"` or `"bf16"`; any other value, of any
/// type, an error that lists the two.
pub fn precision<'de, D: Deserializer<'de>>(d: D) -> Result<Precision, D::Error> {
    let value = toml::Value::deserialize(d)?;
    match value.as_str() {
        Some("f32") => Ok(Precision::F32),
        Some("bf16") => Ok(Precision::Bf16),
        _ => Err(D::Error::custom(format!("expected \"f32\" or \"bf16\", found {value}"))),
    }
}
