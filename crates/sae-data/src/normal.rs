//! Standard normal samples in bulk, by the Box–Muller transform with
//! polynomial `ln`, `sin` and `cos` so that the loop vectorises: about five
//! times faster than drawing one ziggurat sample at a time, which cost an
//! eighth of a denoising training step.

use rand::Rng;

/// Samples per block of random words (kept on the stack).
const BLOCK: usize = 256;
const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

/// `ln x` for `x` in (0, 1]: `x = m · 2^e` with `m` in [√½, √2), then
/// `ln m = 2 atanh((m − 1)/(m + 1))` by its series (error below 1e-7).
#[inline(always)]
fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += big as i32;
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let series = s * (2.0 + s2 * (2.0 / 3.0 + s2 * (2.0 / 5.0 + s2 * (2.0 / 7.0 + s2 * (2.0 / 9.0)))));
    e as f32 * std::f32::consts::LN_2 + series
}

/// `(sin a, cos a)` for `a` in [−π/2, π/2], by Taylor series to degree
/// 11 and 12 (error below 1e-7).
#[inline(always)]
fn sin_cos(a: f32) -> (f32, f32) {
    let a2 = a * a;
    let sin = a
        * (1.0
            + a2 * (-1.0 / 6.0
                + a2 * (1.0 / 120.0 + a2 * (-1.0 / 5040.0 + a2 * (1.0 / 362_880.0 + a2 * (-1.0 / 39_916_800.0))))));
    let cos = 1.0
        + a2 * (-0.5
            + a2 * (1.0 / 24.0
                + a2 * (-1.0 / 720.0 + a2 * (1.0 / 40_320.0 + a2 * (-1.0 / 3_628_800.0 + a2 / 479_001_600.0)))));
    (sin, cos)
}

/// Turns pairs of random words into pairs of independent N(0, 1) samples:
/// `u₁` in (0, 1] from 24 bits of the first word, an angle in [−π/2, π/2)
/// from the second, and a spare bit of the first for the half-turn that
/// completes the circle.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
fn box_muller(words: &[u32], out: &mut [f32]) {
    for (w, o) in words.chunks_exact(2).zip(out.chunks_exact_mut(2)) {
        let u1 = ((w[0] >> 8) as f32 + 0.5) * TWO_POW_M24;
        let angle = ((w[1] >> 8) as f32 * TWO_POW_M24 - 0.5) * std::f32::consts::PI;
        let sign = if w[0] & 1 == 0 { 1.0 } else { -1.0 };
        let r = sign * (-2.0 * ln(u1)).sqrt();
        let (s, c) = sin_cos(angle);
        o[0] = r * c;
        o[1] = r * s;
    }
}

/// Fills `out` with independent standard normal samples drawn from `rng`.
pub fn fill_standard_normal(rng: &mut impl Rng, out: &mut [f32]) {
    let mut words = [0u32; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let n = chunk.len().next_multiple_of(2);
        rng.fill(&mut words[..n]);
        if chunk.len() == n {
            box_muller(&words[..n], chunk);
        } else {
            let mut pair = [0.0f32; BLOCK];
            box_muller(&words[..n], &mut pair[..n]);
            chunk.copy_from_slice(&pair[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_rng;

    #[test]
    fn ln_and_sin_cos_are_accurate() {
        for i in 1..=100_000 {
            let x = i as f32 / 100_000.0;
            assert!((ln(x) as f64 - (x as f64).ln()).abs() < 2e-7 * (1.0 + (x as f64).ln().abs()), "ln {x}");
            let a = (x - 0.5) * std::f32::consts::PI;
            let (s, c) = sin_cos(a);
            assert!((s as f64 - (a as f64).sin()).abs() < 2e-7 && (c as f64 - (a as f64).cos()).abs() < 2e-7);
        }
        assert!((ln(TWO_POW_M24 * 0.5) as f64 - (TWO_POW_M24 as f64 * 0.5).ln()).abs() < 1e-5);
    }

    #[test]
    fn samples_follow_the_standard_normal() {
        let mut out = vec![0.0f32; 1_000_001];
        fill_standard_normal(&mut batch_rng(9, 9, 9, 9), &mut out);
        let n = out.len() as f64;
        let mean = out.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = out.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let kurt = out.iter().map(|&v| (v as f64 - mean).powi(4)).sum::<f64>() / n / (var * var);
        assert!(mean.abs() < 0.004 && (var - 1.0).abs() < 0.005 && (kurt - 3.0).abs() < 0.03, "{mean} {var} {kurt}");
        // Fractions within 1σ and 2σ, and beyond 3σ, against the normal's
        // 0.682689, 0.954500 and 0.002700 (standard errors 5e-4, 2e-4, 5e-5).
        let frac = |f: &dyn Fn(f32) -> bool| out.iter().filter(|&&v| f(v)).count() as f64 / n;
        assert!((frac(&|v| v.abs() < 1.0) - 0.682_689).abs() < 0.002);
        assert!((frac(&|v| v.abs() < 2.0) - 0.954_500).abs() < 0.001);
        assert!((frac(&|v| v.abs() > 3.0) - 0.002_700).abs() < 0.000_3);
        assert!((frac(&|v| v > 0.0) - 0.5).abs() < 0.002, "both signs");
        // Consecutive samples (the two of a pair) are uncorrelated.
        let corr = out.chunks_exact(2).map(|p| (p[0] * p[1]) as f64).sum::<f64>() / (n / 2.0);
        assert!(corr.abs() < 0.005, "{corr}");
    }
}
