//! Validation MSE after every epoch, one line per run, on a log scale.

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::panels::Series;
use super::{
    along, err, extent, frame, legend, legend_place, line_key, mesh, padded, publish, tick, Figure, Frame, COLORS,
};
use crate::report::axes::{self, config_label};
use crate::report::Inputs;
use sae_sweep::Status;

/// Validation curves of every run.
#[derive(Debug, Clone)]
pub struct Curves {
    /// Figure title.
    pub title: String,
    /// One line per run: `(epoch, value, None)`, and its colour index.
    pub series: Vec<(Series, usize)>,
    /// y-axis label.
    pub y_label: String,
    /// Epochs marked by dotted vertical lines (a search's rungs).
    pub marks: Vec<f64>,
}

/// The validation curves of every successful run, coloured by the first
/// swept parameter; returns the report's training section.
pub fn validation_curves(inp: &Inputs<'_>, fig_dir: &std::path::Path) -> Result<String> {
    let first = inp.axes.first().copied();
    let mut keys: Vec<String> = Vec::new();
    let mut series = Vec::new();
    for row in inp.rows.iter().filter(|r| r.status == Status::Ok) {
        let curve = &inp.stored(&row.run_id)?.curve;
        let key = first.map(|a| axes::text(a, row)).unwrap_or_default();
        let c = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
            keys.push(key);
            keys.len() - 1
        });
        let name = format!("{} s{}", config_label(&inp.axes, row), row.config.training.seed);
        let points = curve.iter().filter(|p| p.val_mse > 0.0 && p.val_mse.is_finite());
        series.push((Series { name, points: points.map(|p| (p.epoch as f64, p.val_mse, None)).collect() }, c));
    }
    let fig = Curves {
        title: "Validation MSE during training".into(),
        series,
        y_label: "validation MSE (log scale)".into(),
        marks: Vec::new(),
    };
    let caption = "Validation MSE after every epoch, one line per run";
    Ok(format!("\n## Training\n{}", publish(&fig, fig_dir, "validation_curves", caption)?))
}

impl Figure for Curves {
    fn size(&self) -> (u32, u32) {
        (1100, 700)
    }

    fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.0.points.is_empty())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let pts = || self.series.iter().flat_map(|s| s.0.points.iter());
        let xmax = pts().map(|p| p.0).fold(1.0, f64::max);
        let (ylo, yhi) = extent(pts().map(|p| p.1)).unwrap_or((f64::NAN, f64::NAN));
        let (x, y) = (0.5..xmax + 0.5, padded(ylo.log10(), yhi.log10())?);
        let drawn =
            self.series.iter().flat_map(|s| along(&s.0.points.iter().map(|p| (p.0, p.1.log10())).collect::<Vec<_>>()));
        let mut distinct: Vec<&str> = self.series.iter().map(|s| s.0.name.as_str()).collect();
        distinct.dedup();
        let entries = if distinct.len() <= 12 { distinct.len() } else { 0 };
        let corner = legend_place(drawn, &x, &y, (0.3, (0.045 * entries as f64 + 0.05).min(0.9)));
        let mut chart = frame(root, Frame::Full, &self.title, x, y)?;
        mesh(&mut chart, "epoch", &self.y_label, 15)
            // Epochs are whole: ticks between them go unlabelled.
            .x_label_formatter(&|v| if v.fract().abs() < 1e-9 { format!("{v:.0}") } else { String::new() })
            .y_label_formatter(&|v| tick(*v, true))
            .draw()
            .map_err(err)?;
        for &m in &self.marks {
            let (lo, hi) = (chart.y_range().start, chart.y_range().end);
            chart.draw_series(DashedLineSeries::new([(m, lo), (m, hi)], 3, 5, BLACK.mix(0.4).into())).map_err(err)?;
        }
        let mut names: Vec<&str> = self.series.iter().map(|s| s.0.name.as_str()).collect();
        names.dedup();
        let show_legend = names.len() <= 12;
        let mut named: Vec<&str> = Vec::new();
        for (s, c) in &self.series {
            let color = COLORS[c % COLORS.len()];
            if !self.marks.is_empty() {
                // A trial stopped at the first rung has a single point.
                let dots = s.points.iter().map(|p| Circle::new((p.0, p.1.log10()), 3, color.filled()));
                chart.draw_series(dots).map_err(err)?;
            }
            let drawn = chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1.log10())), color.stroke_width(2)))
                .map_err(err)?;
            if show_legend && !named.contains(&s.name.as_str()) {
                named.push(&s.name);
                drawn.label(&s.name).legend(line_key(color));
            }
        }
        if show_legend {
            legend(&mut chart, 13, corner)?;
        }
        Ok(())
    }
}
