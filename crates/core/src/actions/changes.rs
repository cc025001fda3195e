//! Content versions (Kirby 5's changes API) of pages, the site and files: `save` writes the
//! form into `_changes/<name>[.<code>].txt` with the editor's `Lock:`, `publish` writes it
//! into the latest version of that language and drops the changes, `discard` drops them.
//! Each language has its own changes; a lock held by another user in any language blocks
//! every language for ten minutes after its last save.

use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

use super::{Ctx, on_disk, refuse_privileged, submit, to_front, validate, write_content};
use crate::blueprint::Field;
use crate::format::txt;
use crate::model::{Content, FileParent, PageIdx};
use crate::permissions::{Actor, Target, can};
use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// How long a lock holds after the last save (Kirby: ten minutes).
const LOCK_SECONDS: i64 = 600;

/// A model with content versions, as the changes actions need it.
pub struct Versioned<'a> {
    /// The folder that holds the model's `_changes/` folder.
    pub dir: PathBuf,
    /// The content file stem (`article`, `site`, `photo.jpg`).
    pub stem: String,
    /// The model's blueprint fields.
    pub fields: Vec<Field>,
    /// The latest content in the snapshot's language (overlaid on the default).
    pub content: &'a Content,
    /// The language's own latest file (see [`crate::model::Page::translation`]).
    pub translation: &'a Option<Content>,
    /// Keys Kirby moves to the front of the content file.
    pub front: &'static [&'static str],
    /// Drafts are not validated on publish.
    pub draft: bool,
    /// Files drop `template` and `sort` in a translation.
    pub is_file: bool,
    /// Whose permission the actions ask.
    pub target: Target<'a>,
    /// Whose files bare file names in files fields name.
    pub owner: Option<FileParent>,
}

impl<'a> Versioned<'a> {
    /// A page's versions.
    pub fn page(snap: &'a Snapshot, p: PageIdx) -> Versioned<'a> {
        let page = &snap.pages[p];
        Versioned {
            dir: page.dir.clone(),
            stem: page.template.clone(),
            fields: snap.blueprints.page(&page.template).fields.clone(),
            content: &page.content,
            translation: &page.translation,
            front: &["title", "slug"],
            draft: page.is_draft(),
            is_file: false,
            target: Target::Page(p),
            owner: Some(FileParent::Page(p)),
        }
    }

    /// The site's versions.
    pub fn site(snap: &'a Snapshot) -> Versioned<'a> {
        Versioned {
            dir: snap.content_dir.clone(),
            stem: "site".into(),
            fields: snap.blueprints.site().fields.clone(),
            content: &snap.site.content,
            translation: &snap.site.translation,
            front: &["title"],
            draft: false,
            is_file: false,
            target: Target::Site,
            owner: Some(FileParent::Site),
        }
    }

    /// A file's versions (404 when the parent has no such file).
    pub fn file(snap: &'a Snapshot, parent: FileParent, filename: &'a str) -> Result<Self> {
        let f = snap
            .file(parent, filename)
            .ok_or_else(|| Error::file_not_found(filename))?;
        Ok(Versioned {
            dir: f.path.parent().map(Path::to_path_buf).unwrap_or_default(),
            stem: f.filename.clone(),
            fields: snap.blueprints.file(f.template()).fields.clone(),
            content: &f.content,
            translation: &f.translation,
            front: &[],
            draft: false,
            is_file: true,
            target: Target::File(parent, filename),
            owner: Some(parent),
        })
    }
}

/// Who holds the changes of a model, and when they were saved last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The user id in the changes file's `Lock:`.
    pub user: String,
    /// mtime of the changes file (unix seconds).
    pub modified: i64,
}

impl Lock {
    /// Whether this lock keeps `actor` out at `now`.
    pub fn blocks(&self, actor: &Actor, now: i64) -> bool {
        let own = matches!(actor, Actor::User(id) if *id == self.user);
        !own && self.modified > now - LOCK_SECONDS
    }

    /// Kirby's lock details: `isLegacy`, `isLocked`, `modified` (ISO 8601) and the user
    /// (`null`s unless the caller may list them).
    pub fn details(&self, snap: &Snapshot, actor: &Actor, now: i64) -> Value {
        let user = snap
            .user_by_id(&self.user)
            .filter(|u| can(snap, actor, Target::User(*u), "list"));
        json!({
            "isLegacy": false,
            "isLocked": self.blocks(actor, now),
            "modified": iso8601(self.modified),
            "user": {
                "id": user.map(|u| snap.users[u].id.clone()),
                "email": user.map(|u| snap.users[u].email.clone()),
            },
        })
    }
}

/// The first lock found in the model's changes, in any language.
pub fn lock_of(snap: &Snapshot, dir: &Path, stem: &str) -> Option<Lock> {
    let changes = dir.join("_changes");
    if !changes.is_dir() {
        return None;
    }
    snap.all_content_files(&changes, stem)
        .into_iter()
        .find_map(|path| {
            let meta = std::fs::metadata(&path).ok()?;
            let text = std::fs::read_to_string(&path).ok()?;
            let user = txt::decode(&text).get("lock").cloned()?;
            let modified = meta
                .modified()
                .ok()?
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_secs() as i64;
            (!user.is_empty()).then_some(Lock { user, modified })
        })
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS+00:00` for unix seconds.
fn iso8601(secs: i64) -> String {
    let (y, m, d) = super::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Runs `save`, `publish`, `discard` or `unlock` on a model's versions in the snapshot's
/// language. Needs the model's `update` permission; another user's active lock is a 423.
pub fn run(
    ctx: &Ctx<'_>,
    model: &Versioned<'_>,
    op: &str,
    input: &Map<String, Value>,
) -> Result<()> {
    let snap = ctx.snap;
    let (permission, lock_key) = match op {
        "save" => ("error.version.save.permission", "error.content.lock.create"),
        "publish" => (
            "error.version.publish.permission",
            "error.content.lock.publish",
        ),
        "discard" => (
            "error.version.discard.permission",
            "error.content.lock.delete",
        ),
        "unlock" => (
            "error.version.unlock.permission",
            "error.content.lock.update",
        ),
        _ => return Err(Error::no_route(op, "POST")),
    };
    if !can(snap, ctx.actor, model.target, "update") {
        return Err(Error::Permission {
            key: permission,
            message: "You are not allowed to edit this version".into(),
        });
    }
    let changes_dir = model.dir.join("_changes");
    let changes_file = snap.content_file(&changes_dir, &model.stem);
    let now = now();
    if op != "unlock"
        && let Some(lock) = lock_of(snap, &model.dir, &model.stem)
        && lock.blocks(ctx.actor, now)
    {
        let key = if op == "save" && changes_file.exists() {
            "error.content.lock.update"
        } else {
            lock_key
        };
        return Err(Error::Locked {
            key,
            message: lock_message(key).into(),
            details: lock.details(snap, ctx.actor, now),
        });
    }
    let _ = std::fs::remove_file(model.dir.join(".lock"));
    // Only this language's changes go; the folder goes with the last of them.
    let drop_changes = || {
        let _ = std::fs::remove_file(&changes_file);
        let _ = std::fs::remove_dir(&changes_dir);
    };
    match op {
        "save" | "publish" => {
            refuse_privileged(input)?;
            let base = match std::fs::read_to_string(&changes_file) {
                Ok(t) => {
                    let mut c = txt::decode(&t);
                    c.shift_remove("lock");
                    if snap.is_translation() {
                        super::with_fallback(&c, model.content)
                    } else {
                        c
                    }
                }
                Err(_) => model.content.clone(),
            };
            let mut content = to_front(
                submit(snap, model.owner, &model.fields, &base, input),
                model.front,
            );
            if model.is_file && snap.is_translation() {
                content.shift_remove("template");
                content.shift_remove("sort");
            }
            let latest = on_disk(snap, model.content, model.translation);
            if op == "save" {
                if content == *latest {
                    drop_changes();
                    return Ok(());
                }
                if let Actor::User(id) = ctx.actor {
                    content.insert("lock".into(), id.clone());
                }
                return write_content(&changes_file, &content);
            }
            if !model.draft {
                validate(
                    &model.fields,
                    &super::with_fallback(&content, model.content),
                )?;
            }
            let path = snap.content_file(&model.dir, &model.stem);
            super::write_content_over(&path, &latest, &content)?;
            drop_changes();
            Ok(())
        }
        "discard" => {
            drop_changes();
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The message of a refused write on a locked version, per error key (a key without its
/// own message gets the generic one).
fn lock_message(key: &str) -> &'static str {
    match key {
        "error.content.lock.update" => "The version is locked and cannot be updated",
        "error.content.lock.delete" => "The version is locked and cannot be deleted",
        "error.content.lock.publish" => "This version is already published",
        "error.content.lock.replace" => "The version is locked and cannot be replaced",
        "error.content.lock.move" => "The source version is locked and cannot be moved",
        _ => "The version is locked",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(iso8601(1_733_112_000), "2024-12-02T04:00:00+00:00");
    }

    #[test]
    fn locks_hold_for_other_users_for_ten_minutes() {
        let lock = Lock {
            user: "admin001".into(),
            modified: 1000,
        };
        let editor = Actor::User("editor01".into());
        assert!(lock.blocks(&editor, 1000 + 599));
        assert!(!lock.blocks(&editor, 1000 + 600));
        assert!(!lock.blocks(&Actor::User("admin001".into()), 1001));
    }
}
