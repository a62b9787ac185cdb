//! The report's summary table: one row per configuration (mean ± std over
//! replicates), the best marked, and beside each its gains over the
//! baselines scored on the same test images; as markdown for the page and
//! as CSV (which also lists the baselines themselves).

use sae_core::ImageQuality;
use sae_sweep::{ConfigSummary, RunRow};

use super::axes::{config_label, Axis};

/// The metrics shown, with their column titles and whether higher is better.
const COLUMNS: [(&str, &str); 7] = [
    ("mse", "mse ↓"),
    ("psnr_db", "PSNR dB ↑"),
    ("ssim", "SSIM ↑"),
    ("kl", "KL"),
    ("active_per_image", "active/image"),
    ("dead_fraction", "dead"),
    ("seconds", "seconds"),
];

/// A baseline's scores on one corruption at one width.
#[derive(Debug, Clone)]
pub struct BaselineRow {
    /// `corrupted input` or `PCA (top H)`.
    pub name: String,
    /// The corruption label.
    pub corruption: String,
    /// The width it matches (0 for the corrupted input).
    pub hidden: usize,
    /// Its scores.
    pub quality: ImageQuality,
}

/// The two baselines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// The corrupted input itself.
    Input,
    /// The top-H PCA projection of the corrupted input.
    Pca,
}

impl BaselineRow {
    /// Its score on `metric` (a column of runs.csv), where it has one.
    pub fn metric(&self, metric: &str) -> Option<f64> {
        let q = &self.quality;
        match metric {
            "mse" => Some(q.mse),
            "psnr_db" => Some(q.psnr_db),
            "ssim" => Some(q.ssim),
            _ => None,
        }
    }
}

/// The baseline of `kind` for the corruption (and, for PCA, the width) of
/// `row`.
pub fn baseline_of<'a>(baselines: &'a [BaselineRow], kind: Baseline, row: &RunRow) -> Option<&'a BaselineRow> {
    let hidden = match kind {
        Baseline::Input => 0,
        Baseline::Pca => row.hidden,
    };
    baselines.iter().find(|b| b.corruption == row.corruption && b.hidden == hidden)
}

/// The gain columns: title, CSV name, baseline and metric.
const GAINS: [(&str, &str, Baseline, &str); 3] = [
    ("PSNR gain over input dB", "psnr_gain_over_input", Baseline::Input, "psnr_db"),
    ("PSNR gain over PCA dB", "psnr_gain_over_pca", Baseline::Pca, "psnr_db"),
    ("SSIM gain over PCA", "ssim_gain_over_pca", Baseline::Pca, "ssim"),
];

/// A configuration's mean `metric` less its baseline's, and the baseline's.
fn gain(g: &ConfigSummary<'_>, baselines: &[BaselineRow], kind: Baseline, metric: &str) -> Option<(f64, f64)> {
    let base = baseline_of(baselines, kind, g.first)?.metric(metric)?;
    Some((g.stat(metric)?.0 - base, base))
}

/// The gain columns some configuration has a value for.
fn gain_columns(
    groups: &[ConfigSummary<'_>],
    baselines: &[BaselineRow],
) -> Vec<&'static (&'static str, &'static str, Baseline, &'static str)> {
    GAINS.iter().filter(|c| groups.iter().any(|g| gain(g, baselines, c.2, c.3).is_some())).collect()
}

fn cell(stat: Option<(f64, Option<f64>)>, digits: usize) -> String {
    match stat {
        None => "–".into(),
        Some((m, None)) => format!("{m:.digits$}"),
        Some((m, Some(s))) => format!("{m:.digits$} ± {s:.digits$}"),
    }
}

fn digits(metric: &str) -> usize {
    match metric {
        "mse" | "ssim" | "kl" => 4,
        "dead_fraction" => 3,
        _ => 2,
    }
}

/// The index of the configuration with the highest mean PSNR.
pub fn best(groups: &[ConfigSummary<'_>]) -> Option<usize> {
    (0..groups.len())
        .filter_map(|i| groups[i].stat("psnr_db").map(|(m, _)| (i, m)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The markdown table: a gain cell reads `+1.23 (24.50)`, the gain and, in
/// brackets, the baseline's own score.
pub fn markdown(axes: &[Axis], groups: &[ConfigSummary<'_>], baselines: &[BaselineRow]) -> String {
    let best = best(groups);
    let gains = gain_columns(groups, baselines);
    let mut out = String::from("| configuration | corruption | runs |");
    COLUMNS.iter().for_each(|(_, t)| out.push_str(&format!(" {t} |")));
    gains.iter().for_each(|c| out.push_str(&format!(" {} |", c.0)));
    out.push_str("\n|---|---|---|");
    (0..COLUMNS.len() + gains.len()).for_each(|_| out.push_str("---:|"));
    out.push('\n');
    for (i, g) in groups.iter().enumerate() {
        let mark = if Some(i) == best { " **★ best**" } else { "" };
        let failed = g.total - g.ok.len();
        let runs = if failed > 0 { format!("{} ({} failed)", g.ok.len(), failed) } else { g.ok.len().to_string() };
        out.push_str(&format!("| {}{mark} | {} | {runs} |", config_label(axes, g.first), g.first.corruption));
        COLUMNS.iter().for_each(|(m, _)| out.push_str(&format!(" {} |", cell(g.stat(m), digits(m)))));
        for c in &gains {
            let d = digits(c.3);
            let text = gain(g, baselines, c.2, c.3).map_or("–".into(), |(v, b)| format!("{v:+.d$} ({b:.d$})"));
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out
}

/// The same table as CSV: parameters, then mean and std of each metric.
pub fn csv(axes: &[Axis], groups: &[ConfigSummary<'_>], baselines: &[BaselineRow]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["kind", "label", "best", "corruption", "hidden", "rho", "beta", "lr", "epochs", "replicates", "failed"]
            .map(String::from)
            .to_vec();
    COLUMNS.iter().for_each(|(m, _)| header.extend([format!("{m}_mean"), format!("{m}_std")]));
    header.extend(GAINS.iter().map(|c| c.1.to_string()));
    w.write_record(&header).expect("in memory");
    let best = best(groups);
    for (i, g) in groups.iter().enumerate() {
        let r = g.first;
        let mut rec = vec![
            "model".into(),
            config_label(axes, r),
            (Some(i) == best).to_string(),
            r.corruption.clone(),
            r.hidden.to_string(),
            r.rho.to_string(),
            r.beta.to_string(),
            r.lr.to_string(),
            r.epochs.to_string(),
            g.ok.len().to_string(),
            (g.total - g.ok.len()).to_string(),
        ];
        COLUMNS.iter().for_each(|(m, _)| rec.extend(g.stat_fields(m)));
        rec.extend(GAINS.iter().map(|c| gain(g, baselines, c.2, c.3).map(|v| v.0.to_string()).unwrap_or_default()));
        w.write_record(&rec).expect("in memory");
    }
    for b in baselines {
        let q = &b.quality;
        let mut rec = vec!["baseline".into(), b.name.clone(), "false".into(), b.corruption.clone()];
        rec.push(if b.hidden > 0 { b.hidden.to_string() } else { String::new() });
        rec.extend(std::iter::repeat_n(String::new(), 6));
        rec.extend([q.mse.to_string(), String::new(), q.psnr_db.to_string(), String::new(), q.ssim.to_string()]);
        rec.extend(std::iter::repeat_n(String::new(), 9 + GAINS.len()));
        w.write_record(&rec).expect("in memory");
    }
    w.into_inner().expect("in memory")
}
