//! Kirby's `.txt` content format: decoding and encoding field maps (CONTENT.md §3.1, §3.2).
//!
//! A content file is a list of `Key: value` entries separated by lines of `----`.
//! [`decode`] reproduces Kirby's reader exactly, including its quirks (a line that only
//! *starts* with `----` also separates fields). [`encode`] reproduces Kirby's writer
//! byte for byte. Values are always strings; typing happens per field type elsewhere.

use indexmap::IndexMap;

/// Separator written between two fields.
const SEPARATOR: &str = "\n\n----\n\n";

/// Maximum length of a field name produced by the writer.
const MAX_NAME_LEN: usize = 128;

/// Decodes the text of a content file into its fields, in file order.
///
/// Keys are in the reader's form (see [`field_key`]): `Text-Color` becomes `text_color`.
/// A key that occurs twice keeps its first position and gets the later value.
pub fn decode(input: &str) -> crate::model::Content {
    let mut fields = crate::model::Content::default();
    let input = input.strip_prefix('\u{FEFF}').unwrap_or(input);
    if input.is_empty() {
        return fields;
    }
    for chunk in split_chunks(input) {
        let Some(colon) = chunk.find(':') else {
            continue;
        };
        if colon == 0 {
            continue;
        }
        let key = field_key(&chunk[..colon]);
        if key.is_empty() || key == "0" {
            continue;
        }
        let value = unescape(php_trim(&chunk[colon + 1..]));
        // `IndexMap::insert` keeps the position of an existing key.
        fields.insert(key, value);
    }
    fields
}

/// Encodes fields into the text of a content file, exactly as Kirby writes it.
///
/// A `None` value skips the field (writing `null` deletes a field in Kirby). Keys are
/// turned into field names with [`field_name`]; pairs whose key or name is empty or `"0"`
/// are skipped. When two keys produce the same name, the later value wins at the first
/// key's position. The output has no trailing newline.
pub fn encode<'a, I>(fields: I) -> String
where
    I: IntoIterator<Item = (&'a str, Option<&'a str>)>,
{
    let mut entries: IndexMap<String, &'a str> = IndexMap::new();
    for (key, value) in fields {
        let Some(value) = value else {
            continue;
        };
        if key.is_empty() || key == "0" {
            continue;
        }
        let name = field_name(key);
        if name.is_empty() || name == "0" {
            continue;
        }
        entries.insert(name, value);
    }

    let mut out = String::new();
    for (i, (name, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(SEPARATOR);
        }
        let value = encode_value(value);
        out.push_str(name);
        out.push(':');
        out.push_str(if line_break(&value) { "\n\n" } else { " " });
        out.push_str(&value);
    }
    out
}

/// The writer's form of a field key: slugified, then the first letter capitalised
/// (`text_color` → `Text-color`, `heroImage` → `Heroimage`).
pub fn field_name(key: &str) -> String {
    let mut name = slugify(key);
    if let Some(first) = name.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    name
}

/// The key a submitted field ends up under once written and read back: the writer's name
/// ([`field_name`]) in the reader's form ([`field_key`]). Every check on incoming keys uses
/// this form, so `uuid!`, `_uuid`, `uüid`, `UUID\u{a0}` and `uuid.` are all `uuid`, as the
/// writer would store them. Empty when the writer would drop the key.
pub fn canonical_key(key: &str) -> String {
    field_key(&field_name(key))
}

/// The reader's form of a field name: trimmed, ASCII-lowercased, with `-` and space
/// turned into `_` (`Text-color` → `text_color`).
pub fn field_key(name: &str) -> String {
    php_trim(name)
        .chars()
        .map(|c| match c {
            '-' | ' ' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Splits the text like PHP's `preg_split('/\n----\s*\n*/', …)`.
///
/// The separator is a newline, four hyphens and any run of whitespace after them (`\s*`
/// already swallows the trailing `\n*`). Whatever follows on the same line starts the
/// next chunk.
fn split_chunks(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + 5 <= bytes.len() {
        if bytes[i] == b'\n' && &bytes[i + 1..i + 5] == b"----" {
            chunks.push(&text[start..i]);
            let mut end = i + 5;
            while end < bytes.len() && is_pcre_space(bytes[end]) {
                end += 1;
            }
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    chunks.push(&text[start..]);
    chunks
}

/// PCRE's `\s` outside UTF mode: space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_pcre_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// PHP's `trim` with its default character list: space, `\t`, `\n`, `\r`, `\0`, `\x0B`.
fn php_trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r' | '\0' | '\x0B'))
}

/// Turns a `\----` at the start of the value or of any line back into `----`.
fn unescape(value: &str) -> String {
    if !value.contains("\\----") {
        return value.to_owned();
    }
    value
        .split('\n')
        .map(|line| {
            line.strip_prefix('\\')
                .filter(|rest| rest.starts_with("----"))
                .unwrap_or(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Escapes and trims a value for writing.
/// Kirby's test for a multi-line value: PCRE's `\R` on the value's bytes (no UTF-8 mode),
/// which matches LF, VT, FF, CR and the byte 0x85. That byte also occurs inside many UTF-8
/// characters (`م`, `Å`, `ą`), so such one-line values are written like multi-line ones.
fn line_break(value: &str) -> bool {
    value
        .bytes()
        .any(|b| matches!(b, b'\n' | 0x0b | 0x0c | b'\r' | 0x85))
}

fn encode_value(value: &str) -> String {
    let escaped = if value.contains("----") {
        value
            .split('\n')
            .map(|line| {
                if line.starts_with("----") {
                    format!("\\{line}")
                } else {
                    line.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        value.to_owned()
    };
    let trimmed = php_trim(&escaped);
    // Kirby escapes before it trims, so a value like " ----x\ny" would start a line with
    // an unescaped `----` and split the field on the next read. Escape that one case too;
    // single-line values stay byte-identical to Kirby's output.
    if trimmed.starts_with("----") && line_break(trimmed) {
        format!("\\{trimmed}")
    } else {
        trimmed.to_owned()
    }
}

/// Kirby's `Str::slug` for field names: trim, lowercase, transliterate to ASCII, replace
/// everything outside `[a-z0-9]` with `-`, collapse runs of `-`, drop leading and trailing
/// non-alphanumerics, cut to 128 characters.
fn slugify(key: &str) -> String {
    slug(key, MAX_NAME_LEN)
}

/// Kirby's `Str::slug`: trim, lowercase, transliterate to ASCII, everything outside
/// `[a-z0-9]` becomes `-`, runs collapse, leading/trailing `-` go, cut to `max` characters.
/// Used for page slugs (`Über Größe` → `uber-grosse`, `../../evil` → `evil`).
pub fn slug(key: &str, max: usize) -> String {
    slug_with(key, max, &[])
}

/// [`slug`] with a language's transliteration rules applied first (after lower-casing),
/// each rule over the whole string in order, as PHP's `str_replace` does.
pub fn slug_with(key: &str, max: usize, rules: &[(String, String)]) -> String {
    slug_full(key, max, rules, "")
}

/// Kirby's `Str::slug` in full: trim, lowercase, the language `rules`, then the ASCII
/// table; other non-ASCII characters are dropped (as `Str::ascii` does), every other
/// character outside `[a-z0-9]` and `extra` becomes `-`, runs of `-` collapse, leading
/// and trailing non-alphanumerics go, and the result is cut to `max` characters.
pub fn slug_full(key: &str, max: usize, rules: &[(String, String)], extra: &str) -> String {
    let mut lower = php_trim(key).to_lowercase();
    for (from, to) in rules {
        if !from.is_empty() && lower.contains(from.as_str()) {
            lower = lower.replace(from.as_str(), to);
        }
    }
    let mut slug = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() || (c != '-' && extra.contains(c)) {
            slug.push(c);
        } else if !c.is_ascii() {
            if let Some(ascii) = transliterate(c) {
                slug.push_str(ascii);
            }
        } else if (matches!(c, '\t' | '\n' | '\r') || !c.is_ascii_control()) && !slug.ends_with('-')
        {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    // Everything left is ASCII, so byte and character positions agree.
    slug[..slug.len().min(max)].trim_end_matches('-').to_owned()
}

/// ASCII replacements for common lowercase Latin letters with diacritics.
pub fn transliterate(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'ǎ' | 'ǻ' | 'ª' => "a",
        'æ' | 'ǽ' => "ae",
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => "c",
        'ð' | 'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ƒ' => "f",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => "i",
        'ĳ' => "ij",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' | 'ŉ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ơ' | 'ǒ' | 'ǿ' | 'º' => {
            "o"
        }
        'œ' => "oe",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ſ' => "s",
        'ß' => "ss",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ư' | 'ǔ' | 'ǖ' | 'ǘ' | 'ǚ'
        | 'ǜ' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_0x85_byte_makes_a_value_multi_line_like_kirbys_pcre() {
        assert_eq!(
            encode([("text", Some("Åland ferry"))]),
            "Text:\n\nÅland ferry"
        );
        assert_eq!(encode([("text", Some("Ferry"))]), "Text: Ferry");
        assert_eq!(encode([("t", Some("a\u{0b}b"))]), "T:\n\na\u{0b}b");
        assert_eq!(decode("Text:\n\nÅland ferry")["text"], "Åland ferry");
    }

    #[test]
    fn aliases_of_a_key_are_one_key() {
        for alias in [
            "uuid",
            "UUID",
            "uuid!",
            "_uuid",
            "uüid",
            "UUID\u{a0}",
            "uuid.",
            " uuid ",
            "-uuid-",
            "Uuid",
        ] {
            assert_eq!(canonical_key(alias), "uuid", "{alias:?}");
            // And that is what the writer stores and the reader reads back.
            let text = encode([(alias, Some("x"))]);
            assert_eq!(
                decode(&text).get("uuid").map(String::as_str),
                Some("x"),
                "{alias:?}"
            );
        }
        assert_eq!(canonical_key("text_color"), "text_color");
        assert_eq!(canonical_key("heroImage"), "heroimage");
        assert_eq!(canonical_key("!!!"), "");
    }
    use std::path::{Path, PathBuf};

    const SPEC_EXAMPLE: &str = "Title: First\n\n----\n\nText:\n\nHello\n\\----\nworld\n\n----\n\nTags: x, y z\n\n----\n\nUuid: xvdyueyt1rcvbvwg";

    fn pairs(map: &crate::model::Content) -> Vec<(&str, &str)> {
        map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    fn encode_map(map: &crate::model::Content) -> String {
        encode(map.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))))
    }

    #[test]
    fn spec_example_decodes() {
        let fields = decode(SPEC_EXAMPLE);
        assert_eq!(
            pairs(&fields),
            [
                ("title", "First"),
                ("text", "Hello\n----\nworld"),
                ("tags", "x, y z"),
                ("uuid", "xvdyueyt1rcvbvwg"),
            ]
        );
    }

    #[test]
    fn spec_example_round_trips_byte_for_byte() {
        assert_eq!(encode_map(&decode(SPEC_EXAMPLE)), SPEC_EXAMPLE);
    }

    #[test]
    fn empty_input_and_bom() {
        assert!(decode("").is_empty());
        assert!(decode("\u{FEFF}").is_empty());
        assert_eq!(pairs(&decode("\u{FEFF}Title: A")), [("title", "A")]);
    }

    #[test]
    fn line_starting_with_dashes_splits_and_leftover_starts_next_chunk() {
        // `\s*` swallows the spaces after the hyphens.
        let fields = decode("Title: A\n----   Intro: C");
        assert_eq!(pairs(&fields), [("title", "A"), ("intro", "C")]);
        // `-----`: the fifth hyphen is left over and becomes part of the next key.
        let fields = decode("Title: A\n-----Text: B");
        assert_eq!(pairs(&fields), [("title", "A"), ("_text", "B")]);
        let fields = decode("Title: A\n-----\nText: B");
        assert_eq!(pairs(&fields), [("title", "A"), ("_\ntext", "B")]);
        // A value line starting with `----` cuts the value short.
        let fields = decode("Text: a\n---- b\nc");
        assert_eq!(pairs(&fields), [("text", "a")]);
    }

    #[test]
    fn dashes_at_the_very_start_do_not_split() {
        let fields = decode("----\nTitle: A");
        assert_eq!(pairs(&fields), [("____\ntitle", "A")]);
    }

    #[test]
    fn three_or_indented_dashes_do_not_split() {
        let fields = decode("Text: a\n---\nb\n ----\nc");
        assert_eq!(pairs(&fields), [("text", "a\n---\nb\n ----\nc")]);
    }

    #[test]
    fn crlf_files_work() {
        let fields = decode("Title: A\r\n\r\n----\r\n\r\nText:\r\n\r\nline 1\r\nline 2\r\n");
        assert_eq!(
            pairs(&fields),
            [("title", "A"), ("text", "line 1\r\nline 2")]
        );
    }

    #[test]
    fn chunk_without_colon_or_with_leading_colon_is_skipped() {
        let fields = decode("no colon here\n----\n: value\n----\nA: 1");
        assert_eq!(pairs(&fields), [("a", "1")]);
    }

    #[test]
    fn key_normalisation_and_skipped_keys() {
        let fields =
            decode(" Text-Color : red\n----\nHero Image: x\n----\n0: zero\n----\n  : blank");
        assert_eq!(pairs(&fields), [("text_color", "red"), ("hero_image", "x")]);
        // Only ASCII is lowercased.
        assert_eq!(pairs(&decode("ÄBC: 1")), [("Äbc", "1")]);
    }

    #[test]
    fn value_is_php_trimmed_and_may_contain_colons() {
        let fields = decode("Url: \t https://example.com:8080/a \0\x0B\n");
        assert_eq!(pairs(&fields), [("url", "https://example.com:8080/a")]);
    }

    #[test]
    fn duplicate_keys_keep_first_position_and_last_value() {
        let fields = decode("A: 1\n----\nB: 2\n----\na: 3");
        assert_eq!(pairs(&fields), [("a", "3"), ("b", "2")]);
    }

    #[test]
    fn unescape_only_at_value_start_or_after_newline() {
        let fields = decode("A: \\----x\n----\nB: x \\----\n----\nC: x\n\\----\n\\\\----");
        assert_eq!(
            pairs(&fields),
            [
                ("a", "----x"),
                ("b", "x \\----"),
                ("c", "x\n----\n\\\\----")
            ]
        );
    }

    #[test]
    fn writer_examples() {
        assert_eq!(field_name("title"), "Title");
        assert_eq!(field_name("text_color"), "Text-color");
        assert_eq!(field_name("heroImage"), "Heroimage");
        assert_eq!(field_name("  Über  Straße!! "), "Uber-strasse");
        assert_eq!(field_name("--x--"), "X");
        assert_eq!(field_name("1st"), "1st");
        assert_eq!(field_name("日本"), "");
        assert_eq!(field_name(&"a".repeat(200)).len(), 128);
        assert_eq!(field_key("Text-color"), "text_color");
        assert_eq!(field_key(&field_name("text_color")), "text_color");
    }

    #[test]
    fn encode_layout() {
        let out = encode([
            ("title", Some("Hello")),
            ("deleted", None),
            ("empty", Some("")),
            ("text", Some("  line 1\nline 2  ")),
            ("", Some("no key")),
            ("0", Some("zero key")),
            ("日本", Some("no name")),
        ]);
        assert_eq!(
            out,
            "Title: Hello\n\n----\n\nEmpty: \n\n----\n\nText:\n\nline 1\nline 2"
        );
        assert_eq!(encode(std::iter::empty()), "");
    }

    #[test]
    fn encode_escapes_dashes_at_line_starts() {
        let out = encode([("text", Some("----\na ----\n----b"))]);
        assert_eq!(out, "Text:\n\n\\----\na ----\n\\----b");
        // Single-line values after trimming keep Kirby's bytes.
        assert_eq!(encode([("a", Some("  ----x"))]), "A: ----x");
        // Multi-line ones get the extra escape so the file does not split.
        assert_eq!(encode([("a", Some("  ----x\ny"))]), "A:\n\n\\----x\ny");
    }

    #[test]
    fn encode_duplicate_names_later_value_first_position() {
        let out = encode([
            ("text_color", Some("red")),
            ("b", Some("x")),
            ("Text Color", Some("blue")),
        ]);
        assert_eq!(out, "Text-color: blue\n\n----\n\nB: x");
        // A deleted duplicate does not remove the earlier value.
        let out = encode([("a", Some("1")), ("A", None)]);
        assert_eq!(out, "A: 1");
    }

    /// Values whose round trip must return the PHP-trimmed value unchanged.
    fn tricky_values() -> Vec<String> {
        let atoms = [
            "",
            "a",
            " ",
            "\n",
            "\r\n",
            "----",
            "-----",
            "---",
            ":",
            "a: b",
            "\\",
            "\\---",
            "\t",
            "x",
            "ä",
            "\u{FEFF}",
            "Key: value",
            "\n\n----\n\n",
            "#",
        ];
        let mut values: Vec<String> = atoms.iter().map(|s| (*s).to_owned()).collect();
        for a in atoms {
            for b in atoms {
                values.push(format!("{a}{b}"));
                for c in ["\n", "\r\n", " ", "----"] {
                    values.push(format!("{a}{c}{b}"));
                    values.push(format!("x{a}{c}{b}x"));
                }
            }
        }
        values.push("line\n----\nline".into());
        values.push("  leading and trailing  ".into());
        values.push("a\n\n----\n\nB: c".into());
        values.push("a\n----b: c".into());
        values.push("\n----\n----\n".into());
        values.push("[{\"content\":{\"text\":\"a\\n----\"},\"id\":\"x\"}]".into());
        values
    }

    /// Kirby's escaping cannot represent a value that itself starts a line with `\----`.
    fn representable(value: &str) -> bool {
        !value
            .split('\n')
            .any(|line| php_trim(line).starts_with("\\----"))
    }

    #[test]
    fn round_trip_property_over_tricky_values() {
        let mut checked = 0;
        for value in tricky_values() {
            if !representable(&value) {
                continue;
            }
            let text = encode([
                ("before", Some("1")),
                ("field", Some(value.as_str())),
                ("after", Some("2")),
            ]);
            let fields = decode(&text);
            let expected = php_trim(&value);
            assert_eq!(
                pairs(&fields),
                [("before", "1"), ("field", expected), ("after", "2")],
                "value {value:?} encoded as {text:?}"
            );
            // Decoding what was written from decoded fields gives the same fields.
            assert_eq!(decode(&encode_map(&fields)), fields, "value {value:?}");
            checked += 1;
        }
        assert!(checked > 2000, "only {checked} values checked");
    }

    #[test]
    fn round_trip_property_over_tricky_keys() {
        for key in [
            "title",
            "text_color",
            "Hero Image",
            "a-b c_d",
            "x1",
            "ÄÖÜ",
            "ß",
        ] {
            let text = encode([(key, Some("v"))]);
            let fields = decode(&text);
            assert_eq!(fields.len(), 1, "key {key:?}");
            assert_eq!(
                fields.keys().next().map(String::as_str),
                Some(field_key(&field_name(key)).as_str())
            );
        }
    }

    fn fixture_content() -> PathBuf {
        PathBuf::from("/work/shared/kirby-fixture/site/content")
    }

    fn txt_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                txt_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "txt") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_fixture_content_file_decodes() {
        let root = fixture_content();
        if !root.is_dir() {
            eprintln!("fixture not found at {}; skipping", root.display());
            return;
        }
        let mut files = Vec::new();
        txt_files(&root, &mut files);
        assert!(files.len() >= 30, "found only {} files", files.len());
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let fields = decode(&text);
            if !text.trim().is_empty() {
                assert!(!fields.is_empty(), "{} decoded to nothing", path.display());
            }
            for key in fields.keys() {
                assert_eq!(
                    key,
                    &field_key(key),
                    "{}: key {key:?} not normalised",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn fixture_values_spot_checks() {
        let root = fixture_content();
        if !root.is_dir() {
            return;
        }
        let read = |rel: &str| decode(&std::fs::read_to_string(root.join(rel)).unwrap());

        let article = read("1_blog/20240212_tidal-charts/article.txt");
        assert_eq!(article["title"], "Tidal Charts, Revised");
        assert_eq!(article["sources"], "");
        assert_eq!(article["author"], "- user://editor01");
        assert_eq!(
            article["text"],
            "We compared three weeks of readings with the printed table.\n\nThe new chart is attached."
        );
        let blocks: serde_json::Value = serde_json::from_str(&article["body"]).unwrap();
        assert_eq!(blocks.as_array().map(Vec::len), Some(3));
        assert_eq!(blocks[2]["content"]["caption"], "Revised chart");
        assert_eq!(article.keys().last().map(String::as_str), Some("uuid"));

        let about = read("3_about/about.txt");
        assert!(
            about["contacts"].starts_with("-\n  name: Ada\n"),
            "{:?}",
            about["contacts"]
        );
        let contacts = crate::format::yaml::parse(&about["contacts"]).unwrap();
        assert_eq!(contacts[1]["phone"], "+44 0000 000002");
        assert_eq!(about["members"], "42");

        let site = read("site.txt");
        assert_eq!(
            site["description"],
            "A volunteer group that keeps an old harbour light running\nand writes down what the sea does."
        );
        let social = crate::format::yaml::parse(&site["social"]).unwrap();
        assert_eq!(social[0]["handle"], "@saltmarsh@example.social");
    }
}
