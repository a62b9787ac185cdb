//! `sweep --dry-run`: every run of an experiment with its stored state,
//! without training anything.

use std::path::Path;

use anyhow::Context as _;

use sae_sweep::{ExperimentFile, RunSpec, RunState, Shard, Snapshot};

use crate::Outcome;

/// Prints every run of the grid (or of the shard) with its stored state,
/// and why a damaged one will be redone. The listing is the command's
/// output: a write error (a full disk) is an error, a closed pipe is not.
pub fn dry_run(file: &ExperimentFile, results: &Path, shard: Option<Shard>) -> Outcome {
    use std::io::Write as _;
    let dir = sae_sweep::ResultsDir::new(results, &file.name);
    dir.check_owner(file)?;
    let mut out = std::io::stdout().lock();
    let grid = file.experiment.expand();
    let results = Snapshot::new(dir.clone(), &grid);
    let halving = file.experiment.search.halving(file.experiment.training.epochs.0);
    let stopped = halving.as_ref().map(|h| sae_sweep::stopped_runs(&results, &grid, h)).unwrap_or_default();
    let mut listing = || -> std::io::Result<()> {
        for spec in grid.iter().filter(|r| halving.is_some() || shard.is_none_or(|s| s.contains(r))) {
            if let Some(rung) = spec.rung {
                write!(out, "rung {rung}  ")?;
            }
            if stopped.contains(&spec.id) {
                writeln!(out, "{:>4}  {:<8} {}", spec.index, "stopped", spec.id)?;
                continue;
            }
            let former = dir.former_folder(spec);
            let note = former.as_ref().map(|f| format!("  (stored as {f}; a sweep renames it)")).unwrap_or_default();
            let seen = former.map(|f| dir.state(&RunSpec { id: f, ..spec.clone() }));
            match seen.as_ref().unwrap_or_else(|| results.state(spec)) {
                RunState::Damaged(why) => writeln!(out, "{:>4}  {:<8} {}  ({why})", spec.index, "damaged", spec.id)?,
                state => writeln!(out, "{:>4}  {:<8} {}{note}", spec.index, state.label(), spec.id)?,
            }
        }
        out.flush()
    };
    match listing() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing the listing to stdout"),
        _ => Ok(true),
    }
}
