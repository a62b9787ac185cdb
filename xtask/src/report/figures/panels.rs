//! Test metrics against one numeric swept parameter: a panel per metric, a
//! line per value of the other swept parameters, error bars over seeds.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, extent, figure_md, frame, legend, line_key, mesh, padded, save, tick, Figure, Frame, COLORS, FONT};
use crate::report::axes::{config_label, Axis};
use crate::report::{Inputs, PANEL_METRICS};
use sae_sweep::ConfigSummary;

/// A line of points `(x, mean, std)`.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// Points in x order; the third value draws an error bar of ±std.
    pub points: Vec<(f64, f64, Option<f64>)>,
}

/// One panel of a [`Panels`] figure.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Panel title (the metric).
    pub title: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// A grid of panels sharing one x axis: metrics against a swept parameter.
#[derive(Debug, Clone)]
pub struct Panels {
    /// Figure title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// Whether x is on a log scale.
    pub log_x: bool,
    /// The panels, drawn three to a row.
    pub panels: Vec<Panel>,
    /// Title of the legend (the parameter lines stand for).
    pub legend_title: String,
}

/// The figure of every metric in [`PANEL_METRICS`] against swept axis `x`;
/// returns its markdown.
pub fn metrics_against(inp: &Inputs<'_>, x: Axis, fig_dir: &Path) -> Result<String> {
    let others: Vec<Axis> = inp.axes.iter().copied().filter(|a| *a != x).collect();
    let mut lines: Vec<(String, Vec<&ConfigSummary<'_>>)> = Vec::new();
    for g in &inp.groups {
        let key = if others.is_empty() { String::new() } else { config_label(&others, g.first) };
        match lines.iter_mut().find(|l| l.0 == key) {
            Some(l) => l.1.push(g),
            None => lines.push((key, vec![g])),
        }
    }
    let series = |metric: &str| -> Vec<Series> {
        lines
            .iter()
            .map(|(name, gs)| {
                let mut points: Vec<(f64, f64, Option<f64>)> =
                    gs.iter().filter_map(|g| g.stat(metric).map(|(mean, sd)| (x.value(g.first), mean, sd))).collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                Series { name: if name.is_empty() { "runs".into() } else { name.clone() }, points }
            })
            .collect()
    };
    let panels = PANEL_METRICS.iter().map(|(m, title)| Panel { title: title.to_string(), series: series(m) }).collect();
    let stem = format!("metrics_vs_{}", x.key());
    let fig = Panels {
        title: format!("Test metrics against {}", x.key()),
        x_label: x.label().into(),
        log_x: x.log(),
        panels,
        legend_title: others.iter().map(|a| a.key()).collect::<Vec<_>>().join(", "),
    };
    save(&fig, fig_dir, &stem)?;
    Ok(figure_md(&stem, &format!("Test metrics against {}; error bars: ±1 std over seeds", x.key())))
}

/// Where `x` sits on the axis: `log10 x` on a log axis, where zero (β = 0,
/// say) goes one decade below the smallest positive value.
fn axis_position(x: f64, log: bool, min_positive: f64) -> f64 {
    match (log, x > 0.0) {
        (false, _) => x,
        (true, true) => x.log10(),
        (true, false) => min_positive.log10() - 1.0,
    }
}

impl Figure for Panels {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(3) as u32;
        (1500, 90 + 400 * rows)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let root = root.titled(&self.title, (FONT, 26).into_font().style(FontStyle::Bold)).map_err(err)?;
        let areas = root.split_evenly((self.panels.len().div_ceil(3), 3));
        let min_positive = self
            .panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
            .filter(|x| *x > 0.0)
            .fold(f64::INFINITY, f64::min);
        for (i, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            self.draw_panel(panel, area, i == 0, |x| axis_position(x, self.log_x, min_positive))?;
        }
        if self.panels.iter().all(|p| p.series.len() <= 1) || self.legend_title.is_empty() {
            return Ok(());
        }
        root.draw(&Text::new(
            format!("lines: {} (legend in the first panel)", self.legend_title),
            (12, 4),
            (FONT, 14).into_font().color(&BLACK.mix(0.7)),
        ))
        .map_err(err)
    }
}

impl Panels {
    /// Draws one panel; `with_legend` for the first; `tx` places x values.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
        with_legend: bool,
        tx: impl Fn(f64) -> f64,
    ) -> Result<()> {
        let pts = || panel.series.iter().flat_map(|s| s.points.iter());
        let (Some((xlo, xhi)), Some((ylo, yhi))) = (
            extent(pts().map(|p| tx(p.0))),
            extent(pts().flat_map(|p| [p.1 - p.2.unwrap_or(0.0), p.1 + p.2.unwrap_or(0.0)])),
        ) else {
            return Ok(());
        };
        if ![xlo, xhi, ylo, yhi].iter().all(|v| v.is_finite()) {
            return Ok(());
        }
        let xr = padded(xlo, xhi)?;
        let mut chart = frame(area, Frame::Panel, &panel.title, xr.clone(), padded(ylo, yhi)?)?;
        // Label the swept values themselves: many candidate ticks, each
        // labelled only when it is the one nearest a swept value.
        let mut marks: Vec<(f64, f64)> = pts().map(|p| (tx(p.0), p.0)).collect();
        marks.sort_by(|a, b| a.0.total_cmp(&b.0));
        marks.dedup();
        const TICKS: usize = 80;
        let step = (xr.end - xr.start) / TICKS as f64;
        let label = |v: &f64| {
            let near = marks.iter().find(|m| (m.0 - v).abs() <= step / 2.0);
            near.map_or(String::new(), |m| tick(m.1, false))
        };
        mesh(&mut chart, &self.x_label, "", 14)
            .x_labels(TICKS)
            .y_labels(6)
            .x_label_formatter(&label)
            .y_label_formatter(&|v| tick(*v, false))
            .set_tick_mark_size(LabelAreaPosition::Bottom, 3)
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        let with_legend = with_legend && panel.series.len() > 1;
        for (k, s) in panel.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let line = s.points.iter().map(|p| (tx(p.0), p.1));
            let drawn = chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map_err(err)?;
            if with_legend {
                drawn.label(&s.name).legend(line_key(color));
            }
            chart.draw_series(s.points.iter().map(|p| Circle::new((tx(p.0), p.1), 4, color.filled()))).map_err(err)?;
            chart
                .draw_series(s.points.iter().filter_map(|p| {
                    p.2.map(|sd| ErrorBar::new_vertical(tx(p.0), p.1 - sd, p.1, p.1 + sd, color.stroke_width(1), 8))
                }))
                .map_err(err)?;
        }
        if with_legend {
            legend(&mut chart, 13)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_on_a_log_axis_sits_a_decade_below_and_renders() {
        assert_eq!(axis_position(0.0, true, 0.1), -2.0);
        assert_eq!(axis_position(10.0, true, 0.1), 1.0);
        let series =
            Series { name: "a".into(), points: vec![(0.0, 1.0, None), (0.1, 2.0, Some(0.1)), (10.0, 1.5, None)] };
        let fig = Panels {
            title: "t".into(),
            x_label: "β".into(),
            log_x: true,
            panels: vec![Panel {
                title: "p".into(),
                series: vec![series.clone(), Series { name: "b".into(), ..series }],
            }],
            legend_title: "x".into(),
        };
        let dir = tempfile::tempdir().unwrap();
        save(&fig, dir.path(), "zero").unwrap();
        assert!(std::fs::metadata(dir.path().join("zero.png")).unwrap().len() > 1000);
    }
}
