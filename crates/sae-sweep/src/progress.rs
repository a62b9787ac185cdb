//! Sweep progress: on a terminal, a bar per running run and an overall bar
//! with ETA; otherwise one plain line per finished run.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use sae_core::CurvePoint;

use crate::{RunRecord, RunSpec, Status};

/// Writes `line` to stderr, ignoring failure: a closed or broken stderr
/// (`cargo xtask sweep ... 2>&1 | head -1`) must never stop training.
pub fn note(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars redrawn in place (for a terminal).
    Bars,
    /// One line per finished run on stderr (for logs and pipes).
    Lines,
    /// Nothing (for tests).
    Quiet,
}

/// The progress display of one sweep.
#[derive(Debug)]
pub struct Progress {
    mode: ProgressMode,
    multi: MultiProgress,
    overall: ProgressBar,
}

/// The display of one running run.
#[derive(Debug)]
pub struct RunProgress<'a> {
    sweep: &'a Progress,
    bar: ProgressBar,
    id: String,
}

impl Progress {
    /// A display for `total` runs.
    pub fn new(mode: ProgressMode, total: usize) -> Self {
        let target =
            if mode == ProgressMode::Bars { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] {pos}/{len} runs  {elapsed_precise} (ETA {eta})")
                .expect("valid template")
                .progress_chars("=> "),
        );
        overall.set_prefix("sweep");
        overall.enable_steady_tick(Duration::from_millis(500));
        Self { mode, multi, overall }
    }

    /// Prints a line above the bars (or plainly).
    pub fn println(&self, line: &str) {
        match self.mode {
            ProgressMode::Bars => self.multi.println(line).unwrap_or(()),
            ProgressMode::Lines => note(line),
            ProgressMode::Quiet => {}
        }
    }

    /// Starts the display of `spec`.
    pub fn start(&self, spec: &RunSpec) -> RunProgress<'_> {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(spec.config.training.epochs.0 as u64));
        bar.set_style(
            ProgressStyle::with_template("{prefix:>8} [{bar:30}] epoch {pos}/{len}  {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("#{}", spec.index));
        bar.set_message(spec.id.clone());
        RunProgress { sweep: self, bar, id: spec.id.clone() }
    }

    /// Counts `spec` as finished without training it, saying why.
    pub fn skip(&self, spec: &RunSpec, why: &str) {
        self.overall.inc(1);
        self.println(&format!("skipped {}: {why}", spec.id));
    }

    /// Clears the bars.
    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}

impl RunProgress<'_> {
    /// Records a finished epoch.
    pub fn epoch(&self, p: &CurvePoint) {
        self.bar.set_position(p.epoch as u64);
        self.bar.set_message(format!("{}  val mse {:.4}", self.id, p.val_mse));
    }

    /// Records the end of the run.
    pub fn finish(self, spec: &RunSpec, record: &RunRecord) {
        self.bar.finish_and_clear();
        self.sweep.multi.remove(&self.bar);
        self.sweep.overall.inc(1);
        let line = match (record.status, &record.test) {
            (Status::Ok, Some(t)) => format!(
                "done   {} in {:.1} s: test mse {:.4}, psnr {:.2} dB, active {:.1}/image, {:.0} samples/s",
                spec.id,
                record.seconds,
                t.mse,
                t.psnr_db.unwrap_or(f64::NAN),
                t.active_per_image,
                record.samples_per_s
            ),
            _ => format!("FAILED {}: {}", spec.id, record.reason.as_deref().unwrap_or("unknown reason")),
        };
        self.sweep.println(&line);
    }
}
