//! The report's charts, drawn once per figure into both PNG (for the page)
//! and SVG (for print) with plotters and an embedded DejaVu font, so they
//! render on a headless machine with no system fonts.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Context, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Ten colours that stay distinct for most readers (matplotlib's tab10).
pub const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

const FONT: &str = "sans-serif";

/// Registers the embedded font with plotters (once per process).
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans is a valid font"));
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans Bold is a valid font"));
    });
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

/// A chart that can be drawn on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`, already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Writes `dir/stem.png` and `dir/stem.svg`, each through a temporary file
/// renamed into place.
pub fn save(fig: &impl Figure, dir: &Path, stem: &str) -> Result<()> {
    register_font();
    let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
    let (png_tmp, svg_tmp) = (dir.join(format!(".{stem}.tmp.png")), dir.join(format!(".{stem}.tmp.svg")));
    {
        let root = BitMapBackend::new(&png_tmp, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    {
        let root = SVGBackend::new(&svg_tmp, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    std::fs::rename(&png_tmp, &png).with_context(|| format!("writing {}", png.display()))?;
    std::fs::rename(&svg_tmp, &svg).with_context(|| format!("writing {}", svg.display()))?;
    Ok(())
}

/// Draws the legend of `chart` in its upper right corner, over a pale box.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    font_size: u32,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, font_size))
        .draw()
        .map_err(err)
}

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

/// Where `x` sits on the axis: `log10 x` on a log axis, where zero (β = 0,
/// say) goes one decade below the smallest positive value.
fn axis_position(x: f64, log: bool, min_positive: f64) -> f64 {
    match (log, x > 0.0) {
        (false, _) => x,
        (true, true) => x.log10(),
        (true, false) => min_positive.log10() - 1.0,
    }
}

/// `[lo, hi]` widened by 8% on each side (5% of the value when the span is
/// zero), so points do not sit on the frame. Log axes pass log values.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let pad = if hi - lo > 1e-12 { (hi - lo) * 0.08 } else { hi.abs().max(1.0) * 0.05 };
    (lo - pad, hi + pad)
}

/// Tick label for a value on an axis that may be log10-transformed.
fn tick(v: f64, log: bool) -> String {
    let x = if log { 10f64.powf(v) } else { v };
    if x.abs() < 1e-9 {
        return "0".into();
    }
    let s = format!("{:.3}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if x != 0.0 && x.abs() < 0.001 {
        format!("{x:.0e}")
    } else {
        s.to_string()
    }
}

impl Figure for Panels {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(3) as u32;
        (1500, 90 + 400 * rows)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let root = root.titled(&self.title, (FONT, 26).into_font().style(FontStyle::Bold)).map_err(err)?;
        let rows = self.panels.len().div_ceil(3);
        let areas = root.split_evenly((rows, 3));
        let min_positive = self
            .panels
            .iter()
            .flat_map(|p| p.series.iter().flat_map(|s| s.points.iter().map(|p| p.0)))
            .filter(|x| *x > 0.0)
            .fold(f64::INFINITY, f64::min);
        for (i, (panel, area)) in self.panels.iter().zip(&areas).enumerate() {
            let pts = || panel.series.iter().flat_map(|s| s.points.iter());
            if pts().next().is_none() {
                continue;
            }
            let log = self.log_x;
            let tx = |x: f64| axis_position(x, log, min_positive);
            let (xlo, xhi) =
                pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(tx(p.0)), b.max(tx(p.0))));
            let (ylo, yhi) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                let s = p.2.unwrap_or(0.0);
                (a.min(p.1 - s), b.max(p.1 + s))
            });
            if ![xlo, xhi, ylo, yhi].iter().all(|v| v.is_finite()) {
                continue;
            }
            let (x0, x1) = padded(xlo, xhi);
            let (y0, y1) = padded(ylo, yhi);
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, (FONT, 20))
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(72)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(err)?;
            // Label the swept values themselves: many candidate ticks, each
            // labelled only when it is the one nearest a swept value.
            let mut marks: Vec<(f64, f64)> = pts().map(|p| (tx(p.0), p.0)).collect();
            marks.sort_by(|a, b| a.0.total_cmp(&b.0));
            marks.dedup();
            const TICKS: usize = 80;
            let step = (x1 - x0) / TICKS as f64;
            let label = |v: &f64| {
                let near = marks.iter().find(|m| (m.0 - v).abs() <= step / 2.0);
                near.map_or(String::new(), |m| tick(m.1, false))
            };
            chart
                .configure_mesh()
                .x_desc(&self.x_label)
                .x_labels(TICKS)
                .y_labels(6)
                .x_label_formatter(&label)
                .y_label_formatter(&|v| tick(*v, false))
                .set_tick_mark_size(LabelAreaPosition::Bottom, 3)
                .disable_x_mesh()
                .label_style((FONT, 14))
                .axis_desc_style((FONT, 15))
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(err)?;
            for (k, s) in panel.series.iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                let line = s.points.iter().map(|p| (tx(p.0), p.1));
                let drawn = chart.draw_series(LineSeries::new(line, color.stroke_width(2))).map_err(err)?;
                if i == 0 && panel.series.len() > 1 {
                    drawn
                        .label(&s.name)
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
                }
                chart
                    .draw_series(s.points.iter().map(|p| Circle::new((tx(p.0), p.1), 4, color.filled())))
                    .map_err(err)?;
                chart
                    .draw_series(s.points.iter().filter_map(|p| {
                        p.2.map(|sd| ErrorBar::new_vertical(tx(p.0), p.1 - sd, p.1, p.1 + sd, color.stroke_width(1), 8))
                    }))
                    .map_err(err)?;
            }
            if i == 0 && panel.series.len() > 1 {
                legend(&mut chart, 13)?;
            }
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

/// The label of the cell centred at `v` (an index), or nothing between cells.
fn cell_label(values: &[f64], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 0.05 || i < 0.0 {
        return String::new();
    }
    values.get(i as usize).map_or(String::new(), |x| x.to_string())
}

impl Figure for Heatmap {
    fn size(&self) -> (u32, u32) {
        (160 + 130 * self.xs.len() as u32, 170 + 80 * self.ys.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let flat: Vec<f64> = self.values.iter().flatten().flatten().copied().collect();
        let (lo, hi) = flat.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let (nx, ny) = (self.xs.len(), self.ys.len());
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22).into_font().style(FontStyle::Bold))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(err)?;
        let (xs, ys) = (self.xs.clone(), self.ys.clone());
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .x_label_formatter(&|v| cell_label(&xs, *v))
            .y_label_formatter(&|v| cell_label(&ys, *v))
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
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
        let (xlo, xhi) = xy.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.0), b.max(p.0)));
        let (ylo, yhi) = xy.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let ((x0, x1), (y0, y1)) = (padded(xlo, xhi), padded(ylo, yhi));
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22).into_font().style(FontStyle::Bold))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(x0.max(0.0)..x1, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("active hidden units per test image (activation > 0.5)")
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| tick(*v, false))
            .y_label_formatter(&|v| tick(*v, false))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(WHITE.mix(0.0))
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

/// Validation curves of every run.
#[derive(Debug, Clone)]
pub struct Curves {
    /// Figure title.
    pub title: String,
    /// One line per run: `(epoch, value, None)`.
    pub series: Vec<(Series, usize)>,
    /// y-axis label.
    pub y_label: String,
}

impl Figure for Curves {
    fn size(&self) -> (u32, u32) {
        (1100, 700)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        let pts = || self.series.iter().flat_map(|s| s.0.points.iter());
        let xmax = pts().map(|p| p.0).fold(1.0, f64::max);
        let (ylo, yhi) = pts().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| (a.min(p.1), b.max(p.1)));
        let (y0, y1) = padded(ylo.log10(), yhi.log10());
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 22).into_font().style(FontStyle::Bold))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(0.5..xmax + 0.5, y0..y1)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick(*v, true))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 16))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        let show_legend = self.series.len() <= 12;
        for (s, c) in &self.series {
            let color = COLORS[c % COLORS.len()];
            let drawn = chart
                .draw_series(LineSeries::new(s.points.iter().map(|p| (p.0, p.1.log10())), color.stroke_width(2)))
                .map_err(err)?;
            if show_legend {
                drawn
                    .label(&s.name)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
            }
        }
        if show_legend {
            legend(&mut chart, 13)?;
        }
        Ok(())
    }
}

/// A histogram of the hidden units' mean activations with the target ρ.
#[derive(Debug, Clone)]
pub struct ActivationHistogram {
    /// Figure title.
    pub title: String,
    /// ρ̂_j of every unit.
    pub values: Vec<f64>,
    /// The target ρ.
    pub rho: f64,
}

impl Figure for ActivationHistogram {
    fn size(&self) -> (u32, u32) {
        (900, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()> {
        const BINS: usize = 40;
        let top = self.values.iter().copied().fold(self.rho * 2.0, f64::max).min(1.0);
        let width = top / BINS as f64;
        let mut counts = [0usize; BINS];
        for &v in &self.values {
            counts[((v / width) as usize).min(BINS - 1)] += 1;
        }
        let ymax = *counts.iter().max().unwrap_or(&1) as f64 * 1.12 + 1.0;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FONT, 20).into_font().style(FontStyle::Bold))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..top, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("mean activation ρ̂ of a hidden unit over the test set")
            .y_desc("hidden units")
            .x_label_formatter(&|v| tick(*v, false))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 14))
            .axis_desc_style((FONT, 15))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &n)| {
                let x = i as f64 * width;
                Rectangle::new([(x, 0.0), (x + width * 0.92, n as f64)], COLORS[0].filled())
            }))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new([(self.rho, 0.0), (self.rho, ymax)], COLORS[3].stroke_width(3)))
            .map_err(err)?
            .label(format!("target ρ = {}", self.rho))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLORS[3].stroke_width(3)));
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

    #[test]
    fn heatmap_labels_sit_at_cell_centres_only() {
        let values = [0.01, 0.1];
        assert_eq!(cell_label(&values, 0.0), "0.01");
        assert_eq!(cell_label(&values, 1.01), "0.1");
        assert_eq!(cell_label(&values, 0.5), "");
        assert_eq!(cell_label(&values, 2.0), "");
        assert_eq!(cell_label(&values, -1.0), "");
    }

    #[test]
    fn ticks_read_naturally() {
        assert_eq!(tick(-2.0, true), "0.01");
        assert_eq!(tick(0.0, true), "1");
        assert_eq!(tick(0.25, false), "0.25");
        assert_eq!(tick(-4.0, true), "1e-4");
        assert_eq!(tick(7e-18, false), "0");
    }
}
