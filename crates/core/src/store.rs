//! Writing to the site folder safely: every file is written to a temp file in the same
//! folder, fsynced, renamed over the target, and the folder is fsynced, so a crash leaves
//! the old file or the new one, never a torn one.

use std::io::Write;
use std::path::Path;

/// Atomically replaces `path` with `bytes`. This is the one way Folio writes a file it owns
/// (content, meta files, accounts, login trials). The file keeps the mode and owner of the
/// file it replaces; a new file takes its folder's (the folder's mode without the execute
/// bits), so Kirby under php-fpm (another user) reads and writes what Folio wrote, and
/// Folio never widens access to anything.
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
    write(path, bytes, mtime, Access::LikeSite)
}

/// [`write_atomic`] for files only Folio reads (its session files, the site secret): mode
/// 0600, whatever the folder allows.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write(path, bytes, None, Access::Private)
}

#[derive(Clone, Copy)]
enum Access {
    LikeSite,
    Private,
}

fn write(
    path: &Path,
    bytes: &[u8],
    mtime: Option<std::time::SystemTime>,
    access: Access,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_like_parent(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-folio-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    if let Some(t) = mtime {
        tmp.as_file().set_modified(t)?;
    }
    if let Access::LikeSite = access {
        like(tmp.as_file(), path, dir)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Gives a new file the mode and owner of the file it will replace, else of its folder
/// (without execute bits). Changing the owner needs privileges; without them the file stays
/// the writer's, as any program's would.
#[cfg(unix)]
fn like(file: &std::fs::File, target: &Path, dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let (mode, uid, gid) = match std::fs::metadata(target) {
        Ok(m) if m.is_file() => (m.mode() & 0o7777, m.uid(), m.gid()),
        _ => {
            let d = std::fs::metadata(dir)?;
            (d.mode() & 0o666, d.uid(), d.gid())
        }
    };
    file.set_permissions(std::fs::Permissions::from_mode(mode))?;
    let own = file.metadata()?;
    if (own.uid(), own.gid()) != (uid, gid) {
        let _ = std::os::unix::fs::fchown(file, Some(uid), Some(gid));
    }
    Ok(())
}

#[cfg(not(unix))]
fn like(_file: &std::fs::File, _target: &Path, _dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Creates `dir` and any missing parents, each with the mode and owner of the nearest
/// folder that exists (a new page folder looks like its siblings' parent).
pub fn create_dir_like_parent(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut missing = vec![dir];
    let mut cur = dir;
    while let Some(parent) = cur.parent() {
        if parent.as_os_str().is_empty() || parent.is_dir() {
            break;
        }
        missing.push(parent);
        cur = parent;
    }
    for d in missing.into_iter().rev() {
        match std::fs::create_dir(d) {
            Ok(()) => dir_like_parent(d)?,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn dir_like_parent(dir: &Path) -> std::io::Result<()> {
    adopt(dir)
}

/// Gives a file or folder that was put in place by a rename or a copy (an upload's spool
/// file, a duplicated page) the mode and owner of its folder, as [`write_atomic`] does for
/// new files (a file without the execute bits).
#[cfg(unix)]
pub fn adopt(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(());
    };
    let p = std::fs::metadata(parent)?;
    let own = std::fs::metadata(path)?;
    let mode = if own.is_dir() {
        p.mode() & 0o7777
    } else {
        p.mode() & 0o666
    };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    if (own.uid(), own.gid()) != (p.uid(), p.gid()) {
        let _ = std::os::unix::fs::chown(path, Some(p.uid()), Some(p.gid()));
    }
    Ok(())
}

/// Gives a file or folder the mode and owner of its folder (nothing to do off Unix).
#[cfg(not(unix))]
pub fn adopt(_path: &Path) -> std::io::Result<()> {
    Ok(())
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

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[cfg(unix)]
    fn set_mode(p: &Path, m: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("page.txt");
        std::fs::write(&p, "Title: a").unwrap();
        set_mode(&p, 0o664);
        write_atomic(&p, b"Title: b").unwrap();
        assert_eq!(mode(&p), 0o664, "not the temp file's 0600");
    }

    #[cfg(unix)]
    #[test]
    fn new_files_and_folders_follow_their_folder() {
        let d = tempfile::tempdir().unwrap();
        let content = d.path().join("content");
        std::fs::create_dir(&content).unwrap();
        set_mode(&content, 0o750);
        let p = content.join("1_blog/a-post/post.txt");
        write_atomic(&p, b"Title: x").unwrap();
        assert_eq!(mode(&content.join("1_blog")), 0o750);
        assert_eq!(mode(&content.join("1_blog/a-post")), 0o750);
        assert_eq!(mode(&p), 0o640, "the folder's mode without execute bits");
        set_mode(&content.join("1_blog/a-post"), 0o755);
        let q = content.join("1_blog/a-post/photo.jpg.txt");
        write_atomic(&q, b"Alt: y").unwrap();
        assert_eq!(mode(&q), 0o644);
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600() {
        let d = tempfile::tempdir().unwrap();
        set_mode(d.path(), 0o755);
        let p = d.path().join("sessions/abc.sess");
        write_private(&p, b"{}").unwrap();
        assert_eq!(mode(&p), 0o600);
    }

    /// As root (CI and most containers), a written file gets the owner of the folder or of
    /// the file it replaces, so php-fpm's user can still read it.
    #[cfg(unix)]
    #[test]
    fn files_keep_the_site_owner_when_written_as_root() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let probe = d.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        if std::fs::metadata(&probe).unwrap().uid() != 0 {
            eprintln!("not root: ownership cannot change, nothing to check");
            return;
        }
        let site = d.path().join("site");
        std::fs::create_dir(&site).unwrap();
        std::os::unix::fs::chown(&site, Some(33), Some(33)).unwrap();
        let fresh = site.join("accounts/abc/index.php");
        write_atomic(&fresh, b"<?php return [];").unwrap();
        for p in [
            site.join("accounts"),
            site.join("accounts/abc"),
            fresh.clone(),
        ] {
            let m = std::fs::metadata(&p).unwrap();
            assert_eq!((m.uid(), m.gid()), (33, 33), "{}", p.display());
        }
        std::os::unix::fs::chown(&fresh, Some(1000), Some(1001)).unwrap();
        write_atomic(&fresh, b"<?php return ['a' => 1];").unwrap();
        let m = std::fs::metadata(&fresh).unwrap();
        assert_eq!(
            (m.uid(), m.gid()),
            (1000, 1001),
            "the replaced file's owner"
        );
    }
}
