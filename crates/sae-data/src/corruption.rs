//! Corruptions that turn a clean image into a model input: Gaussian noise,
//! salt-and-pepper noise, masking noise and half-image occlusion, with the
//! seeded random streams that make every draw reproducible.

use rand::Rng;

use crate::normal::fill_standard_normal;
use crate::short_number;

/// Which half of the image [`Corruption::Half`] hides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HalfSide {
    /// Columns `0..cols/2` (the reference's choice).
    #[default]
    Left,
    /// Columns `cols/2..cols`.
    Right,
    /// Rows `0..rows/2`.
    Top,
    /// Rows `rows/2..rows`.
    Bottom,
}

impl HalfSide {
    /// The side's name in files and labels, as the experiment file spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Left => "left",
            Self::Right => "right",
            Self::Top => "top",
            Self::Bottom => "bottom",
        }
    }
}

fn default_half_fill() -> f32 {
    0.0
}

/// How an input is corrupted; all values are in normalised units, where
/// −1 is black (the MNIST background), 0 mid grey and 1 white.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Corruption {
    /// The input is the clean image.
    #[default]
    None,
    /// Adds independent `N(0, std²)` noise to every pixel (the reference
    /// denoises with `std = 1`).
    Gaussian {
        /// Standard deviation in normalised units.
        std: f32,
    },
    /// Sets each pixel with probability `p` to black or white, evenly.
    SaltAndPepper {
        /// Probability that a pixel is replaced.
        p: f32,
    },
    /// Sets each pixel with probability `p` to black (−1), dropping it.
    Masking {
        /// Probability that a pixel is dropped.
        p: f32,
    },
    /// Replaces half of the image with `fill` (the reference hides the left
    /// 14 columns with 0, mid grey).
    Half {
        /// The half hidden.
        #[serde(default)]
        side: HalfSide,
        /// The value written over it.
        #[serde(default = "default_half_fill")]
        fill: f32,
    },
}

impl Corruption {
    /// Checks the parameters, naming what is wrong.
    ///
    /// # Errors
    /// A message such as `gaussian std must be finite and ≥ 0, found -1`.
    pub fn validate(&self) -> Result<(), String> {
        let prob = |name: &str, p: f32| {
            if (0.0..=1.0).contains(&p) {
                Ok(())
            } else {
                Err(format!("{name} p must be in [0, 1], found {p}"))
            }
        };
        match *self {
            Self::None => Ok(()),
            Self::Gaussian { std } if std.is_finite() && std >= 0.0 => Ok(()),
            Self::Gaussian { std } => Err(format!("gaussian std must be finite and ≥ 0, found {std}")),
            Self::SaltAndPepper { p } => prob("salt_and_pepper", p),
            Self::Masking { p } => prob("masking", p),
            Self::Half { fill, .. } if (-1.0..=1.0).contains(&fill) => Ok(()),
            Self::Half { fill, .. } => {
                Err(format!("half fill must be in [-1, 1] (normalised units: -1 black, 1 white), found {fill}"))
            }
        }
    }

    /// A short readable label, used in run ids and plots: `none`,
    /// `gaussian1`, `sp0.2`, `mask0.5`, `half-left`; a half filled with
    /// anything but the default 0 says so (`half-left-fill-1`), so two
    /// settings never share a label.
    pub fn label(&self) -> String {
        match self {
            Self::None => "none".into(),
            Self::Gaussian { std } => format!("gaussian{}", short_number(*std)),
            Self::SaltAndPepper { p } => format!("sp{}", short_number(*p)),
            Self::Masking { p } => format!("mask{}", short_number(*p)),
            Self::Half { side, fill } => {
                let side = side.as_str();
                if *fill == 0.0 {
                    format!("half-{side}")
                } else {
                    format!("half-{side}-fill{}", short_number(*fill))
                }
            }
        }
    }

    /// Writes the corrupted version of `clean` (images of `rows × cols`,
    /// one after another) into `out`, drawing from `rng`.
    pub fn apply(&self, clean: &[f32], out: &mut [f32], rows: usize, cols: usize, rng: &mut impl Rng) {
        debug_assert_eq!(clean.len(), out.len());
        match *self {
            Self::None => out.copy_from_slice(clean),
            Self::Gaussian { std } => {
                fill_standard_normal(rng, out);
                for (o, &c) in out.iter_mut().zip(clean) {
                    *o = c + std * *o;
                }
            }
            Self::SaltAndPepper { p } => {
                for (o, &c) in out.iter_mut().zip(clean) {
                    let u: f32 = rng.random();
                    *o = if u < p * 0.5 {
                        -1.0
                    } else if u < p {
                        1.0
                    } else {
                        c
                    };
                }
            }
            Self::Masking { p } => {
                for (o, &c) in out.iter_mut().zip(clean) {
                    *o = if rng.random::<f32>() < p { -1.0 } else { c };
                }
            }
            Self::Half { side, fill } => {
                out.copy_from_slice(clean);
                for image in out.chunks_exact_mut(rows * cols) {
                    for (r, row) in image.chunks_exact_mut(cols).enumerate() {
                        for (c, v) in row.iter_mut().enumerate() {
                            let hidden = match side {
                                HalfSide::Left => c < cols / 2,
                                HalfSide::Right => c >= cols / 2,
                                HalfSide::Top => r < rows / 2,
                                HalfSide::Bottom => r >= rows / 2,
                            };
                            if hidden {
                                *v = fill;
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch_rng;

    #[test]
    fn a_side_is_spelt_in_labels_as_in_experiment_files() {
        use serde::de::{value::Error, Deserialize, IntoDeserializer};
        for side in [HalfSide::Left, HalfSide::Right, HalfSide::Top, HalfSide::Bottom] {
            let parsed = HalfSide::deserialize(IntoDeserializer::<Error>::into_deserializer(side.as_str()));
            assert_eq!(parsed, Ok(side));
        }
        assert_eq!(Corruption::Half { side: HalfSide::Top, fill: 0.0 }.label(), "half-top");
    }

    fn apply(c: Corruption, clean: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; clean.len()];
        c.apply(clean, &mut out, 28, 28, &mut batch_rng(1, 2, 3, 4));
        out
    }

    #[test]
    fn gaussian_noise_has_the_requested_std_and_zero_mean() {
        let clean = vec![0.25f32; 784 * 50];
        let out = apply(Corruption::Gaussian { std: 0.7 }, &clean);
        let n = out.len() as f64;
        let d: Vec<f64> = out.iter().zip(&clean).map(|(o, c)| (o - c) as f64).collect();
        let mean = d.iter().sum::<f64>() / n;
        let std = (d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        // 39,200 draws: the standard error of the std is about 0.7/sqrt(2n) = 0.0025.
        assert!(mean.abs() < 0.015, "mean {mean}");
        assert!((std - 0.7).abs() < 0.01, "std {std}");
    }

    #[test]
    fn masking_drops_the_requested_fraction() {
        let clean = vec![0.5f32; 784 * 50];
        let out = apply(Corruption::Masking { p: 0.3 }, &clean);
        let frac = out.iter().filter(|&&v| v == -1.0).count() as f64 / out.len() as f64;
        assert!((frac - 0.3).abs() < 0.01, "{frac}");
        assert!(out.iter().all(|&v| v == -1.0 || v == 0.5));
    }

    #[test]
    fn salt_and_pepper_splits_evenly() {
        let clean = vec![0.5f32; 784 * 50];
        let out = apply(Corruption::SaltAndPepper { p: 0.2 }, &clean);
        let n = out.len() as f64;
        let black = out.iter().filter(|&&v| v == -1.0).count() as f64 / n;
        let white = out.iter().filter(|&&v| v == 1.0).count() as f64 / n;
        assert!((black - 0.1).abs() < 0.01 && (white - 0.1).abs() < 0.01, "{black} {white}");
    }

    #[test]
    fn half_hides_exactly_the_left_14_columns() {
        let clean: Vec<f32> = (0..784 * 2).map(|i| (i % 7) as f32 / 7.0 + 0.01).collect();
        let out = apply(Corruption::Half { side: HalfSide::Left, fill: 0.0 }, &clean);
        for (i, (&o, &c)) in out.iter().zip(&clean).enumerate() {
            let col = i % 28;
            assert_eq!(o, if col < 14 { 0.0 } else { c }, "pixel {i}");
        }
        let top = apply(Corruption::Half { side: HalfSide::Top, fill: -1.0 }, &clean);
        assert!(top[..14 * 28].iter().all(|&v| v == -1.0) && top[14 * 28..784] == clean[14 * 28..784]);
    }

    #[test]
    fn same_stream_same_noise_other_stream_other_noise() {
        let clean = vec![0.0f32; 100];
        let g = Corruption::Gaussian { std: 1.0 };
        let draw = |a| {
            let mut out = vec![0.0; 100];
            g.apply(&clean, &mut out, 10, 10, &mut batch_rng(0, 1, a, 0));
            out
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }

    #[test]
    fn validation_names_the_parameter() {
        assert!(Corruption::Gaussian { std: -1.0 }.validate().unwrap_err().contains("std"));
        assert!(Corruption::Masking { p: 1.5 }.validate().unwrap_err().contains("masking p must be in [0, 1]"));
        assert!(Corruption::Half { side: HalfSide::Left, fill: 0.0 }.validate().is_ok());
        assert!(Corruption::Half { side: HalfSide::Left, fill: -1.0 }.validate().is_ok());
        for fill in [1.5, -1.01, f32::NAN] {
            let err = Corruption::Half { side: HalfSide::Top, fill }.validate().unwrap_err();
            assert!(err.contains("half fill must be in [-1, 1]"), "{err}");
        }
    }

    #[test]
    fn labels_tell_every_setting_apart() {
        let half = |fill| Corruption::Half { side: HalfSide::Left, fill }.label();
        assert_eq!(half(0.0), "half-left");
        assert_eq!(half(-1.0), "half-left-fill-1");
        assert_eq!(half(0.5), "half-left-fill0.5");
        assert_ne!(half(0.5), half(0.25));
    }
}
