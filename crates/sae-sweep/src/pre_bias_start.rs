//! Where a model's pre-encoder bias starts: the training images' mean or
//! their geometric median (`[model] pre_bias_start`).

use serde::{Deserialize, Serialize};

/// Where a pre-encoder bias starts, from the training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreBiasStart {
    /// Their mean.
    #[default]
    Mean,
    /// Their geometric median (Weiszfeld's iteration, 30 steps from the mean).
    Median,
}

impl PreBiasStart {
    /// Whether this is the default (left out when serialised).
    pub fn is_mean(&self) -> bool {
        *self == Self::Mean
    }

    /// The starting point for `images`.
    pub fn of(self, images: &sae_data::IdxImages) -> Vec<f32> {
        match self {
            Self::Mean => images.mean_image(),
            Self::Median => images.geometric_median(30),
        }
    }
}
