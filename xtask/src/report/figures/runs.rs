//! The runs pictured in detail: for each, its test digits clean, corrupted,
//! reconstructed and thresholded, its decoder atoms, and the histogram of
//! its units' mean activations.

use std::fmt::Write as _;
use std::path::Path;

use sae_sweep::Metric;

use anyhow::Result;

use super::histogram::ActivationHistogram;
use super::{pictures, save};
use crate::report::axes::{self, config_label};
use crate::report::{table, Inputs};
use sae_sweep::{Param, RunRow, SharedData};

/// Test digits shown per picture.
pub const DIGITS: usize = 10;
/// Runs pictured, at most: enough for a default sweep (five values of ρ)
/// and the best run.
const PICTURED: usize = 6;

/// The runs pictured: the best configuration's first seed, then the best
/// run of each value of the first swept parameter.
fn pictured<'a>(inp: &'a Inputs<'_>) -> Vec<&'a RunRow> {
    let mut chosen: Vec<&RunRow> = Vec::new();
    if let Some(b) = table::best(&inp.groups) {
        chosen.push(inp.groups[b].ok[0]);
    }
    if let Some(axis) = inp.axes.first() {
        let mut seen: Vec<String> = chosen.iter().map(|r| axes::text(*axis, r)).collect();
        let psnr = |g: &sae_sweep::ConfigSummary<'_>| g.stat(Metric::PsnrDb).map(|s| s.0).unwrap_or(f64::MIN);
        for g in &inp.groups {
            if g.ok.is_empty() || seen.contains(&axes::text(*axis, g.first)) {
                continue;
            }
            let best_here = inp
                .groups
                .iter()
                .filter(|h| !h.ok.is_empty() && axes::text(*axis, h.first) == axes::text(*axis, g.first))
                .max_by(|a, b| psnr(a).total_cmp(&psnr(b)));
            if let Some(h) = best_here {
                seen.push(axes::text(*axis, h.first));
                chosen.push(h.ok[0]);
            }
        }
    }
    chosen.truncate(PICTURED);
    chosen
}

/// The report's section on what the models do, with the pictures of every
/// pictured run.
pub fn run_pictures(inp: &Inputs<'_>, data: &SharedData, fig_dir: &Path) -> Result<String> {
    let mut md = String::from("\n## What the models do\n\nFor each run pictured: the first test digits clean, corrupted, reconstructed, and reconstructed from the strongly active units only (activations below 0.5 zeroed); the decoder atoms (the decoder's output for each one-hot code); and the distribution of the units' mean activations.\n");
    let chosen = pictured(inp);
    if chosen.is_empty() {
        md.push_str("\nNo successful run to picture.\n");
    }
    if let Some(axis) = inp.axes.first() {
        let mut left_out: Vec<String> = Vec::new();
        for g in inp.groups.iter().filter(|g| !g.ok.is_empty()) {
            let v = axes::text(*axis, g.first);
            if !chosen.iter().any(|r| axes::text(*axis, r) == v) && !left_out.contains(&v) {
                left_out.push(v);
            }
        }
        if !left_out.is_empty() {
            let _ = writeln!(md, "\nAt most {PICTURED} runs are pictured; not pictured: {}.", left_out.join(", "));
        }
    }
    for row in chosen {
        md.push_str(&run_picture(inp, data, fig_dir, row)?);
    }
    Ok(md)
}

/// The pictures of one run and their markdown.
fn run_picture(inp: &Inputs<'_>, data: &SharedData, fig_dir: &Path, row: &RunRow) -> Result<String> {
    let spec = inp.spec(&row.run_id)?;
    let model = inp.results.model(spec)?;
    let run = data.for_run(&spec.config)?;
    let (test, input) = (&run.splits.test, &run.test_input);
    let n = DIGITS.min(test.n);
    let d = test.dim();
    let x = &input.pixels[..n * d];
    let fwd = model.forward(x, n);
    let thresholded = model.thresholded_recon(x, n, 0.5);
    let label = config_label(&inp.axes, row);
    let id = &row.run_id;
    let rows: [(&str, &[f32]); 4] = [
        ("clean", &test.pixels[..n * d]),
        ("corrupted input", x),
        ("reconstruction", &fwd.recon),
        ("thresholded", &thresholded),
    ];
    pictures::digit_rows(
        &fig_dir.join(format!("digits_{id}.png")),
        &format!("{label}: test digits"),
        &rows,
        n,
        test.rows,
    )?;
    pictures::atoms(
        &fig_dir.join(format!("atoms_{id}.png")),
        &format!("{label}: decoder atoms ({} units)", model.config.hidden),
        &model.decoder_atoms(),
        test.rows,
    )?;
    let all = model.forward(&input.pixels, input.n);
    let h = model.config.hidden;
    let mut rho_hat = vec![0.0f64; h];
    all.code
        .chunks_exact(h)
        .for_each(|c| rho_hat.iter_mut().zip(c).for_each(|(r, &v)| *r += v as f64 / input.n as f64));
    let hist = ActivationHistogram {
        title: format!("{label}: mean activation per unit"),
        values: rho_hat,
        rho: row.number(Param::Rho),
    };
    save(&hist, fig_dir, &format!("activation_{id}"))?;
    let mut md = String::new();
    let _ = write!(
        md,
        "\n### {label} (`{id}`)\n\nTest PSNR {:.2} dB, SSIM {:.3}, {:.1} active units per image, {:.0}% dead and {:.0}% dense latents.\n\n\
         ![digits](figures/digits_{id}.png)\n\n![atoms](figures/atoms_{id}.png)\n\n![activations](figures/activation_{id}.png)\n",
        row.metric(Metric::PsnrDb).unwrap_or(f64::NAN),
        row.metric(Metric::Ssim).unwrap_or(f64::NAN),
        row.metric(Metric::ActivePerImage).unwrap_or(f64::NAN),
        100.0 * row.metric(Metric::DeadLatents).unwrap_or(f64::NAN),
        100.0 * row.metric(Metric::DenseLatents).unwrap_or(f64::NAN)
    );
    Ok(md)
}
