//! Kirby's permission model: the role permission matrix and the single pure function
//! [`can`] that decides whether an actor may perform an action on a model. Every route and
//! every action asks `can`; nothing else in Folio decides permissions.

use serde_json::{Map, Value};

use crate::blueprint::OptionValue;
use crate::model::{FileParent, PageIdx, Role, Status, UserIdx};
use crate::snapshot::Snapshot;

pub use crate::matrix::{
    FILE_ACTIONS, MATRIX, PAGE_ACTIONS, Permissions, SITE_ACTIONS, USER_ACTIONS,
};

/// Who is acting. An account is named by its id, so an actor means the same user in every
/// snapshot (a write runs against the latest one, not the one the request started with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No user (anonymous): a virtual user with the `nobody` role.
    Nobody,
    /// Kirby's almighty `kirby` user (server-side only, never reachable from HTTP).
    Kirby,
    /// An authenticated account, by user id.
    User(String),
}

impl Actor {
    /// The actor for the account at `u` in `snap`.
    pub fn user(snap: &Snapshot, u: UserIdx) -> Actor {
        Actor::User(snap.users[u].id.clone())
    }

    /// The acting account's index in `snap` (`None` for non-users and unknown ids).
    pub fn user_idx(&self, snap: &Snapshot) -> Option<UserIdx> {
        match self {
            Actor::User(id) => snap.user_by_id(id),
            _ => None,
        }
    }

    /// Whether this actor is the account at `u` in `snap`.
    pub fn is(&self, snap: &Snapshot, u: UserIdx) -> bool {
        matches!(self, Actor::User(id) if snap.users.get(u).is_some_and(|x| x.id == *id))
    }
}

/// The role of an actor in `snap` (`nobody` when none or unknown).
pub fn role_of<'s>(snap: &'s Snapshot, actor: &Actor) -> &'s Role {
    match actor {
        Actor::Nobody => snap.nobody(),
        Actor::Kirby => snap.role_named("admin"),
        Actor::User(id) => match snap.user_by_id(id) {
            Some(u) => snap.role_named(&snap.users[u].role),
            None => snap.nobody(),
        },
    }
}

/// What an action targets.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// The site.
    Site,
    /// A page.
    Page(PageIdx),
    /// A file (by owner and filename).
    File(FileParent, &'a str),
    /// A user account.
    User(UserIdx),
    /// A page about to be created with this template (its blueprint's options apply).
    NewPage(&'a str),
    /// A file about to be created in this parent with this template.
    NewFile(FileParent, Option<&'a str>),
    /// A role-level ability with no model: `can(…, Target::Area("access"), "panel")` reads
    /// the role's `access.panel`, `Target::Area("languages")` + `"create"` its
    /// `languages.create`.
    Area(&'a str),
}

/// Decides whether `actor` may perform `action` on `target`, in Kirby's order:
/// the `nobody` role, the model's built-in rules, the `kirby` user, the blueprint
/// `options:`, then the role's permissions.
pub fn can(snap: &Snapshot, actor: &Actor, target: Target<'_>, action: &str) -> bool {
    if *actor == Actor::Nobody {
        return false;
    }
    let role = role_of(snap, actor);
    if role.name == "nobody" {
        return false;
    }
    if let Target::Area(category) = target {
        return matches!(actor, Actor::Kirby) || role.permissions.get(category, action);
    }
    if !builtin_rule(snap, actor, target, action) {
        return false;
    }
    if matches!(actor, Actor::Kirby) {
        return true;
    }
    // Legacy `read`: when it is false the model is neither accessible nor listable.
    let has_read = matches!(target, Target::Page(_) | Target::File(..));
    if has_read && matches!(action, "access" | "list") && !can(snap, actor, target, "read") {
        return false;
    }
    if action == "list" && !can(snap, actor, target, "access") {
        return false;
    }
    let (category, option) = match target {
        Target::Site => ("site", snap.blueprints.site().option(action).cloned()),
        Target::Page(p) => (
            "pages",
            snap.blueprints
                .page(&snap.pages[p].template)
                .option(action)
                .cloned(),
        ),
        Target::File(parent, name) => {
            let template = snap
                .file(parent, name)
                .and_then(|f| f.template().map(str::to_string));
            (
                "files",
                snap.blueprints
                    .file(template.as_deref())
                    .option(action)
                    .cloned(),
            )
        }
        Target::User(u) => {
            let cat = if actor.is(snap, u) { "user" } else { "users" };
            let opt = snap
                .blueprints
                .user(&snap.users[u].role)
                .and_then(|bp| bp.option(action).cloned());
            (cat, opt)
        }
        Target::NewPage(template) => (
            "pages",
            snap.blueprints.page(template).option(action).cloned(),
        ),
        Target::NewFile(_, template) => (
            "files",
            snap.blueprints.file(template).option(action).cloned(),
        ),
        Target::Area(_) => unreachable!("answered above"),
    };
    if let Some(opt) = option
        && let Some(verdict) = opt.for_role(&role.name)
    {
        return verdict;
    }
    role.permissions.get(category, action)
}

/// `can(…, Page(p), "list")`. Its answer depends only on the actor and the page's
/// template: Kirby's built-in page rules never refuse `list`, `access` or `read`, and the
/// rest is the blueprint's options and the role's matrix. Callers that check many pages
/// may therefore ask once per template (the query language does).
pub fn can_list_page(snap: &Snapshot, actor: &Actor, p: PageIdx) -> bool {
    can(snap, actor, Target::Page(p), "list")
}

/// Kirby's hard-coded model rules; `false` means "never", `true` means "ask further".
fn builtin_rule(snap: &Snapshot, actor: &Actor, target: Target<'_>, action: &str) -> bool {
    match target {
        Target::Site | Target::NewPage(_) | Target::NewFile(..) | Target::Area(_) => true,
        Target::Page(p) => {
            let page = &snap.pages[p];
            match action {
                // (`can_list_page` relies on `list`, `access` and `read` never being refused here)
                "changeSlug" | "delete" | "move" => !(snap.is_home(p) || snap.is_error(p)),
                "changeStatus" => !snap.is_error(p),
                "changeTemplate" => !snap.is_error(p) && snap.page_templates(p).len() > 1,
                "sort" => {
                    !snap.is_error(p)
                        && page.status == Status::Listed
                        && snap.blueprints.page(&page.template).num == "default"
                }
                _ => true,
            }
        }
        Target::File(parent, name) => match action {
            "changeTemplate" => snap
                .file(parent, name)
                .is_some_and(|f| snap.file_templates(f).len() > 1),
            _ => true,
        },
        Target::User(u) => {
            let target_admin = snap.users[u].role == "admin";
            let actor_admin = role_of(snap, actor).name == "admin";
            match action {
                // Only admins may change an admin's role, and never the last admin's.
                "changeRole" => !target_admin || (actor_admin && snap.admin_count() > 1),
                // A non-admin may never create an admin.
                "create" => !target_admin || actor_admin,
                "delete" => !(target_admin && snap.admin_count() <= 1) && snap.users.len() > 1,
                _ => true,
            }
        }
    }
}

/// The options object of a model (each action evaluated with [`can`]), in Kirby's order.
pub fn options(snap: &Snapshot, actor: &Actor, target: Target<'_>) -> Map<String, Value> {
    let keys = match target {
        Target::Site => SITE_ACTIONS,
        Target::Page(_) | Target::NewPage(_) => PAGE_ACTIONS,
        Target::File(..) | Target::NewFile(..) => FILE_ACTIONS,
        Target::User(_) => USER_ACTIONS,
        Target::Area(_) => &[],
    };
    keys.iter()
        .map(|a| (a.to_string(), Value::Bool(can(snap, actor, target, a))))
        .collect()
}

/// Convenience: the blueprint option verdict type, re-exported for views.
pub type BlueprintOption = OptionValue;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wildcard_and_category_merge() {
        let p =
            Permissions::from_value(Some(&json!({"*": false, "access": {"panel": true}}))).unwrap();
        assert!(p.get("access", "panel"));
        assert!(
            p.get("access", "site"),
            "listed category merges with defaults"
        );
        assert!(!p.get("pages", "update"));
        let p =
            Permissions::from_value(Some(&json!({"pages": {"*": false, "update": true}}))).unwrap();
        assert!(p.get("pages", "update"));
        assert!(!p.get("pages", "delete"));
        assert!(p.get("files", "delete"));
        assert!(!p.get("user", "create"), "user category has no create");
    }

    #[test]
    fn non_boolean_is_an_error() {
        assert!(
            Permissions::from_value(Some(&json!({"pages": {"update": "yes please"}}))).is_err()
        );
    }
}
