//! The distribution of a model's hidden units' mean activations, with the
//! target ρ marked.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, frame, legend, line_key, mesh, tick, Figure, Frame, COLORS};

/// A histogram of the hidden units' mean activations with the target ρ.
#[derive(Debug, Clone)]
pub struct ActivationHistogram {
    /// Figure title.
    pub title: String,
    /// ρ̂_j of every unit.
    pub values: Vec<f64>,
    /// The target ρ.
    pub rho: Option<f64>,
}

impl Figure for ActivationHistogram {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn is_empty(&self) -> bool {
        !self.values.iter().any(|v| v.is_finite())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        const BINS: usize = 40;
        let top = self
            .values
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(self.rho.unwrap_or(0.0) * 2.0, f64::max)
            .min(1.0);
        let width = top / BINS as f64;
        let mut counts = [0usize; BINS];
        for &v in self.values.iter().filter(|v| v.is_finite()) {
            counts[((v / width) as usize).min(BINS - 1)] += 1;
        }
        let ymax = *counts.iter().max().unwrap_or(&1) as f64 * 1.12 + 1.0;
        let mut chart = frame(root, Frame::Full, &self.title, 0.0..top, 0.0..ymax)?;
        mesh(&mut chart, "mean activation of a hidden unit over the test set (rho-hat)", "hidden units", 14)
            .x_label_formatter(&|v| tick(*v, false))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &n)| {
                let x = i as f64 * width;
                Rectangle::new([(x, 0.0), (x + width * 0.92, n as f64)], COLORS[0].filled())
            }))
            .map_err(err)?;
        let Some(rho) = self.rho else { return Ok(()) };
        chart
            .draw_series(LineSeries::new([(rho, 0.0), (rho, ymax)], COLORS[3].stroke_width(3)))
            .map_err(err)?
            .label(format!("target ρ = {rho}"))
            .legend(line_key(COLORS[3]));
        legend(&mut chart, 14, SeriesLabelPosition::UpperRight)
    }
}
