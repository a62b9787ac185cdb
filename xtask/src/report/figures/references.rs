//! The baselines in a metric panel: which ones each line has; those near
//! the runs drawn dashed with their values labelled apart from each other,
//! those far off the runs' range named at the edge they lie beyond.

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::offscale::{per_pixel, spread, Fit};
use super::panels::Series;
use super::{err, extent, tick, Chart, COLORS, FONT};
use crate::report::axes;
use crate::report::table::baseline_of;
use crate::report::Inputs;
use sae_sweep::ConfigSummary;
use sae_sweep::{BaselineKind as Baseline, Metric, Param};

/// The colour of a baseline shared by every line: dark grey.
const SHARED_REFERENCE: RGBColor = RGBColor(70, 70, 70);

/// The height of a row of baseline labels, in pixels.
const LABEL_ROW: f64 = 14.0;

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
impl Reference {
    /// Its colour: that of its line, or grey where it serves every line.
    fn color(&self) -> RGBColor {
        self.line.map_or(SHARED_REFERENCE, |k| COLORS[k % COLORS.len()])
    }

    /// Its lowest and highest value.
    pub fn extent(&self) -> Option<(f64, f64)> {
        extent(self.series.points.iter().map(|p| p.1))
    }
}

/// The baselines of `metric` along each line: a level where the baseline is
/// the same for the whole line, a line where it changes (PCA with the
/// width); drawn once, in grey, where every line has the same.
pub fn references(
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
/// Draws the baselines of `refs` that `fits` places on the axis dashed,
/// each with its kind's marker and its value at its right end (labels
/// moved apart where they would overlap), naming each kind once in the
/// legend when `with_legend`; names the others at the edge they lie beyond.
pub fn draw_references<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    refs: &[Reference],
    fits: &[Fit],
    with_legend: bool,
    tx: &impl Fn(f64) -> f64,
) -> Result<()> {
    let inside: Vec<&Reference> = refs.iter().zip(fits).filter(|(_, f)| **f == Fit::Inside).map(|p| p.0).collect();
    let mut named: Vec<&str> = Vec::new();
    for r in &inside {
        let key = with_legend && !named.contains(&r.series.name.as_str());
        if key {
            named.push(&r.series.name);
        }
        draw_reference(chart, r, key, tx)?;
    }
    label_levels(chart, &inside, tx)?;
    note_off_scale(chart, refs, fits)
}

/// Draws `r` dashed with its kind's marker, named in the legend when `key`.
fn draw_reference<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    r: &Reference,
    key: bool,
    tx: &impl Fn(f64) -> f64,
) -> Result<()> {
    let style = r.color().stroke_width(2);
    let points = || r.series.points.iter().map(|p| (tx(p.0), p.1));
    let drawn = chart.draw_series(DashedLineSeries::new(points(), 10, 6, style)).map_err(err)?;
    if key {
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
    Ok(())
}

/// Labels each of `refs` with its value above its right end, the labels
/// moved apart where two would overlap (two baselines that nearly agree),
/// one label for two that would print the same value in the same colour.
fn label_levels<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    refs: &[&Reference],
    tx: &impl Fn(f64) -> f64,
) -> Result<()> {
    // Two baselines that read the same at the same end share one label.
    let mut ends: Vec<(f64, f64, String, RGBColor)> = Vec::new();
    for (x, y, color) in refs.iter().filter_map(|r| r.series.points.last().map(|p| (tx(p.0), p.1, r.color()))) {
        let text = tick(y, false);
        if !ends.iter().any(|e| e.0 == x && e.2 == text && e.3 == color) {
            ends.push((x, y, text, color));
        }
    }
    let (dx, dy) = per_pixel(chart);
    let at = spread(&ends.iter().map(|e| e.1).collect::<Vec<_>>(), LABEL_ROW * dy);
    for ((x, _, text, color), at) in ends.into_iter().zip(at) {
        // Left of the end's marker, so a label lifted onto another line clears its marker.
        let x = x - 7.0 * dx;
        let font = TextStyle::from((FONT, 12).into_font()).color(&color).pos(Pos::new(HPos::Right, VPos::Bottom));
        chart.draw_series(std::iter::once(Text::new(text, (x, at), font))).map_err(err)?;
    }
    Ok(())
}

/// Names each baseline of `refs` that `fits` puts off the axis, with its
/// value, inside the frame at the edge it lies beyond: above at the top,
/// below at the bottom, one row each, right-aligned.
fn note_off_scale<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    refs: &[Reference],
    fits: &[Fit],
) -> Result<()> {
    let ((dx, dy), x, y) = (per_pixel(chart), chart.x_range(), chart.y_range());
    for (side, edge, step, vpos, arrow) in
        [(Fit::Above, y.end, -dy, VPos::Top, '↑'), (Fit::Below, y.start, dy, VPos::Bottom, '↓')]
    {
        let far = refs.iter().zip(fits).filter(|(_, f)| **f == side).filter_map(|(r, _)| Some((r, r.extent()?)));
        for (row, (r, (lo, hi))) in far.enumerate() {
            let value = if lo == hi { tick(lo, false) } else { format!("{} to {}", tick(lo, false), tick(hi, false)) };
            let text = format!("{arrow} {}: {value} (off scale)", r.series.name);
            let color = r.color();
            let font = TextStyle::from((FONT, 12).into_font()).color(&color).pos(Pos::new(HPos::Right, vpos));
            let at = (x.end - 6.0 * dx, edge + step * (4.0 + row as f64 * LABEL_ROW));
            chart.draw_series(std::iter::once(Text::new(text, at, font))).map_err(err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::offscale::drawn_texts;
    use super::super::panels::{Panel, Panels};
    use super::*;

    /// A one-panel figure of runs at `runs` (at x = 10, 20, 30) with a
    /// grey baseline at each of `levels`.
    fn figure(runs: [f64; 3], levels: &[(&str, f64)]) -> Panels {
        let series = Series {
            name: "runs".into(),
            points: [10.0, 20.0, 30.0].into_iter().zip(runs).map(|(x, y)| (x, y, None)).collect(),
        };
        let references = levels
            .iter()
            .map(|&(name, v)| Reference {
                series: Series { name: name.into(), points: vec![(10.0, v, None), (30.0, v, None)] },
                triangle: name == "corrupted input",
                line: None,
            })
            .collect();
        Panels {
            title: "t".into(),
            x_label: "x".into(),
            log_x: false,
            panels: vec![Panel { title: "p".into(), series: vec![series], references }],
            legend_title: String::new(),
            scatter: false,
        }
    }

    #[test]
    fn labels_of_two_close_baselines_are_drawn_apart() {
        // The probe's raw pixels and PCA baselines of the rho sweep.
        let texts = drawn_texts(&figure([0.967, 0.973, 0.966], &[("raw pixels", 0.922), ("PCA", 0.923)]));
        let y = |label: &str| texts.iter().find(|t| t.2 == label).unwrap_or_else(|| panic!("{label}: {texts:?}")).1;
        assert!(y("0.922") - y("0.923") >= LABEL_ROW - 1.0, "0.923 sits a row above 0.922: {texts:?}");
        // Two that read the same share one label.
        let texts = drawn_texts(&figure([0.967, 0.973, 0.966], &[("raw pixels", 0.9219), ("PCA", 0.9221)]));
        assert_eq!(texts.iter().filter(|t| t.2 == "0.922").count(), 1, "{texts:?}");
    }

    #[test]
    fn a_far_baseline_is_named_off_scale_and_leaves_the_axis_to_the_runs() {
        // The rho sweep's test MSE: runs 0.052 to 0.065, the corrupted input at 1.
        let texts = drawn_texts(&figure([0.065, 0.055, 0.052], &[("corrupted input", 0.9999), ("PCA", 0.07)]));
        assert!(texts.iter().any(|t| t.2 == "↑ corrupted input: 1 (off scale)"), "{texts:?}");
        assert!(texts.iter().any(|t| t.2 == "0.07"), "the near baseline is drawn and labelled: {texts:?}");
        // No tick of an axis stretched to 1 (0.2, 0.4, ...): every number is an x value or below 0.1.
        let numbers = texts.iter().filter_map(|t| t.2.parse::<f64>().ok());
        assert!(numbers.clone().all(|v| v < 0.1 || [10.0, 20.0, 30.0].contains(&v)), "{texts:?}");
    }
}
