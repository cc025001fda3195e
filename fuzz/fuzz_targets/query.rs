//! Request paths and query strings: parsing never panics, a parsed query encodes back to one
//! that parses to the same pairs, and route segments map to model ids consistently.
#![no_main]

use folio_wire::query;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let pairs = query::parse_query(&text);
    let again = query::parse_query(&query::encode_query(&pairs));
    assert_eq!(again, pairs, "parse(encode(parse(q)))");
    for (k, v) in &pairs {
        assert_eq!(query::decode_component(&query::encode_component(k)), *k);
        assert_eq!(query::decode_component(&query::encode_component(v)), *v);
    }
    for segment in text.split('/') {
        let decoded = query::decode_path_segment(segment);
        let id = query::model_id(segment);
        assert!(!id.contains('+') && !id.contains(' '));
        if query::is_any_segment(segment) {
            assert!(!segment.contains('/') && !segment.is_empty());
        }
        let _ = decoded;
    }
});
