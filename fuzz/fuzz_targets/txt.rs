//! Content files (`.txt`): any text decodes without panicking, and what was decoded writes
//! back to text that decodes to the same fields (under the keys the writer stores). Keys
//! normalise idempotently.
#![no_main]

use folio_core::format::txt;
use indexmap::IndexMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let first = txt::decode(&text);
    let encoded = txt::encode(first.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    let second = txt::decode(&encoded);
    // What the writer keeps: the canonical key, a later duplicate winning at the first
    // position, keys that slug to nothing (or `0`) dropped.
    let mut expected: IndexMap<String, String> = IndexMap::new();
    for (k, v) in &first {
        let key = txt::canonical_key(k);
        if key.is_empty() || key == "0" {
            continue;
        }
        expected.insert(key, v.clone());
    }
    assert_eq!(second, expected, "decode(encode(decode(x))) for {encoded:?}");
    // Writing is stable: a second round trip changes nothing.
    let again = txt::encode(second.iter().map(|(k, v)| (k.as_str(), Some(v.as_str()))));
    assert_eq!(again, encoded);
    for k in first.keys() {
        let c = txt::canonical_key(k);
        assert_eq!(txt::canonical_key(&c), c, "canonical_key is idempotent for {k:?}");
    }
});
