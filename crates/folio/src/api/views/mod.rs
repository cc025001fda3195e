//! JSON views of the models, kept apart from the models themselves: Kirby's field resolvers
//! per model kind, its named views (`default`, `compact`, `auth`, ...), `?select=` and
//! `?view=`, and the picker items that relation fields render as. One module per model kind
//! (`page`, `site`, `file`, `user` with roles); the shared plan resolution lives here.

use serde_json::{Map, Value};

use folio_core::Snapshot;
use folio_core::model::{File, FileParent, PageIdx};
use folio_core::permissions::{Actor, Target, can};

use crate::app::urls::Urls;

mod file;
mod form;
mod language;
mod page;
mod section;
mod site;
mod user;

pub use language::rules_json;
pub use section::SectionRequest;

/// Everything a view needs: the snapshot, who is looking, and the site's base URL.
pub struct V<'a> {
    /// The snapshot being rendered.
    pub snap: &'a Snapshot,
    /// The acting user.
    pub actor: &'a Actor,
    /// Base URL without trailing slash.
    pub base: &'a str,
}

/// Which fields of a model to render.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// The model's default view (or every field when it has none).
    Default,
    /// A named view (`compact`, `auth`, `any`, ...).
    View(String),
    /// `?select=a,b,c`.
    Select(Vec<String>),
}

impl Plan {
    /// The plan for a single model from `?select` / `?view` (`view` wins).
    pub fn for_model(select: Option<&str>, view: Option<&str>) -> Plan {
        match (view, select) {
            (Some(v), _) if !v.is_empty() => Plan::View(v.to_string()),
            (_, Some(s)) if !s.is_empty() => Plan::Select(split_select(s)),
            _ => Plan::Default,
        }
    }

    /// The plan for collection items (`select` wins), given the collection's item view.
    pub fn for_collection(select: Option<&str>, view: Option<&str>, item_view: &str) -> Plan {
        match (select, view) {
            (Some(s), _) if !s.is_empty() => Plan::Select(split_select(s)),
            (_, Some(v)) if !v.is_empty() => Plan::View(v.to_string()),
            _ => Plan::View(item_view.to_string()),
        }
    }
}

fn split_select(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// One model kind's field names and views. A view entry `name:compact` renders that nested
/// model with its compact view.
struct Kind {
    all: &'static [&'static str],
    default: Option<&'static [&'static str]>,
    views: &'static [(&'static str, &'static [&'static str])],
}

/// Resolves a plan into (field, nested plan) pairs, sorted by field name.
fn resolve(kind: &Kind, plan: &Plan) -> Vec<(&'static str, Plan)> {
    let from_list = |list: &'static [&'static str]| -> Vec<(&'static str, Plan)> {
        list.iter()
            .map(|entry| match entry.split_once(':') {
                // `name:a|b|c` renders the nested model with exactly those fields.
                Some((name, sub)) if sub.contains('|') => (
                    name,
                    Plan::Select(sub.split('|').map(str::to_string).collect()),
                ),
                Some((name, sub)) => (name, Plan::View(sub.to_string())),
                None => (*entry, Plan::Default),
            })
            .collect()
    };
    let all = || {
        kind.all
            .iter()
            .map(|n| (*n, Plan::Default))
            .collect::<Vec<_>>()
    };
    let default = || kind.default.map(from_list).unwrap_or_else(all);
    let mut out = match plan {
        Plan::Default => default(),
        Plan::View(v) if v == "any" => all(),
        Plan::View(v) => match kind.views.iter().find(|(n, _)| n == v) {
            Some((_, list)) => from_list(list),
            None if *v == "default" => default(),
            None => default(),
        },
        Plan::Select(names) => {
            let mut out: Vec<(&'static str, Plan)> = Vec::new();
            for n in names {
                if let Some(f) = kind.all.iter().find(|f| **f == n.as_str())
                    && !out.iter().any(|(x, _)| x == f)
                {
                    out.push((f, Plan::Default));
                }
            }
            out
        }
    };
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

/// `{}` or, for an empty object, `[]` as PHP writes it.
pub fn php_object(m: Map<String, Value>) -> Value {
    if m.is_empty() {
        Value::Array(Vec::new())
    } else {
        Value::Object(m)
    }
}

impl V<'_> {
    fn listable_page(&self, p: PageIdx) -> bool {
        can(self.snap, self.actor, Target::Page(p), "list")
    }

    /// Whether the actor may list a file.
    pub fn listable_file(&self, f: &File) -> bool {
        can(
            self.snap,
            self.actor,
            Target::File(f.parent, &f.filename),
            "list",
        )
    }

    fn urls(&self) -> Urls<'_> {
        Urls {
            snap: self.snap,
            base: self.base,
        }
    }

    /// The site's absolute page URL.
    pub fn page_url(&self, p: PageIdx) -> String {
        self.urls().page(p)
    }

    /// The media URL of a file.
    pub fn file_url(&self, f: &File) -> String {
        self.urls().file(f)
    }

    fn media_dir(&self, f: &File) -> String {
        self.urls().media_dir(f)
    }

    /// The Panel path of a file's parent (`pages/blog+x`, `site`, `users/<id>`, `account`).
    fn panel_parent_path(&self, parent: FileParent) -> String {
        match parent {
            FileParent::Site => "site".into(),
            FileParent::Page(p) => format!("pages/{}", self.snap.pages[p].id.replace('/', "+")),
            FileParent::User(u) => {
                if self.actor.is(self.snap, u) {
                    "account".into()
                } else {
                    format!("users/{}", self.snap.users[u].id)
                }
            }
        }
    }
}
