//! The full MNIST, when `SAE_DATA_DIR` points at it (CI sets it): counts,
//! the reference split sizes, and pixel statistics of the normalised data.

use std::path::PathBuf;

use sae_data::{RawDataset, SplitSizes, Splits};

fn mnist_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SAE_DATA_DIR").map(PathBuf::from)?;
    dir.join("train-images-idx3-ubyte.gz").is_file().then_some(dir)
}

#[test]
fn full_mnist_loads_and_splits_as_the_reference() {
    let Some(dir) = mnist_dir() else {
        sae_data::skip_test(
            "full_mnist_loads_and_splits_as_the_reference",
            "set SAE_DATA_DIR to the full MNIST to run this test",
        );
        return;
    };
    let raw = RawDataset::load(&dir).unwrap();
    assert_eq!((raw.train_images.n, raw.train_labels.len(), raw.test_images.n), (60_000, 60_000, 10_000));
    let s = Splits::new(&raw, SplitSizes::default(), 0, None).unwrap();
    assert_eq!((s.train.n, s.validation.n, s.test.n), (50_000, 10_000, 10_000));
    // MNIST is mostly background: the test images' mean pixel is 0.1325, so 2·0.1325 − 1 = −0.735 normalised.
    let mean = s.test.pixels.iter().map(|&v| v as f64).sum::<f64>() / s.test.pixels.len() as f64;
    assert!((mean + 0.7350).abs() < 0.01, "{mean}");
}
