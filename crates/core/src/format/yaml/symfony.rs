//! The YAML writer of Kirby's `yaml.handler: symfony`: the output of symfony/yaml's
//! `Yaml::dump($data, $inline, $indent, DUMP_MULTI_LINE_LITERAL_BLOCK |
//! DUMP_EMPTY_ARRAY_AS_SEQUENCE)` (symfony/yaml 7.4, as vendored by Kirby 5.5.2), for the
//! values a JSON request can carry.
//!
//! The values are seen the way PHP sees a decoded JSON body: an object whose keys are
//! `"0"`, `"1"`, … in order is a list, and a key spelled as a canonical integer is an
//! integer (written bare). Floats are PHP's string cast (14 significant digits).

use serde_json::{Map, Number, Value};

/// Dumps `value` as symfony/yaml does: block style down to `inline` levels, then flow
/// style; `indent` spaces per level; multi-line strings (without `\r`) inside collections
/// as literal blocks; empty collections as `[]`.
pub(super) fn dump(value: &Value, inline: usize, indent: usize) -> String {
    let mut out = String::new();
    block(&mut out, value, inline, 0, indent.max(1));
    out
}

/// A value as PHP holds it: a list, a map with string or integer keys, or a scalar.
enum Node<'v> {
    List(Vec<&'v Value>),
    Map(Vec<(Key<'v>, &'v Value)>),
    Scalar(&'v Value),
}

enum Key<'v> {
    Int(&'v str),
    Str(&'v str),
}

fn node(value: &Value) -> Node<'_> {
    match value {
        Value::Array(items) => Node::List(items.iter().collect()),
        Value::Object(map) if is_list(map) => Node::List(map.values().collect()),
        Value::Object(map) => Node::Map(
            map.iter()
                .map(|(k, v)| {
                    let key = if php_int_key(k) {
                        Key::Int(k)
                    } else {
                        Key::Str(k)
                    };
                    (key, v)
                })
                .collect(),
        ),
        scalar => Node::Scalar(scalar),
    }
}

/// PHP's `array_is_list` for a decoded JSON object: keys `0`, `1`, … in order.
fn is_list(map: &Map<String, Value>) -> bool {
    map.keys().enumerate().all(|(i, k)| *k == i.to_string())
}

/// A string key that PHP stores as an integer: a canonical decimal within `i64`.
fn php_int_key(key: &str) -> bool {
    let digits = key.strip_prefix('-').unwrap_or(key);
    let canonical = match digits.as_bytes() {
        [b'0'] => !key.starts_with('-'),
        [b'1'..=b'9', rest @ ..] => rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical && key.parse::<i64>().is_ok()
}

fn is_empty_collection(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// `Dumper::doDump`.
fn block(out: &mut String, value: &Value, inline: usize, level: usize, step: usize) {
    let prefix = " ".repeat(level);
    let entries = match node(value) {
        Node::List(items) if inline > 0 && !items.is_empty() => {
            items.into_iter().map(|v| (None, v)).collect::<Vec<_>>()
        }
        Node::Map(pairs) if inline > 0 && !pairs.is_empty() => {
            pairs.into_iter().map(|(k, v)| (Some(k), v)).collect()
        }
        _ => {
            out.push_str(&prefix);
            flow(out, value);
            return;
        }
    };
    let start = out.len();
    for (key, child) in entries {
        if out.len() > start && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&prefix);
        match &key {
            Some(key) => {
                key_text(out, key);
                out.push(':');
            }
            None => out.push('-'),
        }
        if let Value::String(s) = child
            && s.contains('\n')
            && !s.contains('\r')
        {
            literal_block(out, s, &prefix, step);
            continue;
        }
        let inlined = inline <= 1
            || !matches!(child, Value::Array(_) | Value::Object(_))
            || is_empty_collection(child);
        if inlined {
            out.push(' ');
            block(out, child, inline.saturating_sub(1), 0, step);
            out.push('\n');
        } else {
            out.push('\n');
            block(out, child, inline - 1, level + step, step);
        }
    }
}

/// ` |` with its indentation and chomping indicators, then the lines.
fn literal_block(out: &mut String, s: &str, prefix: &str, step: usize) {
    out.push_str(" |");
    // The first line with more than spaces sets the indentation; a leading space needs
    // an explicit indicator.
    if s.split('\n')
        .find(|line| !line.trim_matches(' ').is_empty())
        .is_some_and(|line| line.starts_with(' '))
    {
        out.push_str(&step.to_string());
    }
    if s.ends_with("\n\n") {
        out.push('+');
    } else if !s.ends_with('\n') {
        out.push('-');
    }
    for row in s.split('\n') {
        out.push('\n');
        if !row.is_empty() {
            out.push_str(prefix);
            out.extend(std::iter::repeat_n(' ', step));
            out.push_str(row);
        }
    }
}

fn key_text(out: &mut String, key: &Key<'_>) {
    match key {
        Key::Int(k) => out.push_str(k),
        Key::Str(k) => string(out, k),
    }
}

/// `Inline::dump`: flow style.
fn flow(out: &mut String, value: &Value) {
    match node(value) {
        Node::List(items) => {
            out.push('[');
            for (i, item) in items.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(out, item);
            }
            out.push(']');
        }
        Node::Map(pairs) if pairs.is_empty() => out.push_str("[]"),
        Node::Map(pairs) => {
            out.push_str("{ ");
            for (i, (key, v)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                key_text(out, &key);
                out.push_str(": ");
                flow(out, v);
            }
            out.push_str(" }");
        }
        Node::Scalar(Value::Null) => out.push_str("null"),
        Node::Scalar(Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        Node::Scalar(Value::Number(n)) => number(out, n),
        Node::Scalar(Value::String(s)) => string(out, s),
        Node::Scalar(_) => unreachable!("collections are lists or maps"),
    }
}

fn number(out: &mut String, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.push_str(&i.to_string());
        return;
    }
    // A JSON integer beyond i64 is a float in PHP, like every other number here.
    let f = n.as_f64().unwrap_or(0.0);
    let repr = php_float(f);
    out.push_str(&repr);
    if f.is_finite() && f.fract() == 0.0 && repr.parse::<f64>() == Ok(f) && !repr.contains('E') {
        out.push_str(".0");
    }
}

/// PHP's `(string)` of a float (`precision` = 14): `zend_gcvt`.
pub(super) fn php_float(f: f64) -> String {
    if f.is_nan() {
        return "NAN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".Inf" } else { "-.Inf" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.13e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let decpt = exp.parse::<i32>().unwrap_or(0) + 1;
    let mut out = String::new();
    if f < 0.0 {
        out.push('-');
    }
    if !(-3..=14).contains(&decpt) {
        let e = decpt - 1;
        out.push_str(&digits[..1]);
        out.push('.');
        out.push_str(if digits.len() > 1 { &digits[1..] } else { "0" });
        out.push('E');
        out.push(if e < 0 { '-' } else { '+' });
        out.push_str(&e.abs().to_string());
    } else if decpt <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', decpt.unsigned_abs() as usize));
        out.push_str(digits);
    } else {
        let point = decpt as usize;
        if digits.len() <= point {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', point - digits.len()));
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
    out
}

/// A string scalar, quoted where symfony/yaml quotes it.
fn string(out: &mut String, s: &str) {
    if is_php_numeric(s) && !s.contains(['\x0C', '\n', '\r', '\t', '\x0B']) {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else if s.is_empty() {
        out.push_str("''");
    } else if s
        .bytes()
        .any(|b| matches!(b, 0x01..=0x06 | 0x0E..=0x1A | 0x1C..=0x1F))
    {
        out.push_str("!!binary ");
        out.push_str(&base64(s.as_bytes()));
    } else if s.chars().any(needs_double_quotes) {
        double_quoted(out, s);
    } else if needs_single_quotes(s) {
        let single = format!("'{}'", s.replace('\'', "''"));
        if s.contains('\'') {
            let mut double = String::new();
            double_quoted(&mut double, s);
            out.push_str(if double.len() < single.len() {
                &double
            } else {
                &single
            });
        } else {
            out.push_str(&single);
        }
    } else if reads_as_other_type(s) {
        out.push('\'');
        out.push_str(s);
        out.push('\'');
    } else {
        out.push_str(s);
    }
}

/// `Escaper::REGEX_CHARACTER_TO_ESCAPE`.
fn needs_double_quotes(c: char) -> bool {
    matches!(
        c,
        '\0'..='\x1F' | '\x7F' | '\u{85}' | '\u{A0}' | '\u{2028}' | '\u{2029}'
    )
}

fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\0' => out.push_str("\\0"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0B' => out.push_str("\\v"),
            '\x0C' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\x1B' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{A0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if c < ' ' || c == '\x7F' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `Escaper::requiresSingleQuoting`: a word YAML reads as null or a boolean, a flow or
/// comment indicator or whitespace anywhere, or an indicator (or a space) at the start.
fn needs_single_quotes(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "null", "~", "true", "false", "y", "n", "yes", "no", "on", "off",
    ];
    if WORDS.contains(&s.to_lowercase().as_str()) {
        return true;
    }
    s.chars().any(|c| {
        c.is_whitespace()
            || matches!(
                c,
                '\'' | '"' | ':' | '{' | '}' | '[' | ']' | ',' | '&' | '*' | '#' | '?'
            )
    }) || s.starts_with(|c: char| {
        matches!(c, '-' | '?' | '|' | '<' | '>' | '=' | '!' | '%' | '@' | '`') || space_separator(c)
    })
}

/// Unicode category Zs.
fn space_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Digits with `_` separators, `0x` hexadecimal, or a YAML timestamp: quoted so they read
/// back as strings.
fn reads_as_other_type(s: &str) -> bool {
    let b = s.as_bytes();
    let digits_underscores = b.first().is_some_and(u8::is_ascii_digit)
        && b.iter().all(|c| c.is_ascii_digit() || *c == b'_');
    let hex = b.len() > 2
        && b[..2].eq_ignore_ascii_case(b"0x")
        && b[2..].iter().all(|c| c.is_ascii_hexdigit() || *c == b'_');
    digits_underscores || hex || is_timestamp(b)
}

/// symfony/yaml's timestamp pattern: `YYYY-M[M]-D[D]`, optionally followed by
/// `[Tt]` or blanks, `H[H]:MM:SS`, a fraction and a zone.
fn is_timestamp(b: &[u8]) -> bool {
    fn digits(b: &[u8], i: &mut usize, min: usize, max: usize) -> bool {
        let n = b[*i..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_digit())
            .count();
        *i += n;
        n >= min
    }
    fn byte(b: &[u8], i: &mut usize, c: u8) -> bool {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    }
    let mut i = 0;
    if !(digits(b, &mut i, 4, 4)
        && byte(b, &mut i, b'-')
        && digits(b, &mut i, 1, 2)
        && byte(b, &mut i, b'-')
        && digits(b, &mut i, 1, 2))
    {
        return false;
    }
    if i == b.len() {
        return true;
    }
    match b[i] {
        b'T' | b't' => i += 1,
        b' ' | b'\t' => {
            while matches!(b.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
        }
        _ => return false,
    }
    if !(digits(b, &mut i, 1, 2)
        && byte(b, &mut i, b':')
        && digits(b, &mut i, 2, 2)
        && byte(b, &mut i, b':')
        && digits(b, &mut i, 2, 2))
    {
        return false;
    }
    if byte(b, &mut i, b'.') {
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if i == b.len() {
        return true;
    }
    // An optional zone after optional blanks.
    while matches!(b.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') => {
            i += 1;
            if !digits(b, &mut i, 1, 2) {
                return false;
            }
            if byte(b, &mut i, b':') && !digits(b, &mut i, 2, 2) {
                return false;
            }
        }
        _ => return false,
    }
    i == b.len()
}

/// PHP 8's `is_numeric` for a string: optional leading and trailing whitespace, a sign,
/// a decimal with at least one digit, an optional exponent.
fn is_php_numeric(s: &str) -> bool {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C');
    let t = s.trim_start_matches(ws).trim_end_matches(ws);
    let t = t.strip_prefix(['+', '-']).unwrap_or(t);
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let all_digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
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

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    //! Expected texts are what Kirby 5.5.2 (symfony/yaml 7.4) wrote for the same values.
    use super::*;
    use crate::format::yaml::Handler;
    use serde_json::json;

    fn sym(value: &Value) -> String {
        Handler::SYMFONY.dump(value)
    }

    #[test]
    fn strings_are_quoted_like_symfony() {
        let cases = [
            ("plain text", "'plain text'"),
            ("Seeds: runner bean", "'Seeds: runner bean'"),
            ("#42", "'#42'"),
            ("a # b", "'a # b'"),
            ("- dash", "'- dash'"),
            ("-leading", "'-leading'"),
            ("it's", "\"it's\""),
            ("it's \"quoted\"", "'it''s \"quoted\"'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("back\\slash", "back\\slash"),
            ("100%", "100%"),
            ("@home", "'@home'"),
            ("`tick`", "'`tick`'"),
            ("?", "'?'"),
            ("a?b", "'a?b'"),
            ("{x}", "'{x}'"),
            ("[x]", "'[x]'"),
            ("a, b", "'a, b'"),
            ("&amp", "'&amp'"),
            ("*star", "'*star'"),
            ("!bang", "'!bang'"),
            ("|pipe", "'|pipe'"),
            (">gt", "'>gt'"),
            ("=eq", "'=eq'"),
            ("yes", "'yes'"),
            ("No", "'No'"),
            ("ON", "'ON'"),
            ("off", "'off'"),
            ("y", "'y'"),
            ("N", "'N'"),
            ("null", "'null'"),
            ("~", "'~'"),
            ("true", "'true'"),
            ("FALSE", "'FALSE'"),
            ("", "''"),
            (" ", "' '"),
            (" lead", "' lead'"),
            ("trail ", "'trail '"),
            ("0", "'0'"),
            ("42", "'42'"),
            ("-7", "'-7'"),
            ("+1", "'+1'"),
            ("1.5", "'1.5'"),
            (".5", "'.5'"),
            ("1e3", "'1e3'"),
            ("007", "'007'"),
            ("1_000", "'1_000'"),
            ("0x1F", "'0x1F'"),
            ("0b101", "0b101"),
            ("2024-05-02", "'2024-05-02'"),
            ("2024-05-02 10:30:00", "'2024-05-02 10:30:00'"),
            ("12:30", "'12:30'"),
            ("Zürich", "Zürich"),
            ("日本語", "日本語"),
            ("naïve café", "'naïve café'"),
            ("tab\there", "\"tab\\there\""),
            ("bell\u{7}", "\"bell\\a\""),
            ("nul\u{0}", "\"nul\\0\""),
            ("soh\u{1}", "!!binary c29oAQ=="),
            ("esc\u{1b}", "\"esc\\e\""),
            ("del\u{7f}", "\"del\\x7f\""),
            ("nbsp\u{a0}x", "\"nbsp\\_x\""),
            ("em\u{2003}space", "'em\u{2003}space'"),
            ("\u{3000}ideo", "'\u{3000}ideo'"),
            ("line\u{2028}sep", "\"line\\Lsep\""),
            ("page://abc123", "'page://abc123'"),
            (
                "https://example.com/a?b=c#d",
                "'https://example.com/a?b=c#d'",
            ),
            ("a: b", "'a: b'"),
            ("a:b", "'a:b'"),
            ("ends:", "'ends:'"),
            ("x ~ y", "'x ~ y'"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                sym(&json!({ "k": input })),
                format!("k: {expected}\n"),
                "input {input:?}"
            );
            let back = Handler::SYMFONY.parse(&sym(&json!([input]))).unwrap();
            assert_eq!(back, json!([input]), "read back {input:?}");
        }
    }

    #[test]
    fn structures_in_block_style() {
        let rows = json!([{"crop": "Runner bean", "sow": "April: indoors", "depth": 2.5,
            "count": 12, "tags": ["climbing", "heritage"], "notes": "Soak overnight.\nSow 5 cm deep.",
            "empty": "", "none": null, "ok": true, "kids": []}]);
        let text = "-\n  crop: 'Runner bean'\n  sow: 'April: indoors'\n  depth: 2.5\n  count: 12\n  tags:\n    - climbing\n    - heritage\n  notes: |-\n    Soak overnight.\n    Sow 5 cm deep.\n  empty: ''\n  none: null\n  ok: true\n  kids: []\n";
        assert_eq!(sym(&rows), text);
        assert_eq!(Handler::SYMFONY.parse(text).unwrap(), rows);
        let object = json!({"donor": "Ada", "place": {"town": "Zürich", "grid": "47.37, 8.54"}, "year": "1998"});
        assert_eq!(
            sym(&object),
            "donor: Ada\nplace:\n  town: Zürich\n  grid: '47.37, 8.54'\nyear: '1998'\n"
        );
        assert_eq!(
            sym(&json!(["page://a1b2c3d4e5f6g7h8"])),
            "- 'page://a1b2c3d4e5f6g7h8'\n"
        );
    }

    #[test]
    fn literal_blocks_carry_their_indicators() {
        let rows = json!([{"text": "  indented first\nsecond"}, {"text": "keep\n\n"}, {"text": "clip\n"}, {"text": "cr\r\nlf"}]);
        let text = "-\n  text: |2-\n      indented first\n    second\n-\n  text: |+\n    keep\n\n-\n  text: |\n    clip\n-\n  text: \"cr\\r\\nlf\"\n";
        assert_eq!(sym(&rows), text);
        assert_eq!(Handler::SYMFONY.parse(text).unwrap(), rows);
        // Kirby's .txt writer trims the text: a last block then has no line break to keep.
        assert_eq!(
            Handler::SYMFONY.parse("- |\n  clip").unwrap(),
            json!(["clip"])
        );
        assert_eq!(
            Handler::SYMFONY.parse("- |+\n  keep").unwrap(),
            json!(["keep"])
        );
        // Leading lines of only spaces are empty lines, as symfony/yaml reads them.
        assert_eq!(
            Handler::SYMFONY.parse("- |-\n   \n  x").unwrap(),
            json!(["\nx"])
        );
        // Control characters are written raw into a block, and read back.
        let raw = json!([{"t": "a\u{1b}\nb\u{1}"}]);
        // A block at the end has no line break after it.
        assert_eq!(sym(&raw), "-\n  t: |-\n    a\u{1b}\n    b\u{1}");
        assert_eq!(Handler::SYMFONY.parse(&sym(&raw)).unwrap(), raw);
    }

    #[test]
    fn keys_lists_and_numbers_as_php_sees_them() {
        assert_eq!(sym(&json!({"0": "a", "1": "b"})), "- a\n- b\n");
        assert_eq!(sym(&json!({"2": "a", "x": "b"})), "2: a\nx: b\n");
        assert_eq!(
            sym(&json!({"1.5": 1, "-3": 2, "01": 3, "n": 4})),
            "'1.5': 1\n-3: 2\n'01': 3\n'n': 4\n"
        );
        assert_eq!(
            sym(&json!([[], {}, [[1, 2]], {"n": 1.0, "m": 1e20, "p": 0.1}])),
            "- []\n- []\n-\n  -\n    - 1\n    - 2\n-\n  'n': 1.0\n  m: 1.0E+20\n  p: 0.1\n"
        );
        assert_eq!(sym(&json!([])), "[]");
        assert_eq!(sym(&json!({})), "[]");
        for (f, text) in [
            (1.5, "1.5"),
            (0.1 + 0.2, "0.3"),
            (1e14, "1.0E+14"),
            (12_345_678_901_234.0, "12345678901234"),
            (123_456_789_012_345.0, "1.2345678901234E+14"),
            (0.0001, "0.0001"),
            (0.00001, "1.0E-5"),
            (-2.5e-7, "-2.5E-7"),
        ] {
            assert_eq!(php_float(f), text, "{f}");
        }
        assert_eq!(
            sym(&json!([18_446_744_073_709_551_615_u64])),
            "- 1.844674407371E+19\n"
        );
    }

    #[test]
    fn inline_level_and_indentation_are_parameters() {
        let rows = json!([{"tags": ["a", "b"], "place": {"town": "Zürich"}, "notes": "x\ny"}]);
        let deep = Handler::Symfony {
            inline: 2,
            indent: 4,
        };
        assert_eq!(
            deep.dump(&rows),
            "-\n    tags: [a, b]\n    place: { town: Zürich }\n    notes: |-\n        x\n        y"
        );
        let flat = Handler::Symfony {
            inline: 0,
            indent: 2,
        };
        assert_eq!(
            flat.dump(&rows),
            "[{ tags: [a, b], place: { town: Zürich }, notes: \"x\\ny\" }]"
        );
        assert_eq!(
            Handler::from_options(Some("symfony"), Some(2), Some(0)),
            Handler::Symfony {
                inline: 2,
                indent: 1
            }
        );
        assert_eq!(
            Handler::from_options(Some("spyc"), None, None),
            Handler::Spyc
        );
        assert_eq!(Handler::from_options(None, Some(3), None), Handler::Spyc);
    }

    #[test]
    fn symfony_reader_keeps_yaml_1_2_words_as_strings() {
        assert_eq!(
            Handler::SYMFONY
                .parse("a: yes\nb: off\nc: true\nd: 'yes'\ne: 0b101\n- x")
                .ok(),
            None
        );
        assert_eq!(
            Handler::SYMFONY
                .parse("a: yes\nb: off\nc: true\nd: ~\ne: 0b101\n")
                .unwrap(),
            json!({"a": "yes", "b": "off", "c": true, "d": null, "e": "0b101"})
        );
        assert_eq!(
            Handler::Spyc.parse("a: yes\nb: off\n").unwrap(),
            json!({"a": true, "b": false})
        );
    }
}
