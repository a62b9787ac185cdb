//! Makhzani and Frey's schedule for a k-sparse code: k annealed from a
//! larger value to the mechanism's in the first epochs of training.

use crate::SparsityConfig;

/// Makhzani and Frey's schedule for a k-sparse code: training starts with
/// `from` units kept per image, and k falls linearly, epoch by epoch, to
/// the mechanism's k after `epochs` epochs, so that every unit is picked
/// often early on and fewer die.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KSchedule {
    /// The units kept in the first epoch, at least the mechanism's k.
    pub from: usize,
    /// The epochs over which k falls to its target, at least 1 and at
    /// most the training's.
    pub epochs: usize,
}

impl KSchedule {
    /// The units kept in epoch `epoch` (from 0) for a target of `k`:
    /// `from + (k − from) · epoch / epochs`, rounded to the nearest unit,
    /// and `k` from epoch `epochs` on.
    pub fn k_at(&self, k: usize, epoch: usize) -> usize {
        if epoch >= self.epochs || self.from <= k {
            return k;
        }
        let fallen = ((self.from - k) * epoch + self.epochs / 2) / self.epochs;
        self.from - fallen
    }

    /// `sparsity` as it trains in epoch `epoch` (from 0) under `schedule`:
    /// a TopK or BatchTopK mechanism with the schedule's k, any other as
    /// it is.
    pub fn sparsity_in_epoch(schedule: Option<Self>, sparsity: SparsityConfig, epoch: usize) -> SparsityConfig {
        match (schedule, sparsity) {
            (Some(s), SparsityConfig::Topk { k, aux }) => SparsityConfig::Topk { k: s.k_at(k, epoch), aux },
            (Some(s), SparsityConfig::BatchTopk { k, aux }) => SparsityConfig::BatchTopk { k: s.k_at(k, epoch), aux },
            (_, other) => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_annealed_k_falls_linearly_and_reaches_its_target_on_schedule() {
        let schedule = KSchedule { from: 100, epochs: 10 };
        let ks: Vec<usize> = (0..12).map(|e| schedule.k_at(25, e)).collect();
        assert_eq!(ks, [100, 92, 85, 77, 70, 62, 55, 47, 40, 32, 25, 25]);
        assert_eq!(KSchedule { from: 25, epochs: 4 }.k_at(25, 0), 25, "from = k does not anneal");
        let topk = SparsityConfig::Topk { k: 25, aux: None };
        assert_eq!(KSchedule::sparsity_in_epoch(Some(schedule), topk, 1).top_k(), Some(92));
        assert_eq!(KSchedule::sparsity_in_epoch(None, topk, 1), topk);
        let l1 = SparsityConfig::L1 { weight: 0.1 };
        assert_eq!(KSchedule::sparsity_in_epoch(Some(schedule), l1, 0), l1);
    }
}
