//! PHP array files (`config.php`, account `index.php`): any text parses or fails with an
//! error, and a parsed value written back in Kirby's format parses to the same value.
#![no_main]

use folio_core::format::php_array;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(value) = php_array::parse_file(text) else {
        return;
    };
    if !value.code_paths().is_empty() {
        return; // code is skipped on read, never written
    }
    let written = php_array::write_file(&value);
    let back = php_array::parse_file(&written)
        .unwrap_or_else(|e| panic!("written file does not parse: {e:?}\n{written}"));
    assert_eq!(back.to_json(), value.to_json(), "write/parse round trip:\n{written}");
});
