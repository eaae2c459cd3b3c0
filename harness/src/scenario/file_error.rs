//! How a wrong TOML file is reported: `path:line:column: what is wrong`, in TOML's words, with a
//! guess when an unknown key or value is close to a known one. Scenario files, directory files,
//! `live.toml` and the project file all report so.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A scenario file that cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, 0 when the problem is not at a place in the file.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for ScenarioError {}

/// An error at `span` of `text`, read from `path`: `path:line:column: message`.
pub fn error_at(path: &Path, text: &str, span: Range<usize>, message: String) -> ScenarioError {
    let (line, column) = line_and_column(text, span.start);
    ScenarioError {
        path: path.to_owned(),
        line,
        column,
        message,
    }
}

/// A TOML file's parse error, at its line and column: `path:line:column: what is wrong`. Scenario
/// files, directory files and `live.toml` all report so.
pub fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> ScenarioError {
    let (line, column) = line_and_column(text, error.span().map_or(0, |span| span.start));
    ScenarioError {
        path: path.to_owned(),
        line,
        column,
        message: toml_message(error),
    }
}

/// A TOML parse error's message in TOML's words (`array`, `table`, where serde says `sequence`,
/// `map`), with a "did you mean" when an unknown key or value is close to a known one.
fn toml_message(error: &toml::de::Error) -> String {
    let message = toml_words(error.message().trim_end());
    match did_you_mean(&message) {
        Some(suggestion) => format!("{message}: did you mean `{suggestion}`?"),
        None => message,
    }
}

/// serde's `sequence` and `map` as TOML says them, `array` and `table`; names the user wrote,
/// quoted in backticks or double quotes, are left alone.
fn toml_words(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quote = None;
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String, quoted: bool| {
        let replaced = match word.as_str() {
            "sequence" if !quoted => "array",
            "map" if !quoted => "table",
            other => other,
        };
        if replaced == "array" && out.ends_with("a ") {
            out.insert(out.len() - 1, 'n');
        }
        out.push_str(replaced);
        word.clear();
    };
    for c in message.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out, quote.is_some());
        match (quote, c) {
            (None, '`' | '"') => quote = Some(c),
            (Some(open), _) if open == c => quote = None,
            _ => {}
        }
        out.push(c);
    }
    flush(&mut word, &mut out, quote.is_some());
    // serde reads a struct from an array too, and then speaks of "struct Expect with 4 elements".
    if let Some(start) = out.find("expected struct ") {
        if out.starts_with("invalid length") {
            return "invalid type: array, expected a table".into();
        }
        let name_end = out[start + 16..]
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .map_or(out.len(), |end| start + 16 + end);
        out.replace_range(start..name_end, "expected a table");
    }
    out
}

/// For `unknown field `x`, expected one of `a`, `b`` (or `variant`), the closest of the
/// expected names, when it is close enough to be a typo.
fn did_you_mean(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))?;
    let (given, rest) = rest.split_once('`')?;
    let expected = rest.split_once("expected ")?.1;
    let given = given.to_lowercase();
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|candidate| (edit_distance(&given, &candidate.to_lowercase()), candidate))
        .filter(|(distance, candidate)| *distance <= (candidate.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.to_owned())
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, left) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(left != *right);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// 1-based line and column (in characters) of byte `offset`.
pub(super) fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    (line, before[line_start..].chars().count() + 1)
}
