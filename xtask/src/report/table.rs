//! The report's summary table: one row per configuration (mean ± std over
//! replicates), the best marked, and beside each its gains over the
//! baselines scored on the same test images and features; as markdown for
//! the page and as CSV (which also lists the baselines themselves).

use sae_core::KlReduction;
use sae_sweep::{BaselineKind, BaselineRow, ConfigSummary, Metric, RunRow};

use super::axes::config_label;
use sae_sweep::Param;

/// The metrics shown in the markdown table, in order.
const COLUMNS: [Metric; 11] = [
    Metric::Mse,
    Metric::Fvu,
    Metric::PsnrDb,
    Metric::Ssim,
    Metric::ProbeAccuracy,
    Metric::Kl,
    Metric::ActivePerImage,
    Metric::L0,
    Metric::DeadLatents,
    Metric::DenseLatents,
    Metric::Seconds,
];

/// The heading of `metric` for `rows`: [`Metric::heading`], except that
/// the KL divergence says how it is reduced over the hidden units (as each
/// run was trained, and so evaluated) when every run of `rows` reduces it
/// the same way.
pub fn heading<'a>(metric: Metric, rows: impl IntoIterator<Item = &'a RunRow>) -> String {
    let mut reductions: Vec<KlReduction> = Vec::new();
    for r in rows.into_iter().filter_map(|r| match r.config.sparsity.config {
        sae_core::SparsityConfig::Kl { reduction, .. } => Some(reduction),
        _ => None,
    }) {
        if !reductions.contains(&r) {
            reductions.push(r);
        }
    }
    match (metric, &reductions[..]) {
        (Metric::Kl, [one]) => format!("KL divergence from the target ρ ({} over units)", one.as_str()),
        _ => metric.heading(),
    }
}

/// The baseline of `kind` for the corruption (and, for PCA, the width) of
/// `row`.
pub fn baseline_of<'a>(baselines: &'a [BaselineRow], kind: BaselineKind, row: &RunRow) -> Option<&'a BaselineRow> {
    baselines.iter().find(|b| {
        b.kind == kind
            && match kind {
                BaselineKind::Input => b.corruption == row.text(Param::Corruption),
                BaselineKind::Pca => {
                    b.corruption == row.text(Param::Corruption) && b.hidden == row.config.model.hidden.0
                }
                BaselineKind::Pixels => true,
            }
    })
}

/// A gain column: markdown title, CSV name, baseline and metric.
type Gain = (&'static str, &'static str, BaselineKind, Metric);

/// The gain columns.
const GAINS: [Gain; 5] = [
    ("PSNR gain over input dB", "psnr_gain_over_input", BaselineKind::Input, Metric::PsnrDb),
    ("PSNR gain over PCA dB", "psnr_gain_over_pca", BaselineKind::Pca, Metric::PsnrDb),
    ("SSIM gain over PCA", "ssim_gain_over_pca", BaselineKind::Pca, Metric::Ssim),
    ("probe gain over pixels", "probe_gain_over_pixels", BaselineKind::Pixels, Metric::ProbeAccuracy),
    ("probe gain over PCA", "probe_gain_over_pca", BaselineKind::Pca, Metric::ProbeAccuracy),
];

/// A configuration's mean `metric` less its baseline's, and the baseline's.
fn gain(g: &ConfigSummary<'_>, baselines: &[BaselineRow], kind: BaselineKind, metric: Metric) -> Option<(f64, f64)> {
    let base = baseline_of(baselines, kind, g.first)?.metric(metric)?;
    Some((g.stat(metric)?.0 - base, base))
}

/// The columns some configuration has a value for.
fn shown<T>(items: &[T], has: impl Fn(&T) -> bool) -> Vec<&T> {
    items.iter().filter(|c| has(c)).collect()
}

fn cell(stat: Option<(f64, Option<f64>)>, digits: usize) -> String {
    match stat {
        None => "–".into(),
        Some((m, None)) => format!("{m:.digits$}"),
        Some((m, Some(s))) => format!("{m:.digits$} ± {s:.digits$}"),
    }
}

/// The index of the configuration with the highest mean PSNR.
pub fn best(groups: &[ConfigSummary<'_>]) -> Option<usize> {
    (0..groups.len())
        .filter_map(|i| groups[i].stat(Metric::PsnrDb).map(|(m, _)| (i, m)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The markdown table: a gain cell reads `+1.23 (24.50)`, the gain and, in
/// brackets, the baseline's own score. Metrics no configuration has (KL in
/// a TopK sweep, say) are left out.
pub fn markdown(axes: &[Param], groups: &[ConfigSummary<'_>], baselines: &[BaselineRow]) -> String {
    let best = best(groups);
    let columns = shown(&COLUMNS, |&m| groups.iter().any(|g| g.stat(m).is_some()));
    let gains = shown(&GAINS, |c| groups.iter().any(|g| gain(g, baselines, c.2, c.3).is_some()));
    let mut out = String::from("| configuration | corruption | runs |");
    columns.iter().for_each(|&&m| out.push_str(&format!(" {} |", heading(m, groups.iter().map(|g| g.first)))));
    gains.iter().for_each(|c| out.push_str(&format!(" {} |", c.0)));
    out.push_str("\n|---|---|---|");
    (0..columns.len() + gains.len()).for_each(|_| out.push_str("---:|"));
    out.push('\n');
    for (i, g) in groups.iter().enumerate() {
        let mark = if Some(i) == best { " **★ best**" } else { "" };
        let failed = g.total - g.ok.len();
        let runs = if failed > 0 { format!("{} ({} failed)", g.ok.len(), failed) } else { g.ok.len().to_string() };
        out.push_str(&format!(
            "| {}{mark} | {} | {runs} |",
            config_label(axes, g.first),
            g.first.text(Param::Corruption)
        ));
        columns.iter().for_each(|&&m| out.push_str(&format!(" {} |", cell(g.stat(m), m.def().digits))));
        for c in &gains {
            let d = c.3.def().digits;
            let text = gain(g, baselines, c.2, c.3).map_or("–".into(), |(v, b)| format!("{v:+.d$} ({b:.d$})"));
            out.push_str(&format!(" {text} |"));
        }
        out.push('\n');
    }
    out
}

/// The same table as CSV, by the one function that also writes
/// summary.csv: parameters, mean and std of every metric, the gains, then
/// the baselines' own rows.
pub fn csv(axes: &[Param], groups: &[ConfigSummary<'_>], baselines: &[BaselineRow]) -> Vec<u8> {
    let labels: Vec<String> = groups.iter().map(|g| config_label(axes, g.first)).collect();
    let gains: Vec<sae_sweep::ExtraColumn> = GAINS
        .iter()
        .map(|c| {
            (
                c.1,
                groups
                    .iter()
                    .map(|g| gain(g, baselines, c.2, c.3).map(|v| v.0.to_string()).unwrap_or_default())
                    .collect(),
            )
        })
        .collect();
    sae_sweep::summary_csv(groups, &labels, best(groups), &gains, baselines)
}
