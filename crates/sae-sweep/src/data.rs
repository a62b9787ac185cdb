//! The data a sweep shares between its runs: the dataset read once, each
//! split built once, and each evaluation corruption drawn once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use sae_data::{
    corrupt_set, ImageSet, LabelledHalves, RawDataset, SplitSizes, Splits, TEST_NOISE_STREAM, VALIDATION_NOISE_STREAM,
};

use crate::{Experiment, ProbeImages, SweepError};

/// What one run reads: the clean splits and the fixed corrupted inputs of
/// its validation and test sets.
#[derive(Debug)]
pub struct RunData {
    /// Clean training, validation and test images.
    pub splits: Arc<Splits>,
    /// Corrupted validation inputs.
    pub val_input: ImageSet,
    /// Corrupted test inputs.
    pub test_input: ImageSet,
    /// The probe's own images, when it does not use the splits.
    pub probe_halves: Option<Arc<LabelledHalves>>,
}

/// The dataset and everything derived from it, built on first use and
/// shared by every run that needs it. The corrupted evaluation sets are held
/// only while a run uses them (a sweep over nine corruptions would otherwise
/// keep nine copies); they are redrawn, identically, if needed again.
#[derive(Debug)]
pub struct SharedData {
    raw: RawDataset,
    splits: Mutex<HashMap<String, Arc<Splits>>>,
    halves: Mutex<HashMap<String, Arc<LabelledHalves>>>,
    prepared: Mutex<HashMap<String, Weak<RunData>>>,
}

impl SharedData {
    /// Reads the dataset in `dir`.
    ///
    /// # Errors
    /// Any IDX error, naming the file.
    pub fn load(dir: &Path) -> Result<Self, SweepError> {
        Ok(Self {
            raw: RawDataset::load(dir)?,
            splits: Mutex::default(),
            halves: Mutex::default(),
            prepared: Mutex::default(),
        })
    }

    /// The data of a run configured by `config`.
    ///
    /// # Errors
    /// A split larger than the dataset (or than its images of the kept
    /// labels).
    pub fn for_run(&self, config: &Experiment) -> Result<Arc<RunData>, SweepError> {
        let d = &config.data;
        let kept = d.kept_labels();
        let split_key = format!("{}/{}/{}/{}/{kept:?}", d.train.0, d.validation.0, d.test.0, d.split_seed);
        let p = &config.probe;
        let probe_key = format!("{:?}/{:?}", p.images, p.kept_labels());
        let key = format!("{split_key}/{probe_key}/{:?}", config.corruption.0);
        let mut prepared = self.prepared.lock().expect("no panic while holding the lock");
        if let Some(p) = prepared.get(&key).and_then(Weak::upgrade) {
            return Ok(p);
        }
        let splits = {
            let mut cache = self.splits.lock().expect("no panic while holding the lock");
            match cache.get(&split_key) {
                Some(s) => s.clone(),
                None => {
                    let sizes = SplitSizes { train: d.train.0, validation: d.validation.0, test: d.test.0 };
                    let s = Arc::new(Splits::new(&self.raw, sizes, d.split_seed, kept.as_deref())?);
                    cache.insert(split_key, s.clone());
                    s
                }
            }
        };
        let probe_halves = match (p.images, p.kept_labels()) {
            (ProbeImages::Splits, _) => None,
            (ProbeImages::Halves, labels) => {
                let labels = labels.unwrap_or_else(|| (0..=9).collect());
                let mut cache = self.halves.lock().expect("no panic while holding the lock");
                let key = format!("{labels:?}/{}", d.split_seed);
                Some(match cache.get(&key) {
                    Some(h) => h.clone(),
                    None => {
                        let h = Arc::new(LabelledHalves::new(&self.raw, &labels, d.split_seed)?);
                        cache.insert(key, h.clone());
                        h
                    }
                })
            }
        };
        let c = config.corruption.0;
        let run = Arc::new(RunData {
            probe_halves,
            val_input: corrupt_set(&splits.validation, c, d.split_seed, VALIDATION_NOISE_STREAM),
            test_input: corrupt_set(&splits.test, c, d.split_seed, TEST_NOISE_STREAM),
            splits,
        });
        prepared.insert(key, Arc::downgrade(&run));
        Ok(run)
    }
}
