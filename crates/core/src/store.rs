//! Writing to the site folder safely: every file is written to a temp file in the same
//! folder, fsynced, renamed over the target, and the folder is fsynced, so a crash leaves
//! the old file or the new one, never a torn one.

use std::io::Write;
use std::path::Path;

/// Atomically replaces `path` with `bytes`. This is the one way Folio writes a file it owns
/// (content, meta files, accounts, sessions, login trials).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with_mtime(path, bytes, None)
}

/// [`write_atomic`], with the file's modification time set before it is renamed into place
/// (`.htpasswd`: Kirby compares it with the session's login time).
pub fn write_atomic_with_mtime(
    path: &Path,
    bytes: &[u8],
    mtime: Option<std::time::SystemTime>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-folio-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Some(t) = mtime {
        tmp.as_file().set_modified(t)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// fsyncs a folder so a rename inside it is durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(d.path().join("a")).unwrap().count(), 1);
    }
}
