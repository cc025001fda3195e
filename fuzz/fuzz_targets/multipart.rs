//! Multipart upload bodies: the streaming parser gives the same form however the body is
//! cut into chunks, never panics, and a body built from known fields and files parses back
//! to exactly those fields and bytes.
#![no_main]

use folio_wire::multipart::{self, Form};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const CT: &str = "multipart/form-data; boundary=XyZ";

fn spool_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary folder"))
        .path()
}

fn summary(f: &Form) -> (Vec<(String, String)>, Vec<(String, String, Vec<u8>)>, usize) {
    (
        f.fields.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        f.files
            .iter()
            .map(|(k, p)| (k.clone(), p.filename.clone(), multipart::read_part(p)))
            .collect(),
        f.array_files,
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    // Any body: chunking does not matter.
    let whole = multipart::parse_chunked(CT, body, usize::MAX, spool_dir());
    let chunked = multipart::parse_chunked(CT, body, usize::from(first % 17) + 1, spool_dir());
    match (whole, chunked) {
        (Ok(a), Ok(b)) => assert_eq!(summary(&a), summary(&b)),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("whole and chunked disagree: {:?} / {:?}", a.is_ok(), b.is_ok()),
    }
    // A well-formed body built from the input round-trips (values that contain the
    // delimiter line cannot be sent in a body with this boundary).
    let (value, file) = body.split_at(body.len() / 2);
    let value = String::from_utf8_lossy(value).into_owned();
    if value.contains("\n--XyZ") || file.windows(6).any(|w| w == b"\n--XyZ") {
        return;
    }
    let mut built = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n{value}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n"
    )
    .into_bytes();
    built.extend_from_slice(file);
    built.extend_from_slice(b"\r\n--XyZ--\r\n");
    let form = multipart::parse_chunked(CT, &built, usize::from(first % 7) + 1, spool_dir())
        .expect("a valid body parses");
    assert_eq!(form.field("note"), Some(value.as_str()));
    assert_eq!(multipart::read_part(&form.files["file"]), file);
});
