//! What a chart does with values it cannot hold and labels that would
//! collide: a y range chosen from the runs alone, holding a baseline only
//! where it lies near them (the others are off scale, named at the edge);
//! and labels moved apart until none overlaps another.

use std::ops::Range;

use anyhow::Result;

use plotters::prelude::DrawingBackend;

use super::{value_range, Chart};

/// How far beyond the runs' own spread, in multiples of it, a baseline may
/// lie and still stretch the axis to hold it: the runs keep at least a
/// fifth of the height.
const REACH: f64 = 2.0;

/// Where a baseline lies against a y range chosen from the runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Drawn on the axis.
    Inside,
    /// Above the drawn range: noted at the top edge.
    Above,
    /// Below the drawn range: noted at the bottom edge.
    Below,
}

/// The y range of a panel whose runs span `runs` (lowest and highest value,
/// error bars included), stretched to hold each baseline of `refs` (its
/// lowest and highest value) that lies within [`REACH`] spreads of them;
/// and where each baseline lies. The spread is at least a tenth of the
/// runs' magnitude, so runs that nearly agree do not push every baseline
/// off the axis.
pub fn fitted_range(runs: (f64, f64), refs: &[(f64, f64)]) -> Result<(Range<f64>, Vec<Fit>)> {
    let (lo, hi) = runs;
    let reach = REACH * (hi - lo).max(0.1 * lo.abs().max(hi.abs()));
    let fits: Vec<Fit> = refs
        .iter()
        .map(|&(rlo, rhi)| match (rlo >= lo - reach, rhi <= hi + reach) {
            (true, true) => Fit::Inside,
            (_, false) => Fit::Above,
            (false, true) => Fit::Below,
        })
        .collect();
    let (lo, hi) = refs
        .iter()
        .zip(&fits)
        .filter(|(_, f)| **f == Fit::Inside)
        .fold((lo, hi), |(lo, hi), (r, _)| (lo.min(r.0), hi.max(r.1)));
    Ok((value_range(lo, hi)?, fits))
}

/// Positions, at least `gap` apart, for labels that want to sit at
/// `wanted` (pixels or units along one direction, in any order): in order
/// of their wanted places, each label moves forward (up, or right) only as
/// far as the one before it demands, so labels already apart stay where
/// they are and their order is kept.
pub fn spread(wanted: &[f64], gap: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by(|a, b| wanted[*a].total_cmp(&wanted[*b]));
    let mut out = wanted.to_vec();
    for w in order.windows(2) {
        out[w[1]] = out[w[1]].max(out[w[0]] + gap);
    }
    out
}

/// The chart's units per pixel along x and along y.
pub fn per_pixel<DB: DrawingBackend>(chart: &Chart<'_, DB>) -> (f64, f64) {
    let (x, y) = (chart.x_range(), chart.y_range());
    let (left, bottom) = chart.backend_coord(&(x.start, y.start));
    let (right, top) = chart.backend_coord(&(x.end, y.end));
    ((x.end - x.start) / f64::from((right - left).max(1)), (y.end - y.start) / f64::from((bottom - top).max(1)))
}

/// The texts of `fig` drawn as SVG, each with where it is drawn (x, y).
#[cfg(test)]
pub fn drawn_texts(fig: &impl super::Figure) -> Vec<(f64, f64, String)> {
    let svg = super::render_svg(fig.size(), |root| fig.draw(root)).expect("the figure draws");
    let attr = |tag: &str, name: &str| -> f64 {
        let from = tag.find(&format!(" {name}=\"")).expect("an attribute") + name.len() + 3;
        tag[from..].split('"').next().and_then(|v| v.parse().ok()).expect("a number")
    };
    svg.split("<text")
        .skip(1)
        .map(|t| {
            let (tag, rest) = t.split_once('>').expect("a closed tag");
            (attr(tag, "x"), attr(tag, "y"), rest.split("</text>").next().unwrap_or("").trim().to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_baseline_does_not_stretch_the_runs_axis() {
        // The rho sweep's test MSE: runs 0.052 to 0.065, the corrupted
        // input at 1.0, PCA at 0.07.
        let (range, fits) = fitted_range((0.052, 0.065), &[(1.0, 1.0), (0.07, 0.07)]).unwrap();
        assert_eq!(fits, [Fit::Above, Fit::Inside]);
        assert!(range.end < 0.08 && range.end > 0.07, "{range:?}");
        assert!(range.start > 0.04, "{range:?}");
        // PSNR: the input far below the runs.
        let (range, fits) = fitted_range((18.3, 19.0), &[(9.4, 9.4)]).unwrap();
        assert_eq!(fits, [Fit::Below]);
        assert!(range.start > 15.0, "{range:?}");
    }

    #[test]
    fn a_near_baseline_is_drawn_on_the_axis() {
        let (range, fits) = fitted_range((0.90, 0.92), &[(0.88, 0.88), (0.83, 0.83)]).unwrap();
        assert_eq!(fits, [Fit::Inside, Fit::Inside]);
        assert!(range.start < 0.83 && range.end > 0.92, "{range:?}");
    }

    #[test]
    fn labels_that_would_overlap_are_moved_apart() {
        // Two baselines at 0.922 and 0.923: two pixels apart on the axis.
        assert_eq!(spread(&[100.0, 102.0], 14.0), [100.0, 114.0]);
        assert_eq!(spread(&[102.0, 100.0], 14.0), [114.0, 100.0], "the higher value keeps the higher label");
        // Labels already apart do not move; a run of close ones is stacked.
        assert_eq!(spread(&[50.0, 10.0, 200.0], 14.0), [50.0, 10.0, 200.0]);
        assert_eq!(spread(&[30.0, 20.0, 25.0, 300.0], 10.0), [40.0, 20.0, 30.0, 300.0]);
    }
}
