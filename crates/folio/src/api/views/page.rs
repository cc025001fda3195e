//! The JSON views of a page: its fields, views and picker item.

use serde_json::{Map, Value, json};

use folio_core::model::{File, PageIdx, Status};
use folio_core::permissions::{self, Target, can};

use super::{Kind, Plan, V, resolve};
use crate::api::content;

const PAGE: Kind = Kind {
    all: &[
        "blueprint",
        "blueprints",
        "children",
        "content",
        "drafts",
        "errors",
        "files",
        "hasChildren",
        "hasDrafts",
        "hasFiles",
        "id",
        "isSortable",
        "num",
        "options",
        "panelImage",
        "parent",
        "parents",
        "previewUrl",
        "siblings",
        "slug",
        "status",
        "template",
        "title",
        "url",
        "uuid",
    ],
    default: Some(&[
        "content",
        "id",
        "num",
        "options",
        "parent:compact",
        "slug",
        "status",
        "template",
        "title",
        "url",
        "uuid",
    ]),
    views: &[
        ("compact", &["id", "num", "title", "url", "uuid"]),
        (
            "selector",
            &[
                "id",
                "title",
                "parent:id|title",
                "children:hasChildren|id|panelImage|title",
            ],
        ),
        (
            "panel",
            &[
                "blueprint",
                "content",
                "id",
                "options",
                "parents:id|slug|title",
                "previewUrl",
                "slug",
                "status",
                "title",
                "url",
                "uuid",
            ],
        ),
    ],
};

impl V<'_> {
    /// A page rendered with a plan.
    pub fn page(&self, p: PageIdx, plan: &Plan) -> Value {
        let page = &self.snap.pages[p];
        let mut m = Map::new();
        for (field, sub) in resolve(&PAGE, plan) {
            let v = match field {
                "blueprint" => self.page_blueprint(p),
                "blueprints" => Value::Array(self.page_blueprints(p)),
                "children" => self.pages_list(&page.children, &sub),
                "content" => content::page(self, p),
                "drafts" => self.pages_list(&page.drafts, &sub),
                "errors" => {
                    // Every page reports its form errors, then its sections' min/max.
                    let bp = self.snap.blueprints.page(&page.template);
                    let form = match folio_core::actions::validate(&bp.fields, &page.content) {
                        Err(e) => e.details(),
                        _ => Value::Array(Vec::new()),
                    };
                    let mut all = match form {
                        Value::Object(o) => o,
                        _ => Map::new(),
                    };
                    all.extend(self.section_errors(folio_core::query::Model::Page(p), &bp));
                    super::php_object(all)
                }
                "files" => self.files_list(&page.files, &sub),
                "hasChildren" => Value::Bool(!page.children.is_empty()),
                "hasDrafts" => Value::Bool(!page.drafts.is_empty()),
                "hasFiles" => Value::Bool(!page.files.is_empty()),
                "id" => json!(page.id),
                "isSortable" => Value::Bool(can(self.snap, self.actor, Target::Page(p), "sort")),
                "num" => json!(page.num),
                "options" => {
                    let mut options = permissions::options(self.snap, self.actor, Target::Page(p));
                    // Another user's changes lock every option but the preview.
                    let changes =
                        folio_core::actions::changes::lock_of(self.snap, &page.dir, &page.template);
                    let now = folio_core::actions::changes::now();
                    if changes.is_some_and(|l| l.blocks(self.actor, now)) {
                        for (k, v) in options.iter_mut() {
                            if k != "preview" {
                                *v = Value::Bool(false);
                            }
                        }
                    }
                    Value::Object(options)
                }
                "panelImage" => self.panel_image(folio_core::query::Model::Page(p), None, "list"),
                "parent" => match page.parent {
                    Some(par) if self.listable_page(par) => self.page(par, &sub),
                    _ => Value::Null,
                },
                "parents" => {
                    let mut chain = Vec::new();
                    let mut cur = page.parent;
                    while let Some(c) = cur {
                        chain.push(c);
                        cur = self.snap.pages[c].parent;
                    }
                    chain.reverse();
                    self.pages_list(&chain, &sub)
                }
                "previewUrl" => {
                    if can(self.snap, self.actor, Target::Page(p), "preview") {
                        let url = self.page_url(p);
                        if page.is_draft() {
                            // Drafts preview with Kirby's token of their URL.
                            let salt = match &self.snap.options.salt {
                                Some(s) => s.clone(),
                                None => self.snap.content_dir.display().to_string(),
                            };
                            let token = folio_core::media::preview_token(&url, &salt);
                            json!(format!("{url}?_token={token}"))
                        } else {
                            json!(url)
                        }
                    } else {
                        Value::Null
                    }
                }
                "siblings" => {
                    let list = match page.parent {
                        Some(par) => &self.snap.pages[par].children,
                        None => &self.snap.site.children,
                    };
                    self.pages_list(list, &sub)
                }
                "slug" => json!(page.slug_in_language()),
                "status" => json!(page.status.as_str()),
                "template" => json!(page.template),
                "title" => json!(page.title()),
                "url" => json!(self.page_url(p)),
                "uuid" => page
                    .uuid()
                    .map(|u| json!(format!("page://{u}")))
                    .unwrap_or(Value::Null),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// Nested pages collection: listable pages with the nested plan (compact by default).
    pub(super) fn pages_list(&self, list: &[PageIdx], sub: &Plan) -> Value {
        let plan = match sub {
            Plan::Default => Plan::View("compact".into()),
            other => other.clone(),
        };
        Value::Array(
            list.iter()
                .filter(|p| self.listable_page(**p))
                .map(|p| self.page(*p, &plan))
                .collect(),
        )
    }

    /// `{name, title}` of every template a page may switch to.
    pub fn page_blueprints(&self, p: PageIdx) -> Vec<Value> {
        self.snap
            .page_templates(p)
            .into_iter()
            .map(|t| {
                let bp = self.snap.blueprints.page(&t);
                json!({"name": t, "title": bp.title})
            })
            .collect()
    }

    pub(super) fn page_image(&self, icon: &str, color: &str, image: Option<&File>) -> Value {
        self.preview_image(icon, color, image, &[])
    }

    /// Kirby's Panel preview image: the defaults, then each layer of `image:` settings (the
    /// field's or section's, then the model blueprint's; `query` is not evaluated), then
    /// the image's URLs. Resizable images get a srcset (square crops with `cover`);
    /// other viewable images (SVG) show themselves.
    pub(super) fn preview_image(
        &self,
        icon: &str,
        color: &str,
        image: Option<&File>,
        layers: &[&Map<String, Value>],
    ) -> Value {
        let mut m = Map::new();
        m.insert("back".into(), json!("pattern"));
        m.insert("color".into(), json!(color));
        m.insert("cover".into(), json!(false));
        m.insert("icon".into(), json!(icon));
        for layer in layers {
            for (k, v) in layer.iter() {
                if k != "query" {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(f) = image {
            let dir = self.media_dir(f);
            let ext = f.extension();
            let n = f.name();
            m.insert("url".into(), json!(self.file_url(f)));
            if matches!(
                ext.as_str(),
                "jpg" | "jpeg" | "png" | "gif" | "webp" | "avif"
            ) {
                m.insert(
                    "src".into(),
                    json!("data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw"),
                );
                let srcset = if m.get("cover") == Some(&Value::Bool(true)) {
                    format!("{dir}/{n}-38x38-crop.{ext} 1x, {dir}/{n}-76x76-crop.{ext} 2x")
                } else {
                    format!("{dir}/{n}-38x.{ext} 38w, {dir}/{n}-76x.{ext} 76w")
                };
                m.insert("srcset".into(), json!(srcset));
            } else {
                m.insert("src".into(), json!(self.file_url(f)));
            }
        }
        Value::Object(m)
    }

    /// A page as a Panel picker item (pages fields).
    pub fn page_picker(&self, p: PageIdx, with_extras: bool) -> Value {
        let page = &self.snap.pages[p];
        let bp = self.snap.blueprints.page(&page.template);
        let image = page.files.iter().find(|f| f.kind() == Some("image"));
        let icon = bp.icon.clone().unwrap_or_else(|| "page".into());
        let uuid = page.uuid().map(|u| format!("page://{u}"));
        let perms: Map<String, Value> = [
            "changeSlug",
            "changeStatus",
            "changeTitle",
            "delete",
            "sort",
        ]
        .iter()
        .map(|a| {
            (
                a.to_string(),
                Value::Bool(can(self.snap, self.actor, Target::Page(p), a)),
            )
        })
        .collect();
        let mut m = Map::new();
        m.insert("id".into(), json!(page.id));
        m.insert("image".into(), self.page_image(&icon, "gray-500", image));
        m.insert("info".into(), json!(""));
        m.insert(
            "link".into(),
            json!(format!("/pages/{}", page.id.replace('/', "+"))),
        );
        m.insert("permissions".into(), Value::Object(perms));
        // Picker texts are templates rendered safe: HTML-escaped.
        m.insert(
            "text".into(),
            json!(folio_core::query::escape_html(page.title())),
        );
        m.insert("uuid".into(), json!(uuid));
        m.insert(
            "dragText".into(),
            json!(format!(
                "(link: {} text: {})",
                uuid.clone().unwrap_or_else(|| page.id.clone()),
                page.title()
            )),
        );
        m.insert(
            "parent".into(),
            page.parent
                .map(|x| json!(self.snap.pages[x].id))
                .unwrap_or(Value::Null),
        );
        m.insert("status".into(), json!(page.status.as_str()));
        m.insert("template".into(), json!(page.template));
        m.insert("url".into(), json!(self.page_url(p)));
        if with_extras {
            m.insert("hasChildren".into(), json!(!page.children.is_empty()));
            m.insert("sortable".into(), json!(true));
        }
        Value::Object(m)
    }

    /// Whether a page is a draft (used by the sections view).
    pub fn is_draft(&self, p: PageIdx) -> bool {
        self.snap.pages[p].status == Status::Draft
    }
}
