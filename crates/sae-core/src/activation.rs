//! The elementwise nonlinearities of the model (ReLU, and the logistic
//! function and tanh written so the compiler can vectorise them: `exp` by range reduction and a polynomial (relative
//! error below 3e-7), then the logistic function and tanh from it. libm's
//! scalar `tanh` cost about 15 ns an element, a quarter of a width-256
//! training step).

const LOG2_E: f32 = std::f32::consts::LOG2_E;
/// ln 2 split in two so that `n · LN2_HI` is exact for the `n` that occur.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;
/// 1.5 · 2²³: adding and subtracting it rounds an `f32` to the nearest integer.
const ROUND: f32 = 12_582_912.0;

/// `e^x` for `x` clamped to [−86, 88] (so the result is a normal `f32`).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-86.0, 88.0);
    // k holds round(x·log₂e) in its low mantissa bits; reading them as an
    // integer (rather than casting, which saturates) keeps this vectorisable.
    let k = x * LOG2_E + ROUND;
    let n = k - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    // e^r for |r| ≤ ln2/2, Taylor to degree 7 (truncation error < 2e-8).
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let two_n = k.to_bits().wrapping_sub(ROUND.to_bits()).wrapping_add(127) << 23;
    p * f32::from_bits(two_n)
}

/// The logistic function `1 / (1 + e^{−x})`.
#[inline(always)]
pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `max(0, x)`, with a positive zero for every `x ≤ 0` (TopK's keys order
/// a zero's bits) and NaN passed on (so a diverging run is seen).
#[inline(always)]
pub fn relu(x: f32) -> f32 {
    if x <= 0.0 {
        0.0
    } else {
        x
    }
}

/// The hyperbolic tangent, `1 − 2 / (e^{2x} + 1)` (absolute error below 3e-7).
#[inline(always)]
pub fn tanh(x: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * x) + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_over_its_range() {
        let mut worst = 0.0f64;
        for i in -85_999..=87_999 {
            let x = i as f32 * 1e-3;
            let want = (x as f64).exp();
            worst = worst.max(((exp(x) as f64) - want).abs() / want);
        }
        assert!(worst < 3e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn tanh_and_sigmoid_match_the_definitions() {
        let (mut t_err, mut s_err) = (0.0f64, 0.0f64);
        for i in -20_000..=20_000 {
            let x = i as f32 * 1e-3;
            t_err = t_err.max((tanh(x) as f64 - (x as f64).tanh()).abs());
            s_err = s_err.max((sigmoid(x) as f64 - 1.0 / (1.0 + (-(x as f64)).exp())).abs());
        }
        assert!(t_err < 3e-7 && s_err < 2e-7, "tanh {t_err:e}, sigmoid {s_err:e}");
        assert_eq!((tanh(50.0), tanh(-50.0)), (1.0, -1.0));
        assert!(sigmoid(-200.0) >= 0.0 && sigmoid(200.0) == 1.0);
        assert_eq!([relu(-0.0).to_bits(), relu(-2.0).to_bits(), relu(0.5).to_bits()], [0, 0, 0.5f32.to_bits()]);
        assert!(relu(f32::NAN).is_nan());
    }
}
