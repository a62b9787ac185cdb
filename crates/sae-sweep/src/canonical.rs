//! One way of writing each configuration: what a run id hashes, so that
//! settings that train the same numbers, written differently, make one run.

use crate::values::{Label, NonEmpty};
use crate::Experiment;

/// How many labels an MNIST-layout dataset has: listing all of them keeps
/// every image, as listing none does.
const LABELS: usize = 10;

impl Experiment {
    /// This experiment written canonically, as run ids hash it: label lists
    /// (`[data]` and `[probe]`) sorted, a list of all ten labels written as
    /// no list (both keep every image), and every `-0.0` written `0.0` (the
    /// two are one value in every computation). Each change is one that
    /// cannot change a number a run produces: `labelled` selects images by
    /// membership, whatever the order, and the probe's classes are the
    /// labels of its images. Canonical settings are their own canonical
    /// form.
    pub fn canonical(&self) -> Experiment {
        let mut c = self.clone();
        c.data.labels = canonical_labels(&c.data.labels);
        c.probe.labels = canonical_labels(&c.probe.labels);
        positive_zeros(c)
    }
}

/// `labels` sorted, without repeats, and `None` when it lists every label.
fn canonical_labels(labels: &Option<NonEmpty<Label>>) -> Option<NonEmpty<Label>> {
    let mut sorted = labels.as_ref()?.0.clone();
    sorted.sort_by_key(|l| l.0);
    sorted.dedup();
    (sorted.len() < LABELS).then_some(NonEmpty(sorted))
}

/// `e` with every `-0.0` it holds, in whichever section or mechanism,
/// written `0.0`: through its JSON form, which every value of a run has, so
/// a float key added later is covered too. Unchanged (and not rebuilt) when
/// it holds none.
fn positive_zeros(e: Experiment) -> Experiment {
    let Ok(mut json) = serde_json::to_value(&e) else { return e };
    if !flip_negative_zeros(&mut json) {
        return e;
    }
    serde_json::from_value(json).unwrap_or(e)
}

/// Replaces each `-0.0` in `v` by `0.0`; whether there was one.
fn flip_negative_zeros(v: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()) => {
            *v = Value::from(0.0);
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |found, x| flip_negative_zeros(x) | found),
        Value::Object(map) => map.values_mut().fold(false, |found, x| flip_negative_zeros(x) | found),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Experiment {
        Experiment::from_toml(text, Path::new("e.toml")).unwrap()
    }

    #[test]
    fn label_order_all_ten_labels_and_negative_zeros_are_written_one_way() {
        let default = parse("").canonical();
        assert_eq!(parse("[data]\nlabels = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]\n").canonical(), default);
        assert_eq!(parse("[probe]\nlabels = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n").canonical(), default);
        let sorted = parse("[data]\nlabels = [1, 3, 7]\n").canonical();
        assert_eq!(parse("[data]\nlabels = [7, 1, 3]\n").canonical(), sorted);
        assert_eq!(sorted.data.kept_labels(), Some(vec![1, 3, 7]));
        let zero = parse("[sparsity]\nkind = \"l1\"\nweight = 0.0\n").canonical();
        let negative = parse("[sparsity]\nkind = \"l1\"\nweight = -0.0\n").canonical();
        assert_eq!(serde_json::to_string(&negative).unwrap(), serde_json::to_string(&zero).unwrap());
        let fill = parse("[corruption]\nkind = \"half\"\nfill = -0.0\n[training]\nweight_decay = -0.0\n").canonical();
        assert!(!serde_json::to_string(&fill).unwrap().contains("-0"), "{fill:?}");
    }

    #[test]
    fn a_canonical_experiment_is_its_own_canonical_form() {
        for text in ["", "[data]\nlabels = [2, 1]\n", "[sparsity]\nbeta = -0.0\n[sweep]\nrho = [0.1, 0.2]\n"] {
            let once = parse(text).canonical();
            assert_eq!(once.canonical(), once, "{text}");
        }
        // Nothing to change: the same value, not a rebuilt one.
        let plain = parse("[sweep]\nbeta = [0, 2]\n");
        assert_eq!(plain.canonical(), plain);
    }
}
