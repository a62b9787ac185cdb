//! Where a model trains: `cpu`, or a CUDA device (`cuda`, `cuda:N`), which
//! only a build with the `cuda` feature can open; and how many threads
//! candle's CPU kernels may use.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use candle_core::Device;

use crate::CoreError;

/// A device setting, written `"cpu"`, `"cuda"` (device 0) or `"cuda:N"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DeviceSpec {
    /// The CPU (the default).
    #[default]
    Cpu,
    /// The CUDA device of this ordinal.
    Cuda(usize),
}

impl DeviceSpec {
    /// Whether this is the CPU (the default, left out when serialised).
    pub fn is_cpu(&self) -> bool {
        *self == Self::Cpu
    }

    /// Opens the device.
    ///
    /// # Errors
    /// [`CoreError::CudaNotBuilt`] for a CUDA device when this build lacks
    /// the `cuda` feature; [`CoreError::Device`] when the device cannot be
    /// opened (no GPU, no driver, no such ordinal).
    pub fn open(&self) -> Result<Device, CoreError> {
        match *self {
            Self::Cpu => Ok(Device::Cpu),
            Self::Cuda(_) if !cfg!(feature = "cuda") => Err(CoreError::CudaNotBuilt { device: self.to_string() }),
            Self::Cuda(ordinal) => Device::new_cuda(ordinal)
                .map_err(|e| CoreError::Device { device: self.to_string(), source: Box::new(e) }),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let expected = || format!("expected \"cpu\", \"cuda\" or \"cuda:N\", found {s:?}");
        match s {
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => s.strip_prefix("cuda:").and_then(|n| n.parse().ok()).map(Self::Cuda).ok_or_else(expected),
        }
    }
}

impl TryFrom<String> for DeviceSpec {
    type Error = String;

    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cpu => f.write_str("cpu"),
            Self::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl From<DeviceSpec> for String {
    fn from(d: DeviceSpec) -> Self {
        d.to_string()
    }
}

/// The thread count given to candle in this process, once set.
static CANDLE_THREADS: OnceLock<usize> = OnceLock::new();

/// Limits candle's CPU kernels to `threads` threads in this process, so
/// that runs trained side by side do not each spread over every core.
///
/// candle has no per-call setting: its matrix products split over
/// `RAYON_NUM_THREADS` tasks (read at every product, run on the calling
/// thread's rayon pool), and its large elementwise kernels run on a pool of
/// its own with `CANDLE_NUM_THREADS − 1` spinning workers (read once, at
/// its first use). Both default to the physical cores. This sets both, so
/// it must be called before any candle kernel runs and while no other
/// thread reads the environment (a sweep calls it before its runs start).
///
/// # Errors
/// [`CoreError::CandleThreads`] when an earlier call set another count.
pub fn limit_candle_cpu_threads(threads: usize) -> Result<(), CoreError> {
    let threads = threads.max(1);
    let set = *CANDLE_THREADS.get_or_init(|| {
        std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
        std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
        threads
    });
    if set == threads {
        Ok(())
    } else {
        Err(CoreError::CandleThreads { set, asked: threads })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_each_form() {
        assert_eq!("cpu".parse(), Ok(DeviceSpec::Cpu));
        assert_eq!("cuda".parse(), Ok(DeviceSpec::Cuda(0)));
        assert_eq!("cuda:3".parse::<DeviceSpec>().unwrap().to_string(), "cuda:3");
        for bad in ["gpu", "cuda:", "cuda:x", "CPU", "cuda:-1"] {
            let err = bad.parse::<DeviceSpec>().unwrap_err();
            assert!(err.starts_with("expected \"cpu\", \"cuda\" or \"cuda:N\""), "{err}");
        }
        assert!(DeviceSpec::Cpu.open().unwrap().is_cpu());
    }

    #[test]
    #[cfg(not(feature = "cuda"))]
    fn cuda_without_the_feature_names_the_device_and_the_feature() {
        let err = DeviceSpec::Cuda(1).open().unwrap_err().to_string();
        assert!(err.starts_with("device cuda:1: ") && err.contains("the `cuda` feature is off"), "{err}");
    }
}
