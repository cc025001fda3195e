//! The settings the server runs with: every Kirby and Folio option it reads, resolved once
//! from the layered configuration into typed values (invalid values are start-up errors, not
//! per-request surprises). `Debug` never prints secrets.

use anyhow::bail;
use std::net::IpAddr;
use std::time::Duration;

use super::config::Config;

/// An IP network (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, or the IPv6 forms.
    pub fn parse(s: &str) -> Option<Net> {
        let (ip, prefix) = match s.trim().split_once('/') {
            Some((ip, p)) => (ip.trim(), Some(p.trim().parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = ip.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Net { addr, prefix })
    }

    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }
}

/// Session lifetimes (`session.*`).
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// `session.durationNormal`.
    pub normal: i64,
    /// `session.durationLong`.
    pub long: i64,
    /// `session.timeout`.
    pub timeout: i64,
}

/// Login trial limits (`auth.trials`, `auth.timeout`).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// `auth.trials`.
    pub trials: i64,
    /// `auth.timeout` (seconds).
    pub timeout: i64,
}

/// Where sessions and trial counters live (`session.store`).
#[derive(Clone)]
pub enum SessionStore {
    /// `site/sessions/` and `site/accounts/.logins`.
    Files,
    /// A `redis://` or `rediss://` URL (may hold a password: never printed).
    Redis(String),
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionStore::Files => f.write_str("Files"),
            SessionStore::Redis(_) => f.write_str("Redis(<url>)"),
        }
    }
}

/// Connection-level limits of the listener (`folio.*`; docs/SECURITY.md).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// `folio.maxConnections` as configured (the listener lowers it below the fd limit).
    pub max_connections: usize,
    /// `folio.maxConnectionsPerIp`.
    pub max_connections_per_ip: usize,
    /// `folio.headerTimeout`.
    pub header_timeout: Duration,
    /// `folio.keepAliveTimeout`.
    pub keep_alive_timeout: Duration,
    /// `folio.sendTimeout`.
    pub send_timeout: Duration,
    /// `folio.shutdownTimeout`.
    pub shutdown_timeout: Duration,
    /// `folio.hsts`: the `Strict-Transport-Security` value over TLS (`None` = off).
    pub hsts: Option<String>,
}

/// Everything the server reads from the configuration, typed.
#[derive(Clone)]
pub struct Settings {
    /// `api.slug`: the API's path prefix.
    pub api_slug: String,
    /// `debug`.
    pub debug: bool,
    /// `url`: the site's fixed base URL (else taken from the request).
    pub url: Option<String>,
    /// `languages` (multi-language content).
    pub languages: bool,
    /// `panel.install`.
    pub panel_install: bool,
    /// `api.basicAuth` (strictly `true`).
    pub basic_auth: bool,
    /// `api.allowInsecure` (strictly `true`).
    pub allow_insecure: bool,
    /// `folio.static`: URL prefixes served from folders (relative to the site root), such
    /// as a headless front-end's build next to the API (beyond Kirby).
    pub static_dirs: Vec<(String, std::path::PathBuf)>,
    /// Whether `/api/query` (KQL) answers: `folio.kql` when set, else when the site has the
    /// KQL plugin (`site/plugins/kql`) or sets a `kql.*` option; otherwise it is Kirby's
    /// "no route" 404, as on a Kirby site without the plugin.
    pub kql_enabled: bool,
    /// `kql.auth`: `/api/query` needs a user unless this is exactly `false`.
    pub kql_auth: bool,
    /// `kql.methods.{allowed,blocked}` and `kql.classes.{allowed,blocked}`.
    pub kql: folio_core::query::kql::Policy,
    /// `api.csrf`: a fixed CSRF token (never printed).
    pub csrf_fixed: Option<String>,
    /// `panel.dev`: the CSRF token is `dev`.
    pub panel_dev: bool,
    /// `session.cookieName`.
    pub cookie_name: String,
    /// `cookie.key`: the session cookie's signature key (never printed).
    pub cookie_key: String,
    /// `session.cookieDomain`.
    pub cookie_domain: Option<String>,
    /// `session.*` lifetimes.
    pub lifetimes: Lifetimes,
    /// `session.gcInterval`: 1 in N requests sweeps expired sessions (0 = never).
    pub gc_interval: u64,
    /// `session.store`.
    pub session_store: SessionStore,
    /// `folio.secret`: the site secret shared by every node (never printed).
    pub secret: Option<String>,
    /// `auth.trials` / `auth.timeout`.
    pub limits: Limits,
    /// `folio.trustedProxies`.
    pub trusted_proxies: Vec<Net>,
    /// `folio.maxBodySize`.
    pub max_body: usize,
    /// `folio.bodyTimeout`.
    pub body_timeout: Duration,
    /// `folio.responseCache` (entries).
    pub response_cache_entries: usize,
    /// `folio.responseCacheBytes`.
    pub response_cache_bytes: usize,
    /// `folio.markdownHtml`: raw HTML in Markdown passes through.
    pub markdown_html: bool,
    /// The listener's limits.
    pub server: ServerSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "<redacted>");
        f.debug_struct("Settings")
            .field("api_slug", &self.api_slug)
            .field("debug", &self.debug)
            .field("url", &self.url)
            .field("languages", &self.languages)
            .field("panel_install", &self.panel_install)
            .field("basic_auth", &self.basic_auth)
            .field("allow_insecure", &self.allow_insecure)
            .field("kql_auth", &self.kql_auth)
            .field("csrf_fixed", &redacted(&self.csrf_fixed))
            .field("panel_dev", &self.panel_dev)
            .field("cookie_name", &self.cookie_name)
            .field("cookie_key", &"<redacted>")
            .field("cookie_domain", &self.cookie_domain)
            .field("lifetimes", &self.lifetimes)
            .field("gc_interval", &self.gc_interval)
            .field("session_store", &self.session_store)
            .field("secret", &redacted(&self.secret))
            .field("limits", &self.limits)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("max_body", &self.max_body)
            .field("body_timeout", &self.body_timeout)
            .field("response_cache_entries", &self.response_cache_entries)
            .field("response_cache_bytes", &self.response_cache_bytes)
            .field("markdown_html", &self.markdown_html)
            .field("server", &self.server)
            .finish()
    }
}

impl Settings {
    /// Resolves the settings from the effective configuration.
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let mut trusted_proxies = Vec::new();
        for p in config.list("folio.trustedProxies") {
            match Net::parse(&p) {
                Some(n) => trusted_proxies.push(n),
                None => bail!("folio.trustedProxies: `{p}` is not an IP address or CIDR range"),
            }
        }
        let store = config
            .string("session.store")
            .unwrap_or_else(|| "file".into());
        let session_store = if store.starts_with("redis://") || store.starts_with("rediss://") {
            SessionStore::Redis(store)
        } else if store == "file" {
            SessionStore::Files
        } else {
            bail!("session.store must be `file` or a redis:// URL, got `{store}`");
        };
        let hsts = match config.string("folio.hsts") {
            Some(v) if !v.trim().is_empty() => Some(v.trim().to_string()),
            _ if config.is_false("folio.hsts") => None,
            _ => Some("max-age=31536000".to_string()),
        };
        let mut static_dirs = Vec::new();
        for (prefix, dir) in config.strings_below("folio.static") {
            let p = format!("/{}", prefix.trim_matches('/'));
            let reserved = ["/", "/api", "/media", "/assets", "/panel"];
            if reserved.contains(&p.as_str()) || p.contains("..") || p.contains('{') {
                bail!("folio.static: `{prefix}` cannot be served from a folder");
            }
            static_dirs.push((p, std::path::PathBuf::from(dir)));
        }
        let count =
            |key: &str, default: i64| usize::try_from(config.int(key, default)).unwrap_or(0);
        Ok(Settings {
            api_slug: config
                .string("api.slug")
                .map(|s| s.trim_matches('/').to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "api".into()),
            debug: config.is_true("debug"),
            url: config
                .string("url")
                .filter(|u| !u.is_empty())
                .map(|u| u.trim_end_matches('/').to_string()),
            languages: config.truthy("languages"),
            panel_install: config.is_true("panel.install"),
            basic_auth: config.is_true("api.basicAuth"),
            allow_insecure: config.is_true("api.allowInsecure"),
            static_dirs,
            kql_enabled: if config.is_true("folio.kql") || config.is_false("folio.kql") {
                config.is_true("folio.kql")
            } else {
                // (the app adds the plugin folder, which needs the root)
                config.has_below("kql")
            },
            kql_auth: !config.is_false("kql.auth"),
            kql: folio_core::query::kql::Policy::new(
                &config.list("kql.methods.allowed"),
                &config.list("kql.methods.blocked"),
                &config.list("kql.classes.allowed"),
                &config.list("kql.classes.blocked"),
            ),
            csrf_fixed: config.string("api.csrf").filter(|s| !s.is_empty()),
            panel_dev: config.truthy("panel.dev"),
            cookie_name: config
                .string("session.cookieName")
                .unwrap_or_else(|| "kirby_session".into()),
            cookie_key: config
                .string("cookie.key")
                .unwrap_or_else(|| "KirbyHttpCookieKey".into()),
            cookie_domain: config.string("session.cookieDomain"),
            lifetimes: Lifetimes {
                normal: config.int("session.durationNormal", 7200),
                long: config.int("session.durationLong", 1_209_600),
                timeout: config.int("session.timeout", 1800),
            },
            gc_interval: u64::try_from(config.int("session.gcInterval", 100)).unwrap_or(0),
            session_store,
            secret: config.string("folio.secret").filter(|s| !s.is_empty()),
            limits: Limits {
                trials: config.int("auth.trials", 10),
                timeout: config.int("auth.timeout", 3600),
            },
            trusted_proxies,
            max_body: count("folio.maxBodySize", 16 * 1024 * 1024).max(1024),
            body_timeout: config.seconds("folio.bodyTimeout", 60.0),
            response_cache_entries: count("folio.responseCache", 20_000),
            response_cache_bytes: count("folio.responseCacheBytes", 64 * 1024 * 1024),
            markdown_html: config.is_true("folio.markdownHtml"),
            server: ServerSettings {
                max_connections: count("folio.maxConnections", 10_000).max(1),
                max_connections_per_ip: count("folio.maxConnectionsPerIp", 256).max(1),
                header_timeout: config.seconds("folio.headerTimeout", 15.0),
                keep_alive_timeout: config.seconds("folio.keepAliveTimeout", 5.0),
                send_timeout: config.seconds("folio.sendTimeout", 30.0),
                shutdown_timeout: config.seconds("folio.shutdownTimeout", 10.0),
                hsts,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nets() {
        let n = Net::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(
            n.contains("::ffff:10.0.0.1".parse().unwrap()),
            "IPv4-mapped"
        );
        assert!(Net::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_none());
        assert!(Net::parse("nope").is_none());
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut config = Config::default();
        config.set("cookie.key", serde_json::json!("hunter2"));
        config.set("api.csrf", serde_json::json!("fixed-token"));
        config.set("folio.secret", serde_json::json!("s3cret"));
        config.set(
            "session.store",
            serde_json::json!("redis://:pw@127.0.0.1/0"),
        );
        let s = Settings::from_config(&config).unwrap();
        let printed = format!("{s:?}");
        for secret in ["hunter2", "fixed-token", "s3cret", ":pw@"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert_eq!(s.api_slug, "api");
    }

    #[test]
    fn bad_values_are_errors() {
        let mut config = Config::default();
        config.set("folio.trustedProxies", serde_json::json!(["10.0.0.0/99"]));
        assert!(Settings::from_config(&config).is_err());
        let mut config = Config::default();
        config.set("session.store", serde_json::json!("memcached://x"));
        assert!(Settings::from_config(&config).is_err());
    }
}
