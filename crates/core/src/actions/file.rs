//! File actions: upload (create), replace, meta update, rename, sort and delete, plus user
//! avatars. Each action checks the actor's permission with [`can`] itself, validates every
//! input (file name, extension, MIME type sniffed from the bytes, the file blueprint's
//! `accept` rules, SVG contents) before it touches the disk, and then writes atomically.
//! A refused action leaves the site folder exactly as it was.

use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

use super::{
    Ctx, io_error, new_uuid, on_disk, refuse_privileged, submit, to_stored, validate, write_content,
};
use crate::blueprint::Blueprint;
use crate::format::txt;
use crate::media;
use crate::model::{Content, File, FileParent, UserIdx};
use crate::permissions::{Target, can};
use crate::snapshot::Snapshot;
use crate::store::{sync_dir, write_atomic};
use crate::{Error, Result};

/// Kirby's default `slugs.maxlength`, also the limit for sanitised file names.
const MAX_NAME: usize = 255;

/// File types a blueprint without any `accept` restriction allows (Kirby's default).
const DEFAULT_TYPES: [&str; 5] = ["image", "document", "archive", "audio", "video"];

/// MIME types allowed for avatars when the avatar blueprint names none.
const AVATAR_MIMES: [&str; 5] = [
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/avif",
];

/// One uploaded file: the name the client sent and where its bytes are.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// The client's file name (may contain directory parts; it is sanitised).
    pub name: &'a str,
    /// The file's bytes.
    pub bytes: Bytes<'a>,
}

impl<'a> Upload<'a> {
    /// An upload held in memory (tests, small bodies).
    pub fn memory(name: &'a str, bytes: &'a [u8]) -> Self {
        Upload {
            name,
            bytes: Bytes::Memory(bytes),
        }
    }
}

/// An upload's bytes: in memory, or spooled to a temporary file while the request body was
/// read (so a large upload never sits in memory).
#[derive(Debug, Clone, Copy)]
pub enum Bytes<'a> {
    /// The whole file.
    Memory(&'a [u8]),
    /// A temporary file on the site's file system (already fsynced).
    Spooled(&'a Spool),
}

/// A request body part written to a temporary file, with its first bytes kept for sniffing.
#[derive(Debug)]
pub struct Spool {
    /// The temporary file (created below the site root, so it can be renamed into place).
    pub path: PathBuf,
    /// Its size in bytes.
    pub len: u64,
    /// Its first [`Spool::HEAD`] bytes.
    pub head: Vec<u8>,
}

impl Spool {
    /// How many leading bytes are kept in memory: enough for every MIME and text sniffer.
    pub const HEAD: usize = 64 * 1024;
}

impl Bytes<'_> {
    /// The size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Bytes::Memory(b) => b.len() as u64,
            Bytes::Spooled(s) => s.len,
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The leading bytes (all of them for a memory upload).
    pub fn head(&self) -> &[u8] {
        match self {
            Bytes::Memory(b) => b,
            Bytes::Spooled(s) => &s.head,
        }
    }

    /// Image dimensions from the file's header.
    fn dimensions(&self) -> Option<(u32, u32)> {
        match self {
            Bytes::Memory(b) => media::dimensions(b),
            Bytes::Spooled(s) => media::dimensions(&s.head).or_else(|| {
                imagesize::size(&s.path)
                    .ok()
                    .map(|d| (d.width as u32, d.height as u32))
            }),
        }
    }

    /// Every byte (read from the spool file when spooled; bounded by the body limit).
    fn all(&self) -> std::io::Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            Bytes::Memory(b) => Ok(std::borrow::Cow::Borrowed(b)),
            Bytes::Spooled(s) if s.len as usize == s.head.len() => {
                Ok(std::borrow::Cow::Borrowed(&s.head))
            }
            Bytes::Spooled(s) => std::fs::read(&s.path).map(std::borrow::Cow::Owned),
        }
    }

    /// Whether the file at `path` holds exactly these bytes (compared in chunks).
    fn same_as(&self, path: &Path) -> bool {
        use std::io::Read;
        let Ok(meta) = std::fs::metadata(path) else {
            return false;
        };
        if !meta.is_file() || meta.len() != self.len() {
            return false;
        }
        let (Ok(mut a), Ok(mut b)) = (std::fs::File::open(path), self.reader()) else {
            return false;
        };
        let mut x = vec![0u8; 64 * 1024];
        let mut y = vec![0u8; 64 * 1024];
        loop {
            let n = match a.read(&mut x) {
                Ok(n) => n,
                Err(_) => return false,
            };
            if n == 0 {
                return true;
            }
            if b.read_exact(&mut y[..n]).is_err() || x[..n] != y[..n] {
                return false;
            }
        }
    }

    fn reader(&self) -> std::io::Result<Box<dyn std::io::Read + '_>> {
        Ok(match self {
            Bytes::Memory(b) => Box::new(*b),
            Bytes::Spooled(s) => Box::new(std::fs::File::open(&s.path)?),
        })
    }

    /// Puts the bytes at `path` atomically: a memory upload through a temporary file, a
    /// spooled one by renaming its (fsynced) spool file into place, then the folder is
    /// fsynced. A spool on another file system is copied.
    fn write_to(&self, path: &Path) -> std::io::Result<()> {
        match self {
            Bytes::Memory(b) => write_atomic(path, b),
            Bytes::Spooled(s) => match std::fs::rename(&s.path, path) {
                Ok(()) => {
                    // The spool file was made 0600 by this process; the file takes its
                    // folder's mode and owner like every file Folio writes.
                    crate::store::adopt(path)?;
                    sync_dir(path.parent().unwrap_or(Path::new(".")))
                }
                Err(e) if e.raw_os_error() == Some(18) => {
                    // EXDEV: not on the same file system.
                    write_atomic(path, &std::fs::read(&s.path)?)
                }
                Err(e) => Err(e),
            },
        }
    }
}

/// The result of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The stored (sanitised) file name.
    pub filename: String,
    /// True when an identical file with the same template already existed (nothing written).
    pub existed: bool,
}

// ------------------------------------------------------------------------------- actions

/// Uploads a new file into `parent` (Kirby's `createFile`): the name is sanitised, the
/// `files.create` permission is checked for a file with the requested template, an existing
/// file with that name is refused unless the bytes and template are identical (a no-op), the
/// file is validated (name, extension, sniffed MIME type, blueprint `accept`, SVG contents),
/// then the bytes and a fresh meta file are written.
pub fn create(
    ctx: &Ctx<'_>,
    parent: FileParent,
    upload: &Upload<'_>,
    template: Option<&str>,
    sort: Option<&str>,
) -> Result<Created> {
    let template = clean_template(template);
    let filename = safe_name_with(&upload_filename(upload), &ctx.snap.slug_rules());
    if !can_create(ctx, parent, &filename, template) {
        return Err(permission("The file cannot be created"));
    }
    let dir = parent_dir(ctx.snap, parent);
    let path = dir.join(&filename);
    if std::fs::symlink_metadata(&path).is_ok() {
        if is_identical(ctx.snap, &path, &upload.bytes, template) {
            return Ok(Created {
                filename,
                existed: true,
            });
        }
        return Err(duplicate(&filename));
    }
    check_new_file(ctx.snap, &filename, upload, template, None)?;
    write_new(ctx.snap, &dir, &filename, &upload.bytes, template, sort)?;
    Ok(Created {
        filename,
        existed: false,
    })
}

/// Replaces the bytes of an existing file (Kirby's `replace`): name, meta file and `Uuid`
/// stay. Needs `files.replace`; the new bytes must pass the MIME rules and the file
/// blueprint's `accept` rules.
pub fn replace(
    ctx: &Ctx<'_>,
    parent: FileParent,
    filename: &str,
    upload: &Upload<'_>,
) -> Result<()> {
    let file = existing(ctx.snap, parent, filename)?;
    if !can(
        ctx.snap,
        ctx.actor,
        Target::File(parent, filename),
        "replace",
    ) {
        return Err(permission("The file cannot be replaced"));
    }
    let upload_name = upload_filename(upload);
    let ext = extension_of(&upload_name);
    let mime = upload_mime(upload.bytes.head(), &ext);
    valid_mime(&mime, filename)?;
    let bp = ctx.snap.blueprints.file(file.template());
    check_accept(
        &accept_rules(&bp, None),
        &Probe::new(&mime, &ext, &upload.bytes),
    )?;
    check_contents(&upload.bytes, &mime, &file.extension())?;
    upload.bytes.write_to(&file.path).map_err(io_error)
}

/// Updates a file's meta fields (PATCH): the input is merged into the meta content (fields
/// keep their position, new ones are appended) and validated against the file blueprint.
/// Needs `files.update`; a new `template` also needs `changeTemplate`. Other keys that
/// would change the model (`uuid`, ...) are refused (400, nothing written).
pub fn update(
    ctx: &Ctx<'_>,
    parent: FileParent,
    filename: &str,
    input: &Map<String, Value>,
) -> Result<()> {
    let file = existing(ctx.snap, parent, filename)?;
    if !can(
        ctx.snap,
        ctx.actor,
        Target::File(parent, filename),
        "update",
    ) {
        return Err(permission("The file cannot be updated"));
    }
    refuse_privileged(input)?;
    // A file's template decides its blueprint and permissions. Kirby lets any update
    // switch it; Folio lets the content name a new template only for users who may
    // `changeTemplate` the file (docs/DIFFERENCES.md); it is stored with the blueprint
    // the file had when the update began, as Kirby does.
    let snap = ctx.snap;
    let current = file.template().map(str::to_string);
    if let Some((k, v)) = input
        .iter()
        .find(|(k, _)| txt::canonical_key(k) == "template")
    {
        let wanted = match v {
            Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Value::Null => None,
            _ => {
                return Err(Error::invalid_argument(format!(
                    "The field \"{k}\" must be a template name"
                )));
            }
        };
        if wanted != current && !may_change_template(snap, ctx.actor, file) {
            return Err(Error::Permission {
                key: "error.file.changeTemplate.permission",
                message: format!(
                    "You are not allowed to change the template for the file \"{}\"",
                    file.id
                ),
            });
        }
    }
    let bp = snap.blueprints.file(file.template());
    let mut content = submit(snap, Some(parent), &bp.fields, &file.content, input);
    validate(&bp.fields, &content)?;
    if snap.is_translation() {
        content.shift_remove("template");
        content.shift_remove("sort");
    } else if content.get("template").map(String::as_str) == Some("default") {
        content.shift_remove("template");
    }
    let base = on_disk(snap, &file.content, &file.translation);
    write_meta(&own_meta_path(snap, &file.path), &base, &content)
}

/// Whether the actor's role may change this file's template (the blueprint's per-role
/// `changeTemplate` option, else the role's `files.changeTemplate`), whatever templates the
/// parent offers.
fn may_change_template(snap: &Snapshot, actor: &crate::permissions::Actor, file: &File) -> bool {
    if matches!(actor, crate::permissions::Actor::Kirby) {
        return true;
    }
    let role = crate::permissions::role_of(snap, actor);
    if role.name == "nobody" {
        return false;
    }
    let bp = snap.blueprints.file(file.template());
    match bp
        .option("changeTemplate")
        .and_then(|o| o.for_role(&role.name))
    {
        Some(verdict) => verdict,
        None => role.permissions.get("files", "changeTemplate"),
    }
}

/// Renames a file (Kirby's `changeName`): the new base name is sanitised like an upload
/// (directory parts and unsafe characters go), the extension stays. The meta file is
/// renamed with it. Returns the new file name.
pub fn change_name(
    ctx: &Ctx<'_>,
    parent: FileParent,
    filename: &str,
    name: &str,
) -> Result<String> {
    let file = existing(ctx.snap, parent, filename)?;
    let base = txt::slug_full(name, MAX_NAME, &ctx.snap.slug_rules(), "@._-");
    let ext = file.extension();
    let new_name = if ext.is_empty() {
        base.clone()
    } else {
        format!("{base}.{ext}")
    };
    if new_name == file.filename {
        return Ok(new_name);
    }
    if !can(
        ctx.snap,
        ctx.actor,
        Target::File(parent, filename),
        "changeName",
    ) {
        return Err(Error::Permission {
            key: "error.file.changeName.permission",
            message: format!("You are not allowed to change the name of \"{filename}\""),
        });
    }
    if base.is_empty() {
        return Err(Error::InvalidArgument {
            key: "error.file.changeName.empty",
            message: "The name must not be empty".into(),
            details: Value::Array(Vec::new()),
        });
    }
    let dir = parent_dir(ctx.snap, parent);
    let new_path = dir.join(&new_name);
    let same_file = new_name.eq_ignore_ascii_case(&file.filename);
    let taken = ctx
        .snap
        .files_of(parent)
        .iter()
        .any(|f| f.filename == new_name)
        || (!same_file
            && (std::fs::symlink_metadata(&new_path).is_ok()
                || std::fs::symlink_metadata(meta_path(ctx.snap, &new_path)).is_ok()));
    if taken {
        return Err(duplicate(&new_name));
    }
    valid_filename(&new_name)?;
    std::fs::rename(&file.path, &new_path).map_err(io_error)?;
    let metas = all_meta_paths(ctx.snap, &file.path)
        .into_iter()
        .zip(all_meta_paths(ctx.snap, &new_path));
    for (old_meta, new_meta) in metas {
        if old_meta.exists()
            && let Err(e) = std::fs::rename(&old_meta, new_meta)
        {
            let _ = std::fs::rename(&new_path, &file.path);
            return Err(io_error(e));
        }
    }
    sync_dir(&dir).map_err(io_error)?;
    Ok(new_name)
}

/// Sorts files (Kirby's `files/sort`): the listed file ids get `Sort: index+1, index+2, …`
/// in their meta files (appended as the last field when new); other files are untouched.
/// Ids that are not files of `parent` are skipped. Needs `files.sort` for every listed file.
pub fn sort(ctx: &Ctx<'_>, parent: FileParent, ids: &[String], index: i64) -> Result<()> {
    let files = ctx.snap.files_of(parent);
    let mut changes: Vec<(&File, String)> = Vec::new();
    let mut offset = index;
    for id in ids {
        let Some(file) = files.iter().find(|f| &f.id == id) else {
            continue;
        };
        offset = offset
            .checked_add(1)
            .ok_or_else(|| Error::invalid_argument("The `index` field is too large"))?;
        if !can(
            ctx.snap,
            ctx.actor,
            Target::File(parent, &file.filename),
            "sort",
        ) {
            return Err(Error::Permission {
                key: "error.file.sort.permission",
                message: "You are not allowed to do this".into(),
            });
        }
        let value = offset.to_string();
        if file.content.get("sort") != Some(&value) {
            changes.push((file, value));
        }
    }
    // `Sort` lives in the default language's meta file.
    for (file, value) in changes {
        let path = meta_path(ctx.snap, &file.path);
        let stored = if ctx.snap.is_translation() {
            std::fs::read(&path)
                .map(|b| txt::decode(&String::from_utf8_lossy(&b)))
                .unwrap_or_default()
        } else {
            file.content.clone()
        };
        let mut content = stored.clone();
        content.insert("sort".into(), value);
        write_meta(&path, &stored, &content)?;
    }
    Ok(())
}

/// Deletes a file and its meta file. Needs `files.delete`.
pub fn delete(ctx: &Ctx<'_>, parent: FileParent, filename: &str) -> Result<()> {
    let file = existing(ctx.snap, parent, filename)?;
    if !can(
        ctx.snap,
        ctx.actor,
        Target::File(parent, filename),
        "delete",
    ) {
        return Err(permission("The file cannot be deleted"));
    }
    remove_file_and_meta(ctx.snap, &file.path)
}

/// Uploads a user's avatar: stored as `profile.<ext>` in the account folder with the
/// template `avatar`, replacing an existing avatar. Needs the user `update` permission
/// (GHSA-39cp-6679-8xv2: file permissions alone are not enough) and `files.create`; only
/// raster images are accepted. Returns the stored file name.
pub fn create_avatar(ctx: &Ctx<'_>, u: UserIdx, upload: &Upload<'_>) -> Result<String> {
    require_user_update(ctx, u)?;
    let parent = FileParent::User(u);
    let ext = extension_of(&safe_name(&upload_filename(upload)));
    let filename = if ext.is_empty() {
        "profile".to_string()
    } else {
        format!("profile.{ext}")
    };
    if !can_create(ctx, parent, &filename, Some("avatar")) {
        return Err(permission("The file cannot be created"));
    }
    let probe = Upload {
        name: &filename,
        bytes: upload.bytes,
    };
    check_new_file(
        ctx.snap,
        &filename,
        &probe,
        Some("avatar"),
        Some(&AVATAR_MIMES),
    )?;
    let dir = parent_dir(ctx.snap, parent);
    // The new avatar is written first (over an old one with the same name), then any other
    // old avatar goes, so a failed write never leaves the user without one.
    write_new(
        ctx.snap,
        &dir,
        &filename,
        &upload.bytes,
        Some("avatar"),
        None,
    )?;
    for old in ctx.snap.users[u].files.iter() {
        if old.name() == "profile" && old.filename != filename {
            remove_file_and_meta(ctx.snap, &old.path)?;
        }
    }
    Ok(filename)
}

/// Deletes a user's avatar. Needs the user `update` permission and `files.delete`.
/// Without an avatar this is Kirby's `null` result (404 "not found").
pub fn delete_avatar(ctx: &Ctx<'_>, u: UserIdx) -> Result<()> {
    require_user_update(ctx, u)?;
    let avatar = ctx.snap.users[u].avatar().ok_or(Error::NullResult)?;
    if !can(
        ctx.snap,
        ctx.actor,
        Target::File(FileParent::User(u), &avatar.filename),
        "delete",
    ) {
        return Err(permission("The file cannot be deleted"));
    }
    remove_file_and_meta(ctx.snap, &avatar.path)
}

// ------------------------------------------------------------------------------- names

/// Kirby's `F::safeName`: directory parts dropped, the base name lowercased, transliterated
/// and reduced to `a-z0-9@._-` (others become `-`), the extension to `a-z0-9`
/// (`My Photo.PNG` → `my-photo.png`, `../../evil.png` → `evil.png`, `.htaccess` stays).
pub fn safe_name(raw: &str) -> String {
    safe_name_with(raw, &[])
}

/// [`safe_name`] with the current language's slug rules (Kirby uses them for uploads too).
pub fn safe_name_with(raw: &str, rules: &[(String, String)]) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let (name, ext) = split_name(base);
    let name = txt::slug_full(name, MAX_NAME, rules, "@._-");
    let ext = txt::slug_full(ext, MAX_NAME, rules, "");
    if ext.is_empty() {
        name
    } else {
        format!("{name}.{ext}")
    }
}

/// PHP's `pathinfo` split of a base name into file name and extension.
fn split_name(base: &str) -> (&str, &str) {
    match base.rfind('.') {
        Some(i) => (&base[..i], &base[i + 1..]),
        None => (base, ""),
    }
}

/// The upload's file name as Kirby's upload handler sees it: the base name, or, when it has
/// no (or a temporary) extension, the name plus an extension derived from the sniffed MIME.
fn upload_filename(upload: &Upload<'_>) -> String {
    let base = upload.name.rsplit(['/', '\\']).next().unwrap_or("");
    let (name, ext) = split_name(base);
    let ext_lower = ext.to_ascii_lowercase();
    if base.contains('.') && !ext.is_empty() && ext_lower != "tmp" && ext_lower != "temp" {
        return base.to_string();
    }
    let stem = if base.contains('.') { name } else { base };
    match mime_to_extension(&upload_mime(upload.bytes.head(), "")) {
        Some(ext) => format!("{stem}.{ext}"),
        None => stem.to_string(),
    }
}

/// An extension for a MIME type (Kirby's `F::mimeToExtension`, for the common types).
fn mime_to_extension(mime: &str) -> Option<&'static str> {
    Some(match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/avif" => "avif",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "application/json" => "json",
        "text/csv" => "csv",
        "text/plain" => "txt",
        _ => return None,
    })
}

/// The lowercase extension of a file name (`""` when there is none).
fn extension_of(filename: &str) -> String {
    match filename.rfind('.') {
        Some(i) => filename[i + 1..].to_ascii_lowercase(),
        None => String::new(),
    }
}

fn clean_template(template: Option<&str>) -> Option<&str> {
    template.map(str::trim).filter(|t| !t.is_empty())
}

// ------------------------------------------------------------------------------- MIME

/// The MIME type of uploaded bytes, as PHP's fileinfo (libmagic) would report it: the
/// shared sniffer, refined where libmagic looks at the content rather than the name (a CSV
/// needs three consistent lines, PHP and HTML markup are recognised in any text file).
fn upload_mime(bytes: &[u8], ext: &str) -> String {
    let mime = media::sniff_mime(bytes, ext);
    if !mime.starts_with("text/") && mime != "application/json" {
        return mime;
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let start = head.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if start.starts_with("<?php") || start.starts_with("<?\n") || start.starts_with("<?\r") {
        return "text/x-php".into();
    }
    if [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
    ]
    .iter()
    .any(|p| start.starts_with(p))
    {
        return "text/html".into();
    }
    // The shared sniffer names `.html` text `text/html` by its extension; libmagic does not.
    if mime == "text/html" {
        return "text/plain".into();
    }
    if mime == "text/csv" && !looks_like_csv(bytes) {
        return "text/plain".into();
    }
    mime
}

/// libmagic's CSV test: the same number of commas on every line, at least three lines
/// (or ten consistent lines within the sample).
fn looks_like_csv(bytes: &[u8]) -> bool {
    let (mut fields, mut first, mut lines) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for &b in &bytes[..bytes.len().min(8192)] {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => fields += 1,
            b'\n' if !quoted => {
                lines += 1;
                if lines == 10 {
                    return first != 0 && first == fields;
                }
                if first == 0 {
                    if fields == 0 {
                        return false;
                    }
                    first = fields;
                } else if first != fields {
                    return false;
                }
                fields = 0;
            }
            _ => {}
        }
    }
    first != 0 && lines > 2
}

// ------------------------------------------------------------------------------- rules

fn permission(message: &str) -> Error {
    Error::Permission {
        key: "error.permission",
        message: message.into(),
    }
}

fn duplicate(filename: &str) -> Error {
    Error::Duplicate {
        key: "error.file.duplicate",
        message: format!("A file with the name \"{filename}\" already exists"),
    }
}

fn invalid(key: &'static str, message: String) -> Error {
    Error::InvalidArgument {
        key,
        message,
        details: Value::Array(Vec::new()),
    }
}

fn forbidden_type(kind: &str) -> Error {
    invalid(
        "error.file.type.forbidden",
        format!("You are not allowed to upload {kind} files"),
    )
}

/// Kirby's `validMime`.
fn valid_mime(mime: &str, filename: &str) -> Result<()> {
    let mime = mime.to_ascii_lowercase();
    if mime.is_empty() {
        return Err(invalid(
            "error.file.mime.missing",
            format!("The media type for \"{filename}\" cannot be detected"),
        ));
    }
    if mime.contains("php") {
        return Err(forbidden_type("PHP"));
    }
    if mime == "text/html" || mime == "application/x-msdownload" {
        return Err(invalid(
            "error.file.mime.forbidden",
            format!("The media type \"{mime}\" is not allowed"),
        ));
    }
    Ok(())
}

/// Refuses bytes that contradict a binary extension (beyond Kirby): a `.jpg` must hold a
/// JPEG, a `.pdf` a PDF, and so on, so a script or page cannot be smuggled in under an image
/// name. Text extensions (`.md`, `.txt`, `.csv`, …) keep Kirby's leniency.
fn check_magic(mime: &str, ext: &str) -> Result<()> {
    let Some(claimed) = media::by_extension(ext) else {
        return Ok(());
    };
    let binary = (claimed.starts_with("image/") && claimed != "image/svg+xml")
        || claimed.starts_with("video/")
        || claimed.starts_with("audio/")
        || matches!(claimed, "application/pdf" | "application/zip");
    // Same kind of media (an image for an image extension, ...); formats within a kind may
    // differ (`.ico` files are reported under several names).
    let family = |m: &str| m.split('/').next().unwrap_or("").to_string();
    let contradicts = match family(claimed).as_str() {
        "image" | "video" | "audio" => family(mime) != family(claimed) || mime == "image/svg+xml",
        _ => mime != claimed,
    };
    if binary && contradicts {
        return Err(invalid(
            "error.file.mime.invalid",
            format!(
                "The contents of the file do not match its extension \".{ext}\" (found {mime})"
            ),
        ));
    }
    Ok(())
}

/// Kirby's `validExtension` (the content extension is `txt`).
fn valid_extension(ext: &str, filename: &str) -> Result<()> {
    let ext = ext.to_ascii_lowercase();
    if ext.is_empty() {
        return Err(invalid(
            "error.file.extension.missing",
            format!("The extensions for \"{filename}\" is missing"),
        ));
    }
    if ext.contains("php") || ext.contains("phar") || ext.contains("pht") {
        return Err(forbidden_type("PHP"));
    }
    if ext.contains("htm") {
        return Err(forbidden_type("HTML"));
    }
    if ext == "exe" || ext == "txt" {
        return Err(invalid(
            "error.file.extension.forbidden",
            format!("The extension \"{ext}\" is not allowed"),
        ));
    }
    Ok(())
}

/// Kirby's `validFilename`.
fn valid_filename(filename: &str) -> Result<()> {
    let name = filename.to_ascii_lowercase();
    if name.is_empty() {
        return Err(invalid(
            "error.file.name.missing",
            "The filename must not be empty".into(),
        ));
    }
    if name.starts_with(".ht") {
        return Err(forbidden_type("Apache config"));
    }
    if name.starts_with('.') {
        return Err(forbidden_type("invisible"));
    }
    Ok(())
}

/// Everything a new file must pass before it is written: Kirby's `validFile` (MIME,
/// extension, name), the blueprint's `accept` rules and the SVG content check.
fn check_new_file(
    snap: &Snapshot,
    filename: &str,
    upload: &Upload<'_>,
    template: Option<&str>,
    mimes: Option<&[&str]>,
) -> Result<()> {
    let ext = extension_of(filename);
    let mime = upload_mime(upload.bytes.head(), &ext);
    valid_mime(&mime, filename)?;
    valid_extension(&ext, filename)?;
    valid_filename(filename)?;
    let bp = snap.blueprints.file(template);
    check_accept(
        &accept_rules(&bp, mimes),
        &Probe::new(&mime, &ext, &upload.bytes),
    )?;
    check_contents(&upload.bytes, &mime, &ext)
}

/// A file blueprint's normalised `accept` rules (Kirby's `FileBlueprint::normalizeAccept`).
#[derive(Debug, Default)]
struct Rules {
    mime: Option<Vec<String>>,
    extension: Option<Vec<String>>,
    types: Option<Vec<String>>,
    limits: Vec<(String, f64)>,
    orientation: Option<String>,
}

fn accept_rules(bp: &Blueprint, default_mimes: Option<&[&str]>) -> Rules {
    let raw = bp.raw.get("accept");
    let map: Map<String, Value> = match raw {
        Some(Value::String(s)) => [("mime".to_string(), Value::String(s.clone()))]
            .into_iter()
            .collect(),
        Some(Value::Bool(true)) => [("mime".to_string(), Value::Null)].into_iter().collect(),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        _ => Map::new(),
    };
    let list = |key: &str, mime: bool| -> Option<Vec<String>> {
        let items: Vec<String> = match map.get(key)? {
            Value::String(s) => s.split(',').map(str::to_string).collect(),
            Value::Array(a) => a
                .iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            _ => return None,
        };
        Some(
            items
                .into_iter()
                .map(|s| {
                    // `Str::accepted` drops parameters such as `;q=0.8`.
                    let s = if mime {
                        s.split(';').next().unwrap_or("").to_string()
                    } else {
                        s
                    };
                    s.trim().to_string()
                })
                .filter(|s| !s.is_empty())
                .collect(),
        )
    };
    let mut rules = Rules {
        mime: list("mime", true),
        extension: list("extension", false),
        types: list("type", false),
        ..Rules::default()
    };
    let restricted = ["mime", "extension", "type"]
        .iter()
        .any(|k| map.contains_key(*k));
    if let Some(mimes) = default_mimes
        && rules.mime.is_none()
    {
        rules.mime = Some(mimes.iter().map(|m| m.to_string()).collect());
    } else if !restricted {
        rules.types = Some(DEFAULT_TYPES.iter().map(|t| t.to_string()).collect());
    }
    for key in [
        "maxsize",
        "minsize",
        "maxwidth",
        "minwidth",
        "maxheight",
        "minheight",
    ] {
        let n = match map.get(key) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        if let Some(n) = n {
            rules.limits.push((key.to_string(), n));
        }
    }
    rules.orientation = map
        .get("orientation")
        .and_then(Value::as_str)
        .map(str::to_string);
    rules
}

/// What the accept rules look at.
struct Probe<'a> {
    mime: &'a str,
    ext: &'a str,
    size: u64,
    dimensions: Option<(u32, u32)>,
}

impl<'a> Probe<'a> {
    fn new(mime: &'a str, ext: &'a str, bytes: &Bytes<'_>) -> Self {
        let dimensions = if mime.starts_with("image/") {
            bytes.dimensions()
        } else {
            None
        };
        Probe {
            mime,
            ext,
            size: bytes.len(),
            dimensions,
        }
    }
}

/// Kirby's `File::match($accept)`, rule by rule, with Kirby's messages.
fn check_accept(rules: &Rules, p: &Probe<'_>) -> Result<()> {
    if let Some(mimes) = &rules.mime
        && !mimes.iter().any(|m| mime_matches(p.mime, m))
    {
        return Err(invalid(
            "error.file.mime.invalid",
            format!("Invalid mime type: {}", p.mime),
        ));
    }
    if let Some(exts) = &rules.extension
        && !exts.iter().any(|e| e == p.ext)
    {
        return Err(invalid(
            "error.file.extension.invalid",
            format!("Invalid extension: {}", p.ext),
        ));
    }
    if let Some(types) = &rules.types {
        let kind = media::file_type(p.ext).unwrap_or("");
        if !types.iter().any(|t| t == kind) {
            return Err(invalid(
                "error.file.type.invalid",
                format!("Invalid file type: {kind}"),
            ));
        }
    }
    let (w, h) = p.dimensions.unwrap_or((0, 0));
    for (key, limit) in &rules.limits {
        let limit_text = fmt_limit(*limit);
        let (ok, key, message) = match key.as_str() {
            "maxsize" => (
                p.size as f64 <= *limit,
                "error.file.maxsize",
                "The file is too large".to_string(),
            ),
            "minsize" => (
                p.size as f64 >= *limit,
                "error.file.minsize",
                "The file is too small".to_string(),
            ),
            "maxwidth" => (
                f64::from(w) <= *limit,
                "error.file.maxwidth",
                format!("The width of the image must not exceed {limit_text} pixels"),
            ),
            "minwidth" => (
                f64::from(w) >= *limit,
                "error.file.minwidth",
                format!("The width of the image must be at least {limit_text} pixels"),
            ),
            "maxheight" => (
                f64::from(h) <= *limit,
                "error.file.maxheight",
                format!("The height of the image must not exceed {limit_text} pixels"),
            ),
            _ => (
                f64::from(h) >= *limit,
                "error.file.minheight",
                format!("The height of the image must be at least {limit_text} pixels"),
            ),
        };
        if !ok {
            return Err(invalid(key, message));
        }
    }
    if let Some(want) = &rules.orientation {
        let actual = p.dimensions.map(|(w, h)| media::orientation(w, h));
        if actual != Some(want.as_str()) {
            return Err(invalid(
                "error.file.orientation",
                format!("The orientation of the image must be \"{want}\""),
            ));
        }
    }
    Ok(())
}

fn fmt_limit(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// Kirby's `Mime::matches` (`fnmatch` with `FNM_PATHNAME`: `*` never crosses the `/`).
fn mime_matches(mime: &str, pattern: &str) -> bool {
    let mime = mime.to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    let a: Vec<&str> = mime.split('/').collect();
    let b: Vec<&str> = pattern.split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(s, p)| glob(s.as_bytes(), p.as_bytes()))
}

/// `*` / `?` glob matching of one segment.
fn glob(s: &[u8], p: &[u8]) -> bool {
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Kirby's `validateContents` for SVG and XML: no active content (scripts, event handlers,
/// `javascript:` URLs, embedded documents, entity declarations).
fn check_contents(bytes: &Bytes<'_>, mime: &str, ext: &str) -> Result<()> {
    check_magic(mime, ext)?;
    let svgish =
        mime == "image/svg+xml" || mime.ends_with("/xml") || matches!(ext, "svg" | "svgz" | "xml");
    if !svgish {
        return Ok(());
    }
    let all = bytes.all().map_err(io_error)?;
    let text = String::from_utf8_lossy(&all).to_ascii_lowercase();
    let line_of = |pos: usize| text[..pos].matches('\n').count() + 1;
    let bad = |message: String| Err(invalid("error.invalidArgument", message));
    if let Some(pos) = text.find("<!entity") {
        return bad(format!(
            "The doctype must not define custom entities (line {})",
            line_of(pos)
        ));
    }
    const ELEMENTS: [&str; 12] = [
        "script",
        "foreignobject",
        "iframe",
        "embed",
        "object",
        "handler",
        "listener",
        "audio",
        "video",
        "meta",
        "link",
        "base",
    ];
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text[i..].find('<') {
        let start = i + off + 1;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b':' || b[end] == b'-')
        {
            end += 1;
        }
        let name = text[start..end].rsplit(':').next().unwrap_or("");
        if ELEMENTS.contains(&name) {
            return bad(format!(
                "The \"{name}\" element (line {}) is not allowed",
                line_of(start)
            ));
        }
        // Attributes of this tag: up to the closing `>`.
        let close = text[end..].find('>').map(|x| end + x).unwrap_or(b.len());
        let tag = &text[end..close];
        let tb = tag.as_bytes();
        for (j, _) in tag.match_indices("on") {
            let boundary = j == 0 || tb[j - 1].is_ascii_whitespace() || tb[j - 1] == b'/';
            let rest = &tag[j..];
            let attr_len = rest
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b':')
                .count();
            let after = rest[attr_len..].trim_start();
            if boundary && attr_len > 2 && after.starts_with('=') {
                return bad(format!(
                    "The \"{}\" attribute (line {}) is not allowed",
                    &rest[..attr_len],
                    line_of(end + j)
                ));
            }
        }
        let compact: String = tag.chars().filter(|c| !c.is_whitespace()).collect();
        if ["javascript:", "vbscript:", "data:text/html"]
            .iter()
            .any(|s| compact.contains(s))
        {
            return bad(format!(
                "The URL is not allowed in the \"{name}\" element (line {})",
                line_of(start)
            ));
        }
        i = close.max(start);
        if i >= b.len() {
            break;
        }
    }
    Ok(())
}

// ------------------------------------------------------------------------------- permissions

/// `files.create` for a new file with `template` in `parent`. [`can`] reads the template of
/// a file from the snapshot, so when the template matters a copy of the snapshot with a
/// placeholder file carrying it is asked.
fn can_create(ctx: &Ctx<'_>, parent: FileParent, filename: &str, template: Option<&str>) -> bool {
    let snap = ctx.snap;
    let option_of = |t: Option<&str>| snap.blueprints.file(t).option("create").cloned();
    let wanted = option_of(template);
    let simple = match snap.file(parent, filename) {
        Some(f) => f.template() == template || option_of(f.template()) == wanted,
        None => option_of(None) == wanted,
    };
    if simple {
        return can(snap, ctx.actor, Target::File(parent, filename), "create");
    }
    can(snap, ctx.actor, Target::NewFile(parent, template), "create")
}

fn require_user_update(ctx: &Ctx<'_>, u: UserIdx) -> Result<()> {
    if can(ctx.snap, ctx.actor, Target::User(u), "update") {
        Ok(())
    } else {
        Err(Error::Permission {
            key: "error.user.update.permission",
            message: format!(
                "You are not allowed to update the user \"{}\"",
                ctx.snap.users[u].username()
            ),
        })
    }
}

// ------------------------------------------------------------------------------- disk

/// The folder that holds a parent's files.
pub fn parent_dir(snap: &Snapshot, parent: FileParent) -> PathBuf {
    match parent {
        FileParent::Site => snap.content_dir.clone(),
        FileParent::Page(p) => snap.pages[p].dir.clone(),
        FileParent::User(u) => snap.users[u].dir.clone(),
    }
}

/// The folder and name of a file's path.
fn split(path: &Path) -> (&Path, &str) {
    (
        path.parent().unwrap_or(Path::new("")),
        path.file_name().and_then(|n| n.to_str()).unwrap_or(""),
    )
}

/// The meta file next to a file in the default language (`<file>.txt`, or
/// `<file>.<code>.txt` on a multi-language site).
fn meta_path(snap: &Snapshot, path: &Path) -> PathBuf {
    let (dir, name) = split(path);
    snap.default_content_file(dir, name)
}

/// The meta file of a file in the snapshot's language.
fn own_meta_path(snap: &Snapshot, path: &Path) -> PathBuf {
    let (dir, name) = split(path);
    snap.content_file(dir, name)
}

/// The meta files of a file in every language.
fn all_meta_paths(snap: &Snapshot, path: &Path) -> Vec<PathBuf> {
    let (dir, name) = split(path);
    snap.all_content_files(dir, name)
}

fn existing<'s>(snap: &'s Snapshot, parent: FileParent, filename: &str) -> Result<&'s File> {
    snap.file(parent, filename)
        .ok_or_else(|| Error::file_not_found(filename))
}

/// Whether the file at `path` has exactly these bytes and (from its meta file on disk)
/// this template.
fn is_identical(snap: &Snapshot, path: &Path, bytes: &Bytes<'_>, template: Option<&str>) -> bool {
    if !bytes.same_as(path) {
        return false;
    }
    let stored = std::fs::read(meta_path(snap, path))
        .map(|b| txt::decode(&String::from_utf8_lossy(&b)))
        .unwrap_or_default();
    let stored = stored
        .get("template")
        .map(String::as_str)
        .filter(|t| !t.is_empty() && *t != "default");
    stored == template.filter(|t| *t != "default")
}

/// Writes a new file and its meta file: the blueprint's fields (empty or their default),
/// `Sort` when given as an integer, a new `Uuid`, and `Template` unless it is `default`. If the meta file
/// cannot be written, the file is removed again.
fn write_new(
    snap: &Snapshot,
    dir: &Path,
    filename: &str,
    bytes: &Bytes<'_>,
    template: Option<&str>,
    sort: Option<&str>,
) -> Result<()> {
    let bp = snap.blueprints.file(template);
    let mut content = Content::default();
    for f in &bp.fields {
        if matches!(f.kind.as_str(), "headline" | "info" | "line" | "gap") {
            continue;
        }
        let value = f
            .props
            .get("default")
            .and_then(|d| to_stored(snap, Some(f), d))
            .unwrap_or_default();
        content.insert(f.name.clone(), value);
    }
    if let Some(n) = sort.and_then(|s| s.trim().parse::<i64>().ok()) {
        content.insert("sort".into(), n.to_string());
    }
    content.insert("uuid".into(), new_uuid());
    if let Some(t) = template.filter(|t| *t != "default") {
        content.insert("template".into(), t.to_string());
    }
    let path = dir.join(filename);
    bytes.write_to(&path).map_err(io_error)?;
    if let Err(e) = write_content(&meta_path(snap, &path), &content) {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(())
}

/// Writes a meta file the snapshot read as `base` (see [`super::write_content_over`]), or
/// removes it when no field is left.
fn write_meta(path: &Path, base: &Content, content: &Content) -> Result<()> {
    super::ensure_unchanged(path, base)?;
    if content.is_empty() {
        return match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_error(e)),
            _ => Ok(()),
        };
    }
    write_content(path, content)
}

/// Removes a file and its meta file. The meta file goes first (an orphaned meta file would
/// be read as a page's content file); it is restored if the file cannot be removed.
fn remove_file_and_meta(snap: &Snapshot, path: &Path) -> Result<()> {
    let mut saved = Vec::new();
    for meta in all_meta_paths(snap, path) {
        if let Ok(bytes) = std::fs::read(&meta) {
            std::fs::remove_file(&meta).map_err(io_error)?;
            saved.push((meta, bytes));
        }
    }
    if let Err(e) = std::fs::remove_file(path) {
        for (meta, bytes) in saved {
            let _ = write_atomic(&meta, &bytes);
        }
        return Err(io_error(e));
    }
    if let Some(dir) = path.parent() {
        sync_dir(dir).map_err(io_error)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SnapshotOptions;
    use crate::permissions::Actor;

    const PNG_1X1: &[u8] = &[
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a,
        0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x01, 0x63, 0x60,
        0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x73, 0x75, 0x01, 0x18, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ];

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).unwrap();
            }
        }
    }

    struct Site {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        snap: Snapshot,
    }

    impl Site {
        fn new() -> Self {
            let tmp = tempfile::tempdir().unwrap();
            let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/kirby/root");
            let root = tmp.path().join("root");
            copy_dir(&src, &root);
            let snap = Snapshot::build(&root, SnapshotOptions::default()).unwrap();
            Site {
                _tmp: tmp,
                root,
                snap,
            }
        }

        fn reload(&mut self) {
            self.snap = Snapshot::build(&self.root, SnapshotOptions::default()).unwrap();
        }

        fn actor(&self, email: &str) -> Actor {
            Actor::user(&self.snap, self.snap.user_by_key(email).unwrap())
        }

        fn page(&self, id: &str) -> FileParent {
            FileParent::Page(self.snap.page_by_id(id).unwrap())
        }

        fn page_dir(&self, id: &str) -> PathBuf {
            self.snap.pages[self.snap.page_by_id(id).unwrap()]
                .dir
                .clone()
        }

        /// Every file below the root with its bytes (to prove nothing changed).
        fn tree(&self) -> Vec<(PathBuf, Vec<u8>)> {
            fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
                let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
                entries.sort_by_key(|e| e.path());
                for e in entries {
                    if e.file_type().unwrap().is_dir() {
                        walk(&e.path(), out);
                    } else {
                        out.push((e.path(), std::fs::read(e.path()).unwrap()));
                    }
                }
            }
            let mut out = Vec::new();
            walk(&self.root, &mut out);
            out
        }
    }

    fn up<'a>(name: &'a str, bytes: &'a [u8]) -> Upload<'a> {
        Upload::memory(name, bytes)
    }

    #[test]
    fn safe_names_like_kirby() {
        assert_eq!(safe_name("My Lamp Photo.PNG"), "my-lamp-photo.png");
        assert_eq!(safe_name("../../evil.png"), "evil.png");
        assert_eq!(safe_name("..\\..\\evil.png"), "evil.png");
        assert_eq!(safe_name(".htaccess"), ".htaccess");
        assert_eq!(safe_name("Über Größe.jpg"), "uber-grosse.jpg");
        assert_eq!(safe_name("a b  c@d_e.tar.gz"), "a-b-c@d_e.tar.gz");
        assert_eq!(safe_name("shell.PhP"), "shell.php");
        assert_eq!(
            txt::slug_full("../../../escaped", MAX_NAME, &[], "@._-"),
            "escaped"
        );
        assert_eq!(txt::slug_full("", MAX_NAME, &[], "@._-"), "");
    }

    #[test]
    fn mime_globs_and_csv() {
        assert!(mime_matches("image/png", "image/*"));
        assert!(mime_matches("image/png", "*/*"));
        assert!(!mime_matches("text/plain", "image/*"));
        assert!(!mime_matches("image/png", "*"));
        assert_eq!(upload_mime(b"a,b\n1,2\n", "csv"), "text/plain");
        assert_eq!(upload_mime(b"a,b\n1,2\n3,4\n", "csv"), "text/csv");
        assert_eq!(upload_mime(b"<?php echo 1;", "png"), "text/x-php");
        assert_eq!(upload_mime(b"  <HTML><body>x", "md"), "text/html");
    }

    #[test]
    fn upload_writes_file_and_meta_like_kirby() {
        let s = Site::new();
        let editor = s.actor("editor@example.com");
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };
        let parent = s.page("blog/first-light");
        let out = create(
            &ctx,
            parent,
            &up("My Lamp Photo.PNG", PNG_1X1),
            Some("image"),
            None,
        )
        .unwrap();
        assert_eq!(out.filename, "my-lamp-photo.png");
        assert!(!out.existed);
        let dir = s.page_dir("blog/first-light");
        assert_eq!(
            std::fs::read(dir.join("my-lamp-photo.png")).unwrap(),
            PNG_1X1
        );
        let meta = std::fs::read_to_string(dir.join("my-lamp-photo.png.txt")).unwrap();
        let uuid = meta
            .split("Uuid: ")
            .nth(1)
            .unwrap()
            .split('\n')
            .next()
            .unwrap();
        assert_eq!(uuid.len(), 16);
        assert_eq!(
            meta,
            format!(
                "Alt: \n\n----\n\nCaption: \n\n----\n\nPhotographer: \n\n----\n\nUuid: {uuid}\n\n----\n\nTemplate: image"
            )
        );

        // Without a template: default blueprint fields, then Uuid, no Template.
        let out = create(&ctx, parent, &up("readme.md", b"# Readme\n"), None, None).unwrap();
        let meta = std::fs::read_to_string(dir.join(format!("{}.txt", out.filename))).unwrap();
        assert!(meta.starts_with("Description: \n\n----\n\nUuid: "));
        assert!(!meta.contains("Template"));
    }

    #[test]
    fn identical_reupload_is_a_noop_and_anything_else_a_duplicate() {
        let s = Site::new();
        let editor = s.actor("editor@example.com");
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };
        let parent = s.page("blog/first-light");
        create(&ctx, parent, &up("lamp.png", PNG_1X1), Some("image"), None).unwrap();
        let before = s.tree();
        let again = create(&ctx, parent, &up("lamp.png", PNG_1X1), Some("image"), None).unwrap();
        assert!(again.existed);
        assert_eq!(s.tree(), before);
        let mut other = PNG_1X1.to_vec();
        other.extend_from_slice(b"x");
        let err = create(&ctx, parent, &up("lamp.png", &other), Some("image"), None).unwrap_err();
        assert_eq!(err.key(), Some("error.file.duplicate"));
        assert_eq!(
            err.to_string(),
            "A file with the name \"lamp.png\" already exists"
        );
        let err = create(&ctx, parent, &up("lamp.png", PNG_1X1), None, None).unwrap_err();
        assert_eq!(err.key(), Some("error.file.duplicate"));
        assert_eq!(s.tree(), before);
    }

    #[test]
    fn bad_uploads_change_nothing() {
        let s = Site::new();
        let admin = s.actor("admin@example.com");
        let client = s.actor("client@example.com");
        let parent = s.page("blog/first-light");
        let before = s.tree();
        let ctx = Ctx {
            snap: &s.snap,
            actor: &admin,
        };
        let cases: &[(&str, &[u8], Option<&str>, &str)] = &[
            (
                "shell.php",
                b"<?php echo 1;",
                None,
                "You are not allowed to upload PHP files",
            ),
            (
                "shell.phar",
                b"x y z",
                None,
                "You are not allowed to upload PHP files",
            ),
            (
                "x.png",
                b"<?php echo 1;",
                None,
                "You are not allowed to upload PHP files",
            ),
            (
                ".htaccess",
                b"Deny from all",
                None,
                "You are not allowed to upload Apache config files",
            ),
            (
                ".env",
                b"A=1",
                None,
                "You are not allowed to upload invisible files",
            ),
            (
                "page.html",
                b"hello",
                None,
                "You are not allowed to upload HTML files",
            ),
            (
                "notes.txt",
                b"hello there",
                None,
                "The extension \"txt\" is not allowed",
            ),
            (
                "run.exe",
                b"MZ\x90\x00",
                None,
                "The extension \"exe\" is not allowed",
            ),
            (
                "x.md",
                b"<html><body>hi</body></html>",
                None,
                "The media type \"text/html\" is not allowed",
            ),
            (
                "notes.csv",
                b"a,b\n1,2\n",
                Some("image"),
                "Invalid mime type: text/plain",
            ),
            ("data.json", b"{\"a\": 1}", None, "Invalid file type: code"),
            (
                "pic.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
                None,
                "The \"script\" element (line 1) is not allowed",
            ),
            (
                "pic2.svg",
                b"<svg xmlns=\"http://www.w3.org/2000/svg\">\n<rect onload=\"alert(1)\"/></svg>",
                None,
                "The \"onload\" attribute (line 2) is not allowed",
            ),
        ];
        for (name, bytes, template, message) in cases {
            let err = create(&ctx, parent, &up(name, bytes), *template, None).unwrap_err();
            assert_eq!(err.to_string(), *message, "{name}");
        }
        let ctx = Ctx {
            snap: &s.snap,
            actor: &client,
        };
        let err = create(&ctx, parent, &up("lamp.png", PNG_1X1), None, None).unwrap_err();
        assert_eq!(err.to_string(), "The file cannot be created");
        assert_eq!(err.code(), 403);
        let err = create(&ctx, FileParent::Site, &up("logo.png", PNG_1X1), None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The file cannot be created",
            "permission is checked before the duplicate test"
        );
        assert_eq!(s.tree(), before);
    }

    #[test]
    fn replace_update_rename_sort_delete() {
        let mut s = Site::new();
        let editor = s.actor("editor@example.com");
        let parent = s.page("blog/first-light");
        let dir = s.page_dir("blog/first-light");
        {
            let ctx = Ctx {
                snap: &s.snap,
                actor: &editor,
            };
            create(&ctx, parent, &up("lamp.png", PNG_1X1), Some("image"), None).unwrap();
            create(&ctx, parent, &up("readme.md", b"# Readme\n"), None, None).unwrap();
            create(&ctx, parent, &up("a.md", b"A"), None, None).unwrap();
        }
        s.reload();
        let parent = s.page("blog/first-light");
        let editor = s.actor("editor@example.com");
        let client = s.actor("client@example.com");
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };
        let lamp_meta = std::fs::read_to_string(dir.join("lamp.png.txt")).unwrap();

        // Replace keeps the meta file.
        replace(&ctx, parent, "readme.md", &up("readme.png", PNG_1X1)).unwrap();
        assert_eq!(std::fs::read(dir.join("readme.md")).unwrap(), PNG_1X1);

        // Meta update keeps the field order; privileged keys are refused, and so is a
        // template that is not a name.
        for input in [
            serde_json::json!({"alt": "x", "Uuid": "document"}),
            serde_json::json!({"alt": "x", "template": 5}),
        ] {
            let err = update(&ctx, parent, "lamp.png", input.as_object().unwrap()).unwrap_err();
            assert_eq!(err.code(), 400, "{input}");
        }
        assert_eq!(
            std::fs::read_to_string(dir.join("lamp.png.txt")).unwrap(),
            lamp_meta
        );
        let input = serde_json::json!({"caption": "Test upload", "alt": "A small lamp"});
        update(&ctx, parent, "lamp.png", input.as_object().unwrap()).unwrap();
        let meta = std::fs::read_to_string(dir.join("lamp.png.txt")).unwrap();
        assert!(meta.starts_with("Alt: A small lamp\n\n----\n\nCaption: Test upload\n\n----\n\nPhotographer: \n\n----\n\nUuid: "));
        assert!(meta.ends_with("Template: image"), "{meta}");

        let before = s.tree();
        let client_ctx = Ctx {
            snap: &s.snap,
            actor: &client,
        };
        let err = update(&client_ctx, parent, "lamp.png", &Map::new()).unwrap_err();
        assert_eq!(
            (err.key(), err.to_string().as_str()),
            (Some("error.permission"), "The file cannot be updated")
        );
        let err = change_name(&client_ctx, parent, "readme.md", "x").unwrap_err();
        assert_eq!(err.key(), Some("error.file.changeName.permission"));
        let err = delete(&client_ctx, parent, "a.md").unwrap_err();
        assert_eq!(err.to_string(), "The file cannot be deleted");
        let err = replace(&client_ctx, parent, "a.md", &up("a.md", b"B")).unwrap_err();
        assert_eq!(err.to_string(), "The file cannot be replaced");
        let err = change_name(&ctx, parent, "lamp.png", "").unwrap_err();
        assert_eq!(err.key(), Some("error.file.changeName.empty"));
        let err = change_name(&ctx, parent, "lamp.png", "???").unwrap_err();
        assert_eq!(err.key(), Some("error.file.changeName.empty"));
        let err = change_name(&ctx, parent, "a.md", "readme").unwrap_err();
        assert_eq!(
            err.to_string(),
            "A file with the name \"readme.md\" already exists"
        );
        let err = replace(&ctx, parent, "lamp.png", &up("x.csv", b"a,b\n1,2\n")).unwrap_err();
        assert_eq!(err.to_string(), "Invalid mime type: text/plain");
        assert_eq!(s.tree(), before);

        // Rename: path parts dropped, extension kept, meta moves along.
        let new = change_name(&ctx, parent, "lamp.png", "../../../Escaped Lamp").unwrap();
        assert_eq!(new, "escaped-lamp.png");
        assert!(!dir.join("lamp.png").exists() && !dir.join("lamp.png.txt").exists());
        assert_eq!(
            std::fs::read_to_string(dir.join("escaped-lamp.png.txt")).unwrap(),
            meta
        );
        assert_ne!(lamp_meta, meta);
        s.reload();
        let parent = s.page("blog/first-light");
        let editor = s.actor("editor@example.com");
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };

        // Sort writes Sort into the listed files only, appended at the end.
        let ids = vec![
            "blog/first-light/readme.md".to_string(),
            "blog/first-light/nope.md".to_string(),
            "blog/first-light/a.md".to_string(),
        ];
        sort(&ctx, parent, &ids, 0).unwrap();
        let a = std::fs::read_to_string(dir.join("a.md.txt")).unwrap();
        assert!(
            a.starts_with("Description: \n\n----\n\nUuid: ") && a.ends_with("\n\n----\n\nSort: 2")
        );
        assert!(
            std::fs::read_to_string(dir.join("readme.md.txt"))
                .unwrap()
                .ends_with("Sort: 1")
        );
        assert!(
            !std::fs::read_to_string(dir.join("escaped-lamp.png.txt"))
                .unwrap()
                .contains("Sort")
        );

        // Delete removes file and meta file.
        delete(&ctx, parent, "a.md").unwrap();
        assert!(!dir.join("a.md").exists() && !dir.join("a.md.txt").exists());
        let err = delete(&ctx, parent, "missing.md").unwrap_err();
        assert_eq!(err.key(), Some("error.file.notFound"));
    }

    #[test]
    fn create_permission_follows_the_requested_template() {
        let mut s = Site::new();
        std::fs::write(
            s.root.join("site/blueprints/files/sealed.yml"),
            "title: Sealed\noptions:\n  create:\n    admin: true\n    editor: false\n",
        )
        .unwrap();
        s.reload();
        let editor = s.actor("editor@example.com");
        let admin = s.actor("admin@example.com");
        let parent = s.page("blog/first-light");
        let before = s.tree();
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };
        let err = create(&ctx, parent, &up("a.png", PNG_1X1), Some("sealed"), None).unwrap_err();
        assert_eq!(err.to_string(), "The file cannot be created");
        assert_eq!(s.tree(), before);
        create(&ctx, parent, &up("a.png", PNG_1X1), None, None).unwrap();
        let ctx = Ctx {
            snap: &s.snap,
            actor: &admin,
        };
        let out = create(&ctx, parent, &up("b.png", PNG_1X1), Some("sealed"), None).unwrap();
        let meta = std::fs::read_to_string(
            s.page_dir("blog/first-light")
                .join(format!("{}.txt", out.filename)),
        )
        .unwrap();
        assert!(meta.ends_with("Template: sealed"));
    }

    #[test]
    fn avatars_need_the_user_update_permission() {
        let mut s = Site::new();
        let editor = s.actor("editor@example.com");
        let client = s.actor("client@example.com");
        let editor_idx = s.snap.user_by_key("editor@example.com").unwrap();
        let admin_idx = s.snap.user_by_key("admin@example.com").unwrap();
        let before = s.tree();
        {
            let ctx = Ctx {
                snap: &s.snap,
                actor: &editor,
            };
            // The editor may not update other users (users: false) even with files.*.
            let err = create_avatar(&ctx, admin_idx, &up("me.png", PNG_1X1)).unwrap_err();
            assert_eq!(err.key(), Some("error.user.update.permission"));
            let err = create_avatar(&ctx, editor_idx, &up("me.pdf", b"%PDF-1.4 x")).unwrap_err();
            assert_eq!(err.to_string(), "Invalid mime type: application/pdf");
            let ctx = Ctx {
                snap: &s.snap,
                actor: &client,
            };
            let client_idx = s.snap.user_by_key("client@example.com").unwrap();
            let err = create_avatar(&ctx, client_idx, &up("me.png", PNG_1X1)).unwrap_err();
            assert_eq!(err.key(), Some("error.user.update.permission"));
            assert_eq!(s.tree(), before);
            let ctx = Ctx {
                snap: &s.snap,
                actor: &editor,
            };
            assert_eq!(
                create_avatar(&ctx, editor_idx, &up("Me.PNG", PNG_1X1)).unwrap(),
                "profile.png"
            );
        }
        let dir = s.snap.users[editor_idx].dir.clone();
        let meta = std::fs::read_to_string(dir.join("profile.png.txt")).unwrap();
        assert!(meta.ends_with("Template: avatar"));
        s.reload();
        let editor = s.actor("editor@example.com");
        let ctx = Ctx {
            snap: &s.snap,
            actor: &editor,
        };
        delete_avatar(&ctx, editor_idx).unwrap();
        assert!(!dir.join("profile.png").exists() && !dir.join("profile.png.txt").exists());
    }
}
