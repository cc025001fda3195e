//! A streaming `multipart/form-data` parser for uploads. The body is pushed through in
//! chunks as it arrives: file parts go straight to temporary files on the site's file
//! system (so an upload never sits in memory and can be renamed into place), plain fields
//! are kept in memory up to a bound. It reads the body the way PHP fills `$_POST` and
//! `$_FILES`: parts with a `filename` are files, the others plain fields; a later part with
//! the same name replaces an earlier one (keeping its position), and names ending in `[]`
//! (PHP arrays) are left out. Malformed input never panics: parsing stops at the first part
//! that is not complete, and whatever was read before is kept.

use indexmap::IndexMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use folio_core::actions::file::Spool;

/// At most this many parts are read from one body.
const MAX_PARTS: usize = 1000;
/// At most this many bytes of headers per part.
const MAX_HEADER_BYTES: usize = 16 * 1024;
/// At most this many bytes of plain (non-file) field values per body.
pub const MAX_FIELD_BYTES: usize = 1024 * 1024;

/// An uploaded file's bytes in a temporary file, deleted when the last handle goes (unless
/// it was renamed into place first).
#[derive(Debug)]
pub struct Spooled {
    /// Where the bytes are, how many, and the first ones.
    pub spool: Spool,
    _temp: tempfile::TempPath,
}

/// One uploaded file.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// The client's file name, reduced to its base name like PHP does (may be empty when
    /// the form's file input was left empty).
    pub filename: String,
    /// The file's bytes.
    pub data: Arc<Spooled>,
}

/// A parsed form.
#[derive(Debug, Clone, Default)]
pub struct Form {
    /// Plain fields by name (last value wins).
    pub fields: IndexMap<String, String>,
    /// Files by field name (last part wins, at the first part's position).
    pub files: IndexMap<String, FilePart>,
    /// How many file parts were left out because their name is a PHP array (`name[]`).
    pub array_files: usize,
}

impl Form {
    /// A plain field, looked up case-insensitively like Kirby's `requestBody()`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .get(name)
            .or_else(|| {
                self.fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
            .map(String::as_str)
    }
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let media = parts.next()?.trim();
    if !media.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    for p in parts {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .unwrap_or(v);
            if !v.is_empty() && v.len() <= 200 {
                return Some(v.to_string());
            }
        }
    }
    None
}

/// Where the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first delimiter (the preamble is skipped).
    Preamble,
    /// Right after a delimiter: `--` ends the body, a line break starts a part.
    AfterDelimiter,
    /// Reading a part's header block.
    Headers,
    /// Reading a part's data up to the next delimiter.
    Data,
    /// Finished (the closing delimiter, or input that cannot be parsed further).
    Done,
}

/// What the part being read turns into.
enum Sink {
    /// A plain field's value.
    Field { name: String, value: Vec<u8> },
    /// A file: the temporary file being written.
    File {
        name: String,
        filename: String,
        file: tempfile::NamedTempFile,
        len: u64,
        head: Vec<u8>,
    },
    /// A part that is read and dropped (no name, a PHP array, ...).
    Skip,
}

/// Errors that stop reading the body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Plain field values over [`MAX_FIELD_BYTES`].
    #[error("the form fields are larger than {MAX_FIELD_BYTES} bytes")]
    FieldsTooLarge,
    /// A temporary file could not be written.
    #[error("writing an upload to a temporary file failed: {0}")]
    Io(#[from] std::io::Error),
}

/// The push parser: feed it chunks with [`Parser::push`], then call [`Parser::finish`].
pub struct Parser {
    state: State,
    buf: Vec<u8>,
    /// `--boundary`.
    delim: Vec<u8>,
    /// `\n--boundary`.
    line_delim: Vec<u8>,
    spool_dir: PathBuf,
    form: Form,
    sink: Option<Sink>,
    parts: usize,
    field_bytes: usize,
    /// Whether any byte was consumed yet (a delimiter at offset 0 needs no line break).
    at_start: bool,
}

impl Parser {
    /// A parser for `boundary`, spooling file parts into `spool_dir`.
    pub fn new(boundary: &str, spool_dir: &Path) -> Self {
        let mut delim = b"--".to_vec();
        delim.extend_from_slice(boundary.as_bytes());
        let mut line_delim = b"\n".to_vec();
        line_delim.extend_from_slice(&delim);
        Parser {
            state: State::Preamble,
            buf: Vec::new(),
            delim,
            line_delim,
            spool_dir: spool_dir.to_path_buf(),
            form: Form::default(),
            sink: None,
            parts: 0,
            field_bytes: 0,
            at_start: true,
        }
    }

    /// Feeds the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), Error> {
        if self.state == State::Done {
            return Ok(());
        }
        self.buf.extend_from_slice(chunk);
        self.run(false)
    }

    /// Ends the body: a part without its closing delimiter is dropped.
    pub fn finish(mut self) -> Result<Form, Error> {
        self.run(true)?;
        // An unterminated part (its temporary file is deleted on drop).
        self.sink = None;
        Ok(self.form)
    }

    fn run(&mut self, end: bool) -> Result<(), Error> {
        loop {
            let progressed = match self.state {
                State::Done => {
                    self.buf.clear();
                    return Ok(());
                }
                State::Preamble => self.preamble(end),
                State::AfterDelimiter => self.after_delimiter(end),
                State::Headers => self.headers(end),
                State::Data => self.data(end)?,
            };
            if !progressed {
                return Ok(());
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.buf.drain(..n);
        self.at_start = false;
    }

    /// Skips to just after the first delimiter, which starts the body or a line.
    fn preamble(&mut self, end: bool) -> bool {
        if self.at_start && self.buf.len() >= self.delim.len() {
            if self.buf.starts_with(&self.delim) {
                let n = self.delim.len();
                self.consume(n);
                self.state = State::AfterDelimiter;
                return true;
            }
        } else if self.at_start && !end && self.delim.starts_with(&self.buf) {
            return false; // could still be the delimiter at offset 0
        }
        match memchr::memmem::find(&self.buf, &self.line_delim) {
            Some(p) => {
                let n = p + self.line_delim.len();
                self.consume(n);
                self.state = State::AfterDelimiter;
                true
            }
            None if end => {
                self.state = State::Done;
                true
            }
            None => {
                // Keep a tail that may hold the start of the delimiter.
                let keep = self.line_delim.len();
                if self.buf.len() > keep {
                    let n = self.buf.len() - keep;
                    self.consume(n);
                }
                false
            }
        }
    }

    /// `--` (end), or transport padding and a line break (a part follows).
    fn after_delimiter(&mut self, end: bool) -> bool {
        if self.buf.len() < 2 && !end {
            return false;
        }
        if self.buf.starts_with(b"--") || self.parts >= MAX_PARTS {
            self.state = State::Done;
            return true;
        }
        let pad = self
            .buf
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        let after = &self.buf[pad..];
        let skip = if after.starts_with(b"\r\n") {
            2
        } else if after.starts_with(b"\n") {
            1
        } else if (after.is_empty() || after == b"\r") && !end {
            return false;
        } else {
            self.state = State::Done;
            return true;
        };
        self.consume(pad + skip);
        self.state = State::Headers;
        true
    }

    /// Reads a header block (possibly empty) and opens the part's sink.
    fn headers(&mut self, end: bool) -> bool {
        let block = if self.buf.starts_with(b"\r\n") {
            Some((0, 2))
        } else if self.buf.starts_with(b"\n") {
            Some((0, 1))
        } else if self.buf == b"\r" && !end {
            return false;
        } else {
            let crlf = memchr::memmem::find(&self.buf, b"\r\n\r\n").map(|p| (p, p + 4));
            let lf = memchr::memmem::find(&self.buf, b"\n\n").map(|p| (p, p + 2));
            match (crlf, lf) {
                (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
                (a, b) => a.or(b),
            }
        };
        let Some((header_end, data_start)) = block else {
            if end || self.buf.len() > MAX_HEADER_BYTES + 4 {
                self.state = State::Done;
                return true;
            }
            return false;
        };
        if header_end > MAX_HEADER_BYTES {
            self.state = State::Done;
            return true;
        }
        let headers = parse_headers(&self.buf[..header_end]);
        self.consume(data_start);
        self.parts += 1;
        self.sink = Some(self.open_sink(&headers));
        self.state = State::Data;
        true
    }

    fn open_sink(&mut self, headers: &[(String, String)]) -> Sink {
        let Some(disposition) = headers
            .iter()
            .find(|(k, _)| k == "content-disposition")
            .map(|(_, v)| v.as_str())
        else {
            return Sink::Skip;
        };
        let params = disposition_params(disposition);
        let Some(name) = params
            .iter()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.clone())
        else {
            return Sink::Skip;
        };
        let filename = params.iter().find(|(k, _)| k == "filename");
        if name.ends_with("[]") && filename.is_some() {
            self.form.array_files += 1;
            return Sink::Skip;
        }
        if name.is_empty() || name.ends_with("[]") {
            return Sink::Skip;
        }
        match filename {
            Some((_, filename)) => {
                let base = filename
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                // The part's own Content-Type is never trusted: the bytes are sniffed.
                match tempfile::Builder::new()
                    .prefix(".tmp-folio-upload-")
                    .tempfile_in(&self.spool_dir)
                {
                    Ok(file) => Sink::File {
                        name,
                        filename: base,
                        file,
                        len: 0,
                        head: Vec::new(),
                    },
                    Err(e) => {
                        tracing::error!("cannot create an upload spool file: {e}");
                        Sink::Skip
                    }
                }
            }
            None => Sink::Field {
                name,
                value: Vec::new(),
            },
        }
    }

    /// Passes part data on up to the next delimiter line (`\n--boundary`, the line break
    /// being `\r\n` or `\n`, followed by `--`, padding, a line break or the end).
    fn data(&mut self, end: bool) -> Result<bool, Error> {
        let mut from = 0;
        loop {
            match memchr::memmem::find(&self.buf[from..], &self.line_delim) {
                Some(off) => {
                    let p = from + off;
                    let after = p + self.line_delim.len();
                    if !end && (after == self.buf.len() || &self.buf[after..] == b"-") {
                        // Need more bytes to know whether this is a delimiter line.
                        let n = p.saturating_sub(1);
                        self.emit(n)?;
                        return Ok(false);
                    }
                    let ok = after == self.buf.len()
                        || self.buf[after..].starts_with(b"--")
                        || matches!(self.buf[after], b'\r' | b'\n' | b' ' | b'\t');
                    if !ok {
                        from = p + 1;
                        continue;
                    }
                    let data_end = if p > 0 && self.buf[p - 1] == b'\r' {
                        p - 1
                    } else {
                        p
                    };
                    self.emit(data_end)?;
                    let skip = after - data_end;
                    self.consume(skip);
                    self.close_sink()?;
                    self.state = State::AfterDelimiter;
                    return Ok(true);
                }
                None => {
                    if end {
                        self.state = State::Done;
                        return Ok(true);
                    }
                    // Keep a tail that may hold `\r` plus the start of a delimiter line.
                    let keep = self.line_delim.len() + 1;
                    let n = self.buf.len().saturating_sub(keep);
                    self.emit(n)?;
                    return Ok(false);
                }
            }
        }
    }

    /// Moves the first `n` buffered bytes into the current sink.
    fn emit(&mut self, n: usize) -> Result<(), Error> {
        if n == 0 {
            return Ok(());
        }
        match self.sink.as_mut() {
            Some(Sink::Field { value, .. }) => {
                self.field_bytes += n;
                if self.field_bytes > MAX_FIELD_BYTES {
                    return Err(Error::FieldsTooLarge);
                }
                value.extend_from_slice(&self.buf[..n]);
            }
            Some(Sink::File {
                file, len, head, ..
            }) => {
                file.write_all(&self.buf[..n])?;
                *len += n as u64;
                if head.len() < Spool::HEAD {
                    let take = (Spool::HEAD - head.len()).min(n);
                    head.extend_from_slice(&self.buf[..take]);
                }
            }
            Some(Sink::Skip) | None => {}
        }
        self.consume(n);
        Ok(())
    }

    /// A part ended at its delimiter: store it in the form.
    fn close_sink(&mut self) -> Result<(), Error> {
        match self.sink.take() {
            Some(Sink::Field { name, value }) => {
                self.form
                    .fields
                    .insert(name, String::from_utf8_lossy(&value).into_owned());
            }
            Some(Sink::File {
                name,
                filename,
                file,
                len,
                head,
            }) => {
                file.as_file().sync_all()?;
                let temp = file.into_temp_path();
                let spool = Spool {
                    path: temp.to_path_buf(),
                    len,
                    head,
                };
                let part = FilePart {
                    filename,
                    data: Arc::new(Spooled { spool, _temp: temp }),
                };
                // A replaced earlier part's file goes when its handle is dropped here.
                self.form.files.insert(name, part);
            }
            Some(Sink::Skip) | None => {}
        }
        Ok(())
    }
}

fn parse_headers(block: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(block)
        .split('\n')
        .filter_map(|line| {
            let (k, v) = line.trim_end_matches('\r').split_once(':')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// The parameters of a `Content-Disposition` value (`form-data; name="a"; filename="b"`),
/// names lowercased, quoted values unescaped (`\"` → `"`).
pub fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let chars: Vec<char> = value.chars().collect();
    let mut i = 0;
    // Skip the disposition type.
    while i < chars.len() && chars[i] != ';' {
        i += 1;
    }
    while i < chars.len() {
        // At a `;`: read `name=value`.
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let mut name = String::new();
        while i < chars.len() && chars[i] != '=' && chars[i] != ';' {
            name.push(chars[i]);
            i += 1;
        }
        let name = name.trim().to_ascii_lowercase();
        let mut val = String::new();
        if i < chars.len() && chars[i] == '=' {
            i += 1;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] == '"' {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    val.push(chars[i]);
                    i += 1;
                }
                // Skip the closing quote and anything up to the next `;`.
                while i < chars.len() && chars[i] != ';' {
                    i += 1;
                }
            } else {
                while i < chars.len() && chars[i] != ';' {
                    val.push(chars[i]);
                    i += 1;
                }
                val = val.trim().to_string();
            }
        }
        if !name.is_empty() {
            out.push((name, val));
        }
    }
    out
}

/// Parses a whole body held in memory, in chunks of `chunk` bytes (tests and fuzzing; the
/// server streams with [`Parser`]).
pub fn parse_chunked(
    content_type: &str,
    body: &[u8],
    chunk: usize,
    spool_dir: &Path,
) -> Result<Form, Error> {
    let Some(boundary) = boundary(content_type) else {
        return Ok(Form::default());
    };
    let mut p = Parser::new(&boundary, spool_dir);
    for c in body.chunks(chunk.max(1)) {
        p.push(c)?;
    }
    p.finish()
}

/// The bytes of a spooled part (tests).
pub fn read_part(part: &FilePart) -> Vec<u8> {
    std::fs::read(&part.data.spool.path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=XyZ";

    /// Parses with every chunk size from 1 to 9 and whole, checking all agree.
    fn parse(body: &str) -> Form {
        let dir = tempfile::tempdir().unwrap();
        let whole = parse_chunked(CT, body.as_bytes(), usize::MAX, dir.path()).unwrap();
        for n in 1..10 {
            let f = parse_chunked(CT, body.as_bytes(), n, dir.path()).unwrap();
            assert_eq!(f.fields, whole.fields, "chunk size {n}");
            assert_eq!(f.array_files, whole.array_files);
            let a: Vec<_> = f
                .files
                .iter()
                .map(|(k, v)| (k.clone(), v.filename.clone(), read_part(v)))
                .collect();
            let b: Vec<_> = whole
                .files
                .iter()
                .map(|(k, v)| (k.clone(), v.filename.clone(), read_part(v)))
                .collect();
            assert_eq!(a, b, "chunk size {n}");
        }
        // The spool files live until the form is dropped; keep the folder alive with it.
        std::mem::forget(dir);
        whole
    }

    #[test]
    fn fields_and_files() {
        let f = parse(
            "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"template\"\r\n\r\nimage\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file1\"; filename=\"../../a b.md\"\r\nContent-Type: text/markdown\r\n\r\nA\r\n--XyZa\r\nx\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"list[]\"; filename=\"x.png\"\r\n\r\nX\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file2\"; filename=\"b\\\"q.md\"\r\n\r\nB\r\n--XyZ--\r\n",
        );
        assert_eq!(f.field("TEMPLATE"), Some("image"));
        let names: Vec<_> = f.files.keys().cloned().collect();
        assert_eq!(names, ["file1", "file2"]);
        assert_eq!(f.array_files, 1);
        assert_eq!(f.files["file1"].filename, "a b.md");
        assert_eq!(read_part(&f.files["file1"]), b"A\r\n--XyZa\r\nx");
        assert_eq!(f.files["file1"].data.spool.len, 12);
        assert_eq!(f.files["file1"].data.spool.head, b"A\r\n--XyZa\r\nx");
        assert_eq!(f.files["file2"].filename, "b\"q.md");
    }

    #[test]
    fn same_name_last_wins_and_the_replaced_spool_is_deleted() {
        let f = parse(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.md\"\r\n\r\nA\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.md\"\r\n\r\nB\r\n--XyZ--",
        );
        assert_eq!(f.files.len(), 1);
        assert_eq!(f.files["file"].filename, "b.md");
        let dir = f.files["file"]
            .data
            .spool
            .path
            .parent()
            .unwrap()
            .to_path_buf();
        let spools = std::fs::read_dir(&dir)
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp-folio-upload-")
            })
            .count();
        assert_eq!(spools, 1, "only the kept part has a spool file");
        let path = f.files["file"].data.spool.path.clone();
        drop(f);
        assert!(!path.exists(), "dropping the form deletes its spool files");
    }

    #[test]
    fn unterminated_parts_are_dropped_and_leave_no_files() {
        let dir = tempfile::tempdir().unwrap();
        let body = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x.md\"\r\n\r\nnever ends";
        let f = parse_chunked(CT, body.as_bytes(), 3, dir.path()).unwrap();
        assert!(f.files.is_empty());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn large_files_are_spooled_with_a_bounded_head() {
        let dir = tempfile::tempdir().unwrap();
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let mut body =
            b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.bin\"\r\n\r\n"
                .to_vec();
        body.extend_from_slice(&payload);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let f = parse_chunked(CT, &body, 8192, dir.path()).unwrap();
        let part = &f.files["f"];
        assert_eq!(read_part(part), payload);
        assert_eq!(part.data.spool.len, payload.len() as u64);
        assert_eq!(part.data.spool.head, payload[..Spool::HEAD]);
    }

    #[test]
    fn field_values_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut body = b"--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'a', MAX_FIELD_BYTES + 10));
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        assert!(matches!(
            parse_chunked(CT, &body, 65536, dir.path()),
            Err(Error::FieldsTooLarge)
        ));
    }

    #[test]
    fn malformed_bodies_never_panic() {
        let cases = [
            "",
            "--XyZ",
            "--XyZ--",
            "--XyZ\r\n",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated",
            "--XyZ\r\nContent-Disposition: form-data; name=\"a; filename=\"x\r\n\r\nv\r\n--XyZ--",
            "--XyZ\r\nContent-Disposition: form-data; name=\r\n\r\nv\r\n--XyZ--",
            "garbage --XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--",
            "--XyZx\r\n\r\n",
            "\u{00ff}\u{0000}--XyZ\r\n\r\n\r\n--XyZ\r\n",
        ];
        for c in cases {
            let _ = parse(c);
        }
        let f = parse("garbage\n--XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--");
        assert_eq!(f.field("a"), Some("v"));
        let f = parse("garbage --XyZ\nContent-Disposition: form-data; name=\"a\"\n\nv\n--XyZ--");
        assert!(f.fields.is_empty(), "a delimiter must start a line");
        let dir = tempfile::tempdir().unwrap();
        assert!(
            parse_chunked("application/json", b"--XyZ", 1, dir.path())
                .unwrap()
                .files
                .is_empty()
        );
        assert!(boundary("multipart/form-data").is_none());
        assert_eq!(
            boundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b\"").as_deref(),
            Some("a b")
        );
    }

    #[test]
    fn every_prefix_of_a_body_parses() {
        let full = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n\u{0}\u{1}PNG\r\n--XyZ--\r\n";
        for i in 0..=full.len() {
            if full.is_char_boundary(i) {
                let _ = parse(&full[..i]);
            }
        }
        let f = parse(full);
        assert_eq!(read_part(&f.files["f"]), b"\0\x01PNG");
    }
}
