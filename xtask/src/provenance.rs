//! How a sweep's results were produced (command, experiment file, dataset,
//! git revision, machine, date), saved beside them so a report can say it
//! and a reader can redo it.

use std::path::Path;
use std::process::Command;
use std::time::SystemTime;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The file, in an experiment's results folder.
pub const PROVENANCE_FILE: &str = "provenance.json";

/// The facts a reader needs to redo a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The command line, as typed.
    pub command: String,
    /// The experiment file it ran.
    pub experiment_file: String,
    /// Dataset name and the folder it was read from.
    pub dataset: String,
    /// `git describe`-style revision of the code, `-dirty` when modified.
    pub git_revision: String,
    /// Host, CPU model and core count.
    pub machine: String,
    /// When the sweep ran: UTC, RFC 3339 to the second.
    pub date_utc: String,
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The current revision of the working tree, or `unknown` outside git.
pub fn git_revision() -> String {
    let Some(rev) = output("git", &["rev-parse", "--short=12", "HEAD"]) else {
        return "unknown (not a git checkout)".into();
    };
    let dirty = output("git", &["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty {
        format!("{rev}-dirty")
    } else {
        rev
    }
}

/// Host name, CPU model and logical cores.
pub fn machine() -> String {
    let host = output("hostname", &[]).unwrap_or_else(|| "unknown host".into());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{host}: {cpu}, {cores} cores, {}", std::env::consts::OS)
}

/// The current time in UTC, as RFC 3339 to the second (`2001-09-09T01:46:40Z`).
pub fn now_utc() -> String {
    utc(SystemTime::now())
}

/// `time` in UTC, as RFC 3339 to the second.
fn utc(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

impl Provenance {
    /// Reads the provenance saved in `dir`, if any.
    pub fn load(dir: &Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(dir.join(PROVENANCE_FILE)).ok()?).ok()
    }

    /// Saves it in `dir`, atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).expect("provenance serialises");
        sae_data::write_atomic(&dir.join(PROVENANCE_FILE), &bytes).context("saving provenance")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn utc_dates_match_known_instants() {
        let at = |secs| utc(UNIX_EPOCH + std::time::Duration::from_secs(secs));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(1_000_000_000), "2001-09-09T01:46:40Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
    }
}
