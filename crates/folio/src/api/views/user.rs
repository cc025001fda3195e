//! The JSON views of a user and of a role, and the user picker item.

use serde_json::{Map, Value, json};

use folio_core::model::UserIdx;
use folio_core::permissions::{self, Actor, Target, can};

use super::{Kind, Plan, V, resolve};
use crate::api::content;

const USER: Kind = Kind {
    all: &[
        "avatar",
        "blueprint",
        "content",
        "email",
        "files",
        "id",
        "language",
        "name",
        "next",
        "options",
        "permissions",
        "prev",
        "role",
        "roles",
        "username",
        "uuid",
    ],
    default: Some(&[
        "avatar",
        "content",
        "email",
        "id",
        "language",
        "name",
        "next:compact",
        "options",
        "prev:compact",
        "role",
        "username",
        "uuid",
    ]),
    views: &[
        (
            "compact",
            &[
                "avatar:compact",
                "email",
                "id",
                "language",
                "name",
                "role:compact",
                "username",
                "uuid",
            ],
        ),
        (
            "auth",
            &[
                "avatar:compact",
                "email",
                "id",
                "language",
                "name",
                "permissions",
                "role",
            ],
        ),
    ],
};

const ROLE: Kind = Kind {
    all: &["description", "name", "permissions", "title"],
    default: None,
    views: &[("compact", &["description", "name", "title"])],
};

impl V<'_> {
    /// A user rendered with a plan.
    pub fn user(&self, u: UserIdx, plan: &Plan) -> Value {
        let user = &self.snap.users[u];
        let mut m = Map::new();
        for (field, sub) in resolve(&USER, plan) {
            let v = match field {
                "avatar" => match user.avatar() {
                    Some(f) => self.file_version(f, &sub),
                    None => Value::Null,
                },
                "blueprint" => self.user_blueprint(u),
                "content" => content::user(self, u),
                "email" => json!(user.email),
                "files" => self.files_list(&user.files, &sub),
                "id" => json!(user.id),
                "language" => json!(user.language),
                "name" => user.name.as_ref().map(|n| json!(n)).unwrap_or(Value::Null),
                "next" | "prev" => match self.user_neighbour(u, field == "next") {
                    Some(n) => self.user(n, &sub),
                    None => Value::Null,
                },
                "options" => {
                    Value::Object(permissions::options(self.snap, self.actor, Target::User(u)))
                }
                "permissions" => self.snap.role_named(&user.role).permissions.to_json(),
                "role" => {
                    if self.role_accessible(&user.role) {
                        self.role(&user.role, &sub)
                    } else {
                        Value::Null
                    }
                }
                "roles" => Value::Array(
                    self.assignable_roles(u)
                        .iter()
                        .map(|r| self.role(r, &Plan::View("compact".into())))
                        .collect(),
                ),
                "username" => json!(user.username()),
                "uuid" => json!(format!("user://{}", user.id)),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// Users sorted by username then e-mail.
    pub fn sorted_users(&self) -> Vec<UserIdx> {
        let mut v: Vec<UserIdx> = (0..self.snap.users.len()).collect();
        v.sort_by(|a, b| {
            let (ua, ub) = (&self.snap.users[*a], &self.snap.users[*b]);
            ua.username()
                .to_lowercase()
                .cmp(&ub.username().to_lowercase())
                .then_with(|| ua.email.cmp(&ub.email))
        });
        v
    }

    pub(super) fn user_neighbour(&self, u: UserIdx, next: bool) -> Option<UserIdx> {
        let list: Vec<UserIdx> = self
            .sorted_users()
            .into_iter()
            .filter(|x| *x == u || can(self.snap, self.actor, Target::User(*x), "list"))
            .collect();
        let pos = list.iter().position(|x| *x == u)?;
        if next {
            list.get(pos + 1).copied()
        } else if pos > 0 {
            list.get(pos - 1).copied()
        } else {
            None
        }
    }

    /// A role is accessible when the actor could access a user with that role.
    pub fn role_accessible(&self, role: &str) -> bool {
        let own = match self.actor {
            Actor::User(_) => self
                .actor
                .user_idx(self.snap)
                .is_some_and(|me| self.snap.users[me].role == role),
            Actor::Kirby => true,
            Actor::Nobody => false,
        };
        if own && can(self.snap, self.actor, Target::Area("user"), "access") {
            return true;
        }
        can(self.snap, self.actor, Target::Area("users"), "access")
    }

    /// Roles the actor may give to a user (every role for admins).
    pub fn assignable_roles(&self, _u: UserIdx) -> Vec<String> {
        let admin = folio_core::permissions::role_of(self.snap, self.actor).name == "admin";
        self.snap
            .roles
            .keys()
            .filter(|r| admin || (*r != "admin" && self.role_accessible(r)))
            .cloned()
            .collect()
    }

    /// A role rendered with a plan.
    pub fn role(&self, name: &str, plan: &Plan) -> Value {
        let role = self.snap.role_named(name);
        let mut m = Map::new();
        for (field, _) in resolve(&ROLE, plan) {
            let v = match field {
                "description" => role
                    .description
                    .as_ref()
                    .map(|d| json!(d))
                    .unwrap_or(Value::Null),
                "name" => json!(role.name),
                "permissions" => role.permissions.to_json(),
                "title" => json!(role.title),
                _ => continue,
            };
            m.insert(field.to_string(), v);
        }
        Value::Object(m)
    }

    /// A user as a Panel picker item (users fields).
    pub fn user_picker(&self, u: UserIdx) -> Value {
        let user = &self.snap.users[u];
        let link = if self.actor.is(self.snap, u) {
            "/account".to_string()
        } else {
            format!("/users/{}", user.id)
        };
        json!({
            "id": user.id,
            "image": {"back": "black", "color": "gray-500", "cover": false, "icon": "user", "ratio": "1/1"},
            "info": "",
            "link": link,
            "permissions": Value::Object(permissions::options(self.snap, self.actor, Target::User(u))),
            // Picker texts are templates rendered safe: HTML-escaped.
            "text": folio_core::query::escape_html(user.username()),
            "uuid": format!("user://{}", user.id),
            "email": user.email,
            "sortable": true,
            "username": user.username(),
        })
    }
}
