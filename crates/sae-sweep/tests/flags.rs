//! A run that succeeded but is degenerate is flagged in `runs.csv`: a
//! reconstruction worse than the mean image, an AuxK that never engaged
//! (also warned of when the file is read); each flag only where it holds
//! (a sound run's empty flag: `flag.rs`'s unit test).

mod common;

use common::{experiment, fixture, sweep, Table};

#[test]
fn degenerate_runs_are_flagged_and_sound_ones_are_not() {
    let f = fixture();
    // One unit and k = 1: worse than the mean image.
    let file = experiment(
        "flags",
        "[sweep]\nhidden = [1, 8]\n[sparsity]\nkind = \"topk\"\nk = 1\nactivation = \"relu\"\naux_k = 1\n",
    );
    let warnings = file.experiment.warnings();
    assert!(
        warnings.iter().any(|w| w.starts_with("[sparsity] dead_after = 10000 images is more than the 400 images")),
        "{warnings:?}"
    );
    sweep(&file, &f.data, &f.results, 1, None).unwrap();
    let table = Table::read(&f.results.join("flags/runs.csv"));
    for row in 0..table.rows.len() {
        assert_eq!(table.text(row, "status"), "ok");
        let flag = table.text(row, "flag");
        assert!(flag.contains("AuxK never engaged (dead_after 10000 images, 400 trained on)"), "{flag}");
        let fvu = table.number(row, "fvu");
        assert_eq!(flag.contains("worse than the mean image"), fvu > 1.0, "FVU {fvu}: {flag}");
    }

    assert!((0..2).any(|row| table.number(row, "fvu") > 1.0), "the width-1 run is worse than the mean image");
}
