//! How to fix an error: the libraries say what went wrong; the command line,
//! which knows its own commands and flags, adds the way out.

use std::error::Error;

use sae_core::CoreError;
use sae_data::DataError;
use sae_sweep::SweepError;

use crate::data::NotFetched;

/// The fix for `error`: that of the first cause in its chain (the error,
/// then each `source()` in turn) the command line knows a way out of.
pub fn fix(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(fix_for)
}

/// The fix for `cause` itself, whatever caused it.
fn fix_for(cause: &(dyn Error + 'static)) -> Option<String> {
    if let Some(e) = cause.downcast_ref::<SweepError>() {
        return sweep_fix(e);
    }
    if let Some(e) = cause.downcast_ref::<CoreError>() {
        return core_fix(e);
    }
    if let Some(e) = cause.downcast_ref::<DataError>() {
        return data_fix(e);
    }
    cause.downcast_ref::<NotFetched>().map(|e| data_not_found(e.name.as_str()))
}

/// The fix for one of sae-sweep's errors.
fn sweep_fix(error: &SweepError) -> Option<String> {
    match error {
        SweepError::NeverRun { .. } => {
            Some("fix: run `cargo xtask sweep FILE` first, or give the --results folder it used".into())
        }
        SweepError::OwnedByAnother { folder, owner, file, .. } => Some(format!(
            "fix: give {file} a results folder of its own (--results DIR), or rename one of the two files (the \
             file name names the folder); if it is {owner} moved here and edited, delete {} to make it the \
             folder's file",
            folder.join(sae_sweep::OWNER_FILE).display(),
            file = file.display(),
            owner = owner.display()
        )),
        _ => None,
    }
}

/// The fix for one of sae-core's errors, in the experiment file's terms.
fn core_fix(error: &CoreError) -> Option<String> {
    let fix = match error {
        CoreError::CudaNotBuilt { .. } => {
            "fix: build with the cuda feature (`cargo run --release -p xtask --features cuda -- sweep FILE`, which \
             needs the CUDA toolkit: `eval \"$(scripts/cuda_toolchain.sh)\"` installs one), or set [training] \
             device = \"cpu\" in the experiment file"
        }
        CoreError::Device { .. } => {
            "fix: set [training] device in the experiment file to a device this machine has (\"cuda:N\"), or to \
             \"cpu\""
        }
        CoreError::Bf16Unsupported { .. } => "fix: set [training] precision = \"f32\" in the experiment file",
        CoreError::Bf16NeedsFastEngine => {
            "fix: set [training] engine = \"fast\" and device = \"cpu\", or precision = \"f32\", in the \
             experiment file"
        }
        CoreError::CandleThreads { .. } => {
            "fix: give every run that trains with candle on the CPU the same [training] threads"
        }
        _ => return None,
    };
    Some(fix.into())
}

/// The fix for one of sae-data's errors.
fn data_fix(error: &DataError) -> Option<String> {
    match error {
        DataError::Download { .. } => Some(format!(
            "fix: no mirror served a verified copy: check this machine's network (or proxy), set {} to a mirror \
             it can reach (the https://, http:// or file:// address of a folder holding the four .gz files), or \
             copy the files from a machine that has them and give --data-dir",
            crate::data::MIRROR_ENV
        )),
        DataError::NoMirror { dataset } => {
            Some(format!("fix: put its four IDX files in ./data/{dataset}, or point --data-dir at them"))
        }
        _ => None,
    }
}

/// The fix for dataset `name`, found nowhere.
fn data_not_found(name: &str) -> String {
    let apt = if name == "fashion-mnist" {
        "; on Debian, `apt-get install dataset-fashion-mnist` installs it in /usr/share/datasets/fashion-mnist"
    } else {
        ""
    };
    format!(
        "fix: run `cargo xtask fetch-data {name}` to download it into ./data/{name}, or point at existing IDX files \
         with `--data-dir DIR` or `SAE_DATA_DIR=DIR`{apt}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_the_command_line_can_fix_gets_its_fix() {
        let never = SweepError::NeverRun { name: "x".into(), path: "results/x".into() };
        let cuda = SweepError::Engines(CoreError::CudaNotBuilt { device: "cuda:0".into() });
        let mirror = anyhow::Error::new(DataError::NoMirror { dataset: "digits".into() }).context("downloading digits");
        assert!(fix(&never.into()).unwrap().contains("cargo xtask sweep FILE"));
        assert!(fix(&cuda.into()).unwrap().contains("--features cuda"));
        let lacks = SweepError::Engines(CoreError::Bf16Unsupported { missing: "AMX-BF16" });
        assert!(fix(&lacks.into()).unwrap().contains("set [training] precision = \"f32\""));
        assert!(fix(&mirror).unwrap().contains("--data-dir"));
        let (folder, owner, file) = ("results/rho".into(), "/a/rho.toml".into(), "/b/rho.toml".into());
        let owned = SweepError::OwnedByAnother { folder, owner, file, example: "rho0.2-1".into() };
        let owned = fix(&owned.into()).unwrap();
        assert!(owned.contains("give /b/rho.toml a results folder of its own (--results DIR)"), "{owned}");
        assert!(owned.contains("delete results/rho/experiment-file.txt"), "{owned}");
        let offline =
            anyhow::Error::new(DataError::Download { file: "t10k-labels-idx1-ubyte", reasons: "Dns Failed".into() });
        assert!(fix(&offline.context("downloading mnist")).unwrap().contains("SAE_DATA_MIRROR"));
        assert_eq!(fix(&anyhow::anyhow!("disk full")), None);
    }

    #[test]
    fn fashion_mnist_is_pointed_at_its_debian_package() {
        let fashion = data_not_found("fashion-mnist");
        assert!(fashion.contains("apt-get install dataset-fashion-mnist"), "{fashion}");
        let mnist = data_not_found("mnist");
        assert!(mnist.contains("cargo xtask fetch-data mnist") && !mnist.contains("apt-get"), "{mnist}");
    }
}
