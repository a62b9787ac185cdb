//! How to fix an error: the libraries say what went wrong; the command line,
//! which knows its own commands and flags, adds the way out.

use sae_core::CoreError;
use sae_data::{DataError, DatasetName};
use sae_sweep::SweepError;

/// The fix for a dataset that is nowhere to be found.
pub fn data_not_found(name: &DatasetName) -> String {
    let apt = if name.as_str() == "fashion-mnist" {
        "; on Debian, `apt-get install dataset-fashion-mnist` installs it in /usr/share/datasets/fashion-mnist"
    } else {
        ""
    };
    format!(
        "fix: run `cargo xtask fetch-data {name}` to download it into ./data/{name}, or point at existing IDX files \
         with `--data-dir DIR` or `SAE_DATA_DIR=DIR`{apt}"
    )
}

/// The fix for `error`, when the command line knows one.
pub fn fix(error: &anyhow::Error) -> Option<String> {
    error.chain().find_map(|cause| {
        // sae-sweep's errors wrap the core's and the data's transparently.
        let cause: &(dyn std::error::Error + 'static) = match cause.downcast_ref::<SweepError>() {
            Some(SweepError::Core(e)) => e,
            Some(SweepError::Data(e)) => e,
            _ => cause,
        };
        if let Some(SweepError::NeverRun { .. }) = cause.downcast_ref() {
            return Some("fix: run `cargo xtask sweep FILE` first, or give the --results folder it used".into());
        }
        if let Some(SweepError::OwnedByAnother { folder, owner, file, .. }) = cause.downcast_ref() {
            return Some(format!(
                "fix: give {file} a results folder of its own (--results DIR), or rename one of the two files (the \
                 file name names the folder); if it is {owner} moved here and edited, delete {} to make it the \
                 folder's file",
                folder.join(sae_sweep::OWNER_FILE).display(),
                file = file.display(),
                owner = owner.display()
            ));
        }
        if let Some(CoreError::CudaNotBuilt { .. }) = cause.downcast_ref() {
            return Some(
                "fix: build with the cuda feature (`cargo run --release -p xtask --features cuda -- sweep FILE`, \
                 which needs the CUDA toolkit: `eval \"$(scripts/cuda_toolchain.sh)\"` installs one), \
                 or set device = \"cpu\""
                    .into(),
            );
        }
        if let Some(DataError::Download { .. }) = cause.downcast_ref() {
            return Some(format!(
                "fix: no mirror served a verified copy: check this machine's network (or proxy), set {} to a mirror \
                 it can reach (the https://, http:// or file:// address of a folder holding the four .gz files), \
                 or copy the files from a machine that has them and give --data-dir",
                crate::data::MIRROR_ENV
            ));
        }
        if let Some(DataError::NoMirror { dataset }) = cause.downcast_ref() {
            return Some(format!("fix: put its four IDX files in ./data/{dataset}, or point --data-dir at them"));
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_the_command_line_can_fix_gets_its_fix() {
        let never = SweepError::NeverRun { name: "x".into(), path: "results/x".into() };
        let cuda = SweepError::Core(CoreError::CudaNotBuilt { device: "cuda:0".into() });
        let mirror = anyhow::Error::new(DataError::NoMirror { dataset: "digits".into() }).context("downloading digits");
        assert!(fix(&never.into()).unwrap().contains("cargo xtask sweep FILE"));
        assert!(fix(&cuda.into()).unwrap().contains("--features cuda"));
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
        let fashion = data_not_found(&DatasetName::new("fashion-mnist").unwrap());
        assert!(fashion.contains("apt-get install dataset-fashion-mnist"), "{fashion}");
        let mnist = data_not_found(&DatasetName::new("mnist").unwrap());
        assert!(mnist.contains("cargo xtask fetch-data mnist") && !mnist.contains("apt-get"), "{mnist}");
    }
}
