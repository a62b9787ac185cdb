//! The report of a small sweep made here: its tables, valid PNG and SVG
//! figures with real content, a cheap rerun, and an honest note on partial
//! results.

mod common;

use std::path::Path;

use common::xtask;

const EXPERIMENT: &str = r#"
description = "report test"
[data]
train = 300
validation = 60
test = 40
[model]
hidden = 8
[training]
epochs = 2
lr = 0.005
[corruption]
kind = "gaussian"
std = 0.5
[sweep]
rho = [0.05, 0.2]
beta = [0.5, 2]
seeds = [0, 1]
"#;

/// Distinct colours in a PNG: a blank or one-colour picture has one or two.
fn colours(path: &Path) -> usize {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8();
    let mut seen: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}

#[test]
fn a_sweep_report_has_its_tables_and_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    sae_data::write_synthetic_dataset(&root.join("data"), 400, 60, 4).unwrap();
    std::fs::write(root.join("small.toml"), EXPERIMENT).unwrap();
    let out = xtask(root).args(["sweep", "small.toml", "--data-dir", "data", "--jobs", "2"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let dir = root.join("results/small");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for want in [
        "# Experiment `small`",
        "**Question.** report test",
        "- command: `cargo xtask sweep small.toml --data-dir data --jobs 2`",
        "git revision",
        "| configuration | corruption | runs | mse ↓ | PSNR dB ↑ | SSIM ↑ | KL | active/image | dead | seconds |",
        "★ best",
        "| ρ=0.05, β=0.5 | gaussian0.5 | 2 |",
        "*baseline: corrupted input*",
        "*baseline: PCA (top 8:",
        "figures/metrics_vs_rho.png",
        "figures/heatmap_psnr_rho_beta.png",
        "figures/tradeoff.png",
        "figures/validation_curves.png",
    ] {
        assert!(md.contains(want), "report lacks {want:?}:\n{md}");
    }
    assert!(!md.contains("Partial results"));
    // Four configurations, each with mean ± std over two seeds.
    assert_eq!(md.lines().filter(|l| l.starts_with("| ρ=")).count(), 4);
    assert!(md.lines().filter(|l| l.starts_with("| ρ=")).all(|l| l.contains(" ± ")));
    let table = std::fs::read_to_string(dir.join("report_table.csv")).unwrap();
    assert_eq!(table.lines().count(), 1 + 4 + 2, "header, 4 configurations, 2 baselines:\n{table}");

    let figures = dir.join("figures");
    for stem in ["metrics_vs_rho", "metrics_vs_beta", "heatmap_psnr_rho_beta", "tradeoff", "validation_curves"] {
        let png = figures.join(format!("{stem}.png"));
        assert!(colours(&png) > 20, "{stem}.png has real content");
        let svg = std::fs::read_to_string(figures.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<text") && svg.len() > 2000, "{stem}.svg");
    }
    let names: Vec<String> =
        std::fs::read_dir(&figures).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    for prefix in ["digits_", "atoms_", "activation_"] {
        let png = names.iter().find(|n| n.starts_with(prefix) && n.ends_with(".png")).expect(prefix);
        assert!(colours(&figures.join(png)) > 20, "{png} has real content");
    }

    // A rerun reuses the baselines and retrains nothing.
    let again = xtask(root).args(["report", "small", "--data-dir", "data"]).output().unwrap();
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(again.status.success() && !log.contains("scoring the baselines"), "{log}");

    // Partial results: one run gone, one failed.
    let runs = dir.join("runs");
    let mut ids: Vec<String> =
        std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    ids.sort();
    std::fs::remove_dir_all(runs.join(&ids[0])).unwrap();
    let metrics = runs.join(&ids[1]).join("metrics.json");
    let text = std::fs::read_to_string(&metrics).unwrap();
    let failed = text.replacen("\"status\": \"ok\"", "\"status\": \"failed\"", 1).replacen(
        "\"reason\": null",
        "\"reason\": \"diverged: loss NaN at epoch 2, batch 3\"",
        1,
    );
    std::fs::write(&metrics, failed).unwrap();
    let partial = xtask(root).args(["report", "small", "--data-dir", "data"]).output().unwrap();
    assert!(partial.status.success(), "{}", String::from_utf8_lossy(&partial.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("**Partial results.** 6 of 8 runs completed; 1 missing, 1 failed."), "{md}");
    assert!(md.contains(&format!("failed: `{}`: diverged", ids[1])), "{md}");
    assert!(md.contains("(1 failed)"), "{md}");
}

#[test]
fn reporting_nothing_says_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("results")).unwrap();
    let out = xtask(tmp.path()).args(["report"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("no experiment results under results") && err.contains("cargo xtask sweep"), "{err}");
}
