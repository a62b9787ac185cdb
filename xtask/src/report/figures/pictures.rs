//! Pictures of images (PNG): rows of test digits (clean, corrupted,
//! reconstructed, thresholded) and the decoder atoms, one tile per hidden
//! unit. Raster content, so PNG only.

use std::path::Path;

use anyhow::{Context, Result};
use image::{imageops, Rgb, RgbImage};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{encode_png, err, render_bitmap, FONT};
use sae_core::to_unit;

const SCALE: u32 = 3;
const GAP: u32 = 4;

/// An image tile: `pixels` (`side × side`, values in [0, 1], clamped) in
/// grey, each pixel a `scale × scale` square (nearest neighbour).
fn tile(pixels: &[f32], side: usize, scale: u32) -> RgbImage {
    let edge = side as u32 * scale;
    RgbImage::from_fn(edge, edge, |x, y| {
        let v = pixels[(y / scale) as usize * side + (x / scale) as usize];
        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        Rgb([g, g, g])
    })
}

/// Writes a `size` PNG to `path`: white, the text drawn by `texts`, and
/// each tile pasted with its top-left corner at its `(x, y)`.
fn save_png(
    path: &Path,
    size: (u32, u32),
    texts: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
    tiles: impl IntoIterator<Item = (RgbImage, u32, u32)>,
) -> Result<()> {
    let mut picture = render_bitmap(size, texts).with_context(|| format!("drawing {}", path.display()))?;
    for (tile, x, y) in tiles {
        imageops::replace(&mut picture, &tile, x.into(), y.into());
    }
    sae_data::write_atomic(path, &encode_png(&picture)?)?;
    Ok(())
}

/// A picture of `rows` of images, each row labelled: every row holds the
/// same `n` test images (normalised units, `side × side`) seen differently.
pub fn digit_rows(path: &Path, title: &str, rows: &[(&str, &[f32])], n: usize, side: usize) -> Result<()> {
    // About 10 pixels a character at this size, and room for the longest label.
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0) as u32;
    let label_w = (20 + 10 * longest).max(190);
    let cell = side as u32 * SCALE + GAP;
    let size = (label_w + n as u32 * cell + GAP, 50 + rows.len() as u32 * cell + GAP);
    let texts = |root: &DrawingArea<BitMapBackend<'_>, Shift>| {
        let font = (FONT, 18).into_font();
        root.draw(&Text::new(title.to_string(), (10, 12), (FONT, 20).into_font().style(FontStyle::Bold)))
            .map_err(err)?;
        for (r, (label, _)) in rows.iter().enumerate() {
            let y = 50 + r as u32 * cell;
            root.draw(&Text::new(label.to_string(), (10, (y + cell / 2 - 9) as i32), font.clone())).map_err(err)?;
        }
        Ok(())
    };
    let tiles = rows.iter().enumerate().flat_map(|(r, (_, images))| {
        images.chunks_exact(side * side).take(n).enumerate().map(move |(k, image)| {
            let unit: Vec<f32> = image.iter().map(|&v| to_unit(v)).collect();
            (tile(&unit, side, SCALE), label_w + k as u32 * cell, 50 + r as u32 * cell)
        })
    });
    save_png(path, size, texts, tiles)
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
    let texts = |root: &DrawingArea<BitMapBackend<'_>, Shift>| {
        root.draw(&Text::new(title.to_string(), (8, 10), (FONT, 18).into_font().style(FontStyle::Bold)))
            .map_err(err)?;
        Ok(())
    };
    let tiles = atoms.chunks_exact(d).enumerate().map(|(j, atom)| {
        let (lo, hi) = atom.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
        let span = (hi - lo).max(1e-6);
        let unit: Vec<f32> = atom.iter().map(|&v| (v - lo) / span).collect();
        let (c, r) = (j as u32 % cols, j as u32 / cols);
        (tile(&unit, side, scale), 2 + c * cell, 44 + r * cell)
    });
    save_png(path, size, texts, tiles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_image_is_a_tile_of_grey_squares_beside_its_label() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.png");
        // Two 2×2 images in normalised units: black, white / mid grey, black; then all black.
        let images = [-1.0, 1.0, 0.0, -1.0, -1.0, -1.0, -1.0, -1.0];
        digit_rows(&path, "t", &[("clean", &images)], 2, 2).unwrap();
        let picture = image::open(&path).unwrap().to_rgb8();
        let label_w = 190;
        let at = |x: u32, y: u32| picture.get_pixel(label_w + x, 50 + y).0;
        assert_eq!(at(0, 0), [0, 0, 0]);
        assert_eq!(at(SCALE - 1, SCALE - 1), [0, 0, 0], "a pixel is a SCALE × SCALE square");
        assert_eq!(at(SCALE, 0), [255, 255, 255]);
        assert_eq!(at(0, SCALE), [128, 128, 128]);
        assert_eq!(at(2 * SCALE + GAP, 0), [0, 0, 0], "the second image, after a gap");
        assert_eq!(at(2 * SCALE, 0), [255, 255, 255], "the gap is white");
    }

    #[test]
    fn a_picture_that_cannot_be_written_names_its_path_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("atoms.png");
        // A folder in the way: the finished file cannot be renamed onto it.
        std::fs::create_dir(&path).unwrap();
        let e = format!("{:#}", atoms(&path, "t", &[0.0, 1.0, 0.5, 0.25], 2).unwrap_err());
        assert!(e.contains(&path.display().to_string()), "{e}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["atoms.png"], "no temporary file is left");
    }
}
