//! The run a stored model or training state belongs to, written in the
//! safetensors file's metadata (where PyTorch's `safe_open(...).metadata()`
//! reads it too), so that a file copied into another run's folder is told
//! apart from that run's own.

use std::collections::HashMap;
use std::path::Path;

use crate::CoreError;

/// The metadata key of [`RunIdentity::run`].
const RUN_KEY: &str = "sae_lab.run_id";
/// The metadata key of [`RunIdentity::digest`].
const DIGEST_KEY: &str = "sae_lab.run_digest";

/// Which run wrote a file: its id, and a digest of everything that made
/// it (its whole configuration: the data, split, corruption, model,
/// mechanism and training), which tells apart two runs whose ids a user
/// could confuse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunIdentity {
    /// The run's id.
    pub run: String,
    /// A hex digest of the run's settings.
    pub digest: String,
}

impl RunIdentity {
    /// Adds this identity to a safetensors file's `metadata`.
    pub(crate) fn write(&self, metadata: &mut HashMap<String, String>) {
        metadata.insert(RUN_KEY.into(), self.run.clone());
        metadata.insert(DIGEST_KEY.into(), self.digest.clone());
    }

    /// The identity in a safetensors file's `metadata`, `None` when it
    /// holds neither key (a file written before identities, or by another
    /// program); a key missing beside the other reads as empty, which
    /// matches no run.
    pub(crate) fn from_metadata(metadata: &HashMap<String, String>) -> Option<Self> {
        let (run, digest) = (metadata.get(RUN_KEY), metadata.get(DIGEST_KEY));
        if run.is_none() && digest.is_none() {
            return None;
        }
        let text = |v: Option<&String>| v.cloned().unwrap_or_default();
        Some(Self { run: text(run), digest: text(digest) })
    }

    /// The identity written in the safetensors file at `path` (a
    /// checkpoint or a training state), reading its header only.
    ///
    /// # Errors
    /// [`CoreError::Checkpoint`] naming the file when it cannot be read or
    /// its header does not parse.
    pub fn read(path: &Path) -> Result<Option<Self>, CoreError> {
        let header = crate::checkpoint::read_safetensors_header(path)?;
        Ok(header.metadata().as_ref().and_then(Self::from_metadata))
    }

    /// Why a file holding `found` is not run `self`'s: `None` when it is,
    /// or when it names no run (a file written before identities).
    pub fn mismatch(&self, found: Option<&Self>) -> Option<String> {
        let found = found?;
        if found.run.is_empty() {
            return Some(format!("its metadata names no run ({RUN_KEY} is missing), not run {}", self.run));
        }
        if found.run != self.run {
            return Some(format!("written by run {}, not by run {}", found.run, self.run));
        }
        (found.digest != self.digest).then(|| {
            format!(
                "written by run {} with other settings (digest {}, expected {})",
                found.run, found.digest, self.digest
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_round_trips_and_tells_runs_apart() {
        let me = RunIdentity { run: "rho0.05-1a2b3c4d".into(), digest: "ab".into() };
        let mut meta = HashMap::new();
        assert_eq!(RunIdentity::from_metadata(&meta), None);
        me.write(&mut meta);
        let read = RunIdentity::from_metadata(&meta).unwrap();
        assert_eq!(read, me);
        assert_eq!(me.mismatch(Some(&read)), None);
        assert_eq!(me.mismatch(None), None);
        let other = RunIdentity { run: "rho0.1-00000000".into(), ..me.clone() };
        assert!(me.mismatch(Some(&other)).unwrap().contains("by run rho0.1-00000000, not by run rho0.05-1a2b3c4d"));
        let edited = RunIdentity { digest: "cd".into(), ..me.clone() };
        assert!(me.mismatch(Some(&edited)).unwrap().contains("other settings (digest cd, expected ab)"));
        meta.remove(DIGEST_KEY);
        assert_eq!(RunIdentity::from_metadata(&meta).unwrap().digest, "");
        let nameless = RunIdentity { run: String::new(), ..me.clone() };
        assert!(me.mismatch(Some(&nameless)).unwrap().starts_with("its metadata names no run (sae_lab.run_id"));
    }
}
