//! Settings that need training long enough to act: TopK's k schedule
//! must reach its target within the shortest run; an AuxK `dead_after`
//! longer than every run's training never engages (the run is the one
//! without AuxK under another id), which is said as a warning, since the
//! default of 10,000 images outlasts any cut-down trial run.

use crate::search::apply;
use crate::Experiment;

impl Experiment {
    /// The epochs of the shortest and the longest run of the experiment:
    /// swept, drawn or `[training] epochs`; a halving search's rungs.
    fn epoch_span(&self) -> (usize, usize) {
        let swept = self.sweep.epochs.iter().flat_map(|l| l.0.iter().map(|e| e.0));
        let drawn = self.extreme_draws().into_iter().map(|d| apply(&d, self.clone()).training.epochs.0);
        let rungs = self.search.halving(self.training.epochs.0).map(|h| h.rungs).unwrap_or_default();
        let all: Vec<usize> = swept.chain(drawn).chain(rungs).chain([self.training.epochs.0]).collect();
        let (shortest, longest) = (all.iter().min(), all.iter().max());
        (shortest.copied().unwrap_or_default(), longest.copied().unwrap_or_default())
    }

    /// A k schedule that ends within the shortest run (a halving search's
    /// first rung included).
    pub(crate) fn check_training_length(&self) -> Result<(), String> {
        let (shortest, _) = self.epoch_span();
        match self.training.k_schedule.filter(|s| s.epochs > shortest) {
            Some(schedule) => Err(format!(
                "training.k_schedule: epochs = {} is longer than training ({shortest} epochs, the shortest run of \
                 the experiment): expected at most {shortest}, so that k reaches its target",
                schedule.epochs
            )),
            None => Ok(()),
        }
    }

    /// The images a run of `epochs` epochs trains on: full batches only.
    pub(crate) fn images_trained(&self, epochs: usize) -> u64 {
        let (batch, train) = (self.training.batch_size.0, self.data.train.0);
        (train / batch * batch).saturating_mul(epochs) as u64
    }

    /// Why AuxK never engages in any run, if it does not: a `dead_after`
    /// longer than the images the longest run trains on.
    pub(crate) fn idle_auxk(&self) -> Option<String> {
        let (_, longest) = self.epoch_span();
        let (batch, train) = (self.training.batch_size.0, self.data.train.0);
        let seen = self.images_trained(longest);
        let runs = self.extreme_models();
        let dead_after = runs.iter().filter_map(|run| run.sparsity.config.aux()).map(|a| a.dead_after).min()?;
        (dead_after > seen).then(|| {
            format!(
                "[sparsity] dead_after = {dead_after} images is more than the {seen} images the longest run trains on \
                 ({longest} epochs of {} full batches of {batch}): no latent can count as dead, so AuxK never \
                 engages and its runs are those without AuxK; give dead_after below {seen} or train longer",
                train / batch
            )
        })
    }
}
