//! Before any run of a sweep starts: every device its runs ask for opens,
//! and when candle trains on the CPU, candle's threads are limited to the
//! runs' `threads` so that `--jobs` runs do not oversubscribe the cores.

use sae_core::{limit_candle_cpu_threads, EngineKind};

use crate::{RunSpec, SweepError};

/// Opens each distinct device of `runs` once and fixes candle's CPU thread
/// count when any run trains with candle on the CPU.
///
/// # Errors
/// [`SweepError::Core`] naming the `device` setting (and, for CUDA in a
/// build without it, the `cuda` feature), or two different `threads`
/// among the candle runs.
pub fn prepare_engines(runs: &[&RunSpec]) -> Result<(), SweepError> {
    let mut opened = Vec::new();
    for t in runs.iter().map(|r| &r.config.training) {
        if !opened.contains(&t.device) {
            t.device.open()?;
            opened.push(t.device);
        }
        if t.device.is_cpu() && t.engine == EngineKind::Candle {
            limit_candle_cpu_threads(t.threads.0)?;
        }
    }
    Ok(())
}
