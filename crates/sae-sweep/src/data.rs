//! The data a sweep shares between its runs: the dataset read once, each
//! split built once, and each evaluation corruption drawn once.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};

use sae_data::{corrupt_set, ImageSet, RawDataset, SplitSizes, Splits, TEST_NOISE_STREAM, VALIDATION_NOISE_STREAM};

use crate::{Experiment, SweepError};

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
}

/// The dataset and everything derived from it, built on first use and
/// shared by every run that needs it. The corrupted evaluation sets are held
/// only while a run uses them (a sweep over nine corruptions would otherwise
/// keep nine copies); they are redrawn, identically, if needed again.
#[derive(Debug)]
pub struct SharedData {
    raw: RawDataset,
    splits: Mutex<HashMap<String, Arc<Splits>>>,
    prepared: Mutex<HashMap<String, Weak<RunData>>>,
}

impl SharedData {
    /// Reads the dataset in `dir`.
    ///
    /// # Errors
    /// Any IDX error, naming the file.
    pub fn load(dir: &Path) -> Result<Self, SweepError> {
        Ok(Self { raw: RawDataset::load(dir)?, splits: Mutex::default(), prepared: Mutex::default() })
    }

    /// The data of a run configured by `config`.
    ///
    /// # Errors
    /// A split larger than the dataset.
    pub fn for_run(&self, config: &Experiment) -> Result<Arc<RunData>, SweepError> {
        let d = &config.data;
        let split_key = format!("{}/{}/{}/{}", d.train.0, d.validation.0, d.test.0, d.split_seed);
        let key = format!("{split_key}/{:?}", config.corruption.0);
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
                    let s = Arc::new(Splits::new(&self.raw, sizes, d.split_seed)?);
                    cache.insert(split_key, s.clone());
                    s
                }
            }
        };
        let c = config.corruption.0;
        let run = Arc::new(RunData {
            val_input: corrupt_set(&splits.validation, c, d.split_seed, VALIDATION_NOISE_STREAM),
            test_input: corrupt_set(&splits.test, c, d.split_seed, TEST_NOISE_STREAM),
            splits,
        });
        prepared.insert(key, Arc::downgrade(&run));
        Ok(run)
    }
}
