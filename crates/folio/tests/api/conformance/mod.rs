//! Kirby conformance harness: replays the recorded Kirby 5.5.2 scenarios in
//! `tests/fixtures/kirby/scenarios` against Folio (in this process, on a loopback port) and
//! compares every normalized answer with its golden record.
//!
//! * Each scenario runs from a fresh temporary copy of `tests/fixtures/kirby/root`
//!   (mtimes are not preserved, so file times are "now", as in the recording).
//! * Requests go through the shared raw HTTP/1.1 test client so that paths such as
//!   `/api/pages/blog/../../site` or `%2F` reach the server byte for byte.
//! * `target` steps run against a second server on the same folder, started with
//!   `--set api.allowInsecure=false`, `--set api.basicAuth=false` or `--set debug=true`.
//! * The normalizer mirrors the recorder's rules (see `tests/fixtures/kirby/README.md`).
//! * Ratchet: `tests/fixtures/kirby/passing.txt` lists `scenario/step` names that must
//!   pass. `FOLIO_CONFORMANCE_UPDATE=1` rewrites it; `FOLIO_CONFORMANCE_ONLY=scenario[/step]`
//!   runs a subset. A full report is written to `target/conformance-report.txt`.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::support::{Request, Response, Server, copy_tree};
use std::time::{SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------
// Paths and constants
// ---------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    fs::canonicalize(&root).unwrap_or(root)
}

/// Timestamps within this many seconds of "now" are normalized to `<time>`.
const TIME_WINDOW: i64 = 3 * 24 * 3600;
/// Strings longer than this (in chars) are summarized.
const LONG_STRING: usize = 20_000;

/// The fixture's accounts: short name, e-mail, password.
const USERS: &[(&str, &str, &str)] = &[
    ("admin", "admin@example.com", "admin-secret-1"),
    ("editor", "editor@example.com", "editor-secret-2"),
    ("client", "client@example.com", "client-secret-3"),
    ("robot", "robot@example.com", "robot-secret-4"),
];

/// Config variants for `"target"` steps.
const TARGETS: &[(&str, &str)] = &[
    ("httpsonly", "api.allowInsecure=false"),
    ("nobasic", "api.basicAuth=false"),
    ("debug", "debug=true"),
];

/// Byte sizes Kirby reported for the recorder's synthetic `png:WxH` uploads. The
/// recorder's own PNG encoder is not known, so the harness builds a valid PNG of the
/// requested dimensions and pads it with a `tEXt` chunk to exactly this size (the
/// file's `size`/`niceSize` are part of the answers; nothing else depends on the bytes).
const PNG_SIZES: &[((u32, u32), usize)] = &[
    ((4, 4), 110),
    ((8, 8), 221),
    ((16, 16), 686),
    ((24, 8), 527),
];

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

#[test]
fn conformance() {
    let only = std::env::var("FOLIO_CONFORMANCE_ONLY")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let (only_scenario, only_step) = match &only {
        Some(s) => match s.trim().split_once('/') {
            Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
            None => (Some(s.trim().to_string()), None),
        },
        None => (None, None),
    };
    let update = std::env::var("FOLIO_CONFORMANCE_UPDATE").is_ok_and(|v| !v.is_empty() && v != "0");

    let sites = fixture_sites();
    assert!(!sites.is_empty(), "no fixture sites in tests/fixtures");
    let mut all_names = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut summary = String::new();
    let mut regressions: Vec<String> = Vec::new();
    let mut fresh = 0;
    for site in &sites {
        let names = scenario_names(&site.join("scenarios"));
        all_names.extend(names.iter().cloned());
        let names: Vec<String> = names
            .into_iter()
            .filter(|n| only_scenario.as_ref().is_none_or(|o| o == n))
            .collect();
        if names.is_empty() {
            continue;
        }
        let site_outcomes = run_site(site, &names, only_step.as_deref(), &mut summary);
        let (r, f) = ratchet(
            &site.join("passing.txt"),
            &site_outcomes,
            update,
            (&only_scenario, &only_step),
        );
        regressions.extend(r);
        fresh += f;
        outcomes.extend(site_outcomes);
    }
    if let Some(s) = &only_scenario {
        assert!(
            all_names.contains(s),
            "FOLIO_CONFORMANCE_ONLY: unknown scenario {s:?} (have {all_names:?})"
        );
    }
    let passed = outcomes.iter().filter(|o| o.passed).count();
    let total_line = format!(
        "conformance: {passed} passed, {} failed",
        outcomes.len() - passed
    );
    println!("{total_line}");
    summary.push_str(&total_line);
    summary.push('\n');

    // Report.
    let report_path = workspace_root().join("target/conformance-report.txt");
    let report = build_report(&summary, &outcomes);
    if let Some(dir) = report_path.parent() {
        let _ = fs::create_dir_all(dir);
    }
    match fs::write(&report_path, report) {
        Ok(()) => println!("report: {}", report_path.display()),
        Err(e) => println!("could not write {}: {e}", report_path.display()),
    }
    if fresh > 0 {
        println!(
            "hint: {fresh} passing step(s) are not in a passing.txt; \
             run with FOLIO_CONFORMANCE_UPDATE=1 to ratchet them in"
        );
    }
    assert!(
        regressions.is_empty(),
        "{} step(s) listed in passing.txt no longer pass (see {}):\n  {}",
        regressions.len(),
        report_path.display(),
        regressions.join("\n  ")
    );
}

/// Every fixture site: a folder of `tests/fixtures` with `root/` and `scenarios/`.
fn fixture_sites() -> Vec<PathBuf> {
    let dir = workspace_root().join("tests/fixtures");
    let mut sites: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("read tests/fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("root/content").is_dir() && p.join("scenarios").is_dir())
        .collect();
    sites.sort();
    sites
}

/// The scenario names of a folder (`x.json` beside `x.golden.json`), sorted.
fn scenario_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read scenarios dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".golden.json"))
        .map(|n| n.trim_end_matches(".json").to_string())
        .collect();
    names.sort();
    names
}

/// Replays the named scenarios of one fixture site.
fn run_site(
    site: &Path,
    names: &[String],
    only_step: Option<&str>,
    summary: &mut String,
) -> Vec<Outcome> {
    let scenario_dir = site.join("scenarios");
    let root_src = site.join("root");
    let fixture_ids = FixtureIds::scan(&root_src.join("content"));
    let mut outcomes = Vec::new();
    for name in names {
        let scenario = read_json(&scenario_dir.join(format!("{name}.json")));
        let golden = read_json(&scenario_dir.join(format!("{name}.golden.json")));
        let golden_text =
            fs::read_to_string(scenario_dir.join(format!("{name}.golden.json"))).unwrap();
        let mut known = fixture_ids.clone();
        known.add_literals(&golden_text);
        let res = run_scenario(name, &scenario, &golden, &root_src, known, only_step);
        let passed = res.iter().filter(|o| o.passed).count();
        let line = format!("{name}: {passed} passed, {} failed", res.len() - passed);
        println!("{line}");
        summary.push_str(&line);
        summary.push('\n');
        outcomes.extend(res);
    }
    outcomes
}

/// Checks (or, with `update`, rewrites) one site's `passing.txt` against its outcomes.
/// Returns the listed steps that no longer pass, and how many pass unlisted.
fn ratchet(
    passing_path: &Path,
    outcomes: &[Outcome],
    update: bool,
    (only_scenario, only_step): (&Option<String>, &Option<String>),
) -> (Vec<String>, usize) {
    let listed: BTreeSet<String> = fs::read_to_string(passing_path)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect();
    let reported: BTreeSet<String> = outcomes.iter().map(Outcome::key).collect();
    let passing_now: BTreeSet<String> = outcomes
        .iter()
        .filter(|o| o.passed)
        .map(Outcome::key)
        .collect();
    let in_scope = |key: &str| match (only_scenario, only_step) {
        (None, _) => true,
        (Some(s), None) => key.split_once('/').is_some_and(|(a, _)| a == s),
        (Some(_), Some(_)) => reported.contains(key),
    };
    if update {
        let mut next: BTreeSet<String> = listed.iter().filter(|k| !in_scope(k)).cloned().collect();
        next.extend(passing_now.iter().cloned());
        let mut text = next.iter().cloned().collect::<Vec<_>>().join("\n");
        if !text.is_empty() {
            text.push('\n');
        }
        fs::write(passing_path, text).expect("write passing.txt");
        println!("updated {} ({} steps)", passing_path.display(), next.len());
        return (Vec::new(), 0);
    }
    let regressions = listed
        .iter()
        .filter(|k| in_scope(k) && !passing_now.contains(*k))
        .cloned()
        .collect();
    let fresh = passing_now.iter().filter(|k| !listed.contains(*k)).count();
    (regressions, fresh)
}

fn read_json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Scenario runner
// ---------------------------------------------------------------------------

/// The result of one reported step.
struct Outcome {
    scenario: String,
    step: String,
    passed: bool,
    request: String,
    /// Human-readable differences (empty when passed).
    problems: Vec<String>,
    /// Notes for passed steps (e.g. redacted paths compared structurally).
    notes: Vec<String>,
    order_only: bool,
}

impl Outcome {
    fn key(&self) -> String {
        format!("{}/{}", self.scenario, self.step)
    }
}

/// A cookie jar: cookie name -> value, in insertion order.
#[derive(Default, Clone)]
struct Jar {
    cookies: Vec<(String, String)>,
}

impl Jar {
    fn header(&self) -> Option<String> {
        if self.cookies.is_empty() {
            return None;
        }
        Some(
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    }

    fn update(&mut self, resp: &Response, now: i64) {
        for raw in resp.all("set-cookie") {
            let mut parts = raw.split(';');
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_string(), value.trim().to_string());
            let (mut max_age, mut expires) = (None, None);
            for attr in parts {
                let (k, v) = attr.split_once('=').unwrap_or((attr, ""));
                match k.trim().to_ascii_lowercase().as_str() {
                    "max-age" => max_age = v.trim().parse::<i64>().ok(),
                    "expires" => expires = parse_http_date(v.trim()),
                    _ => {}
                }
            }
            let expired = value.is_empty()
                || value == "deleted"
                || max_age.map_or_else(|| expires.is_some_and(|t| t < now), |m| m <= 0);
            self.cookies.retain(|(k, _)| *k != name);
            if !expired {
                self.cookies.push((name, value));
            }
        }
    }
}

struct Login {
    jar: Jar,
    csrf: String,
}

struct Run {
    root: PathBuf,
    servers: HashMap<String, Server>,
    jars: HashMap<String, Jar>,
    logins: HashMap<(String, String), Login>,
    captures: Vec<(String, String)>,
    norm: Normalizer,
    users: Vec<(String, String, String)>,
}

impl Run {
    fn port(&mut self, target: &str) -> Result<u16, String> {
        if let Some(s) = self.servers.get(target) {
            return Ok(s.addr.port());
        }
        let set = TARGETS
            .iter()
            .find(|(t, _)| *t == target)
            .map(|(_, s)| *s)
            .ok_or_else(|| format!("unknown target {target:?}"))?;
        let server = Server::start_on(&self.root, &[set]);
        let port = server.addr.port();
        self.norm.bases.push(format!("http://127.0.0.1:{port}"));
        self.servers.insert(target.to_string(), server);
        Ok(port)
    }

    fn subst(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.captures {
            out = out.replace(&format!("{{{{{k}}}}}"), v);
        }
        out
    }

    fn subst_value(&self, v: &Value) -> Value {
        match v {
            Value::String(s) => Value::String(self.subst(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst_value(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), self.subst_value(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// `GET /csrf` with the given jar; returns the token.
    fn fetch_csrf(&mut self, port: u16, jar: &mut Jar) -> Result<String, String> {
        let mut headers = vec![];
        if let Some(c) = jar.header() {
            headers.push(("Cookie".to_string(), c));
        }
        let resp = send(port, "GET", "/csrf", &headers, None)?;
        jar.update(&resp, self.norm.now);
        self.norm.learn_cookies(&resp);
        let body: Value = serde_json::from_slice(&resp.body)
            .map_err(|e| format!("GET /csrf: status {}, body is not JSON ({e})", resp.status))?;
        let token = body
            .get("csrf")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("GET /csrf: status {}, no \"csrf\" in {body}", resp.status))?
            .to_string();
        self.norm.csrf_tokens.insert(token.clone());
        Ok(token)
    }

    fn login(&mut self, target: &str, port: u16, user: &str) -> Result<(), String> {
        let key = (target.to_string(), user.to_string());
        if self.logins.contains_key(&key) {
            return Ok(());
        }
        let (email, password) = self
            .credentials(user)
            .ok_or_else(|| format!("unknown user {user:?}"))?;
        let mut jar = Jar::default();
        let csrf = self.fetch_csrf(port, &mut jar)?;
        let body = serde_json::json!({"email": email, "password": password, "long": false});
        let mut headers = vec![
            ("X-CSRF".to_string(), csrf.clone()),
            ("Content-Type".to_string(), "application/json".to_string()),
        ];
        if let Some(c) = jar.header() {
            headers.push(("Cookie".to_string(), c));
        }
        let resp = send(
            port,
            "POST",
            "/api/auth/login",
            &headers,
            Some(body.to_string().as_bytes()),
        )?;
        jar.update(&resp, self.norm.now);
        self.norm.learn_cookies(&resp);
        if resp.status != 200 {
            return Err(format!(
                "session login as {user} failed: {} {}",
                resp.status,
                String::from_utf8_lossy(&resp.body)
            ));
        }
        self.logins.insert(key, Login { jar, csrf });
        Ok(())
    }

    /// Executes one step and returns the normalized record plus notes.
    fn step(&mut self, step: &Value) -> Result<Value, String> {
        let method = step["method"].as_str().unwrap_or("GET").to_string();
        let path = self.subst(step["path"].as_str().unwrap_or("/"));
        let auth = self.subst(step["auth"].as_str().unwrap_or("none"));
        let target = step
            .get("target")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let port = self.port(&target)?;

        let mut headers: Vec<(String, String)> = vec![];
        // Which jar (if any) receives the response cookies.
        enum JarRef {
            None,
            Named(String),
            Login(String, String),
        }
        let mut jar_ref = JarRef::None;
        let mut csrf_header: Option<String> = None;
        let (mode, arg) = auth.split_once(':').unwrap_or((auth.as_str(), ""));
        match mode {
            "none" => {}
            "basic" => {
                let (email, password) = match arg.split_once(':') {
                    Some((u, p)) => (
                        self.credentials(u).map_or(u.to_string(), |c| c.0),
                        p.to_string(),
                    ),
                    None => self
                        .credentials(arg)
                        .ok_or_else(|| format!("unknown user {arg:?}"))?,
                };
                headers.push((
                    "Authorization".into(),
                    crate::support::basic((&email, &password)),
                ));
            }
            "basic-wrong" => {
                let (email, _) = self
                    .credentials(arg)
                    .ok_or_else(|| format!("unknown user {arg:?}"))?;
                headers.push((
                    "Authorization".into(),
                    crate::support::basic((&email, "wrong-password")),
                ));
            }
            "basic-raw" => headers.push(("Authorization".into(), arg.to_string())),
            "session" | "session-nocsrf" | "session-badcsrf" => {
                self.login(&target, port, arg)?;
                let login = &self.logins[&(target.clone(), arg.to_string())];
                csrf_header = match mode {
                    "session" => Some(login.csrf.clone()),
                    "session-badcsrf" => Some("0".repeat(64)),
                    _ => None,
                };
                jar_ref = JarRef::Login(target.clone(), arg.to_string());
            }
            "jar" => {
                self.jars.entry(arg.to_string()).or_default();
                jar_ref = JarRef::Named(arg.to_string());
            }
            other => return Err(format!("unknown auth mode {other:?}")),
        }
        match step.get("csrf").and_then(Value::as_str) {
            Some("auto") => {
                let mut jar = match &jar_ref {
                    JarRef::Named(n) => self.jars[n].clone(),
                    JarRef::Login(t, u) => self.logins[&(t.clone(), u.clone())].jar.clone(),
                    JarRef::None => Jar::default(),
                };
                let token = self.fetch_csrf(port, &mut jar)?;
                match &jar_ref {
                    JarRef::Named(n) => *self.jars.get_mut(n).unwrap() = jar,
                    JarRef::Login(t, u) => {
                        self.logins.get_mut(&(t.clone(), u.clone())).unwrap().jar = jar
                    }
                    JarRef::None => {}
                }
                csrf_header = Some(token);
            }
            Some(literal) => csrf_header = Some(self.subst(literal)),
            None => {}
        }
        let cookie = match &jar_ref {
            JarRef::Named(n) => self.jars[n].header(),
            JarRef::Login(t, u) => self.logins[&(t.clone(), u.clone())].jar.header(),
            JarRef::None => None,
        };
        if let Some(c) = cookie {
            headers.push(("Cookie".into(), c));
        }
        if let Some(t) = csrf_header {
            headers.push(("X-CSRF".into(), t));
        }

        // Body.
        let mut body: Option<Vec<u8>> = None;
        if let Some(j) = step.get("json") {
            body = Some(serde_json::to_vec(&self.subst_value(j)).unwrap());
            headers.push(("Content-Type".into(), "application/json".into()));
        } else if let Some(b) = step.get("body").and_then(Value::as_str) {
            body = Some(self.subst(b).into_bytes());
        } else if let Some(r) = step.get("body_repeat") {
            body = Some(body_repeat(r)?);
        } else if let Some(m) = step.get("multipart") {
            let (ct, bytes) = multipart(&self.subst_value(m))?;
            headers.push(("Content-Type".into(), ct));
            body = Some(bytes);
        }
        if let Some(Value::Object(h)) = step.get("headers") {
            for (k, v) in h {
                let v = self.subst(&value_to_string(v));
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(k));
                headers.push((k.clone(), v));
            }
        }
        if body.is_none() && !matches!(method.as_str(), "GET" | "HEAD" | "OPTIONS") {
            body = Some(Vec::new());
        }

        let resp = send(port, &method, &path, &headers, body.as_deref())?;
        match &jar_ref {
            JarRef::Named(n) => self.jars.get_mut(n).unwrap().update(&resp, self.norm.now),
            JarRef::Login(t, u) => self
                .logins
                .get_mut(&(t.clone(), u.clone()))
                .unwrap()
                .jar
                .update(&resp, self.norm.now),
            JarRef::None => {}
        }
        self.norm.learn_cookies(&resp);

        // Body parsing and captures (before normalization).
        let text = String::from_utf8_lossy(&resp.body).into_owned();
        let parsed: Option<Value> = if resp.body.is_empty() {
            None
        } else {
            serde_json::from_slice(&resp.body).ok()
        };
        let mut capture_errors: Vec<Value> = vec![];
        if let Some(Value::Object(caps)) = step.get("capture") {
            for (name, p) in caps {
                let path = p.as_str().unwrap_or("");
                match parsed.as_ref().and_then(|b| lookup(b, path)) {
                    Some(v) if !v.is_null() => {
                        let s = value_to_string(v);
                        self.captures.retain(|(k, _)| k != name);
                        self.captures.push((name.clone(), s.clone()));
                        self.norm.captures.retain(|(k, _)| k != name);
                        self.norm.captures.push((name.clone(), s));
                    }
                    _ => capture_errors.push(Value::from(format!(
                        "capture {name}: no value at {path:?} in {}",
                        truncate(&text, 400)
                    ))),
                }
            }
        }
        if let Some(Value::Object(o)) = &parsed
            && let Some(Value::String(t)) = o.get("csrf")
        {
            self.norm.csrf_tokens.insert(t.clone());
        }

        // Redacted paths: replace objects by a marker before normalizing.
        let mut redacted: Vec<String> = vec![];
        let mut parsed = parsed;
        if let (Some(Value::Array(paths)), Some(b)) = (step.get("redact"), parsed.as_mut()) {
            for p in paths.iter().filter_map(Value::as_str) {
                if let Some(v) = lookup_mut(b, p)
                    && v.is_object()
                {
                    *v = Value::String(REDACTED_MARK.to_string());
                    redacted.push(p.to_string());
                }
            }
        }

        let mut record = Map::new();
        record.insert("status".into(), Value::from(resp.status));
        let headers_v = self.norm.headers(&resp);
        let (kind, body_v) = match parsed {
            Some(v) => ("json", self.norm.value(&v, None)),
            None => ("text", Value::String(self.norm.string(&text, None))),
        };
        record.insert("headers".into(), headers_v);
        record.insert("body_kind".into(), Value::from(kind));
        record.insert("body".into(), body_v);
        record.insert("redacted".into(), Value::from(redacted));
        record.insert("capture_errors".into(), Value::from(capture_errors));

        if let Some(Value::Array(specs)) = step.get("files") {
            let mut raw: BTreeMap<String, PathBuf> = BTreeMap::new();
            // The recorder writes `spec: null` for a pattern that matches nothing.
            let mut unmatched: Vec<String> = Vec::new();
            for original in specs.iter().filter_map(Value::as_str) {
                let spec = self.subst(original);
                let (base, prefix, pattern) = self.spec_base(&spec);
                let matches = glob(&base, pattern);
                if matches.is_empty() {
                    unmatched.push(original.to_string());
                }
                for rel in matches {
                    let full = base.join(&rel);
                    if full.is_file() {
                        raw.insert(format!("{prefix}{rel}"), full);
                    }
                }
            }
            let mut files = Map::new();
            for (key, full) in raw {
                let text = fs::read(&full)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let k = self.norm.string(&key, None);
                let v = self.norm.string(&text, None);
                files.insert(k, Value::String(v));
            }
            for spec in unmatched {
                files.entry(spec).or_insert(Value::Null);
            }
            record.insert("files".into(), Value::Object(files));
        }
        if let Some(Value::Array(specs)) = step.get("tree") {
            let mut trees = Map::new();
            for spec in specs.iter().filter_map(Value::as_str) {
                let spec = self.subst(spec);
                let (base, _, folder) = self.spec_base(&spec);
                let mut entries = vec![];
                list_tree(&base.join(folder), "", &mut entries);
                let mut entries: Vec<String> =
                    entries.iter().map(|e| self.norm.string(e, None)).collect();
                entries.sort();
                let key = self.norm.string(&spec, None);
                trees.insert(key, Value::from(entries));
            }
            record.insert("tree".into(), Value::Object(trees));
        }
        Ok(Value::Object(record))
    }

    /// Splits a files/tree spec into (base folder, key prefix, relative pattern).
    fn spec_base<'s>(&self, spec: &'s str) -> (PathBuf, &'static str, &'s str) {
        match spec.strip_prefix("accounts:") {
            Some(rest) => (self.root.join("site/accounts"), "accounts:", rest),
            None => (self.root.join("content"), "", spec),
        }
    }
}

const REDACTED_MARK: &str = "\u{0}folio-conformance-redacted-object";

/// The accounts of a scenario: its `users` map (`{"admin": {"email", "password"}}`), else
/// the first fixture's four accounts.
fn scenario_users(scenario: &Value) -> Vec<(String, String, String)> {
    match scenario.get("users").and_then(Value::as_object) {
        Some(map) => map
            .iter()
            .map(|(name, u)| {
                let field = |k: &str| u[k].as_str().unwrap_or("").to_string();
                (name.clone(), field("email"), field("password"))
            })
            .collect(),
        None => USERS
            .iter()
            .map(|(n, e, p)| (n.to_string(), e.to_string(), p.to_string()))
            .collect(),
    }
}

impl Run {
    fn credentials(&self, user: &str) -> Option<(String, String)> {
        self.users
            .iter()
            .find(|(n, e, _)| n == user || e.eq_ignore_ascii_case(user))
            .map(|(_, e, p)| (e.clone(), p.clone()))
    }
}

fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(v, |cur, part| match cur {
            Value::Object(o) => o.get(part),
            Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        })
}

fn lookup_mut<'v>(v: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    path.split('.')
        .filter(|p| !p.is_empty())
        .try_fold(v, |cur, part| match cur {
            Value::Object(o) => o.get_mut(part),
            Value::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get_mut(i)),
            _ => None,
        })
}

fn run_scenario(
    name: &str,
    scenario: &Value,
    golden: &Value,
    root_src: &Path,
    known: FixtureIds,
    only_step: Option<&str>,
) -> Vec<Outcome> {
    let steps = scenario["steps"].as_array().cloned().unwrap_or_default();
    let records = golden["records"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        steps.len(),
        records.len(),
        "{name}: scenario and golden have different step counts"
    );
    if let Some(s) = only_step {
        assert!(
            steps.iter().any(|st| st["name"] == s),
            "FOLIO_CONFORMANCE_ONLY: scenario {name} has no step {s:?}"
        );
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    copy_tree(root_src, &root);
    let main = Server::start_on(&root, &[]);
    let mut norm = Normalizer::new(known);
    norm.bases
        .push(format!("http://127.0.0.1:{}", main.addr.port()));
    let mut run = Run {
        root,
        servers: HashMap::from([(String::new(), main)]),
        jars: HashMap::new(),
        logins: HashMap::new(),
        captures: vec![],
        norm,
        users: scenario_users(scenario),
    };

    let mut outcomes = vec![];
    for (step, expected) in steps.iter().zip(&records) {
        let step_name = step["name"].as_str().unwrap_or("?").to_string();
        assert_eq!(
            expected["name"].as_str(),
            Some(step_name.as_str()),
            "{name}: golden out of order"
        );
        let result = run.step(step);
        let reported = only_step.is_none_or(|s| s == step_name);
        if !reported {
            continue;
        }
        let mut request = describe_request(step);
        let sent = run.subst(step["path"].as_str().unwrap_or(""));
        if sent != step["path"].as_str().unwrap_or("") {
            let _ = write!(request, "\n  sent path: {sent}");
        }
        let outcome = match result {
            Ok(actual) => compare(name, &step_name, request, expected, &actual),
            Err(e) => Outcome {
                scenario: name.to_string(),
                step: step_name.clone(),
                passed: false,
                request,
                problems: vec![format!("error: {e}")],
                notes: vec![],
                order_only: false,
            },
        };
        outcomes.push(outcome);
        if only_step.is_some() {
            break;
        }
    }
    drop(run);
    outcomes
}

fn describe_request(step: &Value) -> String {
    let mut s = format!(
        "{} {}  auth={}",
        step["method"].as_str().unwrap_or("?"),
        step["path"].as_str().unwrap_or("?"),
        step["auth"].as_str().unwrap_or("none")
    );
    for key in ["target", "csrf"] {
        if let Some(v) = step.get(key).and_then(Value::as_str) {
            let _ = write!(s, "  {key}={v}");
        }
    }
    if let Some(h) = step.get("headers") {
        let _ = write!(s, "\n  headers: {h}");
    }
    for key in ["json", "body", "multipart", "body_repeat"] {
        if let Some(v) = step.get(key) {
            let text = match v {
                Value::String(t) => t.clone(),
                other => other.to_string(),
            };
            let _ = write!(s, "\n  {key}: {}", truncate(&text, 300));
        }
    }
    s
}

// ---------------------------------------------------------------------------
// Comparison and report
// ---------------------------------------------------------------------------

fn compare(
    scenario: &str,
    step: &str,
    request: String,
    expected: &Value,
    actual: &Value,
) -> Outcome {
    let mut problems = vec![];
    let mut notes = vec![];
    let mut order_only = false;
    if let Some(Value::Array(errors)) = actual.get("capture_errors") {
        problems.extend(errors.iter().map(value_to_string));
    }

    if expected["status"] != actual["status"] {
        problems.push(format!(
            "status: expected {}, actual {}",
            expected["status"], actual["status"]
        ));
    }
    if expected["headers"] != actual["headers"] {
        problems.push(format!(
            "headers:\n{}",
            diff_text(&pretty(&expected["headers"]), &pretty(&actual["headers"]))
        ));
    }
    if expected["body_kind"] != actual["body_kind"] {
        problems.push(format!(
            "body_kind: expected {}, actual {}",
            expected["body_kind"], actual["body_kind"]
        ));
    }

    // Body, with redacted paths checked structurally.
    let mut body = actual["body"].clone();
    if let Some(Value::Array(paths)) = actual.get("redacted") {
        for p in paths.iter().filter_map(Value::as_str) {
            if let (Some(slot), Some(exp)) =
                (lookup_mut(&mut body, p), lookup(&expected["body"], p))
            {
                *slot = exp.clone();
                notes.push(format!(
                    "{p}: redacted in the golden; checked only that it is an object"
                ));
            }
        }
    }
    // A draft's preview token hashes the full URL, host and port included, which the
    // `<base>` placeholder hides; `media::tests` checks the token against Kirby's for the
    // recorded host, so here only its place is compared.
    let mut exp_body = expected["body"].clone();
    if mask_preview_tokens(&mut exp_body) | mask_preview_tokens(&mut body) {
        notes.push("?_token= of a preview URL: masked (it hashes the recording's port)".into());
    }
    let exp_body = &exp_body;
    let (e_text, a_text) = (pretty(exp_body), pretty(&body));
    if e_text != a_text {
        if *exp_body == body {
            order_only = true;
            problems.push(format!(
                "body (key ORDER only; values equal):\n{}",
                diff_text(&e_text, &a_text)
            ));
        } else {
            problems.push(format!("body:\n{}", diff_text(&e_text, &a_text)));
        }
    }
    for key in ["files", "tree"] {
        if let Some(exp) = expected.get(key) {
            let act = actual.get(key).cloned().unwrap_or(Value::Null);
            if *exp != act {
                problems.push(format!("{key}:\n{}", diff_map(exp, &act)));
            }
        }
    }
    Outcome {
        scenario: scenario.to_string(),
        step: step.to_string(),
        passed: problems.is_empty(),
        request,
        problems,
        notes,
        order_only,
    }
}

/// Replaces the ten hex digits after `?_token=` in every string with `<preview-token>`;
/// true when any were replaced.
fn mask_preview_tokens(v: &mut Value) -> bool {
    match v {
        Value::String(s) if s.contains("?_token=") => {
            let masked = replace_with(s, |b, i| {
                let rest = b[i..].strip_prefix(b"?_token=")?;
                let hex = rest.iter().take_while(|c| c.is_ascii_hexdigit()).count();
                (hex == 10).then(|| (8 + hex, "?_token=<preview-token>".to_string()))
            });
            let changed = masked != *s;
            *s = masked;
            changed
        }
        Value::Array(items) => items
            .iter_mut()
            .fold(false, |acc, x| mask_preview_tokens(x) | acc),
        Value::Object(map) => map
            .values_mut()
            .fold(false, |acc, x| mask_preview_tokens(x) | acc),
        _ => false,
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A compact line diff: common prefix/suffix trimmed, an LCS diff of the middle (when
/// small enough), equal runs folded to a little context.
fn diff_text(expected: &str, actual: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 120;
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let mut pre = 0;
    while pre < e.len() && pre < a.len() && e[pre] == a[pre] {
        pre += 1;
    }
    let mut suf = 0;
    while suf < e.len() - pre && suf < a.len() - pre && e[e.len() - 1 - suf] == a[a.len() - 1 - suf]
    {
        suf += 1;
    }
    let (em, am) = (&e[pre..e.len() - suf], &a[pre..a.len() - suf]);
    // (sign, line): ' ' equal, '-' expected only, '+' actual only.
    let mut ops: Vec<(char, &str)> = e[pre.saturating_sub(CONTEXT)..pre]
        .iter()
        .map(|l| (' ', *l))
        .collect();
    if em.len() * am.len() <= 1_000_000 {
        // LCS table over the differing middle.
        let (n, m) = (em.len(), am.len());
        let mut t = vec![0u32; (n + 1) * (m + 1)];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                t[i * (m + 1) + j] = if em[i] == am[j] {
                    t[(i + 1) * (m + 1) + j + 1] + 1
                } else {
                    t[(i + 1) * (m + 1) + j].max(t[i * (m + 1) + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && em[i] == am[j] {
                ops.push((' ', em[i]));
                i += 1;
                j += 1;
            } else if i < n && (j == m || t[(i + 1) * (m + 1) + j] >= t[i * (m + 1) + j + 1]) {
                ops.push(('-', em[i]));
                i += 1;
            } else {
                ops.push(('+', am[j]));
                j += 1;
            }
        }
    } else {
        ops.extend(em.iter().map(|l| ('-', *l)));
        ops.extend(am.iter().map(|l| ('+', *l)));
    }
    ops.extend(e[e.len() - suf..].iter().take(CONTEXT).map(|l| (' ', *l)));
    // Keep changed lines and CONTEXT equal lines around them.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.0 != ' ')
        .map(|(k, _)| k)
        .collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
    let mut out = format!("    @@ line {} @@\n", pre + 1);
    let (mut shown, mut skipped) = (0, false);
    for (k, (sign, line)) in ops.iter().enumerate() {
        if *sign == ' ' && !near(k) {
            if !skipped {
                out.push_str("      …\n");
                skipped = true;
            }
            continue;
        }
        skipped = false;
        if shown == MAX_LINES {
            let _ = writeln!(out, "    … ({} more diff lines)", ops.len() - k);
            break;
        }
        shown += 1;
        let _ = writeln!(out, "    {sign} {}", clip(line));
    }
    out
}

fn clip(l: &str) -> String {
    truncate(l, 300)
}

/// Per-key diff of two objects (files, tree).
fn diff_map(expected: &Value, actual: &Value) -> String {
    let empty = Map::new();
    let e = expected.as_object().unwrap_or(&empty);
    let a = actual.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = e.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::new();
    for k in keys {
        match (e.get(k), a.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), None) => {
                let _ = writeln!(out, "  {k}: expected but missing");
            }
            (None, Some(_)) => {
                let _ = writeln!(out, "  {k}: present but not expected");
            }
            (Some(Value::Array(x)), Some(Value::Array(y))) => {
                let _ = writeln!(out, "  {k}:");
                for item in x.iter().filter(|i| !y.contains(i)) {
                    let _ = writeln!(out, "    - {}", value_to_string(item));
                }
                for item in y.iter().filter(|i| !x.contains(i)) {
                    let _ = writeln!(out, "    + {}", value_to_string(item));
                }
            }
            (Some(x), Some(y)) => {
                let (x, y) = (value_to_string(x), value_to_string(y));
                let _ = writeln!(out, "  {k}:\n{}", diff_text(&x, &y));
            }
            (None, None) => {}
        }
    }
    out
}

fn build_report(summary: &str, outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Folio conformance report (Kirby 5.5.2 goldens)\n");
    out.push_str(summary);
    let order_only: Vec<String> = outcomes
        .iter()
        .filter(|o| o.order_only)
        .map(Outcome::key)
        .collect();
    if !order_only.is_empty() {
        let _ = writeln!(
            out,
            "\nSteps whose body differs only in key order:\n  {}",
            order_only.join("\n  ")
        );
    }
    let structural: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.passed && !o.notes.is_empty())
        .collect();
    if !structural.is_empty() {
        let _ = writeln!(
            out,
            "\nKnown structural differences (passed; compared structurally):"
        );
        for o in structural {
            for n in &o.notes {
                let _ = writeln!(out, "  {}: {n}", o.key());
            }
        }
    }
    let _ = writeln!(out, "\nFailing steps:");
    for o in outcomes.iter().filter(|o| !o.passed) {
        let _ = writeln!(out, "\n== {}", o.key());
        let _ = writeln!(out, "request: {}", o.request);
        for p in &o.problems {
            let _ = writeln!(out, "{}", p.trim_end());
        }
        for n in &o.notes {
            let _ = writeln!(out, "note: {n}");
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Raw HTTP/1.1 client
// ---------------------------------------------------------------------------

/// Sends one request (`Connection: close`) through the shared test client and reads the
/// answer to EOF. `target` is sent byte for byte; `body: Some` adds a `Content-Length`
/// header. Header names come back lowercased.
fn send(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<Response, String> {
    let mut req = Request::new(method, target)
        .header("User-Agent", "folio-conformance")
        .header("Accept", "*/*");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    req = match body {
        Some(b) => req.body(b.to_vec()),
        None => req.bare(),
    };
    let mut resp = req.try_send(SocketAddr::from(([127, 0, 0, 1], port)))?;
    for (k, _) in &mut resp.headers {
        k.make_ascii_lowercase();
    }
    Ok(resp)
}

// ---------------------------------------------------------------------------
// Request bodies: body_repeat, multipart, synthetic PNGs
// ---------------------------------------------------------------------------

/// `{"prefix", "chunk", "count", "suffix"}` -> prefix + chunk * count + suffix.
fn body_repeat(spec: &Value) -> Result<Vec<u8>, String> {
    let s = |k: &str| spec.get(k).and_then(Value::as_str).unwrap_or("");
    let count = spec
        .get("count")
        .and_then(Value::as_u64)
        .ok_or("body_repeat: missing count")? as usize;
    let (prefix, chunk, suffix) = (s("prefix"), s("chunk"), s("suffix"));
    let mut out = Vec::with_capacity(prefix.len() + chunk.len() * count + suffix.len());
    out.extend_from_slice(prefix.as_bytes());
    for _ in 0..count {
        out.extend_from_slice(chunk.as_bytes());
    }
    out.extend_from_slice(suffix.as_bytes());
    Ok(out)
}

const BOUNDARY: &str = "----FolioConformanceBoundary7d3f9a2c";

/// `{"fields": {name: value}, "files": [{"field"?, "filename", "content_type", "source"}]}`
/// -> (Content-Type header, body). Fields come first; a file's part name defaults to `file`.
fn multipart(spec: &Value) -> Result<(String, Vec<u8>), String> {
    let mut out = Vec::new();
    if let Some(Value::Object(fields)) = spec.get("fields") {
        for (k, v) in fields {
            out.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{}\r\n",
                    value_to_string(v)
                )
                .as_bytes(),
            );
        }
    }
    if let Some(Value::Array(files)) = spec.get("files") {
        for f in files {
            let field = f.get("field").and_then(Value::as_str).unwrap_or("file");
            let filename = f.get("filename").and_then(Value::as_str).unwrap_or("file");
            let ct = f
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream");
            let data = file_source(f.get("source").and_then(Value::as_str).unwrap_or("text:"))?;
            out.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {ct}\r\n\r\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    Ok((format!("multipart/form-data; boundary={BOUNDARY}"), out))
}

/// `text:<literal>`, `base64:<data>` or `png:<W>x<H>`.
fn file_source(source: &str) -> Result<Vec<u8>, String> {
    if let Some(t) = source.strip_prefix("text:") {
        Ok(t.as_bytes().to_vec())
    } else if let Some(b) = source.strip_prefix("base64:") {
        let clean: String = b
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '=')
            .collect();
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(clean)
            .map_err(|e| format!("bad base64 source {source:?}: {e}"))
    } else if let Some(dim) = source.strip_prefix("png:") {
        let (w, h) = dim
            .split_once('x')
            .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)))
            .ok_or_else(|| format!("bad png source {source:?}"))?;
        let size = PNG_SIZES
            .iter()
            .find(|(d, _)| *d == (w, h))
            .map(|(_, s)| *s);
        Ok(crate::support::png(w, h, size))
    } else {
        Err(format!("unknown file source {source:?}"))
    }
}

// ---------------------------------------------------------------------------
// files / tree helpers
// ---------------------------------------------------------------------------

/// Python-`glob`-like matching relative to `base`: `*`/`?` within one component
/// (not matching a leading dot), `**` = zero or more folders. Returns sorted paths
/// relative to `base` that exist.
fn glob(base: &Path, pattern: &str) -> Vec<String> {
    let parts: Vec<&str> = pattern.split('/').filter(|p| !p.is_empty()).collect();
    let mut out = BTreeSet::new();
    glob_walk(base, "", &parts, &mut out);
    out.into_iter().collect()
}

fn glob_walk(dir: &Path, rel: &str, parts: &[&str], out: &mut BTreeSet<String>) {
    let join = |rel: &str, name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    let Some((first, rest)) = parts.split_first() else {
        if !rel.is_empty() && dir.exists() {
            out.insert(rel.to_string());
        }
        return;
    };
    if *first == "**" {
        glob_walk(dir, rel, rest, out);
        for name in visible_dirs(dir) {
            glob_walk(&dir.join(&name), &join(rel, &name), parts, out);
        }
    } else if first.contains(['*', '?']) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if name.starts_with('.') && !first.starts_with('.') {
                continue;
            }
            if wildcard(first.as_bytes(), name.as_bytes()) {
                glob_walk(&dir.join(&name), &join(rel, &name), rest, out);
            }
        }
    } else if *first == "." {
        glob_walk(dir, rel, rest, out);
    } else {
        let next = dir.join(first);
        if next.exists() {
            glob_walk(&next, &join(rel, first), rest, out);
        }
    }
}

fn visible_dirs(dir: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return vec![];
    };
    let mut v: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| wildcard(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && wildcard(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && wildcard(rest, &s[1..]),
    }
}

/// Every entry below `dir` (hidden ones included), relative, folders with a trailing `/`.
fn list_tree(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push(format!("{path}/"));
            list_tree(&e.path(), &path, out);
        } else {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------------------
// Normalization (mirrors the recorder; see tests/fixtures/kirby/README.md)
// ---------------------------------------------------------------------------

/// Ids that exist in the fixture (or appear literally in a golden file): these are
/// never replaced by `<uuid-N>` / `<id-N>`.
#[derive(Clone, Default)]
struct FixtureIds {
    uuids: HashSet<String>,
    block_ids: HashSet<String>,
}

impl FixtureIds {
    fn scan(content: &Path) -> Self {
        let mut ids = FixtureIds::default();
        let mut files = vec![];
        list_tree(content, "", &mut files);
        for f in files.iter().filter(|f| f.ends_with(".txt")) {
            if let Ok(text) = fs::read_to_string(content.join(f)) {
                ids.add_literals(&text);
            }
        }
        ids
    }

    fn add_literals(&mut self, text: &str) {
        let b = text.as_bytes();
        for i in 0..b.len() {
            if let Some(len) = uuid16_at(b, i) {
                self.uuids.insert(text[i..i + len].to_string());
            }
            if let Some(len) = block_id_at(b, i) {
                self.block_ids.insert(text[i..i + len].to_ascii_lowercase());
            }
        }
    }
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn word_start(b: &[u8], i: usize) -> bool {
    i == 0 || !is_word(b[i - 1])
}

/// A Kirby uuid candidate: a word of exactly 16 chars from `[a-z0-9]` starting at `i`.
fn uuid16_at(b: &[u8], i: usize) -> Option<usize> {
    if !word_start(b, i) {
        return None;
    }
    let len = b[i..].iter().take_while(|c| is_word(**c)).count();
    (len == 16
        && b[i..i + 16]
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
    .then_some(16)
}

/// A uuid-v4-shaped id (8-4-4-4-12 hex) starting at `i`.
fn block_id_at(b: &[u8], i: usize) -> Option<usize> {
    if !word_start(b, i) || b.len() < i + 36 {
        return None;
    }
    let ok = b[i..i + 36].iter().enumerate().all(|(k, c)| match k {
        8 | 13 | 18 | 23 => *c == b'-',
        _ => c.is_ascii_hexdigit(),
    });
    (ok && b.get(i + 36).is_none_or(|c| !is_word(*c))).then_some(36)
}

/// `$2y$10$` + 53 chars.
fn bcrypt_at(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i;
    if b.get(j) != Some(&b'$') || b.get(j + 1) != Some(&b'2') {
        return None;
    }
    j += 2;
    if matches!(b.get(j), Some(b'a' | b'b' | b'y')) {
        j += 1;
    }
    if b.get(j) != Some(&b'$')
        || !b.get(j + 1)?.is_ascii_digit()
        || !b.get(j + 2)?.is_ascii_digit()
        || b.get(j + 3) != Some(&b'$')
    {
        return None;
    }
    j += 4;
    let body = b.get(j..j + 53)?;
    body.iter()
        .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'/')
        .then_some(j + 53 - i)
}

fn digits(b: &[u8], i: usize, n: usize) -> Option<i64> {
    let s = b.get(i..i + n)?;
    if !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

/// An ISO date-time at `i` (`YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH[:]MM]`): (length, unix time).
fn iso_at(b: &[u8], i: usize) -> Option<(usize, i64)> {
    if i > 0 && b[i - 1].is_ascii_digit() {
        return None;
    }
    let y = digits(b, i, 4)?;
    if b.get(i + 4) != Some(&b'-')
        || b.get(i + 7) != Some(&b'-')
        || !matches!(b.get(i + 10), Some(b'T' | b' '))
    {
        return None;
    }
    let (mo, d) = (digits(b, i + 5, 2)?, digits(b, i + 8, 2)?);
    let (hh, mm) = (digits(b, i + 11, 2)?, digits(b, i + 14, 2)?);
    if b.get(i + 13) != Some(&b':') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut j = i + 16;
    let mut ss = 0;
    if b.get(j) == Some(&b':')
        && let Some(v) = digits(b, j + 1, 2)
    {
        ss = v;
        j += 3;
        if b.get(j) == Some(&b'.') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            j += 1;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
        }
    }
    let mut offset = 0;
    match b.get(j) {
        Some(b'Z') => j += 1,
        Some(sign @ (b'+' | b'-')) => {
            if let Some(oh) = digits(b, j + 1, 2) {
                let (om, len) = if b.get(j + 3) == Some(&b':') {
                    (digits(b, j + 4, 2), 6)
                } else {
                    (digits(b, j + 3, 2), 5)
                };
                if let Some(om) = om {
                    offset = (oh * 60 + om) * 60 * if *sign == b'-' { -1 } else { 1 };
                    j += len;
                }
            }
        }
        _ => {}
    }
    if b.get(j).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((
        j - i,
        days_from_civil(y, mo, d)? * 86400 + hh * 3600 + mm * 60 + ss - offset,
    ))
}

/// A 10-digit unix time at `i` (a whole word).
fn unix_at(b: &[u8], i: usize) -> Option<(usize, i64)> {
    if !word_start(b, i) || b.get(i + 10).is_some_and(|c| is_word(*c)) {
        return None;
    }
    digits(b, i, 10).map(|t| (10, t))
}

/// Days since 1970-01-01 of a calendar date (`None` for an impossible one).
fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    let month = time::Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?)
        .ok()?;
    // 2440588 is the Julian day number of 1970-01-01.
    Some(i64::from(date.to_julian_day()) - 2_440_588)
}

/// `Thu, 01 Jan 1970 00:00:01 GMT` (also PHP's `01-Jan-1970` cookie form) -> unix time.
fn parse_http_date(s: &str) -> Option<i64> {
    let (day, rest) = s.split_once(", ").unwrap_or(("", s));
    let imf = format!("{day}, {}", rest.replacen('-', " ", 2));
    let t = httpdate::parse_http_date(imf.trim_start_matches(", ")).ok()?;
    let secs = t.duration_since(UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(secs).ok()
}

/// Replaces every match found by `f(bytes, index) -> Some((len, replacement))`,
/// scanning left to right without overlaps. Matches must start on an ASCII byte.
fn replace_with(s: &str, mut f: impl FnMut(&[u8], usize) -> Option<(usize, String)>) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut last, mut i) = (0, 0);
    while i < b.len() {
        if b[i].is_ascii()
            && let Some((len, rep)) = f(b, i)
        {
            out.push_str(&s[last..i]);
            out.push_str(&rep);
            i += len.max(1);
            last = i;
            continue;
        }
        i += 1;
    }
    out.push_str(&s[last..]);
    out
}

/// The recorder's Set-Cookie reduction: `{name, value: <token>|<deleted>, attrs}`.
fn reduce_cookie(raw: &str) -> Value {
    let mut parts = raw.split(';');
    let first = parts.next().unwrap_or("");
    let (name, value) = first.split_once('=').unwrap_or((first, ""));
    let value = value.trim();
    let mut attrs: BTreeMap<String, Value> = BTreeMap::new();
    for attr in parts.map(str::trim).filter(|a| !a.is_empty()) {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (attr.to_ascii_lowercase(), None),
        };
        let v = match (k.as_str(), v) {
            (_, None) => Value::Bool(true),
            ("expires", Some(_)) => Value::from("<date>"),
            ("max-age", Some(n)) => match n.parse::<f64>() {
                Ok(n) => Value::from(format!("{}", ((n / 60.0).round() * 60.0) as i64)),
                Err(_) => Value::from(n),
            },
            (_, Some(v)) => Value::from(v),
        };
        attrs.insert(k, v);
    }
    let shown = if value.is_empty() || value == "deleted" {
        "<deleted>"
    } else {
        "<token>"
    };
    serde_json::json!({"name": name.trim(), "value": shown, "attrs": attrs.into_iter().collect::<Map<_, _>>()})
}

struct Normalizer {
    now: i64,
    /// Base URLs of the running servers -> `<base>`.
    bases: Vec<String>,
    /// Captured values -> `<name>`.
    captures: Vec<(String, String)>,
    csrf_tokens: BTreeSet<String>,
    session_tokens: BTreeSet<String>,
    known: FixtureIds,
    uuids: HashMap<String, usize>,
    ids: HashMap<String, usize>,
}

impl Normalizer {
    fn new(known: FixtureIds) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Normalizer {
            now,
            bases: vec![],
            captures: vec![],
            csrf_tokens: BTreeSet::new(),
            session_tokens: BTreeSet::new(),
            known,
            uuids: HashMap::new(),
            ids: HashMap::new(),
        }
    }

    fn recent(&self, t: i64) -> bool {
        (t - self.now).abs() <= TIME_WINDOW
    }

    /// Remembers session cookie values so they can be shown as `<session-token>`.
    fn learn_cookies(&mut self, resp: &Response) {
        for raw in resp.all("set-cookie") {
            let first = raw.split(';').next().unwrap_or("");
            if let Some((name, value)) = first.split_once('=') {
                let value = value.trim();
                if name.contains("session") && value.len() >= 8 && value != "deleted" {
                    self.session_tokens.insert(value.to_string());
                }
            }
        }
    }

    /// The kept headers: content-type, cache-control, vary, www-authenticate,
    /// location, x-* (except x-powered-by), and set-cookie reduced.
    fn headers(&mut self, resp: &Response) -> Value {
        let mut out = Map::new();
        let mut cookies = vec![];
        for (k, v) in &resp.headers {
            if k == "set-cookie" {
                cookies.push(reduce_cookie(v));
                continue;
            }
            let keep = matches!(
                k.as_str(),
                "content-type" | "cache-control" | "vary" | "www-authenticate" | "location"
            ) || (k.starts_with("x-") && k != "x-powered-by");
            if !keep {
                continue;
            }
            let v = self.string(v, None);
            match out.get_mut(k) {
                Some(Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(&v);
                }
                _ => {
                    out.insert(k.clone(), Value::String(v));
                }
            }
        }
        if !cookies.is_empty() {
            out.insert("set-cookie".into(), Value::from(cookies));
        }
        Value::Object(out)
    }

    fn value(&mut self, v: &Value, key: Option<&str>) -> Value {
        match v {
            Value::Object(o) => {
                let mut out = Map::new();
                for (k, x) in o {
                    let nv = if k == "modified" && self.is_time(x) {
                        Value::from("<time>")
                    } else {
                        self.value(x, Some(k))
                    };
                    out.insert(k.clone(), nv);
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| self.value(x, None)).collect()),
            Value::String(s) => Value::String(self.string(s, key)),
            Value::Number(n) => match n.as_i64() {
                Some(t) if (1_000_000_000..10_000_000_000).contains(&t) && self.recent(t) => {
                    Value::from("<time>")
                }
                _ => v.clone(),
            },
            other => other.clone(),
        }
    }

    /// A `modified` value: an ISO date-time or a unix time (any date).
    fn is_time(&self, v: &Value) -> bool {
        match v {
            Value::Number(n) => n.as_i64().is_some(),
            Value::String(s) => {
                let b = s.as_bytes();
                iso_at(b, 0).is_some_and(|(len, _)| len == b.len())
                    || unix_at(b, 0).is_some_and(|(len, _)| len == b.len())
            }
            _ => false,
        }
    }

    fn string(&mut self, s: &str, key: Option<&str>) -> String {
        let mut s = s.to_string();
        for base in &self.bases {
            if s.contains(base.as_str()) {
                s = s.replace(base.as_str(), "<base>");
            }
        }
        let mut caps: Vec<&(String, String)> = self
            .captures
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        caps.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        for (name, value) in caps {
            if s.contains(value.as_str()) {
                s = s.replace(value.as_str(), &format!("<{name}>"));
            }
        }
        for t in &self.csrf_tokens {
            if s.contains(t.as_str()) {
                s = s.replace(t.as_str(), "<csrf>");
            }
        }
        for t in &self.session_tokens {
            if s.contains(t.as_str()) {
                s = s.replace(t.as_str(), "<session-token>");
            }
        }
        if s.contains("$2") {
            s = replace_with(&s, |b, i| {
                bcrypt_at(b, i).map(|len| (len, "<bcrypt>".to_string()))
            });
        }
        if s.contains("/media/pages/") {
            s = replace_with(&s, media_mtime_at);
        }
        let now = self.now;
        let recent = |t: i64| (t - now).abs() <= TIME_WINDOW;
        if s.bytes().filter(u8::is_ascii_digit).nth(9).is_some() {
            s = replace_with(&s, |b, i| {
                if !b[i].is_ascii_digit() {
                    return None;
                }
                iso_at(b, i)
                    .or_else(|| unix_at(b, i))
                    .filter(|(_, t)| recent(*t))
                    .map(|(len, _)| (len, "<time>".to_string()))
            });
        }
        if s.contains('-') {
            let (known, ids) = (&self.known.block_ids, &mut self.ids);
            s = replace_with(&s, |b, i| {
                let len = block_id_at(b, i)?;
                let id = std::str::from_utf8(&b[i..i + len])
                    .ok()?
                    .to_ascii_lowercase();
                if known.contains(&id) {
                    return None;
                }
                let next = ids.len() + 1;
                let n = *ids.entry(id).or_insert(next);
                Some((len, format!("<id-{n}>")))
            });
        }
        if s.len() >= 16 {
            let whole = s.len() == 16 && key == Some("uuid");
            let (known, uuids) = (&self.known.uuids, &mut self.uuids);
            s = replace_with(&s, |b, i| {
                let len = uuid16_at(b, i)?;
                let tok = &b[i..i + len];
                let mixed =
                    tok.iter().any(u8::is_ascii_digit) && tok.iter().any(u8::is_ascii_lowercase);
                let context = whole || b[..i].ends_with(b"://") || b[..i].ends_with(b"Uuid: ");
                let tok = std::str::from_utf8(tok).ok()?;
                if !(mixed || context) || known.contains(tok) {
                    return None;
                }
                let next = uuids.len() + 1;
                let n = *uuids.entry(tok.to_string()).or_insert(next);
                Some((len, format!("<uuid-{n}>")))
            });
        }
        summarize_long(s)
    }
}

/// `/media/pages/<id>/<token>-<mtime>/` -> the mtime becomes `<mtime>`.
fn media_mtime_at(b: &[u8], i: usize) -> Option<(usize, String)> {
    const PREFIX: &[u8] = b"/media/pages/";
    if !b[i..].starts_with(PREFIX) {
        return None;
    }
    let mut j = i + PREFIX.len();
    loop {
        let rel = b[j..].iter().position(|c| {
            matches!(c, b'/' | b'"' | b'\'' | b'<' | b'>') || c.is_ascii_whitespace()
        })?;
        let end = j + rel;
        if b[end] != b'/' {
            return None;
        }
        let seg = &b[j..end];
        if seg.len() > 11
            && seg[10] == b'-'
            && seg[..10]
                .iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && seg[11..].iter().all(u8::is_ascii_digit)
        {
            let keep = std::str::from_utf8(&b[i..j + 11]).ok()?;
            return Some((end - i, format!("{keep}<mtime>")));
        }
        j = end + 1;
    }
}

/// Strings longer than 20000 chars -> first 200 chars + `...<N chars sha1=XXXXXXXXXXXXXXXX>`.
fn summarize_long(s: String) -> String {
    if s.len() <= LONG_STRING {
        return s;
    }
    let n = s.chars().count();
    if n <= LONG_STRING {
        return s;
    }
    let head: String = s.chars().take(200).collect();
    format!(
        "{head}...<{n} chars sha1={}>",
        &sha1_hex(s.as_bytes())[..16]
    )
}

fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    hex::encode(sha1::Sha1::digest(data))
}

// ---------------------------------------------------------------------------
// For the readback test (`readback.rs`)
// ---------------------------------------------------------------------------

/// Performs the steps of `scenario` on a server over `root` (which they change), with the
/// harness's auth modes and bodies; returns each step's name and status.
pub(crate) fn perform(root: &Path, scenario: &Value) -> Vec<(String, Result<u64, String>)> {
    let main = Server::start_on(root, &[]);
    let mut norm = Normalizer::new(FixtureIds::default());
    norm.bases
        .push(format!("http://127.0.0.1:{}", main.addr.port()));
    let mut run = Run {
        root: root.to_path_buf(),
        servers: HashMap::from([(String::new(), main)]),
        jars: HashMap::new(),
        logins: HashMap::new(),
        captures: vec![],
        norm,
        users: scenario_users(scenario),
    };
    let steps = scenario["steps"].as_array().cloned().unwrap_or_default();
    steps
        .iter()
        .map(|step| {
            let name = step["name"].as_str().unwrap_or("?").to_string();
            let status = run.step(step).map(|r| r["status"].as_u64().unwrap_or(0));
            (name, status)
        })
        .collect()
}

/// The recorder's normalisation of a text (UUIDs and ids not in the fixture numbered in
/// order of appearance, bcrypt hashes, times near now).
pub(crate) struct TextNormalizer(Normalizer);

impl TextNormalizer {
    /// Ids in the `.txt` files under `content` stay as they are.
    pub(crate) fn new(content: &Path) -> Self {
        TextNormalizer(Normalizer::new(FixtureIds::scan(content)))
    }

    pub(crate) fn text(&mut self, s: &str) -> String {
        self.0.string(s, None)
    }
}

/// Every entry below `dir` (hidden ones included), relative, folders with a trailing `/`.
pub(crate) fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    list_tree(dir, "", &mut out);
    out.sort();
    out
}

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    workspace_root()
}

// ---------------------------------------------------------------------------
// Unit tests for the harness itself (`cargo test --test conformance -- unit_`)
// ---------------------------------------------------------------------------

#[cfg(test)]
mod unit {
    use super::*;

    const NOW: i64 = 1_764_400_000; // 2025-11-29T07:06:40Z

    fn normalizer() -> Normalizer {
        let mut known = FixtureIds::default();
        known.add_literals(
            "Uuid: 5gv2uba3w9xbg929\n\"id\":\"a3427369-6b9b-461b-a58b-6f83cab3db99\"",
        );
        let mut n = Normalizer::new(known);
        n.now = NOW;
        n.bases.push("http://127.0.0.1:5555".into());
        n
    }

    #[test]
    fn unit_normalize_times_and_media_urls() {
        let mut n = normalizer();
        assert_eq!(
            n.string(
                "http://127.0.0.1:5555/media/pages/blog/first-light/398f3352c1-1764400000/lamp.png",
                None
            ),
            "<base>/media/pages/blog/first-light/398f3352c1-<mtime>/lamp.png"
        );
        // Two URLs in one srcset; an old mtime in a page URL is still `<mtime>`.
        assert_eq!(
            n.string("/media/pages/a/b/3e919f9569-1700000000/h-38x.jpg 38w, /media/pages/a/b/3e919f9569-1764400000/h-76x.jpg 76w", None),
            "/media/pages/a/b/3e919f9569-<mtime>/h-38x.jpg 38w, /media/pages/a/b/3e919f9569-<mtime>/h-76x.jpg 76w"
        );
        // Site files: no media rule, the 10-digit rule applies (only to recent times).
        assert_eq!(
            n.string(
                "http://127.0.0.1:5555/media/site/1727660605-1764400100/banner.png",
                None
            ),
            "<base>/media/site/1727660605-<time>/banner.png"
        );
        assert_eq!(n.string("2025-11-29T07:06:40+00:00", None), "<time>");
        assert_eq!(
            n.string("at 2025-11-30 10:00:00 UTC", None),
            "at <time> UTC"
        );
        assert_eq!(n.string("2024-05-02 00:00:00", None), "2024-05-02 00:00:00");
        assert_eq!(n.string("2025-11-29", None), "2025-11-29");
        let v = serde_json::json!({"modified": "2020-01-01T00:00:00+00:00", "t": 1764400001, "n": 1700000000, "x": "1764400000a"});
        assert_eq!(
            n.value(&v, None),
            serde_json::json!({"modified": "<time>", "t": "<time>", "n": 1700000000, "x": "1764400000a"})
        );
        // A `modified` value that is not a time stays visible.
        assert_eq!(
            n.value(&serde_json::json!({"modified": "yesterday"}), None),
            serde_json::json!({"modified": "yesterday"})
        );
    }

    #[test]
    fn unit_normalize_uuids_ids_and_captures() {
        let mut n = normalizer();
        n.captures.push(("newUserId".into(), "ab12cd34".into()));
        let v = serde_json::json!({
            "content": {"uuid": "qwertyuiopasdfgh", "other": "5gv2uba3w9xbg929"},
            "uuid": "page://k2j3h4g5f6d7s8a9",
            "again": "file://qwertyuiopasdfgh",
            "word": "internationalize",
            "blocks": [{"id": "a3427369-6b9b-461b-a58b-6f83cab3db99"}, {"id": "0f8fad5b-d9cb-469f-a165-70867728950e"}],
            "user": "user://ab12cd34",
            "text": "Uuid: zzzzzzzzzzzzzzzz\n",
        });
        assert_eq!(
            n.value(&v, None),
            serde_json::json!({
                "content": {"uuid": "<uuid-1>", "other": "5gv2uba3w9xbg929"},
                "uuid": "page://<uuid-2>",
                "again": "file://<uuid-1>",
                "word": "internationalize",
                "blocks": [{"id": "a3427369-6b9b-461b-a58b-6f83cab3db99"}, {"id": "<id-1>"}],
                "user": "user://<newUserId>",
                "text": "Uuid: <uuid-3>\n",
            })
        );
        // Numbering persists across calls.
        assert_eq!(n.string("file://k2j3h4g5f6d7s8a9", None), "file://<uuid-2>");
    }

    #[test]
    fn unit_normalize_bcrypt_long_strings_and_sha1() {
        let mut n = normalizer();
        let hash = format!("$2y$10${}", "a".repeat(53));
        assert_eq!(n.string(&hash, None), "<bcrypt>");
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let long = n.string(&"x".repeat(25_000), None);
        assert_eq!(
            long,
            format!("{}...<25000 chars sha1=9007353a2a6c4440>", "x".repeat(200))
        );
        assert_eq!(n.string(&"y".repeat(20_000), None).len(), 20_000);
    }

    #[test]
    fn unit_normalize_set_cookie_and_headers() {
        let c = reduce_cookie(
            "kirby_session=abc.def; expires=Sat, 29-Nov-2025 09:06:40 GMT; Max-Age=7199; path=/; HttpOnly; SameSite=Lax",
        );
        assert_eq!(
            c,
            serde_json::json!({"name": "kirby_session", "value": "<token>", "attrs": {
                "expires": "<date>", "httponly": true, "max-age": "7200", "path": "/", "samesite": "Lax"}})
        );
        assert_eq!(
            reduce_cookie("kirby_session=deleted; Max-Age=0")["value"],
            "<deleted>"
        );
        let resp = Response {
            status: 200,
            headers: vec![
                (
                    "content-type".into(),
                    "application/json; charset=UTF-8".into(),
                ),
                ("x-powered-by".into(), "PHP".into()),
                ("date".into(), "now".into()),
                ("location".into(), "http://127.0.0.1:5555/panel".into()),
                ("set-cookie".into(), "a=1; path=/".into()),
            ],
            body: vec![],
        };
        let mut n = normalizer();
        assert_eq!(
            n.headers(&resp),
            serde_json::json!({"content-type": "application/json; charset=UTF-8", "location": "<base>/panel",
                "set-cookie": [{"name": "a", "value": "<token>", "attrs": {"path": "/"}}]})
        );
        let mut jar = Jar::default();
        jar.update(&resp, NOW);
        assert_eq!(jar.header().as_deref(), Some("a=1"));
        let del = Response {
            status: 200,
            headers: vec![(
                "set-cookie".into(),
                "a=deleted; expires=Thu, 01-Jan-1970 00:00:01 GMT".into(),
            )],
            body: vec![],
        };
        jar.update(&del, NOW);
        assert_eq!(jar.header(), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:01 GMT"), Some(1));
        assert_eq!(parse_http_date("Thu, 01-Jan-1970 00:00:02 GMT"), Some(2));
    }

    #[test]
    fn unit_http_parsing() {
        let r = Response::parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5;x=y\r\npedia\r\n0\r\n\r\n").unwrap();
        assert_eq!(r.status, 201);
        assert_eq!(r.all("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(r.body, b"Wikipedia");
        let r = Response::parse(b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n{}").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (404, &b"{}"[..]));
        assert_eq!(file_source("base64:YWRtaW4=").unwrap(), b"admin");
    }

    #[test]
    fn unit_request_bodies() {
        for ((w, h), size) in PNG_SIZES {
            let p = file_source(&format!("png:{w}x{h}")).unwrap();
            assert_eq!(p.len(), *size);
            assert_eq!(&p[16..24], &[w.to_be_bytes(), h.to_be_bytes()].concat()[..]);
        }
        let spec =
            serde_json::json!({"prefix": "{\"a\": \"", "chunk": "xy", "count": 3, "suffix": "\"}"});
        assert_eq!(body_repeat(&spec).unwrap(), b"{\"a\": \"xyxyxy\"}");
        let m = serde_json::json!({"fields": {"template": "image"}, "files": [{"field": "file1", "filename": "a.md", "content_type": "text/markdown", "source": "text:A"}]});
        let (ct, body) = multipart(&m).unwrap();
        assert_eq!(ct, format!("multipart/form-data; boundary={BOUNDARY}"));
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("name=\"template\"\r\n\r\nimage\r\n"));
        assert!(text.contains(
            "name=\"file1\"; filename=\"a.md\"\r\nContent-Type: text/markdown\r\n\r\nA\r\n"
        ));
        assert!(text.ends_with(&format!("--{BOUNDARY}--\r\n")));
    }

    #[test]
    fn unit_glob_and_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        for f in [
            "a/x.txt",
            "a/_changes/y.txt",
            "a/.hidden.txt",
            "a/z.md",
            "b/.htpasswd",
            "b/index.php",
        ] {
            let p = base.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "t").unwrap();
        }
        assert_eq!(glob(base, "a/*.txt"), ["a/x.txt"]);
        assert_eq!(glob(base, "a/**/*.txt"), ["a/_changes/y.txt", "a/x.txt"]);
        assert_eq!(glob(base, "*/index.php"), ["b/index.php"]);
        assert_eq!(glob(base, "b/*"), ["b/index.php"]);
        assert_eq!(glob(base, "b/.htpasswd"), ["b/.htpasswd"]);
        assert!(glob(base, "b/missing.txt").is_empty());
        let mut entries = vec![];
        list_tree(&base.join("b"), "", &mut entries);
        entries.sort();
        assert_eq!(entries, [".htpasswd", "index.php"]);
        let mut entries = vec![];
        list_tree(base, "", &mut entries);
        entries.sort();
        assert_eq!(entries[..3], ["a/", "a/.hidden.txt", "a/_changes/"]);
    }
}
