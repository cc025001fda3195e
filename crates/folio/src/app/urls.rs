//! The site's public URLs: pages (`<base>/<id>`, the home page at `<base>`) and media files
//! (`<base>/media/<kind>/<parent>/<token>-<mtime>/<filename>`, the token being Kirby's media
//! hash), shared by the API views and the templates.

use folio_core::Snapshot;
use folio_core::media;
use folio_core::model::{File, FileParent, PageIdx};

/// URLs under one base URL (no trailing slash).
#[derive(Debug, Clone, Copy)]
pub struct Urls<'a> {
    /// The snapshot the models come from.
    pub snap: &'a Snapshot,
    /// The base URL.
    pub base: &'a str,
}

impl Urls<'_> {
    /// The URL of the site in the snapshot's language (the language's URL on a
    /// multi-language site).
    pub fn site(&self) -> String {
        match self.snap.lang {
            Some(l) => self.snap.languages.list[l].url(self.base),
            None => self.base.to_string(),
        }
    }

    /// A page's URL: `<site url>/<uri>`, the uri made of the slugs in the snapshot's
    /// language; the home page's URL is the site URL.
    pub fn page(&self, p: PageIdx) -> String {
        if self.snap.is_home(p) {
            return self.site();
        }
        if self.snap.lang.is_none() {
            return format!("{}/{}", self.base, self.snap.pages[p].id);
        }
        let mut slugs = Vec::new();
        let mut cur = Some(p);
        while let Some(c) = cur {
            slugs.push(self.snap.pages[c].slug_in_language());
            cur = self.snap.pages[c].parent;
        }
        slugs.reverse();
        format!("{}/{}", self.site(), slugs.join("/"))
    }

    /// A file's media URL.
    pub fn file(&self, f: &File) -> String {
        format!("{}/{}", self.media_dir(f), f.filename)
    }

    /// The media folder URL of a file (its URL without the file name).
    pub fn media_dir(&self, f: &File) -> String {
        let token = media::media_token(&f.id, &self.snap.media_salt(&f.id));
        match f.parent {
            FileParent::Site => format!("{}/media/site/{}-{}", self.base, token, f.mtime),
            FileParent::Page(p) => format!(
                "{}/media/pages/{}/{}-{}",
                self.base, self.snap.pages[p].id, token, f.mtime
            ),
            FileParent::User(u) => format!(
                "{}/media/users/{}/{}-{}",
                self.base, self.snap.users[u].id, token, f.mtime
            ),
        }
    }
}
