//! Criterion benchmarks of the hot core paths: `.txt` decoding, snapshot building, `can()`
//! and search. The large site is generated in a temp folder by the benchmark itself.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::path::{Path, PathBuf};

use folio_core::format::txt;
use folio_core::permissions::{Actor, PAGE_ACTIONS, Target, can};
use folio_core::query::{Gate, Scope, kql};
use folio_core::{Snapshot, SnapshotOptions, search};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root")
}

/// A site with `n` articles (about 2 KB of text each) under the fixture's blueprints.
fn generated_site(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let copy = |from: &Path, to: &Path| {
        for e in walk(from) {
            let rel = e.strip_prefix(from).unwrap();
            let dest = to.join(rel);
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&e, &dest).unwrap();
        }
    };
    copy(&fixture().join("site"), &root.join("site"));
    let text = "The lamp came on at dusk and the harbour was quiet. ".repeat(40);
    for s in 0..(n / 100).max(1) {
        let sdir = root.join(format!("content/{}_section-{s}", s + 1));
        std::fs::create_dir_all(&sdir).unwrap();
        std::fs::write(sdir.join("blog.txt"), format!("Title: Section {s}")).unwrap();
        for i in 0..100.min(n) {
            let adir = sdir.join(format!("{}_article-{i}", 20240000 + i));
            std::fs::create_dir_all(&adir).unwrap();
            if s == 0 {
                // a cover image, as the headless KQL query shows
                std::fs::write(adir.join("cover.png"), PNG).unwrap();
            }
            let body = format!(
                "Title: Article {s}.{i}\n\n----\n\nDate: 2024-{:02}-{:02}\n\n----\n\nTags: a, b\n\n----\n\nText: {text}\n\n----\n\nUuid: a{s:05}x{i:09}",
                i % 12 + 1,
                i % 28 + 1
            );
            std::fs::write(adir.join("article.txt"), body).unwrap();
        }
    }
    dir
}

/// A 2×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0xf4, 0x22, 0x7f,
    0x8a, 0x00, 0x00, 0x00, 0x11, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x9f, 0x01, 0x08, 0x18, 0x60, 0x0c, 0x00, 0x29, 0xc4, 0x03, 0xfd, 0x97, 0xfc, 0x5a, 0x60, 0x00,
    0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let article =
        std::fs::read_to_string(fixture().join("content/1_blog/20240105_first-light/article.txt"))
            .unwrap();
    c.bench_function("txt decode (article)", |b| {
        b.iter(|| txt::decode(black_box(&article)))
    });
    let fields = txt::decode(&article);
    c.bench_function("txt encode (article)", |b| {
        b.iter(|| txt::encode(fields.iter().map(|(k, v)| (k.as_str(), Some(v.as_str())))))
    });

    let opts = SnapshotOptions::default();
    c.bench_function("snapshot build (fixture, 25 pages)", |b| {
        b.iter(|| Snapshot::build(&fixture(), opts.clone()).unwrap())
    });
    let big = generated_site(1000);
    let mut group = c.benchmark_group("large");
    group.sample_size(10);
    group.bench_function("snapshot build (1,000 pages)", |b| {
        b.iter(|| Snapshot::build(big.path(), opts.clone()).unwrap())
    });
    group.finish();

    let snap = Snapshot::build(&fixture(), opts.clone()).unwrap();
    let editor = Actor::user(&snap, snap.user_by_key("editor@example.com").unwrap());
    let p = snap.page_by_id("blog/first-light").unwrap();
    c.bench_function("can() all 14 page actions (editor, article)", |b| {
        b.iter(|| {
            PAGE_ACTIONS
                .iter()
                .filter(|a| can(&snap, &editor, Target::Page(p), a))
                .count()
        })
    });

    let big_snap = Snapshot::build(big.path(), opts).unwrap();
    let q = "harbour lamp".to_string();
    let words = search::words(&q);
    c.bench_function("search score (1,000 pages)", |b| {
        b.iter(|| {
            let query = search::Query::new(&q, &words);
            big_snap
                .pages
                .iter()
                .map(|page| {
                    query.score(
                        page.search.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                        &["title", "id"],
                    )
                })
                .filter(|s| *s > 0)
                .count()
        })
    });

    // the headless KQL list of docs/PERFORMANCE.md, evaluated in-process (no HTTP, so no URLs
    // and no date formats: those need the server's host)
    let policy = kql::Policy::new(&[], &[], &[], &[]);
    let mut scope = Scope::new(&big_snap, Gate::Actor(&Actor::Kirby));
    scope.kql = Some(&policy);
    let headless: serde_json::Value = serde_json::from_str(
        r#"{"query":"page('section-0').children.listed.sortBy('date','desc')",
            "select":{"title":true,"date":"page.date",
                      "image":"page.image.filename","excerpt":"page.text.excerpt(160)"},
            "pagination":{"limit":20}}"#,
    )
    .unwrap();
    let out = kql::run(&scope, &headless).unwrap();
    assert_eq!(out["data"].as_array().map(Vec::len), Some(20), "{out}");
    assert_eq!(out["data"][0]["image"], "cover.png", "{out}");
    c.bench_function("kql headless list (100 children, 20 selected)", |b| {
        b.iter(|| kql::run(&scope, black_box(&headless)).unwrap())
    });
    let filter =
        serde_json::json!({"query": "site.index.filterBy('intendedTemplate','article').count"});
    assert_eq!(kql::run(&scope, &filter).unwrap(), serde_json::json!(1000));
    c.bench_function("kql site.index filter (1,010 pages)", |b| {
        b.iter(|| kql::run(&scope, black_box(&filter)).unwrap())
    });
}

criterion_group!(core, benches);
criterion_main!(core);
