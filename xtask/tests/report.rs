//! The report of a small sweep made here: its tables, valid PNG and SVG
//! figures with real content and the baselines drawn in them, the figure
//! per corruption, a cheap rerun, an honest note on partial results, and a
//! report of a sweep where every run diverged.

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

/// A second experiment: the same model over two corruptions.
const CORRUPTIONS: &str = r#"
[data]
train = 300
validation = 60
test = 40
[model]
hidden = 8
[training]
epochs = 2
lr = 0.005
[sweep]
corruption = [{ kind = "gaussian", std = 0.5 }, { kind = "masking", p = 0.25 }]
seeds = [0, 1]
"#;

/// The baselines a report scored: `(baseline, corruption, hidden, psnr_db,
/// ssim)` from its `baselines.csv`.
fn baselines(dir: &Path) -> Vec<(String, String, usize, f64, f64)> {
    let mut r = csv::Reader::from_path(dir.join("baselines.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|x| x == name).unwrap_or_else(|| panic!("baselines.csv lacks {name}"));
    let (name, corruption, hidden, psnr, ssim) =
        (col("baseline"), col("corruption"), col("hidden"), col("psnr_db"), col("ssim"));
    r.records()
        .map(|b| b.unwrap())
        .filter(|b| !b[psnr].is_empty())
        .map(|b| {
            (
                b[name].into(),
                b[corruption].into(),
                b[hidden].parse().unwrap(),
                b[psnr].parse().unwrap(),
                b[ssim].parse().unwrap(),
            )
        })
        .collect()
}

/// A value as the figures label it: at most three decimals, trailing
/// zeros dropped.
fn label(v: f64) -> String {
    format!("{v:.3}").trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The texts of an SVG figure.
fn svg_texts(path: &Path) -> Vec<String> {
    let svg = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    svg.split("<text")
        .skip(1)
        .map(|t| t.split_once('>').unwrap().1.split("</text>").next().unwrap().trim().to_string())
        .collect()
}

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
        "| configuration | corruption | runs | test MSE (normalised units) ↓ | fraction of variance unexplained ↓ | test PSNR (dB) ↑ | test SSIM ↑ | linear-probe accuracy ↑ |",
        "★ best",
        "| ρ=0.05, β=0.5 | gaussian0.5 | 2 |",
        "| PSNR gain over input dB | PSNR gain over PCA dB | SSIM gain over PCA | probe gain over pixels | probe gain over PCA |",
        "figures/metrics_vs_rho.png",
        "figures/heatmap_psnr_rho_beta.png",
        "figures/tradeoff.png",
        "figures/validation_curves.png",
        "figures/same_digits.png",
    ] {
        assert!(md.contains(want), "report lacks {want:?}:\n{md}");
    }
    assert!(!md.contains("Partial results"));
    // Not a sweep over corruptions: no figure per corruption, not even an empty one.
    assert!(!md.contains("scores_per_corruption") && !dir.join("figures/scores_per_corruption.png").exists());
    // Each configuration's row holds its baselines' scores beside its gains.
    let scored = baselines(&dir);
    let input = scored.iter().find(|b| b.0 == "corrupted input" && b.1 == "gaussian0.5").expect("input baseline");
    let pca = scored.iter().find(|b| b.0.starts_with("PCA") && b.2 == 8).expect("PCA baseline");
    for l in md.lines().filter(|l| l.starts_with("| ρ=")) {
        for want in [format!("({:.2}) |", input.3), format!("({:.2}) |", pca.3), format!("({:.4}) |", pca.4)] {
            assert!(l.contains(&want), "row lacks {want}: {l}");
        }
    }
    // The metric panels draw both baselines, named and labelled with their values.
    let texts = svg_texts(&dir.join("figures/metrics_vs_rho.svg"));
    for want in
        ["corrupted input".to_string(), "PCA, top 8 components".into(), label(input.3), label(pca.3), label(pca.4)]
    {
        assert!(texts.contains(&want), "metrics_vs_rho.svg lacks {want:?}: {texts:?}");
    }
    let svg = std::fs::read_to_string(dir.join("figures/metrics_vs_rho.svg")).unwrap();
    assert!(svg.matches("stroke=\"#464646\"").count() > 20, "the baselines' dashed lines are drawn");
    // Four configurations, each with mean ± std over two seeds.
    assert_eq!(md.lines().filter(|l| l.starts_with("| ρ=")).count(), 4);
    assert!(md.lines().filter(|l| l.starts_with("| ρ=")).all(|l| l.contains(" ± ")));
    let table = std::fs::read_to_string(dir.join("report_table.csv")).unwrap();
    assert_eq!(table.lines().count(), 1 + 4 + 3, "header, 4 configurations, 3 baselines:\n{table}");
    // The probe's baselines, raw pixels and PCA coordinates, sit in each row too.
    let mut r = csv::Reader::from_path(dir.join("baselines.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let (kind, acc) =
        (h.iter().position(|x| x == "kind").unwrap(), h.iter().position(|x| x == "probe_accuracy").unwrap());
    let probes: Vec<(String, f64)> = r
        .records()
        .map(|b| b.unwrap())
        .filter(|b| !b[acc].is_empty())
        .map(|b| (b[kind].into(), b[acc].parse().unwrap()))
        .collect();
    let pixels = probes.iter().find(|p| p.0 == "pixels").expect("a raw-pixel probe").1;
    let pca_probe = probes.iter().find(|p| p.0 == "pca").expect("a PCA probe").1;
    assert!((0.0..=1.0).contains(&pixels) && (0.0..=1.0).contains(&pca_probe));
    for l in md.lines().filter(|l| l.starts_with("| ρ=")) {
        for want in [format!("({pixels:.4}) |"), format!("({pca_probe:.4}) |")] {
            assert!(l.contains(&want), "row lacks the probe baseline {want}: {l}");
        }
    }

    let figures = dir.join("figures");
    for stem in ["metrics_vs_rho", "metrics_vs_beta", "heatmap_psnr_rho_beta", "tradeoff", "validation_curves"] {
        let png = figures.join(format!("{stem}.png"));
        assert!(colours(&png) > 20, "{stem}.png has real content");
        let svg = std::fs::read_to_string(figures.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<text") && svg.len() > 2000, "{stem}.svg");
    }
    let names: Vec<String> =
        std::fs::read_dir(&figures).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(colours(&figures.join("same_digits.png")) > 20, "same_digits.png has real content");
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
fn a_sweep_over_corruptions_compares_them_with_their_baselines() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    sae_data::write_synthetic_dataset(&root.join("data"), 400, 60, 4).unwrap();
    std::fs::write(root.join("corruptions.toml"), CORRUPTIONS).unwrap();
    let out = xtask(root).args(["sweep", "corruptions.toml", "--data-dir", "data", "--jobs", "2"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = root.join("results/corruptions");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("figures/scores_per_corruption.png") && md.contains("figures/same_digits.png"), "{md}");
    // No numeric parameter is swept: no metric panels, no empty frame.
    assert!(!md.contains("metrics_vs_") && !dir.join("figures/metrics_vs_rho.png").exists(), "{md}");
    let png = dir.join("figures/scores_per_corruption.png");
    assert!(colours(&png) > 20, "scores_per_corruption.png has real content");
    // The bars of both baselines of both corruptions, labelled with their values.
    let texts = svg_texts(&dir.join("figures/scores_per_corruption.svg"));
    let scored = baselines(&dir);
    assert_eq!(scored.len(), 4, "input and PCA for each corruption: {scored:?}");
    for b in &scored {
        for want in [format!("{:.2}", b.3), format!("{:.3}", b.4)] {
            assert!(texts.contains(&want), "bars lack {} {} {want}: {texts:?}", b.0, b.1);
        }
    }
    for want in ["corrupted input", "PCA, top 8 components", "autoencoder", "gaussian0.5", "mask0.25"] {
        assert!(texts.iter().any(|t| t == want), "bars lack {want:?}: {texts:?}");
    }
}

#[test]
fn a_sweep_whose_every_run_diverged_reports_without_its_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    sae_data::write_synthetic_dataset(&root.join("data"), 400, 60, 4).unwrap();
    // A step size this large overflows the loss within a few batches.
    let diverging = EXPERIMENT.replace("lr = 0.005", "lr = 1e30").replace("rho = [0.05, 0.2]", "rho = [0.2, 0.3]");
    std::fs::write(root.join("diverge.toml"), diverging).unwrap();
    let sweep = xtask(root).args(["sweep", "diverge.toml", "--data-dir", "data"]).output().unwrap();
    let log = String::from_utf8_lossy(&sweep.stderr);
    assert_eq!(log.matches("diverged").count(), 8, "every run diverges: {log}");
    let out = xtask(root).args(["report", "diverge", "--data-dir", "data"]).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && !log.contains("panicked"), "{log}");
    let dir = root.join("results/diverge");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for stem in ["metrics_vs_rho", "metrics_vs_beta", "heatmap_psnr_rho_beta", "tradeoff", "validation_curves"] {
        assert!(md.contains(&format!("Figure `{stem}` left out: nothing to draw")), "{stem}:\n{md}");
    }
    assert!(md.contains("No successful run to picture."), "{md}");
    let left: Vec<_> = std::fs::read_dir(dir.join("figures")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "no figure, and no temporary file, is left: {left:?}");
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
