//! Property tests of the three on-disk codecs in `folio_core::format` (`txt`, `yaml`,
//! `php_array`): write/read round trips, idempotent re-reading, and readers that never panic.

use folio_core::format::php_array::{self, Key, Value as Php};
use folio_core::format::{txt, yaml};
use indexmap::IndexMap;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Number, Value as Json};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Concatenations of `atoms`, single arbitrary characters and short arbitrary strings.
fn soup(atoms: &'static [&'static str], max_parts: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            6 => select(atoms).prop_map(str::to_owned),
            2 => any::<char>().prop_map(String::from),
            1 => "\\PC{0,8}",
        ],
        0..=max_parts,
    )
    .prop_map(|parts| parts.concat())
}

// =======================================================================================
// `.txt` content files
// =======================================================================================

/// Pieces that stress Kirby's `.txt` syntax: separators and near-separators, escapes,
/// `Key:` look-alikes, everything PHP's `trim` strips and a few characters it does not.
const TXT_ATOMS: &[&str] = &[
    "",
    "a",
    "x y",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\0",
    "\x0B",
    "\x0C",
    "----",
    "-----",
    "---",
    " ----",
    "\n----",
    "\n----\n",
    "\n---- ",
    "\n\n----\n\n",
    "\r\n----\r\n",
    "\\----",
    "\n\\----",
    "\\\\----",
    "\\",
    ":",
    ": ",
    "Title: x",
    "\nText:",
    "Key:",
    "text_color: y",
    "0: zero",
    "ä",
    "Ü",
    "日本",
    "\u{FEFF}",
    "\u{a0}",
    "\u{2028}",
    "#",
    "[{\"a\":\"b\\n----\"}]",
];

/// Kirby field keys as blueprints spell them: lowercase ASCII words joined by `_`. These
/// are exactly the keys the writer and reader keep unchanged.
fn kirby_key() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,7}(_[a-z0-9]{1,6}){0,2}"
}

/// Anything a caller might submit as a key: case, diacritics, punctuation, whitespace,
/// non-Latin scripts, `0`, and names longer than the writer's 128-character limit.
fn any_key() -> impl Strategy<Value = String> {
    const KEY_ATOMS: &[&str] = &[
        "",
        "0",
        "a",
        "Text",
        "color",
        "_",
        "-",
        " ",
        "  ",
        "\t",
        "\n",
        ":",
        ".",
        "!",
        "ä",
        "Ü",
        "ß",
        "æ",
        "ĳ",
        "日本",
        "\u{a0}",
        "\u{FEFF}",
        "1",
        "heroImage",
        "UUID",
    ];
    prop_oneof![
        4 => soup(KEY_ATOMS, 6),
        1 => "[a-z]{120,140}",
        1 => "[A-Za-z0-9 _-]{1,12}",
    ]
}

fn txt_value() -> impl Strategy<Value = String> {
    soup(TXT_ATOMS, 10)
}

/// Values without a line that starts with `\----` once trimmed (see [`read_back`]).
fn representable_txt_value() -> impl Strategy<Value = String> {
    txt_value().prop_filter("a line-initial `\\----` reads back as `----`", |v| {
        !php_trim(v)
            .split('\n')
            .any(|line| line.starts_with("\\----"))
    })
}

/// PHP's `trim` with its default character list, which both the writer and the reader
/// apply to every value (txt module docs).
fn php_trim(s: &str) -> &str {
    s.trim_matches([' ', '\t', '\n', '\r', '\0', '\x0B'])
}

/// The value a field holds after being written and read back, by Kirby's rules: the value
/// is PHP-trimmed, and a line that starts with `\----` loses its backslash. Kirby escapes a
/// line-initial `----` as `\----` and unescapes every line-initial `\----`, so a literal
/// `\----` at the start of a line is the one text its format cannot carry.
fn read_back(value: &str) -> String {
    php_trim(value)
        .split('\n')
        .map(|line| match line.strip_prefix('\\') {
            Some(rest) if rest.starts_with("----") => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// What `txt::encode` followed by `txt::decode` must give for these pairs: `None` skips a
/// pair, keys take their canonical form, keys the writer drops (empty, `0`) are gone, and a
/// repeated key keeps its first position with its last value.
fn expected_fields(fields: &[(String, Option<String>)]) -> Vec<(String, String)> {
    let mut expected = folio_core::model::Content::default();
    for (key, value) in fields {
        let Some(value) = value else { continue };
        let key = txt::canonical_key(key);
        if key.is_empty() || key == "0" {
            continue;
        }
        expected.insert(key, read_back(value));
    }
    expected.into_iter().collect()
}

fn encode_pairs(fields: &[(String, Option<String>)]) -> String {
    txt::encode(fields.iter().map(|(k, v)| (k.as_str(), v.as_deref())))
}

fn encode_map(fields: &folio_core::model::Content) -> String {
    txt::encode(fields.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))))
}

/// Ordered pairs: `IndexMap`'s own `==` ignores order, and field order matters.
fn ordered(fields: &folio_core::model::Content) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// Text that looks like a content file some of the time: fields with arbitrary keys and
/// values, joined by separators and near-separators, with arbitrary noise in between.
fn txt_document() -> impl Strategy<Value = String> {
    let field = (any_key(), txt_value()).prop_map(|(k, v)| format!("{k}:{v}"));
    let separator = select(
        &[
            "\n----\n",
            "\n\n----\n\n",
            "\n---- ",
            "\n-----",
            "\r\n----\r\n",
            "\n",
            "",
        ][..],
    );
    prop_oneof![
        3 => prop::collection::vec((field, separator), 0..6).prop_map(|parts| {
            parts.into_iter().map(|(f, s)| format!("{f}{s}")).collect::<String>()
        }),
        1 => soup(TXT_ATOMS, 24),
        1 => any::<String>(),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Blueprint-style keys and arbitrary values: every field comes back under its own key,
    /// in order, with its value PHP-trimmed (and only Kirby's `\----` rule applied).
    #[test]
    fn txt_round_trip_with_kirby_keys(
        fields in prop::collection::vec(
            (kirby_key(), prop::option::weighted(0.9, txt_value())),
            0..8,
        )
    ) {
        for (key, _) in &fields {
            prop_assert_eq!(&txt::canonical_key(key), key);
        }
        let text = encode_pairs(&fields);
        let decoded = txt::decode(&text);
        prop_assert_eq!(ordered(&decoded), expected_fields(&fields), "text: {:?}", text);
    }

    /// Values Kirby can represent (no line starting with `\----`) come back exactly
    /// PHP-trimmed: the documented normalisation and nothing else.
    #[test]
    fn txt_representable_values_come_back_trimmed(
        before in representable_txt_value(),
        value in representable_txt_value(),
        after in representable_txt_value(),
    ) {
        let text = txt::encode([
            ("before", Some(before.as_str())),
            ("text", Some(value.as_str())),
            ("after", Some(after.as_str())),
        ]);
        let decoded = txt::decode(&text);
        prop_assert_eq!(
            decoded.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
            vec![
                ("before", php_trim(&before)),
                ("text", php_trim(&value)),
                ("after", php_trim(&after)),
            ],
            "text: {:?}",
            text
        );
    }

    /// Arbitrary keys end up under `canonical_key` (the writer's name in the reader's
    /// form), dropped keys vanish, and aliases of one key merge.
    #[test]
    fn txt_round_trip_with_arbitrary_keys(
        fields in prop::collection::vec(
            (any_key(), prop::option::weighted(0.9, txt_value())),
            0..8,
        )
    ) {
        let text = encode_pairs(&fields);
        let decoded = txt::decode(&text);
        prop_assert_eq!(ordered(&decoded), expected_fields(&fields), "text: {:?}", text);
        for (key, _) in &fields {
            let name = txt::field_name(key);
            prop_assert!(name.len() <= 128, "name {:?}", name);
            prop_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        }
    }

    /// Decoding any text never panics and yields keys in the reader's form; writing and
    /// re-reading what was decoded keeps every value and only canonicalises keys; after
    /// that one step the result is a fixed point.
    #[test]
    fn txt_decode_is_idempotent(text in txt_document()) {
        let first = txt::decode(&text);
        let mut expected = folio_core::model::Content::default();
        for (key, value) in &first {
            prop_assert!(!key.is_empty() && key != "0", "key {:?}", key);
            prop_assert_eq!(&txt::field_key(key), key);
            prop_assert_eq!(php_trim(value), value.as_str());
            let canonical = txt::canonical_key(key);
            if !canonical.is_empty() && canonical != "0" {
                expected.insert(canonical, value.clone());
            }
        }
        let second = txt::decode(&encode_map(&first));
        prop_assert_eq!(ordered(&second), ordered(&expected));
        let written = encode_map(&second);
        let third = txt::decode(&written);
        prop_assert_eq!(ordered(&third), ordered(&second), "written: {:?}", written);
        // Re-encoding a fixed point is byte-stable.
        prop_assert_eq!(encode_map(&third), written);
    }

    /// The reader copes with any bytes (lossily decoded), including a BOM in front.
    #[test]
    fn txt_decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200), bom in any::<bool>()) {
        let text = String::from_utf8_lossy(&bytes);
        let text = if bom { format!("\u{FEFF}{text}") } else { text.into_owned() };
        let _ = txt::decode(&text);
    }
}

// =======================================================================================
// YAML (structure fields, blueprints)
// =======================================================================================

/// Strings that YAML or Spyc would read as something else unless quoted, plus
/// indicators, quotes, escapes, line breaks and characters that need escaping.
const YAML_ATOMS: &[&str] = &[
    "",
    "a",
    "plain text",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    "\r",
    "\r\n",
    "-",
    "- ",
    "--- ",
    "---",
    "...",
    ":",
    ": ",
    "a: b",
    "ends:",
    "#",
    " #",
    "'",
    "''",
    "\"",
    "\\",
    "|",
    "|-",
    ">",
    "*",
    "*: x",
    "&",
    "&a",
    "!",
    "!!str",
    "%",
    "@",
    "`",
    "?",
    "? ",
    ",",
    "[",
    "]",
    "{",
    "}",
    "[]",
    "{}",
    "~",
    "<<",
    "=",
    "0",
    "1",
    "-1",
    "+1",
    "007",
    "1.5",
    "1e3",
    ".5",
    "1_000",
    "0x1F",
    "0o17",
    "0b1",
    ".inf",
    "-.Inf",
    ".NaN",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "N",
    "true",
    "False",
    "null",
    "Null",
    "2024-05-02",
    "12:30",
    "ä",
    "日本",
    "\u{FEFF}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{7}",
    "\0",
    "\u{1b}",
    "https://x.org/a?b=c#f",
    "user://abc",
];

fn yaml_string() -> impl Strategy<Value = String> {
    soup(YAML_ATOMS, 5)
}

fn json_number() -> impl Strategy<Value = Json> {
    prop_oneof![
        any::<i64>().prop_map(Json::from),
        (-1000i64..1000).prop_map(Json::from),
        select(&[i64::MIN, i64::MAX, 0, -1][..]).prop_map(Json::from),
        any::<u64>().prop_map(Json::from),
        any::<f64>()
            .prop_filter_map("JSON has no non-finite numbers", Number::from_f64)
            .prop_map(Json::Number),
        (-1000i32..1000, 0u32..4)
            .prop_map(|(m, e)| { Json::from(f64::from(m) / f64::from(10u32.pow(e))) }),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        1 => Just(Json::Null),
        1 => any::<bool>().prop_map(Json::Bool),
        2 => json_number(),
        5 => yaml_string().prop_map(Json::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::vec((yaml_string(), inner), 0..6)
                .prop_map(|entries| Json::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// What `yaml::parse(&yaml::dump(v))` must give: `v` itself, except that an empty
/// top-level list or map is written as an empty document, which reads as null (the
/// writer's documented way of storing an empty structure field), and that a nested empty
/// map is written as `[ ]`, as Kirby's Spyc writes it, so it reads back as an empty list.
fn yaml_expected(value: &Json) -> Json {
    match value {
        Json::Array(items) if items.is_empty() => Json::Null,
        Json::Object(map) if map.is_empty() => Json::Null,
        other => nested_expected(other),
    }
}

fn nested_expected(value: &Json) -> Json {
    match value {
        Json::Object(map) if map.is_empty() => Json::Array(Vec::new()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), nested_expected(v)))
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.iter().map(nested_expected).collect()),
        other => other.clone(),
    }
}

/// Serialised form, to compare key order and the int/float distinction exactly.
fn json_text(value: &Json) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// YAML-looking text: nested keys, list dashes, block headers, quotes and noise.
fn yaml_document() -> impl Strategy<Value = String> {
    const LINE_ATOMS: &[&str] = &[
        "a: ", "b:", "- ", "-", "  ", "    ", "\t", "\n", "|", "|+", ">-", "*: false", "'q'",
        "\"e\\n\"", "# c", "&x ", "*x", "[1, 2]", "{a: 1}", "---", "...", "yes", "~", "1e3", ": ",
        "Note: x", "\r\n", "? k", "!!int 3",
    ];
    soup(LINE_ATOMS, 30)
}

proptest! {
    #![proptest_config(config())]

    /// Nested values of every JSON kind survive the writer and the reader unchanged, key
    /// order and number kinds included.
    #[test]
    fn yaml_round_trip(value in json_value()) {
        let text = yaml::dump(&value);
        let back = yaml::parse(&text);
        prop_assert!(back.is_ok(), "dumped as {:?}: {:?}", text, back);
        let back = back.unwrap_or_default();
        let expected = yaml_expected(&value);
        prop_assert_eq!(json_text(&back), json_text(&expected), "dumped as {:?}", text);
        prop_assert_eq!(&back, &expected);
    }

    /// Structure fields are lists of maps; each entry's strings round-trip, and the dump
    /// ends with exactly one line break as Kirby stores it.
    #[test]
    fn yaml_structure_field_round_trip(
        rows in prop::collection::vec(
            prop::collection::vec((yaml_string(), yaml_string()), 1..5),
            1..4,
        )
    ) {
        let value = Json::Array(
            rows.into_iter()
                .map(|row| {
                    Json::Object(row.into_iter().map(|(k, v)| (k, Json::String(v))).collect())
                })
                .collect(),
        );
        let text = yaml::dump(&value);
        prop_assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "dumped as {:?}", text);
        let back = yaml::parse(&text);
        prop_assert!(back.is_ok(), "dumped as {:?}: {:?}", text, back);
        prop_assert_eq!(json_text(&back.unwrap_or_default()), json_text(&value), "dumped as {:?}", text);
    }

    /// The reader never panics; whatever it accepts, the writer writes back so that it
    /// reads the same again.
    #[test]
    fn yaml_parse_never_panics_and_is_idempotent(text in prop_oneof![
        3 => yaml_document(),
        1 => any::<String>(),
    ]) {
        if let Ok(first) = yaml::parse(&text) {
            let written = yaml::dump(&first);
            let second = yaml::parse(&written);
            prop_assert!(second.is_ok(), "re-dumped as {:?}: {:?}", written, second);
            prop_assert_eq!(
                json_text(&second.unwrap_or_default()),
                json_text(&yaml_expected(&first)),
                "re-dumped as {:?}",
                written
            );
        }
    }
}

// =======================================================================================
// PHP array files (accounts, languages, config)
// =======================================================================================

const PHP_ATOMS: &[&str] = &[
    "",
    "a",
    " ",
    "\n",
    "\r\n",
    "\t",
    "\0",
    "'",
    "\\",
    "\\'",
    "\\\\",
    "''",
    "\"",
    "$x",
    "{$x}",
    "?>",
    "<?php",
    "//",
    "#",
    "/*",
    "*/",
    "=>",
    ",",
    ";",
    "[",
    "]",
    "(",
    ")",
    "array(",
    "<<<EOT",
    "EOT",
    "0",
    "5",
    "-5",
    "05",
    "-0",
    "1.5",
    "9223372036854775808",
    "null",
    "NULL",
    "true",
    "ä",
    "日本",
    "\u{FEFF}",
];

fn php_string() -> impl Strategy<Value = String> {
    soup(PHP_ATOMS, 5)
}

fn php_int() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -20i64..20,
        select(&[i64::MIN, i64::MIN + 1, i64::MAX, 0, -1][..]),
    ]
}

/// Finite floats only: `write_file` spells NaN and infinities as the PHP constants `NAN`,
/// `INF` and `-INF`, which the literal-only parser keeps as `Value::Code` by design
/// (constants are not literals; see `php_float_constants_are_code`).
fn php_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (-1000i32..1000, 0u32..4).prop_map(|(m, e)| f64::from(m) / f64::from(10u32.pow(e))),
        select(
            &[
                0.0,
                -0.0,
                1e300,
                -2.5e-8,
                5e-324,
                f64::MAX,
                f64::MIN_POSITIVE
            ][..]
        ),
    ]
}

/// Array keys as PHP stores them: ints, and strings that are not canonical decimal ints
/// (`Key::from` turns `'5'` into `5`, as PHP does).
fn php_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        2 => php_int().prop_map(Key::Int),
        1 => (0i64..6).prop_map(Key::Int),
        4 => php_string().prop_map(Key::from),
    ]
}

fn php_value() -> impl Strategy<Value = Php> {
    let leaf = prop_oneof![
        1 => Just(Php::Null),
        1 => any::<bool>().prop_map(Php::Bool),
        2 => php_int().prop_map(Php::Int),
        1 => php_float().prop_map(Php::Float),
        4 => php_string().prop_map(Php::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            // Lists, written without keys.
            prop::collection::vec(inner.clone(), 0..6).prop_map(|items| {
                Php::Array(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Key::Int(i as i64), v))
                        .collect(),
                )
            }),
            // Maps; a PHP array cannot hold a key twice, so the first occurrence wins here.
            prop::collection::vec((php_key(), inner), 0..6).prop_map(|entries| {
                let mut map: IndexMap<Key, Php> = IndexMap::new();
                for (key, value) in entries {
                    map.entry(key).or_insert(value);
                }
                Php::Array(map.into_iter().collect())
            }),
        ]
    })
}

/// Equality that also tells `0.0` from `-0.0` (the derived `==` does not).
fn php_identical(a: &Php, b: &Php) -> bool {
    match (a, b) {
        (Php::Float(x), Php::Float(y)) => x.to_bits() == y.to_bits(),
        (Php::Array(xs), Php::Array(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((kx, vx), (ky, vy))| kx == ky && php_identical(vx, vy))
        }
        _ => a == b,
    }
}

fn has_code_or_non_finite(value: &Php) -> bool {
    match value {
        Php::Code(_) => true,
        Php::Float(f) => !f.is_finite(),
        Php::Array(items) => items.iter().any(|(_, v)| has_code_or_non_finite(v)),
        _ => false,
    }
}

/// Literal spellings PHP accepts beyond the writer's own: every number syntax, both quote
/// styles with their escapes, heredocs and nowdocs, and a few non-literals (code).
const PHP_SCALAR_SOURCES: &[&str] = &[
    "1",
    "-2",
    "+3",
    "0",
    "-0",
    "0x1F",
    "0X1f",
    "0b101",
    "0o17",
    "017",
    "1_000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775807-1",
    "0x8000000000000000",
    "1.5",
    ".5",
    "1.",
    "1e3",
    "2E-2",
    "-0.0",
    "1_0.5_0",
    "1e999",
    "NULL",
    "null",
    "True",
    "FALSE",
    "''",
    "'it\\'s'",
    "'a\\\\b'",
    "'\\n stays'",
    "'multi\nline'",
    "\"\"",
    "\"d\\n\\t\\x41\\101\\u{1F600}\\$x\\e\\v\\f\\\\\\\"\"",
    "\"\\u{zz} \\q $ {\"",
    "<<<EOT\n  a\n    b $\n  EOT",
    "<<<'N'\nraw $x \\n\nN",
    "<<<\"Q\"\nq\\tq\nQ",
    "\"$x\"",
    "PHP_EOL",
    "fn () => 1",
    "function () { return [1, 2]; }",
    "env('X', [1, 2])",
    "__DIR__ . '/x'",
];

/// Keys in source form: strings, ints, and the values PHP casts to keys.
const PHP_KEY_SOURCES: &[&str] = &[
    "'a'", "'5'", "'05'", "'-1'", "'-0'", "''", "\"k\"", "5", "-1", "0x10", "true", "false",
    "null", "1.7", "-2.5", "PHP_OS",
];

/// Whitespace and comments PHP allows between tokens.
const PHP_GAPS: &[&str] = &[
    "",
    " ",
    "\n",
    "\r\n",
    "\t",
    " /* c */ ",
    " // c\n",
    " # c\n",
    "\n#\n",
    " /**/",
];

fn php_source_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        4 => select(PHP_SCALAR_SOURCES).prop_map(str::to_owned),
        // Arbitrary strings in single quotes, escaped as PHP requires.
        1 => php_string().prop_map(|s| format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let gap = || select(PHP_GAPS);
        let item = (
            prop::option::weighted(0.6, (select(PHP_KEY_SOURCES), gap(), gap())),
            inner,
            gap(),
        )
            .prop_map(|(key, value, gap)| match key {
                Some((key, before, after)) => format!("{gap}{key}{before}=>{after}{value}"),
                None => format!("{gap}{value}"),
            });
        (
            prop::collection::vec(item, 0..6),
            any::<bool>(),
            any::<bool>(),
            gap(),
        )
            .prop_map(|(items, long_syntax, trailing_comma, gap)| {
                let mut body = items.join(",");
                if trailing_comma && !body.is_empty() {
                    body.push(',');
                }
                body.push_str(gap);
                if long_syntax {
                    format!("array({body})")
                } else {
                    format!("[{body}]")
                }
            })
    })
}

/// PHP-looking text: mostly files built from real syntax (openings, preambles, comments,
/// both array syntaxes, closing tags), otherwise soup of source fragments.
fn php_document() -> impl Strategy<Value = String> {
    const SOURCE_ATOMS: &[&str] = &[
        "<?php",
        "<?php\n\nreturn ",
        "return ",
        " ",
        "\n",
        "[",
        "]",
        "array(",
        ")",
        ",",
        " => ",
        "=>",
        ";",
        "'a'",
        "'it\\'s'",
        "\"d\\n\"",
        "\"$x\"",
        "1",
        "-2",
        "0x1F",
        "017",
        "089",
        "1e3",
        "1.",
        ".5",
        "9223372036854775808",
        "null",
        "TRUE",
        "fn () => 1",
        "function () { return [1]; }",
        "env('X')",
        "__DIR__ . '/x'",
        "PHP_EOL",
        "// c\n",
        "# c\n",
        "/* c */",
        "/*",
        "#[A]",
        "?>",
        "<<<EOT\nx\nEOT",
        "<<<'N'\ny\n  N",
        "declare(strict_types=1);",
        "use A\\B;",
        "{",
        "}",
        "'",
        "\"",
        "\\",
    ];
    const PREAMBLES: &[&str] = &[
        "\n\n",
        " ",
        "\n// config\n",
        "\n/** doc */\n",
        "\ndeclare(strict_types=1);\n",
        "\nnamespace A\\B;\nuse C\\D;\n",
        "\n# c\n",
    ];
    const ENDINGS: &[&str] = &[";", ";\n", "", " ?>", ";\n?>\n", " ;"];
    let built = (
        select(&["<?php", "<?PHP", "\u{FEFF}<?php", "\n<?php"][..]),
        select(PREAMBLES),
        select(&["return ", "RETURN ", "return\n"][..]),
        php_source_value(),
        select(ENDINGS),
    )
        .prop_map(|(open, preamble, ret, value, end)| format!("{open}{preamble}{ret}{value}{end}"));
    prop_oneof![
        4 => built,
        1 => soup(SOURCE_ATOMS, 30),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Nested arrays of strings, ints, floats, bools and null survive `write_file` and
    /// `parse_file` exactly: same keys in the same order, same values, same kinds.
    #[test]
    fn php_round_trip(value in php_value()) {
        let text = php_array::write_file(&value);
        let back = php_array::parse_file(&text);
        prop_assert!(back.is_ok(), "written as {:?}: {:?}", text, back);
        let back = back.unwrap_or(Php::Null);
        prop_assert!(php_identical(&back, &value), "written as {:?}\nread as {:?}", text, back);
        // The writer's layout is stable: writing what was read gives the same bytes.
        prop_assert_eq!(php_array::write_file(&back), text);
    }

    /// Account-style files: a map of string keys to strings or null round-trips, and
    /// `get` finds every key as written.
    #[test]
    fn php_account_round_trip(
        entries in prop::collection::vec(
            ("[a-zA-Z][a-zA-Z0-9_]{0,12}", prop::option::of(php_string())),
            0..8,
        )
    ) {
        let mut value = Php::empty_array();
        for (key, item) in &entries {
            value.insert(key.as_str(), item.clone());
        }
        let text = php_array::write_file(&value);
        let back = php_array::parse_file(&text);
        prop_assert_eq!(back.as_ref(), Ok(&value), "written as {:?}", text);
        for (key, _) in &entries {
            prop_assert_eq!(back.as_ref().ok().and_then(|v| v.get(key)), value.get(key));
        }
    }

    /// The parser never panics on arbitrary input, and whatever literal value it reads
    /// (no code, finite floats) is written back so that it reads the same.
    #[test]
    fn php_parse_never_panics_and_is_idempotent(text in prop_oneof![
        3 => php_document(),
        1 => any::<String>(),
        1 => any::<String>().prop_map(|s| format!("<?php return {s}")),
    ]) {
        if let Ok(first) = php_array::parse_file(&text)
            && !has_code_or_non_finite(&first)
        {
            let written = php_array::write_file(&first);
            let second = php_array::parse_file(&written);
            prop_assert!(second.is_ok(), "re-written as {:?}: {:?}", written, second);
            let second = second.unwrap_or(Php::Null);
            prop_assert!(php_identical(&second, &first), "re-written as {:?}", written);
        }
    }

    /// Every prefix of a written file, and the file with one byte replaced, is handled
    /// without a panic.
    #[test]
    fn php_damaged_files_never_panic(value in php_value(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let text = php_array::write_file(&value);
        let at = cut.index(text.len() + 1);
        if text.is_char_boundary(at) {
            let _ = php_array::parse_file(&text[..at]);
        }
        let mut bytes = text.into_bytes();
        if let Some(slot) = bytes.get_mut(at) {
            *slot = byte;
        }
        let _ = php_array::parse_file(&String::from_utf8_lossy(&bytes));
    }
}

/// Non-finite floats are written as PHP constants, which the literal-only parser keeps as
/// code (module docs: constants are not literals).
#[test]
fn php_float_constants_are_code() {
    for (f, code) in [
        (f64::INFINITY, "INF"),
        (f64::NEG_INFINITY, "-INF"),
        (f64::NAN, "NAN"),
    ] {
        let text = php_array::write_file(&Php::Array(vec![(Key::Int(0), Php::Float(f))]));
        assert_eq!(
            php_array::parse_file(&text),
            Ok(Php::Array(vec![(Key::Int(0), Php::Code(code.into()))])),
            "{text:?}"
        );
    }
}

/// Found by `php_round_trip`: `PHP_INT_MIN` used to be written as `-9223372036854775808`,
/// which PHP (and the parser) read as a float. It is now written as `var_export` does.
#[test]
fn php_int_min_round_trips_as_an_int() {
    let value = Php::Array(vec![(Key::Int(0), Php::Int(i64::MIN))]);
    let text = php_array::write_file(&value);
    assert_eq!(text, "<?php\n\nreturn [\n    -9223372036854775807-1\n];");
    assert_eq!(php_array::parse_file(&text), Ok(value));
    // Only that exact spelling; any other arithmetic stays code.
    assert_eq!(
        php_array::parse_file("<?php return -9223372036854775807-10;"),
        Ok(Php::Code("-9223372036854775807-10".into()))
    );
    assert_eq!(
        php_array::parse_file("<?php return -9223372036854775808;"),
        Ok(Php::Float(-9_223_372_036_854_775_808.0))
    );
}

/// Found by `yaml_structure_field_round_trip`: a key such as `?x` is written unquoted, but
/// the reader did not see it as a key, so its `|` block kept a trailing line break.
#[test]
fn yaml_question_mark_keys_round_trip() {
    let value = serde_json::json!([{"?x": "\n-", "? y": "a\nb"}]);
    let text = yaml::dump(&value);
    assert_eq!(text, "- \n  ?x: |\n\n    -\n  '? y': |\n    a\n    b\n");
    assert_eq!(yaml::parse(&text), Ok(value));
}

/// Found by `yaml_structure_field_round_trip`: integer keys in another spelling (`+1`,
/// `0b1`, `0x1`, `1_0`, `-0`) were written plain, and the reader's duplicate-key check
/// compares plain keys by integer value, so `+1` and `0b1` in one row became one key.
#[test]
fn yaml_integer_like_keys_stay_distinct() {
    let value = serde_json::json!([{"1": "a", "+1": "b", "0b1": "c", "0x1": "d", "1_0": "e",
        "10": "f", "-0": "g", "0": "h", "007": "i", "-7": "j", "1.0": "k"}]);
    let text = yaml::dump(&value);
    assert_eq!(
        text,
        "- \n  1: a\n  '+1': b\n  '0b1': c\n  '0x1': d\n  '1_0': e\n  10: f\n  '-0': g\n  \
         0: h\n  '007': i\n  -7: j\n  1.0: k\n"
    );
    let back = yaml::parse(&text).unwrap();
    assert_eq!(json_text(&back), json_text(&value));
}

/// Found by `yaml_round_trip`: a multi-line top-level string was written as a literal
/// block at column 0, where a `---` or `...` line is a document marker.
#[test]
fn yaml_top_level_literal_block_is_indented() {
    for s in ["--- \na", "a\n...\nb", "a\n# b\n- c"] {
        let text = yaml::dump(&Json::String(s.into()));
        assert!(text.starts_with("|\n  "), "{text:?}");
        assert_eq!(yaml::parse(&text), Ok(Json::String(s.into())), "{text:?}");
    }
}
