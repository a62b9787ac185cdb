//! Unit-norm decoder atoms: the columns of `W₂` (`[D, H]`, row-major)
//! rescaled to norm 1, and a gradient's component along each atom removed,
//! as Gao et al., SAELens and dictionary_learning keep their decoders.

/// The squared norm of each column of a row-major `[_, h]` matrix, summed
/// in f64 down the rows.
fn column_norms_squared(w: &[f32], h: usize) -> Vec<f64> {
    let mut sums = vec![0.0f64; h];
    for row in w.chunks_exact(h) {
        sums.iter_mut().zip(row).for_each(|(s, &v)| *s += (v as f64).powi(2));
    }
    sums
}

/// Rescales every column (atom) of the row-major decoder `dec_w` (`[D, h]`)
/// to unit norm, dividing each value in f64; a column of zeros stays zero.
/// Tied starts are drawn with it.
pub(crate) fn normalise_atoms(dec_w: &mut [f32], h: usize) {
    let norms: Vec<f64> = column_norms_squared(dec_w, h).into_iter().map(|s| s.sqrt().max(f64::MIN_POSITIVE)).collect();
    for row in dec_w.chunks_exact_mut(h) {
        row.iter_mut().zip(&norms).for_each(|(v, n)| *v = (*v as f64 / n) as f32);
    }
}

/// Rescales every atom of `dec_w` (`[D, h]`) to unit norm after a step:
/// the squared norms summed and the values multiplied by the reciprocal
/// norm in f32, eight lanes at a time ([`normalise_atoms`] divides each
/// value in f64, as tied starts have always been drawn, at several times
/// the cost). A step moves an atom little from norm 1, so f32 loses
/// nothing that matters.
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn renormalise_atoms(dec_w: &mut [f32], h: usize) {
    let mut inverse = vec![0.0f32; h];
    for row in dec_w.chunks_exact(h) {
        inverse.iter_mut().zip(row).for_each(|(s, &v)| *s += v * v);
    }
    inverse.iter_mut().for_each(|s| *s = 1.0 / s.sqrt().max(f32::MIN_POSITIVE));
    for row in dec_w.chunks_exact_mut(h) {
        row.iter_mut().zip(&inverse).for_each(|(v, r)| *v *= r);
    }
}

/// Removes from `grad` (`[D, h]`, the decoder's gradient) its component
/// along each atom of `dec_w`: `g_j ← g_j − (g_j·w_j / w_j·w_j) w_j`, so that
/// a step moves each atom only perpendicular to itself (sums in f32).
#[multiversion::multiversion(targets("x86_64+avx2+fma", "aarch64+neon"))]
pub(crate) fn remove_parallel_gradient(dec_w: &[f32], grad: &mut [f32], h: usize) {
    let (mut dots, mut norms) = (vec![0.0f32; h], vec![0.0f32; h]);
    for (w_row, g_row) in dec_w.chunks_exact(h).zip(grad.chunks_exact(h)) {
        for ((dot, norm), (&w, &g)) in dots.iter_mut().zip(norms.iter_mut()).zip(w_row.iter().zip(g_row)) {
            *dot += w * g;
            *norm += w * w;
        }
    }
    dots.iter_mut().zip(&norms).for_each(|(d, n)| *d /= n.max(f32::MIN_POSITIVE));
    for (w_row, g_row) in dec_w.chunks_exact(h).zip(grad.chunks_exact_mut(h)) {
        g_row.iter_mut().zip(w_row.iter().zip(&dots)).for_each(|(g, (&w, &a))| *g -= a * w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_become_unit_and_the_gradient_perpendicular() {
        let (d, h) = (5, 3);
        let mut w: Vec<f32> = (0..d * h).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
        let mut fast = w.clone();
        normalise_atoms(&mut w, h);
        renormalise_atoms(&mut fast, h);
        for (j, n) in column_norms_squared(&w, h).iter().enumerate() {
            assert!((n - 1.0).abs() < 1e-6, "atom {j}: squared norm {n}");
        }
        w.iter().zip(&fast).for_each(|(a, b)| assert!((a - b).abs() < 1e-6, "{a} against {b}"));
        let mut g: Vec<f32> = (0..d * h).map(|i| (i as f32 * 0.91).cos()).collect();
        let before = g.clone();
        remove_parallel_gradient(&w, &mut g, h);
        for j in 0..h {
            let dot: f32 = (0..d).map(|k| g[k * h + j] * w[k * h + j]).sum();
            assert!(dot.abs() < 1e-6, "atom {j}: {dot} left along the atom");
            // What was removed is a multiple of the atom.
            let removed: Vec<f32> = (0..d).map(|k| before[k * h + j] - g[k * h + j]).collect();
            let scale: f32 = (0..d).map(|k| removed[k] * w[k * h + j]).sum();
            (0..d).for_each(|k| assert!((removed[k] - scale * w[k * h + j]).abs() < 1e-5));
        }
    }
}
