//! The content models Folio serves: Site, Page, File, User and Role, plus Content (ordered
//! fields). Models are plain immutable data owned by a [`crate::Snapshot`]; relations are
//! indices into the snapshot's arenas, never references, so a snapshot can be shared freely.

use indexmap::IndexMap;
use std::path::PathBuf;

use crate::matrix::Permissions;

/// Ordered content fields of a model: lowercase key → raw stored string. Hashed with
/// foldhash: field keys come from the site's own files, and a lookup is on every filter.
pub type Content = IndexMap<String, String, foldhash::fast::RandomState>;

/// Index of a page in [`crate::Snapshot::pages`].
pub type PageIdx = usize;
/// Index of a user in [`crate::Snapshot::users`].
pub type UserIdx = usize;

/// A page's publication state, derived from its folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Numbered folder (`1_blog`).
    Listed,
    /// Folder without a number.
    Unlisted,
    /// Folder inside a `_drafts` directory.
    Draft,
}

impl Status {
    /// Kirby's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Listed => "listed",
            Status::Unlisted => "unlisted",
            Status::Draft => "draft",
        }
    }
}

/// The site: `content/site.txt`, the files directly in `content/` and the top-level pages.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// Fields of `site.txt`.
    pub content: Content,
    /// The own content file of the snapshot's language when that is not the default
    /// (`None` when the file is missing, in the default language and on single-language
    /// sites); `content` already has it overlaid on the default language's.
    pub translation: Option<Content>,
    /// Published top-level pages in folder order.
    pub children: Vec<PageIdx>,
    /// Top-level drafts (`content/_drafts/*`).
    pub drafts: Vec<PageIdx>,
    /// Site files, in Kirby's file order.
    pub files: Vec<File>,
}

impl Site {
    /// The site title (`Title` field).
    pub fn title(&self) -> &str {
        self.content.get("title").map(String::as_str).unwrap_or("")
    }
}

/// A page: one folder below `content/`.
#[derive(Debug, Clone)]
pub struct Page {
    /// Page id: the slugs of the ancestors and the page joined by `/` (no `_drafts`).
    pub id: String,
    /// Folder slug.
    pub slug: String,
    /// Sorting number from the folder name (`None` for unlisted pages and drafts).
    pub num: Option<i64>,
    /// Listed, unlisted or draft.
    pub status: Status,
    /// Intended template: the content file's name, or `default`.
    pub template: String,
    /// Absolute path of the page folder.
    pub dir: PathBuf,
    /// Parent page, `None` for top-level pages.
    pub parent: Option<PageIdx>,
    /// Published children (listed and unlisted) in folder order.
    pub children: Vec<PageIdx>,
    /// Drafts (`_drafts/*`) in folder order.
    pub drafts: Vec<PageIdx>,
    /// The page's files, in Kirby's file order.
    pub files: Vec<File>,
    /// Fields of the content file.
    pub content: Content,
    /// The own content file of the snapshot's language when that is not the default
    /// (`None` when the file is missing, in the default language and on single-language
    /// sites); `content` already has it overlaid on the default language's.
    pub translation: Option<Content>,
    /// Lowercased `id` and content fields, for search (built with the snapshot).
    pub search: Vec<(String, String)>,
}

impl Page {
    /// The title field, falling back to the slug like Kirby.
    pub fn title(&self) -> &str {
        match self.content.get("title") {
            Some(t) if !t.is_empty() => t,
            _ => &self.slug,
        }
    }

    /// The stored `Uuid` field, if any.
    pub fn uuid(&self) -> Option<&str> {
        self.content
            .get("uuid")
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The slug in the snapshot's language: the `Slug` of the language's own file, else
    /// the folder slug (the default language always uses the folder slug).
    pub fn slug_in_language(&self) -> &str {
        self.translation
            .as_ref()
            .and_then(|t| t.get("slug"))
            .map(String::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&self.slug)
    }

    /// True for drafts.
    pub fn is_draft(&self) -> bool {
        self.status == Status::Draft
    }
}

/// Who owns a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileParent {
    /// A file directly in `content/`.
    Site,
    /// A file in a page folder.
    Page(PageIdx),
    /// A file in an account folder (avatar).
    User(UserIdx),
}

/// A file next to its parent's content, with its `<file>.txt` meta data.
#[derive(Debug, Clone)]
pub struct File {
    /// File name including extension.
    pub filename: String,
    /// The owner of the file.
    pub parent: FileParent,
    /// File id: `<parent id>/<filename>`, or `<filename>` for site files.
    pub id: String,
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Fields of the meta file.
    pub content: Content,
    /// The own content file of the snapshot's language when that is not the default
    /// (`None` when the file is missing, in the default language and on single-language
    /// sites); `content` already has it overlaid on the default language's.
    pub translation: Option<Content>,
    /// Size in bytes.
    pub size: u64,
    /// Modification time of the file itself (unix seconds), used in media URLs.
    pub mtime: i64,
    /// The newer of the file's and the meta file's mtime.
    pub modified: i64,
    /// MIME type sniffed from the bytes.
    pub mime: String,
    /// Width and height for images.
    pub dimensions: Option<(u32, u32)>,
}

impl File {
    /// Name without extension.
    pub fn name(&self) -> &str {
        match self.filename.rfind('.') {
            Some(i) if i > 0 => &self.filename[..i],
            _ => &self.filename,
        }
    }

    /// Lowercase extension.
    pub fn extension(&self) -> String {
        match self.filename.rfind('.') {
            Some(i) if i > 0 => self.filename[i + 1..].to_ascii_lowercase(),
            _ => String::new(),
        }
    }

    /// The `Template` meta field.
    pub fn template(&self) -> Option<&str> {
        self.content
            .get("template")
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The stored `Uuid` field, if any.
    pub fn uuid(&self) -> Option<&str> {
        self.content
            .get("uuid")
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// Kirby's file type, decided by extension.
    pub fn kind(&self) -> Option<&'static str> {
        crate::media::file_type(&self.extension())
    }
}

/// An account from `site/accounts/<id>/`.
#[derive(Debug, Clone)]
pub struct User {
    /// The folder name (8 characters by default).
    pub id: String,
    /// Lowercase e-mail address.
    pub email: String,
    /// Display name, if set.
    pub name: Option<String>,
    /// Stored role name (may name a role that does not exist).
    pub role: String,
    /// Panel language.
    pub language: String,
    /// `user.txt` fields.
    pub content: Content,
    /// The own `user.<code>.txt` of the snapshot's language when that is not the default.
    pub translation: Option<Content>,
    /// The bcrypt hash from `.htpasswd` line 1, if any.
    pub password_hash: Option<String>,
    /// mtime of `.htpasswd` (the password timestamp), if it exists.
    pub password_mtime: Option<i64>,
    /// Avatar and other files in the account folder.
    pub files: Vec<File>,
    /// Absolute path of the account folder.
    pub dir: PathBuf,
}

impl User {
    /// The name, or the e-mail when there is no name.
    pub fn username(&self) -> &str {
        match &self.name {
            Some(n) if !n.is_empty() => n,
            _ => &self.email,
        }
    }

    /// The `profile.*` avatar file, if any.
    pub fn avatar(&self) -> Option<&File> {
        self.files.iter().find(|f| f.name() == "profile")
    }
}

/// A role from `site/blueprints/users/<name>.yml` (or a built-in one).
#[derive(Debug, Clone)]
pub struct Role {
    /// Role name (the file name).
    pub name: String,
    /// Title, falling back to a label made from the name.
    pub title: String,
    /// Description, if any.
    pub description: Option<String>,
    /// The resolved permission matrix.
    pub permissions: Permissions,
}

impl Role {
    /// Kirby's fallback role for users whose role does not exist.
    pub fn nobody() -> Self {
        Role {
            name: "nobody".into(),
            title: "Nobody".into(),
            description: Some("This is a fallback role without any permissions".into()),
            permissions: Permissions::all(false),
        }
    }

    /// The built-in admin role used when there is no `admin.yml`.
    pub fn default_admin() -> Self {
        Role {
            name: "admin".into(),
            title: "Admin".into(),
            description: Some("The admin has all rights".into()),
            permissions: Permissions::all(true),
        }
    }
}

/// A version tag of some content: a short hash of its fields, used as the HTTP `ETag` of a
/// model and checked by `If-Match` on writes.
pub fn content_etag(content: &Content) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for (k, v) in content {
        h.update((k.len() as u64).to_le_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_le_bytes());
        h.update(v.as_bytes());
    }
    format!("\"{}\"", &hex::encode(h.finalize())[..20])
}
