//! The sparsity–reconstruction frontier at exact L0: each configuration's
//! progressive evaluation (its code truncated to the top k entries of each
//! image, for a ladder of k) as a line of FVU against L0 on a log axis,
//! coloured by mechanism, with the configuration's native point marked.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{err, extent, frame, legend, legend_place, mesh, padded, publish, tick, Figure, Frame, COLORS};
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
         trained. A sigmoid code (KL) is never exactly 0, so its native L0 is the width; FVU above 1 (worse than \
         predicting the mean image) is cut off.{note}"
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
        let corner = legend_place(all.iter().copied(), &x, &y, (0.25, 0.05 * (kinds.len() + 1) as f64));
        let mut chart = frame(root, Frame::Full, &self.title, x, y)?;
        mesh(&mut chart, "non-zero code entries per image, L0 (log scale)", "test FVU ↓", 15)
            .x_label_formatter(&|v| tick(*v, true))
            .y_label_formatter(&|v| tick(*v, false))
            .draw()
            .map_err(err)?;
        for (c, kind) in kinds.iter().enumerate() {
            let color = COLORS[c % COLORS.len()];
            for (i, l) in self.lines.iter().filter(|l| l.kind == *kind).enumerate() {
                let pts: Vec<(f64, f64)> = l.points.iter().map(log).filter(|p| p.1 <= top).collect();
                chart.draw_series(LineSeries::new(pts, color.mix(0.6).stroke_width(2))).map_err(err)?;
                let dot = chart.draw_series([Circle::new(log(&l.native), 6, color.filled())]).map_err(err)?;
                if i == 0 {
                    dot.label(*kind).legend(move |(x, y)| Circle::new((x + 10, y), 6, color.filled()));
                }
            }
        }
        legend(&mut chart, 14, corner)
    }
}
