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
    splits: Mutex<HashMap<SplitKey, Arc<Splits>>>,
    halves: Mutex<HashMap<HalvesKey, Arc<LabelledHalves>>>,
    prepared: Mutex<HashMap<RunDataKey, Weak<RunData>>>,
}

/// What a split depends on: its sizes, its seed and the labels it keeps.
type SplitKey = (SplitSizes, u64, Option<Vec<u8>>);
/// What the probe's halves depend on: their labels and the split seed.
type HalvesKey = (Vec<u8>, u64);
/// What a run's data depends on: its split, its probe's images and labels,
/// and its corruption (by label, which differs for any two settings).
type RunDataKey = (SplitKey, ProbeImages, Option<Vec<u8>>, String);

/// The value under `key`, built by `build` the first time it is asked for.
fn cached<K: std::hash::Hash + Eq, V>(
    cache: &Mutex<HashMap<K, Arc<V>>>,
    key: K,
    build: impl FnOnce() -> Result<V, sae_data::DataError>,
) -> Result<Arc<V>, SweepError> {
    let mut cache = cache.lock().expect("no panic while holding the lock");
    if let Some(v) = cache.get(&key) {
        return Ok(v.clone());
    }
    let v = Arc::new(build()?);
    cache.insert(key, v.clone());
    Ok(v)
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
        let (d, p, c) = (&config.data, &config.probe, config.corruption.0);
        let sizes = SplitSizes { train: d.train.0, validation: d.validation.0, test: d.test.0 };
        let (kept, probe_labels) = (d.kept_labels(), p.kept_labels());
        let split_key = (sizes, d.split_seed, kept.clone());
        let key = (split_key.clone(), p.images, probe_labels.clone(), c.label());
        let mut prepared = self.prepared.lock().expect("no panic while holding the lock");
        if let Some(p) = prepared.get(&key).and_then(Weak::upgrade) {
            return Ok(p);
        }
        let splits = cached(&self.splits, split_key, || Splits::new(&self.raw, sizes, d.split_seed, kept.as_deref()))?;
        let probe_halves = match p.images {
            ProbeImages::Splits => None,
            ProbeImages::Halves => {
                let labels = probe_labels.unwrap_or_else(|| (0..=9).collect());
                let build = || LabelledHalves::new(&self.raw, &labels, d.split_seed);
                Some(cached(&self.halves, (labels.clone(), d.split_seed), build)?)
            }
        };
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
