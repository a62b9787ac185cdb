//! What an experiment file may ask but likely does not mean: allowed,
//! said as a warning when the sweep starts and as a note in the report.

use std::collections::HashSet;

use sae_core::Activation;

use crate::search::{apply, Draw};
use crate::{Experiment, Objective};

impl Experiment {
    /// What an experiment may ask but likely does not mean, one sentence
    /// each (the command line prints them as warnings, the report as
    /// notes): trials that repeat an earlier draw, AuxK that never engages,
    /// a halving objective on which every trial ties (L0 when every
    /// configuration is a sigmoid code of one width without a selection:
    /// its L0 is always the width).
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let (trials, distinct) = (self.search.trials.map_or(1, |t| t.0), self.distinct_trials());
        if distinct < trials {
            warnings.push(format!(
                "search.trials = {trials}: the ranges drew {distinct} distinct configurations, so {} trials repeat an \
                 earlier one and train nothing of their own (a range of choices only holds few)",
                trials - distinct
            ));
        }
        warnings.extend(self.idle_auxk());
        warnings.extend(self.tied_objectives());
        warnings
    }

    /// How many of a search's trials drew settings of their own (the
    /// others repeat an earlier trial's, and are its runs); 1 for a grid.
    pub fn distinct_trials(&self) -> usize {
        let settings = |d: &Draw| serde_json::to_string(&apply(d, self.clone())).expect("an experiment serialises");
        self.draws().iter().map(settings).collect::<HashSet<String>>().len()
    }

    /// The warnings of a halving objective on which every trial ties.
    fn tied_objectives(&self) -> Vec<String> {
        let runs = self.extreme_models();
        let mut widths: Vec<usize> = runs.iter().map(|r| r.model.hidden.0).collect();
        widths.dedup();
        let dense = |r: &Experiment| {
            let code = &r.sparsity.config;
            r.model_config(1).activation == Activation::Sigmoid
                && code.top_k().is_none()
                && code.batch_top_k().is_none()
        };
        if widths.len() != 1 || !runs.iter().all(dense) {
            return Vec::new();
        }
        let objectives = [
            ("metric", self.search.metric, "the trials listed first are promoted"),
            ("pareto", self.search.pareto, "promotion is by `metric` alone"),
        ];
        (objectives.into_iter().filter(|(_, o, _)| *o == Some(Objective::L0)))
            .map(|(key, _, then)| {
                format!(
                    "search.{key} = \"l0\": every configuration of this search is a sigmoid code without a \
                     selection, whose L0 is always its width ({}), so every trial ties on it and {then}",
                    widths[0]
                )
            })
            .collect()
    }
}
