//! The report's charts, one module per kind, each drawn once into both PNG
//! (for the page) and SVG (for print) with plotters and an embedded DejaVu
//! font, so they render on a headless machine with no system fonts; and the
//! set-up they share (frame, mesh, legend, ranges, ticks).

pub mod bars;
pub mod curves;
pub mod frontier;
pub mod heatmap;
pub mod histogram;
pub mod lineup;
pub mod offscale;
pub mod panels;
pub mod pictures;
pub mod references;
pub mod runs;
pub mod tradeoff;

use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, bail, Context, Result};
use image::codecs::png::PngEncoder;
use image::{ColorType, ImageEncoder, RgbImage};
use plotters::chart::MeshStyle;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

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

/// The family every text is drawn in (the embedded DejaVu Sans).
pub const FONT: &str = "sans-serif";

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

/// A plotters error as an anyhow one (its message, not its Debug form).
pub fn err<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e}")
}

/// A chart that can be drawn on any plotters backend.
pub trait Figure {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the chart on `root`, already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
    /// Whether there is nothing to draw (every run failed, say).
    fn is_empty(&self) -> bool;
}

/// Draws `fig` as `dir/stem.png` and `.svg` and returns the markdown that
/// shows it; a figure with nothing to draw is not drawn (an older copy is
/// removed) and the markdown says so instead.
pub fn publish(fig: &impl Figure, dir: &Path, stem: &str, caption: &str) -> Result<String> {
    if fig.is_empty() {
        for ext in ["png", "svg"] {
            let old = dir.join(format!("{stem}.{ext}"));
            if old.exists() {
                std::fs::remove_file(&old).with_context(|| format!("removing {}", old.display()))?;
            }
        }
        return Ok(format!(
            "\n*Figure `{stem}` left out: nothing to draw (no successful run has a finite value for it).*\n"
        ));
    }
    save(fig, dir, stem)?;
    Ok(figure_md(stem, caption))
}

/// Draws `fig` in memory as PNG and SVG, then writes `dir/stem.png` and
/// `dir/stem.svg` with [`sae_data::write_atomic`]: a figure that cannot be
/// written leaves no temporary file and its error names the final path.
pub fn save(fig: &impl Figure, dir: &Path, stem: &str) -> Result<()> {
    let (png, svg) = (dir.join(format!("{stem}.png")), dir.join(format!("{stem}.svg")));
    let drawn = (|| {
        let bitmap = render_bitmap(fig.size(), |root| fig.draw(root))?;
        Ok::<_, anyhow::Error>((encode_png(&bitmap)?, render_svg(fig.size(), |root| fig.draw(root))?))
    })();
    let (png_bytes, svg_text) = drawn.with_context(|| format!("drawing {}", png.display()))?;
    sae_data::write_atomic(&png, &png_bytes)?;
    sae_data::write_atomic(&svg, svg_text.as_bytes())?;
    Ok(())
}

/// A picture `size` pixels large, filled white, then drawn on by `draw`.
pub fn render_bitmap(
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<RgbImage> {
    register_font();
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(RgbImage::from_raw(width, height, pixels).expect("three bytes a pixel"))
}

/// `image` as the bytes of a PNG file.
pub fn encode_png(image: &RgbImage) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(image.as_raw(), image.width(), image.height(), ColorType::Rgb8)
        .context("encoding a PNG")?;
    Ok(bytes)
}

/// The SVG text of a `size` picture filled white, then drawn on by `draw`.
fn render_svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<()>,
) -> Result<String> {
    register_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(text)
}

/// The markdown that shows figure `stem` with its caption.
pub fn figure_md(stem: &str, caption: &str) -> String {
    format!("\n![{caption}](figures/{stem}.png)\n\n*{caption}* ([SVG](figures/{stem}.svg))\n")
}

/// A chart on linear `f64` axes.
pub type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// How much room a chart gets around its plotting area.
#[derive(Debug, Clone, Copy)]
pub enum Frame {
    /// A figure of its own: a bold title, room for large axis labels.
    Full,
    /// One panel of several: a plain, smaller title and tighter margins.
    Panel,
}

/// Builds a chart titled `title` over `x` × `y` on `area`.
pub fn frame<'a, DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    kind: Frame,
    title: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<Chart<'a, DB>> {
    let (title_font, margin, x_area, y_area) = match kind {
        Frame::Full => ((FONT, 22).into_font().style(FontStyle::Bold), 16, 56, 80),
        Frame::Panel => ((FONT, 20).into_font(), 12, 48, 72),
    };
    ChartBuilder::on(area)
        .caption(title, title_font)
        .margin(margin)
        .x_label_area_size(x_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(x, y)
        .map_err(err)
}

/// The mesh of `chart` with the report's styles (no light grid lines) and
/// axis descriptions; the caller adds formatters and draws it.
pub fn mesh<'a, 'b, DB: DrawingBackend>(
    chart: &'b mut Chart<'a, DB>,
    x_desc: &str,
    y_desc: &str,
    font_size: u32,
) -> MeshStyle<'a, 'b, RangedCoordf64, RangedCoordf64, DB> {
    let mut m = chart.configure_mesh();
    m.x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, font_size))
        .axis_desc_style((FONT, font_size + 1))
        .light_line_style(WHITE.mix(0.0));
    m
}

/// Draws the legend of `chart` in corner `at`, over a pale box.
pub fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    font_size: u32,
    at: SeriesLabelPosition,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, font_size))
        .draw()
        .map_err(err)
}

/// Where in the `x` × `y` frame a legend covering `box_frac` of its width
/// and height hides the fewest `points`: a corner if one is as good as any
/// place, else the middle of a side or the centre. Lines pass their points
/// densified (see [`along`]).
pub fn legend_place(
    points: impl IntoIterator<Item = (f64, f64)>,
    x: &Range<f64>,
    y: &Range<f64>,
    box_frac: (f64, f64),
) -> SeriesLabelPosition {
    use SeriesLabelPosition::*;
    // Each place with the fraction of the frame its box starts at (left, bottom).
    let places = [
        (UpperRight, 1.0, 1.0),
        (UpperLeft, 0.0, 1.0),
        (LowerRight, 1.0, 0.0),
        (LowerLeft, 0.0, 0.0),
        (MiddleRight, 1.0, 0.5),
        (MiddleLeft, 0.0, 0.5),
        (UpperMiddle, 0.5, 1.0),
        (LowerMiddle, 0.5, 0.0),
        (MiddleMiddle, 0.5, 0.5),
    ];
    let mut counts = [0usize; 9];
    for (px, py) in points {
        let (u, v) = ((px - x.start) / (x.end - x.start), (py - y.start) / (y.end - y.start));
        for (i, (_, hu, hv)) in places.iter().enumerate() {
            let (u0, v0) = (hu * (1.0 - box_frac.0), hv * (1.0 - box_frac.1));
            counts[i] += usize::from((u0..=u0 + box_frac.0).contains(&u) && (v0..=v0 + box_frac.1).contains(&v));
        }
    }
    let best = (0..places.len()).min_by_key(|&i| (counts[i], i)).expect("nine places");
    places[best].0.clone()
}

/// The points of a polyline through `points`, ten per segment, so that
/// [`legend_place`] sees the lines and not only their ends.
pub fn along(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = points
        .windows(2)
        .flat_map(|w| {
            (0..10).map(move |i| {
                let t = i as f64 / 10.0;
                (w[0].0 + (w[1].0 - w[0].0) * t, w[0].1 + (w[1].1 - w[0].1) * t)
            })
        })
        .collect();
    out.extend(points.last());
    out
}

/// A legend entry drawn as a short line of `color`.
pub fn line_key(color: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
}

/// The smallest and largest of `values`; `None` when there are none.
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values.into_iter().fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// `[lo, hi]` widened by 8% on each side (5% of the value when the span is
/// zero), so points do not sit on the frame. Log axes pass log values.
pub fn padded(lo: f64, hi: f64) -> Result<Range<f64>> {
    if !(lo.is_finite() && hi.is_finite()) {
        bail!("an axis range from {lo} to {hi} cannot be drawn");
    }
    let pad = if hi - lo > 1e-12 { (hi - lo) * 0.08 } else { hi.abs().max(1.0) * 0.05 };
    Ok(lo - pad..hi + pad)
}

/// The y range for values from `lo` to `hi`: [`padded`], but never below
/// zero when no value is, and 0 to 1 when every value is 0 (a fraction of
/// dead units, say).
pub fn value_range(lo: f64, hi: f64) -> Result<Range<f64>> {
    if lo == 0.0 && hi == 0.0 {
        return Ok(0.0..1.0);
    }
    let r = padded(lo, hi)?;
    Ok(if lo >= 0.0 { r.start.max(0.0)..r.end } else { r })
}

/// The label of the category centred at `v` (an index), or nothing
/// between categories.
pub fn cell_label<T: ToString>(values: &[T], v: f64) -> String {
    let i = v.round();
    if (v - i).abs() > 0.05 || i < 0.0 {
        return String::new();
    }
    values.get(i as usize).map_or(String::new(), |x| x.to_string())
}

/// Tick label for a value on an axis that may be log10-transformed.
pub fn tick(v: f64, log: bool) -> String {
    // A log axis's ticks fall between round numbers: two significant digits.
    let x = if log { format!("{:.1e}", 10f64.powf(v)).parse().unwrap_or(f64::NAN) } else { v };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_read_naturally() {
        assert_eq!(tick(-2.0, true), "0.01");
        assert_eq!(tick(0.0, true), "1");
        assert_eq!((tick(0.6, true), tick(1.4, true), tick(2.4, true)), ("4".into(), "25".into(), "250".into()));
        assert_eq!(tick(0.25, false), "0.25");
        assert_eq!(tick(-4.0, true), "1e-4");
        assert_eq!(tick(7e-18, false), "0");
    }

    #[test]
    fn category_labels_sit_at_their_centres_only() {
        let values = [0.01, 0.1];
        assert_eq!(cell_label(&values, 0.0), "0.01");
        assert_eq!(cell_label(&values, 1.01), "0.1");
        assert_eq!(cell_label(&values, 0.5), "");
        assert_eq!(cell_label(&values, 2.0), "");
        assert_eq!(cell_label(&values, -1.0), "");
    }

    #[test]
    fn the_legend_goes_where_it_hides_nothing() {
        let (x, y) = (0.0..1.0, 0.0..1.0);
        let falling = along(&[(0.0, 1.0), (1.0, 0.0)]);
        assert!(matches!(legend_place(falling, &x, &y, (0.4, 0.3)), SeriesLabelPosition::UpperRight));
        let rising = along(&[(0.0, 0.0), (1.0, 1.0)]);
        assert!(matches!(legend_place(rising, &x, &y, (0.4, 0.3)), SeriesLabelPosition::UpperLeft));
        let top = along(&[(0.0, 0.95), (1.0, 0.95)]);
        assert!(matches!(legend_place(top, &x, &y, (0.4, 0.3)), SeriesLabelPosition::LowerRight));
        let both = along(&[(0.0, 0.95), (1.0, 0.95)]).into_iter().chain(along(&[(0.0, 0.05), (1.0, 0.05)]));
        assert!(matches!(legend_place(both, &x, &y, (0.4, 0.3)), SeriesLabelPosition::MiddleRight));
    }

    #[test]
    fn an_undrawable_range_is_an_error_not_a_panic() {
        assert!(padded(f64::INFINITY, f64::NEG_INFINITY).is_err());
        assert!(padded(0.0, f64::NAN).is_err());
        let r = padded(1.0, 2.0).unwrap();
        assert!((r.start - 0.92).abs() < 1e-12 && (r.end - 2.08).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn a_figure_that_cannot_be_written_names_its_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("h.png");
        // A folder in the way: the finished file cannot be renamed onto it.
        std::fs::create_dir(&png).unwrap();
        let fig = histogram::ActivationHistogram { title: "t".into(), values: vec![0.1, 0.2], rho: Some(0.05) };
        let e = format!("{:#}", save(&fig, dir.path(), "h").unwrap_err());
        assert!(e.contains(&png.display().to_string()), "{e}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["h.png"], "no temporary file is left");
    }

    #[test]
    fn value_ranges_of_non_negative_values_start_at_zero_at_most() {
        assert_eq!(value_range(0.0, 0.0).unwrap(), 0.0..1.0, "every value 0: the whole of [0, 1]");
        assert_eq!(value_range(0.0, 0.5).unwrap().start, 0.0);
        assert!(value_range(0.4, 0.5).unwrap().start > 0.39);
        assert!(value_range(-1.0, 1.0).unwrap().start < -1.0);
    }
}
