//! YAML as Kirby uses it: a lenient, Spyc-like reader for blueprints and structure fields,
//! and a Spyc-style writer for structure fields (CONTENT.md §3.3, PERMISSIONS.md §2.3).
//!
//! Reading goes through serde-saphyr into a `serde_json::Value` (key order kept). Before
//! parsing, the text is adjusted where Kirby's Spyc parser is more lenient than YAML or
//! reads it differently:
//! * an unquoted `*` key (`*: false`) is read as the key `"*"`;
//! * a literal or folded block without a chomping indicator (`|`, `>`) loses its trailing
//!   line breaks, as Spyc trims them (so `|` is read like `|-`);
//! * only if strict parsing fails: tab indentation is expanded (tab stops of 4), and a plain
//!   value that contains `: ` or ends in `:` (`label: Note: x`) is read as one string.
//!
//! YAML 1.1 booleans (`yes`, `no`, `on`, `off`, `y`, `n`, any case) become JSON booleans,
//! as in Spyc. Duplicate keys keep the last value. Anchors and aliases are expanded within
//! budgets, so alias bombs fail with an error.
//!
//! Kirby's `yaml.handler: symfony` switches both directions to symfony/yaml ([`Handler`]):
//! the writer in `yaml/symfony.rs`, and a reader without the Spyc readings (a `|` block
//! keeps its last line break, `yes`/`no`/`on`/`off` stay strings).

use serde_json::{Map, Value};
use serde_saphyr::options::AliasLimits;
use serde_saphyr::{DuplicateKeyPolicy, NonFiniteFloatPolicy};

mod symfony;

/// The YAML library Kirby is configured with (`yaml.handler`, and `yaml.params` for
/// symfony/yaml's dumper). It decides how structure, object and list fields are written,
/// and how every YAML text (content and blueprints) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handler {
    /// Kirby's default, Spyc.
    #[default]
    Spyc,
    /// symfony/yaml: block style down to `inline` levels (`yaml.params.inline`, 9999),
    /// `indent` spaces per level (`yaml.params.indent`, 2).
    Symfony {
        /// The level from which collections are written in flow style.
        inline: usize,
        /// Spaces per indentation level (at least 1).
        indent: usize,
    },
}

impl Handler {
    /// symfony/yaml with Kirby's parameters.
    pub const SYMFONY: Handler = Handler::Symfony {
        inline: 9999,
        indent: 2,
    };

    /// The handler for Kirby's options: `yaml.handler` (`symfony`, anything else is Spyc),
    /// `yaml.params.inline` and `yaml.params.indent`.
    pub fn from_options(handler: Option<&str>, inline: Option<i64>, indent: Option<i64>) -> Self {
        if handler != Some("symfony") {
            return Handler::Spyc;
        }
        Handler::Symfony {
            inline: inline.map_or(9999, |n| usize::try_from(n).unwrap_or(0)),
            indent: indent.map_or(2, |n| usize::try_from(n).unwrap_or(1).max(1)),
        }
    }

    /// Writes a value as this handler's dumper does. Spyc: see [`dump`]. Symfony: the
    /// dumper's text, which for a list or map usually ends with a newline (Kirby's `.txt`
    /// writer trims it), and `[]` for an empty collection.
    pub fn dump(self, value: &Value) -> String {
        match self {
            Handler::Spyc => dump(value),
            Handler::Symfony { inline, indent } => symfony::dump(value, inline, indent),
        }
    }

    /// Reads a YAML text as this handler's parser does. Spyc: see [`parse`]. Symfony: the
    /// same reader with YAML 1.2 booleans and a literal block's indicators as written.
    pub fn parse(self, src: &str) -> Result<Value, YamlError> {
        match self {
            Handler::Spyc => parse(src),
            Handler::Symfony { .. } => parse_as(src, Dialect::Symfony),
        }
    }
}

/// Which parser's readings `parse_as` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Spyc,
    Symfony,
}

/// Characters YAML does not allow raw in a document (besides its BOM at the start).
fn unprintable(c: char) -> bool {
    matches!(c, '\0'..='\x08' | '\x0B' | '\x0C' | '\x0E'..='\x1F' | '\x7F' | '\u{80}'..='\u{84}' | '\u{86}'..='\u{9F}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
}

/// First of the private-use code points that stand in for unprintable characters.
const SHIELD: u32 = 0xF_0000;

fn shield(c: char) -> char {
    if !unprintable(c) {
        return c;
    }
    let code = match c as u32 {
        n @ 0..=0xFF => n,
        0xFEFF => 0x100,
        n => 0x101 + (n - 0xFFFE),
    };
    char::from_u32(SHIELD + code).unwrap_or(c)
}

fn unshield(c: char) -> char {
    let code = match (c as u32).checked_sub(SHIELD) {
        Some(n @ 0..=0xFF) => n,
        Some(0x100) => 0xFEFF,
        Some(n @ 0x101..=0x102) => 0xFFFE + (n - 0x101),
        _ => return c,
    };
    char::from_u32(code).unwrap_or(c)
}

fn unshield_value(value: &mut Value) {
    let restore = |s: &str| s.chars().map(unshield).collect::<String>();
    match value {
        Value::String(s) => *s = restore(s),
        Value::Array(items) => items.iter_mut().for_each(unshield_value),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                unshield_value(&mut v);
                map.insert(restore(&k), v);
            }
        }
        _ => {}
    }
}

/// Maximum number of events that aliases may replay in one document.
const MAX_REPLAYED_EVENTS: usize = 100_000;

/// Indentation step of the writer.
const INDENT: usize = 2;

/// A YAML document that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid YAML{}: {message}", location(*.line, *.column))]
pub struct YamlError {
    /// What went wrong.
    pub message: String,
    /// 1-based line of the problem, when known.
    pub line: Option<u64>,
    /// 1-based column of the problem, when known.
    pub column: Option<u64>,
}

fn location(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}

/// Parses a YAML document leniently (see the module docs). An empty document, or one with
/// only comments, is `Value::Null`.
pub fn parse(src: &str) -> Result<Value, YamlError> {
    parse_as(src, Dialect::Spyc)
}

fn parse_as(src: &str, dialect: Dialect) -> Result<Value, YamlError> {
    let src = src.strip_prefix('\u{FEFF}').unwrap_or(src);
    if dialect == Dialect::Symfony
        && src.chars().any(unprintable)
        && !src.chars().any(|c| unshield(c) != c)
    {
        // symfony/yaml reads control characters (which its dumper writes raw into literal
        // blocks) and a BOM anywhere; the YAML parser refuses them. They are read as
        // private-use stand-ins and put back.
        let shielded: String = src.chars().map(shield).collect();
        let mut value = parse_as(&shielded, dialect)?;
        unshield_value(&mut value);
        return Ok(value);
    }
    let first = parse_strict(&preprocess(src, false, dialect), dialect);
    let Err(error) = first else {
        return first;
    };
    let lenient = preprocess(&expand_tabs(src), true, dialect);
    // Report the first error: it refers to the text as written.
    parse_strict(&lenient, dialect).map_err(|_| error)
}

fn parse_strict(src: &str, dialect: Dialect) -> Result<Value, YamlError> {
    let mut alias_limits = AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::LastWins,
        non_finite_float_policy: NonFiniteFloatPolicy::AsString,
        alias_limits: alias_limits,
        with_snippet: false,
        // Lets `null:` / `~:` be keys, as in Spyc; null values stay null.
        null_as_string: true,
        strict_booleans: dialect == Dialect::Symfony,
    };
    serde_saphyr::from_str_with_options::<Value>(src, options).map_err(|error| {
        let location = error.location();
        let message = error.to_string();
        // The message may start with its own "line L column C: " prefix; keep only the text.
        let message = match message.split_once(": ") {
            Some((prefix, rest)) if prefix.contains("line ") => rest.to_owned(),
            _ => message,
        };
        let message = message.trim_start_matches("error: ").trim();
        // Drop a repeated " at line L, column C" suffix: the location has its own fields.
        let message = match message.rsplit_once(" at line ") {
            Some((text, place))
                if place
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b", column".contains(&b)) =>
            {
                text
            }
            _ => message,
        };
        YamlError {
            message: message.to_owned(),
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
        }
    })
}

// ---------------------------------------------------------------------------------------
// Reader leniency
// ---------------------------------------------------------------------------------------

/// Rewrites the Spyc leniencies line by line; the number of lines never changes, so error
/// positions stay valid. Lines inside block scalars are left alone.
///
/// symfony/yaml reads two things differently, so the Symfony dialect also rewrites them: a
/// block's leading lines of only spaces are empty lines (even when longer than the block's
/// indentation), and a block at the very end of a document without a final line break
/// ends without one, whatever its chomping indicator (Kirby's `.txt` writer trims it).
fn preprocess(src: &str, lenient: bool, dialect: Dialect) -> String {
    /// An open block scalar.
    struct Block {
        /// Column of the node that owns it (-1: the document itself).
        parent: isize,
        /// Offset of its `|` or `>` in the output.
        header: usize,
        /// Whether the header gives the indentation (`|2`).
        explicit: bool,
        /// Whether a line with more than spaces was seen.
        content: bool,
    }
    let symfony = dialect == Dialect::Symfony;
    let mut out = String::with_capacity(src.len() + 16);
    let mut block: Option<Block> = None;
    for line in src.split_inclusive('\n') {
        let (content, eol) = split_eol(line);
        if let Some(open) = &mut block {
            let indent = content.len() - content.trim_start_matches(' ').len();
            if content.trim().is_empty() || indent as isize > open.parent {
                let spaces = content.bytes().all(|b| b == b' ');
                if symfony && spaces && !open.explicit && !open.content {
                    out.push_str(eol);
                } else {
                    open.content |= !spaces;
                    out.push_str(line);
                }
                continue;
            }
        }
        let (rewritten, header) = rewrite_line(content, lenient, dialect);
        let start = out.len();
        out.push_str(&rewritten);
        out.push_str(eol);
        block = header.map(|(parent, at)| Block {
            parent,
            header: start + at,
            explicit: rewritten.as_bytes()[at + 1..]
                .iter()
                .take(2)
                .any(|b| matches!(b, b'1'..=b'9')),
            content: false,
        });
    }
    if let Some(open) = block.filter(|_| symfony && !src.ends_with('\n')) {
        let indicators = &out.as_bytes()[open.header + 1..];
        match indicators
            .iter()
            .take(2)
            .position(|b| matches!(b, b'+' | b'-'))
        {
            Some(k) if indicators[k] == b'+' => {
                out.replace_range(open.header + 1 + k..open.header + 2 + k, "-");
            }
            Some(_) => {}
            None => out.insert(open.header + 1, '-'),
        }
    }
    out
}

fn split_eol(line: &str) -> (&str, &str) {
    if let Some(content) = line.strip_suffix("\r\n") {
        (content, "\r\n")
    } else if let Some(content) = line.strip_suffix('\n') {
        (content, "\n")
    } else {
        (line, "")
    }
}

/// Rewrites one line outside block scalars. Returns the new line and, if the line opens a
/// block scalar, the column of the node that owns it and the offset of its header.
fn rewrite_line(line: &str, lenient: bool, dialect: Dialect) -> (String, Option<(isize, usize)>) {
    let bytes = line.as_bytes();
    let mut i = line.len() - line.trim_start_matches(' ').len();
    let mut dash_col: Option<usize> = None;
    // Sequence entries: `- `, possibly nested (`- - a`).
    while i < bytes.len()
        && bytes[i] == b'-'
        && (i + 1 == bytes.len() || matches!(bytes[i + 1], b' ' | b'\t'))
    {
        dash_col = Some(i);
        i += 1;
        while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
    }
    let rest = &line[i..];
    if rest.is_empty() || rest.starts_with('#') {
        return (line.to_owned(), None);
    }
    if let Some(chomped) = block_header(rest, dialect) {
        let parent = dash_col.map_or(-1, |c| c as isize);
        return (format!("{}{chomped}", &line[..i]), Some((parent, i)));
    }
    let Some(colon) = key_end(rest) else {
        if dialect == Dialect::Symfony
            && let Some(quoted) = quote_binary_int(rest)
        {
            return (format!("{}{quoted}", &line[..i]), None);
        }
        return (line.to_owned(), None);
    };
    let key = &rest[..colon];
    let key = if key.trim_end() == "*" { "\"*\"" } else { key };
    let after = &rest[colon + 1..];
    let value = after.trim_start_matches([' ', '\t']);
    let gap = &after[..after.len() - value.len()];
    let prefix = format!("{}{key}:{gap}", &line[..i]);
    if let Some(chomped) = block_header(value, dialect) {
        return (
            format!("{prefix}{chomped}"),
            Some((i as isize, prefix.len())),
        );
    }
    if dialect == Dialect::Symfony
        && let Some(quoted) = quote_binary_int(value)
    {
        return (format!("{prefix}{quoted}"), None);
    }
    if lenient && let Some(quoted) = quote_colon_value(value) {
        return (format!("{prefix}{quoted}"), None);
    }
    (format!("{prefix}{value}"), None)
}

/// Position of the `:` that ends a block mapping key at the start of `text`.
fn key_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let is_indicator = |j: usize| {
        bytes[j] == b':' && (j + 1 == bytes.len() || matches!(bytes[j + 1], b' ' | b'\t'))
    };
    match bytes.first()? {
        quote @ (b'"' | b'\'') => {
            let mut j = 1;
            while j < bytes.len() {
                if bytes[j] == b'\\' && *quote == b'"' {
                    j += 2;
                    continue;
                }
                if bytes[j] == *quote {
                    if *quote == b'\'' && bytes.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            let mut j = j + 1;
            while j < bytes.len() && matches!(bytes[j], b' ' | b'\t') {
                j += 1;
            }
            (j < bytes.len() && is_indicator(j)).then_some(j)
        }
        // `?` is the explicit-key indicator only before whitespace; `?x` is a plain key,
        // and the writer leaves such keys unquoted.
        b'?' if bytes.get(1).is_none_or(|b| matches!(b, b' ' | b'\t')) => None,
        b'[' | b'{' | b'|' | b'>' | b'&' | b'!' | b'%' | b'@' | b'`' => None,
        _ => (0..bytes.len())
            .take_while(|&j| !(bytes[j] == b'#' && j > 0 && matches!(bytes[j - 1], b' ' | b'\t')))
            .find(|&j| is_indicator(j)),
    }
}

/// If `value` is a block scalar header, returns it with a strip chomping indicator when it
/// had none (Spyc trims trailing line breaks of literal blocks; symfony/yaml does not).
fn block_header(value: &str, dialect: Dialect) -> Option<String> {
    let bytes = value.as_bytes();
    let indicator = *bytes.first()?;
    if indicator != b'|' && indicator != b'>' {
        return None;
    }
    let mut j = 1;
    let mut chomping = false;
    while j < bytes.len() && j <= 2 {
        match bytes[j] {
            b'+' | b'-' if !chomping => chomping = true,
            b'1'..=b'9' => {}
            _ => break,
        }
        j += 1;
    }
    let tail = &value[j..];
    let trimmed = tail.trim_start_matches([' ', '\t']);
    if !(trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < tail.len())) {
        return None;
    }
    Some(if chomping || dialect == Dialect::Symfony {
        value.to_owned()
    } else {
        format!("{}-{}", &value[..1], &value[1..])
    })
}

/// Spyc reads everything after `key: ` as the value; strict YAML rejects a plain value that
/// itself contains `: ` or ends in `:`. Quote such a value (keeping a trailing comment).
fn quote_colon_value(value: &str) -> Option<String> {
    let first = value.chars().next()?;
    if "\"'[{|>&!*%@`#".contains(first) || value.starts_with("- ") {
        return None;
    }
    let bytes = value.as_bytes();
    let comment =
        (1..bytes.len()).find(|&j| bytes[j] == b'#' && matches!(bytes[j - 1], b' ' | b'\t'));
    let (text, comment) = match comment {
        Some(j) => (&value[..j], &value[j..]),
        None => (value, ""),
    };
    let text = text.trim_end();
    if !(text.contains(": ") || text.contains(":\t") || text.ends_with(':')) {
        return None;
    }
    let quoted = format!("'{}'", text.replace('\'', "''"));
    Some(if comment.is_empty() {
        quoted
    } else {
        format!("{quoted} {comment}")
    })
}

/// symfony/yaml reads a plain `0b101` as a string (YAML 1.2 has no binary integers; its
/// dumper leaves such strings unquoted), so the Symfony dialect quotes it.
fn quote_binary_int(value: &str) -> Option<String> {
    let text = value.trim_end_matches([' ', '\t']);
    let digits = text
        .strip_prefix(['+', '-'])
        .unwrap_or(text)
        .strip_prefix("0b")?;
    (!digits.is_empty() && digits.bytes().all(|b| matches!(b, b'0' | b'1' | b'_')))
        .then(|| format!("'{text}'"))
}

/// Expands tabs in leading indentation to spaces (tab stops of 4).
fn expand_tabs(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    for line in src.split_inclusive('\n') {
        let body = line.trim_start_matches([' ', '\t']);
        let lead = &line[..line.len() - body.len()];
        let mut column = 0;
        for c in lead.chars() {
            column = if c == '\t' {
                (column / 4 + 1) * 4
            } else {
                column + 1
            };
        }
        out.extend(std::iter::repeat_n(' ', column));
        out.push_str(body);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Writes a value as YAML in the style of Kirby's Spyc dumper (CONTENT.md §3.3).
///
/// The output ends with a newline. An empty top-level list or map gives an empty string,
/// which is how Kirby stores an empty structure field.
pub fn dump(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Array(items) if items.is_empty() => {}
        Value::Object(map) if map.is_empty() => {}
        Value::Array(items) => dump_list(&mut out, items, 0),
        Value::Object(map) => dump_map(&mut out, map, 0),
        scalar => {
            // A literal block is indented even here: at column 0 a `---` or `...` line in it
            // would read as a document marker.
            out.push_str(&scalar_text(scalar, INDENT));
            out.push('\n');
        }
    }
    out
}

fn dump_list(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        push_spaces(out, indent);
        out.push('-');
        dump_child(out, item, indent);
    }
}

fn dump_map(out: &mut String, map: &Map<String, Value>, indent: usize) {
    for (key, value) in map {
        push_spaces(out, indent);
        out.push_str(&key_text(key));
        out.push(':');
        dump_child(out, value, indent);
    }
}

/// Writes what follows `-` or `key:`: a nested collection on the next lines, or a scalar.
fn dump_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Array(items) if !items.is_empty() => {
            // Spyc writes "- " (with the space) before a nested collection, but "key:".
            if out.ends_with('-') {
                out.push(' ');
            }
            out.push('\n');
            dump_list(out, items, indent + INDENT);
        }
        Value::Object(map) if !map.is_empty() => {
            if out.ends_with('-') {
                out.push(' ');
            }
            out.push('\n');
            dump_map(out, map, indent + INDENT);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar, indent + INDENT));
            out.push('\n');
        }
    }
}

fn push_spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// The text of a scalar (or an empty collection). `indent` is the indentation of the
/// lines of a literal block.
fn scalar_text(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s, indent),
        // Spyc writes every empty array (PHP has no empty map) as `[ ]`.
        Value::Array(_) | Value::Object(_) => "[ ]".to_owned(),
    }
}

fn key_text(key: &str) -> String {
    // Keys keep their spelling when read (`yes`, `1.5`, `null` stay strings), so only
    // syntax needs quoting, and integers the duplicate-key check would merge.
    if key.is_empty() {
        "\"\"".to_owned()
    } else if key == "<<" || key.contains('\n') || needs_quotes(key) || int_in_other_spelling(key) {
        quoted(key)
    } else {
        key.to_owned()
    }
}

/// An integer spelled other than in plain decimal (`+1`, `-0`, `0x1F`, `0o17`, `0b1`,
/// `1_000`, `007`). The reader's duplicate-key check compares plain keys by their integer
/// value, so `+1` next to `1` (or `0x1` next to `0b1`) in one map would collapse into one
/// key; quoted, such a key is compared by its text.
fn int_in_other_spelling(key: &str) -> bool {
    let unsigned = key.strip_prefix(['+', '-']).unwrap_or(key);
    let lower = unsigned.to_ascii_lowercase();
    let digits =
        |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c == '_' || c.is_digit(radix));
    let is_int = match lower.get(..2) {
        Some("0x") => digits(&lower[2..], 16),
        Some("0o") => digits(&lower[2..], 8),
        Some("0b") => digits(&lower[2..], 2),
        _ => digits(&lower, 10) && lower.starts_with(|c: char| c.is_ascii_digit()),
    };
    let plain_decimal = key == "0"
        || key
            .strip_prefix('-')
            .unwrap_or(key)
            .strip_prefix(['1', '2', '3', '4', '5', '6', '7', '8', '9'])
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit()));
    is_int && !plain_decimal
}

fn string_text(s: &str, indent: usize) -> String {
    if s.is_empty() {
        return "\"\"".to_owned();
    }
    if s.contains('\n') {
        return if literal_block_ok(s) {
            literal_block(s, indent)
        } else {
            double_quoted(s)
        };
    }
    if resolves_to_non_string(s) || is_php_numeric(s) {
        // Only ASCII letters, digits, signs, dots and `~`: safe inside double quotes.
        return format!("\"{s}\"");
    }
    if needs_quotes(s) {
        quoted(s)
    } else {
        s.to_owned()
    }
}

/// Quotes a single-line string: single quotes, or double quotes for a string with `'`
/// (as Spyc does), or escaped double quotes when it holds control characters.
fn quoted(s: &str) -> String {
    if s.chars().any(needs_escape) || s.contains('\n') {
        double_quoted(s)
    } else if s.contains('\'') && !s.contains('"') && !s.contains('\\') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if needs_escape(c) => {
                let code = c as u32;
                if code <= 0xFF {
                    out.push_str(&format!("\\x{code:02X}"));
                } else {
                    out.push_str(&format!("\\u{code:04X}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters that cannot appear raw in a plain, single-quoted or literal scalar.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t' && c != '\n') || matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// Whether a plain scalar would not read back as this string: the characters Spyc
/// quotes anywhere (`: `, `#`, brackets, braces, `&`, `'`, `*`, `%`, `<`, `>`, double
/// spaces, `- `, a trailing `:`), YAML indicators at the start, surrounding whitespace and
/// control characters.
fn needs_quotes(s: &str) -> bool {
    const ANYWHERE: &[char] = &['#', '[', ']', '{', '}', '&', '\'', '*', '%', '<', '>'];
    const AT_START: &[char] = &['|', '!', '"', '@', '`', ','];
    let Some(first) = s.chars().next() else {
        return true;
    };
    let indicator_then_space =
        matches!(first, '?' | ':' | '-') && (s.len() == 1 || s[1..].starts_with([' ', '\t']));
    s.contains(ANYWHERE)
        || s.contains(": ")
        || s.contains(":\t")
        || s.ends_with(':')
        || s.contains("  ")
        || s.contains("- ")
        || s.starts_with(AT_START)
        || indicator_then_space
        || s.starts_with([' ', '\t'])
        || s.ends_with([' ', '\t'])
        || s.starts_with("---")
        || s.starts_with("...")
        || s.chars().any(needs_escape)
}

/// Strings that YAML (1.1 booleans included) would read as null, a boolean or a number.
fn resolves_to_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) {
        return true;
    }
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    if matches!(unsigned, ".inf" | ".nan") {
        return true;
    }
    let digits =
        |t: &str, radix: u32| !t.is_empty() && t.chars().all(|c| c == '_' || c.is_digit(radix));
    if let Some(rest) = unsigned.strip_prefix("0x") {
        return digits(rest, 16);
    }
    if let Some(rest) = unsigned.strip_prefix("0o") {
        return digits(rest, 8);
    }
    if let Some(rest) = unsigned.strip_prefix("0b") {
        return digits(rest, 2);
    }
    // Decimal integers and floats, with optional `_` separators and exponent.
    let (mantissa, exponent) = match unsigned.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (unsigned, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() || digits(int, 10))
                && (frac.is_empty() || digits(frac, 10))
                && !(int.is_empty() && frac.is_empty())
        }
        None => digits(mantissa, 10),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e), 10));
    mantissa_ok && exponent_ok && mantissa.starts_with(|c: char| c.is_ascii_digit() || c == '.')
}

/// PHP's `is_numeric` (without surrounding whitespace, which is quoted anyway).
fn is_php_numeric(s: &str) -> bool {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (&unsigned[..i], Some(&unsigned[i + 1..])),
        None => (unsigned, None),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            all_digits(int) && all_digits(frac) && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && all_digits(e)
    });
    mantissa_ok && exponent_ok
}

/// A multi-line string can be a literal block when it reads back unchanged: no control
/// characters, no trailing line break (the reader strips them, like Spyc), and a first
/// non-empty line that does not start with whitespace (it sets the block's indentation).
fn literal_block_ok(s: &str) -> bool {
    !s.chars().any(needs_escape)
        && !s.ends_with('\n')
        && s.split('\n')
            .find(|line| !line.is_empty())
            .is_some_and(|line| !line.starts_with([' ', '\t']))
}

fn literal_block(s: &str, indent: usize) -> String {
    let mut out = String::from("|");
    for line in s.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            push_spaces(&mut out, indent);
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::{Path, PathBuf};

    #[test]
    fn spec_links_example_byte_for_byte() {
        let value = json!([
            {"label": "Kirby: CMS", "url": "https://getkirby.com"},
            {"label": "Multi\nline", "url": ""}
        ]);
        let expected = "- \n  label: 'Kirby: CMS'\n  url: https://getkirby.com\n- \n  label: |\n    Multi\n    line\n  url: \"\"\n";
        assert_eq!(dump(&value), expected);
        assert_eq!(parse(expected).unwrap(), value);
    }

    #[test]
    fn social_example() {
        let value = json!([{"platform": "github", "handle": "saltmarsh"}]);
        let text = dump(&value);
        assert_eq!(text, "- \n  platform: github\n  handle: saltmarsh\n");
        assert_eq!(parse(&text).unwrap(), value);
    }

    #[test]
    fn dump_scalars_and_nesting() {
        let value = json!({
            "null": null,
            "yes": true,
            "no": false,
            "int": 42,
            "float": 2.5,
            "numeric": "42",
            "float string": "-1.5e3",
            "bool string": "yes",
            "null string": "null",
            "date": "2024-05-02",
            "empty list": [],
            "empty map": {},
            "tags": ["a", "b"],
            "nested": {"deep": {"x": "z"}},
            "lists": [["a"], []],
        });
        let text = dump(&value);
        assert_eq!(
            text,
            "null: null\nyes: true\nno: false\nint: 42\nfloat: 2.5\nnumeric: \"42\"\n\
             float string: \"-1.5e3\"\nbool string: \"yes\"\nnull string: \"null\"\n\
             date: 2024-05-02\nempty list: [ ]\nempty map: [ ]\ntags:\n  - a\n  - b\n\
             nested:\n  deep:\n    x: z\nlists:\n  - \n    - a\n  - [ ]\n"
        );
        // An empty map reads back as the empty list it was written as (PHP: one `[]`).
        let mut expected = value.clone();
        expected["empty map"] = json!([]);
        assert_eq!(parse(&text).unwrap(), expected);
    }

    #[test]
    fn dump_quoting_rules() {
        let cases = [
            ("plain text", "plain text"),
            ("Kirby: CMS", "'Kirby: CMS'"),
            ("it's", "\"it's\""),
            ("it's \"x\"", "'it''s \"x\"'"),
            ("#hash", "'#hash'"),
            ("a # b", "'a # b'"),
            ("[x]", "'[x]'"),
            ("{x}", "'{x}'"),
            ("a & b", "'a & b'"),
            ("*star", "'*star'"),
            ("100%", "'100%'"),
            ("<p>", "'<p>'"),
            ("two  spaces", "'two  spaces'"),
            ("- item", "'- item'"),
            ("ends:", "'ends:'"),
            ("@handle", "'@handle'"),
            ("https://x.org/a?b=c", "https://x.org/a?b=c"),
            ("page://abc", "page://abc"),
            ("1/3", "1/3"),
            ("", "\"\""),
            ("007", "\"007\""),
            ("0x1F", "\"0x1F\""),
            ("1_000", "\"1_000\""),
            (".5", "\".5\""),
            ("On", "\"On\""),
            ("~", "\"~\""),
            (" lead", "' lead'"),
            ("tab\there", "tab\there"),
            ("bell\u{7}", "\"bell\\x07\""),
        ];
        for (input, expected) in cases {
            assert_eq!(
                dump(&json!({ "k": input })),
                format!("k: {expected}\n"),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn dump_multiline_strings() {
        assert_eq!(dump(&json!({"k": "a\n\nb"})), "k: |\n  a\n\n  b\n");
        assert_eq!(dump(&json!(["a\nb"])), "- |\n  a\n  b\n");
        // Not representable as a literal block that reads back unchanged.
        assert_eq!(dump(&json!({"k": "a\n"})), "k: \"a\\n\"\n");
        assert_eq!(dump(&json!({"k": "  a\nb"})), "k: \"  a\\nb\"\n");
        assert_eq!(dump(&json!({"k": "a\r\nb"})), "k: \"a\\r\\nb\"\n");
    }

    #[test]
    fn dump_keys() {
        let value = json!({"a: b": 1, "": 2, "#": 3, "<<": 4, "1": 5, "yes": 6});
        assert_eq!(
            dump(&json!({"null": 1, "~": 2, "1.5": 3, "y": "y"})),
            "null: 1\n~: 2\n1.5: 3\ny: \"y\"\n"
        );
        assert_eq!(
            parse("null: 1\n~: 2\n1.5: 3\ny: \"y\"\nz: ~\n").unwrap(),
            json!({"null": 1, "~": 2, "1.5": 3, "y": "y", "z": null})
        );
        let text = dump(&value);
        assert_eq!(text, "'a: b': 1\n\"\": 2\n'#': 3\n'<<': 4\n1: 5\nyes: 6\n");
        assert_eq!(parse(&text).unwrap(), value);
    }

    #[test]
    fn dump_empty_and_top_level_scalars() {
        assert_eq!(dump(&json!([])), "");
        assert_eq!(dump(&json!({})), "");
        assert_eq!(dump(&json!("x")), "x\n");
        assert_eq!(dump(&json!(null)), "null\n");
    }

    fn tricky_strings() -> Vec<String> {
        let atoms = [
            "",
            "a",
            " ",
            "  ",
            "-",
            "- ",
            ":",
            ": ",
            "#",
            " #",
            "'",
            "\"",
            "\\",
            "\n",
            "\t",
            "|",
            ">",
            "*",
            "&",
            "!",
            "%",
            "@",
            "`",
            "?",
            ",",
            "[",
            "]",
            "{",
            "}",
            "~",
            "0",
            "1",
            "1.5",
            "1e3",
            "-1",
            "+1",
            ".",
            "..",
            "...",
            "---",
            "yes",
            "No",
            "ON",
            "null",
            "Null",
            "0x1f",
            "0o17",
            "0b1",
            ".inf",
            "-.INF",
            ".NaN",
            "1_0",
            "2024-05-02",
            "12:30",
            "ä",
            "\u{FEFF}",
            "\r",
            "\u{85}",
            "<<",
            "=",
        ];
        let mut out: Vec<String> = atoms.iter().map(|s| (*s).to_owned()).collect();
        for a in atoms {
            for b in atoms {
                out.push(format!("{a}{b}"));
                out.push(format!("x{a}y{b}z"));
                out.push(format!("{a}\n{b}"));
            }
        }
        out.push("line one\n  indented\nline three".into());
        out.push("\n\nleading breaks".into());
        out.push("trailing spaces   \nnext".into());
        out.push("a\n   \nb".into());
        out
    }

    #[test]
    fn dump_parse_round_trip_over_tricky_strings() {
        let mut checked = 0;
        for s in tricky_strings() {
            for value in [
                json!([s]),
                json!({ "k": s }),
                json!([{ "k": s, "n": [s] }]),
                json!({ s.clone(): 1 }),
            ] {
                let text = dump(&value);
                let back = parse(&text).unwrap_or_else(|e| panic!("{s:?} dumped as {text:?}: {e}"));
                assert_eq!(back, value, "{s:?} dumped as {text:?}");
                checked += 1;
            }
        }
        assert!(checked > 10_000, "only {checked} values checked");
    }

    #[test]
    fn round_trip_of_numbers_and_nesting() {
        let value = json!([
            {"n": 1, "f": 1.25, "neg": -3, "big": 12345678901_i64, "b": false, "nil": null,
             "obj": {"a": [1, {"b": "c"}], "e": []}}
        ]);
        assert_eq!(parse(&dump(&value)).unwrap(), value);
    }

    #[test]
    fn yaml_1_1_booleans_become_booleans() {
        let value = parse("a: yes\nb: no\nc: on\nd: off\ne: y\nf: n\ng: Yes\nh: NO\ni: true\nj: FALSE\nk: 'yes'\n").unwrap();
        assert_eq!(
            value,
            json!({"a": true, "b": false, "c": true, "d": false, "e": true, "f": false,
                   "g": true, "h": false, "i": true, "j": false, "k": "yes"})
        );
        // As keys they stay strings.
        assert_eq!(
            parse("yes: 1\nno: 2\n").unwrap(),
            json!({"yes": 1, "no": 2})
        );
    }

    #[test]
    fn empty_documents_are_null() {
        assert_eq!(parse("").unwrap(), Value::Null);
        assert_eq!(parse("\n\n").unwrap(), Value::Null);
        assert_eq!(parse("# just a comment\n").unwrap(), Value::Null);
        assert_eq!(parse("\u{FEFF}").unwrap(), Value::Null);
    }

    #[test]
    fn key_order_is_kept() {
        let value = parse("z: 1\na: 2\nm: 3\n").unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn unquoted_star_key() {
        let value =
            parse("pages:\n  *: false\n  update: true\nusers:\n  \"*\": false\n*: true\n").unwrap();
        assert_eq!(
            value,
            json!({"pages": {"*": false, "update": true}, "users": {"*": false}, "*": true})
        );
        assert_eq!(parse("- *: false\n").unwrap(), json!([{"*": false}]));
        assert_eq!(
            parse("a:\n  * : false\n").unwrap(),
            json!({"a": {"*": false}})
        );
        // Inside a literal block the text is left alone.
        assert_eq!(parse("help: |\n  *: x\n").unwrap(), json!({"help": "*: x"}));
        // Real aliases still work.
        assert_eq!(parse("a: &x 1\nb: *x\n").unwrap(), json!({"a": 1, "b": 1}));
    }

    #[test]
    fn literal_blocks_lose_trailing_breaks_like_spyc() {
        assert_eq!(
            parse("a: |\n  x\n  y\n\n\nb: 1\n").unwrap(),
            json!({"a": "x\ny", "b": 1})
        );
        assert_eq!(parse("a: >\n  x\n  y\n").unwrap(), json!({"a": "x y"}));
        assert_eq!(parse("- |\n  x\n").unwrap(), json!(["x"]));
        assert_eq!(
            parse("- a: |  # comment\n    x\n  b: 1\n").unwrap(),
            json!([{"a": "x", "b": 1}])
        );
        // Explicit indicators are kept.
        assert_eq!(
            parse("a: |+\n  x\n\nb: 1\n").unwrap(),
            json!({"a": "x\n\n", "b": 1})
        );
        assert_eq!(parse("a: |2\n   x\n").unwrap(), json!({"a": " x"}));
        // Not a header: plain text that merely ends in `|`.
        assert_eq!(parse("a: x |\n").unwrap(), json!({"a": "x |"}));
        // A nested header line inside a block is content.
        assert_eq!(
            parse("a: |\n  b: |\n    c\n").unwrap(),
            json!({"a": "b: |\n  c"})
        );
    }

    #[test]
    fn lenient_fallbacks() {
        assert_eq!(
            parse("label: Note: read this\n").unwrap(),
            json!({"label": "Note: read this"})
        );
        assert_eq!(
            parse("label: ends with:  # comment\n").unwrap(),
            json!({"label": "ends with:"})
        );
        assert_eq!(
            parse("a:\n\tb: 1\n\tc:\n\t\td: 2\n").unwrap(),
            json!({"a": {"b": 1, "c": {"d": 2}}})
        );
        assert_eq!(parse("a: 1\na: 2\n").unwrap(), json!({"a": 2}));
        assert_eq!(parse("a: .inf\n").unwrap(), json!({"a": ".inf"}));
    }

    #[test]
    fn errors_are_reported_not_panicked() {
        for bad in [
            "a: [1, 2\n",
            "a: 'x\n",
            "a:\n  - b\n  c: d\n",
            "{",
            "a: *nope\n",
            "--- a\n--- b\n",
            "\t- x\n  y: z\n  - w",
        ] {
            let error = parse(bad).unwrap_err();
            assert!(!error.message.is_empty(), "{bad:?}");
            assert!(error.to_string().starts_with("invalid YAML"), "{error}");
        }
        let error = parse("a: 1\nb: [\n").unwrap_err();
        assert_eq!(error.line, Some(2), "{error:?}");
        assert_eq!(
            error.to_string(),
            "invalid YAML at line 2, column 4: unclosed bracket '['"
        );
    }

    #[test]
    fn billion_laughs_is_rejected() {
        let mut doc = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for pair in names.windows(2) {
            let (prev, next) = (pair[0], pair[1]);
            doc.push_str(&format!("{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
        }
        let started = std::time::Instant::now();
        assert!(parse(&doc).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn prefixes_of_a_document_never_panic() {
        let doc = "title: Editor\npermissions:\n  *: false\n  pages:\n    - a: |\n        text\n      b: 'q''s'\n  x: \"e\\n\"\n";
        for end in (0..=doc.len()).filter(|&i| doc.is_char_boundary(i)) {
            let _ = parse(&doc[..end]);
        }
    }

    fn fixture_blueprints() -> PathBuf {
        PathBuf::from("/work/shared/kirby-fixture/site/blueprints")
    }

    fn yml_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                yml_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_fixture_blueprint_parses() {
        let root = fixture_blueprints();
        if !root.is_dir() {
            eprintln!("fixture not found at {}; skipping", root.display());
            return;
        }
        let mut files = Vec::new();
        yml_files(&root, &mut files);
        assert!(files.len() >= 15, "found only {} blueprints", files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let value = parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                value.get("title").is_some_and(Value::is_string),
                "{} has no title",
                path.display()
            );
        }
    }

    #[test]
    fn fixture_blueprint_details() {
        let root = fixture_blueprints();
        if !root.is_dir() {
            return;
        }
        let read = |rel: &str| parse(&std::fs::read_to_string(root.join(rel)).unwrap()).unwrap();

        let editor = read("users/editor.yml");
        assert_eq!(editor["title"], "Editor");
        assert_eq!(
            editor["permissions"],
            json!({
                "access": {"users": false, "system": false},
                "pages": {"delete": false, "changeTemplate": false},
                "site": {"changeTitle": false},
                "users": false,
                "user": {"changeRole": false, "delete": false}
            })
        );
        assert_eq!(editor["fields"]["bio"]["type"], "textarea");
        let keys: Vec<&String> = editor["permissions"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["access", "pages", "site", "users", "user"]);

        let article = read("pages/article.yml");
        assert_eq!(article["num"], "date");
        assert_eq!(article["columns"]["main"]["width"], "2/3");
        assert_eq!(
            article["columns"]["side"]["fields"]["featured"]["text"],
            json!(["no", "yes"])
        );
        assert_eq!(
            article["options"]["delete"],
            json!({"admin": true, "editor": false})
        );

        let image = read("files/image.yml");
        assert_eq!(image["accept"]["maxsize"], 2_000_000);

        let default = read("pages/default.yml");
        assert_eq!(
            default["options"]["changeTemplate"],
            json!(["default", "about", "internal"])
        );
    }

    #[test]
    fn fixture_style_structure_fields_parse() {
        let contacts = "-\n  name: Ada\n  role: Chair\n  phone: \"+44 0000 000001\"\n-\n  name: Eddie\n  role: Logbook";
        assert_eq!(
            parse(contacts).unwrap(),
            json!([{"name": "Ada", "role": "Chair", "phone": "+44 0000 000001"},
                   {"name": "Eddie", "role": "Logbook"}])
        );
        assert_eq!(
            parse("- user://admin001").unwrap(),
            json!(["user://admin001"])
        );
    }
}
