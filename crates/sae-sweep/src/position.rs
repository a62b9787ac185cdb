//! Where a key of an experiment file is written, as `line L, column C: `,
//! for the messages that name it.

/// Where element `index` of the list under `keys` (`["sweep", "rho"]`) is
/// written in `text` (the value of `keys` itself when `index` is `None`),
/// as `line L, column C: ` (empty when it cannot be found: an experiment
/// built otherwise than from a file's text).
pub(crate) fn position(text: &str, keys: &[&str], index: Option<usize>) -> String {
    let Ok(doc) = toml_edit::ImDocument::parse(text) else { return String::new() };
    let item = keys.iter().try_fold(doc.as_item(), |item, key| item.get(*key));
    let span = match index {
        Some(i) => item.and_then(|i| i.as_array()).and_then(|a| a.get(i)).and_then(|v| v.span()),
        None => item.and_then(|i| i.span()),
    };
    let Some(start) = span else {
        return String::new();
    };
    let before = &text[..start.start];
    let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
    format!("line {}, column {column}: ", before.matches('\n').count() + 1)
}
