//! Test PSNR over the ρ × β plane: a coloured, annotated grid of cells.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{cell_label, err, extent, frame, mesh, publish, Figure, Frame, FONT};
use crate::report::Inputs;
use sae_sweep::{Metric, Param, RunRow};

/// A grid of values over two swept parameters, coloured and annotated.
#[derive(Debug, Clone)]
pub struct Heatmap {
    /// Figure title.
    pub title: String,
    /// Column values (x).
    pub xs: Vec<f64>,
    /// Row values (y).
    pub ys: Vec<f64>,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// `values[row][col]`, `None` where the run is missing or failed.
    pub values: Vec<Vec<Option<f64>>>,
}

/// The heatmap of mean test PSNR over ρ × β (averaged over any other swept
/// parameter); returns its markdown.
pub fn psnr_over_rho_beta(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let values = |f: fn(&RunRow) -> Option<f64>| {
        let mut v: Vec<f64> = inp.rows.iter().filter_map(f).collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    };
    let (xs, ys) = (values(|r| r.number(Param::Rho)), values(|r| r.number(Param::Beta)));
    let cell = |r: f64, b: f64| {
        let gs: Vec<f64> = inp
            .groups
            .iter()
            .filter(|g| g.first.number(Param::Rho) == Some(r) && g.first.number(Param::Beta) == Some(b))
            .filter_map(|g| g.stat(Metric::PsnrDb).map(|s| s.0).filter(|v| v.is_finite()))
            .collect();
        (!gs.is_empty()).then(|| gs.iter().sum::<f64>() / gs.len() as f64)
    };
    let grid = ys.iter().map(|&b| xs.iter().map(|&r| cell(r, b)).collect()).collect();
    let fig = Heatmap {
        title: "Test PSNR (dB) over ρ and β".into(),
        xs,
        ys,
        x_label: "target sparsity ρ".into(),
        y_label: "sparsity weight β".into(),
        values: grid,
    };
    publish(&fig, fig_dir, "heatmap_psnr_rho_beta", "Test PSNR over ρ × β (averaged over any other swept parameter)")
}

/// A perceptually ordered colour for `t` in [0, 1] (viridis, by five stops).
fn viridis(t: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] =
        [(68.0, 1.0, 84.0), (59.0, 82.0, 139.0), (33.0, 145.0, 140.0), (94.0, 201.0, 98.0), (253.0, 231.0, 37.0)];
    let t = t.clamp(0.0, 1.0) * 4.0;
    let i = (t.floor() as usize).min(3);
    let f = t - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let mix = |x: f64, y: f64| (x + (y - x) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        (160 + 130 * self.xs.len() as u32, 170 + 80 * self.ys.len() as u32)
    }

    fn is_empty(&self) -> bool {
        self.values.iter().flatten().all(|v| v.is_none())
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let (lo, hi) = extent(self.values.iter().flatten().flatten().copied()).unwrap_or((0.0, 0.0));
        let (nx, ny) = (self.xs.len(), self.ys.len());
        let mut chart = frame(root, Frame::Full, &self.title, -0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)?;
        let (xs, ys) = (self.xs.clone(), self.ys.clone());
        mesh(&mut chart, &self.x_label, &self.y_label, 15)
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&|v| cell_label(&xs, *v))
            .y_label_formatter(&|v| cell_label(&ys, *v))
            .draw()
            .map_err(err)?;
        for (r, row) in self.values.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                let (x, y) = (c as f64, r as f64);
                let cell = [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)];
                let (fill, text, ink) = match v {
                    Some(v) => {
                        let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        (viridis(t), format!("{v:.2}"), if t > 0.6 { BLACK } else { WHITE })
                    }
                    None => (RGBColor(220, 220, 220), "missing".into(), BLACK),
                };
                chart.draw_series(std::iter::once(Rectangle::new(cell, fill.filled()))).map_err(err)?;
                let style = (FONT, 17).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(text, (x, y), style))).map_err(err)?;
            }
        }
        Ok(())
    }
}
