//! Scores per corruption: for each corruption of a sweep, the corrupted
//! input, PCA and every configuration side by side as grouped bars (one
//! panel per metric), with error bars over seeds.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{cell_label, err, extent, frame, legend, mesh, publish, tick, value_range, Figure, Frame, COLORS, FONT};
use crate::report::axes::config_label;
use crate::report::table::baseline_of;
use crate::report::Inputs;
use sae_sweep::Param;
use sae_sweep::{BaselineKind as Baseline, ConfigSummary, Metric};

/// The metrics drawn, with their panel titles and the decimals of their
/// value labels.
const METRICS: [Metric; 2] = [Metric::PsnrDb, Metric::Ssim];

/// A bar: mean and, over seeds, its standard deviation.
type Bar = Option<(f64, Option<f64>)>;

/// One kind of bar, drawn in every group.
#[derive(Debug, Clone)]
pub struct BarSeries {
    /// Legend entry.
    pub name: String,
    /// Its colour.
    pub color: RGBColor,
    /// `values[panel][category]`.
    pub values: Vec<Vec<Bar>>,
}

/// Groups of bars over categories, one panel per metric.
#[derive(Debug, Clone)]
pub struct GroupedBars {
    /// Figure title.
    pub title: String,
    /// The categories (x), one group of bars each.
    pub categories: Vec<String>,
    /// x-axis label.
    pub x_label: String,
    /// Panel titles, with the decimals of their value labels.
    pub panels: Vec<(String, usize)>,
    /// The bars of each group, in order.
    pub series: Vec<BarSeries>,
}

/// The PSNR and SSIM of the corrupted input, PCA and every configuration
/// for each corruption of the sweep; returns its markdown.
pub fn scores_per_corruption(inp: &Inputs<'_>, fig_dir: &Path) -> Result<String> {
    let others: Vec<Param> = inp.axes.iter().copied().filter(|a| *a != Param::Corruption).collect();
    let ok: Vec<&ConfigSummary<'_>> = inp.groups.iter().filter(|g| !g.ok.is_empty()).collect();
    let config = |g: &ConfigSummary<'_>| {
        if others.is_empty() {
            "autoencoder".to_string()
        } else {
            config_label(&others, g.first)
        }
    };
    let categories = distinct(ok.iter().map(|g| g.first.text(Param::Corruption)));
    let mut series = baseline_series(inp, &ok, &categories);
    for (i, k) in distinct(ok.iter().map(|g| config(g))).into_iter().enumerate() {
        let values = per_category(&categories, |c, m| {
            let g = ok.iter().find(|g| g.first.text(Param::Corruption) == c && config(g) == k)?;
            g.stat(m).filter(|v| v.0.is_finite())
        });
        series.push(BarSeries { name: k, color: COLORS[i % COLORS.len()], values });
    }
    series.retain(|s| s.values.iter().flatten().any(|v| v.is_some()));
    let fig = GroupedBars {
        title: "Test scores per corruption: baselines and models".into(),
        categories,
        x_label: "corruption of the test images".into(),
        // Values on bars: at most three decimals, fewer than the tables'.
        panels: METRICS.iter().map(|m| (m.heading(), m.def().digits.min(3))).collect(),
        series,
    };
    let caption = "Per corruption, the corrupted input itself, its PCA projection and each configuration, \
                   scored against the clean test images; error bars: ±1 std over seeds";
    publish(&fig, fig_dir, "scores_per_corruption", caption)
}

/// The bars of the corrupted input, and of PCA at each width of the runs
/// `ok` (a darker grey for each further width).
fn baseline_series(inp: &Inputs<'_>, ok: &[&ConfigSummary<'_>], categories: &[String]) -> Vec<BarSeries> {
    let baseline = |kind: Baseline, hidden: usize| {
        move |c: &str, m: Metric| -> Bar {
            let g = ok.iter().find(|g| {
                g.first.text(Param::Corruption) == c
                    && (kind == Baseline::Input || g.first.config.model.hidden.0 == hidden)
            })?;
            Some((baseline_of(&inp.baselines, kind, g.first)?.metric(m)?, None))
        }
    };
    let mut series = vec![BarSeries {
        name: "corrupted input".into(),
        color: RGBColor(200, 200, 200),
        values: per_category(categories, baseline(Baseline::Input, 0)),
    }];
    for (i, h) in distinct(ok.iter().map(|g| g.first.config.model.hidden.0)).into_iter().enumerate() {
        let grey = 110 - (40 * i).min(80) as u8;
        let values = per_category(categories, baseline(Baseline::Pca, h));
        series.push(BarSeries { name: format!("PCA, top {h} components"), color: RGBColor(grey, grey, grey), values });
    }
    series
}

/// `bar(category, metric)` for every metric drawn and every category:
/// `values[panel][category]`.
fn per_category(categories: &[String], bar: impl Fn(&str, Metric) -> Bar) -> Vec<Vec<Bar>> {
    METRICS.iter().map(|&m| categories.iter().map(|c| bar(c, m)).collect()).collect()
}

/// The distinct `items`, in the order they first come.
fn distinct<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

impl Figure for GroupedBars {
    fn size(&self) -> (u32, u32) {
        let group = 40 + 34 * self.series.len() as u32;
        ((200 + group * self.categories.len() as u32).max(900), 90 + 420 * self.panels.len() as u32)
    }

    fn is_empty(&self) -> bool {
        !self.series.iter().any(|s| s.values.iter().flatten().any(|v| v.is_some()))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let root = root.titled(&self.title, (FONT, 26).into_font().style(FontStyle::Bold)).map_err(err)?;
        for (p, area) in root.split_evenly((self.panels.len(), 1)).iter().enumerate() {
            self.draw_panel(p, area, p == 0)?;
        }
        Ok(())
    }
}

impl GroupedBars {
    /// Draws panel `p`, with the legend where `with_legend`.
    fn draw_panel<DB: DrawingBackend>(&self, p: usize, area: &DrawingArea<DB, Shift>, with_legend: bool) -> Result<()> {
        let bars = || self.series.iter().flat_map(|s| s.values[p].iter().flatten());
        let Some((lo, hi)) = extent(bars().flat_map(|b| [b.0 - b.1.unwrap_or(0.0), b.0 + b.1.unwrap_or(0.0)])) else {
            return Ok(());
        };
        // Bars start at zero; the top leaves room for the legend.
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let y = value_range(lo, hi + (hi - lo) * 0.3)?;
        let n = self.categories.len();
        let (title, digits) = &self.panels[p];
        let mut chart = frame(area, Frame::Panel, title, -0.5..n as f64 - 0.5, y)?;
        mesh(&mut chart, &self.x_label, "", 14)
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| cell_label(&self.categories, *v))
            .y_label_formatter(&|v| tick(*v, false))
            .draw()
            .map_err(err)?;
        let width = 0.8 / self.series.len() as f64;
        let value_font = TextStyle::from((FONT, 11).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (k, s) in self.series.iter().enumerate() {
            let x0 = |c: usize| c as f64 - 0.4 + k as f64 * width;
            let bars = s.values[p].iter().enumerate().filter_map(|(c, v)| v.map(|v| (c, v)));
            let drawn = chart
                .draw_series(
                    bars.clone()
                        .map(|(c, v)| Rectangle::new([(x0(c), 0.0), (x0(c) + width * 0.9, v.0)], s.color.filled())),
                )
                .map_err(err)?;
            if with_legend {
                let color = s.color;
                drawn
                    .label(&s.name)
                    .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
            }
            let centre = |c: usize| x0(c) + width * 0.45;
            chart
                .draw_series(bars.clone().filter_map(|(c, v)| {
                    v.1.map(|sd| ErrorBar::new_vertical(centre(c), v.0 - sd, v.0, v.0 + sd, BLACK.stroke_width(1), 6))
                }))
                .map_err(err)?;
            if self.series.len() <= 5 {
                let top = |v: (f64, Option<f64>)| v.0.max(0.0) + v.1.unwrap_or(0.0);
                chart
                    .draw_series(bars.map(|(c, v)| {
                        Text::new(format!("{:.*}", digits, v.0), (centre(c), top(v)), value_font.clone())
                    }))
                    .map_err(err)?;
            }
        }
        if with_legend {
            legend(&mut chart, 13, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    }
}
