//! The immutable in-memory index of a whole Kirby site: pages, files, users, roles and
//! blueprints, built once from disk. Requests read a snapshot and never touch the disk;
//! a change publishes a new snapshot.

use indexmap::IndexMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

use crate::blueprint::{Blueprint, Blueprints, scalar_string};
use crate::format::{php_array, txt};
use crate::language::{Languages, content_file, overlay};
use crate::matrix::Permissions;
use crate::media;
use crate::model::{Content, File, FileParent, Page, PageIdx, Role, Site, Status, User, UserIdx};
use crate::natsort;

/// Options that change how a site folder is read.
#[derive(Debug, Clone)]
pub struct SnapshotOptions {
    /// Id of the home page (`home`).
    pub home: String,
    /// Id of the error page (`error`).
    pub error: String,
    /// `content.salt` for media tokens; `None` = Kirby's default (content root + file id).
    pub salt: Option<String>,
    /// Names skipped when scanning folders (`content.ignore`).
    pub ignore: Vec<String>,
    /// The YAML library of `yaml.handler`: how structure, object and list fields are
    /// written and read.
    pub yaml: crate::format::yaml::Handler,
}

impl Default for SnapshotOptions {
    fn default() -> Self {
        SnapshotOptions {
            home: "home".into(),
            error: "error".into(),
            salt: None,
            ignore: [
                ".DS_Store",
                ".gitignore",
                ".git",
                ".svn",
                ".htaccess",
                "Thumb.db",
                "@eaDir",
            ]
            .into_iter()
            .map(String::from)
            .collect(),
            yaml: crate::format::yaml::Handler::Spyc,
        }
    }
}

/// The whole site, as read from disk at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The Kirby install root.
    pub root: PathBuf,
    /// `content/`.
    pub content_dir: PathBuf,
    /// The site model.
    pub site: Site,
    /// Every page (published and drafts), arena-style. Shared, so a snapshot that changes
    /// one page copies pointers, not pages.
    pub pages: Vec<Arc<Page>>,
    /// Every account, in folder order.
    pub users: Vec<User>,
    /// Roles by name, sorted by name (`admin` always present).
    pub roles: IndexMap<String, Role>,
    /// All blueprints.
    pub blueprints: Blueprints,
    /// Options the snapshot was built with.
    pub options: SnapshotOptions,
    /// Lowercase page id → page (published pages win over drafts).
    page_index: Arc<HashMap<String, PageIdx>>,
    /// `page://…` / `file://…` → model.
    uuid_index: Arc<HashMap<String, UuidTarget>>,
    /// Problems found while reading (reported at start-up, never fatal).
    pub warnings: Vec<String>,
    /// A number unique to this snapshot (increasing), for cache keys.
    pub version: u64,
    /// Each page's position in the alphabetical order of page ids (for cheap sorting).
    pub id_rank: Arc<Vec<u32>>,
    /// The site's languages (empty on a single-language site).
    pub languages: Arc<Languages>,
    /// The language this snapshot's content is in (`None` on a single-language site).
    /// Reading a non-default language overlays its files on the default language's.
    pub lang: Option<usize>,
    /// The same site in every other language, by language index (only on the
    /// default-language snapshot, `None` at its own index).
    views: Arc<Vec<Option<Arc<Snapshot>>>>,
    /// `site/models/<template>.php` sources, lowercase, by template: queries must not
    /// guess what a PHP page model defines.
    pub page_models: Arc<HashMap<String, String>>,
    /// The templates the site has (`site/templates/<name>.*`, lowercase names): a page
    /// whose template is missing renders with `default`, and says so.
    pub templates: Arc<std::collections::HashSet<String>>,
    /// Content fields of every page as columns, built on first use (empty in a clone).
    columns: crate::columns::Columns,
}

/// Which content files a snapshot reads: the default language's, and the own files of a
/// non-default language.
#[derive(Debug, Clone, Copy)]
struct Reader<'a> {
    /// The default language's code (`None` on a single-language site).
    default: Option<&'a str>,
    /// The snapshot's language code when it is not the default.
    own: Option<&'a str>,
}

impl Reader<'_> {
    fn of(snap: &Snapshot) -> Reader<'_> {
        let default = snap.languages.default_code();
        let own = snap
            .lang
            .filter(|l| *l != snap.languages.default)
            .map(|l| snap.languages.code(l));
        Reader { default, own }
    }

    /// The content of `<dir>/<stem>` in this language (merged over the default) and the
    /// language's own file (`None` when it is missing or this is the default), plus the
    /// newest mtime of the files read.
    fn read(&self, dir: &Path, stem: &str) -> (Content, Option<Content>, i64) {
        let (base, mut mtime) = read_content_mtime(&content_file(dir, stem, self.default));
        let Some(code) = self.own else {
            return (base.unwrap_or_default(), None, mtime);
        };
        let (own, own_mtime) = read_content_mtime(&content_file(dir, stem, Some(code)));
        mtime = mtime.max(own_mtime);
        let base = base.unwrap_or_default();
        match own {
            Some(o) => (overlay(&base, &o), Some(o), mtime),
            None => (base, None, mtime),
        }
    }
}

/// The names of a site's templates (`blog.php`, `blog.html` → `blog`), lowercase.
fn read_templates(dir: &Path) -> std::collections::HashSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().is_file())
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_lowercase();
                    let stem = name.split('.').next()?.to_string();
                    (!stem.is_empty()).then_some(stem)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The PHP page models of a site, lowercase, by template name.
fn read_page_models(dir: &Path) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(template) = name.strip_suffix(".php")
            && let Ok(src) = std::fs::read_to_string(entry.path())
        {
            out.insert(template.to_lowercase(), src.to_lowercase());
        }
    }
    out
}

static VERSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A fresh snapshot version number.
pub fn next_version() -> u64 {
    VERSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// What a UUID points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UuidTarget {
    /// A page.
    Page(PageIdx),
    /// A file.
    File(FileParent, String),
}

static NOBODY: LazyLock<Role> = LazyLock::new(Role::nobody);

impl Snapshot {
    /// Reads a Kirby install root: the default-language snapshot, with one view per other
    /// language (built in parallel).
    pub fn build(root: &Path, options: SnapshotOptions) -> std::io::Result<Self> {
        let (languages, warnings) = Languages::load(&root.join("site").join("languages"));
        let languages = Arc::new(languages);
        if !languages.is_multilang() {
            return Snapshot::build_in(root, options, languages, None);
        }
        let default = languages.default;
        let others: Vec<usize> = (0..languages.list.len())
            .filter(|i| *i != default)
            .collect();
        let (mut snap, views) = std::thread::scope(|scope| {
            let handles: Vec<_> = others
                .iter()
                .map(|&i| {
                    let (options, languages) = (options.clone(), languages.clone());
                    scope.spawn(move || Snapshot::build_in(root, options, languages, Some(i)))
                })
                .collect();
            let snap = Snapshot::build_in(root, options.clone(), languages.clone(), Some(default));
            let views: Vec<std::io::Result<Snapshot>> = handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(std::io::Error::other("panic")))
                })
                .collect();
            (snap, views)
        });
        let mut slots: Vec<Option<Arc<Snapshot>>> = vec![None; languages.list.len()];
        for (i, view) in others.into_iter().zip(views) {
            slots[i] = Some(Arc::new(view?));
        }
        if let Ok(s) = &mut snap {
            s.warnings.extend(warnings);
            s.views = Arc::new(slots);
        }
        snap
    }

    fn build_in(
        root: &Path,
        options: SnapshotOptions,
        languages: Arc<Languages>,
        lang: Option<usize>,
    ) -> std::io::Result<Self> {
        let content_dir = root.join("content");
        let blueprints = Blueprints::load(&root.join("site").join("blueprints"));
        let mut snap = Snapshot {
            root: root.to_path_buf(),
            content_dir: content_dir.clone(),
            site: Site::default(),
            pages: Vec::new(),
            users: Vec::new(),
            roles: IndexMap::new(),
            warnings: blueprints.warnings.clone(),
            blueprints,
            options,
            page_index: Arc::new(HashMap::new()),
            uuid_index: Arc::new(HashMap::new()),
            version: next_version(),
            id_rank: Arc::new(Vec::new()),
            languages,
            lang,
            views: Arc::new(Vec::new()),
            page_models: Arc::new(read_page_models(&root.join("site").join("models"))),
            templates: Arc::new(read_templates(&root.join("site").join("templates"))),
            columns: Default::default(),
        };
        let listing = snap.read_dir(&content_dir)?;
        let (content, translation, _) = Reader::of(&snap).read(&content_dir, "site");
        snap.site.content = content;
        snap.site.translation = translation;
        snap.site.files = snap.read_files(&content_dir, &listing, FileParent::Site, "");
        let (children, drafts) = snap.read_children(&content_dir, &listing, None, "")?;
        snap.site.children = children;
        snap.site.drafts = drafts;
        snap.load_roles();
        snap.load_users(&root.join("site").join("accounts"));
        snap.build_indexes();
        Ok(snap)
    }

    fn read_dir(&self, dir: &Path) -> std::io::Result<Vec<(String, bool)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if self.options.ignore.contains(&name) {
                continue;
            }
            // Symlinks are followed only when they stay inside the root.
            let ft = entry.file_type()?;
            let is_dir = if ft.is_symlink() {
                match std::fs::canonicalize(entry.path()) {
                    Ok(real) if real.starts_with(std::fs::canonicalize(&self.root)?) => {
                        real.is_dir()
                    }
                    _ => continue,
                }
            } else {
                ft.is_dir()
            };
            out.push((name, is_dir));
        }
        out.sort_by(|a, b| natsort::cmp(&a.0, &b.0));
        Ok(out)
    }

    fn read_children(
        &mut self,
        dir: &Path,
        listing: &[(String, bool)],
        parent: Option<PageIdx>,
        parent_id: &str,
    ) -> std::io::Result<(Vec<PageIdx>, Vec<PageIdx>)> {
        let mut children = Vec::new();
        for (name, is_dir) in listing {
            if !is_dir || name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let idx = self.read_page(&dir.join(name), name, parent, parent_id, false)?;
            children.push(idx);
        }
        let mut drafts = Vec::new();
        let drafts_dir = dir.join("_drafts");
        if listing.iter().any(|(n, d)| *d && n == "_drafts") {
            let dl = self.read_dir(&drafts_dir)?;
            for (name, is_dir) in &dl {
                if !is_dir || name.starts_with('.') || name.starts_with('_') {
                    continue;
                }
                let idx = self.read_page(&drafts_dir.join(name), name, parent, parent_id, true)?;
                drafts.push(idx);
            }
        }
        Ok((children, drafts))
    }

    fn read_page(
        &mut self,
        dir: &Path,
        dirname: &str,
        parent: Option<PageIdx>,
        parent_id: &str,
        draft: bool,
    ) -> std::io::Result<PageIdx> {
        let (num, slug) = parse_dirname(dirname);
        let (num, status) = if draft {
            (None, Status::Draft)
        } else if num.is_some() {
            (num, Status::Listed)
        } else {
            (None, Status::Unlisted)
        };
        let id = if parent_id.is_empty() {
            slug.clone()
        } else {
            format!("{parent_id}/{slug}")
        };
        let listing = self.read_dir(dir)?;
        let template = detect_template(&listing, self.languages.is_multilang());
        let (content, translation, _) = Reader::of(self).read(dir, &template);
        let idx = self.pages.len();
        self.pages.push(Arc::new(Page {
            id: id.clone(),
            slug,
            num,
            status,
            template,
            dir: dir.to_path_buf(),
            parent,
            children: Vec::new(),
            drafts: Vec::new(),
            files: Vec::new(),
            search: search_fields(&id, &content),
            content,
            translation,
        }));
        let files = self.read_files(dir, &listing, FileParent::Page(idx), &id);
        let (children, drafts) = self.read_children(dir, &listing, Some(idx), &id)?;
        let page = Arc::get_mut(&mut self.pages[idx]).expect("pages are unshared while building");
        page.files = files;
        page.children = children;
        page.drafts = drafts;
        Ok(idx)
    }

    fn read_files(
        &mut self,
        dir: &Path,
        listing: &[(String, bool)],
        parent: FileParent,
        parent_id: &str,
    ) -> Vec<File> {
        let mut files = Vec::new();
        for (name, is_dir) in listing {
            if *is_dir || name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
            if matches!(ext.as_deref(), Some("txt" | "htm" | "html" | "php")) {
                continue;
            }
            match read_file(Reader::of(self), dir, name, parent, parent_id) {
                Ok(f) => files.push(f),
                Err(e) => self
                    .warnings
                    .push(format!("{}: {e}", dir.join(name).display())),
            }
        }
        sort_files(&mut files);
        files
    }

    fn load_roles(&mut self) {
        let mut roles = IndexMap::new();
        for (name, bp) in &self.blueprints.users {
            if name == "default" {
                continue;
            }
            match role_from_blueprint(name, bp) {
                Ok(r) => {
                    roles.insert(name.clone(), r);
                }
                Err(e) => self.warnings.push(format!("users/{name}.yml: {e}")),
            }
        }
        roles
            .entry("admin".to_string())
            .or_insert_with(Role::default_admin);
        roles.sort_keys();
        self.roles = roles;
    }

    fn load_users(&mut self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.') && !n.starts_with('_'))
            .collect();
        names.sort_by(|a, b| natsort::cmp(a, b));
        for id in names {
            let udir = dir.join(&id);
            match read_user(Reader::of(self), &udir, &id, self.users.len()) {
                Ok(u) => self.users.push(u),
                Err(e) => self.warnings.push(format!("account {id}: {e}")),
            }
        }
    }

    fn build_indexes(&mut self) {
        let mut index = HashMap::new();
        let mut uuids = HashMap::new();
        // Published pages first, so they win over drafts with the same id.
        let order: Vec<PageIdx> = (0..self.pages.len())
            .filter(|i| !self.pages[*i].is_draft())
            .chain((0..self.pages.len()).filter(|i| self.pages[*i].is_draft()))
            .collect();
        for i in order {
            let p = &self.pages[i];
            index.entry(p.id.to_lowercase()).or_insert(i);
            if let Some(u) = p.uuid() {
                uuids
                    .entry(format!("page://{u}"))
                    .or_insert(UuidTarget::Page(i));
            }
            for f in &p.files {
                if let Some(u) = f.uuid() {
                    uuids
                        .entry(format!("file://{u}"))
                        .or_insert(UuidTarget::File(f.parent, f.filename.clone()));
                }
            }
        }
        for f in &self.site.files {
            if let Some(u) = f.uuid() {
                uuids
                    .entry(format!("file://{u}"))
                    .or_insert(UuidTarget::File(f.parent, f.filename.clone()));
            }
        }
        self.page_index = Arc::new(index);
        self.uuid_index = Arc::new(uuids);
        let mut by_id: Vec<PageIdx> = (0..self.pages.len()).collect();
        by_id.sort_by(|a, b| self.pages[*a].id.cmp(&self.pages[*b].id));
        let mut rank = vec![0u32; self.pages.len()];
        for (r, p) in by_id.into_iter().enumerate() {
            rank[p] = r as u32;
        }
        self.id_rank = Arc::new(rank);
    }

    /// Content field `key` (lower case) of every page as one column, `None` when its values
    /// are too long for one: the same text as `pages[p].content.get(key)`.
    pub fn column(&self, key: &str) -> Option<Arc<crate::columns::Column>> {
        self.columns.get(key, || {
            self.pages
                .iter()
                .map(|p| p.content.get(key).map(String::as_str))
        })
    }

    /// A new snapshot in which one page's content is re-read from its content file (after a
    /// write that changed only that file). Everything else is shared with `self`.
    pub fn with_page_content(&self, p: PageIdx) -> Snapshot {
        self.map_views(|snap| {
            let mut next = snap.clone();
            let mut page = (*snap.pages[p]).clone();
            let (content, translation, _) = Reader::of(snap).read(&page.dir, &page.template);
            page.search = search_fields(&page.id, &content);
            page.content = content;
            page.translation = translation;
            next.pages[p] = Arc::new(page);
            next
        })
    }

    /// A new snapshot in which the site's content file(s) are re-read.
    pub fn with_site_content(&self) -> Snapshot {
        self.map_views(|snap| {
            let mut next = snap.clone();
            let (content, translation, _) = Reader::of(snap).read(&snap.content_dir, "site");
            next.site.content = content;
            next.site.translation = translation;
            next
        })
    }

    /// Applies `f` to this snapshot and to each language view, each getting a new version.
    fn map_views(&self, f: impl Fn(&Snapshot) -> Snapshot) -> Snapshot {
        let mut next = f(self);
        next.version = next_version();
        next.views = Arc::new(
            self.views
                .iter()
                .map(|v| {
                    v.as_ref().map(|v| {
                        let mut n = f(v);
                        n.version = next_version();
                        Arc::new(n)
                    })
                })
                .collect(),
        );
        next
    }

    /// This site in the language a client asked for (`?language=` / `X-Language`): the
    /// language found by code (exact, else lower case), else the default language.
    pub fn in_language(self: &Arc<Self>, code: Option<&str>) -> Arc<Snapshot> {
        match code.and_then(|c| self.languages.find(c)) {
            Some(i) => self.view(i),
            None => self.clone(),
        }
    }

    /// This site in language `i` (this snapshot itself for the default language).
    pub fn view(self: &Arc<Self>, i: usize) -> Arc<Snapshot> {
        match self.views.get(i) {
            Some(Some(v)) => v.clone(),
            _ => self.clone(),
        }
    }

    /// The code of the snapshot's language (`None` on a single-language site).
    pub fn lang_code(&self) -> Option<&str> {
        self.lang.map(|l| self.languages.code(l))
    }

    /// The slug rules of the snapshot's language (none on a single-language site).
    pub fn slug_rules(&self) -> crate::language::Rules {
        self.lang
            .map(|l| self.languages.list[l].rules())
            .unwrap_or_default()
    }

    /// True when this snapshot is in a language other than the default.
    pub fn is_translation(&self) -> bool {
        self.lang.is_some_and(|l| l != self.languages.default)
    }

    /// The content file of `<dir>/<stem>` in the snapshot's language.
    pub fn content_file(&self, dir: &Path, stem: &str) -> PathBuf {
        content_file(dir, stem, self.lang_code())
    }

    /// The content file of `<dir>/<stem>` in the default language.
    pub fn default_content_file(&self, dir: &Path, stem: &str) -> PathBuf {
        content_file(dir, stem, self.languages.default_code())
    }

    /// The content file of `<dir>/<stem>` in every language (one path on a
    /// single-language site).
    pub fn all_content_files(&self, dir: &Path, stem: &str) -> Vec<PathBuf> {
        if self.languages.is_multilang() {
            self.languages
                .list
                .iter()
                .map(|l| content_file(dir, stem, Some(&l.code)))
                .collect()
        } else {
            vec![content_file(dir, stem, None)]
        }
    }

    /// The stem (`site`, `article`) of a content file name in any of the site's languages.
    fn content_stem<'n>(&self, name: &'n str) -> Option<&'n str> {
        let stem = name.strip_suffix(".txt")?;
        if !self.languages.is_multilang() {
            return Some(stem);
        }
        let (stem, code) = stem.rsplit_once('.')?;
        self.languages
            .list
            .iter()
            .any(|l| l.code == code)
            .then_some(stem)
    }

    /// True when `path` is the site's content file (in any language).
    pub fn is_site_content_file(&self, path: &Path) -> bool {
        path.parent() == Some(self.content_dir.as_path())
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| self.content_stem(n))
                == Some("site")
    }

    /// The page whose content file (in any language) is `path`, if any.
    pub fn page_by_content_file(&self, path: &Path) -> Option<PageIdx> {
        let dir = path.parent()?;
        let stem = self.content_stem(path.file_name()?.to_str()?)?;
        self.pages
            .iter()
            .position(|p| p.dir == dir && stem == p.template)
    }

    /// Finds a page by id, ignoring case (published pages before drafts).
    pub fn page_by_id(&self, id: &str) -> Option<PageIdx> {
        self.page_index.get(&id.to_lowercase()).copied()
    }

    /// Resolves a `page://` or `file://` URI.
    pub fn by_uuid(&self, uri: &str) -> Option<&UuidTarget> {
        self.uuid_index.get(uri)
    }

    /// The files of a parent.
    pub fn files_of(&self, parent: FileParent) -> &[File] {
        match parent {
            FileParent::Site => &self.site.files,
            FileParent::Page(p) => &self.pages[p].files,
            FileParent::User(u) => &self.users[u].files,
        }
    }

    /// A file by the name a client asked for, as Kirby's files collection finds it: the
    /// exact filename, else the name in ASCII lower case (`PHOTO.JPG` finds `photo.jpg`;
    /// `photo.jpg` does not find `Photo.JPG`).
    pub fn file_by_key(&self, parent: FileParent, key: &str) -> Option<&File> {
        self.file(parent, key)
            .or_else(|| self.file(parent, &key.to_ascii_lowercase()))
    }

    /// A file by parent and exact filename.
    pub fn file(&self, parent: FileParent, filename: &str) -> Option<&File> {
        self.files_of(parent)
            .iter()
            .find(|f| f.filename == filename)
    }

    /// The virtual `nobody` role of anonymous callers.
    pub fn nobody(&self) -> &Role {
        &NOBODY
    }

    /// A role by name, or `nobody`.
    pub fn role_named(&self, name: &str) -> &Role {
        self.roles.get(name).unwrap_or(&NOBODY)
    }

    /// A user by exact id.
    pub fn user_by_id(&self, id: &str) -> Option<UserIdx> {
        self.users.iter().position(|u| u.id == id)
    }

    /// A user by id (`user://id` accepted) or e-mail (case-insensitive).
    pub fn user_by_key(&self, key: &str) -> Option<UserIdx> {
        let key = key.strip_prefix("user://").unwrap_or(key);
        if key.contains('@') {
            let k = key.to_lowercase();
            self.users.iter().position(|u| u.email == k)
        } else {
            // Kirby's collections: the exact key, else the key in ASCII lower case.
            let lower = key.to_ascii_lowercase();
            self.users
                .iter()
                .position(|u| u.id == key)
                .or_else(|| self.users.iter().position(|u| u.id == lower))
        }
    }

    /// Number of accounts with the admin role.
    pub fn admin_count(&self) -> usize {
        self.users.iter().filter(|u| u.role == "admin").count()
    }

    /// True for the home page.
    pub fn is_home(&self, p: PageIdx) -> bool {
        self.pages[p].id == self.options.home
    }

    /// True for the error page.
    pub fn is_error(&self, p: PageIdx) -> bool {
        self.pages[p].id == self.options.error
    }

    /// The templates a page may switch between (its own first), as Kirby's `blueprints()`.
    pub fn page_templates(&self, p: PageIdx) -> Vec<String> {
        let page = &self.pages[p];
        let bp = self.blueprints.page(&page.template);
        // A top-level `changeTemplate:` list wins over `options.changeTemplate`.
        let top: Option<Vec<String>> = match bp.raw.get("changeTemplate") {
            Some(serde_json::Value::Array(a)) => Some(
                a.iter()
                    .filter_map(crate::blueprint::scalar_string)
                    .collect(),
            ),
            Some(serde_json::Value::String(s)) => Some(vec![s.clone()]),
            _ => None,
        };
        let mut list = match (top, bp.option("changeTemplate")) {
            (Some(l), _) => l,
            (None, Some(crate::blueprint::OptionValue::List(l))) => l.clone(),
            _ => Vec::new(),
        };
        if !list.contains(&page.template) {
            list.insert(0, page.template.clone());
        }
        let mut seen = Vec::new();
        for t in list {
            if !seen.contains(&t) && (self.blueprints.pages.contains_key(&t) || t == "default") {
                seen.push(t);
            }
        }
        seen
    }

    /// The file templates a file may switch between (its own first).
    pub fn file_templates(&self, f: &File) -> Vec<String> {
        let current = f.template().unwrap_or("default").to_string();
        let parent_bp: Option<std::borrow::Cow<'_, Blueprint>> = match f.parent {
            FileParent::Site => Some(self.blueprints.site()),
            FileParent::Page(p) => Some(self.blueprints.page(&self.pages[p].template)),
            FileParent::User(u) => self
                .blueprints
                .user(&self.users[u].role)
                .map(std::borrow::Cow::Borrowed),
        };
        let mut list = vec![current];
        if let Some(bp) = parent_bp {
            // Sections and fields without an upload template accept `default`.
            for s in bp.sections.iter().filter(|s| s.kind == "files") {
                if s.templates.is_empty() {
                    list.push("default".into());
                }
                list.extend(s.templates.iter().cloned());
            }
            // Textarea fields accept uploads too (with `default` unless they say otherwise).
            for field in bp
                .fields
                .iter()
                .filter(|f| f.kind == "files" || f.kind == "textarea")
            {
                let t = match field.props.get("uploads") {
                    Some(serde_json::Value::String(t)) => Some(t.clone()),
                    Some(serde_json::Value::Object(o)) => o.get("template").and_then(scalar_string),
                    Some(serde_json::Value::Bool(false)) => continue,
                    _ => None,
                };
                list.push(t.unwrap_or_else(|| "default".into()));
            }
        }
        let mut out: Vec<String> = Vec::new();
        for t in list {
            if out.contains(&t) {
                continue;
            }
            if t == "default" {
                out.push(t);
                continue;
            }
            if let Some(bp) = self.blueprints.files.get(&t)
                && bp.accept().matches(&f.mime, &f.extension(), f.size)
            {
                out.push(t);
            }
        }
        out
    }

    /// The media salt for a file id.
    pub fn media_salt(&self, file_id: &str) -> String {
        match &self.options.salt {
            Some(s) => s.clone(),
            None => format!("{}/{}", self.content_dir.display(), file_id),
        }
    }

    /// Every page in tree order (pages, then their descendants; drafts after published).
    pub fn index_order(&self) -> Vec<PageIdx> {
        let mut out = Vec::with_capacity(self.pages.len());
        fn walk(s: &Snapshot, list: &[PageIdx], out: &mut Vec<PageIdx>) {
            for &p in list {
                out.push(p);
                walk(s, &s.pages[p].children, out);
                walk(s, &s.pages[p].drafts, out);
            }
        }
        walk(self, &self.site.children, &mut out);
        walk(self, &self.site.drafts, &mut out);
        out
    }
}

/// Warms the page cache for a content tree with several threads at once, so that the
/// sequential build that follows does not wait for one cold disk read after another. Reads
/// every folder listing and every `.txt` file; errors are ignored (the build reports them).
pub fn prefetch(dir: &Path) {
    use std::sync::Mutex;
    let queue = Mutex::new(vec![dir.to_path_buf()]);
    let busy = std::sync::atomic::AtomicUsize::new(0);
    let threads = 8;
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let next = {
                        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
                        let n = q.pop();
                        if n.is_some() {
                            busy.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
                        }
                        n
                    };
                    let Some(d) = next else {
                        if busy.load(std::sync::atomic::Ordering::Acquire) == 0 {
                            return;
                        }
                        std::thread::yield_now();
                        continue;
                    };
                    if let Ok(entries) = std::fs::read_dir(&d) {
                        let mut dirs = Vec::new();
                        for e in entries.flatten() {
                            let Ok(ft) = e.file_type() else { continue };
                            let path = e.path();
                            if ft.is_dir() {
                                dirs.push(path);
                            } else if path.extension().is_some_and(|x| x == "txt") {
                                let _ = std::fs::read(&path);
                            }
                        }
                        queue.lock().unwrap_or_else(|e| e.into_inner()).extend(dirs);
                    }
                    busy.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
                }
            });
        }
    });
}

/// The lowercased `id` and content fields of a page, for search.
fn search_fields(id: &str, content: &Content) -> Vec<(String, String)> {
    crate::search::lowercase_fields(
        std::iter::once(("id", id)).chain(content.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    )
}

/// Splits a folder name into Kirby's `num` and `slug`.
pub fn parse_dirname(name: &str) -> (Option<i64>, String) {
    match name.find('_') {
        Some(i) if i > 0 => {
            let prefix = &name[..i];
            let digits: String = prefix
                .chars()
                .enumerate()
                .take_while(|(k, c)| c.is_ascii_digit() || (*k == 0 && (*c == '-' || *c == '+')))
                .map(|(_, c)| c)
                .collect();
            let num = digits.parse::<i64>().unwrap_or(0);
            (Some(num), name[i + 1..].to_string())
        }
        _ => (None, name.to_string()),
    }
}

/// The intended template and content file of a folder listing.
/// The intended template of a folder listing: the last content file name (with the
/// language code removed on a multi-language site, whatever the code) that is not the meta
/// file of a file, else `default`.
fn detect_template(listing: &[(String, bool)], multilang: bool) -> String {
    let files: Vec<&str> = listing
        .iter()
        .filter(|(_, d)| !d)
        .map(|(n, _)| n.as_str())
        .filter(|n| !n.starts_with('.') && !n.starts_with('_'))
        .collect();
    let mut found: Option<&str> = None;
    for name in &files {
        let Some(mut stem) = name.strip_suffix(".txt") else {
            continue;
        };
        if multilang && let Some((s, _code)) = stem.rsplit_once('.') {
            stem = s;
        }
        if stem.is_empty() || files.contains(&stem) {
            continue; // a meta file of an existing file
        }
        found = Some(stem);
    }
    found.unwrap_or("default").to_string()
}

/// A content file's fields and mtime (`None` and 0 when it does not exist).
fn read_content_mtime(path: &Path) -> (Option<Content>, i64) {
    match std::fs::read(path) {
        Ok(bytes) => {
            let mtime = std::fs::metadata(path).map(|m| mtime_of(&m)).unwrap_or(0);
            (Some(txt::decode(&String::from_utf8_lossy(&bytes))), mtime)
        }
        Err(_) => (None, 0),
    }
}

fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn read_file(
    reader: Reader<'_>,
    dir: &Path,
    name: &str,
    parent: FileParent,
    parent_id: &str,
) -> std::io::Result<File> {
    use std::io::Read;
    let path = dir.join(name);
    let meta = std::fs::metadata(&path)?;
    let mut head = vec![0u8; 8192.min(meta.len() as usize)];
    std::fs::File::open(&path)?.read_exact(&mut head)?;
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let mime = media::sniff_mime(&head, &ext);
    // Kirby measures only files that are images by extension.
    let dimensions = if mime.starts_with("image/") && media::file_type(&ext) == Some("image") {
        media::dimensions(&head)
    } else {
        None
    };
    let (content, translation, meta_mtime) = reader.read(dir, name);
    let mtime = mtime_of(&meta);
    let id = if parent_id.is_empty() {
        name.to_string()
    } else {
        format!("{parent_id}/{name}")
    };
    Ok(File {
        filename: name.to_string(),
        parent,
        id,
        path,
        content,
        translation,
        size: meta.len(),
        mtime,
        modified: mtime.max(meta_mtime),
        mime,
        dimensions,
    })
}

/// Kirby's file order: files without `Sort` first, then by `Sort` (natural), then filename.
pub fn sort_files(files: &mut [File]) {
    files.sort_by(|a, b| {
        let sa = a.content.get("sort").filter(|s| !s.is_empty());
        let sb = b.content.get("sort").filter(|s| !s.is_empty());
        let by_sort = match (sa, sb) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some(x), Some(y)) => natsort::cmp(x, y),
        };
        by_sort.then_with(|| natsort::cmp(&a.filename, &b.filename))
    });
}

fn role_from_blueprint(name: &str, bp: &Blueprint) -> Result<Role, String> {
    let raw = bp.raw.as_object();
    let permissions = Permissions::from_value(raw.and_then(|o| o.get("permissions")))?;
    let title = raw
        .and_then(|o| o.get("title"))
        .and_then(scalar_string)
        .unwrap_or_else(|| crate::blueprint::label_from_name(name));
    let description = raw
        .and_then(|o| o.get("description"))
        .and_then(scalar_string);
    let (title, description) = if name == "admin" {
        (
            if raw.and_then(|o| o.get("title")).is_some() {
                title
            } else {
                "Admin".into()
            },
            description.or_else(|| Some("The admin has all rights".into())),
        )
    } else {
        (title, description)
    };
    Ok(Role {
        name: name.to_string(),
        title,
        description,
        permissions,
    })
}

fn read_user(reader: Reader<'_>, dir: &Path, id: &str, idx: UserIdx) -> Result<User, String> {
    let src =
        std::fs::read_to_string(dir.join("index.php")).map_err(|e| format!("index.php: {e}"))?;
    let value = php_array::parse_file(&src).map_err(|e| format!("index.php: {e}"))?;
    let get = |k: &str| value.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let email = get("email").unwrap_or_default().trim().to_lowercase();
    let htpasswd = dir.join(".htpasswd");
    let (password_hash, password_mtime) = match std::fs::read_to_string(&htpasswd) {
        Ok(s) => {
            let line = s.lines().next().unwrap_or("").trim().to_string();
            let mtime = std::fs::metadata(&htpasswd).map(|m| mtime_of(&m)).ok();
            ((!line.is_empty()).then_some(line), mtime)
        }
        Err(_) => (None, None),
    };
    let listing: Vec<(String, bool)> = {
        let mut v: Vec<(String, bool)> = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .filter_map(|e| {
                let d = e.file_type().map(|t| t.is_dir()).unwrap_or(false);
                e.file_name().into_string().ok().map(|n| (n, d))
            })
            .collect();
        v.sort_by(|a, b| natsort::cmp(&a.0, &b.0));
        v
    };
    let mut files = Vec::new();
    for (name, is_dir) in &listing {
        if *is_dir || name.starts_with('.') || name == "index.php" {
            continue;
        }
        let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        if matches!(ext.as_deref(), Some("txt" | "php" | "htm" | "html")) {
            continue;
        }
        if let Ok(f) = read_file(reader, dir, name, FileParent::User(idx), id) {
            files.push(f);
        }
    }
    sort_files(&mut files);
    let (content, translation, _) = reader.read(dir, "user");
    Ok(User {
        id: id.to_string(),
        email,
        name: get("name").filter(|n| !n.is_empty()),
        role: get("role").unwrap_or_else(|| "default".into()),
        language: get("language").unwrap_or_else(|| "en".into()),
        content,
        translation,
        password_hash,
        password_mtime,
        files,
        dir: dir.to_path_buf(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dirnames() {
        assert_eq!(parse_dirname("1_projects"), (Some(1), "projects".into()));
        assert_eq!(
            parse_dirname("20240203_trip"),
            (Some(20240203), "trip".into())
        );
        assert_eq!(parse_dirname("05_five"), (Some(5), "five".into()));
        assert_eq!(parse_dirname("foo_bar"), (Some(0), "bar".into()));
        assert_eq!(parse_dirname("_x"), (None, "_x".into()));
        assert_eq!(parse_dirname("plain"), (None, "plain".into()));
    }

    #[test]
    fn template_detection_skips_meta_files() {
        let l = |v: &[&str]| v.iter().map(|n| (n.to_string(), false)).collect::<Vec<_>>();
        assert_eq!(
            detect_template(&l(&["cover.jpg", "cover.jpg.txt", "article.txt"]), false),
            "article"
        );
        assert_eq!(
            detect_template(&l(&["cover.jpg", "cover.jpg.txt"]), false),
            "default"
        );
        assert_eq!(detect_template(&l(&["a.txt", "b.txt"]), false), "b");
        // Multi-language: the code goes, whatever it is; `default.txt` stays `default`.
        assert_eq!(
            detect_template(
                &l(&["cover.jpg", "cover.jpg.de.txt", "article.de.txt"]),
                true
            ),
            "article"
        );
        assert_eq!(detect_template(&l(&["default.txt"]), true), "default");
    }
}
