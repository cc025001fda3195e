//! Literal-only PHP array files: `site/accounts/<id>/index.php`, `site/languages/*.php` and
//! `site/config/config.php` (CONTENT.md §7, §8; CONFIG.md notes). Nothing is ever executed.
//!
//! [`parse_file`] reads `<?php … return <array>;`. Literals (arrays, strings, numbers,
//! `true`/`false`/`null`) become [`Value`]s. Any other expression (a closure, a constant,
//! a function call, string concatenation…) is skipped robustly and kept as
//! [`Value::Code`] with its source text, so the rest of the file still loads and the
//! caller can warn about it ([`Value::code_paths`]).
//!
//! [`write_file`] writes Kirby's own layout byte for byte (4-space indent, single-quoted
//! strings, `NULL`, lists without keys, no trailing newline).

use std::collections::HashMap;
use std::fmt;

/// Maximum nesting depth of arrays.
const MAX_DEPTH: usize = 128;

/// A PHP value as found in a literal array file.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// An ordered PHP array: list or map.
    Array(Vec<(Key, Value)>),
    /// Source text of an expression that is not a literal (closure, constant, call…).
    Code(String),
}

/// A PHP array key. Numeric strings such as `'5'` become `Int` keys, as in PHP.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    Int(i64),
    Str(String),
}

/// A PHP array file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("PHP array file, line {line}: {message}")]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl Key {
    /// The key PHP would use for this string (`"5"` → `Int(5)`, `"05"` → `Str`).
    pub fn from_php_str(s: &str) -> Key {
        match canonical_int(s) {
            Some(i) => Key::Int(i),
            None => Key::Str(s.to_owned()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => f.write_str(s),
        }
    }
}

impl From<&str> for Key {
    fn from(s: &str) -> Key {
        Key::from_php_str(s)
    }
}

impl From<String> for Key {
    fn from(s: String) -> Key {
        match canonical_int(&s) {
            Some(i) => Key::Int(i),
            None => Key::Str(s),
        }
    }
}

impl From<i64> for Key {
    fn from(i: i64) -> Key {
        Key::Int(i)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

impl Value {
    /// An empty array.
    pub fn empty_array() -> Value {
        Value::Array(Vec::new())
    }

    /// Looks up `key` in an array (`"5"` finds the int key 5, as in PHP).
    pub fn get(&self, key: &str) -> Option<&Value> {
        let key = Key::from_php_str(key);
        self.as_array()?
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }

    /// Follows a dotted path of nested keys (`"api.basicAuth"`, `"routes.0.action"`).
    pub fn get_path(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self, |value, key| value.get(key))
    }

    /// Sets `key` in an array: an existing key keeps its position, a new one is appended.
    /// Does nothing if `self` is not an array.
    pub fn insert(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        let Value::Array(items) = self else {
            return;
        };
        let key = key.into();
        let value = value.into();
        match items.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => items.push((key, value)),
        }
    }

    /// Removes `key` from an array and returns its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let Value::Array(items) = self else {
            return None;
        };
        let key = Key::from_php_str(key);
        let index = items.iter().position(|(k, _)| *k == key)?;
        Some(items.remove(index).1)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of a literal `true`/`false` only (Kirby compares many options with `===`).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Floats, and ints converted to floats.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[(Key, Value)]> {
        match self {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_code(&self) -> bool {
        matches!(self, Value::Code(_))
    }

    /// PHP truthiness (`0`, `0.0`, `''`, `'0'`, `[]`, `null` and `false` are false).
    /// Code is treated as false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Null | Value::Code(_) => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty() && s != "0",
            Value::Array(items) => !items.is_empty(),
        }
    }

    /// Whether this is an array whose keys are exactly `0..n` in order (PHP `array_is_list`).
    pub fn is_list(&self) -> bool {
        self.as_array().is_some_and(is_list)
    }

    /// Converts to JSON like PHP's `json_encode`: a list becomes a JSON array, any other
    /// array an object with string keys. `Code` (and non-finite floats) become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match self {
            Value::Null | Value::Code(_) => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.clone()),
            Value::Array(items) if is_list(items) => {
                Json::Array(items.iter().map(|(_, v)| v.to_json()).collect())
            }
            Value::Array(items) => Json::Object(
                items
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// Dotted paths of every `Code` value, e.g. `["routes.0.action"]`, for warnings like
    /// "skipped option routes.0.action (PHP code)". A `Code` at the top level gives `""`.
    pub fn code_paths(&self) -> Vec<String> {
        let mut paths = Vec::new();
        collect_code_paths(self, &mut String::new(), &mut paths);
        paths
    }
}

fn is_list(items: &[(Key, Value)]) -> bool {
    items
        .iter()
        .enumerate()
        .all(|(i, (k, _))| matches!(k, Key::Int(n) if usize::try_from(*n) == Ok(i)))
}

fn collect_code_paths(value: &Value, path: &mut String, out: &mut Vec<String>) {
    match value {
        Value::Code(_) => out.push(path.clone()),
        Value::Array(items) => {
            for (key, child) in items {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&key.to_string());
                collect_code_paths(child, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// PHP turns decimal-integer strings in canonical form into int keys.
fn canonical_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && s != "-0";
    if canonical { s.parse().ok() } else { None }
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Writes a PHP file that returns `value`, in Kirby's layout (no trailing newline):
///
/// ```text
/// <?php
///
/// return [
///     'email' => 'admin@example.com',
///     'name' => NULL
/// ];
/// ```
pub fn write_file(value: &Value) -> String {
    let mut out = String::from("<?php\n\nreturn ");
    write_value(&mut out, value, "");
    out.push(';');
    out
}

fn write_value(out: &mut String, value: &Value, indent: &str) {
    match value {
        Value::Null => out.push_str("NULL"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // As `var_export` does: the literal `-9223372036854775808` would read as a float.
        Value::Int(i64::MIN) => out.push_str("-9223372036854775807-1"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&float_literal(*f)),
        Value::Str(s) => write_string(out, s),
        Value::Code(code) => out.push_str(code),
        Value::Array(items) => {
            let inner = format!("{indent}    ");
            let list = is_list(items);
            out.push_str("[\n");
            for (i, (key, item)) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                out.push_str(&inner);
                if !list {
                    match key {
                        Key::Int(n) => out.push_str(&n.to_string()),
                        Key::Str(s) => write_string(out, s),
                    }
                    out.push_str(" => ");
                }
                write_value(out, item, &inner);
            }
            out.push('\n');
            out.push_str(indent);
            out.push(']');
        }
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

fn float_literal(f: f64) -> String {
    if f.is_nan() {
        "NAN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 {
            "INF".to_owned()
        } else {
            "-INF".to_owned()
        }
    } else {
        let text = f.to_string();
        if text.contains(['.', 'e', 'E']) {
            text
        } else {
            format!("{text}.0")
        }
    }
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

/// Parses a PHP file of the form `<?php … return <value>;`.
///
/// Before `return`, comments and simple statements (`declare(…);`, `use …;`,
/// `namespace …;`) are skipped. The returned value is usually an array; expressions that
/// are not literals become [`Value::Code`].
pub fn parse_file(src: &str) -> Result<Value, ParseError> {
    let mut parser = Parser {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        depth: 0,
    };
    parser.parse_file()
}

struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
}

/// Where [`Parser::scan_code`] stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// A statement: stop after `;` or after a `}` that closes a block, at depth 0.
    Statement,
    /// An expression inside an array or after `return`: stop before `,`, `;`, `?>` or an
    /// unmatched closing bracket, and before `=>` when reading a key.
    Expr { key: bool },
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

impl<'a> Parser<'a> {
    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        self.error_at(self.pos, message)
    }

    fn error_at<T>(&self, pos: usize, message: impl Into<String>) -> Result<T, ParseError> {
        let pos = pos.min(self.bytes.len());
        let line = self.bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
        Err(ParseError {
            line,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn rest(&self) -> &'a [u8] {
        &self.bytes[self.pos.min(self.bytes.len())..]
    }

    fn starts_with(&self, s: &str) -> bool {
        self.rest().starts_with(s.as_bytes())
    }

    /// Whether the next word is `word` (ASCII case-insensitive), not followed by an
    /// identifier character.
    fn at_keyword(&self, word: &str) -> bool {
        let rest = self.rest();
        rest.len() >= word.len()
            && rest[..word.len()].eq_ignore_ascii_case(word.as_bytes())
            && !rest.get(word.len()).copied().is_some_and(is_ident_char)
    }

    fn parse_file(&mut self) -> Result<Value, ParseError> {
        if self.starts_with("\u{FEFF}") {
            self.pos += 3;
        }
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
        if !self
            .rest()
            .get(..5)
            .is_some_and(|open| open.eq_ignore_ascii_case(b"<?php"))
        {
            return self.error("expected the file to start with `<?php`");
        }
        self.pos += 5;
        loop {
            self.skip_trivia()?;
            if self.peek().is_none() || self.starts_with("?>") {
                return self.error("missing `return` statement");
            }
            if self.at_keyword("return") {
                self.pos += "return".len();
                let value = self.parse_value(false)?;
                self.skip_trivia()?;
                return match self.peek() {
                    None | Some(b';') => Ok(value),
                    Some(b'?') if self.starts_with("?>") => Ok(value),
                    Some(_) => self.error("expected `;` after the returned value"),
                };
            }
            let start = self.pos;
            self.scan_code(Scan::Statement)?;
            if self.pos == start {
                return self.error("unexpected character");
            }
        }
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), ParseError> {
        loop {
            match self.peek() {
                Some(b) if b.is_ascii_whitespace() || b == 0x0B => self.pos += 1,
                // `#[` starts a PHP 8 attribute, not a comment.
                Some(b'#') if self.peek_at(1) != Some(b'[') => self.skip_line_comment(),
                Some(b'/') if self.peek_at(1) == Some(b'/') => self.skip_line_comment(),
                Some(b'/') if self.peek_at(1) == Some(b'*') => self.skip_block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn skip_line_comment(&mut self) {
        while let Some(b) = self.peek() {
            if b == b'\n' || self.starts_with("?>") {
                return;
            }
            self.pos += 1;
        }
    }

    fn skip_block_comment(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        self.pos += 2;
        while !self.starts_with("*/") {
            if self.peek().is_none() {
                return self.error_at(start, "unterminated `/*` comment");
            }
            self.pos += 1;
        }
        self.pos += 2;
        Ok(())
    }

    /// Parses a value; non-literal expressions become `Code`. With `key`, a `=>` ends the
    /// expression (it is an array key).
    fn parse_value(&mut self, key: bool) -> Result<Value, ParseError> {
        self.skip_trivia()?;
        let start = self.pos;
        if let Some(value) = self.parse_literal()? {
            let end = self.pos;
            self.skip_trivia()?;
            if self.at_value_end(key) {
                self.pos = end;
                return Ok(value);
            }
        }
        // Not a literal, or a literal followed by an operator: read it as code.
        self.pos = start;
        let end = self.scan_code(Scan::Expr { key })?;
        if end == start {
            return match self.peek() {
                None => self.error("unexpected end of file, expected a value"),
                Some(_) => self.error("expected a value"),
            };
        }
        Ok(Value::Code(self.src[start..end].to_owned()))
    }

    fn at_value_end(&self, key: bool) -> bool {
        match self.peek() {
            None | Some(b',' | b';' | b')' | b']' | b'}') => true,
            Some(b'=') => key && self.peek_at(1) == Some(b'>'),
            Some(b'?') => self.starts_with("?>"),
            Some(_) => false,
        }
    }

    /// Parses a literal if one starts here. `Ok(None)` means "not a literal" (the caller
    /// reads the expression as code); errors are only for malformed literals.
    fn parse_literal(&mut self) -> Result<Option<Value>, ParseError> {
        let Some(b) = self.peek() else {
            return Ok(None);
        };
        match b {
            b'[' => {
                self.pos += 1;
                self.parse_array(b']').map(Some)
            }
            b'\'' => self.parse_single_quoted().map(|s| Some(Value::Str(s))),
            b'"' => self.parse_double_quoted(),
            b'<' if self.starts_with("<<<") => self.parse_heredoc(),
            b'0'..=b'9' | b'.' | b'-' | b'+' => Ok(self.parse_number()),
            b if is_ident_start(b) => {
                if self.at_keyword("array") {
                    let save = self.pos;
                    self.pos += "array".len();
                    self.skip_trivia()?;
                    if self.peek() == Some(b'(') {
                        self.pos += 1;
                        return self.parse_array(b')').map(Some);
                    }
                    self.pos = save;
                    return Ok(None);
                }
                for (word, value) in [
                    ("null", Value::Null),
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                ] {
                    if self.at_keyword(word) {
                        self.pos += word.len();
                        return Ok(Some(value));
                    }
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Parses array items after the opening bracket, up to and including `close`.
    fn parse_array(&mut self, close: u8) -> Result<Value, ParseError> {
        let open_pos = self.pos - 1;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error("arrays are nested too deeply");
        }
        let mut items: Vec<(Key, Value)> = Vec::new();
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut next_int: Option<i64> = None;
        loop {
            self.skip_trivia()?;
            match self.peek() {
                None => {
                    return self.error_at(
                        open_pos,
                        format!("unterminated array (missing `{}`)", close as char),
                    );
                }
                Some(b) if b == close => {
                    self.pos += 1;
                    break;
                }
                Some(b',') => return self.error("empty array element"),
                Some(_) => {}
            }
            let item_start = self.pos;
            let first = self.parse_value(true)?;
            self.skip_trivia()?;
            let (key, value) = if self.starts_with("=>") {
                let key_text = self.src[item_start..self.pos].trim_end();
                self.pos += 2;
                let value = self.parse_value(false)?;
                match array_key(&first) {
                    Some(key) => (key, value),
                    None => {
                        // A key we cannot compute (constant, call…): keep the item as code.
                        let item_text = self.src[item_start..self.pos].trim_end();
                        (
                            Key::Str(key_text.to_owned()),
                            Value::Code(item_text.to_owned()),
                        )
                    }
                }
            } else {
                (Key::Int(next_int.unwrap_or(0)), first)
            };
            if let Key::Int(n) = key {
                let after = n.saturating_add(1);
                next_int = Some(next_int.map_or(after, |next| next.max(after)));
            }
            match index.get(&key) {
                Some(&i) => items[i].1 = value,
                None => {
                    index.insert(key.clone(), items.len());
                    items.push((key, value));
                }
            }
            self.skip_trivia()?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {}
                None => {
                    return self.error_at(
                        open_pos,
                        format!("unterminated array (missing `{}`)", close as char),
                    );
                }
                Some(b) => {
                    return self.error(format!(
                        "expected `,` or `{}`, found `{}`",
                        close as char, b as char
                    ));
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    fn parse_single_quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(b) = self.peek() else {
                return self.error_at(start, "unterminated string");
            };
            match b {
                b'\'' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' if matches!(self.peek_at(1), Some(b'\'' | b'\\')) => {
                    out.push(self.peek_at(1).unwrap_or(b'\\') as char);
                    self.pos += 2;
                }
                _ => {
                    let len = utf8_len(b);
                    out.push_str(&self.src[self.pos..self.pos + len]);
                    self.pos += len;
                }
            }
        }
    }

    /// A double-quoted string. Strings that interpolate variables are code (`Ok(None)`).
    fn parse_double_quoted(&mut self) -> Result<Option<Value>, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        loop {
            match self.peek() {
                None => return self.error_at(start, "unterminated string"),
                Some(b'"') => break,
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
        let body = &self.src[body_start..self.pos.min(self.bytes.len())];
        self.pos += 1;
        if self.pos > self.bytes.len() {
            return self.error_at(start, "unterminated string");
        }
        Ok(unescape_double(body, b'"').map(Value::Str))
    }

    /// Heredoc (`<<<ID`, `<<<"ID"`) and nowdoc (`<<<'ID'`) strings.
    fn parse_heredoc(&mut self) -> Result<Option<Value>, ParseError> {
        let doc = self.read_heredoc()?;
        let text = doc.text();
        if doc.nowdoc {
            return Ok(Some(Value::Str(text)));
        }
        Ok(unescape_double(&text, 0).map(Value::Str))
    }

    fn read_heredoc(&mut self) -> Result<Heredoc<'a>, ParseError> {
        let start = self.pos;
        self.pos += 3;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => {
                self.pos += 1;
                Some(q)
            }
            _ => None,
        };
        let id_start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        let id = &self.src[id_start..self.pos];
        if !id.as_bytes().first().copied().is_some_and(is_ident_start) {
            return self.error_at(start, "invalid heredoc identifier");
        }
        if let Some(q) = quote {
            if self.peek() != Some(q) {
                return self.error_at(start, "invalid heredoc identifier");
            }
            self.pos += 1;
        }
        match self.peek() {
            Some(b'\n') => self.pos += 1,
            Some(b'\r') if self.peek_at(1) == Some(b'\n') => self.pos += 2,
            _ => return self.error_at(start, "expected a line break after the heredoc identifier"),
        }
        let body_start = self.pos;
        // Find the closing line: optional indentation, the identifier, then a non-identifier.
        let mut line_start = self.pos;
        loop {
            if line_start > self.bytes.len() {
                return self.error_at(start, format!("unterminated heredoc `{id}`"));
            }
            let line = &self.bytes[line_start..];
            let indent = line
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            let after = &line[indent..];
            if after.starts_with(id.as_bytes())
                && !after.get(id.len()).copied().is_some_and(is_ident_char)
            {
                let body_end = line_start.saturating_sub(1).max(body_start);
                let body = &self.src[body_start..body_end];
                let body = body.strip_suffix('\r').unwrap_or(body);
                self.pos = line_start + indent + id.len();
                return Ok(Heredoc {
                    nowdoc: quote == Some(b'\''),
                    body: if line_start == body_start { "" } else { body },
                    indent: &self.src[line_start..line_start + indent],
                });
            }
            match line.iter().position(|&b| b == b'\n') {
                Some(newline) => line_start += newline + 1,
                None => return self.error_at(start, format!("unterminated heredoc `{id}`")),
            }
        }
    }

    /// Numbers: decimal, hex, octal and binary ints (with `_` separators) and floats.
    /// Ints that overflow become floats, as in PHP. `None` if this is not a number.
    fn parse_number(&mut self) -> Option<Value> {
        let start = self.pos;
        let rest = self.rest();
        let sign = usize::from(matches!(rest.first(), Some(b'-' | b'+')));
        let negative = rest.first() == Some(&b'-');
        let body = &rest[sign..];
        let starts_numeric = match body.first() {
            Some(b) if b.is_ascii_digit() => true,
            Some(b'.') => body.get(1).is_some_and(u8::is_ascii_digit),
            _ => false,
        };
        if !starts_numeric {
            return None;
        }
        let radix = match body {
            [b'0', b'x' | b'X', ..] => Some((16, 2)),
            [b'0', b'b' | b'B', ..] => Some((2, 2)),
            [b'0', b'o' | b'O', ..] => Some((8, 2)),
            _ => None,
        };
        if let Some((radix, prefix)) = radix {
            let len = body[prefix..]
                .iter()
                .take_while(|&&b| b == b'_' || (b as char).is_digit(radix))
                .count();
            let digits: String =
                self.src[start + sign + prefix..start + sign + prefix + len].replace('_', "");
            if digits.is_empty() {
                return None;
            }
            self.pos = start + sign + prefix + len;
            return Some(int_or_float(&digits, radix, negative));
        }
        let mut len = body
            .iter()
            .take_while(|&&b| b.is_ascii_digit() || b == b'_')
            .count();
        let mut is_float = false;
        if body.get(len) == Some(&b'.') && body.get(len + 1).is_none_or(|&b| b != b'.') {
            is_float = true;
            len += 1;
            len += body[len..]
                .iter()
                .take_while(|&&b| b.is_ascii_digit() || b == b'_')
                .count();
        }
        if matches!(body.get(len), Some(b'e' | b'E')) {
            let mut exp = len + 1;
            if matches!(body.get(exp), Some(b'+' | b'-')) {
                exp += 1;
            }
            if body.get(exp).is_some_and(u8::is_ascii_digit) {
                is_float = true;
                len = exp
                    + body[exp..]
                        .iter()
                        .take_while(|&&b| b.is_ascii_digit())
                        .count();
            }
        }
        let text = self.src[start + sign..start + sign + len].replace('_', "");
        self.pos = start + sign + len;
        if is_float {
            let f: f64 = text.parse().ok()?;
            return Some(Value::Float(if negative { -f } else { f }));
        }
        if text.len() > 1 && text.starts_with('0') {
            // Legacy octal (`0755`); an invalid digit makes it code.
            if !text.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                self.pos = start;
                return None;
            }
            return Some(int_or_float(&text[1..], 8, negative));
        }
        let value = int_or_float(&text, 10, negative);
        // PHP_INT_MIN has no literal (`-9223372036854775808` overflows to a float before the
        // minus applies); `var_export` and the writer spell it `-9223372036854775807-1`.
        if value == Value::Int(i64::MIN + 1)
            && self.starts_with("-1")
            && !self
                .peek_at(2)
                .is_some_and(|b| is_ident_char(b) || b == b'.')
        {
            self.pos += 2;
            return Some(Value::Int(i64::MIN));
        }
        Some(value)
    }

    /// Skips an expression or statement that is not a literal, keeping strings, comments,
    /// heredocs and brackets balanced. Returns the end of the last significant character.
    fn scan_code(&mut self, mode: Scan) -> Result<usize, ParseError> {
        let start = self.pos;
        let mut stack: Vec<u8> = Vec::new();
        let mut end = self.pos;
        loop {
            let Some(b) = self.peek() else {
                if let (Some(&open), Scan::Expr { .. }) = (stack.last(), mode) {
                    return self.error(format!("unterminated `{}`", open as char));
                }
                return Ok(end);
            };
            if b.is_ascii_whitespace() || b == 0x0B {
                self.pos += 1;
                continue;
            }
            if (b == b'#' && self.peek_at(1) != Some(b'['))
                || (b == b'/' && self.peek_at(1) == Some(b'/'))
            {
                self.skip_line_comment();
                continue;
            }
            if b == b'/' && self.peek_at(1) == Some(b'*') {
                self.skip_block_comment()?;
                continue;
            }
            if stack.is_empty() {
                match mode {
                    Scan::Expr { key } => {
                        if matches!(b, b',' | b';' | b')' | b']' | b'}') || self.starts_with("?>") {
                            return Ok(end);
                        }
                        if key && self.starts_with("=>") && !is_arrow_fn(&self.src[start..self.pos])
                        {
                            return Ok(end);
                        }
                    }
                    Scan::Statement => {
                        if b == b';' {
                            self.pos += 1;
                            return Ok(self.pos);
                        }
                        if self.starts_with("?>") {
                            return Ok(end);
                        }
                        if matches!(b, b')' | b']' | b'}') {
                            return self.error(format!("unexpected `{}`", b as char));
                        }
                    }
                }
            }
            match b {
                b'(' | b'[' | b'{' => {
                    stack.push(b);
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    stack.pop();
                    self.pos += 1;
                    if b == b'}' && stack.is_empty() && mode == Scan::Statement {
                        return Ok(self.pos);
                    }
                }
                b'\'' => {
                    self.parse_single_quoted()?;
                }
                b'"' | b'`' => {
                    let quote_start = self.pos;
                    self.pos += 1;
                    loop {
                        match self.peek() {
                            None => return self.error_at(quote_start, "unterminated string"),
                            Some(q) if q == b => break,
                            Some(b'\\') => self.pos += 2,
                            Some(_) => self.pos += 1,
                        }
                    }
                    self.pos += 1;
                }
                b'<' if self.starts_with("<<<") => {
                    self.read_heredoc()?;
                }
                b'<' if self.starts_with("<=>") => self.pos += 3,
                _ => self.pos += utf8_len(b),
            }
            self.pos = self.pos.min(self.bytes.len());
            end = self.pos;
        }
    }
}

struct Heredoc<'a> {
    nowdoc: bool,
    body: &'a str,
    /// Indentation of the closing identifier, removed from every line (PHP 7.3+).
    indent: &'a str,
}

impl Heredoc<'_> {
    fn text(&self) -> String {
        self.body
            .split('\n')
            .map(|line| {
                line.strip_prefix(self.indent)
                    .unwrap_or_else(|| line.trim_start_matches([' ', '\t']))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Whether the code before a `=>` is the head of an arrow function (`fn (…) =>`).
fn is_arrow_fn(code: &str) -> bool {
    let code = code.trim_start();
    let code = match code.get(..6) {
        Some(word) if word.eq_ignore_ascii_case("static") => code[6..].trim_start(),
        _ => code,
    };
    code.get(..2)
        .is_some_and(|word| word.eq_ignore_ascii_case("fn"))
        && !code.as_bytes().get(2).copied().is_some_and(is_ident_char)
}

/// The array key PHP derives from a literal; `None` for values that cannot be keys here.
fn array_key(value: &Value) -> Option<Key> {
    match value {
        Value::Int(i) => Some(Key::Int(*i)),
        Value::Str(s) => Some(Key::from_php_str(s)),
        Value::Bool(b) => Some(Key::Int(i64::from(*b))),
        Value::Null => Some(Key::Str(String::new())),
        Value::Float(f) if f.is_finite() => Some(Key::Int(f.trunc() as i64)),
        _ => None,
    }
}

fn int_or_float(digits: &str, radix: u32, negative: bool) -> Value {
    let parsed = i64::from_str_radix(digits, radix)
        .ok()
        .and_then(|i| if negative { i.checked_neg() } else { Some(i) });
    match parsed {
        Some(i) => Value::Int(i),
        None if radix == 10 => {
            let magnitude: f64 = digits.parse().unwrap_or(f64::INFINITY);
            Value::Float(if negative { -magnitude } else { magnitude })
        }
        None => {
            let magnitude = digits.chars().fold(0.0_f64, |acc, c| {
                acc * f64::from(radix) + f64::from(c.to_digit(radix).unwrap_or(0))
            });
            Value::Float(if negative { -magnitude } else { magnitude })
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Unescapes the body of a double-quoted string or heredoc (`quote` is `"` or 0 for a
/// heredoc, where `\"` stays as it is). `None` if the string interpolates variables.
fn unescape_double(body: &str, quote: u8) -> Option<String> {
    let bytes = body.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'$' && bytes.get(i + 1).copied().is_some_and(is_ident_start) {
            return None;
        }
        if b == b'{' && bytes.get(i + 1) == Some(&b'$') {
            return None;
        }
        if b != b'\\' || i + 1 >= bytes.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = bytes[i + 1];
        i += 2;
        match next {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'v' => out.push(0x0B),
            b'e' => out.push(0x1B),
            b'f' => out.push(0x0C),
            b'\\' => out.push(b'\\'),
            b'$' => out.push(b'$'),
            b'"' if quote == b'"' => out.push(b'"'),
            b'0'..=b'7' => {
                let mut value = u32::from(next - b'0');
                let mut count = 1;
                while count < 3 && bytes.get(i).is_some_and(|b| (b'0'..=b'7').contains(b)) {
                    value = value * 8 + u32::from(bytes[i] - b'0');
                    i += 1;
                    count += 1;
                }
                out.push((value & 0xFF) as u8);
            }
            b'x' if bytes.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut value = 0u32;
                let mut count = 0;
                while count < 2 && bytes.get(i).is_some_and(u8::is_ascii_hexdigit) {
                    value = value * 16 + (bytes[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    count += 1;
                }
                out.push(value as u8);
            }
            b'u' if bytes.get(i) == Some(&b'{') => {
                let close = bytes[i..].iter().position(|&b| b == b'}');
                let code = close
                    .and_then(|c| u32::from_str_radix(&body[i + 1..i + c], 16).ok())
                    .and_then(char::from_u32);
                match (close, code) {
                    (Some(c), Some(ch)) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        i += c + 1;
                    }
                    _ => out.extend_from_slice(b"\\u"),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(text: &str) -> Value {
        Value::Str(text.to_owned())
    }

    fn map(items: Vec<(&str, Value)>) -> Value {
        Value::Array(
            items
                .into_iter()
                .map(|(k, v)| (Key::from_php_str(k), v))
                .collect(),
        )
    }

    fn list(items: Vec<Value>) -> Value {
        Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Key::Int(i as i64), v))
                .collect(),
        )
    }

    const ACCOUNT: &str = "<?php\n\nreturn [\n    'email' => 'admin@example.com',\n    'language' => 'en',\n    'name' => NULL,\n    'role' => 'admin'\n];";

    const LANGUAGE: &str = "<?php\n\nreturn [\n    'code' => 'de',\n    'default' => false,\n    'direction' => 'ltr',\n    'locale' => [\n        'LC_ALL' => 'de_DE'\n    ],\n    'name' => 'Deutsch',\n    'translations' => [\n\n    ],\n    'url' => NULL\n];";

    #[test]
    fn spec_account_example_byte_for_byte() {
        let value = map(vec![
            ("email", s("admin@example.com")),
            ("language", s("en")),
            ("name", Value::Null),
            ("role", s("admin")),
        ]);
        assert_eq!(write_file(&value), ACCOUNT);
        assert_eq!(parse_file(ACCOUNT).unwrap(), value);
    }

    #[test]
    fn spec_language_example_byte_for_byte() {
        let value = parse_file(LANGUAGE).unwrap();
        assert_eq!(value.get("default"), Some(&Value::Bool(false)));
        assert_eq!(
            value.get_path("locale.LC_ALL").and_then(Value::as_str),
            Some("de_DE")
        );
        assert_eq!(value.get("translations"), Some(&Value::empty_array()));
        assert!(value.get("url").is_some_and(Value::is_null));
        assert_eq!(write_file(&value), LANGUAGE);
    }

    #[test]
    fn lists_are_written_without_keys_like_kirby() {
        let value = map(vec![
            ("unindexed", list(vec![s("A"), s("B")])),
            (
                "sparse",
                Value::Array(vec![(Key::Int(1), s("x")), (Key::Int(0), s("y"))]),
            ),
            (
                "nested",
                map(vec![("parent", map(vec![("child", Value::Bool(true))]))]),
            ),
            ("quote", s("it's a \\ test")),
            ("n", Value::Int(-3)),
            ("f", Value::Float(1.5)),
            ("whole", Value::Float(2.0)),
        ]);
        let expected = "<?php\n\nreturn [\n    'unindexed' => [\n        'A',\n        'B'\n    ],\n    'sparse' => [\n        1 => 'x',\n        0 => 'y'\n    ],\n    'nested' => [\n        'parent' => [\n            'child' => true\n        ]\n    ],\n    'quote' => 'it\\'s a \\\\ test',\n    'n' => -3,\n    'f' => 1.5,\n    'whole' => 2.0\n];";
        assert_eq!(write_file(&value), expected);
        assert_eq!(parse_file(expected).unwrap(), value);
        assert_eq!(write_file(&Value::empty_array()), "<?php\n\nreturn [\n\n];");
    }

    #[test]
    fn write_parse_round_trip() {
        let value = map(vec![
            ("null", Value::Null),
            ("bools", list(vec![Value::Bool(true), Value::Bool(false)])),
            (
                "ints",
                list(vec![Value::Int(0), Value::Int(i64::MAX), Value::Int(-42)]),
            ),
            (
                "floats",
                list(vec![
                    Value::Float(0.1),
                    Value::Float(-2.5e-8),
                    Value::Float(1e300),
                    Value::Float(3.0),
                ]),
            ),
            (
                "strings",
                list(vec![
                    s(""),
                    s("'"),
                    s("\\"),
                    s("\\'"),
                    s("a\nb\r\n"),
                    s("$x {$y}"),
                    s("ünï©ødé"),
                    s("\""),
                ]),
            ),
            ("empty", Value::empty_array()),
            (
                "deep",
                map(vec![(
                    "a",
                    map(vec![("b", list(vec![map(vec![("c", s("d"))])]))]),
                )]),
            ),
            ("5", s("int key from string")),
            ("-1", s("negative int key")),
            ("05", s("string key")),
            ("code", Value::Code("function () { return 1; }".to_owned())),
        ]);
        let text = write_file(&value);
        assert_eq!(parse_file(&text).unwrap(), value, "{text}");
        assert_eq!(write_file(&parse_file(&text).unwrap()), text);
    }

    #[test]
    fn fixture_accounts() {
        let root = std::path::Path::new("/work/shared/kirby-fixture/site/accounts");
        if !root.is_dir() {
            eprintln!("fixture not found at {}; skipping", root.display());
            return;
        }
        let expected = [
            ("admin001", "admin@example.com", "Ada Admin", "admin"),
            ("client01", "client@example.com", "Clara Client", "client"),
            ("editor01", "editor@example.com", "Eddie Editor", "editor"),
            ("robot001", "robot@example.com", "Robo Reader", "robot"),
        ];
        for (id, email, name, role) in expected {
            let text = std::fs::read_to_string(root.join(id).join("index.php")).unwrap();
            let value = parse_file(&text).unwrap();
            assert_eq!(
                value.get("email").and_then(Value::as_str),
                Some(email),
                "{id}"
            );
            assert_eq!(
                value.get("language").and_then(Value::as_str),
                Some("en"),
                "{id}"
            );
            assert_eq!(
                value.get("name").and_then(Value::as_str),
                Some(name),
                "{id}"
            );
            assert_eq!(
                value.get("role").and_then(Value::as_str),
                Some(role),
                "{id}"
            );
            assert!(value.code_paths().is_empty());
            // Kirby wrote these files; writing them again gives the same bytes.
            assert_eq!(write_file(&value), text, "{id}");
        }
    }

    #[test]
    fn fixture_config() {
        let site = std::path::Path::new("/work/shared/kirby-fixture/site");
        let Ok(text) = std::fs::read_to_string(site.join("config/config.php")) else {
            eprintln!("fixture config not found; skipping");
            return;
        };
        let config = parse_file(&text).unwrap();
        assert_eq!(config.get_path("api.basicAuth"), Some(&Value::Bool(true)));
        assert_eq!(
            config.get_path("api.allowInsecure"),
            Some(&Value::Bool(true))
        );
        assert_eq!(config.get_path("debug"), Some(&Value::Bool(false)));
        assert_eq!(config.get_path("auth.trials"), Some(&Value::Int(10)));
        assert_eq!(config.get_path("auth.timeout"), Some(&Value::Int(3600)));
        assert_eq!(
            config.get_path("content.salt").and_then(Value::as_str),
            Some("saltmarsh-fixture-salt")
        );
        assert_eq!(
            config.get_path("routes.0.pattern").and_then(Value::as_str),
            Some("csrf")
        );
        assert_eq!(
            config.get_path("routes.0.method").and_then(Value::as_str),
            Some("GET")
        );
        assert_eq!(config.code_paths(), ["routes.0.action"]);
        let Some(Value::Code(code)) = config.get_path("routes.0.action") else {
            panic!("routes.0.action is not code");
        };
        assert!(
            code.starts_with("function () {") && code.ends_with('}'),
            "{code}"
        );
        let json = config.to_json();
        assert_eq!(
            json["api"],
            json!({"basicAuth": true, "allowInsecure": true})
        );
        assert_eq!(json["routes"][0]["action"], serde_json::Value::Null);
        assert!(json["routes"].is_array());

        for variant in ["debug", "httpsonly", "nobasic"] {
            let Ok(text) = std::fs::read_to_string(
                site.join("config-variants")
                    .join(variant)
                    .join("config.php"),
            ) else {
                continue;
            };
            let config = parse_file(&text).unwrap();
            assert_eq!(config.code_paths(), ["routes.0.action"], "{variant}");
        }
        let variant = |name: &str| {
            parse_file(
                &std::fs::read_to_string(
                    site.join("config-variants").join(name).join("config.php"),
                )
                .unwrap(),
            )
            .unwrap()
        };
        if site.join("config-variants").is_dir() {
            assert_eq!(variant("debug").get("debug"), Some(&Value::Bool(true)));
            assert_eq!(
                variant("httpsonly").get_path("api.allowInsecure"),
                Some(&Value::Bool(false))
            );
            assert_eq!(
                variant("nobasic").get_path("api.basicAuth"),
                Some(&Value::Bool(false))
            );
        }
    }

    #[test]
    fn old_array_syntax_comments_and_preamble() {
        let src = "\u{FEFF}<?php\n/**\n * Config\n */\ndeclare(strict_types=1);\nuse Kirby\\Cms\\App;\nnamespace Foo;\n\n# hash comment\nreturn array (\n  'a' => ARRAY('x', 'y',), // trailing comma\n  \"b\" => NULL, /* c */ 'c' => TRUE,\n  'd' => False,\n);\n?>\ntrailing html";
        let value = parse_file(src).unwrap();
        assert_eq!(
            value,
            map(vec![
                ("a", list(vec![s("x"), s("y")])),
                ("b", Value::Null),
                ("c", Value::Bool(true)),
                ("d", Value::Bool(false)),
            ])
        );
    }

    #[test]
    fn strings() {
        let value = parse_file(r#"<?php return ['a\'b\\c\n', "tab\there\n\"q\" \$x \\ \101\x41\u{1F600} \q", "é", 'é', "", ''];"#).unwrap();
        assert_eq!(
            value,
            list(vec![
                s("a'b\\c\\n"),
                s("tab\there\n\"q\" $x \\ AA\u{1F600} \\q"),
                s("é"),
                s("é"),
                s(""),
                s(""),
            ])
        );
        // Interpolation cannot be evaluated: code.
        let value = parse_file(r#"<?php return ["x $name", "{$a}", "\$ok"];"#).unwrap();
        assert_eq!(
            value,
            list(vec![
                Value::Code("\"x $name\"".into()),
                Value::Code("\"{$a}\"".into()),
                s("$ok")
            ])
        );
    }

    #[test]
    fn heredoc_and_nowdoc() {
        let src = "<?php return [\n  'now' => <<<'EOT'\n    raw $x \\n\n      indented\n    EOT,\n  'here' => <<<EOT\nline\\tone\nEOT\n  ,\n  'empty' => <<<X\nX,\n  'interp' => <<<\"Y\"\n  $x\n  Y,\n];";
        let value = parse_file(src).unwrap();
        assert_eq!(value.get("now"), Some(&s("raw $x \\n\n  indented")));
        assert_eq!(value.get("here"), Some(&s("line\tone")));
        assert_eq!(value.get("empty"), Some(&s("")));
        assert!(value.get("interp").is_some_and(Value::is_code));
    }

    #[test]
    fn numbers() {
        let value = parse_file("<?php return [1, -2, +3, 1.5, -0.25, .5, 1e3, 2E-2, 0x1F, 0b101, 0o17, 017, 1_000, 9223372036854775807, 9223372036854775808, -9223372036854775808];").unwrap();
        assert_eq!(
            value,
            list(vec![
                Value::Int(1),
                Value::Int(-2),
                Value::Int(3),
                Value::Float(1.5),
                Value::Float(-0.25),
                Value::Float(0.5),
                Value::Float(1000.0),
                Value::Float(0.02),
                Value::Int(31),
                Value::Int(5),
                Value::Int(15),
                Value::Int(15),
                Value::Int(1000),
                Value::Int(i64::MAX),
                Value::Float(9223372036854775808.0),
                // As in PHP: the literal overflows to a float before the minus applies.
                Value::Float(-9223372036854775808.0),
            ])
        );
    }

    #[test]
    fn keys_like_php() {
        let value = parse_file("<?php return ['a', 5 => 'b', 'c', '10' => 'd', 'e', '07' => 'f', true => 'g', null => 'h', 1.9 => 'i', 'a2' => 'j', 'x' => 1, 'x' => 2];").unwrap();
        let keys: Vec<String> = value
            .as_array()
            .unwrap()
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(keys, ["0", "5", "6", "10", "11", "07", "1", "", "a2", "x"]);
        assert_eq!(value.get("1"), Some(&s("i")));
        assert_eq!(value.get("x"), Some(&Value::Int(2)));
        assert_eq!(value.get("10"), Some(&s("d")));
        let negative = parse_file("<?php return [-5 => 'a', 'b'];").unwrap();
        assert_eq!(negative.as_array().unwrap()[1].0, Key::Int(-4));
    }

    #[test]
    fn code_is_skipped_robustly() {
        let src = r#"<?php
return [
    'closure' => function ($a, $b = [1, 2]) use ($c) {
        // a comment with ] and , and )
        $s = 'string with ], } and \' quote';
        $t = "double \" ] {";
        /* block ] */
        return [$a => $b];
    },
    'arrow' => fn ($x) => $x * 2,
    fn () => ['positional', 'arrow'],
    static fn () => null,
    'const' => PHP_EOL,
    'call' => \Kirby\Cms\Response::json(['csrf' => csrf()]),
    'concat' => __DIR__ . '/../content',
    'math' => 1 + 2,
    'new' => new Foo(1, [2]),
    'heredoc' => strtoupper(<<<EOT
    text with ] and ,
    EOT),
    Foo::BAR => 'computed key',
    'cmp' => 1 <=> 2,
    'ternary' => true ? 'a' : 'b',
    'attribute' => #[Pure] fn () => 1,
    'after' => 'still parsed',
];"#;
        let value = parse_file(src).unwrap();
        assert_eq!(value.get("after"), Some(&s("still parsed")));
        assert_eq!(
            value.get_path("0"),
            Some(&Value::Code("fn () => ['positional', 'arrow']".into()))
        );
        assert_eq!(
            value.get_path("1"),
            Some(&Value::Code("static fn () => null".into()))
        );
        assert_eq!(
            value.get("arrow"),
            Some(&Value::Code("fn ($x) => $x * 2".into()))
        );
        assert_eq!(
            value.get("concat"),
            Some(&Value::Code("__DIR__ . '/../content'".into()))
        );
        assert_eq!(value.get("math"), Some(&Value::Code("1 + 2".into())));
        assert_eq!(
            value.get("Foo::BAR"),
            Some(&Value::Code("Foo::BAR => 'computed key'".into()))
        );
        let Some(Value::Code(closure)) = value.get("closure") else {
            panic!("closure is not code");
        };
        assert!(
            closure.starts_with("function ($a") && closure.ends_with("return [$a => $b];\n    }"),
            "{closure}"
        );
        assert_eq!(
            value.code_paths(),
            [
                "closure",
                "arrow",
                "0",
                "1",
                "const",
                "call",
                "concat",
                "math",
                "new",
                "heredoc",
                "Foo::BAR",
                "cmp",
                "ternary",
                "attribute"
            ]
        );
        // Writing keeps code verbatim.
        let again = parse_file(&write_file(&value)).unwrap();
        assert_eq!(again, value);
    }

    #[test]
    fn to_json_shapes() {
        let value = parse_file("<?php return ['list' => ['a', 'b'], 'map' => [1 => 'a'], 'mixed' => ['a', 'k' => 'v'], 'empty' => [], 'f' => 1.5, 'c' => X];").unwrap();
        assert_eq!(
            value.to_json(),
            json!({"list": ["a", "b"], "map": {"1": "a"}, "mixed": {"0": "a", "k": "v"}, "empty": [], "f": 1.5, "c": null})
        );
        let keys: Vec<String> = value
            .to_json()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["list", "map", "mixed", "empty", "f", "c"]);
    }

    #[test]
    fn helpers() {
        let mut value = parse_file(ACCOUNT).unwrap();
        value.insert("name", "Ada");
        value.insert("extra", Value::Int(1));
        assert_eq!(value.get("name").and_then(Value::as_str), Some("Ada"));
        assert_eq!(value.remove("extra"), Some(Value::Int(1)));
        assert_eq!(value.get("extra"), None);
        assert!(write_file(&value).contains("'name' => 'Ada',\n"));
        assert!(!Value::Str("0".into()).is_truthy() && Value::Int(1).is_truthy());
        assert_eq!(Value::Int(3).as_f64(), Some(3.0));
        assert_eq!(Value::Int(1).as_bool(), None);
        assert!(parse_file("<?php return ['x'];").unwrap().is_list());
    }

    #[test]
    fn malformed_inputs_are_errors() {
        let cases = [
            ("", "<?php"),
            ("return [];", "<?php"),
            ("<?php\n\n", "missing `return`"),
            ("<?php\n$x = 1;\n", "missing `return`"),
            ("<?php return [\n'a' => 'b;\n", "unterminated string"),
            ("<?php return [\n'a' => \"b;\n", "unterminated string"),
            ("<?php return ['a' => 1\n", "unterminated array"),
            ("<?php return array('a' => 1];", "expected `,` or `)`"),
            ("<?php return [,];", "empty array element"),
            ("<?php return ['a' => ];", "expected a value"),
            ("<?php return ['a' => 1]] ;", "expected `;`"),
            ("not php at all", "<?php"),
            ("<?php return foo(1, [2];", "unterminated `(`"),
            ("<?php return /* open", "unterminated `/*` comment"),
            ("<?php return <<<EOT\nabc\n", "unterminated heredoc"),
            ("<?php }", "unexpected `}`"),
            ("<?php return;", "expected a value"),
            ("<?php return ", "unexpected end of file"),
        ];
        for (src, message) in cases {
            let error = parse_file(src).unwrap_err();
            assert!(error.message.contains(message), "{src:?}: {error}");
        }
        let error = parse_file("<?php\n\nreturn [\n    'a' => 'unterminated,\n];").unwrap_err();
        assert_eq!(error.line, 4);
        assert_eq!(
            error.to_string(),
            "PHP array file, line 4: unterminated string"
        );
        let deep = format!("<?php return {}{};", "[".repeat(10_000), "]".repeat(10_000));
        assert!(
            parse_file(&deep)
                .unwrap_err()
                .message
                .contains("nested too deeply")
        );
    }

    #[test]
    fn every_prefix_of_a_valid_file_is_handled_without_panic() {
        let src = "<?php\n// c\nreturn [\n    'a' => 'x\\'y',\n    \"b\" => \"\\u{e9}\\x41\\101\",\n    'c' => [1, -2.5e3, 0x1F, true, NULL],\n    'd' => function () { return ['}' => \"]\"]; },\n    'e' => <<<EOT\n    hi\n    EOT,\n    'f' => <<<'N'\nraw\nN,\n    /* x */ 'g' => array(),\n    'ü' => 'ünï',\n];\n";
        assert!(parse_file(src).is_ok());
        for end in 0..=src.len() {
            if src.is_char_boundary(end) {
                let _ = parse_file(&src[..end]);
            }
        }
        // Byte-level garbage too (every suffix as well).
        for start in 0..src.len() {
            if src.is_char_boundary(start) {
                let _ = parse_file(&format!("<?php return {}", &src[start..]));
            }
        }
    }
}
