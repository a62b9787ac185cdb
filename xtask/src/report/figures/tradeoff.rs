//! Sparsity against reconstruction error: one point per configuration and
//! the Pareto front.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, extent, figure_md, frame, legend, mesh, padded, save, tick, Figure, Frame, COLORS, FONT};
use crate::report::axes::config_label;
use crate::report::Inputs;

/// Error against sparsity, one point per configuration, with the Pareto
/// front (no other point has both fewer active units and lower error).
#[derive(Debug, Clone)]
pub struct Tradeoff {
    /// Figure title.
    pub title: String,
    /// `(active units per image, error, label, colour index)`.
    pub points: Vec<(f64, f64, String, usize)>,
    /// y-axis label.
    pub y_label: String,
}

/// The trade-off of every configuration, coloured by the first swept
/// parameter; returns its markdown.
pub fn sparsity_against_error(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let first = inp.axes.first().copied();
    let mut colour_of: Vec<String> = Vec::new();
    let points = inp
        .groups
        .iter()
        .filter_map(|g| {
            let (active, mse) = (g.stat("active_per_image")?.0, g.stat("mse")?.0);
            let key = first.map(|a| a.text(g.first)).unwrap_or_default();
            let c = colour_of.iter().position(|k| *k == key).unwrap_or_else(|| {
                colour_of.push(key);
                colour_of.len() - 1
            });
            Some((active, mse, config_label(&inp.axes, g.first), c))
        })
        .collect();
    let fig = Tradeoff {
        title: "Sparsity against reconstruction error".into(),
        points,
        y_label: "test MSE (normalised units)".into(),
    };
    save(&fig, fig_dir, "tradeoff")?;
    Ok(figure_md(
        "tradeoff",
        "Each configuration's active units per image against its test MSE; the line joins the Pareto-optimal ones (no other is both sparser and more accurate)",
    ))
}

/// The points of `pts` on the Pareto front (minimising both coordinates),
/// sorted by x.
pub fn pareto_front(pts: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = pts.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut front: Vec<(f64, f64)> = Vec::new();
    for p in sorted {
        if front.last().is_none_or(|l| p.1 < l.1) {
            front.push(p);
        }
    }
    front
}

impl Figure for Tradeoff {
    fn size(&self) -> (u32, u32) {
        (1100, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let xy: Vec<(f64, f64)> = self.points.iter().map(|p| (p.0, p.1)).collect();
        let (xlo, xhi) = extent(xy.iter().map(|p| p.0)).unwrap_or((f64::NAN, f64::NAN));
        let (ylo, yhi) = extent(xy.iter().map(|p| p.1)).unwrap_or((f64::NAN, f64::NAN));
        let x = padded(xlo, xhi)?;
        let mut chart = frame(root, Frame::Full, &self.title, x.start.max(0.0)..x.end, padded(ylo, yhi)?)?;
        mesh(&mut chart, "active hidden units per test image (activation > 0.5)", &self.y_label, 15)
            .x_label_formatter(&|v| tick(*v, false))
            .y_label_formatter(&|v| tick(*v, false))
            .draw()
            .map_err(err)?;
        let front = pareto_front(&xy);
        chart.draw_series(LineSeries::new(front.clone(), BLACK.mix(0.5).stroke_width(2))).map_err(err)?;
        chart
            .draw_series(front.iter().map(|&p| Circle::new(p, 10, BLACK.mix(0.6).stroke_width(2))))
            .map_err(err)?
            .label("Pareto front (ringed)")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, BLACK.mix(0.6).stroke_width(2)));
        for (x, y, label, c) in &self.points {
            let color = COLORS[c % COLORS.len()];
            chart.draw_series(std::iter::once(Circle::new((*x, *y), 6, color.filled()))).map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(label.clone(), (*x, *y), (FONT, 13).into_font())))
                .map_err(err)?;
        }
        legend(&mut chart, 14)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_front_keeps_only_undominated_points() {
        let pts = [(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0), (2.5, 3.0)];
        assert_eq!(pareto_front(&pts), vec![(1.0, 5.0), (2.0, 3.0), (4.0, 1.0)]);
    }
}
