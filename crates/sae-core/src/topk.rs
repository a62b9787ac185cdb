//! TopK selection: keep the `k` largest activations of each code, zero the
//! rest. Ties go to the lower unit index, so the selection is a function
//! of the values alone. BatchTopK is the same selection over a whole batch
//! read as one row, with the threshold it learns for evaluation.

/// Zeroes all but the `k` largest values of each row of `code` (`[n, h]`,
/// values ≥ 0 as a sigmoid's or a ReLU's are; all of them for k = 0);
/// `scratch` is reused between calls.
///
/// A non-negative `f32`'s bits order as its value, so each entry becomes
/// one integer key — value in the high half, `u32::MAX − index` in the low
/// half — and a single `select_nth_unstable` on the keys finds the k-th
/// largest without a float comparison or a tie left undecided.
pub fn keep_top_k(code: &mut [f32], h: usize, k: usize, scratch: &mut Vec<u64>) {
    if k >= h {
        return;
    }
    if k == 0 {
        code.fill(0.0);
        return;
    }
    let key = |j: usize, v: f32| ((v.max(0.0).to_bits() as u64) << 32) | (u32::MAX - j as u32) as u64;
    for row in code.chunks_exact_mut(h) {
        scratch.clear();
        scratch.extend(row.iter().enumerate().map(|(j, &v)| key(j, v)));
        let (_, kth, _) = scratch.select_nth_unstable_by(k - 1, |a, b| b.cmp(a));
        let kth = *kth;
        for (j, v) in row.iter_mut().enumerate() {
            if key(j, *v) < kth {
                *v = 0.0;
            }
        }
    }
}

/// How much of BatchTopK's threshold each batch keeps: an exponential
/// moving average with β = 0.999, as dictionary_learning's trainer keeps it.
const THRESHOLD_DECAY: f64 = 0.999;

/// The smallest positive value of a selected code, 0 when none is (as
/// dictionary_learning counts it).
pub(crate) fn min_positive(code: &[f32]) -> f32 {
    let min = code.iter().filter(|v| **v > 0.0).fold(f32::INFINITY, |m, &v| m.min(v));
    if min.is_finite() {
        min
    } else {
        0.0
    }
}

/// BatchTopK's threshold after a batch whose smallest kept activation was
/// `kept_min`: that value on the first batch, then
/// `0.999 · threshold + 0.001 · kept_min`, computed in float64.
pub(crate) fn update_threshold(threshold: Option<f32>, kept_min: f32) -> f32 {
    match threshold {
        None => kept_min,
        Some(t) => (THRESHOLD_DECAY * f64::from(t) + (1.0 - THRESHOLD_DECAY) * f64::from(kept_min)) as f32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_k_largest_of_each_row() {
        let mut code = vec![0.1, 0.9, 0.5, 0.7, /* row 2 */ 0.3, 0.2, 0.8, 0.1];
        keep_top_k(&mut code, 4, 2, &mut Vec::new());
        assert_eq!(code, [0.0, 0.9, 0.0, 0.7, 0.3, 0.0, 0.8, 0.0]);
    }

    #[test]
    fn ties_go_to_the_lower_index() {
        let mut code = vec![0.5, 0.2, 0.5, 0.5];
        keep_top_k(&mut code, 4, 2, &mut Vec::new());
        assert_eq!(code, [0.5, 0.0, 0.5, 0.0]);
        let mut zeros = vec![0.0f32; 5];
        keep_top_k(&mut zeros, 5, 3, &mut Vec::new());
        assert_eq!(zeros, [0.0; 5]);
    }

    #[test]
    fn k_at_least_the_width_keeps_everything() {
        let mut code = vec![0.3, 0.1, 0.2];
        keep_top_k(&mut code, 3, 3, &mut Vec::new());
        assert_eq!(code, [0.3, 0.1, 0.2]);
        keep_top_k(&mut code, 3, 0, &mut Vec::new());
        assert_eq!(code, [0.0; 3]);
    }

    #[test]
    fn a_batch_read_as_one_row_keeps_its_k_times_b_largest() {
        // Two images of three units, k = 1: the two largest of the batch,
        // both in the first image.
        let mut code = vec![0.9, 0.8, 0.0, /* image 2 */ 0.1, 0.2, 0.3];
        keep_top_k(&mut code, 6, 2, &mut Vec::new());
        assert_eq!(code, [0.9, 0.8, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!((min_positive(&code), min_positive(&[0.0, 0.0])), (0.8, 0.0));
        assert_eq!(update_threshold(None, 0.5), 0.5);
        assert_eq!(update_threshold(Some(1.0), 0.0), 0.999);
    }
}
