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

// ------------------------------------------------------------------------- KQL

fn kql(scope: &Scope<'_>, input: serde_json::Value) -> Result<serde_json::Value, QueryError> {
    kql::run(scope, &input)
}

fn kql_site() -> (tempfile::TempDir, Snapshot) {
    let (dir, _) = site();
    let r = dir.path();
    write(
        r,
        "content/1_boats/1_skiff/boat.txt",
        "Title: Skiff\n\n----\n\nLength: 4\n\n----\n\nCrew:\n\n- name: Ana\n  role: helm\n- name: Bo\n  role: bow\n\n----\n\nLog: [{\"id\":\"b1\",\"type\":\"text\",\"isHidden\":false,\"content\":{\"Text\":\"<p>Calm</p>\"}},{\"id\":\"b2\",\"type\":\"quote\",\"isHidden\":true,\"content\":{\"text\":\"hidden\"}}]\n\n----\n\nGrid: [{\"id\":\"l1\",\"attrs\":{\"class\":\"wide\"},\"columns\":[{\"id\":\"c1\",\"width\":\"1/2\",\"blocks\":[{\"id\":\"b3\",\"type\":\"heading\",\"isHidden\":false,\"content\":{\"level\":\"h2\",\"text\":\"Deck\"}}]}]}]\n\n----\n\nUuid: skiff000000000001\n",
    );
    let snap = Snapshot::build(r, SnapshotOptions::default()).unwrap();
    (dir, snap)
}

#[test]
fn kql_renders_models_collections_and_fields_as_the_plugin_does() {
    let (_d, snap) = kql_site();
    let policy = kql::Policy::default();
    let mut scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    scope.kql = Some(&policy);
    use serde_json::json;
    assert_eq!(
        kql(&scope, json!("site.title")).unwrap(),
        json!("Harbour Co-op")
    );
    // a collection renders as its keys
    assert_eq!(
        kql(&scope, json!("page('boats').children.listed")).unwrap(),
        json!(["boats/skiff", "boats/ketch", "boats/dory"])
    );
    // a page renders its default list, in KQL's order
    let page = kql(&scope, json!("page('boats/ketch')")).unwrap();
    let keys: Vec<&str> = page
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "children",
            "content",
            "drafts",
            "files",
            "id",
            "intendedTemplate",
            "isHomePage",
            "isErrorPage",
            "num",
            "template",
            "title",
            "slug",
            "status",
            "uid",
            "url"
        ]
    );
    assert_eq!(page["content"], json!({"title": "ketch", "length": "12"}));
    assert_eq!(page["num"], json!(2));
    // select: list, comma string, `true`, a query string and a nested query
    assert_eq!(
        kql(
            &scope,
            json!({"query": "page('boats').children.listed", "select": "slug, length"})
        )
        .unwrap(),
        json!([
            {"slug": "skiff", "length": "4"},
            {"slug": "ketch", "length": "12"},
            {"slug": "dory", "length": "5"}
        ])
    );
    assert_eq!(
        kql(
            &scope,
            json!({"query": "page('boats')", "select": {
                "title": true,
                "upper": "page.title.upper",
                "skip": false,
                "kids": {"query": "page.children.listed", "select": ["uid"], "pagination": {"limit": 2, "page": 2}}
            }})
        )
        .unwrap(),
        json!({
            "title": "Boats",
            "upper": "BOATS",
            "kids": {"data": [{"uid": "dory"}], "pagination": {"page": 2, "pages": 2, "offset": 2, "limit": 2, "total": 3}}
        })
    );
    // several queries at once
    assert_eq!(
        kql(
            &scope,
            json!({"queries": {"a": "site.title", "b": "site.children.count"}})
        )
        .unwrap(),
        json!({"a": "Harbour Co-op", "b": 2})
    );
    // structures, blocks and layouts
    assert_eq!(
        kql(&scope, json!("page('boats/skiff').crew.toStructure")).unwrap(),
        json!([{"name": "Ana", "role": "helm", "id": "0"}, {"name": "Bo", "role": "bow", "id": "1"}])
    );
    assert_eq!(
        kql(
            &scope,
            json!({"query": "page('boats/skiff').crew.toStructure", "select": {"who": "structureItem.name.upper", "role": true}})
        )
        .unwrap(),
        json!([{"who": "ANA", "role": "helm"}, {"who": "BO", "role": "bow"}])
    );
    assert_eq!(
        kql(&scope, json!("page('boats/skiff').log.toBlocks")).unwrap(),
        json!([{"content": {"text": "<p>Calm</p>"}, "id": "b1", "isHidden": false, "type": "text"}]),
        "hidden blocks are left out, content keys are lowercase"
    );
    assert_eq!(
        kql(
            &scope,
            json!({"query": "page('boats/skiff').log.toBlocks.first", "select": ["type", "text"]})
        )
        .unwrap(),
        json!({"type": "text", "text": "<p>Calm</p>"})
    );
    assert_eq!(
        kql(
            &scope,
            json!("page('boats/skiff').grid.toLayouts.first.columns.first.span")
        )
        .unwrap(),
        json!(6)
    );
    assert_eq!(
        kql(&scope, json!("page('boats/skiff').grid.toLayouts.first")).unwrap(),
        json!({
            "attrs": {"class": "wide"},
            "columns": [{"blocks": [{"content": {"level": "h2", "text": "Deck"}, "id": "b3", "isHidden": false, "type": "heading"}], "id": "c1", "width": "1/2"}],
            "id": "l1",
            "isEmpty": false
        })
    );
}

#[test]
fn kql_refuses_what_the_plugin_refuses() {
    let (_d, snap) = kql_site();
    let policy = kql::Policy::default();
    let mut scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    scope.kql = Some(&policy);
    use serde_json::json;
    let err = |q: serde_json::Value| kql(&scope, q).unwrap_err();
    // a PHP method that is not on the allowlist
    assert_eq!(
        err(json!("page('boats').delete")),
        QueryError::Forbidden(
            "The method \"Kirby\\Cms\\Page::delete()\" is not allowed in the API context".into()
        )
    );
    assert_eq!(
        err(json!("site.kirby")),
        QueryError::Forbidden(
            "The method \"Kirby\\Cms\\Site::kirby()\" is not allowed in the API context".into()
        )
    );
    // the allowlist is case-sensitive: `Title` is the PHP method, but not allowed
    assert!(matches!(
        err(json!("page('boats').Title")),
        QueryError::Forbidden(_)
    ));
    // a name that is no method is a content field
    assert_eq!(
        kql(&scope, json!("page('boats').tags")).unwrap(),
        json!("sail, motor , ,row")
    );
    assert_eq!(
        kql(&scope, json!("page('boats').nothing")).unwrap(),
        json!("")
    );
    // field methods: any registered one, in any case; others are refused
    assert_eq!(
        kql(&scope, json!("page('boats').title.UPPER")).unwrap(),
        json!("BOATS")
    );
    assert_eq!(
        err(json!("page('boats').title.parent")),
        QueryError::Forbidden(
            "The method \"Kirby\\Content\\Field::parent()\" is not allowed in the API context"
                .into()
        )
    );
    // collections answer their allowlist only
    assert!(matches!(
        err(json!("site.children.filter((p) => p.isListed)")),
        QueryError::Forbidden(_)
    ));
    // members of null and scalars
    assert_eq!(
        err(json!("site.find('nope').title")),
        QueryError::BadMethod("Access to method/property \"title\" on null".into())
    );
    assert_eq!(
        err(json!("site.title.value.upper")),
        QueryError::BadMethod("Access to method/property \"upper\" on string".into())
    );
    assert_eq!(
        err(json!({"query": 5})),
        QueryError::Exception("The query must be a string".into())
    );
    // a page past the end is the last page; a negative one is refused
    assert_eq!(
        kql(&scope, json!({"query": "site.children", "select": ["id"], "pagination": {"limit": 1, "page": 9}})).unwrap()["pagination"]["page"],
        json!(2)
    );
    assert_eq!(
        err(
            json!({"query": "site.children", "select": ["id"], "pagination": {"limit": 1, "page": -1}})
        ),
        QueryError::General("Invalid page number: -1".into())
    );
    // an image's dimensions is an array, not an object
    assert_eq!(
        err(json!("page('boats/skiff').files.first.dimensions.nope")),
        QueryError::BadMethod("Access to non-existing property \"nope\" on array".into())
    );
}

#[test]
fn kql_config_lists_allow_and_block() {
    let (_d, snap) = kql_site();
    use serde_json::json;
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let policy = kql::Policy::new(
        &s(&["kirby\\cms\\page::delete"]),
        &s(&["Kirby\\Cms\\Page::url", "KIRBY\\CMS\\PAGE::CHILDREN"]),
        &[],
        &[],
    );
    let mut scope = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    scope.kql = Some(&policy);
    // blocked in any case, and left out of the default rendering
    assert!(matches!(
        kql(&scope, json!("page('boats').children")),
        Err(QueryError::Forbidden(_))
    ));
    let page = kql(&scope, json!("page('boats')")).unwrap();
    assert!(page.get("url").is_none() && page.get("children").is_none());
    assert!(page.get("drafts").is_some());
    // a blocked class, in any case
    let blocked = kql::Policy::new(&[], &[], &[], &s(&["kirby\\cms\\FILES"]));
    scope.kql = Some(&blocked);
    assert_eq!(
        kql(&scope, json!("page('boats/skiff').files")).unwrap_err(),
        QueryError::Forbidden("Access to the class \"Kirby\\Cms\\Files\" is blocked".into())
    );
    assert_eq!(
        kql(&scope, json!("page('boats/skiff').files.count")).unwrap_err(),
        QueryError::Forbidden("Access to the class \"Kirby\\Cms\\Files\" is blocked".into())
    );
}

#[test]
fn kql_yields_only_what_the_gate_lets_through() {
    let (_d, snap) = kql_site();
    use serde_json::json;
    let policy = kql::Policy::default();
    let mut scope = Scope::new(&snap, Gate::Public);
    scope.kql = Some(&policy);
    // drafts and users are not public
    assert_eq!(
        kql(&scope, json!("page('boats').drafts")).unwrap(),
        json!([])
    );
    assert_eq!(
        kql(&scope, json!("page('boats/raft')")).unwrap(),
        json!(null)
    );
    assert_eq!(kql(&scope, json!("users")).unwrap(), json!([]));
    let mut admin = Scope::new(&snap, Gate::Actor(&Actor::Kirby));
    admin.kql = Some(&policy);
    assert_eq!(
        kql(&admin, json!("page('boats').drafts")).unwrap(),
        json!(["boats/raft"])
    );
}

#[test]
fn listing_a_page_depends_only_on_the_actor_and_its_template() {
    // `methods::pages` asks `can(list)` once per template; this holds the rules to that.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root");
    let snap = Snapshot::build(&root, SnapshotOptions::default()).unwrap();
    let mut checked = 0;
    let mut refused = 0;
    for u in 0..snap.users.len() {
        let actor = Actor::user(&snap, u);
        let mut seen: std::collections::HashMap<&str, bool> = std::collections::HashMap::new();
        for p in 0..snap.pages.len() {
            let ok =
                crate::permissions::can(&snap, &actor, crate::permissions::Target::Page(p), "list");
            refused += usize::from(!ok);
            let first = *seen.entry(snap.pages[p].template.as_str()).or_insert(ok);
            assert_eq!(ok, first, "{} as {}", snap.pages[p].id, snap.users[u].email);
            checked += 1;
        }
    }
    assert!(
        checked > 50 && refused > 0,
        "{checked} checks, {refused} refusals"
    );
}
