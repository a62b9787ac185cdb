//! The README and the pages of `docs/`, checked where they make a claim a
//! test can read: every relative link leads to a file, and to a heading of
//! it, that exists; the README's test command is the one CI runs; every
//! experiment file the guide shows is one sae-lab accepts; and the guide's
//! table of ready experiments lists exactly the files in `experiments/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// README.md and every `docs/*.md`, as paths relative to the root.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![PathBuf::from("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path.strip_prefix(root()).unwrap().to_path_buf());
        }
    }
    pages.sort();
    assert!(pages.len() > 3, "found only {pages:?}");
    pages
}

/// A page's lines outside fenced code blocks, numbered from 1.
fn prose(text: &str) -> Vec<(usize, &str)> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            lines.push((i + 1, line));
        }
    }
    lines
}

/// The fenced code blocks of a page, as (info string, body).
fn code_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        let fence = line.trim_start().strip_prefix("```");
        match (fence, open.take()) {
            (Some(info), None) => open = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(block)) => blocks.push(block),
            (None, Some((info, mut body))) => {
                body.push_str(line);
                body.push('\n');
                open = Some((info, body));
            }
            (None, None) => {}
        }
    }
    blocks
}

/// GitHub's anchor for a heading: lowercase, every character but letters,
/// digits, `_`, `-` and spaces dropped, spaces turned into `-`.
fn anchor(heading: &str) -> String {
    let keep = |c: &char| c.is_alphanumeric() || matches!(c, '_' | '-' | ' ');
    heading.trim().to_lowercase().chars().filter(keep).map(|c| if c == ' ' { '-' } else { c }).collect()
}

/// Every anchor a page's headings give, a repeated one suffixed `-1`,
/// `-2`... as GitHub does.
fn anchors(text: &str) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (_, line) in prose(text) {
        let hashes = line.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !line[hashes..].starts_with(' ') {
            continue;
        }
        let base = anchor(&line[hashes..]);
        let count = seen.entry(base.clone()).or_default();
        out.push(if *count == 0 { base.clone() } else { format!("{base}-{count}") });
        *count += 1;
    }
    out
}

/// The targets of a line's Markdown links and images, `[text](target)`,
/// code spans left out.
fn link_targets(line: &str) -> Vec<String> {
    let bare: String = line.split('`').enumerate().map(|(i, part)| if i % 2 == 0 { part } else { "code" }).collect();
    let mut targets = Vec::new();
    let mut rest = bare.as_str();
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        let end = after.find(')').unwrap_or(after.len());
        targets.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    targets
}

/// What is wrong with one relative link of the page at `page`, if anything.
fn broken(page: &Path, target: &str) -> Option<String> {
    let (file, fragment) = target.split_once('#').map_or((target, None), |(f, a)| (f, Some(a)));
    let path = if file.is_empty() { page.to_path_buf() } else { page.parent().unwrap().join(file) };
    if !path.exists() {
        return Some(format!("no file {}", path.display()));
    }
    let fragment = fragment?;
    if path.extension().is_none_or(|e| e != "md") {
        return Some(format!("an anchor into {}, which is not a Markdown page", path.display()));
    }
    let known = anchors(&read(&path));
    (!known.iter().any(|a| a == fragment)).then(|| format!("no heading with anchor #{fragment} in {}", path.display()))
}

/// Every broken relative link of the given pages (paths relative to
/// `base`), as `page:line: (target): why`.
fn broken_links(base: &Path, pages: &[PathBuf]) -> Vec<String> {
    let mut found = Vec::new();
    for page in pages {
        let text = read(&base.join(page));
        for (number, line) in prose(&text) {
            for target in link_targets(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                if let Some(why) = broken(&base.join(page), &target) {
                    found.push(format!("{}:{number}: ({target}): {why}", page.display()));
                }
            }
        }
    }
    found
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading_that_exist() {
    let broken = broken_links(&root(), &pages());
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_broken_link_or_anchor_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let text = "# A page\n\n## Its `second` heading: here\n\n## Twice\n\n## Twice\n\n```sh\n# not a heading\n```\n\
                [ok](#its-second-heading-here) [ok](#twice-1) [bad](#not-a-heading) [bad](missing.md) [bad](#twice-2)\n\
                `[code](missing.md)` [ok](https://example.org/x.md)\n";
    std::fs::write(dir.path().join("page.md"), text).unwrap();
    let broken = broken_links(dir.path(), &[PathBuf::from("page.md")]);
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(broken[0].contains("(#not-a-heading): no heading with anchor"), "{}", broken[0]);
    assert!(broken[1].contains("(missing.md): no file"), "{}", broken[1]);
    assert!(broken[2].contains("(#twice-2)"), "{}", broken[2]);
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(
        anchor(" Search side by side (issue 17 §5): grid, successive halving, Optuna"),
        "search-side-by-side-issue-17-5-grid-successive-halving-optuna"
    );
    assert_eq!(anchor("Precision: bf16 matrix products"), "precision-bf16-matrix-products");
    assert_eq!(anchor("What the codes are worth: the linear probe"), "what-the-codes-are-worth-the-linear-probe");
}

/// The commands of a shell block, comments and blank lines left out.
fn commands(block: &str) -> Vec<String> {
    let strip = |l: &str| l.split(" #").next().unwrap().trim().to_string();
    block.lines().filter(|l| !l.trim_start().starts_with('#')).map(strip).filter(|l| !l.is_empty()).collect()
}

#[test]
fn the_readmes_test_command_is_the_one_ci_runs() {
    let readme = read(&root().join("README.md"));
    let (_, block) = code_blocks(&readme).into_iter().find(|(info, _)| info == "sh").expect("README has no sh block");
    let readme_tests: Vec<String> = commands(&block).into_iter().filter(|c| c.starts_with("cargo test")).collect();
    assert_eq!(readme_tests.len(), 1, "the README's first sh block should hold one test command: {block}");
    let ci = read(&root().join(".ci/run"));
    let ci_tests: Vec<String> = commands(&ci).into_iter().filter(|c| c.starts_with("cargo test")).collect();
    assert_eq!(ci_tests, readme_tests, "the README says to test with one command and .ci/run runs another");
}

#[test]
fn every_experiment_file_the_guide_shows_is_accepted() {
    let guide = read(&root().join("docs/GUIDE.md"));
    let blocks: Vec<String> = code_blocks(&guide)
        .into_iter()
        .filter(|(info, _)| info.split_whitespace().next() == Some("toml") && !info.contains("fragment"))
        .map(|(_, body)| body)
        .collect();
    assert!(!blocks.is_empty(), "docs/GUIDE.md shows no ```toml block");
    for body in blocks {
        let experiment = sae_sweep::Experiment::from_toml(&body, Path::new("docs/GUIDE.md"))
            .unwrap_or_else(|e| panic!("docs/GUIDE.md shows an experiment file sae-lab refuses: {e:#}\n{body}"));
        assert!(!experiment.expand().is_empty(), "docs/GUIDE.md shows an experiment with no runs:\n{body}");
    }
}

#[test]
fn the_guides_ready_experiments_are_the_files_in_experiments() {
    let guide = read(&root().join("docs/GUIDE.md"));
    let section = guide.split("### Ready experiments").nth(1).expect("docs/GUIDE.md has no Ready experiments section");
    let table = section.split("\n#").next().unwrap();
    let mut listed: Vec<String> = table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .flat_map(|l| {
            l.split('|').nth(1).unwrap().split('`').skip(1).step_by(2).map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    let mut files: Vec<String> = std::fs::read_dir(root().join("experiments"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    listed.sort();
    files.sort();
    assert_eq!(listed, files, "docs/GUIDE.md's table of ready experiments against experiments/");
}
