//! Table test of `can()`: every action of every model kind, for every fixture role plus the
//! anonymous `nobody`, on representative targets of the Kirby fixture site. Expected rows
//! come from PERMISSIONS.md's rules (role matrix, blueprint options per role, built-in
//! rules); rows marked "golden" were also answered this way by real Kirby 5.5.2.

use std::path::Path;

use folio_core::model::FileParent;
use folio_core::permissions::{
    Actor, FILE_ACTIONS, PAGE_ACTIONS, SITE_ACTIONS, Target, USER_ACTIONS, can,
};
use folio_core::{Snapshot, SnapshotOptions};

fn fixture() -> Snapshot {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root");
    Snapshot::build(
        &root,
        SnapshotOptions {
            salt: Some("saltmarsh-fixture-salt".into()),
            ..Default::default()
        },
    )
    .expect("fixture site loads")
}

fn actor(snap: &Snapshot, who: &str) -> Actor {
    match who {
        "nobody" => Actor::Nobody,
        name => Actor::user(
            snap,
            snap.user_by_key(&format!("{name}@example.com"))
                .unwrap_or_else(|| panic!("fixture user {name}")),
        ),
    }
}

/// `T`/`F` per action, in the kind's action order.
fn row(snap: &Snapshot, who: &Actor, target: Target<'_>, actions: &[&str]) -> String {
    actions
        .iter()
        .map(|a| if can(snap, who, target, a) { 'T' } else { 'F' })
        .collect()
}

#[test]
fn page_actions() {
    let snap = fixture();
    // access changeSlug changeStatus changeTemplate changeTitle create delete duplicate
    // list move preview read sort update
    let table: &[(&str, &str, &str)] = &[
        ("admin", "blog", "TTTFTTFTTTTTTT"),
        ("admin", "blog/first-light", "TTTFTTTTTTTTFT"),
        ("admin", "rules", "TFFFFTFFTTTTTF"), // golden
        ("admin", "home", "TFFFTTFTTFTTFT"),
        ("admin", "error", "TFFFTTFTTFTTFT"), // golden
        ("admin", "about/internal-memo", "TTTFTTTTTTTTFT"),
        ("admin", "contact", "TTTTTTTTTTTTFT"),
        ("admin", "projects/harbor-map", "TTTFTTTTTTTTTT"),
        (
            "admin",
            "projects/harbor-map/survey/north-shore",
            "TTTTTTTTTTTTTT",
        ), // golden
        ("admin", "blog/unfinished-survey", "TTTFTTTTTTTTFT"),
        ("editor", "blog", "TTTFTTFTTTTTTT"),
        ("editor", "blog/first-light", "TTTFTTFTTTTTFT"), // golden
        ("editor", "rules", "TFFFFTFFTTTTTF"),
        ("editor", "home", "TFFFTTFTTFTTFT"),
        ("editor", "about/internal-memo", "TTTFTTFTTTTTFT"),
        ("editor", "contact", "TTTFTTFTTTTTFT"),
        ("editor", "projects/harbor-map", "TFTFTTFFTTTTTT"),
        ("editor", "blog/unfinished-survey", "TTTFTTFTTTTTFT"),
        ("client", "blog", "TFFFFFFFTFTTFF"),
        ("client", "blog/first-light", "TFFFFFFFTFTTFF"), // golden
        ("client", "rules", "TFFFFFFFTFTTFF"),
        ("client", "about/internal-memo", "FFFFFFFFFFTTFF"),
        ("client", "blog/unfinished-survey", "TFFFFFFFTFTTFF"),
        ("robot", "blog/first-light", "TTTFTTTTTTTTFT"),
        ("robot", "projects/harbor-map", "TTTFTTTTTTTTTT"),
        ("nobody", "blog", "FFFFFFFFFFFFFF"),
        ("nobody", "home", "FFFFFFFFFFFFFF"),
    ];
    for (who, id, want) in table {
        let a = actor(&snap, who);
        let p = snap.page_by_id(id).unwrap_or_else(|| panic!("page {id}"));
        assert_eq!(
            &row(&snap, &a, Target::Page(p), PAGE_ACTIONS),
            want,
            "{who} on page {id}"
        );
    }
}

#[test]
fn file_actions() {
    let snap = fixture();
    // access changeName changeTemplate create delete list read replace sort update
    let table: &[(&str, &str, &str, &str)] = &[
        ("admin", "blog/tidal-charts", "chart.png", "TTTTTTTTTT"), // golden
        ("admin", "blog/tidal-charts", "tides.csv", "TTTTTTTTTT"), // golden
        ("admin", "projects/harbor-map", "spec.pdf", "TTTTTTTTTT"),
        ("editor", "blog/fog-signals", "horn.jpg", "TTTTTTTTTT"),
        ("client", "projects/harbor-map", "spec.pdf", "TFFFFTTFFF"), // golden
        ("robot", "blog/tidal-charts", "chart.png", "TTTTTTTTTT"),
        ("nobody", "blog/tidal-charts", "chart.png", "FFFFFFFFFF"),
    ];
    for (who, page, name, want) in table {
        let a = actor(&snap, who);
        let p = snap.page_by_id(page).expect("page");
        let t = Target::File(FileParent::Page(p), name);
        assert_eq!(
            &row(&snap, &a, t, FILE_ACTIONS),
            want,
            "{who} on file {page}/{name}"
        );
    }
    // A site file.
    let admin = actor(&snap, "admin");
    assert_eq!(
        row(
            &snap,
            &admin,
            Target::File(FileParent::Site, "logo.png"),
            FILE_ACTIONS
        )
        .len(),
        10
    );
    assert!(can(
        &snap,
        &admin,
        Target::File(FileParent::Site, "logo.png"),
        "access"
    ));
}

#[test]
fn site_actions() {
    let snap = fixture();
    // access changeTitle preview update
    for (who, want) in [
        ("admin", "TTTT"),
        ("editor", "TFTT"),
        ("client", "TFTF"),
        ("robot", "TTTT"),
        ("nobody", "FFFF"),
    ] {
        let a = actor(&snap, who);
        assert_eq!(
            row(&snap, &a, Target::Site, SITE_ACTIONS),
            want,
            "{who} on the site"
        );
    }
}

#[test]
fn user_actions() {
    let snap = fixture();
    // access create changeEmail changeLanguage changeName changePassword changeRole delete
    // list update
    let table: &[(&str, &str, &str)] = &[
        ("admin", "admin", "TFTTTTFFTT"), // golden: yourself, the last admin
        ("admin", "editor", "TTTTTTTTTT"), // golden
        ("admin", "client", "TTTTTTTTTT"),
        ("editor", "editor", "TFTTTTFFTT"), // golden
        ("editor", "admin", "FFFFFFFFFF"),
        ("editor", "client", "FFFFFFFFFF"),
        ("client", "client", "TFFTFTFFTF"), // golden
        ("client", "editor", "FFFFFFFFFF"),
        ("robot", "robot", "TFTTTTTTTT"),
        ("robot", "admin", "TFTTTTFFTT"),
        ("nobody", "admin", "FFFFFFFFFF"),
    ];
    for (who, target, want) in table {
        let a = actor(&snap, who);
        let t = snap
            .user_by_key(&format!("{target}@example.com"))
            .expect("user");
        assert_eq!(
            &row(&snap, &a, Target::User(t), USER_ACTIONS),
            want,
            "{who} on user {target}"
        );
    }
}

#[test]
fn kirby_user_passes_options_but_not_built_in_rules() {
    let snap = fixture();
    let home = snap.page_by_id("home").unwrap();
    let rules = snap.page_by_id("rules").unwrap();
    assert!(
        can(&snap, &Actor::Kirby, Target::Page(rules), "update"),
        "options do not bind kirby"
    );
    assert!(
        !can(&snap, &Actor::Kirby, Target::Page(home), "delete"),
        "the home page is never deleted"
    );
    assert!(!can(&snap, &Actor::Kirby, Target::Page(home), "changeSlug"));
}
