//! Scoring what a trained model's code is worth: the linear probe fitted
//! on the code of clean images with their labels and scored on others.

use sae_core::{LinearProbe, ProbeConfig, SparseAutoencoder};
use sae_data::normalize_byte;

use crate::{Experiment, RunData};

/// Images encoded per forward pass.
const CHUNK: usize = 1000;

/// The code of `n` images, image `i` written by `fill(i, row)` in
/// normalised units; encoded in chunks so no normalised copy of a large
/// set is held.
pub fn encode_images(model: &SparseAutoencoder, n: usize, fill: impl Fn(usize, &mut [f32])) -> Vec<f32> {
    let d = model.config.input;
    let mut code = Vec::with_capacity(n * model.config.hidden);
    let mut chunk = vec![0.0f32; CHUNK * d];
    for start in (0..n).step_by(CHUNK) {
        let m = CHUNK.min(n - start);
        chunk[..m * d].chunks_exact_mut(d).enumerate().for_each(|(i, row)| fill(start + i, row));
        code.extend(model.encode(&chunk[..m * d], m));
    }
    code
}

/// The positions of `labels` that the probe uses.
fn kept(labels: &[u8], keep: Option<&[u8]>) -> Vec<usize> {
    (0..labels.len()).filter(|&i| keep.is_none_or(|k| k.contains(&labels[i]))).collect()
}

/// The probe's test accuracy for `model`, as the experiment's `[probe]`
/// section defines it.
///
/// # Errors
/// A message when the probe has no image to fit or score on.
pub fn probe_accuracy(model: &SparseAutoencoder, data: &RunData, config: &Experiment) -> Result<f64, String> {
    let keep = config.probe.kept_labels();
    let s = &data.splits;
    let ((fit_x, fit_y), (score_x, score_y)) = match &data.probe_halves {
        Some(h) => {
            let encode =
                |set: &sae_data::ImageSet| encode_images(model, set.n, |i, row| row.copy_from_slice(set.image(i)));
            ((encode(&h.fit.0), h.fit.1.clone()), (encode(&h.score.0), h.score.1.clone()))
        }
        None => {
            let fit = kept(&s.train_labels, keep.as_deref());
            let score = kept(&s.test_labels, keep.as_deref());
            let fit_x = encode_images(model, fit.len(), |i, row| {
                row.iter_mut().zip(s.train.image(fit[i])).for_each(|(o, &b)| *o = normalize_byte(b))
            });
            let score_x = encode_images(model, score.len(), |i, row| row.copy_from_slice(s.test.image(score[i])));
            let labels = |ix: &[usize], all: &[u8]| ix.iter().map(|&i| all[i]).collect::<Vec<u8>>();
            ((fit_x, labels(&fit, &s.train_labels)), (score_x, labels(&score, &s.test_labels)))
        }
    };
    if fit_y.is_empty() || score_y.is_empty() {
        return Err(format!("the probe has no image with labels {keep:?} to fit or score on"));
    }
    let probe_config = ProbeConfig { l2: config.probe.l2.0, ..ProbeConfig::default() };
    let probe = LinearProbe::fit(&fit_x, &fit_y, model.config.hidden, probe_config);
    Ok(probe.accuracy(&score_x, &score_y))
}
