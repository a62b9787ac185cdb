//! Before any run of a sweep starts: every device its runs ask for opens,
//! bf16 runs find the fast engine and the instructions they need, and when
//! candle trains on the CPU, candle's threads are limited to the runs'
//! `threads` so that `--jobs` runs do not oversubscribe the cores.

use sae_core::{check_engine_precision, limit_candle_cpu_threads, EngineKind};

use crate::{RunSpec, SweepError};

/// Opens each distinct device of `runs` once, checks each run's
/// `precision` against its engine and this machine, and fixes candle's
/// CPU thread count when any run trains with candle on the CPU.
///
/// # Errors
/// [`SweepError::Engines`] naming the device (and, for CUDA in a
/// build without it, the `cuda` feature), the precision (bf16 with the
/// candle engine, or on a CPU without AMX-BF16), or two different thread
/// counts among the candle runs.
pub fn prepare_engines(runs: &[&RunSpec]) -> Result<(), SweepError> {
    let mut opened = Vec::new();
    for t in runs.iter().map(|r| &r.config.training) {
        if !opened.contains(&t.device) {
            t.device.open().map_err(SweepError::Engines)?;
            opened.push(t.device);
        }
        check_engine_precision(t.engine, t.device, t.precision).map_err(SweepError::Engines)?;
        if t.device.is_cpu() && t.engine == EngineKind::Candle {
            limit_candle_cpu_threads(t.threads.0).map_err(SweepError::Engines)?;
        }
    }
    Ok(())
}
