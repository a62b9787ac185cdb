//! Scoring what features are worth: the linear probe fitted on the
//! features of clean images with their labels and scored on others, for a
//! model's code and for the baselines' features alike, and the `[probe]`
//! section that sets it.

use serde::{Deserialize, Serialize};

use sae_core::{LinearProbe, ProbeConfig};
use sae_data::{labelled, normalize_byte};

use crate::experiment::label_bytes;
use crate::values::{Count, Label, NonEmpty, ProbeL2};
use crate::{Experiment, RunData};

/// Which images the linear probe learns from and is scored on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeImages {
    /// Fit on the clean training split, score on the clean test split.
    #[default]
    Splits,
    /// The training file's images of the probe's labels, shuffled with
    /// `split_seed` and halved: one half to fit, the other to score (UFLDL's
    /// self-taught protocol, for labels the autoencoder never saw).
    Halves,
}

/// The linear probe that scores the code's features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeSection {
    /// Classes the probe learns (default: every label of its images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<NonEmpty<Label>>,
    /// Where its images come from.
    pub images: ProbeImages,
    /// L2 weight on the probe's weights.
    pub l2: ProbeL2,
    /// For a TopK code: the probe's features keep α·k units per image
    /// rather than k (Makhzani and Frey encode with α = 3). Left out when
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<Count>,
}

impl Default for ProbeSection {
    fn default() -> Self {
        Self { labels: None, images: ProbeImages::default(), l2: ProbeL2(ProbeConfig::default().l2), alpha: None }
    }
}

impl ProbeSection {
    pub(crate) fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The probe's labels, as bytes, if it selects any.
    pub fn kept_labels(&self) -> Option<Vec<u8>> {
        label_bytes(&self.labels)
    }
}

/// A probe with no image to fit or score on: none carries the labels its
/// `[probe]` section keeps.
#[derive(Debug, thiserror::Error)]
#[error("the probe has no image with labels {labels:?} to fit or score on")]
pub struct NoProbeImages {
    /// The labels kept (`None`: all of them).
    pub labels: Option<Vec<u8>>,
}

/// Images encoded per forward pass.
const CHUNK: usize = 1000;

/// The features of `n` images of `d` pixels, image `i` written by
/// `fill(i, row)` in normalised units; computed in chunks so no normalised
/// copy of a large set is held.
fn encode_images(
    features: impl Fn(&[f32], usize) -> Vec<f32>,
    n: usize,
    d: usize,
    fill: impl Fn(usize, &mut [f32]),
) -> Vec<f32> {
    let mut out = Vec::new();
    let mut chunk = vec![0.0f32; CHUNK * d];
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        chunk[..m * d].chunks_exact_mut(d).enumerate().for_each(|(i, row)| fill(start + i, row));
        out.extend(features(&chunk[..m * d], m));
    }
    out
}

/// The probe's test accuracy on features of `dim` values per image, which
/// `features(images, n)` computes from `n` clean images in normalised
/// units: the code of a model, the pixels themselves, their projection on
/// principal components. The images and labels are those the experiment's
/// `[probe]` section selects.
///
/// # Errors
/// [`NoProbeImages`] when the probe has no image to fit or score on.
pub fn probe_accuracy(
    data: &RunData,
    config: &Experiment,
    dim: usize,
    features: impl Fn(&[f32], usize) -> Vec<f32>,
) -> Result<f64, NoProbeImages> {
    let keep = config.probe.kept_labels();
    let s = &data.splits;
    let d = s.test.dim();
    let ((fit_x, fit_y), (score_x, score_y)) = match &data.probe_halves {
        Some(h) => {
            let encode = |set: &sae_data::ImageSet| {
                encode_images(&features, set.n, d, |i, row| row.copy_from_slice(set.image(i)))
            };
            ((encode(&h.fit.0), h.fit.1.clone()), (encode(&h.score.0), h.score.1.clone()))
        }
        None => {
            let fit = labelled(&s.train_labels, keep.as_deref());
            let score = labelled(&s.test_labels, keep.as_deref());
            let fit_x = encode_images(&features, fit.len(), d, |i, row| {
                row.iter_mut().zip(s.train.image(fit[i])).for_each(|(o, &b)| *o = normalize_byte(b))
            });
            let score_x =
                encode_images(&features, score.len(), d, |i, row| row.copy_from_slice(s.test.image(score[i])));
            let labels = |ix: &[usize], all: &[u8]| ix.iter().map(|&i| all[i]).collect::<Vec<u8>>();
            ((fit_x, labels(&fit, &s.train_labels)), (score_x, labels(&score, &s.test_labels)))
        }
    };
    if fit_y.is_empty() || score_y.is_empty() {
        return Err(NoProbeImages { labels: keep });
    }
    let probe_config = ProbeConfig { l2: config.probe.l2.0, ..ProbeConfig::default() };
    let probe = LinearProbe::fit(&fit_x, &fit_y, dim, probe_config);
    Ok(probe.accuracy(&score_x, &score_y))
}
