//! The JSON views of a file: its fields, versions, thumbs, dimensions and picker item.

use serde_json::{Map, Value, json};

use folio_core::media;
use folio_core::model::{File, FileParent};
use folio_core::permissions::{self, Target, can};

use super::{Kind, Plan, V, resolve};
use crate::api::content;
use crate::time::iso8601;

const FILE: Kind = Kind {
    all: &[
        "blueprint",
        "content",
        "dimensions",
        "dragText",
        "exists",
        "extension",
        "filename",
        "id",
        "link",
        "mime",
        "modified",
        "name",
        "next",
        "nextWithTemplate",
        "niceSize",
        "options",
        "panelImage",
        "panelUrl",
        "parent",
        "parents",
        "prev",
        "prevWithTemplate",
        "size",
        "template",
        "thumbs",
        "type",
        "url",
        "uuid",
    ],
    default: Some(&[
        "content",
        "dimensions",
        "exists",
        "extension",
        "filename",
        "id",
        "link",
        "mime",
        "modified",
        "name",
        "next:compact",
        "niceSize",
        "options",
        "parent:compact",
        "prev:compact",
        "size",
        "template",
        "type",
        "url",
        "uuid",
    ]),
    views: &[
        (
            "compact",
            &["filename", "id", "link", "type", "url", "uuid"],
        ),
        (
            "panel",
            &[
                "blueprint",
                "content",
                "dimensions",
                "extension",
                "filename",
                "id",
                "link",
                "mime",
                "modified",
                "name",
                "nextWithTemplate:compact",
                "niceSize",
                "options",
                "panelImage",
                "parent:compact",
                "parents:id|slug|title",
                "prevWithTemplate:compact",
                "template",
                "type",
                "url",
                "uuid",
            ],
        ),
    ],
};

const FILE_VERSION: Kind = Kind {
    all: &[
        "dimensions",
        "exists",
        "extension",
        "filename",
        "id",
        "mime",
        "modified",
        "name",
        "niceSize",
        "size",
        "type",
        "url",
    ],
    default: None,
    views: &[("compact", &["filename", "id", "type", "url"])],
};

impl V<'_> {
    pub(super) fn files_list(&self, files: &[File], sub: &Plan) -> Value {
        Value::Array(
            files
                .iter()
                .filter(|f| self.listable_file(f))
                .map(|f| self.file(f, sub))
                .collect(),
        )
    }

    /// A file rendered with a plan.
    pub fn file(&self, f: &File, plan: &Plan) -> Value {
        let mut m = Map::new();
        for (field, sub) in resolve(&FILE, plan) {
            let v = match field {
                "blueprint" => self.file_blueprint(f),
                "content" => content::file(self, f),
                "dimensions" => dimensions(f),
                "dragText" => json!(self.drag_text(f)),
                "exists" => Value::Bool(true),
                "extension" => json!(f.extension()),
                "filename" => json!(f.filename),
                "id" => json!(f.id),
                "link" | "panelUrl" => json!(self.file_link(f)),
                "panelImage" => match self
                    .snap
                    .files_of(f.parent)
                    .iter()
                    .position(|x| x.filename == f.filename)
                {
                    Some(idx) => self.panel_image(
                        folio_core::query::Model::File(folio_core::query::FileRef {
                            parent: f.parent,
                            idx,
                        }),
                        None,
                        "list",
                    ),
                    None => Value::Null,
                },
                "mime" => json!(f.mime),
                "modified" => json!(iso8601(f.modified)),
                "name" => json!(f.name()),
                "next" | "prev" | "nextWithTemplate" | "prevWithTemplate" => {
                    match self.file_neighbour(f, field) {
                        Some(n) => self.file(n, &sub),
                        None => Value::Null,
                    }
                }
                "niceSize" => json!(media::nice_size(f.size)),
                "options" => Value::Object(permissions::options(
                    self.snap,
                    self.actor,
                    Target::File(f.parent, &f.filename),
                )),
                "parent" => self.file_parent(f.parent, &sub),
                "parents" => match f.parent {
                    FileParent::Page(p) => {
                        let mut chain = vec![p];
                        let mut cur = self.snap.pages[p].parent;
                        while let Some(c) = cur {
                            chain.push(c);
                            cur = self.snap.pages[c].parent;
                        }
                        chain.reverse();
                        self.pages_list(&chain, &sub)
                    }
                    _ => Value::Array(Vec::new()),
                },
                "size" => json!(f.size),
                "template" => f.template().map(|t| json!(t)).unwrap_or(Value::Null),
                "thumbs" => self.thumbs(f),
                "type" => f.kind().map(|t| json!(t)).unwrap_or(Value::Null),
                "url" => json!(self.file_url(f)),
                "uuid" => f
                    .uuid()
                    .map(|u| json!(format!("file://{u}")))
                    .unwrap_or(Value::Null),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    pub(super) fn file_parent(&self, parent: FileParent, sub: &Plan) -> Value {
        match parent {
            FileParent::Site => self.site(sub),
            FileParent::Page(p) => {
                if self.listable_page(p) {
                    self.page(p, sub)
                } else {
                    Value::Null
                }
            }
            FileParent::User(u) => self.user(u, sub),
        }
    }

    pub(crate) fn file_link(&self, f: &File) -> String {
        format!("/{}/files/{}", self.panel_parent_path(f.parent), f.filename)
    }

    pub(super) fn drag_text(&self, f: &File) -> String {
        let uuid = f
            .uuid()
            .map(|u| format!("file://{u}"))
            .unwrap_or_else(|| f.filename.clone());
        if f.kind() == Some("image") {
            format!("(image: {uuid})")
        } else {
            format!("(file: {uuid})")
        }
    }

    pub(super) fn file_neighbour<'s>(&'s self, f: &File, which: &str) -> Option<&'s File> {
        let same_template = which.ends_with("WithTemplate");
        // Kirby's siblings are the parent's files in filename order (not `sort`).
        let mut list: Vec<&File> = self
            .snap
            .files_of(f.parent)
            .iter()
            .filter(|x| self.listable_file(x) || x.filename == f.filename)
            .filter(|x| !same_template || x.template() == f.template())
            .collect();
        // `next`/`prev` go by filename, the `…WithTemplate` ones by `sort` (the snapshot's
        // order). A write answer renders from the order Kirby's collection had in that
        // request (see `files::render`), which is kept as it is.
        let all = self.snap.files_of(f.parent);
        let mut sorted = all.to_vec();
        folio_core::snapshot::sort_files(&mut sorted);
        let natural = sorted
            .iter()
            .map(|x| &x.filename)
            .eq(all.iter().map(|x| &x.filename));
        if !same_template && natural {
            list.sort_by(|a, b| a.filename.cmp(&b.filename));
        }
        let pos = list.iter().position(|x| x.filename == f.filename)?;
        if which.starts_with("next") {
            list.get(pos + 1).copied()
        } else if pos > 0 {
            list.get(pos - 1).copied()
        } else {
            None
        }
    }

    pub(super) fn thumbs(&self, f: &File) -> Value {
        if f.dimensions.is_none() {
            return Value::Null;
        }
        let dir = self.media_dir(f);
        let ext = f.extension();
        let mut m = Map::new();
        for (name, w) in [
            ("tiny", 128),
            ("small", 256),
            ("medium", 512),
            ("large", 768),
            ("huge", 1024),
        ] {
            m.insert(name.into(), json!(format!("{dir}/{}-{w}x.{ext}", f.name())));
        }
        Value::Object(m)
    }

    pub(super) fn file_version(&self, f: &File, plan: &Plan) -> Value {
        let mut m = Map::new();
        for (field, _) in resolve(&FILE_VERSION, plan) {
            let v = match field {
                "dimensions" => dimensions(f),
                "exists" => Value::Bool(true),
                "extension" => json!(f.extension()),
                "filename" => json!(f.filename),
                "id" => json!(f.id),
                "mime" => json!(f.mime),
                "modified" => json!(iso8601(f.modified)),
                "name" => json!(f.name()),
                "niceSize" => json!(media::nice_size(f.size)),
                "size" => json!(f.size),
                "type" => f.kind().map(|t| json!(t)).unwrap_or(Value::Null),
                "url" => json!(self.file_url(f)),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// A file as a Panel picker item (files fields).
    pub fn file_picker(&self, f: &File) -> Value {
        self.file_picker_with(f, None)
    }

    /// [`V::file_picker`] with the field's `image:` settings; the file blueprint's `image:`
    /// goes over them, and `image: false` there drops the preview unless the field asks.
    pub fn file_picker_with(&self, f: &File, settings: Option<&Value>) -> Value {
        let kind = f.kind();
        let ext = f.extension();
        let (color, icon) = file_color_icon(f);
        let image = (kind == Some("image")).then_some(f);
        let target = Target::File(f.parent, &f.filename);
        let perms: Map<String, Value> = ["delete", "sort"]
            .iter()
            .map(|a| {
                (
                    a.to_string(),
                    Value::Bool(can(self.snap, self.actor, target, a)),
                )
            })
            .collect();
        let mut m = Map::new();
        m.insert("id".into(), json!(f.filename));
        let empty = Map::new();
        let field = settings.and_then(Value::as_object).unwrap_or(&empty);
        let bp = self.snap.blueprints.file(f.template());
        let own = bp.raw.get("image");
        let preview = match own {
            Some(Value::Bool(false)) if field.is_empty() => Value::Null,
            Some(Value::Object(o)) => self.preview_image(icon, color, image, &[field, o]),
            _ => self.preview_image(icon, color, image, &[field]),
        };
        m.insert("image".into(), preview);
        m.insert("info".into(), json!(""));
        m.insert("link".into(), json!(self.file_link(f)));
        m.insert("permissions".into(), Value::Object(perms));
        m.insert("text".into(), json!(f.filename));
        m.insert(
            "uuid".into(),
            json!(f.uuid().map(|u| format!("file://{u}"))),
        );
        m.insert("dragText".into(), json!(self.drag_text(f)));
        m.insert("extension".into(), json!(ext));
        m.insert("filename".into(), json!(f.filename));
        m.insert("mime".into(), json!(f.mime));
        m.insert("parent".into(), json!(self.panel_parent_path(f.parent)));
        m.insert("template".into(), json!(f.template()));
        m.insert("url".into(), json!(self.file_url(f)));
        m.insert("sortable".into(), json!(true));
        m.insert("type".into(), json!(kind));
        Value::Object(m)
    }
}

/// Kirby's `dimensions` value: an object for images, `{"dimensions":null}` otherwise.
fn dimensions(f: &File) -> Value {
    match f.dimensions {
        Some((w, h)) if w > 0 && h > 0 => {
            let ratio = if w % h == 0 {
                json!(w / h)
            } else {
                json!(w as f64 / h as f64)
            };
            json!({"width": w, "height": h, "ratio": ratio, "orientation": media::orientation(w, h)})
        }
        _ => json!({"dimensions": null}),
    }
}

/// Kirby's Panel color and icon of a file by extension, then by type.
pub(super) fn file_color_icon(f: &File) -> (&'static str, &'static str) {
    let ext = f.extension();
    let kind = f.kind();
    let color = match ext.as_str() {
        "csv" | "xls" | "xlsx" => "green-500",
        "doc" | "docx" | "rtf" => "blue-500",
        "indd" => "purple-500",
        _ => match kind {
            Some("image") => "orange-500",
            Some("audio") => "aqua-500",
            Some("code") => "pink-500",
            Some("document") => "red-500",
            Some("video") => "yellow-500",
            _ => "gray-500",
        },
    };
    let icon = match ext.as_str() {
        "csv" | "xls" | "xlsx" => "table",
        "doc" | "docx" | "rtf" => "pen",
        "md" | "mdown" => "markdown",
        _ => match kind {
            Some("archive") => "archive",
            Some("audio") => "audio",
            Some("code") => "code",
            Some("document") => "document",
            Some("image") => "image",
            Some("video") => "video",
            _ => "file",
        },
    };
    (color, icon)
}
