//! Query language tests over a small site on disk.

use super::*;
use crate::SnapshotOptions;
use std::fs;
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn site() -> (tempfile::TempDir, Snapshot) {
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path();
    write(
        r,
        "content/site.txt",
        "Title: Harbour Co-op\n\n----\n\nFounded: 1984\n",
    );
    write(r, "content/home/home.txt", "Title: Home\n");
    write(
        r,
        "content/1_boats/boats.txt",
        "Title: Boats\n\n----\n\nTags: sail, motor , ,row\n",
    );
    write(
        r,
        "content/1_boats/1_skiff/boat.txt",
        "Title: Skiff\n\n----\n\nLength: 4\n\n----\n\nCrew:\n\n- name: Ana\n  role: helm\n- name: Bo\n  role: bow\n\n----\n\nUuid: skiff000000000001\n",
    );
    write(
        r,
        "content/1_boats/2_ketch/boat.txt",
        "Title: ketch\n\n----\n\nLength: 12\n",
    );
    write(
        r,
        "content/1_boats/3_dory/boat.txt",
        "Title: Dory <b>\n\n----\n\nLength: 5\n",
    );
    write(
        r,
        "content/1_boats/yawl/boat.txt",
        "Title: Yawl\n\n----\n\nLength: 9\n",
    );
    write(r, "content/1_boats/_drafts/raft/boat.txt", "Title: Raft\n");
    write(r, "content/1_boats/1_skiff/b.png", "png");
    write(r, "content/1_boats/1_skiff/a.pdf", "pdf");
    write(
        r,
        "content/1_boats/1_skiff/b.png.txt",
        "Sort: 1\n\n----\n\nTemplate: photo\n",
    );
    let snap = Snapshot::build(r, SnapshotOptions::default()).unwrap();
    (dir, snap)
}

fn text(scope: &Scope<'_>, q: &str) -> String {
    match scope.eval(q) {
        Ok(v) => v.to_text(scope).unwrap_or_else(|| "<null>".into()),
        Err(e) => format!("<error: {e}>"),
    }
}

#[test]
fn models_fields_and_collections() {
    let (_d, snap) = site();
    let scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    assert_eq!(text(&scope, "site.title"), "Harbour Co-op");
    assert_eq!(text(&scope, "site.founded"), "1984");
    assert_eq!(text(&scope, "site.founded.toInt + 2"), "1986");
    assert_eq!(text(&scope, "site.children.count"), "2");
    assert_eq!(text(&scope, "site.children.listed.count"), "1");
    assert_eq!(text(&scope, "page('boats').children.count"), "4");
    assert_eq!(text(&scope, "page('boats').children.listed.count"), "3");
    assert_eq!(text(&scope, "page('boats').childrenAndDrafts.count"), "5");
    assert_eq!(text(&scope, "page('boats').children.first.title"), "Skiff");
    assert_eq!(
        text(
            &scope,
            "page('boats').children.sortBy('length', 'desc').first.title"
        ),
        "ketch"
    );
    // natural, case-insensitive sorting by title
    assert_eq!(
        text(
            &scope,
            "page('boats').children.sortBy('title').pluck('title').count"
        ),
        "4"
    );
    assert_eq!(
        text(&scope, "page('boats').children.sortBy('title').first.title"),
        "Dory <b>"
    );
    assert_eq!(
        text(
            &scope,
            "page('boats').children.filterBy('length', '>', 4).count"
        ),
        "3"
    );
    assert_eq!(
        text(
            &scope,
            "page('boats').children.filterBy('length', 5).first.slug"
        ),
        "dory"
    );
    assert_eq!(
        text(
            &scope,
            "page('boats').children.filter((p) => p.length.toInt > 8).count"
        ),
        "2"
    );
    assert_eq!(text(&scope, "page('boats').tags.split.count"), "3");
    assert_eq!(
        text(&scope, "page('boats/skiff').crew.toStructure.count"),
        "2"
    );
    assert_eq!(
        text(&scope, "page('boats/skiff').crew.toStructure.last.name"),
        "Bo"
    );
    assert_eq!(text(&scope, "page('boats/skiff').parent.title"), "Boats");
    assert_eq!(text(&scope, "page('boats/skiff').next.slug"), "ketch");
    assert_eq!(text(&scope, "page('boats/skiff').prev"), "<null>");
    assert_eq!(
        text(&scope, "page('boats/skiff').uuid"),
        "page://skiff000000000001"
    );
    assert_eq!(
        text(&scope, "page('page://skiff000000000001').title"),
        "Skiff"
    );
    assert_eq!(text(&scope, "page('nope')?.title ?? 'none'"), "none");
    assert_eq!(text(&scope, "page('boats/skiff').files.count"), "2");
    assert_eq!(
        text(&scope, "page('boats/skiff').images.first.filename"),
        "b.png"
    );
    assert_eq!(
        text(
            &scope,
            "page('boats/skiff').files.template('photo').first.name"
        ),
        "b"
    );
    assert_eq!(text(&scope, "page('boats/skiff').missing.isEmpty"), "1");
    assert_eq!(
        text(&scope, "page('boats/skiff').missing.or('dash')"),
        "dash"
    );
    assert_eq!(text(&scope, "site.index.count"), "6");
    assert_eq!(text(&scope, "site.index(true).count"), "7");
    assert_eq!(
        text(&scope, "page('boats').children.not('boats/ketch').count"),
        "3"
    );
    assert_eq!(text(&scope, "page('boats').find('skiff').title"), "Skiff");
    assert_eq!(text(&scope, "page('boats').isListed ? 'yes' : 'no'"), "yes");
    assert_eq!(
        text(&scope, "page('home').isListed ?: 'unlisted'"),
        "unlisted"
    );
    assert_eq!(text(&scope, "[1, 2, 3][1]"), "2");
}

#[test]
fn errors_are_clear_and_not_guessed() {
    let (_d, snap) = site();
    let scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    assert!(matches!(
        scope.eval("page('boats').blueprint"),
        Err(QueryError::NotAvailable { .. })
    ));
    assert!(matches!(
        scope.eval("page('boats').children.paginate(2)"),
        Err(QueryError::NotAvailable { .. })
    ));
    assert!(matches!(
        scope.eval("site.title.bogus"),
        Err(QueryError::Unknown { .. })
    ));
    assert!(matches!(scope.eval("page("), Err(QueryError::Syntax(_))));
    assert!(matches!(
        scope.eval("page('nope').title"),
        Err(QueryError::Unknown { on: "null", .. })
    ));
}

#[test]
fn page_model_methods_are_not_guessed() {
    let (d, _) = site();
    write(
        d.path(),
        "site/models/boat.php",
        "<?php class BoatPage extends Page { public function length() { return 1; } }",
    );
    let snap = Snapshot::build(d.path(), SnapshotOptions::default()).unwrap();
    let scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    assert!(matches!(
        scope.eval("page('boats/skiff').length"),
        Err(QueryError::NotAvailable { .. })
    ));
    assert_eq!(text(&scope, "page('boats/skiff').title"), "Skiff");
}

#[test]
fn gates_hide_models() {
    let (_d, snap) = site();
    let public = Scope::new(&snap, Gate::Public);
    assert_eq!(text(&public, "page('boats').childrenAndDrafts.count"), "4");
    assert_eq!(text(&public, "page('boats/raft')"), "<null>");
    assert_eq!(text(&public, "users.count"), "0");
    let nobody = Scope::new(&snap, Gate::Actor(&Actor::Nobody));
    assert_eq!(text(&nobody, "site.children.count"), "0");
}

#[test]
fn templates() {
    let (_d, snap) = site();
    let skiff = snap.page_by_id("boats/dory").unwrap();
    let scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby)).for_model(Model::Page(skiff));
    assert_eq!(
        scope.template("{{ page.title }} · {{ page.length }}m", true, Some("")),
        "Dory &lt;b&gt; · 5m"
    );
    assert_eq!(
        scope.template("{< page.title >}", true, Some("")),
        "Dory <b>"
    );
    assert_eq!(
        scope.template("{{ page.nope.bogus }}!", true, Some("")),
        "!"
    );
    assert_eq!(
        scope.template("{{ page.nope.bogus }}!", true, None),
        "{{ page.nope.bogus }}!"
    );
    // the plain template also takes single braces
    assert_eq!(
        scope.template("{page.num}-{{ site.title }}", false, None),
        "3-Harbour Co-op"
    );
    assert_eq!(scope.template("no queries", true, Some("")), "no queries");
}

#[test]
fn options_from_queries() {
    let (_d, snap) = site();
    let boats = snap.page_by_id("boats").unwrap();
    let scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    let props = serde_json::json!({"options": "query", "query": "page.children.listed"});
    let items = options::resolve(&scope, Model::Page(boats), props.as_object().unwrap(), true)
        .unwrap()
        .unwrap();
    let pairs: Vec<(&str, &str)> = items
        .iter()
        .map(|o| (o.value.as_str(), o.text.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("boats/skiff", "Skiff"),
            ("boats/ketch", "ketch"),
            ("boats/dory", "Dory &lt;b&gt;")
        ]
    );
    let props = serde_json::json!({"options": {"type": "query", "query": "page.tags.split", "text": "#{{ item.value }}"}});
    let items = options::resolve(
        &scope,
        Model::Page(boats),
        props.as_object().unwrap(),
        false,
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        items.iter().map(|o| o.text.as_str()).collect::<Vec<_>>(),
        ["#sail", "#motor", "#row"]
    );
    assert_eq!(items[0].value, "sail");
    let bad = serde_json::json!({"options": "query", "query": "page.title"});
    assert!(
        options::resolve(&scope, Model::Page(boats), bad.as_object().unwrap(), true)
            .unwrap()
            .is_err()
    );
}
