//! The same test digits, every configuration: clean, corrupted, then as
//! each configuration of the sweep reconstructs them (its first seed), one
//! labelled row each, so the eye compares them directly.

use std::path::Path;

use anyhow::Result;

use super::pictures;
use super::runs::DIGITS;
use crate::report::axes::config_label;
use crate::report::{table, Inputs};
use sae_sweep::Param;
use sae_sweep::{RunRow, SharedData};

/// Configurations shown at most; a longer sweep shows an even spread of
/// them, the best always included.
pub const MAX_CONFIGS: usize = 12;

/// The indices of `n` items to show, at most `max`: all of them, or an even
/// spread from first to last with `keep` swapped in for its nearest.
pub fn spread(n: usize, max: usize, keep: Option<usize>) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    let mut picked: Vec<usize> = (0..max).map(|i| i * (n - 1) / (max - 1).max(1)).collect();
    if let Some(k) = keep.filter(|k| !picked.contains(k)) {
        let nearest = (0..picked.len()).min_by_key(|&i| picked[i].abs_diff(k)).expect("max > 0");
        picked[nearest] = k;
        picked.sort_unstable();
    }
    picked
}

/// The figure, when the sweep has two configurations or more that
/// succeeded; returns its markdown.
pub fn same_digits(inp: &Inputs<'_>, data: &SharedData, fig_dir: &Path) -> Result<String> {
    let ok: Vec<usize> = (0..inp.groups.len()).filter(|&i| !inp.groups[i].ok.is_empty()).collect();
    if ok.len() < 2 {
        return Ok(String::new());
    }
    let best = table::best(&inp.groups).and_then(|b| ok.iter().position(|&i| i == b));
    let shown = spread(ok.len(), MAX_CONFIGS, best);
    let runs: Vec<&RunRow> = shown.iter().map(|&i| inp.groups[ok[i]].ok[0]).collect();
    let mut images: Vec<(String, Vec<f32>)> = Vec::new();
    let (mut side, mut n) = (0, 0);
    let corruptions: Vec<String> = runs.iter().map(|r| r.text(Param::Corruption)).collect();
    let single_corruption = corruptions.iter().all(|c| *c == corruptions[0]);
    for (i, (row, c)) in runs.iter().zip(&corruptions).enumerate() {
        let spec = inp.spec(&row.run_id)?;
        let run = data.for_run(&spec.config)?;
        let (test, input) = (&run.splits.test, &run.test_input);
        (side, n) = (test.rows, DIGITS.min(test.n));
        let x = &input.pixels[..n * test.dim()];
        if images.is_empty() {
            images.push(("clean".into(), test.pixels[..n * test.dim()].to_vec()));
        }
        if (i == 0 || corruptions[i - 1] != *c) && c != "none" {
            let label = if single_corruption { "corrupted input".into() } else { format!("input: {c}") };
            images.push((label, x.to_vec()));
        }
        let model = inp.results.model(spec)?;
        // A sweep over corruptions alone names its rows by the input above.
        let label = config_label(&inp.axes, row);
        let label = if label == *c { "reconstruction".into() } else { label };
        images.push((label, model.forward(x, n).recon));
    }
    let rows: Vec<(&str, &[f32])> = images.iter().map(|(l, p)| (l.as_str(), p.as_slice())).collect();
    let stem = "same_digits";
    pictures::digit_rows(
        &fig_dir.join(format!("{stem}.png")),
        "The same test digits, every configuration",
        &rows,
        n,
        side,
    )?;
    let left_out: Vec<String> = (0..ok.len())
        .filter(|i| !shown.contains(i))
        .map(|i| config_label(&inp.axes, inp.groups[ok[i]].first))
        .collect();
    let note = if left_out.is_empty() {
        String::new()
    } else {
        format!(
            " {} of {} configurations shown, an even spread with the best included; left out: {}.",
            shown.len(),
            ok.len(),
            left_out.join("; ")
        )
    };
    Ok(format!(
        "\n## The same digits, every configuration\n\n![same digits](figures/{stem}.png)\n\n*The first {n} test digits clean, \
         corrupted, and reconstructed by each configuration (its first seed), one row each.{note}*\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_sweep_shows_an_even_spread_with_the_best() {
        assert_eq!(spread(5, 12, Some(3)), vec![0, 1, 2, 3, 4]);
        assert_eq!(spread(16, 4, None), vec![0, 5, 10, 15]);
        assert_eq!(spread(16, 4, Some(7)), vec![0, 7, 10, 15]);
        assert_eq!(spread(16, 4, Some(10)), vec![0, 5, 10, 15]);
    }
}
