//! The server crate's layers import downwards only (docs/ARCHITECTURE.md): `app` knows none
//! of `api`, `site`, `http`, `auth`; `auth` knows no routes; `api` and `site` are siblings
//! that never import each other or `http`. In `folio-core`, the model, the snapshot and the
//! permission check import each other in one direction only.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::<layer>` a layer's files mention, as "file: layer".
fn imports(layer: &str, forbidden: &[&str]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src")
        .join(layer);
    let mut files = Vec::new();
    sources(&dir, &mut files);
    assert!(!files.is_empty(), "no sources in {}", dir.display());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for other in forbidden {
            let needle = format!("crate::{other}");
            let hit = text.match_indices(&needle).any(|(i, _)| {
                !text[i + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            });
            if hit {
                found.push(format!("{}: {other}", file.display()));
            }
        }
    }
    found
}

#[test]
fn layers_import_downwards_only() {
    let rules: [(&str, &[&str]); 4] = [
        ("app", &["api", "site", "http", "auth", "cli"]),
        ("auth", &["api", "site", "http", "cli"]),
        ("api", &["site", "http", "cli"]),
        ("site", &["api", "http", "cli"]),
    ];
    let violations: Vec<String> = rules
        .iter()
        .flat_map(|(layer, forbidden)| imports(layer, forbidden))
        .collect();
    assert!(
        violations.is_empty(),
        "imports against the layering:\n{}",
        violations.join("\n")
    );
}

#[test]
fn core_modules_import_downwards_only() {
    let core = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src");
    // format → blueprint → matrix → model → language → snapshot → permissions → collections
    // → actions
    let rules: [(&str, &[&str]); 5] = [
        (
            "matrix.rs",
            &["model", "snapshot", "permissions", "actions", "collections"],
        ),
        (
            "model.rs",
            &["snapshot", "permissions", "actions", "collections"],
        ),
        (
            "language.rs",
            &["snapshot", "permissions", "actions", "collections"],
        ),
        ("snapshot.rs", &["permissions", "actions", "collections"]),
        ("permissions.rs", &["actions", "collections"]),
    ];
    let mut violations = Vec::new();
    for (file, forbidden) in rules {
        let text = std::fs::read_to_string(core.join(file)).expect("core source");
        // Doc comments may link anywhere; code may not import upwards.
        let code: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for other in forbidden {
            let needle = format!("crate::{other}");
            if code.match_indices(&needle).any(|(i, _)| {
                !code[i + needle.len()..].starts_with(|c: char| c.is_alphanumeric() || c == '_')
            }) {
                violations.push(format!("{file}: {other}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "core imports against the layering:\n{}",
        violations.join("\n")
    );
}
