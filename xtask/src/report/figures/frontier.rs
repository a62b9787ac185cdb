//! The sparsity–reconstruction frontier at exact L0: each configuration's
//! progressive evaluation (its code truncated to the top k entries of each
//! image, for a ladder of k) as a line of FVU against L0 on a log axis,
//! coloured by mechanism, with the configuration's native point marked;
//! a point above the drawn range marked at the top edge with its value.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::offscale::per_pixel;
use super::{
    err, extent, frame, legend, legend_place, mesh, padded, publish, tick, Chart, Figure, Frame, COLORS, FONT,
};
use crate::report::axes::mechanism_kind;
use crate::report::Inputs;
use sae_sweep::{mean_std, Metric, RunRow};

/// One configuration's frontier.
#[derive(Debug, Clone)]
pub struct Line {
    /// Its mechanism, which picks the colour.
    pub kind: String,
    /// `(L0, FVU)` at each k of the ladder, mean over replicates.
    pub points: Vec<(f64, f64)>,
    /// `(L0, FVU)` of the code as trained.
    pub native: (f64, f64),
}

/// FVU against exact L0, one line per configuration.
#[derive(Debug, Clone)]
pub struct Frontier {
    /// Figure title.
    pub title: String,
    /// The lines.
    pub lines: Vec<Line>,
}

/// The mean over `frontiers` (one per replicate, same ladder) of each
/// point's `(L0, FVU)`; the replicates' common points only.
fn mean_frontier(frontiers: &[Vec<sae_core::FrontierPoint>]) -> Vec<(f64, f64)> {
    let len = frontiers.iter().map(Vec::len).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let l0: Vec<f64> = frontiers.iter().map(|f| f[i].l0).collect();
            let fvu: Vec<f64> = frontiers.iter().map(|f| f[i].fvu).collect();
            (mean_std(&l0).0, mean_std(&fvu).0)
        })
        .collect()
}

/// The frontier of every configuration with a successful run whose folder
/// holds one (runs stored before sae-lab 0.4 have none and are left out,
/// with a note); returns its markdown.
pub fn fvu_against_l0(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let mut lines = Vec::new();
    let mut without = 0;
    for g in inp.groups.iter().filter(|g| !g.ok.is_empty()) {
        let frontiers: Vec<_> =
            g.ok.iter().filter_map(|r: &&RunRow| inp.results.dir().load_frontier(&r.run_id).ok()).collect();
        let (Some((l0, _)), Some((fvu, _))) = (g.stat(Metric::L0), g.stat(Metric::Fvu)) else { continue };
        if frontiers.len() < g.ok.len() {
            without += g.ok.len() - frontiers.len();
        }
        let points = mean_frontier(&frontiers);
        if points.is_empty() || !(l0 > 0.0 && fvu.is_finite()) {
            continue;
        }
        lines.push(Line { kind: mechanism_kind(g.first).into(), points, native: (l0, fvu) });
    }
    let fig = Frontier { title: "Reconstruction against exact sparsity (L0)".into(), lines };
    let note = if without > 0 {
        format!(" {without} runs stored before frontiers were recorded are left out.")
    } else {
        String::new()
    };
    let caption = format!(
        "Each configuration's code truncated to its k largest entries per image, for k = 5 to the width: test FVU \
         against the non-zero entries per image (L0, log scale), mean over seeds; a filled dot marks the code as \
         trained. A sigmoid code (KL) is never exactly 0, so its native L0 is the width. The axis stops near FVU 1 \
         (predicting the mean image): a point above it is a triangle on the top edge (filled for the code as \
         trained) with its FVU printed beneath, a range where several of one mechanism fall at one L0, and a line \
         runs to the edge where it leaves the axis.{note}"
    );
    publish(&fig, fig_dir, "frontier", &caption)
}

impl Frontier {
    /// The mechanisms in the order they first appear.
    fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = Vec::new();
        for l in &self.lines {
            if !kinds.contains(&l.kind.as_str()) {
                kinds.push(&l.kind);
            }
        }
        kinds
    }
}

impl Figure for Frontier {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let log = |p: &(f64, f64)| (p.0.max(1e-3).log10(), p.1);
        let all: Vec<(f64, f64)> =
            self.lines.iter().flat_map(|l| l.points.iter().chain([&l.native]).map(log)).collect();
        let (xlo, xhi) = extent(all.iter().map(|p| p.0)).unwrap_or((f64::NAN, f64::NAN));
        let (ylo, yhi) = extent(all.iter().map(|p| p.1)).unwrap_or((f64::NAN, f64::NAN));
        // FVU above 1 is worse than predicting the mean image: the axis stops there.
        let (x, y) = (padded(xlo, xhi)?, padded(ylo.min(0.0), yhi.min(1.0))?);
        let top = y.end;
        let kinds = self.kinds();
        // A point above the axis is marked, and labelled, at its top edge.
        let seen = all.iter().map(|p| (p.0, p.1.min(top)));
        let corner = legend_place(seen, &x, &y, (0.25, 0.05 * (kinds.len() + 1) as f64));
        let mut chart = frame(root, Frame::Full, &self.title, x, y)?;
        mesh(&mut chart, "non-zero code entries per image, L0 (log scale)", "test FVU ↓", 15)
            .x_label_formatter(&|v| tick(*v, true))
            .y_label_formatter(&|v| tick(*v, false))
            .draw()
            .map_err(err)?;
        let mut above = Vec::new();
        for (c, kind) in kinds.iter().enumerate() {
            let color = COLORS[c % COLORS.len()];
            let key = chart.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>()).map_err(err)?;
            key.label(*kind).legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
            for l in self.lines.iter().filter(|l| l.kind == *kind) {
                let pts: Vec<(f64, f64)> = l.points.iter().map(log).collect();
                for piece in below(&pts, top) {
                    chart.draw_series(LineSeries::new(piece, color.mix(0.6).stroke_width(2))).map_err(err)?;
                }
                above.extend(pts.iter().filter(|p| p.1 > top).map(|p| Above { at: *p, color: c, native: false }));
                let native = log(&l.native);
                if native.1 > top {
                    above.push(Above { at: native, color: c, native: true });
                } else {
                    chart.draw_series([Circle::new(native, 6, color.filled())]).map_err(err)?;
                }
            }
        }
        draw_above(&mut chart, &above)?;
        legend(&mut chart, 14, corner)
    }
}

/// A point above the drawn range: where it is (log L0, FVU), the index of
/// its mechanism's colour, and whether it is the code as trained.
#[derive(Debug, Clone, Copy)]
struct Above {
    at: (f64, f64),
    color: usize,
    native: bool,
}

/// The pieces of the polyline through `points` that lie at or below `top`,
/// each cut where the line crosses `top`, so a line that leaves the axis
/// runs to its edge rather than being dropped or joined across the gap.
fn below(points: &[(f64, f64)], top: f64) -> Vec<Vec<(f64, f64)>> {
    let cross = |a: (f64, f64), b: (f64, f64)| (a.0 + (b.0 - a.0) * (top - a.1) / (b.1 - a.1), top);
    let mut pieces: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, &p) in points.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| points[j]);
        match (prev, p.1 <= top) {
            (Some(q), true) if q.1 > top => pieces.last_mut().expect("one piece").push(cross(q, p)),
            (Some(q), false) if q.1 <= top => {
                pieces.last_mut().expect("one piece").push(cross(q, p));
                pieces.push(Vec::new());
            }
            _ => {}
        }
        if p.1 <= top {
            pieces.last_mut().expect("one piece").push(p);
        }
    }
    pieces.retain(|piece| piece.len() > 1);
    pieces
}

/// Draws each point of `above` as a triangle on the top edge of `chart`
/// (filled for a code as trained), and beneath it the FVU of the points of
/// one mechanism at that L0 (a range where they differ), a label that would
/// overlap another a row lower.
fn draw_above<'a, DB: DrawingBackend + 'a>(chart: &mut Chart<'a, DB>, above: &[Above]) -> Result<()> {
    let ((dx, dy), top) = (per_pixel(chart), chart.y_range().end);
    let mut groups: Vec<(f64, usize, f64, f64)> = Vec::new();
    for a in above {
        let color = COLORS[a.color % COLORS.len()];
        let corners = vec![(0, -7), (-6, 4), (6, 4), (0, -7)];
        let mark = EmptyElement::at((a.at.0, top - 9.0 * dy))
            + Polygon::new(corners.clone(), if a.native { color.filled() } else { WHITE.filled() })
            + PathElement::new(corners, color.stroke_width(2));
        chart.draw_series([mark]).map_err(err)?;
        match groups.iter_mut().find(|g| g.1 == a.color && (g.0 - a.at.0).abs() < dx) {
            Some(g) => (g.2, g.3) = (g.2.min(a.at.1), g.3.max(a.at.1)),
            None => groups.push((a.at.0, a.color, a.at.1, a.at.1)),
        }
    }
    let texts: Vec<String> = groups
        .iter()
        .map(|g| match (format!("{:.2}", g.2), format!("{:.2}", g.3)) {
            (lo, hi) if lo == hi => lo,
            (lo, hi) => format!("{lo}–{hi}"),
        })
        .collect();
    // A label that would overlap one already placed goes a row lower.
    let width = (texts.iter().map(|t| t.chars().count()).max().unwrap_or(0) as f64 * 7.5 + 8.0) * dx;
    let mut rows: Vec<usize> = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let taken: Vec<usize> = (0..i).filter(|&j| (groups[j].0 - g.0).abs() < width).map(|j| rows[j]).collect();
        rows.push((0..).find(|r| !taken.contains(r)).expect("a free row"));
    }
    for ((g, text), row) in groups.iter().zip(texts).zip(rows) {
        let color = COLORS[g.1 % COLORS.len()];
        let font = TextStyle::from((FONT, 12).into_font()).color(&color).pos(Pos::new(HPos::Center, VPos::Top));
        chart.draw_series([Text::new(text, (g.0, top - (19.0 + 14.0 * row as f64) * dy), font)]).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::offscale::drawn_texts;
    use super::*;

    #[test]
    fn a_line_that_leaves_the_axis_runs_to_its_edge() {
        let pieces = below(&[(0.0, 2.5), (1.0, 0.5), (2.0, 0.4), (3.0, 3.0)], 1.0);
        assert_eq!(pieces, [vec![(0.75, 1.0), (1.0, 0.5), (2.0, 0.4), (2.0 + 0.6 / 2.6, 1.0)]]);
        assert!(below(&[(0.0, 2.0), (1.0, 3.0)], 1.0).is_empty());
    }

    #[test]
    fn a_point_above_the_axis_is_marked_with_its_value_not_pinned_as_one() {
        // A KL code truncated to 5 and 10 entries: FVU 2.5 and 1.85; the TopK
        // code at 5 entries: FVU 1.24; a sigmoid code as trained at 1.7.
        let line = |kind: &str, points: Vec<(f64, f64)>, native| Line { kind: kind.into(), points, native };
        let fig = Frontier {
            title: "t".into(),
            lines: vec![
                line("KL", vec![(5.0, 2.5), (10.0, 1.85), (64.0, 0.8)], (64.0, 0.8)),
                line("KL", vec![(5.0, 2.2), (64.0, 1.7)], (64.0, 1.7)),
                line("TopK", vec![(5.0, 1.24), (10.0, 0.6)], (10.0, 0.6)),
            ],
        };
        let texts = drawn_texts(&fig);
        for want in ["2.20–2.50", "1.85", "1.70", "1.24"] {
            assert!(texts.iter().any(|t| t.2 == want), "{want}: {texts:?}");
        }
        // Stacked where they would overlap: the TopK label a row below the KL one.
        let at = |s: &str| texts.iter().find(|t| t.2 == s).map(|t| (t.0, t.1)).unwrap();
        assert!(at("1.24").1 - at("2.20–2.50").1 >= 12.0 && (at("1.24").0 - at("2.20–2.50").0).abs() < 1.0);
        // The axis stops near FVU 1: no tick of the y axis (the column of 0) above it.
        let column = at("0").0;
        let ticks = texts.iter().filter(|t| t.0 == column).filter_map(|t| t.2.parse::<f64>().ok());
        assert!(ticks.clone().all(|v| v <= 1.0) && ticks.count() > 5, "{texts:?}");
    }
}
