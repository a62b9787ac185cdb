//! Pictures of images (PNG): rows of test digits (clean, corrupted,
//! reconstructed, thresholded) and the decoder atoms, one tile per hidden
//! unit. Raster content, so PNG only.

use std::path::Path;

use anyhow::{anyhow, Context, Result};
use plotters::prelude::*;

use super::register_font;
use sae_core::to_unit;

const SCALE: u32 = 3;
const GAP: u32 = 4;

fn grey(v: f32) -> RGBColor {
    let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    RGBColor(g, g, g)
}

/// Draws `pixels` (`side × side`, values in [0, 1]) at `(x, y)`, each
/// pixel a `scale × scale` square.
fn blit<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    pixels: &[f32],
    side: usize,
    x: i32,
    y: i32,
    scale: u32,
) -> Result<()> {
    for (i, &v) in pixels.iter().enumerate() {
        let (px, py) = (x + (i % side) as i32 * scale as i32, y + (i / side) as i32 * scale as i32);
        area.draw(&Rectangle::new([(px, py), (px + scale as i32, py + scale as i32)], grey(v).filled()))
            .map_err(|e| anyhow!("drawing failed: {e}"))?;
    }
    Ok(())
}

fn save_png(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<()> {
    register_font();
    let tmp = path.with_extension("tmp.png");
    let drawn = (|| {
        let root = BitMapBackend::new(&tmp, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("drawing failed: {e}"))?;
        draw(&root)?;
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))
    })();
    if let Err(e) = drawn {
        // Nothing half-written is left behind (a full disk, say).
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A picture of `rows` of images, each row labelled: every row holds the
/// same `n` test images (normalised units, `side × side`) seen differently.
pub fn digit_rows(path: &Path, title: &str, rows: &[(&str, &[f32])], n: usize, side: usize) -> Result<()> {
    // About 10 pixels a character at this size, and room for the longest label.
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0) as u32;
    let label_w = (20 + 10 * longest).max(190);
    let cell = side as u32 * SCALE + GAP;
    let size = (label_w + n as u32 * cell + GAP, 50 + rows.len() as u32 * cell + GAP);
    save_png(path, size, |root| {
        let font = ("sans-serif", 18).into_font();
        root.draw(&Text::new(title.to_string(), (10, 12), ("sans-serif", 20).into_font().style(FontStyle::Bold)))
            .map_err(|e| anyhow!("drawing failed: {e}"))?;
        for (r, (label, images)) in rows.iter().enumerate() {
            let y = 50 + r as u32 * cell;
            root.draw(&Text::new(label.to_string(), (10, (y + cell / 2 - 9) as i32), font.clone()))
                .map_err(|e| anyhow!("drawing failed: {e}"))?;
            for (k, image) in images.chunks_exact(side * side).take(n).enumerate() {
                let unit: Vec<f32> = image.iter().map(|&v| to_unit(v)).collect();
                blit(root, &unit, side, (label_w + k as u32 * cell) as i32, y as i32, SCALE)?;
            }
        }
        Ok(())
    })
}

/// The decoder atoms (`[H, side²]`), one tile per hidden unit, each tile
/// stretched to its own minimum and maximum so faint atoms stay visible.
pub fn atoms(path: &Path, title: &str, atoms: &[f32], side: usize) -> Result<()> {
    let d = side * side;
    let h = atoms.len() / d;
    let cols = (h as f64).sqrt().ceil() as u32;
    let rows = (h as u32).div_ceil(cols);
    let scale = if h > 400 { 1 } else { 2 };
    let cell = side as u32 * scale + 2;
    let size = ((cols * cell + 2).max(520), 44 + rows * cell + 2);
    save_png(path, size, |root| {
        root.draw(&Text::new(title.to_string(), (8, 10), ("sans-serif", 18).into_font().style(FontStyle::Bold)))
            .map_err(|e| anyhow!("drawing failed: {e}"))?;
        for (j, atom) in atoms.chunks_exact(d).enumerate() {
            let (lo, hi) = atom.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            let span = (hi - lo).max(1e-6);
            let unit: Vec<f32> = atom.iter().map(|&v| (v - lo) / span).collect();
            let (c, r) = (j as u32 % cols, j as u32 / cols);
            blit(root, &unit, side, (2 + c * cell) as i32, (44 + r * cell) as i32, scale)?;
        }
        Ok(())
    })
}
