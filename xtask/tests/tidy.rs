//! House rules that keep the code readable, checked on every Rust file of
//! the workspace: a `//!` line first, at most 400 lines per file and 60
//! per function (as rustfmt lays them out).

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 400;
const MAX_FN_LINES: usize = 60;

/// Every `.rs` file under `dir`, but build output and hidden folders.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() && !name.starts_with('.') && name != "target" {
            rust_files(&path, out);
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn workspace_files() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    rust_files(root, &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} Rust files under {}", files.len(), root.display());
    files
        .into_iter()
        .map(|p| (p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// The name of the function whose signature starts on `line`, if one does.
fn fn_name(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace().skip_while(|w| {
        w.starts_with("pub") || matches!(*w, "const" | "async" | "unsafe" | "extern" | "\"C\"" | "default")
    });
    (words.next()? == "fn").then(|| words.next()).flatten().map(|w| w.split(['(', '<']).next().unwrap_or(w))
}

/// Functions over the limit, as `name (lines)`: a body runs from its
/// signature to the first line that closes a brace at the signature's
/// indentation.
fn long_functions(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut long = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let Some(name) = fn_name(line) else { continue };
        let indent = &line[..line.len() - line.trim_start().len()];
        let Some(body) = lines[start..].iter().position(|l| l.ends_with('{') || l.ends_with(';')) else { continue };
        if lines[start + body].ends_with(';') || lines[start + body].trim_end().ends_with('}') {
            continue; // a declaration without a body, or a one-line body
        }
        let close = format!("{indent}}}");
        if let Some(end) = lines[start..].iter().position(|l| *l == close) {
            if end + 1 > MAX_FN_LINES {
                long.push(format!("{name} ({} lines)", end + 1));
            }
        }
    }
    long
}

#[test]
fn every_file_opens_with_its_purpose() {
    let missing: Vec<_> =
        workspace_files().into_iter().filter(|(_, text)| !text.starts_with("//!")).map(|(p, _)| p).collect();
    assert!(missing.is_empty(), "files without a leading //! line: {missing:?}");
}

#[test]
fn files_and_functions_stay_short() {
    let mut over = Vec::new();
    for (path, text) in workspace_files() {
        let lines = text.lines().count();
        if lines > MAX_FILE_LINES {
            over.push(format!("{}: {lines} lines (at most {MAX_FILE_LINES})", path.display()));
        }
        for f in long_functions(&text) {
            over.push(format!("{}: fn {f} (at most {MAX_FN_LINES})", path.display()));
        }
    }
    assert!(over.is_empty(), "split these:\n{}", over.join("\n"));
}

#[test]
fn the_length_check_sees_a_long_function() {
    let body = "    let x = 1;\n".repeat(MAX_FN_LINES);
    let text = format!("//! x\n\npub(crate) fn long<T>(a: T) -> T {{\n{body}}}\n\nfn short() {{}}\n");
    assert_eq!(long_functions(&text), [format!("long ({} lines)", MAX_FN_LINES + 2)]);
    let indented = "        let x = 1;\n".repeat(MAX_FN_LINES);
    let methods = format!("impl A {{\n    fn inner() {{\n{indented}    }}\n}}\n");
    assert_eq!(long_functions(&methods).len(), 1, "{methods}");
}
