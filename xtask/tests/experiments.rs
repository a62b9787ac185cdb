//! Every experiment file shipped in `experiments/` runs to its report:
//! each is cut down (a few hundred synthetic images, one epoch) and swept
//! with the real command line, as a user would run it.

mod common;

use std::path::Path;

use common::{folder, xtask, Synthetic};

/// `text` with the data cut to a few hundred images and one epoch, every
/// other setting (widths, mechanisms, corruptions, labels, probe) as shipped,
/// a k schedule ended within that epoch; a search cut to four trials, or to
/// rungs of 1 and 3 epochs.
fn cut_down(text: &str) -> String {
    let mut doc: toml::Table = text.parse().expect("a shipped experiment is valid TOML");
    let data = doc.entry("data").or_insert_with(|| toml::Table::new().into());
    let data = data.as_table_mut().expect("[data] is a table");
    for (key, n) in [("train", 300), ("validation", 100), ("test", 100)] {
        data.insert(key.into(), toml::Value::Integer(n));
    }
    let training = doc.entry("training").or_insert_with(|| toml::Table::new().into());
    let training = training.as_table_mut().expect("[training] is a table");
    training.insert("epochs".into(), toml::Value::Integer(1));
    // A k schedule ends within the one epoch.
    if let Some(schedule) = training.get_mut("k_schedule").and_then(|s| s.as_table_mut()) {
        schedule.insert("epochs".into(), toml::Value::Integer(1));
    }
    if let Some(sweep) = doc.get_mut("sweep").and_then(|s| s.as_table_mut()) {
        sweep.remove("epochs");
    }
    // A search keeps its strategy with a few trials and rungs of 1 and 3 epochs.
    if let Some(search) = doc.get_mut("search").and_then(|s| s.as_table_mut()) {
        if search.contains_key("trials") {
            search.insert("trials".into(), toml::Value::Integer(4));
        }
        if search.contains_key("max_epochs") {
            search.insert("min_epochs".into(), toml::Value::Integer(1));
            search.insert("max_epochs".into(), toml::Value::Integer(3));
        }
    }
    doc.to_string()
}

#[test]
fn every_shipped_experiment_runs_to_its_report() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../experiments");
    let mut files: Vec<_> = std::fs::read_dir(&shipped).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    files.sort();
    assert!(files.len() >= 10, "the shipped experiments: {files:?}");
    // Enough images of every label for the cut-down sets, self-taught's
    // five labels included.
    let tmp = folder("data", Synthetic { train: 1500, test: 400, seed: 7 }, &[]);
    for file in &files {
        let name = file.file_name().unwrap();
        let text = cut_down(&std::fs::read_to_string(file).unwrap());
        std::fs::write(tmp.path().join(name), &text).unwrap();
        let out = xtask(tmp.path()).args(["sweep", name.to_str().unwrap(), "--data-dir", "data"]).output().unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: exit {:?}\n{log}", name.display(), out.status.code());
        let stem = file.file_stem().unwrap();
        let report = tmp.path().join("results").join(stem).join("report.md");
        assert!(report.is_file(), "{}: no report\n{log}", name.display());
    }
}
