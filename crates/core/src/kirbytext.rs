//! Kirbytext and Markdown, as Kirby's `kirbytext()` / `markdown()` field methods: a few Kirby tags (`(link: …)`, `(email: …)`, `(image: …)`,
//! `(file: …)`) turned into Markdown, then CommonMark via pulldown-cmark with Kirby's
//! defaults (line breaks kept, tables, strikethrough). Raw HTML is escaped unless the site
//! allows it, and link targets with a script scheme (`javascript:`, `data:`, …) are dropped.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};

/// How Markdown is rendered.
#[derive(Debug, Clone, Copy, Default)]
pub struct MdOptions {
    /// Pass raw HTML through (`folio.markdownHtml: true`); escaped otherwise.
    pub allow_html: bool,
}

/// Resolves what Kirby tags point at: a file of the current page, or a page id.
pub trait Resolver {
    /// The URL of a file of the current page, by filename.
    fn file_url(&self, filename: &str) -> Option<String>;
    /// The URL of a published page, by id.
    fn page_url(&self, id: &str) -> Option<String>;
}

/// A resolver that knows nothing (plain Markdown).
pub struct NoResolver;

impl Resolver for NoResolver {
    fn file_url(&self, _: &str) -> Option<String> {
        None
    }
    fn page_url(&self, _: &str) -> Option<String> {
        None
    }
}

/// Renders Markdown to HTML.
pub fn markdown(text: &str, opts: MdOptions) -> String {
    if text.len() < CACHED_FROM {
        return render_markdown(text, opts);
    }
    markdown_shared(text, opts).to_string()
}

/// Texts this long have their HTML cached.
const CACHED_FROM: usize = 256;

/// [`markdown`] without a copy of a long text's cached HTML.
pub fn markdown_shared(text: &str, opts: MdOptions) -> std::sync::Arc<str> {
    // Pure in (text, options), and asked again and again for the same fields (every KQL
    // `excerpt`, every listing): a bounded cache of long texts, keyed by a fast hash of
    // the text (the text itself is compared on a hit).
    use std::hash::BuildHasher;
    use std::sync::Arc;
    type Cache = std::sync::Mutex<std::collections::HashMap<(u64, bool), (String, Arc<str>)>>;
    static CACHE: std::sync::LazyLock<Cache> = std::sync::LazyLock::new(Default::default);
    static SEED: std::sync::LazyLock<foldhash::fast::RandomState> =
        std::sync::LazyLock::new(Default::default);
    if text.len() < CACHED_FROM {
        return render_markdown(text, opts).into();
    }
    let key = (SEED.hash_one(text), opts.allow_html);
    if let Ok(cache) = CACHE.lock()
        && let Some((src, html)) = cache.get(&key)
        && src == text
    {
        return html.clone();
    }
    let html: Arc<str> = render_markdown(text, opts).into();
    if let Ok(mut cache) = CACHE.lock() {
        if cache.len() >= 2048 {
            cache.clear();
        }
        cache.insert(key, (text.to_string(), html.clone()));
    }
    html
}

fn render_markdown(text: &str, opts: MdOptions) -> String {
    let parser = Parser::new_ext(text, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH);
    let events = parser.map(|ev| match ev {
        // Kirby's `markdown.breaks` (default on): a line break in the text is a <br>.
        Event::SoftBreak => Event::HardBreak,
        Event::Html(h) | Event::InlineHtml(h) if !opts.allow_html => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// Kirbytext: Kirby tags first, then Markdown (Kirby's order).
pub fn kirbytext(text: &str, opts: MdOptions, resolver: &dyn Resolver) -> String {
    markdown(&kirbytags(text, resolver), opts)
}

/// Whether a URL may appear in a link: relative URLs and http(s), mailto and tel only.
pub fn is_safe_url(url: &str) -> bool {
    // Browsers ignore ASCII whitespace and control characters inside a scheme.
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect();
    let Some(colon) = cleaned.find(':') else {
        return true;
    };
    let before = &cleaned[..colon];
    if before.contains(['/', '?', '#']) {
        return true; // the colon is in the path or query: a relative URL
    }
    matches!(
        before.to_ascii_lowercase().as_str(),
        "http" | "https" | "mailto" | "tel"
    )
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    if is_safe_url(&url) {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

/// The attributes each supported tag takes besides its main value.
fn tag_attrs(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "link" => &[
            "text", "title", "rel", "target", "class", "lang", "role", "popup",
        ],
        "email" => &["text", "title", "class", "rel"],
        "image" => &[
            "alt",
            "caption",
            "link",
            "title",
            "class",
            "width",
            "height",
            "imgclass",
            "linkclass",
            "target",
            "rel",
            "srcset",
        ],
        "file" => &["text", "title", "class", "download", "rel", "target"],
        _ => return None,
    })
}

/// Replaces the supported Kirby tags with Markdown; other parentheses stay as they are.
pub fn kirbytags(text: &str, resolver: &dyn Resolver) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let parsed = after
            .find(')')
            .and_then(|close| parse_tag(&after[..close]).map(|t| (t, close)));
        match parsed {
            Some((tag, close)) => {
                out.push_str(&tag_markdown(&tag, resolver));
                rest = &after[close + 1..];
            }
            None => {
                out.push('(');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

struct KirbyTag {
    name: String,
    value: String,
    attrs: Vec<(&'static str, String)>,
}

impl KirbyTag {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// Parses `name: value attr: value …` (the text between the parentheses).
fn parse_tag(inner: &str) -> Option<KirbyTag> {
    let (name, body) = inner.split_once(':')?;
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let known = tag_attrs(&name)?;
    // Find every ` attr:` of a known attribute, in order.
    let lower = body.to_ascii_lowercase();
    let mut marks: Vec<(usize, usize, &'static str)> = Vec::new();
    for attr in known {
        let needle = format!(" {attr}:");
        let mut from = 0;
        while let Some(pos) = lower[from..].find(&needle) {
            let start = from + pos;
            marks.push((start, start + needle.len(), attr));
            from = start + needle.len();
        }
    }
    marks.sort_by_key(|m| m.0);
    let mut cleaned: Vec<(usize, usize, &'static str)> = Vec::new();
    for m in marks {
        if cleaned.last().is_none_or(|last| m.0 >= last.1) {
            cleaned.push(m);
        }
    }
    let value_end = cleaned.first().map(|m| m.0).unwrap_or(body.len());
    let value = body[..value_end].trim().to_string();
    if value.is_empty() {
        return None;
    }
    let mut attrs = Vec::new();
    for (i, (_, value_start, attr)) in cleaned.iter().enumerate() {
        let end = cleaned.get(i + 1).map(|m| m.0).unwrap_or(body.len());
        attrs.push((*attr, body[*value_start..end].trim().to_string()));
    }
    Some(KirbyTag { name, value, attrs })
}

/// Escapes Markdown's special characters in link text.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A link destination in angle brackets (spaces allowed, `<>` and newlines dropped).
fn md_dest(url: &str) -> String {
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '<' | '>' | '\n' | '\r'))
        .collect();
    format!("<{cleaned}>")
}

fn md_title(title: Option<&str>) -> String {
    match title {
        Some(t) => format!(" \"{}\"", t.replace(['"', '\n', '\r'], "")),
        None => String::new(),
    }
}

fn resolve_link(target: &str, resolver: &dyn Resolver) -> String {
    let has_scheme = target
        .split_once(':')
        .is_some_and(|(s, _)| !s.contains(['/', '?', '#']));
    if has_scheme || target.starts_with(['/', '#', '?', '.']) {
        return target.to_string();
    }
    resolver
        .page_url(target.trim_end_matches('/'))
        .or_else(|| resolver.file_url(target))
        .unwrap_or_else(|| target.to_string())
}

fn tag_markdown(tag: &KirbyTag, resolver: &dyn Resolver) -> String {
    match tag.name.as_str() {
        "link" => {
            let url = resolve_link(&tag.value, resolver);
            let text = tag.attr("text").unwrap_or(&tag.value);
            format!(
                "[{}]({}{})",
                md_text(text),
                md_dest(&url),
                md_title(tag.attr("title"))
            )
        }
        "email" => {
            let addr = tag.value.trim_start_matches("mailto:");
            let text = tag.attr("text").unwrap_or(addr);
            format!(
                "[{}]({}{})",
                md_text(text),
                md_dest(&format!("mailto:{addr}")),
                md_title(tag.attr("title"))
            )
        }
        "image" => {
            let src = resolver
                .file_url(&tag.value)
                .unwrap_or_else(|| tag.value.clone());
            let alt = tag.attr("alt").unwrap_or("");
            let img = format!(
                "![{}]({}{})",
                md_text(alt),
                md_dest(&src),
                md_title(tag.attr("title"))
            );
            match tag.attr("link") {
                Some(link) => format!("[{img}]({})", md_dest(&resolve_link(link, resolver))),
                None => img,
            }
        }
        "file" => {
            let url = resolver
                .file_url(&tag.value)
                .unwrap_or_else(|| tag.value.clone());
            let text = tag.attr("text").unwrap_or(&tag.value);
            format!(
                "[{}]({}{})",
                md_text(text),
                md_dest(&url),
                md_title(tag.attr("title"))
            )
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R;
    impl Resolver for R {
        fn file_url(&self, f: &str) -> Option<String> {
            (f == "lamp.png").then(|| "http://x/media/pages/a/t-1/lamp.png".to_string())
        }
        fn page_url(&self, id: &str) -> Option<String> {
            (id == "blog").then(|| "http://x/blog".to_string())
        }
    }

    #[test]
    fn markdown_keeps_line_breaks_and_escapes_html() {
        let html = markdown("a\nb <script>x</script>", MdOptions::default());
        assert_eq!(html, "<p>a<br />\nb &lt;script&gt;x&lt;/script&gt;</p>\n");
        let html = markdown("<b>x</b>", MdOptions { allow_html: true });
        assert!(html.contains("<b>x</b>"));
    }

    #[test]
    fn script_links_are_dropped() {
        for src in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "<javascript:alert(1)>",
            "[x](<java\tscript:alert(1)>)",
            "[x](&#106;avascript:alert(1))",
            "![x](data:text/html,hi)",
        ] {
            let html = markdown(src, MdOptions::default()).to_lowercase();
            assert!(
                html.contains("href=\"#\"") || html.contains("src=\"#\""),
                "{src}: {html}"
            );
            assert!(!html.contains("=\"java"), "{src}: {html}");
            assert!(!html.contains("=\"data:"), "{src}: {html}");
        }
        let html = markdown("[ok](https://example.com/a:b)", MdOptions::default());
        assert!(html.contains("href=\"https://example.com/a:b\""));
        assert!(is_safe_url("/path:with-colon"));
        assert!(is_safe_url("mailto:a@b.c"));
        assert!(!is_safe_url("vbscript:x"));
    }

    #[test]
    fn kirbytags() {
        let html = kirbytext(
            "See (link: blog text: the blog) and (image: lamp.png alt: A lamp) or (email: a@b.c).",
            MdOptions::default(),
            &R,
        );
        assert!(
            html.contains("<a href=\"http://x/blog\">the blog</a>"),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"http://x/media/pages/a/t-1/lamp.png\" alt=\"A lamp\" />"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"mailto:a@b.c\">a@b.c</a>"),
            "{html}"
        );
        // Unknown tags and ordinary parentheses stay.
        let html = kirbytext("(video: x) (not a tag)", MdOptions::default(), &NoResolver);
        assert_eq!(html, "<p>(video: x) (not a tag)</p>\n");
        // A link tag cannot smuggle a script URL or HTML.
        let html = kirbytext(
            "(link: javascript:alert(1) text: <b>x</b>)",
            MdOptions::default(),
            &NoResolver,
        );
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }
}
