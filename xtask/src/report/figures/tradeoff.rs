//! Sparsity (active units, or exact L0 on a log axis) against a score
//! (reconstruction error, probe accuracy): one point per configuration, a colour per value of the first swept parameter
//! (per mechanism in a mechanism sweep, each with its own Pareto front), and
//! labels placed so that they do not overlap.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    along, err, extent, frame, legend, legend_place, mesh, padded, publish, tick, Figure, Frame, COLORS, FONT,
};
use sae_sweep::{Direction, Metric};

use crate::report::axes::{self, config_label, mechanism_kind};
use crate::report::Inputs;
use sae_sweep::Param;

/// Points of one colour: `(x, y, label)`.
#[derive(Debug, Clone)]
pub struct PointSeries {
    /// Legend entry.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64, String)>,
}

/// Error against sparsity, one point per configuration, with the Pareto
/// front (no other point has both a lower x and a lower y).
#[derive(Debug, Clone)]
pub struct Tradeoff {
    /// Figure title.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// The points, a colour per series.
    pub series: Vec<PointSeries>,
    /// Whether larger y is better (accuracy) rather than smaller (error).
    pub higher_is_better: bool,
    /// One Pareto front per series (mechanisms compared) rather than one
    /// over every point.
    pub front_per_series: bool,
    /// Whether x is on a log scale (points hold log10 of it).
    pub log_x: bool,
}

/// Sparsity (`x`: active units per image, or L0 on a log axis) against
/// `metric` for every configuration, coloured by mechanism in a mechanism
/// sweep (each with its own front), else by the first swept parameter;
/// returns its markdown.
pub fn sparsity_against(inp: &Inputs<'_>, x: Metric, metric: Metric, stem: &str, fig_dir: &Path) -> Result<String> {
    let log_x = x == Metric::L0;
    let by_mechanism = inp.axes.contains(&Param::Sparsity);
    let first = inp.axes.first().copied();
    let mut series: Vec<PointSeries> = Vec::new();
    for g in &inp.groups {
        let (Some((active, _)), Some((y, _))) = (g.stat(x), g.stat(metric)) else { continue };
        if !(active.is_finite() && y.is_finite()) || (log_x && active <= 0.0) {
            continue;
        }
        let active = if log_x { active.log10() } else { active };
        let name = match first {
            _ if by_mechanism => mechanism_kind(g.first).to_string(),
            Some(a) => axes::text(a, g.first),
            None => "configurations".into(),
        };
        let point = (active, y, config_label(&inp.axes, g.first));
        match series.iter_mut().find(|s| s.name == name) {
            Some(s) => s.points.push(point),
            None => series.push(PointSeries { name, points: vec![point] }),
        }
    }
    let higher_is_better = metric.def().direction == Direction::Higher;
    let fig = Tradeoff {
        title: format!("Sparsity against {}", metric.def().title),
        x_label: match log_x {
            true => "non-zero code entries per test image, L0 (log scale)".into(),
            false => "active hidden units per test image (activation > 0.5)".into(),
        },
        y_label: metric.heading(),
        series,
        higher_is_better,
        front_per_series: by_mechanism,
        log_x,
    };
    let better = if higher_is_better { "higher" } else { "lower" };
    let front = if by_mechanism {
        "each mechanism's line joins its Pareto-optimal"
    } else {
        "the line joins the Pareto-optimal"
    };
    let sparsity = if log_x { "exact L0 (non-zero entries per image)" } else { "active units per image" };
    let caption = format!(
        "Each configuration's {sparsity} against its {}; {front} configurations (no other is both sparser and \
         {better})",
        metric.def().title
    );
    publish(&fig, fig_dir, stem, &caption)
}

/// The points of `pts` on the Pareto front (fewest x, and the lowest y or,
/// with `higher_is_better`, the highest), sorted by x.
pub fn pareto_front(pts: &[(f64, f64)], higher_is_better: bool) -> Vec<(f64, f64)> {
    let better = |a: f64, b: f64| if higher_is_better { a > b } else { a < b };
    let mut sorted: Vec<(f64, f64)> = pts.to_vec();
    sorted.sort_by(|a, b| {
        let y = if higher_is_better { b.1.total_cmp(&a.1) } else { a.1.total_cmp(&b.1) };
        a.0.total_cmp(&b.0).then(y)
    });
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if front.last().is_none_or(|l| better(p.1, l.1)) {
            front.push(p);
        }
    }
    front
}

/// A box in pixels: left, top, right, bottom.
type Box = (i32, i32, i32, i32);

fn overlaps(a: Box, b: Box) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// The top-left corner of each label (of pixel size `sizes[i]`) beside its
/// point `points[i]`, such that no label overlaps another, a point, or
/// leaves `bounds`: positions around the point are tried at growing
/// distances; where none is free the label goes to its first position.
pub fn place_labels(points: &[(i32, i32)], sizes: &[(u32, u32)], bounds: Box) -> Vec<(i32, i32)> {
    // The ring around a point of the Pareto front, and a pixel.
    const DOT: i32 = 11;
    let dots: Vec<Box> = points.iter().map(|&(x, y)| (x - DOT, y - DOT, x + DOT, y + DOT)).collect();
    let mut placed: Vec<Box> = Vec::new();
    let mut out = Vec::new();
    for (&(x, y), &(w, h)) in points.iter().zip(sizes) {
        let (w, h) = (w as i32, h as i32);
        let candidates = (1..=6).flat_map(|r| {
            let d = DOT + 2 + (r - 1) * h;
            [
                (x + d, y - h / 2),
                (x - d - w, y - h / 2),
                (x - w / 2, y - d - h),
                (x - w / 2, y + d),
                (x + d, y - d - h),
                (x + d, y + d),
                (x - d - w, y - d - h),
                (x - d - w, y + d),
            ]
        });
        let fits = |&(l, t): &(i32, i32)| {
            let b = (l, t, l + w, t + h);
            b.0 >= bounds.0
                && b.1 >= bounds.1
                && b.2 <= bounds.2
                && b.3 <= bounds.3
                && !placed.iter().chain(&dots).any(|o| overlaps(*o, b))
        };
        let at = candidates.clone().find(fits).unwrap_or((x + DOT + 2, y - h / 2));
        placed.push((at.0, at.1, at.0 + w, at.1 + h));
        out.push(at);
    }
    out
}

impl Figure for Tradeoff {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let all: Vec<&(f64, f64, String)> = self.series.iter().flat_map(|s| &s.points).collect();
        let xy: Vec<(f64, f64)> = all.iter().map(|p| (p.0, p.1)).collect();
        let (xlo, xhi) = extent(xy.iter().map(|p| p.0)).unwrap_or((f64::NAN, f64::NAN));
        let (ylo, yhi) = extent(xy.iter().map(|p| p.1)).unwrap_or((f64::NAN, f64::NAN));
        let (x, y) = (padded(xlo, xhi)?, padded(ylo, yhi)?);
        let x = if self.log_x { x } else { x.start.max(0.0)..x.end };
        let fronts: Vec<Vec<(f64, f64)>> = if self.front_per_series {
            self.series
                .iter()
                .map(|s| pareto_front(&s.points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), self.higher_is_better))
                .collect()
        } else {
            vec![pareto_front(&xy, self.higher_is_better)]
        };
        let front_lines = fronts.iter().flat_map(|f| along(f));
        let corner =
            legend_place(xy.iter().copied().chain(front_lines), &x, &y, (0.3, 0.05 * (self.series.len() + 2) as f64));
        let mut chart = frame(root, Frame::Full, &self.title, x, y)?;
        mesh(&mut chart, &self.x_label, &self.y_label, 15)
            .x_label_formatter(&|v| tick(*v, self.log_x))
            .y_label_formatter(&|v| tick(*v, false))
            .draw()
            .map_err(err)?;
        for (k, front) in fronts.iter().enumerate() {
            let line = if self.front_per_series { COLORS[k % COLORS.len()].mix(0.8) } else { BLACK.mix(0.5) };
            chart.draw_series(LineSeries::new(front.clone(), line.stroke_width(2))).map_err(err)?;
            let rings = chart
                .draw_series(front.iter().map(|&p| Circle::new(p, 10, BLACK.mix(0.6).stroke_width(2))))
                .map_err(err)?;
            if k == 0 {
                let name = if self.front_per_series { "Pareto fronts (ringed)" } else { "Pareto front (ringed)" };
                rings.label(name).legend(|(x, y)| Circle::new((x + 10, y), 6, BLACK.mix(0.6).stroke_width(2)));
            }
        }
        for (k, s) in self.series.iter().enumerate() {
            let color = COLORS[k % COLORS.len()];
            let drawn =
                chart.draw_series(s.points.iter().map(|p| Circle::new((p.0, p.1), 6, color.filled()))).map_err(err)?;
            if self.series.len() > 1 {
                drawn.label(&s.name).legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
            }
        }
        self.draw_labels(root, &chart, &all)?;
        legend(&mut chart, 14, corner)
    }
}

impl Tradeoff {
    /// Draws each point's label where [`place_labels`] puts it, with a thin
    /// line to its point.
    fn draw_labels<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        chart: &super::Chart<'_, DB>,
        points: &[&(f64, f64, String)],
    ) -> Result<()> {
        let font = TextStyle::from((FONT, 13).into_font());
        let base = root.get_base_pixel();
        let px: Vec<(i32, i32)> = points
            .iter()
            .map(|p| {
                let (x, y) = chart.backend_coord(&(p.0, p.1));
                (x - base.0, y - base.1)
            })
            .collect();
        let sizes: Vec<(u32, u32)> =
            points.iter().map(|p| root.estimate_text_size(&p.2, &font).map_err(err)).collect::<Result<_>>()?;
        let area = chart.plotting_area();
        let (xs, ys) = area.get_pixel_range();
        let bounds = (xs.start - base.0, ys.start - base.1, xs.end - base.0, ys.end - base.1);
        for ((p, at), (label, size)) in
            px.iter().zip(place_labels(&px, &sizes, bounds)).zip(points.iter().map(|p| &p.2).zip(&sizes))
        {
            let centre = (at.0 + size.0 as i32 / 2, at.1 + size.1 as i32 / 2);
            let far = (centre.0 - p.0).abs() > size.0 as i32 / 2 + 14 || (centre.1 - p.1).abs() > size.1 as i32 + 10;
            if far {
                root.draw(&PathElement::new(vec![*p, centre], BLACK.mix(0.35).stroke_width(1))).map_err(err)?;
            }
            root.draw(&Text::new(label.clone(), at, font.clone())).map_err(err)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let pts = [(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0), (2.5, 3.0)];
        assert_eq!(pareto_front(&pts, false), vec![(1.0, 5.0), (2.0, 3.0), (4.0, 1.0)]);
        // Accuracy: higher is better, so the front climbs with x.
        let acc = [(1.0, 0.8), (2.0, 0.7), (3.0, 0.9), (4.0, 0.85), (5.0, 0.95)];
        assert_eq!(pareto_front(&acc, true), vec![(1.0, 0.8), (3.0, 0.9), (5.0, 0.95)]);
    }

    #[test]
    fn crowded_labels_do_not_overlap_each_other_or_the_points() {
        // Eight points within a few pixels of each other, as in a ρ × β
        // sweep where many configurations keep about 7 active units.
        let points: Vec<(i32, i32)> = (0..8).map(|i| (300 + 3 * i, 300 + 2 * (i % 3))).collect();
        let sizes = vec![(90, 14); 8];
        let at = place_labels(&points, &sizes, (0, 0, 800, 600));
        let boxes: Vec<Box> = at.iter().map(|&(l, t)| (l, t, l + 90, t + 14)).collect();
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.0 >= 0 && a.1 >= 0 && a.2 <= 800 && a.3 <= 600, "label {i} inside: {a:?}");
            for (j, b) in boxes.iter().enumerate().skip(i + 1) {
                assert!(!overlaps(*a, *b), "labels {i} and {j} overlap: {a:?} {b:?}");
            }
            for p in &points {
                assert!(!overlaps(*a, (p.0 - 11, p.1 - 11, p.0 + 11, p.1 + 11)), "label {i} covers point {p:?}");
            }
        }
    }
}
