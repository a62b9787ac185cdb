//! Fashion-MNIST as Debian's `dataset-fashion-mnist` package installs it
//! (`/usr/share/datasets/fashion-mnist`) is found by the discovery rules and
//! trains like MNIST. Skipped, saying so, where the package is absent.

use std::path::Path;
use std::sync::Arc;

use sae_data::{find_dataset, DatasetName, SearchPaths, SYSTEM_DATASETS};
use sae_sweep::{run_sweep, Experiment, ExperimentFile, ProgressMode, SharedData, Status, SweepOptions};

#[test]
fn fashion_mnist_from_the_debian_package_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let name = DatasetName("fashion-mnist".into());
    let paths = SearchPaths { flag: None, env: None, cwd: tmp.path().into(), system: SYSTEM_DATASETS.into() };
    let Ok(source) = find_dataset(&name, &paths) else {
        sae_data::skip_test(
            "fashion_mnist_from_the_debian_package_trains",
            "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)",
        );
        return;
    };
    assert_eq!(source.dir, Path::new("/usr/share/datasets/fashion-mnist"));
    let text =
        "description = \"fashion\"\n[data]\ndataset = \"fashion-mnist\"\ntrain = 1000\nvalidation = 200\ntest = 200\n\
                [model]\nhidden = 32\n[training]\nepochs = 3\nlr = 0.003\n";
    let path = tmp.path().join("fashion.toml");
    let file = ExperimentFile { name: "fashion".into(), experiment: Experiment::from_toml(text, &path).unwrap(), path };
    let options =
        SweepOptions { results_root: tmp.path().join("results"), jobs: 1, shard: None, progress: ProgressMode::Quiet };
    let summary = run_sweep(&file, &options, || Ok(Arc::new(SharedData::load(&source.dir)?))).unwrap();
    assert_eq!((summary.done, summary.failed), (1, 0));
    let dir = sae_sweep::ResultsDir::new(&options.results_root, "fashion");
    let id = &file.experiment.expand()[0].id;
    let record = dir.record(id).unwrap().unwrap();
    assert_eq!(record.status, Status::Ok);
    let curve = dir.load_curve(id).unwrap();
    assert_eq!(curve.len(), 3);
    assert!(curve[2].val_mse < 0.95 * curve[0].val_mse, "validation error falls: {curve:?}");
    assert!(record.test.unwrap().mse.is_finite());
}
