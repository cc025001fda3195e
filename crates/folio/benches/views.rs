//! Criterion benchmarks of JSON view rendering: a page in its default view (content with
//! typed fields and pickers, options, parent) and a 100-page compact collection.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

use folio::api::views::{Plan, V};
use folio_core::permissions::Actor;
use folio_core::{Snapshot, SnapshotOptions};

fn benches(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root");
    let snap = Snapshot::build(
        &root,
        SnapshotOptions {
            salt: Some("s".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let admin = Actor::user(&snap, snap.user_by_key("admin@example.com").unwrap());
    let v = V {
        snap: &snap,
        actor: &admin,
        base: "http://127.0.0.1:8080",
    };
    let article = snap.page_by_id("blog/first-light").unwrap();
    let project = snap.page_by_id("projects/harbor-map").unwrap();
    c.bench_function("page default view (article, pickers)", |b| {
        b.iter(|| serde_json::to_vec(&v.page(article, &Plan::Default)).unwrap())
    });
    c.bench_function("page default view (project, users + files fields)", |b| {
        b.iter(|| serde_json::to_vec(&v.page(project, &Plan::Default)).unwrap())
    });
    let compact = Plan::View("compact".into());
    let all: Vec<usize> = (0..snap.pages.len()).cycle().take(100).collect();
    c.bench_function("100 pages, compact view", |b| {
        b.iter(|| {
            let items: Vec<serde_json::Value> = all.iter().map(|p| v.page(*p, &compact)).collect();
            serde_json::to_vec(&items).unwrap()
        })
    });
}

criterion_group!(views, benches);
criterion_main!(views);
