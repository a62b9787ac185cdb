//! The report of a small sweep made here: its tables, valid PNG and SVG
//! figures with real content and the baselines drawn in them, the figure
//! per corruption, a cheap rerun, an honest note on partial results, and a
//! report of a sweep where every run diverged, and baselines scored
//! beside the runs.

mod common;

use std::path::Path;

use common::{folder, records, tiny, xtask, Synthetic, Tiny};

/// Eight runs over a noisy input: two sparsities, two weights, two seeds.
fn experiment() -> Tiny {
    tiny()
        .set("description", r#""report test""#)
        .set("training.epochs", "2")
        .set("corruption.kind", r#""gaussian""#)
        .set("corruption.std", "0.5")
        .set("sweep.rho", "[0.05, 0.2]")
        .set("sweep.beta", "[0.5, 2]")
        .set("sweep.seeds", "[0, 1]")
}

/// A folder with a synthetic MNIST in ./data and the experiment `file`.
fn setup(file: &str, text: &str) -> tempfile::TempDir {
    folder("data", Synthetic { train: 400, test: 60, seed: 4 }, &[(file, text)])
}

/// Runs xtask with `args` in `root`, which must succeed; returns its log.
fn succeed(root: &Path, args: &[&str]) -> String {
    let out = xtask(root).args(args).output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{log}");
    log
}

/// A reconstruction baseline a report scored, from its `baselines.csv`.
#[derive(Debug)]
struct Scored {
    baseline: String,
    corruption: String,
    hidden: usize,
    psnr_db: f64,
    ssim: f64,
}

/// The reconstruction baselines of the report in `dir` (the probe's have
/// no PSNR).
fn baselines(dir: &Path) -> Vec<Scored> {
    records(&dir.join("baselines.csv"))
        .into_iter()
        .filter(|b| !b["psnr_db"].is_empty())
        .map(|b| Scored {
            baseline: b["baseline"].clone(),
            corruption: b["corruption"].clone(),
            hidden: b["hidden"].parse().unwrap(),
            psnr_db: b["psnr_db"].parse().unwrap(),
            ssim: b["ssim"].parse().unwrap(),
        })
        .collect()
}

/// The probe accuracy of the baseline of `kind` (`pixels`, `pca`) of the
/// report in `dir`.
fn probe_baseline(dir: &Path, kind: &str) -> f64 {
    let rows = records(&dir.join("baselines.csv"));
    let row = rows.iter().find(|b| b["kind"] == kind && !b["probe_accuracy"].is_empty());
    row.unwrap_or_else(|| panic!("no {kind} probe in {rows:?}"))["probe_accuracy"].parse().unwrap()
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

/// The rows of the configurations in the report's summary table.
fn configuration_rows(md: &str) -> Vec<&str> {
    md.lines().filter(|l| l.starts_with("| ρ=")).collect()
}

#[test]
fn a_sweep_report_has_its_tables_and_figures() {
    let tmp = setup("small.toml", &experiment().text());
    let root = tmp.path();
    succeed(root, &["sweep", "small.toml", "--data-dir", "data", "--jobs", "2"]);
    let dir = root.join("results/small");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    has_its_sections(&md);
    // Not a sweep over corruptions: no figure per corruption, not even an empty one.
    assert!(!md.contains("scores_per_corruption") && !dir.join("figures/scores_per_corruption.png").exists());
    has_a_row_per_configuration(&md, &dir);
    rows_hold_their_baselines(&md, &dir);
    panels_draw_the_baselines(&md, &dir);
    figures_have_content(&dir.join("figures"));

    // A rerun reuses the baselines and retrains nothing.
    let log = succeed(root, &["report", "small", "--data-dir", "data"]);
    assert!(!log.contains("scoring the baselines"), "{log}");
    partial_results_are_reported(root, &dir);
}

/// A sweep whose runs leave a core idle scores the report's baselines
/// beside them; the report then finds them cached, the same to the last
/// digit as the report's own scoring.
#[test]
fn baselines_scored_beside_the_runs_are_the_reports_own() {
    let tmp = setup("small.toml", &experiment().text());
    let root = tmp.path();
    let log = succeed(root, &["sweep", "small.toml", "--data-dir", "data", "--jobs", "1"]);
    if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
        assert!(log.contains("baselines beside the runs") && !log.contains("report: scoring"), "{log}");
    }
    let cache = root.join("results/small/baselines.csv");
    let ahead = std::fs::read_to_string(&cache).unwrap();
    std::fs::remove_file(&cache).unwrap();
    let log = succeed(root, &["report", "small", "--data-dir", "data"]);
    assert!(log.contains("report: scoring the baselines"), "{log}");
    assert_eq!(std::fs::read_to_string(&cache).unwrap(), ahead);
}

/// The report's provenance, tables and figures are all linked.
fn has_its_sections(md: &str) {
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
        // The runs reduce the KL over units by its default, the mean.
        "| KL divergence from the target ρ (mean over units) |",
    ] {
        assert!(md.contains(want), "report lacks {want:?}:\n{md}");
    }
    assert!(!md.contains("Partial results"));
}

/// Four configurations, each with mean ± std over two seeds, in the page
/// and in its CSV copy with the three baselines.
fn has_a_row_per_configuration(md: &str, dir: &Path) {
    let rows = configuration_rows(md);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|l| l.contains(" ± ")));
    let table = records(&dir.join("report_table.csv"));
    assert_eq!(table.len(), 4 + 3, "4 configurations, 3 baselines: {table:?}");
}

/// Each configuration's row holds its baselines' scores beside its gains:
/// the corrupted input and PCA, and the probe's raw pixels and PCA
/// coordinates.
fn rows_hold_their_baselines(md: &str, dir: &Path) {
    let scored = baselines(dir);
    let input = scored.iter().find(|b| b.baseline == "corrupted input" && b.corruption == "gaussian0.5");
    let input = input.expect("input baseline");
    let pca = scored.iter().find(|b| b.baseline.starts_with("PCA") && b.hidden == 8).expect("PCA baseline");
    let (pixels, pca_probe) = (probe_baseline(dir, "pixels"), probe_baseline(dir, "pca"));
    assert!((0.0..=1.0).contains(&pixels) && (0.0..=1.0).contains(&pca_probe));
    for l in configuration_rows(md) {
        for want in [
            format!("({:.2}) |", input.psnr_db),
            format!("({:.2}) |", pca.psnr_db),
            format!("({:.4}) |", pca.ssim),
            format!("({pixels:.4}) |"),
            format!("({pca_probe:.4}) |"),
        ] {
            assert!(l.contains(&want), "row lacks {want}: {l}");
        }
    }
}

/// The metric panels draw both baselines, named and labelled with their
/// values, as dashed lines, or name them with their value at the edge
/// where they lie far off the runs' range; a metric the same for every run
/// (the sigmoid code's L0, its width) is named in the caption, not drawn.
fn panels_draw_the_baselines(md: &str, dir: &Path) {
    let scored = baselines(dir);
    let input = scored.iter().find(|b| b.baseline == "corrupted input").expect("input baseline");
    let pca = scored.iter().find(|b| b.baseline.starts_with("PCA")).expect("PCA baseline");
    let svg = dir.join("figures/metrics_vs_rho.svg");
    let texts = svg_texts(&svg);
    for want in [
        "corrupted input".to_string(),
        "PCA, top 8 components".into(),
        label(input.psnr_db),
        label(pca.psnr_db),
        label(pca.ssim),
        "KL divergence from the target ρ (mean over units)".into(),
    ] {
        // Drawn (named in the legend, labelled at its end), or named with its value off scale.
        let off_scale = |t: &str| {
            t.ends_with(" (off scale)") && (t.contains(&format!(" {want}: ")) || t.contains(&format!(": {want} (")))
        };
        assert!(texts.iter().any(|t| *t == want || off_scale(t)), "metrics_vs_rho.svg lacks {want:?}: {texts:?}");
    }
    let l0 = "non-zero code entries per image (L0)";
    assert!(md.contains(&format!("Not drawn, the same for every run: {l0} = 8")), "{md}");
    assert!(!texts.iter().any(|t| t == l0), "no panel of L0: {texts:?}");
    let svg = std::fs::read_to_string(svg).unwrap();
    assert!(svg.matches("stroke=\"#464646\"").count() > 20, "the baselines' dashed lines are drawn");
}

/// Every chart is a PNG with real content and an SVG with text; every
/// picture a PNG with real content.
fn figures_have_content(figures: &Path) {
    for stem in ["metrics_vs_rho", "metrics_vs_beta", "heatmap_psnr_rho_beta", "tradeoff", "validation_curves"] {
        let png = figures.join(format!("{stem}.png"));
        assert!(colours(&png) > 20, "{stem}.png has real content");
        let svg = std::fs::read_to_string(figures.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<text") && svg.len() > 2000, "{stem}.svg");
    }
    let names: Vec<String> =
        std::fs::read_dir(figures).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(colours(&figures.join("same_digits.png")) > 20, "same_digits.png has real content");
    for prefix in ["digits_", "atoms_", "activation_"] {
        let png = names.iter().find(|n| n.starts_with(prefix) && n.ends_with(".png")).expect(prefix);
        assert!(colours(&figures.join(png)) > 20, "{png} has real content");
    }
}

/// With one run gone and one failed, the report says so, with the reason.
fn partial_results_are_reported(root: &Path, dir: &Path) {
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
    succeed(root, &["report", "small", "--data-dir", "data"]);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("**Partial results.** 6 of 8 runs completed; 1 missing, 0 damaged, 1 failed."), "{md}");
    assert!(md.contains(&format!("failed: `{}`: diverged", ids[1])), "{md}");
    assert!(md.contains("(1 failed)"), "{md}");
}

#[test]
fn a_sweep_over_corruptions_compares_them_with_their_baselines() {
    // The same model over two corruptions.
    let corruptions = tiny()
        .set("training.epochs", "2")
        .set("sweep.corruption", r#"[{ kind = "gaussian", std = 0.5 }, { kind = "masking", p = 0.25 }]"#)
        .set("sweep.seeds", "[0, 1]");
    let tmp = setup("corruptions.toml", &corruptions.text());
    let root = tmp.path();
    succeed(root, &["sweep", "corruptions.toml", "--data-dir", "data", "--jobs", "2"]);
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
        for want in [format!("{:.2}", b.psnr_db), format!("{:.3}", b.ssim)] {
            assert!(texts.contains(&want), "bars lack {} {} {want}: {texts:?}", b.baseline, b.corruption);
        }
    }
    for want in ["corrupted input", "PCA, top 8 components", "autoencoder", "gaussian0.5", "mask0.25"] {
        assert!(texts.iter().any(|t| t == want), "bars lack {want:?}: {texts:?}");
    }
}

#[test]
fn a_sweep_whose_every_run_diverged_reports_without_its_figures() {
    // A step size this large overflows the loss within a few batches.
    let diverging = experiment().set("training.lr", "1e30").set("sweep.rho", "[0.2, 0.3]");
    let tmp = setup("diverge.toml", &diverging.text());
    let root = tmp.path();
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

#[test]
fn a_weight_of_zero_alone_is_drawn_on_its_log_axis() {
    // β = 1e30 overflows Adam's moments (a failed run); β = 0 alone succeeds.
    let zero = experiment().set("sweep.rho", "[0.1]").set("sweep.beta", "[0, 1e30]").set("sweep.seeds", "[0]");
    let tmp = setup("zero.toml", &zero.text());
    let root = tmp.path();
    let sweep = xtask(root).args(["sweep", "zero.toml", "--data-dir", "data"]).output().unwrap();
    assert_eq!(sweep.status.code(), Some(1), "{}", String::from_utf8_lossy(&sweep.stderr));
    succeed(root, &["report", "zero", "--data-dir", "data"]);
    let md = std::fs::read_to_string(root.join("results/zero/report.md")).unwrap();
    assert!(md.contains("figures/metrics_vs_beta.png"), "{md}");
}
