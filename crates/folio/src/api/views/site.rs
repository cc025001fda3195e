//! The JSON view of the site.

use serde_json::{Map, Value, json};

use folio_core::permissions::{self, Target};

use super::{Kind, Plan, V, resolve};
use crate::api::content;

const SITE: Kind = Kind {
    all: &[
        "blueprint",
        "children",
        "content",
        "drafts",
        "files",
        "options",
        "previewUrl",
        "title",
        "url",
    ],
    default: Some(&["content", "options", "title", "url"]),
    views: &[
        ("compact", &["title", "url"]),
        (
            "panel",
            &[
                "blueprint",
                "content",
                "options",
                "previewUrl",
                "title",
                "url",
            ],
        ),
    ],
};

impl V<'_> {
    /// The site rendered with a plan.
    pub fn site(&self, plan: &Plan) -> Value {
        let site = &self.snap.site;
        let mut m = Map::new();
        for (field, sub) in resolve(&SITE, plan) {
            let v = match field {
                "blueprint" => self.site_blueprint(),
                "children" => self.pages_list(&site.children, &sub),
                "content" => content::site(self),
                "drafts" => self.pages_list(&site.drafts, &sub),
                "files" => self.files_list(&site.files, &sub),
                "options" => {
                    Value::Object(permissions::options(self.snap, self.actor, Target::Site))
                }
                "previewUrl" => json!(self.urls().site()),
                "title" => json!(site.title()),
                "url" => json!(self.urls().site()),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }
}
