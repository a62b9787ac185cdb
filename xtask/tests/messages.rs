//! Messages that once misled, through the real binary: each now names the
//! cause and the fix (docs/RELIABILITY.md, "Messages that misled"), and a
//! results folder that another experiment file of the same name would share.

mod common;

use common::{run, setup, xtask};

#[cfg(unix)]
#[test]
fn a_file_name_that_is_not_utf8_is_called_so_not_empty() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = setup();
    let name = std::ffi::OsStr::from_bytes(b"bad\xff.toml");
    std::fs::copy(tmp.path().join("small.toml"), tmp.path().join(name)).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).arg("sweep").arg(name).arg("--dry-run"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(r#""bad\xFF.toml": the file name is not UTF-8 text"#) && !err.contains("empty"), "{err}");
}

#[test]
fn a_file_where_a_results_folder_is_needed_is_named() {
    let tmp = setup();
    std::fs::create_dir_all(tmp.path().join("results")).unwrap();
    std::fs::write(tmp.path().join("results/small"), "x").unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("results/small: not a folder (it is a file)") && !err.contains("File exists"), "{err}");
}

#[test]
fn a_mirror_set_by_the_variable_is_joined_with_a_slash_named_and_given_a_fix() {
    let tmp = setup();
    let none = tmp.path().join("mirror");
    // Was `.../mirrortrain-images-idx3-ubyte.gz`, with no word of SAE_DATA_MIRROR and no fix.
    let url = format!("file://{}", none.display());
    let (code, _, err) = run(xtask(tmp.path()).args(["fetch-data", "--dest", "out"]).env("SAE_DATA_MIRROR", &url));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("SAE_DATA_MIRROR={url}, the mirror used instead of the public ones")), "{err}");
    assert!(err.contains(&format!("{url}/train-images-idx3-ubyte.gz: No such file")), "{err}");
    assert!(err.contains("\nfix: no mirror served a verified copy") && err.contains("set SAE_DATA_MIRROR"), "{err}");
    // A file:// mirror is read (here, files that are not MNIST's), never refused as `EmptyHost`.
    let (code, _, err) = run(xtask(tmp.path())
        .args(["fetch-data", "--dest", "out"])
        .env("SAE_DATA_MIRROR", format!("file://{}", tmp.path().join("data/mnist").display())));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("No such file") && !err.contains("EmptyHost"), "the synthetic set is raw IDX: {err}");
    assert!(!tmp.path().join("out").exists(), "nothing written");
}

/// The device is the first thing said: the data may be anywhere by then
/// (here it is nowhere), and a GPU that will not open is the error to fix.
/// CI's CUDA build meets a stub driver this way; a CPU build, as here,
/// meets the missing feature.
#[cfg(not(feature = "cuda"))]
#[test]
fn a_device_that_cannot_open_is_said_before_missing_data() {
    let tmp = setup();
    std::fs::remove_dir_all(tmp.path().join("data")).unwrap();
    std::fs::write(tmp.path().join("gpu.toml"), common::tiny().set("training.device", "\"cuda\"").text()).unwrap();
    let (code, _, err) = run(xtask(tmp.path())
        .args(["sweep", "gpu.toml", "--data-dir", "nowhere"])
        .env("SAE_DATA_MIRROR", "file:///nowhere"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("device cuda:0: this build of sae-lab has no CUDA support"), "{err}");
    assert!(!err.contains("no data to train on"), "the device comes first: {err}");
    assert!(!tmp.path().join("results/gpu").exists(), "nothing written");
}

#[test]
fn a_dataset_folder_in_the_wrong_case_gets_a_hint() {
    let tmp = setup();
    std::fs::rename(tmp.path().join("data/mnist"), tmp.path().join("data/MNIST")).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["sweep", "small.toml"]).env("SAE_DATA_MIRROR", "file:///nowhere"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("data/MNIST does: names are matched exactly, so rename it to mnist"), "{err}");
    assert!(!tmp.path().join("results/small").exists(), "no results folder for a sweep that found no data");
}

#[test]
fn fetching_into_another_datasets_folder_is_refused_naming_it() {
    let tmp = setup();
    let before = std::fs::read(tmp.path().join("data/mnist/train-images-idx3-ubyte")).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["fetch-data", "fashion-mnist", "--dest", "data/mnist"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("data/mnist: the folder is named after the mnist dataset"), "{err}");
    std::fs::rename(tmp.path().join("data/mnist"), tmp.path().join("data/digits")).unwrap();
    let (code, _, err) = run(xtask(tmp.path()).args(["fetch-data", "fashion-mnist", "--dest", "data/digits"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("it holds a train-images-idx3-ubyte that is no file of fashion-mnist"), "{err}");
    assert_eq!(std::fs::read(tmp.path().join("data/digits/train-images-idx3-ubyte")).unwrap(), before);
}

#[test]
fn a_second_experiment_file_of_the_same_name_is_refused_naming_both_and_the_fix() {
    let tmp = setup();
    let root = tmp.path();
    for (dir, rho) in [("a", "[0.05, 0.1]"), ("b", "[0.2]")] {
        std::fs::create_dir(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join("small.toml"), common::small().set("sweep.rho", rho).text()).unwrap();
    }
    let (code, _, err) = run(xtask(root).args(["sweep", "a/small.toml", "--no-report"]));
    assert_eq!(code, Some(0), "{err}");
    let table = std::fs::read(root.join("results/small/runs.csv")).unwrap();
    for command in [&["sweep", "b/small.toml"][..], &["sweep", "b/small.toml", "--dry-run"], &["merge", "b/small.toml"]]
    {
        let (code, _, err) = run(xtask(root).args(command));
        assert_eq!(code, Some(2), "{command:?}: {err}");
        assert!(err.starts_with("error: results/small: holds the results of /"), "{command:?}: {err}");
        assert!(err.contains("/a/small.toml; /") && err.contains("/b/small.toml has the same name but other runs"));
        assert!(err.contains("\nfix: give /") && err.contains("--results DIR"), "{err}");
    }
    let (code, _, err) = run(xtask(root).args(["slurm", "b/small.toml", "--array", "1"]));
    assert_eq!(code, Some(2), "{err}");
    assert!(!root.join("results/small/slurm").exists(), "no script written into another experiment's folder");
    assert_eq!(std::fs::read(root.join("results/small/runs.csv")).unwrap(), table, "its table untouched");
}
