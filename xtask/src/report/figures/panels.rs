//! Test metrics against one numeric swept parameter: a panel per metric, a
//! line per value of the other swept parameters, error bars over seeds, and
//! the baselines as dashed grey lines.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    along, err, extent, frame, legend, legend_place, line_key, mesh, padded, publish, tick, value_range, Chart, Figure,
    Frame, COLORS, FONT,
};
use crate::report::axes::{self, config_label};
use crate::report::table::{baseline_of, heading};
use crate::report::{Inputs, PANEL_METRICS};
use sae_sweep::ConfigSummary;
use sae_sweep::{BaselineKind as Baseline, Metric};
use sae_sweep::{Param, Strategy};

/// The colour of a baseline shared by every line: dark grey.
const SHARED_REFERENCE: RGBColor = RGBColor(70, 70, 70);

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
    /// The baselines' lines, drawn dashed.
    pub references: Vec<Reference>,
}

/// A baseline's line in a panel: dashed, with a marker of its kind, in the
/// colour of the line it belongs to, or grey where it serves every line.
#[derive(Debug, Clone)]
pub struct Reference {
    /// Legend entry (one per name) and points (no error bars).
    pub series: Series,
    /// Its marker: a triangle when true, a cross otherwise.
    pub triangle: bool,
    /// The index of the line it belongs to, or `None` for all of them.
    pub line: Option<usize>,
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
    /// Points alone, no lines, x labelled by ordinary ticks: a random
    /// search's trials, each at its own drawn value.
    pub scatter: bool,
}

/// The figure of every metric in [`PANEL_METRICS`] against swept axis `x`,
/// with the baselines of the metrics that have them; returns its markdown.
pub fn metrics_against(inp: &Inputs<'_>, x: Param, fig_dir: &Path) -> Result<String> {
    let scatter = inp.experiment.search.strategy == Strategy::Random;
    let others: Vec<Param> = inp.axes.iter().copied().filter(|a| *a != x && !scatter).collect();
    let mut lines: Vec<(String, Vec<&ConfigSummary<'_>>)> = Vec::new();
    for g in inp.groups.iter().filter(|g| !g.ok.is_empty()) {
        let key = if others.is_empty() { String::new() } else { config_label(&others, g.first) };
        match lines.iter_mut().find(|l| l.0 == key) {
            Some(l) => l.1.push(g),
            None => lines.push((key, vec![g])),
        }
    }
    lines.iter_mut().for_each(|l| l.1.sort_by(|a, b| axes::value(x, a.first).total_cmp(&axes::value(x, b.first))));
    let series = |metric: Metric| -> Vec<Series> {
        lines
            .iter()
            .map(|(name, gs)| Series {
                name: if name.is_empty() { "runs".into() } else { name.clone() },
                points: gs
                    .iter()
                    .filter_map(|g| g.stat(metric).map(|(mean, sd)| (axes::value(x, g.first), mean, sd)))
                    .filter(|p| p.0.is_finite() && p.1.is_finite())
                    .collect(),
            })
            .collect()
    };
    let panels = PANEL_METRICS
        .iter()
        .map(|&m| {
            // A trial's baseline follows its own width: only levels shared by every trial are drawn.
            let mut references = references(inp, &lines, x, m);
            references.retain(|r| !scatter || r.series.points.windows(2).all(|w| w[0].1 == w[1].1));
            Panel { title: heading(m, inp.rows), series: series(m), references }
        })
        .filter(|p| p.series.iter().any(|s| !s.points.is_empty()))
        .collect();
    let fig = Panels {
        title: format!("Test metrics against {}", x.def().key),
        x_label: x.axis_title(),
        log_x: axes::log(x),
        panels,
        legend_title: others.iter().map(|a| a.def().key).collect::<Vec<_>>().join(", "),
        scatter,
    };
    let what = if scatter { "; one dot per trial, the other drawn parameters varying too" } else { "" };
    let caption = format!(
        "Test metrics against {}; error bars: ±1 std over seeds; dashed: the baselines scored on the same test images \
         (grey where one serves every line, else in the colour of its line){what}",
        x.def().key
    );
    publish(&fig, fig_dir, &format!("metrics_vs_{}", x.def().key), &caption)
}

/// The baselines of `metric` along each line: a level where the baseline is
/// the same for the whole line, a line where it changes (PCA with the
/// width); drawn once, in grey, where every line has the same.
fn references(
    inp: &Inputs<'_>,
    lines: &[(String, Vec<&ConfigSummary<'_>>)],
    x: Param,
    metric: Metric,
) -> Vec<Reference> {
    let mut out = Vec::new();
    for kind in [Baseline::Input, Baseline::Pca, Baseline::Pixels] {
        let mut per_line: Vec<(usize, Series)> = Vec::new();
        for (k, (_, gs)) in lines.iter().enumerate() {
            let found: Vec<_> =
                gs.iter().filter_map(|g| Some((g, baseline_of(&inp.baselines, kind, g.first)?))).collect();
            let points: Vec<(f64, f64, Option<f64>)> = found
                .iter()
                .filter_map(|(g, b)| b.metric(metric).map(|v| (axes::value(x, g.first), v, None)))
                .collect();
            if points.is_empty() {
                continue;
            }
            let widths: Vec<usize> = found.iter().map(|(_, b)| b.hidden).collect();
            let name = match kind {
                Baseline::Input => "corrupted input".to_string(),
                Baseline::Pca if widths.iter().all(|&h| h == widths[0]) => format!("PCA, top {} components", widths[0]),
                Baseline::Pca => "PCA, top H components".to_string(),
                Baseline::Pixels => "raw pixels".to_string(),
            };
            per_line.push((k, Series { name, points }));
        }
        let shared = !per_line.is_empty()
            && per_line.len() == lines.len()
            && per_line.iter().all(|l| l.1.points == per_line[0].1.points);
        let triangle = kind == Baseline::Input;
        if shared {
            out.push(Reference { series: per_line.swap_remove(0).1, triangle, line: None });
        } else {
            out.extend(per_line.into_iter().map(|(k, series)| Reference { series, triangle, line: Some(k) }));
        }
    }
    out
}

/// Where `x` sits on the axis: `log10 x` on a log axis, where zero (β = 0,
/// say) goes one decade below the smallest positive value (below 1 when
/// no value is positive: a sweep whose only successful weight is 0).
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

    fn is_empty(&self) -> bool {
        self.panels.is_empty()
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
        let min_positive = if min_positive.is_finite() { min_positive } else { 1.0 };
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
        let refs = panel.references.iter().map(|r| &r.series);
        let pts = || panel.series.iter().chain(refs.clone()).flat_map(|s| s.points.iter());
        let (Some((xlo, xhi)), Some((ylo, yhi))) = (
            extent(pts().map(|p| tx(p.0))),
            extent(pts().flat_map(|p| [p.1 - p.2.unwrap_or(0.0), p.1 + p.2.unwrap_or(0.0)])),
        ) else {
            return Ok(());
        };
        let (xr, yr) = (padded(xlo, xhi)?, value_range(ylo, yhi)?);
        let lines = panel.series.iter().chain(refs.clone());
        let drawn: Vec<(f64, f64)> =
            lines.flat_map(|s| along(&s.points.iter().map(|p| (tx(p.0), p.1)).collect::<Vec<_>>())).collect();
        let entries = panel.series.len() + panel.references.len();
        let corner = legend_place(drawn, &xr, &yr, (0.5, (0.08 * entries as f64 + 0.05).min(0.9)));
        let mut chart = frame(area, Frame::Panel, &panel.title, xr.clone(), yr.clone())?;
        mesh(&mut chart, &self.x_label, "", 14)
            .x_labels(if self.scatter { 6 } else { 0 })
            .x_label_formatter(&|v| tick(*v, self.log_x))
            .y_labels(6)
            .y_label_formatter(&|v| tick(*v, false))
            .disable_x_mesh()
            .draw()
            .map_err(err)?;
        if !self.scatter {
            label_values(area, &chart, pts().map(|p| (tx(p.0), p.0)).collect(), yr.start)?;
        }
        let with_legend = with_legend && (panel.series.len() > 1 || !panel.references.is_empty());
        draw_references(&mut chart, &panel.references, with_legend, &tx)?;
        draw_lines(&mut chart, &panel.series, with_legend && !self.scatter, self.scatter, &tx)?;
        if with_legend {
            legend(&mut chart, 13, corner)?;
        }
        Ok(())
    }
}

/// Labels the swept values themselves under the x axis of `chart` (at
/// `y0`), each under a tick of its own: `marks` holds each value's position
/// on the axis and the value.
fn label_values<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    mut marks: Vec<(f64, f64)>,
    y0: f64,
) -> Result<()> {
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    marks.dedup();
    let base = area.get_base_pixel();
    let font = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (at, value) in marks {
        let (x, y) = chart.backend_coord(&(at, y0));
        let (x, y) = (x - base.0, y - base.1);
        area.draw(&PathElement::new(vec![(x, y), (x, y + 4)], BLACK.stroke_width(1))).map_err(err)?;
        area.draw(&Text::new(tick(value, false), (x, y + 7), font.clone())).map_err(err)?;
    }
    Ok(())
}

/// Draws each of `series` as a line of its colour (dots alone when
/// `scatter`) with a dot and an error bar at each point, named in the
/// legend when `with_legend`.
fn draw_lines<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    series: &[Series],
    with_legend: bool,
    scatter: bool,
    tx: &impl Fn(f64) -> f64,
) -> Result<()> {
    for (k, s) in series.iter().enumerate() {
        let color = COLORS[k % COLORS.len()];
        let line = s.points.iter().map(|p| (tx(p.0), p.1)).filter(|_| !scatter);
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
    Ok(())
}

/// Draws `refs` dashed, each with its kind's marker and its value at its
/// right end, and names each kind once in the legend when `with_legend`.
fn draw_references<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    refs: &[Reference],
    with_legend: bool,
    tx: &impl Fn(f64) -> f64,
) -> Result<()> {
    let mut named: Vec<&str> = Vec::new();
    for r in refs {
        let color = r.line.map_or(SHARED_REFERENCE, |k| COLORS[k % COLORS.len()]);
        let style = color.stroke_width(2);
        let points = || r.series.points.iter().map(|p| (tx(p.0), p.1));
        let drawn = chart.draw_series(DashedLineSeries::new(points(), 10, 6, style)).map_err(err)?;
        if with_legend && !named.contains(&r.series.name.as_str()) {
            named.push(&r.series.name);
            let key = if r.line.is_some() { BLACK.stroke_width(2) } else { style };
            let triangle = r.triangle;
            drawn.label(&r.series.name).legend(move |(x, y)| {
                let marker: DynElement<'static, _, _> = if triangle {
                    TriangleMarker::new((10, 0), 5, key).into_dyn()
                } else {
                    Cross::new((10, 0), 4, key).into_dyn()
                };
                EmptyElement::at((x, y))
                    + PathElement::new(vec![(0, 0), (6, 0)], key)
                    + PathElement::new(vec![(14, 0), (20, 0)], key)
                    + marker
            });
        }
        if r.triangle {
            chart.draw_series(points().map(|p| TriangleMarker::new(p, 5, style))).map_err(err)?;
        } else {
            chart.draw_series(points().map(|p| Cross::new(p, 4, style))).map_err(err)?;
        }
        // The baseline's value, above its right end.
        if let Some(&(x, y, _)) = r.series.points.last() {
            let font = TextStyle::from((FONT, 12).into_font()).color(&color).pos(Pos::new(HPos::Right, VPos::Bottom));
            chart.draw_series(std::iter::once(Text::new(tick(y, false), (tx(x), y), font))).map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::save;
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
                series: vec![series.clone(), Series { name: "b".into(), ..series.clone() }],
                references: vec![Reference {
                    series: Series { name: "level".into(), points: vec![(0.0, 0.5, None), (10.0, 0.5, None)] },
                    triangle: true,
                    line: None,
                }],
            }],
            legend_title: "x".into(),
            scatter: false,
        };
        let dir = tempfile::tempdir().unwrap();
        save(&fig, dir.path(), "zero").unwrap();
        assert!(std::fs::metadata(dir.path().join("zero.png")).unwrap().len() > 1000);
    }
}
