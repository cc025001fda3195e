//! Blueprint YAML: any text parses or fails with an error (never a panic), and a parsed
//! value dumped in Kirby's style parses back to the same value.
#![no_main]

use folio_core::format::yaml;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Kirby stores an empty structure as an empty string, which reads back as null.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// Kirby's Spyc writes a nested empty map as `[ ]`, so it reads back as an empty list.
fn spyc_expected(v: &Value) -> Value {
    match v {
        Value::Object(o) if o.is_empty() => Value::Array(Vec::new()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), spyc_expected(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(spyc_expected).collect()),
        other => other.clone(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = yaml::parse(text) else {
        return;
    };
    if !value.is_array() && !value.is_object() {
        return; // a bare scalar document is not something Folio writes
    }
    let dumped = yaml::dump(&value);
    let back = yaml::parse(&dumped)
        .unwrap_or_else(|e| panic!("the dump of {value} does not parse: {e}\n{dumped}"));
    if is_empty(&value) {
        assert!(is_empty(&back), "{dumped:?}");
    } else {
        let expected = match &value {
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), spyc_expected(x)))
                    .collect(),
            ),
            other => spyc_expected(other),
        };
        assert_eq!(back, expected, "dump/parse round trip:\n{dumped}");
    }
});
