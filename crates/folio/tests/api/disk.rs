//! What Folio writes, Kirby under php-fpm (another user) can read and write. Every file an
//! API write creates takes its folder's mode (without execute bits) and, when Folio runs as
//! root, its folder's owner; a rewritten file keeps its own mode and owner; new folders look
//! like their parent.

use serde_json::json;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::support::{Request, Server, Site, basic, png};

const ADMIN: (&str, &str) = ("admin@example.com", "admin-secret-1");
/// php-fpm's usual user and group on Debian (`www-data`).
const WWW: u32 = 33;

fn chown_tree(dir: &Path, uid: u32) {
    std::os::unix::fs::chown(dir, Some(uid), Some(uid)).unwrap();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            chown_tree(&p, uid);
        } else {
            std::os::unix::fs::chown(&p, Some(uid), Some(uid)).unwrap();
        }
    }
}

fn is_root(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    std::fs::remove_file(probe).unwrap();
    root
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn api_writes_follow_the_sites_modes_and_owner() {
    let site = Site::new();
    let root = site.root.clone();
    let as_root = is_root(&root);
    if as_root {
        chown_tree(&root, WWW);
    }
    // A site deployed with group-writable folders.
    let content = root.join("content");
    let drafts = content.join("_drafts");
    std::fs::set_permissions(&drafts, std::fs::Permissions::from_mode(0o2775)).unwrap();
    let about = content.join("3_about");
    std::fs::set_permissions(&about, std::fs::Permissions::from_mode(0o775)).unwrap();
    let about_txt = about.join("about.txt");
    std::fs::set_permissions(&about_txt, std::fs::Permissions::from_mode(0o660)).unwrap();

    let server = Server::start_on(&root, &[]);
    let auth = basic(ADMIN);
    let send = |r: Request| server.send(&r.header("Authorization", &auth));

    // A new page: a new folder and content file.
    let r = send(
        Request::new("POST", "/api/site/children")
            .json(&json!({"slug": "new-notes", "title": "New notes", "template": "default"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    // An update of an existing content file.
    let r = send(Request::new("PATCH", "/api/pages/about").json(&json!({"title": "About us"})));
    assert_eq!(r.status, 200, "{}", r.text());
    // An upload (spooled, then renamed into place) and its meta file.
    let boundary = "folio-disk-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"chart.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png(4, 4, None));
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = send(
        Request::new("POST", "/api/pages/about/files")
            .header(
                "Content-Type",
                &format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body),
    );
    assert_eq!(r.status, 200, "{}", r.text());

    let new_dir = drafts.join("new-notes");
    let new_txt = new_dir.join("default.txt");
    assert_eq!(mode(&new_dir), 0o2775, "a new folder looks like its parent");
    assert_eq!(
        mode(&new_txt),
        0o664,
        "a new file: the folder's mode without execute bits"
    );
    assert_eq!(mode(&about_txt), 0o660, "a rewritten file keeps its mode");
    assert_eq!(
        mode(&about.join("chart.png")),
        0o664,
        "an upload is not left 0600"
    );
    assert_eq!(mode(&about.join("chart.png.txt")), 0o664);
    if as_root {
        for p in [
            &new_dir,
            &new_txt,
            &about_txt,
            &about.join("chart.png"),
            &about.join("chart.png.txt"),
        ] {
            let m = std::fs::metadata(p).unwrap();
            assert_eq!((m.uid(), m.gid()), (WWW, WWW), "owner of {}", p.display());
        }
    }
}
