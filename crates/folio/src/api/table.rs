//! The route table: every API route is registered here once, with its handler and a short
//! description, and both the axum router and the OpenAPI 3.1 document come from the same
//! registrations. So every path in `/api/openapi.json` is a real route and every real route
//! is in it, by construction (a test checks it too).

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};
use serde_json::{Map, Value, json};

use super::ApiState;

/// What a route reads of the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing.
    None,
    /// JSON (a form or a query string is read the same way, as Kirby does).
    Json,
    /// `multipart/form-data` uploads.
    Multipart,
}

/// The envelope a route answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `{code, data, status, type: "model"}`.
    Model,
    /// `{code, data: [...], pagination, status, type: "collection"}`.
    Collection,
    /// `{status: "ok", message: "ok", code: 200}`.
    Ok,
    /// A bare JSON value (Kirby's plain arrays and section objects).
    Bare,
    /// Kirby's upload envelope.
    Upload,
}

/// One route's description.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    summary: &'static str,
    gate: bool,
    body: Body,
    answer: Answer,
    paged: bool,
    fields: Option<fn() -> Value>,
}

impl Doc {
    /// A route behind the gate that reads nothing and answers a model.
    pub const fn new(summary: &'static str) -> Doc {
        Doc {
            summary,
            gate: true,
            body: Body::None,
            answer: Answer::Model,
            paged: false,
            fields: None,
        }
    }

    /// One of Kirby's open routes (no gate).
    pub const fn open(mut self) -> Doc {
        self.gate = false;
        self
    }

    /// Reads a JSON body.
    pub const fn json(mut self) -> Doc {
        self.body = Body::Json;
        self
    }

    /// Reads a JSON body of this JSON Schema. Fields Kirby fails on with a PHP `TypeError`
    /// (a generic 500) when they are missing or of the wrong type are `required` here, so a
    /// client that follows the document never meets that 500.
    pub const fn fields(mut self, schema: fn() -> Value) -> Doc {
        self.body = Body::Json;
        self.fields = Some(schema);
        self
    }

    /// Reads an upload form.
    pub const fn multipart(mut self) -> Doc {
        self.body = Body::Multipart;
        self.answer = Answer::Upload;
        self
    }

    /// Answers a paginated collection.
    pub const fn collection(mut self) -> Doc {
        self.answer = Answer::Collection;
        self.paged = true;
        self
    }

    /// Answers `true`.
    pub const fn ok(mut self) -> Doc {
        self.answer = Answer::Ok;
        self
    }

    /// Answers a bare value.
    pub const fn bare(mut self) -> Doc {
        self.answer = Answer::Bare;
        self
    }
}

/// A registered route.
#[derive(Debug, Clone)]
pub struct Op {
    /// The method.
    pub method: Method,
    /// The path below the API prefix, with `{name}` parameters.
    pub path: String,
    /// The resource it belongs to.
    pub tag: &'static str,
    /// What it does.
    pub doc: Doc,
}

/// Adds one route, under the path it is given, to a router.
type Register = Box<dyn FnOnce(Router<ApiState>, &str) -> Router<ApiState> + Send>;

/// Routes of one resource, and their descriptions.
pub struct Table {
    tag: &'static str,
    routes: Vec<(String, Register)>,
    /// The routes' descriptions.
    pub ops: Vec<Op>,
}

fn filter(m: &Method) -> MethodFilter {
    match *m {
        Method::GET => MethodFilter::GET,
        Method::POST => MethodFilter::POST,
        Method::PATCH => MethodFilter::PATCH,
        Method::DELETE => MethodFilter::DELETE,
        Method::PUT => MethodFilter::PUT,
        _ => MethodFilter::GET,
    }
}

impl Table {
    /// An empty table for a resource.
    pub fn new(tag: &'static str) -> Table {
        Table {
            tag,
            routes: Vec::new(),
            ops: Vec::new(),
        }
    }

    /// Registers a route.
    pub fn add<H, T>(mut self, method: Method, path: &str, handler: H, doc: Doc) -> Table
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        let route = on(filter(&method), handler);
        self.routes.push((
            path.to_string(),
            Box::new(move |router, full| router.route(full, route)),
        ));
        self.ops.push(Op {
            method,
            path: path.to_string(),
            tag: self.tag,
            doc,
        });
        self
    }

    /// `GET`.
    pub fn get<H: Handler<T, ApiState>, T: 'static>(self, path: &str, h: H, doc: Doc) -> Table {
        self.add(Method::GET, path, h, doc)
    }

    /// `POST`.
    pub fn post<H: Handler<T, ApiState>, T: 'static>(self, path: &str, h: H, doc: Doc) -> Table {
        self.add(Method::POST, path, h, doc)
    }

    /// `PATCH`.
    pub fn patch<H: Handler<T, ApiState>, T: 'static>(self, path: &str, h: H, doc: Doc) -> Table {
        self.add(Method::PATCH, path, h, doc)
    }

    /// `DELETE`.
    pub fn delete<H: Handler<T, ApiState>, T: 'static>(self, path: &str, h: H, doc: Doc) -> Table {
        self.add(Method::DELETE, path, h, doc)
    }

    /// Another table's routes added to this one.
    pub fn merge(mut self, other: Table) -> Table {
        self.routes.extend(other.routes);
        self.ops.extend(other.ops);
        self
    }

    /// The routes, each under `prefix` (`/api`). Registered with their full paths rather
    /// than nested: a nested router rewrites every request's URI on the way in.
    pub fn router(self, prefix: &str) -> Router<ApiState> {
        self.routes
            .into_iter()
            .fold(Router::new(), |router, (path, register)| {
                register(router, &format!("{prefix}{path}"))
            })
    }
}

/// A JSON object schema with these string fields, all required.
pub fn strings(names: &[&str]) -> Value {
    let props: Map<String, Value> = names
        .iter()
        .map(|n| (n.to_string(), json!({"type": "string"})))
        .collect();
    json!({"type": "object", "properties": props, "required": names})
}

fn envelope_schema(answer: Answer) -> Value {
    match answer {
        Answer::Model => json!({"$ref": "#/components/schemas/Model"}),
        Answer::Collection => json!({"$ref": "#/components/schemas/Collection"}),
        Answer::Ok => json!({"$ref": "#/components/schemas/Ok"}),
        Answer::Upload => json!({"$ref": "#/components/schemas/Upload"}),
        Answer::Bare => json!({}),
    }
}

/// The OpenAPI 3.1 document of the routes, under `/<slug>`.
pub fn openapi(ops: &[Op], slug: &str) -> Value {
    let mut paths = Map::new();
    let mut sorted: Vec<&Op> = ops.iter().collect();
    sorted.sort_by(|a, b| {
        a.path
            .cmp(&b.path)
            .then(a.method.as_str().cmp(b.method.as_str()))
    });
    for op in sorted {
        let full = format!("/{slug}{}", op.path.replace("{*", "{"));
        let item = paths
            .entry(full)
            .or_insert_with(|| Value::Object(Map::new()));
        let mut params: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| match name.strip_prefix('*') {
                Some(rest) => json!({
                    "name": rest, "in": "path", "required": true,
                    "description": "Kirby's `(:all?)`: the rest of the path",
                    "schema": {"type": "string"}
                }),
                None => json!({
                    "name": name, "in": "path", "required": true,
                    "description": "Kirby's `(:any)`: letters, digits and `._-%= +@()`; page ids use `+` for `/`",
                    "schema": {"type": "string", "pattern": "^[a-zA-Z0-9._\\-%= +@()]+$"}
                }),
            })
            .collect();
        if op.method == Method::GET {
            for (name, d) in [
                ("select", "Comma-separated fields to render"),
                ("view", "A named view (`compact`, `panel`, ...)"),
            ] {
                params.push(json!({"name": name, "in": "query", "required": false, "description": d, "schema": {"type": "string"}}));
            }
        }
        if op.doc.paged {
            for name in ["page", "limit"] {
                params.push(json!({"name": name, "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}));
            }
        }
        let mut operation = json!({
            "operationId": format!("{}{}", op.method.as_str().to_ascii_lowercase(), op.path.replace(['/', '{', '}', '+', '*'], "_")),
            "summary": op.doc.summary,
            "tags": [op.tag],
            "parameters": params,
            "responses": {
                "200": {"description": "Success", "content": {"application/json": {"schema": envelope_schema(op.doc.answer)}}},
                "4XX": {"description": "Kirby's error envelope", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
            },
        });
        operation["security"] = if op.doc.gate {
            json!([{"session": [], "csrf": []}, {"basic": []}])
        } else {
            json!([])
        };
        match op.doc.body {
            Body::None => {}
            Body::Json => {
                let schema = op
                    .doc
                    .fields
                    .map_or_else(|| json!({"type": "object"}), |f| f());
                let required = schema.get("required").is_some();
                operation["requestBody"] = json!({
                    "required": required,
                    "content": {"application/json": {"schema": schema}}
                });
            }
            Body::Multipart => {
                operation["requestBody"] = json!({
                    "required": true,
                    "content": {"multipart/form-data": {"schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}, "template": {"type": "string"}},
                        "required": ["file"]
                    }}}
                });
            }
        }
        if let Some(m) = item.as_object_mut() {
            m.insert(op.method.as_str().to_ascii_lowercase(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Folio: Kirby 5.5 REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kirby's REST API as Folio serves it. Session calls send the `kirby_session` cookie and the `X-CSRF` header (the token from the site's `csrf()`); scripts use HTTP Basic when `api.basicAuth` is on (HTTPS unless `api.allowInsecure`).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "kirby_session", "description": "The session cookie set by `POST auth/login`"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF", "description": "The session's CSRF token; required with the session cookie on every call"},
                "basic": {"type": "http", "scheme": "basic", "description": "E-mail and password (only with `api.basicAuth`)"},
            },
            "schemas": {
                "Model": {"type": "object", "required": ["code", "data", "status", "type"], "properties": {
                    "code": {"type": "integer"}, "data": {}, "status": {"const": "ok"}, "type": {"const": "model"}}},
                "Collection": {"type": "object", "required": ["code", "data", "pagination", "status", "type"], "properties": {
                    "code": {"type": "integer"}, "data": {"type": "array"}, "status": {"const": "ok"}, "type": {"const": "collection"},
                    "pagination": {"type": "object", "properties": {"page": {"type": "integer"}, "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"}}}}},
                "Ok": {"type": "object", "properties": {"status": {"const": "ok"}, "message": {"type": "string"}, "code": {"type": "integer"}}},
                "Upload": {"type": "object", "properties": {"status": {"type": "string"}, "data": {}, "message": {"type": "string"}, "errors": {"type": "object"}}},
                "Error": {"type": "object", "required": ["status", "message", "code"], "properties": {
                    "status": {"const": "error"}, "message": {"type": "string"}, "code": {"type": "integer"},
                    "key": {"type": ["string", "null"]}, "details": {}}},
            },
        },
    })
}
