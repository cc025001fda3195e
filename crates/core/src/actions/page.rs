//! Page and site actions: create, update, change status / slug / title / template,
//! duplicate, delete, and the site's update and title. Each checks `can()` first, validates,
//! and only then touches the disk; folder changes are renames within the content tree.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

use super::{
    Change, Ctx, ensure_unchanged, io_error, new_uuid, on_disk, refuse_privileged, submit,
    to_front, validate, with_fallback, write_content, write_content_over,
};
use crate::format::txt;
use crate::model::{Content, FileParent, PageIdx, Status};
use crate::permissions::{Actor, Target, can};
use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// Slugs that top-level pages may not take (the paths of Kirby's own URLs).
const RESERVED: &[&str] = &["api", "assets", "media", "panel"];

fn forbidden(key: &'static str, message: String) -> Error {
    Error::Permission { key, message }
}

fn duplicate_slug(slug: &str) -> Error {
    Error::Duplicate {
        key: "error.page.duplicate",
        message: format!("A page with the URL appendix \"{slug}\" already exists"),
    }
}

/// The content file of a page in the snapshot's language (`<dir>/<template>.txt`, or
/// `<dir>/<template>.<code>.txt` on a multi-language site).
pub fn content_path(snap: &Snapshot, p: PageIdx) -> PathBuf {
    let page = &snap.pages[p];
    snap.content_file(&page.dir, &page.template)
}

/// Kirby's page content file layout: `Title`, then `Slug`, then the rest.
fn page_fields(content: Content) -> Content {
    to_front(content, &["title", "slug"])
}

/// The folder that holds a page's siblings (the parent's folder or `content/`).
fn parent_dir(snap: &Snapshot, parent: Option<PageIdx>) -> PathBuf {
    match parent {
        Some(p) => snap.pages[p].dir.clone(),
        None => snap.content_dir.clone(),
    }
}

fn siblings(snap: &Snapshot, parent: Option<PageIdx>) -> (&[PageIdx], &[PageIdx]) {
    match parent {
        Some(p) => (&snap.pages[p].children, &snap.pages[p].drafts),
        None => (&snap.site.children, &snap.site.drafts),
    }
}

/// Fails when a sibling (published or draft) already uses the slug.
fn check_free(
    snap: &Snapshot,
    parent: Option<PageIdx>,
    slug: &str,
    except: Option<PageIdx>,
) -> Result<()> {
    let (children, drafts) = siblings(snap, parent);
    if children
        .iter()
        .any(|c| Some(*c) != except && snap.pages[*c].slug.eq_ignore_ascii_case(slug))
    {
        return Err(duplicate_slug(slug));
    }
    if drafts
        .iter()
        .any(|c| Some(*c) != except && snap.pages[*c].slug.eq_ignore_ascii_case(slug))
    {
        return Err(Error::Duplicate {
            key: "error.page.draft.duplicate",
            message: format!("A page draft with the URL appendix \"{slug}\" already exists"),
        });
    }
    if parent.is_none() && RESERVED.contains(&slug) {
        return Err(Error::InvalidArgument {
            key: "error.page.changeSlug.reserved",
            message: format!(
                "The path \"{slug}\" must not be used as a URL appendix for top-level pages"
            ),
            details: Value::Array(Vec::new()),
        });
    }
    Ok(())
}

/// Whether the actor may create a page with this template (the new page's own options).
fn can_create(snap: &Snapshot, actor: &Actor, template: &str) -> bool {
    can(snap, actor, Target::NewPage(template), "create")
}

fn body_str<'a>(input: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    input
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn as_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn as_bool(v: Option<&Value>, default: bool) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !(s.is_empty() || s == "0" || s == "false"),
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        _ => default,
    }
}

/// Creates a page (POST `…/children`). Returns the new page's id.
pub fn create(
    ctx: &Ctx<'_>,
    parent: Option<PageIdx>,
    input: &Map<String, Value>,
) -> Result<String> {
    let snap = ctx.snap;
    for key in ["blueprint", "options", "permissions"] {
        if body_str(input, key).is_some() {
            return Err(Error::invalid_argument(format!(
                "The field \"{key}\" cannot be set when creating a page"
            )));
        }
    }
    let content_in: Map<String, Value> = match body_str(input, "content") {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    refuse_privileged(&content_in)?;
    let template = match as_text(body_str(input, "template")) {
        t if t.trim().is_empty() => "default".to_string(),
        t => txt::slug(&t, 255),
    };
    if template.is_empty() {
        return Err(Error::invalid_argument("Invalid template"));
    }
    let title = as_text(
        content_in
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("title"))
            .map(|(_, v)| v),
    );
    let slug_src = match as_text(body_str(input, "slug")) {
        s if !s.trim().is_empty() => s,
        _ => title.clone(),
    };
    let slug = txt::slug(&slug_src, 255);
    let slug = if slug_src.trim().is_empty() {
        slug
    } else {
        txt::slug_with(&slug_src, 255, &snap.slug_rules())
    };
    if slug.is_empty() {
        return Err(Error::invalid_argument("The page slug is required"));
    }
    if !can_create(snap, ctx.actor, &template) {
        return Err(forbidden(
            "error.page.create.permission",
            format!("You are not allowed to create \"{slug}\""),
        ));
    }
    let draft = !(body_str(input, "draft").is_some_and(|v| !as_bool(Some(v), true))
        || body_str(input, "isDraft").is_some_and(|v| !as_bool(Some(v), true)));
    check_free(snap, parent, &slug, None)?;
    let translations = translations_of(snap, input)?;
    // Title first, then every blueprint field, then other submitted fields, then the UUID.
    let bp = snap.blueprints.page(&template);
    let mut content = Content::default();
    let raw_stored = |v: &Value| super::raw_stored_as(snap.options.yaml, v);
    let submitted: Vec<(String, &Value)> = content_in
        .iter()
        .map(|(k, v)| (txt::canonical_key(k), v))
        .filter(|(k, _)| !k.is_empty() && k != "0")
        .collect();
    let get = |name: &str| submitted.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    if let Some(t) = get("title").and_then(raw_stored) {
        content.insert("title".into(), t);
    }
    for f in bp.fields.iter().filter(|f| f.stores_value()) {
        // Submitted values are stored raw; the others get the form's stored defaults.
        let v = match get(&f.name) {
            Some(v) => raw_stored(v).or_else(|| default_stored(snap, f)),
            None => default_stored(snap, f),
        };
        if let Some(v) = v {
            content.insert(f.name.clone(), v);
        }
    }
    for (k, v) in &submitted {
        if !content.contains_key(k)
            && let Some(s) = raw_stored(v)
        {
            content.insert(k.clone(), s);
        }
    }
    content.insert("uuid".into(), new_uuid());
    if !draft {
        // Creating a published page needs the status permission and a valid form
        // (GHSA-w942-j9r6-hr6r: `isDraft: false` must not bypass changeStatus).
        if !can(snap, ctx.actor, Target::NewPage(&template), "changeStatus") {
            return Err(forbidden(
                "error.page.changeStatus.permission",
                "The status for this page cannot be changed".into(),
            ));
        }
        validate(&bp.fields, &content)?;
    }
    let base = parent_dir(snap, parent);
    let dir = if draft {
        base.join("_drafts").join(&slug)
    } else {
        base.join(&slug)
    };
    crate::store::create_dir_like_parent(&dir).map_err(io_error)?;
    write_content(&snap.default_content_file(&dir, &template), &content)?;
    for (code, fields) in translations {
        let mut own = Content::default();
        for (k, v) in fields {
            let untranslatable = bp.field(&k).is_some_and(|f| !f.translatable());
            if !untranslatable && k != "uuid" {
                own.insert(k, v);
            }
        }
        write_content(
            &crate::language::content_file(&dir, &template, Some(&code)),
            &page_fields(own),
        )?;
    }
    Ok(match parent {
        Some(p) => format!("{}/{slug}", snap.pages[p].id),
        None => slug,
    })
}

/// What a new page stores for a field it was not given (Kirby's `createDefaultContent`): the
/// field's `default` as the form stores it (`now` is the current time for dates and times),
/// `false` for a toggle, else empty; `None` (no line at all) for a hidden field without one.
fn default_stored(snap: &Snapshot, f: &crate::blueprint::Field) -> Option<String> {
    match f.props.get("default") {
        Some(Value::String(s)) if s == "now" && matches!(f.kind.as_str(), "date" | "time") => {
            Some(super::now_for(f))
        }
        Some(d) if !d.is_null() => Some(super::to_stored(snap, Some(f), d).unwrap_or_default()),
        _ => match f.kind.as_str() {
            "hidden" => None,
            "toggle" => Some("false".into()),
            _ => Some(super::empty_stored(snap, f)),
        },
    }
}

/// Stored fields in order: (key, text).
type Stored = Vec<(String, String)>;

/// The `translations` of a page create: `(code, stored fields)` per entry, with the
/// entry's `slug` as given. An unknown language is a 404 before anything is written.
fn translations_of(snap: &Snapshot, input: &Map<String, Value>) -> Result<Vec<(String, Stored)>> {
    let Some(Value::Array(entries)) = body_str(input, "translations") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let raw_stored = |v: &Value| super::raw_stored_as(snap.options.yaml, v);
    for entry in entries {
        let Value::Object(entry) = entry else {
            continue;
        };
        let code = as_text(entry.get("code"));
        let Some(i) = snap.languages.find(&code) else {
            return Err(Error::NotFound {
                key: "error.notFound",
                message: format!("Invalid language: {code}"),
            });
        };
        let mut fields = Vec::new();
        if let Some(Value::Object(c)) = entry.get("content") {
            for (k, v) in c {
                let key = txt::canonical_key(k);
                if let (false, Some(s)) = (key.is_empty(), raw_stored(v)) {
                    fields.push((key, s));
                }
            }
        }
        if let Some(slug) = entry.get("slug").and_then(raw_stored) {
            fields.push(("slug".into(), slug));
        }
        out.push((snap.languages.code(i).to_string(), fields));
    }
    Ok(out)
}

/// Updates a page's fields (PATCH) in the snapshot's language: Kirby's form (blueprint
/// order, `translate: false` kept out of translations), validated unless a draft, written
/// to that language's file only. Date-numbered listed pages renumber after an update of the
/// default language, which renames the folder ([`Change::Structure`]).
pub fn update(ctx: &Ctx<'_>, p: PageIdx, input: &Map<String, Value>) -> Result<Change> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    if !can(snap, ctx.actor, Target::Page(p), "update") {
        return Err(forbidden(
            "error.page.update.permission",
            format!(
                "You are not allowed to update \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    refuse_privileged(input)?;
    let bp = snap.blueprints.page(&page.template);
    let content = page_fields(submit(
        snap,
        Some(FileParent::Page(p)),
        &bp.fields,
        &page.content,
        input,
    ));
    if !page.is_draft() {
        validate(&bp.fields, &with_fallback(&content, &page.content))?;
    }
    let base = on_disk(snap, &page.content, &page.translation);
    write_content_over(&content_path(snap, p), &base, &content)?;
    if !snap.is_translation()
        && page.status == Status::Listed
        && !matches!(bp.num.as_str(), "default" | "zero")
    {
        let num = sort_number(snap, p, &bp.num, &with_fallback(&content, &page.content));
        if Some(num) != page.num {
            let to = parent_dir(snap, page.parent).join(format!("{num}_{}", page.slug));
            rename(&page.dir, &to)?;
            return Ok(Change::Structure);
        }
    }
    Ok(Change::PageContent(page.id.clone()))
}

/// Kirby's `createNum`: the number page `p` gets when listed at `position` (`default` mode:
/// clamped to 1..the number of listed siblings with the page; other modes: from the content).
fn create_num(snap: &Snapshot, p: PageIdx, mode: &str, position: Option<i64>) -> i64 {
    let page = &snap.pages[p];
    match mode {
        "default" => {
            let listed = siblings(snap, page.parent)
                .0
                .iter()
                .filter(|c| **c != p && snap.pages[**c].status == Status::Listed)
                .count() as i64
                + 1;
            position.unwrap_or(listed).clamp(1, listed)
        }
        mode => sort_number(snap, p, mode, &page.content),
    }
}

/// The number a page gets when listed under a non-default `num` mode: `zero`, `date`,
/// `datetime` or a template such as `{{ page.year }}` (evaluated on `content`, read as
/// PHP's `intval`).
fn sort_number(snap: &Snapshot, p: PageIdx, mode: &str, content: &Content) -> i64 {
    if !matches!(mode, "zero" | "date" | "datetime") {
        let mut copy = snap.clone();
        std::sync::Arc::make_mut(&mut copy.pages[p]).content = content.clone();
        let actor = crate::permissions::Actor::Kirby;
        let scope = crate::query::Scope::new(&copy, crate::query::Gate::Actor(&actor))
            .for_model(crate::query::Model::Page(p));
        let text = scope.template(mode, false, Some(""));
        let t = text.trim();
        let sign = usize::from(t.starts_with('-'));
        let digits: String = t[sign..].chars().take_while(char::is_ascii_digit).collect();
        let n: i64 = digits.parse().unwrap_or(0);
        return if sign == 1 { -n } else { n };
    }
    let date = content
        .get("date")
        .map(String::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    let date = if date.is_empty() { today() } else { date };
    let digits: String = date.chars().filter(char::is_ascii_digit).collect();
    match mode {
        "zero" => 0,
        "date" => digits.get(..8).and_then(|d| d.parse().ok()).unwrap_or(0),
        "datetime" => format!("{:0<12}", digits.get(..12).unwrap_or(&digits))
            .parse()
            .unwrap_or(0),
        _ => 0,
    }
}

fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (y, m, d) = super::civil_from_days(secs.div_euclid(86_400));
    format!("{y:04}-{m:02}-{d:02}")
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    if from == to {
        return Ok(());
    }
    if let Some(parent) = to.parent() {
        crate::store::create_dir_like_parent(parent).map_err(io_error)?;
    }
    std::fs::rename(from, to).map_err(io_error)?;
    if let Some(parent) = to.parent() {
        let _ = crate::store::sync_dir(parent);
    }
    if let Some(parent) = from.parent() {
        let _ = crate::store::sync_dir(parent);
        remove_if_empty_drafts(parent);
    }
    Ok(())
}

/// Kirby removes `_drafts` folders that become empty.
fn remove_if_empty_drafts(dir: &Path) {
    if dir.file_name().and_then(|n| n.to_str()) == Some("_drafts")
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false)
    {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Renumbers the listed `default`-mode siblings 1..n in the given order (folder renames).
fn renumber(snap: &Snapshot, parent: Option<PageIdx>, order: &[(PageIdx, PathBuf)]) -> Result<()> {
    let base = parent_dir(snap, parent);
    for (i, (p, current)) in order.iter().enumerate() {
        let want = base.join(format!("{}_{}", i + 1, snap.pages[*p].slug));
        rename(current, &want)?;
    }
    Ok(())
}

/// Listed siblings whose blueprint numbers them 1..n.
fn default_listed(snap: &Snapshot, parent: Option<PageIdx>, except: PageIdx) -> Vec<PageIdx> {
    siblings(snap, parent)
        .0
        .iter()
        .copied()
        .filter(|c| *c != except)
        .filter(|c| snap.pages[*c].status == Status::Listed)
        .filter(|c| snap.blueprints.page(&snap.pages[*c].template).num == "default")
        .collect()
}

/// Renumbers the listed siblings 1..n after page `p` left the listed ones (unlisted, made a
/// draft or deleted).
fn close_gap(snap: &Snapshot, p: PageIdx) -> Result<()> {
    let parent = snap.pages[p].parent;
    let rest: Vec<(PageIdx, PathBuf)> = default_listed(snap, parent, p)
        .into_iter()
        .map(|c| (c, snap.pages[c].dir.clone()))
        .collect();
    renumber(snap, parent, &rest)
}

/// Changes a page's status (PATCH `…/status`), renumbering siblings like Kirby.
pub fn change_status(ctx: &Ctx<'_>, p: PageIdx, status: &str, position: Option<i64>) -> Result<()> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    let target = match status {
        "listed" => Status::Listed,
        "unlisted" => Status::Unlisted,
        "draft" => Status::Draft,
        other => return Err(Error::invalid_argument(format!("Invalid status: {other}"))),
    };
    // Kirby returns before any permission check when nothing would change: an unlisted page
    // made unlisted, or a listed page asked for the number it already has.
    let bp = snap.blueprints.page(&page.template);
    let unchanged = match (page.status, target) {
        (Status::Unlisted, Status::Unlisted) => true,
        (Status::Listed, Status::Listed) => {
            page.num == Some(create_num(snap, p, &bp.num, position))
        }
        _ => false,
    };
    if unchanged {
        return Ok(());
    }
    // The blueprint's `status:` decides which statuses exist for the page (home and error
    // pages have no draft), before any permission.
    let home_or_error = snap.is_home(p) || snap.is_error(p);
    if !bp
        .statuses(home_or_error)
        .iter()
        .any(|(k, _)| *k == target.as_str())
    {
        return Err(Error::InvalidArgument {
            key: "error.page.status.invalid",
            message: "Please set a valid page status".into(),
            details: Value::Array(Vec::new()),
        });
    }
    let action = if page.status == Status::Listed && target == Status::Listed {
        "sort"
    } else {
        "changeStatus"
    };
    if !can(snap, ctx.actor, Target::Page(p), action) {
        return Err(if action == "sort" {
            forbidden(
                "error.page.sort.permission",
                format!("The page \"{}\" cannot be sorted", page.slug_in_language()),
            )
        } else {
            forbidden(
                "error.page.changeStatus.permission",
                "The status for this page cannot be changed".into(),
            )
        });
    }
    if target == Status::Draft && snap.is_home(p) {
        return Err(Error::InvalidArgument {
            key: "error.page.changeStatus.toDraft.invalid",
            message: format!(
                "The page \"{}\" cannot be converted to a draft",
                page.slug_in_language()
            ),
            details: Value::Array(Vec::new()),
        });
    }
    if page.is_draft() && target != Status::Draft {
        let errors = publish_errors(snap, p);
        if !errors.is_empty() {
            return Err(Error::Refused {
                key: "error.page.changeStatus.incomplete",
                message: "The page has errors and cannot be published".into(),
                details: Value::Object(errors),
            });
        }
    }
    let base = parent_dir(snap, page.parent);
    match target {
        Status::Draft => {
            if page.is_draft() {
                return Ok(());
            }
            rename(&page.dir, &base.join("_drafts").join(&page.slug))?;
            if page.status == Status::Listed && bp.num == "default" {
                close_gap(snap, p)?;
            }
        }
        Status::Unlisted => {
            rename(&page.dir, &base.join(&page.slug))?;
            if page.status == Status::Listed && bp.num == "default" {
                close_gap(snap, p)?;
            }
        }
        Status::Listed => {
            if bp.num == "default" {
                let mut order: Vec<(PageIdx, PathBuf)> = default_listed(snap, page.parent, p)
                    .into_iter()
                    .map(|c| (c, snap.pages[c].dir.clone()))
                    .collect();
                let n = order.len() as i64 + 1;
                let pos = position.unwrap_or(n).clamp(1, n) as usize;
                // Move the page next to its siblings first (no number), then renumber all.
                let staged = base.join(&page.slug);
                rename(&page.dir, &staged)?;
                order.insert(pos - 1, (p, staged));
                renumber(snap, page.parent, &order)?;
            } else {
                let num = sort_number(snap, p, &bp.num, &page.content);
                rename(&page.dir, &base.join(format!("{num}_{}", page.slug)))?;
            }
        }
    }
    Ok(())
}

/// What keeps a draft from being published, as Kirby's `errors()`: its fields' validation
/// errors, then each pages or files section with fewer entries than its `min` or more
/// than its `max`.
fn publish_errors(snap: &Snapshot, p: PageIdx) -> Map<String, Value> {
    let page = &snap.pages[p];
    let bp = snap.blueprints.page(&page.template);
    let mut errors = match validate(&bp.fields, &page.content) {
        Err(Error::InvalidArgument {
            details: Value::Object(d),
            ..
        }) => d,
        _ => Map::new(),
    };
    for section in &bp.sections {
        let count = |key: &str| section.props.get(key).and_then(Value::as_u64);
        let (min, max) = (count("min"), count("max"));
        if min.is_none() && max.is_none() {
            continue;
        }
        let total = section_total(snap, p, section) as u64;
        let noun = if section.kind == "files" {
            "file"
        } else {
            "page"
        };
        let label = section
            .props
            .get("headline")
            .or_else(|| section.props.get("label"))
            .and_then(crate::blueprint::scalar_string)
            .unwrap_or_else(|| crate::blueprint::label_from_name(&section.name));
        let mut message = Map::new();
        if let Some(min) = min.filter(|m| total < *m) {
            let text = if min == 1 {
                format!("The \"{label}\" section requires at least one {noun}")
            } else {
                format!("The \"{label}\" section requires at least {min} {noun}s")
            };
            message.insert("min".into(), Value::String(text));
        }
        if let Some(max) = max.filter(|m| total > *m) {
            let text = if max == 1 {
                format!("The \"{label}\" section must not have more than one {noun}")
            } else {
                format!("The \"{label}\" section must not have more than {max} {noun}s")
            };
            message.insert("max".into(), Value::String(text));
        }
        if !message.is_empty() {
            errors.insert(
                section.name.clone(),
                serde_json::json!({"label": label, "message": message}),
            );
        }
    }
    errors
}

/// How many entries a pages or files section of page `p` lists (its `status` and
/// `templates` filters; Kirby's default status for pages sections is `all`).
fn section_total(snap: &Snapshot, p: PageIdx, section: &crate::blueprint::Section) -> usize {
    let page = &snap.pages[p];
    let wanted = |t: &str| section.templates.is_empty() || section.templates.iter().any(|s| s == t);
    if section.kind == "files" {
        return page
            .files
            .iter()
            .filter(|f| wanted(f.template().unwrap_or("default")))
            .count();
    }
    let status = section
        .props
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("all");
    let list: Vec<PageIdx> = match status {
        "draft" | "drafts" => page.drafts.clone(),
        "listed" => page
            .children
            .iter()
            .copied()
            .filter(|c| snap.pages[*c].status == Status::Listed)
            .collect(),
        "unlisted" => page
            .children
            .iter()
            .copied()
            .filter(|c| snap.pages[*c].status == Status::Unlisted)
            .collect(),
        "published" => page.children.clone(),
        _ => page.children.iter().chain(&page.drafts).copied().collect(),
    };
    list.into_iter()
        .filter(|c| wanted(&snap.pages[*c].template))
        .count()
}

/// Changes a page's slug in the snapshot's language: in the default language the folder is
/// renamed (keeping the number), in a translation the translated slug is stored. Returns
/// the page's id afterwards.
pub fn change_slug(ctx: &Ctx<'_>, p: PageIdx, slug: &str) -> Result<String> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    let slug = txt::slug_with(slug, 255, &snap.slug_rules());
    if slug.is_empty() {
        return Err(Error::InvalidArgument {
            key: "error.page.slug.invalid",
            message: "Please enter a valid URL appendix".into(),
            details: Value::Array(Vec::new()),
        });
    }
    if !can(snap, ctx.actor, Target::Page(p), "changeSlug") {
        return Err(forbidden(
            "error.page.changeSlug.permission",
            format!(
                "You are not allowed to change the URL appendix for \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    if snap.is_translation() {
        change_translated_slug(snap, p, &slug)?;
        return Ok(page.id.clone());
    }
    if slug == page.slug {
        return Ok(page.id.clone());
    }
    check_free(snap, page.parent, &slug, Some(p))?;
    let name = match page.num {
        Some(n) if !page.is_draft() => format!("{n}_{slug}"),
        _ => slug.clone(),
    };
    let to = page
        .dir
        .parent()
        .map(|d| d.join(&name))
        .unwrap_or_else(|| PathBuf::from(&name));
    rename(&page.dir, &to)?;
    Ok(match page.parent {
        Some(par) => format!("{}/{slug}", snap.pages[par].id),
        None => slug,
    })
}

/// A slug change in a translation: the folder stays; the `Slug` field of the language's
/// own file is set (second, after `Title`), or removed when the slug is the folder's. The
/// slug must not be used by a sibling, as folder slug or as slug in this language.
fn change_translated_slug(snap: &Snapshot, p: PageIdx, slug: &str) -> Result<()> {
    let page = &snap.pages[p];
    if slug == page.slug_in_language() && page.translation.is_some() {
        return Ok(());
    }
    let (children, drafts) = siblings(snap, page.parent);
    let taken = |c: &PageIdx| {
        *c != p && {
            let other = &snap.pages[*c];
            other.slug.eq_ignore_ascii_case(slug) || other.slug_in_language() == slug
        }
    };
    if children.iter().any(taken) {
        return Err(duplicate_slug(slug));
    }
    if drafts.iter().any(taken) {
        return Err(Error::Duplicate {
            key: "error.page.draft.duplicate",
            message: format!("A page draft with the URL appendix \"{slug}\" already exists"),
        });
    }
    let base = page.translation.clone().unwrap_or_default();
    let mut own = base.clone();
    if slug == page.slug {
        own.shift_remove("slug");
    } else {
        own.insert("slug".into(), slug.to_string());
    }
    write_content_over(&content_path(snap, p), &base, &page_fields(own))
}

/// Changes a page's title.
pub fn change_title(ctx: &Ctx<'_>, p: PageIdx, title: &str) -> Result<()> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    if !can(snap, ctx.actor, Target::Page(p), "changeTitle") {
        return Err(forbidden(
            "error.page.changeTitle.permission",
            format!(
                "You are not allowed to change the title for \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    if title.trim().is_empty() {
        return Err(Error::InvalidArgument {
            key: "error.page.changeTitle.empty",
            message: "The title must not be empty".into(),
            details: Value::Array(Vec::new()),
        });
    }
    // Only the title changes, in this language's own file (created when missing).
    let base = on_disk(snap, &page.content, &page.translation);
    let mut content = base.clone().into_owned();
    content.insert("title".into(), title.to_string());
    write_content_over(&content_path(snap, p), &base, &page_fields(content))
}

/// Field types whose empty value Kirby writes when a template change adds them.
const WRITTEN_WHEN_EMPTY: &[&str] = &[
    "number",
    "range",
    "color",
    "checkboxes",
    "multiselect",
    "tags",
    "structure",
    "users",
    "pages",
    "files",
    "blocks",
    "layout",
    "object",
];

/// Changes a page's template: renames the content file and adds the new blueprint's fields.
pub fn change_template(ctx: &Ctx<'_>, p: PageIdx, template: &str) -> Result<()> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    let allowed = snap.page_templates(p);
    if !can(snap, ctx.actor, Target::Page(p), "changeTemplate") {
        return Err(forbidden(
            "error.page.changeTemplate.permission",
            format!(
                "You are not allowed to change the template for \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    if allowed.len() <= 1 || !allowed.iter().any(|t| t == template) {
        return Err(Error::Logic {
            key: "error.page.changeTemplate.invalid",
            message: format!(
                "The template for the page \"{}\" cannot be changed",
                page.slug_in_language()
            ),
        });
    }
    if template == page.template {
        return Ok(());
    }
    let bp = snap.blueprints.page(template);
    let mut content = page.content.clone();
    for f in &bp.fields {
        if !content.contains_key(&f.name) && WRITTEN_WHEN_EMPTY.contains(&f.kind.as_str()) {
            content.insert(f.name.clone(), String::new());
        }
    }
    let old = snap.default_content_file(&page.dir, &page.template);
    ensure_unchanged(&old, &page.content)?;
    write_content(&snap.default_content_file(&page.dir, template), &content)?;
    if old.exists() {
        std::fs::remove_file(&old).map_err(io_error)?;
    }
    // Translations keep their content under the new template's name.
    for (from, to) in snap
        .all_content_files(&page.dir, &page.template)
        .into_iter()
        .zip(snap.all_content_files(&page.dir, template))
    {
        if from != old && from.exists() {
            std::fs::rename(&from, &to).map_err(io_error)?;
        }
    }
    Ok(())
}

/// Duplicates a page as a draft next to it. Returns the copy's id.
pub fn duplicate(
    ctx: &Ctx<'_>,
    p: PageIdx,
    slug: Option<&str>,
    children: bool,
    files: bool,
) -> Result<String> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    if !can(snap, ctx.actor, Target::Page(p), "duplicate") {
        return Err(forbidden(
            "error.page.duplicate.permission",
            format!(
                "You are not allowed to duplicate \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    let slug = txt::slug(
        slug.filter(|s| !s.trim().is_empty())
            .unwrap_or(&format!("{}-copy", page.slug)),
        255,
    );
    if slug.is_empty() {
        return Err(Error::InvalidArgument {
            key: "error.page.slug.invalid",
            message: "Please enter a valid URL appendix".into(),
            details: Value::Array(Vec::new()),
        });
    }
    let (sib, drafts) = siblings(snap, page.parent);
    if sib
        .iter()
        .chain(drafts)
        .any(|c| snap.pages[*c].slug.eq_ignore_ascii_case(&slug))
    {
        return Err(duplicate_slug(&slug));
    }
    let target = parent_dir(snap, page.parent).join("_drafts").join(&slug);
    let mut renamed = Vec::new();
    copy_page_dir(&page.dir, &target, children, files, &mut renamed)?;
    // References inside the copy to copied models point at the copies, as in Kirby.
    relink(&target, &renamed)?;
    Ok(match page.parent {
        Some(par) => format!("{}/{slug}", snap.pages[par].id),
        None => slug,
    })
}

/// Rewrites `page://old` / `file://old` references in every content file below `dir`.
fn relink(dir: &Path, renamed: &[(String, String)]) -> Result<()> {
    if renamed.is_empty() {
        return Ok(());
    }
    for e in std::fs::read_dir(dir).map_err(io_error)?.flatten() {
        let path = e.path();
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            relink(&path, renamed)?;
        } else if path.extension().and_then(|x| x.to_str()) == Some("txt") {
            let text = std::fs::read_to_string(&path).map_err(io_error)?;
            let mut out = text.clone();
            for (old, new) in renamed {
                for scheme in ["page://", "file://"] {
                    out = out.replace(&format!("{scheme}{old}"), &format!("{scheme}{new}"));
                }
            }
            if out != text {
                crate::store::write_atomic(&path, out.as_bytes()).map_err(io_error)?;
            }
        }
    }
    Ok(())
}

/// Copies a page folder: content files with fresh UUIDs (old → new recorded in
/// `renamed`); optionally child pages and files.
fn copy_page_dir(
    from: &Path,
    to: &Path,
    children: bool,
    files: bool,
    renamed: &mut Vec<(String, String)>,
) -> Result<()> {
    crate::store::create_dir_like_parent(to).map_err(io_error)?;
    let entries: Vec<_> = std::fs::read_dir(from)
        .map_err(io_error)?
        .flatten()
        .collect();
    let names: Vec<String> = entries
        .iter()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    for e in &entries {
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        let is_dir = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            if children && !name.starts_with('.') && name != "_changes" {
                copy_page_dir(&e.path(), &to.join(&name), children, files, renamed)?;
            }
            continue;
        }
        if name.starts_with('.') {
            continue;
        }
        if let Some(stem) = name.strip_suffix(".txt") {
            let is_meta = names.iter().any(|n| n == stem);
            if is_meta && !files {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).map_err(io_error)?;
            let mut content = txt::decode(&text);
            if let Some(old) = content.get("uuid").cloned() {
                let new = new_uuid();
                renamed.push((old, new.clone()));
                content.insert("uuid".into(), new);
            }
            write_content(&to.join(&name), &content)?;
        } else if files {
            std::fs::copy(e.path(), to.join(&name)).map_err(io_error)?;
            crate::store::adopt(&to.join(&name)).map_err(io_error)?;
        }
    }
    Ok(())
}

/// Deletes a page (with `force` when it has children or drafts).
pub fn delete(ctx: &Ctx<'_>, p: PageIdx, force: bool) -> Result<()> {
    let snap = ctx.snap;
    let page = &snap.pages[p];
    if !can(snap, ctx.actor, Target::Page(p), "delete") {
        return Err(forbidden(
            "error.page.delete.permission",
            format!(
                "You are not allowed to delete \"{}\"",
                page.slug_in_language()
            ),
        ));
    }
    if !force && (!page.children.is_empty() || !page.drafts.is_empty()) {
        return Err(Error::InvalidArgument {
            key: "error.page.delete.hasChildren",
            message: "The page has subpages and cannot be deleted".into(),
            details: Value::Array(Vec::new()),
        });
    }
    std::fs::remove_dir_all(&page.dir).map_err(io_error)?;
    if let Some(parent) = page.dir.parent() {
        let _ = crate::store::sync_dir(parent);
        remove_if_empty_drafts(parent);
    }
    if page.status == Status::Listed && snap.blueprints.page(&page.template).num == "default" {
        close_gap(snap, p)?;
    }
    Ok(())
}

/// Updates the site's fields (PATCH `site`).
pub fn update_site(ctx: &Ctx<'_>, input: &Map<String, Value>) -> Result<()> {
    let snap = ctx.snap;
    if !can(snap, ctx.actor, Target::Site, "update") {
        return Err(forbidden(
            "error.site.update.permission",
            "You are not allowed to update the site".into(),
        ));
    }
    refuse_privileged(input)?;
    let bp = snap.blueprints.site();
    let site = &snap.site;
    let content = to_front(
        submit(
            snap,
            Some(FileParent::Site),
            &bp.fields,
            &site.content,
            input,
        ),
        &["title"],
    );
    validate(&bp.fields, &with_fallback(&content, &site.content))?;
    let base = on_disk(snap, &site.content, &site.translation);
    write_content_over(
        &snap.content_file(&snap.content_dir, "site"),
        &base,
        &content,
    )
}

/// Changes the site title (PATCH `site/title`).
pub fn change_site_title(ctx: &Ctx<'_>, title: &str) -> Result<()> {
    let snap = ctx.snap;
    if !can(snap, ctx.actor, Target::Site, "changeTitle") {
        return Err(forbidden(
            "error.site.changeTitle.permission",
            "You are not allowed to change the title of the site".into(),
        ));
    }
    if title.trim().is_empty() {
        return Err(Error::InvalidArgument {
            key: "error.site.changeTitle.empty",
            message: "The title must not be empty".into(),
            details: Value::Array(Vec::new()),
        });
    }
    let base = on_disk(snap, &snap.site.content, &snap.site.translation);
    let mut content = base.clone().into_owned();
    content.insert("title".into(), title.to_string());
    write_content_over(
        &snap.content_file(&snap.content_dir, "site"),
        &base,
        &to_front(content, &["title"]),
    )
}

/// Content versions (`changes/save|publish|discard|unlock`) of a page.
pub fn changes(ctx: &Ctx<'_>, p: PageIdx, op: &str, input: &Map<String, Value>) -> Result<()> {
    super::changes::run(
        ctx,
        &super::changes::Versioned::page(ctx.snap, p),
        op,
        input,
    )
}
