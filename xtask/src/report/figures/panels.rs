//! Test metrics against one numeric swept parameter: a panel per metric, a
//! line per value of the other swept parameters, error bars over seeds, and
//! the baselines as dashed grey lines; a metric the same for every run is
//! named in the caption instead of drawn.

use std::ops::Range;
use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::offscale::{fitted_range, Fit};
use super::references::{draw_references, references, Reference};
use super::{
    along, err, extent, frame, legend, legend_place, line_key, mesh, padded, publish, tick, Chart, Figure, Frame,
    COLORS, FONT,
};
use crate::report::axes::{self, config_label};
use crate::report::table::heading;
use crate::report::{Inputs, PANEL_METRICS};
use sae_sweep::ConfigSummary;
use sae_sweep::Metric;
use sae_sweep::{Param, Strategy};

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
    let (panels, constant) = leave_out_constant(panels);
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
         (grey where one serves every line, else in the colour of its line), or named at the edge with its value \
         where it lies far off the runs' range{what}{constant}",
        x.def().key
    );
    publish(&fig, fig_dir, &format!("metrics_vs_{}", x.def().key), &caption)
}

/// `panels` less those whose metric is the same for every run drawn (at
/// least two points), and a sentence naming each one left out with its
/// value; all of them when every panel would go.
fn leave_out_constant(panels: Vec<Panel>) -> (Vec<Panel>, String) {
    let level = |p: &Panel| {
        let mut values = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1));
        let first = values.next()?;
        let (same, count) =
            values.fold((true, 1), |(same, n), v| (same && (v - first).abs() <= 1e-9 * first.abs().max(1.0), n + 1));
        (same && count > 1).then_some(first)
    };
    if panels.iter().all(|p| level(p).is_some()) {
        return (panels, String::new());
    }
    let (constant, kept): (Vec<Panel>, Vec<Panel>) = panels.into_iter().partition(|p| level(p).is_some());
    let named: Vec<String> =
        constant.iter().map(|p| format!("{} = {}", p.title, tick(level(p).unwrap_or(f64::NAN), false))).collect();
    let note = if named.is_empty() {
        String::new()
    } else {
        format!(". Not drawn, the same for every run: {}", named.join("; "))
    };
    (kept, note)
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
        let tx = |x| axis_position(x, self.log_x, min_positive);
        // The legend goes where it names the most: the lines and the baselines drawn on the axis.
        let mut entries = Vec::new();
        for p in &self.panels {
            entries.push(ranges(p, &tx)?.map_or(0, |r| legend_entries(p, &r.fits)));
        }
        let keyed = (0..entries.len()).filter(|&i| entries[i] > 1).min_by_key(|&i| (usize::MAX - entries[i], i));
        for (i, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            self.draw_panel(panel, area, keyed == Some(i), &tx)?;
        }
        let Some(keyed) = keyed.filter(|_| self.panels.iter().any(|p| p.series.len() > 1)) else { return Ok(()) };
        if self.legend_title.is_empty() {
            return Ok(());
        }
        root.draw(&Text::new(
            format!("lines: {} (legend in the panel “{}”)", self.legend_title, self.panels[keyed].title),
            (12, 4),
            (FONT, 14).into_font().color(&BLACK.mix(0.7)),
        ))
        .map_err(err)
    }
}

impl Panels {
    /// Draws one panel, with the figure's legend when `with_legend`; `tx`
    /// places x values.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
        with_legend: bool,
        tx: &impl Fn(f64) -> f64,
    ) -> Result<()> {
        let Some(Ranges { x: xr, y: yr, fits }) = ranges(panel, tx)? else { return Ok(()) };
        let refs = panel.references.iter().map(|r| &r.series);
        let pts = || panel.series.iter().chain(refs.clone()).flat_map(|s| s.points.iter());
        let inside = panel.references.iter().zip(&fits).filter(|(_, f)| **f == Fit::Inside).map(|(r, _)| &r.series);
        let drawn: Vec<(f64, f64)> = panel
            .series
            .iter()
            .chain(inside)
            .flat_map(|s| along(&s.points.iter().map(|p| (tx(p.0), p.1)).collect::<Vec<_>>()))
            .collect();
        let entries = legend_entries(panel, &fits);
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
        draw_references(&mut chart, &panel.references, &fits, with_legend, tx)?;
        draw_lines(&mut chart, &panel.series, with_legend && !self.scatter, self.scatter, tx)?;
        if with_legend {
            legend(&mut chart, 13, corner)?;
        }
        Ok(())
    }
}

/// The axes of a panel and where its baselines lie against them.
struct Ranges {
    /// x, from every point.
    x: Range<f64>,
    /// y, from the runs alone (see [`fitted_range`]).
    y: Range<f64>,
    /// Where each baseline lies against `y`.
    fits: Vec<Fit>,
}

/// The [`Ranges`] of `panel`, its x values placed by `tx`; `None` when the
/// panel has no point.
fn ranges(panel: &Panel, tx: &impl Fn(f64) -> f64) -> Result<Option<Ranges>> {
    let refs = panel.references.iter().map(|r| &r.series);
    let xs = panel.series.iter().chain(refs).flat_map(|s| s.points.iter().map(|p| tx(p.0)));
    let runs = panel.series.iter().flat_map(|s| s.points.iter());
    let (Some((xlo, xhi)), Some(ys)) =
        (extent(xs), extent(runs.flat_map(|p| [p.1 - p.2.unwrap_or(0.0), p.1 + p.2.unwrap_or(0.0)])))
    else {
        return Ok(None);
    };
    let levels: Vec<(f64, f64)> = panel.references.iter().map(|r| r.extent().unwrap_or(ys)).collect();
    let (yr, fits) = fitted_range(ys, &levels)?;
    Ok(Some(Ranges { x: padded(xlo, xhi)?, y: yr, fits }))
}

/// The entries a legend of `panel` holds: its lines, and each kind of
/// baseline that `fits` draws on its axis once.
fn legend_entries(panel: &Panel, fits: &[Fit]) -> usize {
    let mut names: Vec<&str> = Vec::new();
    for (r, _) in panel.references.iter().zip(fits).filter(|(_, f)| **f == Fit::Inside) {
        if !names.contains(&r.series.name.as_str()) {
            names.push(&r.series.name);
        }
    }
    panel.series.len() + names.len()
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

    #[test]
    fn a_metric_the_same_for_every_run_is_named_not_drawn() {
        let panel = |title: &str, values: [f64; 3]| Panel {
            title: title.into(),
            series: vec![Series {
                name: "runs".into(),
                points: values.iter().enumerate().map(|(x, &y)| (x as f64, y, None)).collect(),
            }],
            references: Vec::new(),
        };
        let (kept, note) = leave_out_constant(vec![
            panel("MSE", [0.06, 0.05, 0.052]),
            panel("L0", [256.0; 3]),
            panel("dead", [0.0; 3]),
        ]);
        assert_eq!(kept.iter().map(|p| p.title.as_str()).collect::<Vec<_>>(), ["MSE"]);
        assert_eq!(note, ". Not drawn, the same for every run: L0 = 256; dead = 0");
        // A single run, or every panel alike, leaves everything drawn.
        let one = |title: &str| Panel {
            series: vec![Series { name: "a".into(), points: vec![(0.0, 256.0, None)] }],
            ..panel(title, [0.0; 3])
        };
        let (kept, note) = leave_out_constant(vec![one("L0"), one("MSE")]);
        assert_eq!((kept.len(), note.as_str()), (2, ""));
        assert_eq!(leave_out_constant(vec![panel("L0", [256.0; 3]), panel("dead", [0.0; 3])]).0.len(), 2);
    }
}
