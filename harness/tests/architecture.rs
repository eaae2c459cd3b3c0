//! The layout's promises, checked on the source: no module of either crate imports, directly or
//! through others, a module that imports it; `mocks` never depends on `harness`.
//!
//! A module depends on another when it names it by a path (`crate::a::b`, `super::c`, `self::d`,
//! or `use child::…` for a child module). Paths are resolved to the deepest module that exists;
//! `#[cfg(test)]` code is left out, since test modules may look at their parents.

#![expect(clippy::unwrap_used, reason = "test helpers fail the test by panicking")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    let mut found = BTreeMap::new();
    let mut pending = vec![src.to_owned()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = relative
                .components()
                .map(|component| component.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                module.pop();
            }
            found.insert(module, path);
        }
    }
    found
}

/// The identifiers after a `prefix::` occurrence: `crate::a::b::C` gives `["a", "b", "C"]`.
fn path_after(text: &str) -> Vec<String> {
    let mut segments = Vec::new();
    let mut rest = text;
    while let Some(after) = rest.strip_prefix("::") {
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        if end == 0 {
            break;
        }
        segments.push(after[..end].to_owned());
        rest = &after[end..];
    }
    segments
}

fn dependencies(module: &Module, text: &str, known: &BTreeMap<Module, PathBuf>) -> BTreeSet<Module> {
    // Comments (doc links included) are not imports; test code may look at its parents.
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let code = code.as_str();
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    for keyword in ["crate", "super", "self"] {
        let mut from = 0;
        while let Some(position) = code[from..].find(keyword) {
            let start = from + position;
            from = start + keyword.len();
            let before = start.checked_sub(1).map(|index| bytes[index]);
            if before.is_some_and(|byte| byte.is_ascii_alphanumeric() || byte == b'_') {
                continue;
            }
            let mut segments = path_after(&code[from..]);
            if segments.is_empty() {
                continue;
            }
            let mut base: Module = match keyword {
                "crate" => Vec::new(),
                "self" => module.clone(),
                _ => module[..module.len().saturating_sub(1)].to_vec(),
            };
            while segments.first().map(String::as_str) == Some("super") {
                segments.remove(0);
                base.pop();
            }
            let mut best = known.contains_key(&base).then(|| base.clone());
            for segment in segments {
                base.push(segment);
                if known.contains_key(&base) {
                    best = Some(base.clone());
                } else {
                    break;
                }
            }
            if let Some(best) = best.filter(|best| best != module) {
                found.insert(best);
            }
        }
    }
    for line in code.lines() {
        let line = line.trim_start();
        let Some(rest) = line
            .strip_prefix("pub use ")
            .or_else(|| line.strip_prefix("use "))
        else {
            continue;
        };
        let first = rest.split("::").next().unwrap_or_default();
        let mut child = module.clone();
        child.push(first.to_owned());
        if known.contains_key(&child) {
            found.insert(child);
        }
    }
    found
}

/// Returns every set of modules that import one another in a circle.
fn cycles(src: &Path) -> Vec<Vec<String>> {
    let known = modules(src);
    let graph: BTreeMap<Module, BTreeSet<Module>> = known
        .iter()
        .map(|(module, path)| {
            let text = std::fs::read_to_string(path).unwrap();
            (module.clone(), dependencies(module, &text, &known))
        })
        .collect();
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &Module| {
        let mut seen = BTreeSet::new();
        let mut pending = vec![from.clone()];
        while let Some(next) = pending.pop() {
            for target in &graph[&next] {
                if seen.insert(target.clone()) {
                    pending.push(target.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&Module, BTreeSet<Module>> =
        graph.keys().map(|module| (module, reach(module))).collect();
    let mut cycles = Vec::new();
    let mut placed = BTreeSet::new();
    for module in graph.keys() {
        if placed.contains(module) || !reachable[module].contains(module) {
            continue;
        }
        let members: Vec<String> = graph
            .keys()
            .filter(|other| reachable[module].contains(*other) && reachable[*other].contains(module))
            .inspect(|other| {
                placed.insert((*other).clone());
            })
            .map(|other| other.join("::"))
            .collect();
        cycles.push(members);
    }
    cycles
}

fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .join(krate)
        .join("src")
}

#[test]
fn no_module_of_either_crate_imports_a_module_that_imports_it() {
    for krate in ["mocks", "harness"] {
        assert_eq!(cycles(&src(krate)), Vec::<Vec<String>>::new(), "{krate}");
    }
}

#[test]
fn the_checker_sees_a_cycle_through_a_re_export() {
    let root = std::env::temp_dir().join(format!("mailscope-cycles-{}", std::process::id()));
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::write(root.join("lib.rs"), "pub mod a;\n").unwrap();
    std::fs::write(root.join("a/mod.rs"), "pub mod b;\npub use b::Thing;\n").unwrap();
    std::fs::write(root.join("a/b.rs"), "use crate::a::Other;\npub struct Thing;\n").unwrap();

    let found = cycles(&root);
    std::fs::remove_dir_all(&root).unwrap();

    assert_eq!(found, vec![vec!["a".to_owned(), "a::b".to_owned()]]);
}

#[test]
fn mocks_never_names_the_harness() {
    let manifest = std::fs::read_to_string(src("mocks").parent().unwrap().join("Cargo.toml")).unwrap();
    let names_harness = manifest.lines().any(|line| {
        let line = line.trim_start();
        line.starts_with("mailscope.") || line.starts_with("mailscope ") || line.starts_with("mailscope=")
    });
    assert!(!names_harness, "{manifest}");
    for path in modules(&src("mocks")).values() {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(!text.contains("mailscope::"), "{}", path.display());
        assert!(
            !text.contains("toml::"),
            "{}: mocks never learns that TOML exists",
            path.display()
        );
    }
}
