//! Shards: a deterministic `1/n` of a grid, so `n` processes (or Slurm
//! array tasks) can share one sweep.

use crate::{RunSpec, SweepError};

/// Shard `index` of `count`: the runs whose grid index is `index` modulo
/// `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = SweepError;

    /// Parses `i/n`.
    fn from_str(s: &str) -> Result<Self, SweepError> {
        let bad = || SweepError::Shard(s.into());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }
}

impl Shard {
    /// The shard a Slurm array task runs: `SLURM_ARRAY_TASK_ID` minus
    /// `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`, read through
    /// `var` (so tests need not touch the environment). `None` outside an
    /// array job.
    ///
    /// # Errors
    /// [`SweepError::Slurm`], naming the variables, when they are not
    /// numbers or are inconsistent.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, SweepError> {
        let (Some(id), Some(count)) = (var("SLURM_ARRAY_TASK_ID"), var("SLURM_ARRAY_TASK_COUNT")) else {
            return Ok(None);
        };
        let min = var("SLURM_ARRAY_TASK_MIN").unwrap_or_else(|| "0".into());
        let parse = |v: &str| v.trim().parse::<usize>().ok();
        match (parse(&id), parse(&min), parse(&count)) {
            (Some(i), Some(m), Some(n)) if i >= m && i - m < n => Ok(Some(Self { index: i - m, count: n })),
            _ => Err(SweepError::Slurm { id, min, count }),
        }
    }

    /// Whether `run` belongs to this shard.
    pub fn contains(&self, run: &RunSpec) -> bool {
        run.index % self.count == self.index
    }
}
