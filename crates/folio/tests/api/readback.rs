//! Kirby reads back what Folio writes: for each `tests/fixtures/readback-<site>/`, performs
//! its `writes.json` with Folio on a fresh copy of `tests/fixtures/<site>/root` and checks
//! that every file Folio writes equals the committed tree (`readback-<site>/root`), after
//! the recorder's normalisation (new UUIDs, bcrypt hashes, times). That tree is what
//! `tools/kirby-readback` recorded and then served with real Kirby 5.5.2: its reads are the
//! goldens in `readback-<site>/scenarios/`, which the conformance test replays against Folio
//! on the same tree. Together: the bytes Folio writes today are bytes Kirby was seen to read
//! the way Folio reads them.

use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

use crate::conformance::{TextNormalizer, perform, repo_root, tree};
use crate::support::copy_tree;

/// Folio's own files, which Kirby never sees (the tool leaves them out of the tree).
fn folio_only(rel: &str) -> bool {
    rel.starts_with("site/sessions/")
        || rel == "site/sessions/"
        || rel.split('/').any(|part| part.starts_with(".folio"))
}

fn readback_sites() -> Vec<PathBuf> {
    let mut sites: Vec<PathBuf> = fs::read_dir(repo_root().join("tests/fixtures"))
        .expect("read tests/fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("readback-"))
                && p.join("writes.json").is_file()
        })
        .collect();
    sites.sort();
    sites
}

/// Writes of one site; returns the differences from the committed tree.
fn check_site(site: &Path) -> Vec<String> {
    let name = site.file_name().unwrap().to_string_lossy().into_owned();
    let source = repo_root()
        .join("tests/fixtures")
        .join(name.trim_start_matches("readback-"))
        .join("root");
    let expected_root = site.join("root");
    let scenario: Value =
        serde_json::from_str(&fs::read_to_string(site.join("writes.json")).unwrap()).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    copy_tree(&source, &root);
    let mut problems = Vec::new();
    for (step, status) in perform(&root, &scenario) {
        match status {
            Ok(s) if (200..300).contains(&s) => {}
            other => problems.push(format!("{name}: write {step} answered {other:?}")),
        }
    }

    let expected: Vec<String> = tree(&expected_root);
    let actual: Vec<String> = tree(&root)
        .into_iter()
        .filter(|rel| !folio_only(rel))
        .collect();
    for rel in expected.iter().filter(|r| !actual.contains(r)) {
        problems.push(format!(
            "{name}: {rel} is in the committed tree, not written"
        ));
    }
    for rel in actual.iter().filter(|r| !expected.contains(r)) {
        problems.push(format!(
            "{name}: {rel} was written, not in the committed tree"
        ));
    }
    // Both sides through their own normaliser, file by file in the same order, so new ids
    // get the same numbers.
    let mut norm_expected = TextNormalizer::new(&source.join("content"));
    let mut norm_actual = TextNormalizer::new(&source.join("content"));
    for rel in expected
        .iter()
        .filter(|r| !r.ends_with('/') && actual.contains(r))
    {
        let (e, a) = (
            fs::read(expected_root.join(rel)).unwrap(),
            fs::read(root.join(rel)).unwrap(),
        );
        let (e, a) = match (String::from_utf8(e), String::from_utf8(a)) {
            (Ok(e), Ok(a)) => (norm_expected.text(&e), norm_actual.text(&a)),
            (e, a) => {
                if e.map_err(|x| x.into_bytes()) != a.map_err(|x| x.into_bytes()) {
                    problems.push(format!("{name}: {rel} differs (binary)"));
                }
                continue;
            }
        };
        if e != a {
            problems.push(format!(
                "{name}: {rel} differs\n--- committed\n{e}\n--- written now\n{a}"
            ));
        }
    }
    problems
}

#[test]
fn folio_writes_the_trees_kirby_read_back() {
    let sites = readback_sites();
    assert!(
        sites.len() >= 2,
        "expected the readback sites in tests/fixtures/readback-*, found {sites:?}"
    );
    let problems: Vec<String> = sites.iter().flat_map(|s| check_site(s)).collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn readback_trees_cover_every_written_file_type() {
    // page content, file meta, site, accounts, language files, changes; single and multi.
    let mut single = false;
    let mut multi = false;
    for site in readback_sites() {
        let files = tree(&site.join("root"));
        let has = |pred: &dyn Fn(&str) -> bool| files.iter().any(|f| pred(f));
        assert!(has(&|f| f.starts_with("content/")
            && f.ends_with(".png.txt")
            || f.contains(".png.") && f.ends_with(".txt")));
        assert!(has(&|f| f.starts_with("content/site.")));
        assert!(has(&|f| f.contains("/_changes/")));
        for account in ["user.", ".htpasswd", "index.php"] {
            assert!(has(
                &|f| f.starts_with("site/accounts/") && f.contains(account)
            ));
        }
        if has(&|f| f.starts_with("site/languages/") && f.ends_with(".php")) {
            multi = true;
        } else {
            single = true;
        }
    }
    assert!(
        single && multi,
        "a single- and a multi-language readback site"
    );
}
