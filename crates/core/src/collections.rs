//! Collections, in one place for the API, the templates and (later) KQL: Kirby's `status`
//! filters of children, list permission filtering, search over pages, files and users, and
//! pagination with Kirby's rules and errors.

use crate::model::{File, PageIdx, UserIdx};
use crate::permissions::{Actor, Target, can};
use crate::search;
use crate::snapshot::Snapshot;
use crate::{Error, Result};

/// Kirby's `status` filter for children collections (`published` by default).
pub fn by_status(status: Option<&str>, children: &[PageIdx], drafts: &[PageIdx]) -> Vec<PageIdx> {
    match status.unwrap_or("published") {
        "listed" | "unlisted" => children.to_vec(),
        "draft" | "drafts" => drafts.to_vec(),
        "all" => children.iter().chain(drafts).copied().collect(),
        _ => children.to_vec(),
    }
}

/// The pages of `list` the actor may list, after the `listed`/`unlisted` status filter.
/// `list` depends only on the role and the page's blueprint (no built-in rule touches it), so
/// it is decided once per template.
pub fn listable_pages(
    snap: &Snapshot,
    actor: &Actor,
    list: Vec<PageIdx>,
    status: Option<&str>,
) -> Vec<PageIdx> {
    let mut memo: Vec<(&str, bool)> = Vec::new();
    list.into_iter()
        .filter(|p| {
            let page = &snap.pages[*p];
            let draft = page.is_draft();
            match status {
                Some("listed") => page.num.is_some() && !draft,
                Some("unlisted") => page.num.is_none() && !draft,
                _ => true,
            }
        })
        .filter(|p| {
            let t = snap.pages[*p].template.as_str();
            match memo.iter().find(|(m, _)| *m == t) {
                Some((_, ok)) => *ok,
                None => {
                    let ok = can(snap, actor, Target::Page(*p), "list");
                    memo.push((t, ok));
                    ok
                }
            }
        })
        .collect()
}

/// Kirby's page search: best score first, equal scores in id order. Queries under two
/// characters find nothing.
pub fn search_pages(snap: &Snapshot, list: Vec<PageIdx>, q: &str) -> Vec<PageIdx> {
    if q.chars().count() < 2 {
        return Vec::new();
    }
    let q = q.to_lowercase();
    let words = search::words(&q);
    let query = search::Query::new(&q, &words);
    let mut scored: Vec<(u64, u32, PageIdx)> = list
        .into_iter()
        .filter_map(|p| {
            let page = &snap.pages[p];
            let fields = page.search.iter().map(|(k, x)| (k.as_str(), x.as_str()));
            let score = query.score(fields, &["title", "id"]);
            (score > 0).then(|| (score, snap.id_rank.get(p).copied().unwrap_or(u32::MAX), p))
        })
        .collect();
    scored.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, _, p)| p).collect()
}

/// Kirby's file search over id, filename-derived fields and content.
pub fn search_files<'s>(files: Vec<&'s File>, q: &str) -> Vec<&'s File> {
    let words = search::words(q);
    let mut scored: Vec<(u64, &File)> = files
        .into_iter()
        .filter(|_| q.chars().count() >= 2)
        .map(|f| {
            let fields = std::iter::once(("id", f.id.as_str()))
                .chain(f.content.iter().map(|(k, x)| (k.as_str(), x.as_str())));
            (search::score(q, &words, fields, &["id", "title"]), f)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
    scored.into_iter().map(|(_, f)| f).collect()
}

/// Kirby's user search over id, e-mail, name, role and content.
pub fn search_users(snap: &Snapshot, list: Vec<UserIdx>, q: &str) -> Vec<UserIdx> {
    let words = search::words(q);
    let mut scored: Vec<(u64, UserIdx)> = list
        .into_iter()
        .filter(|_| q.chars().count() >= 2)
        .map(|u| {
            let user = &snap.users[u];
            let name = user.name.as_deref().unwrap_or("");
            let fields = [
                ("id", user.id.as_str()),
                ("email", user.email.as_str()),
                ("name", name),
                ("role", user.role.as_str()),
            ]
            .into_iter()
            .chain(user.content.iter().map(|(k, x)| (k.as_str(), x.as_str())));
            (search::score(q, &words, fields, &[]), u)
        })
        .filter(|(s, _)| *s > 0)
        .collect();
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| snap.users[a.1].id.cmp(&snap.users[b.1].id))
    });
    scored.into_iter().map(|(_, u)| u).collect()
}

/// A requested page of a collection: `?page` and `?limit` as sent (unparsed).
#[derive(Debug, Clone, Copy, Default)]
pub struct PageRequest<'a> {
    /// `?page`.
    pub page: Option<&'a str>,
    /// `?limit`.
    pub limit: Option<&'a str>,
}

/// Where a page of a collection lies, and Kirby's `pagination` object for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// 1-based page number (0 for an empty collection).
    pub page: usize,
    /// Items in the collection.
    pub total: usize,
    /// First item of the page.
    pub offset: usize,
    /// Items per page.
    pub limit: usize,
    /// One past the last item of the page.
    pub end: usize,
}

impl Pagination {
    /// Kirby's rules: `limit` defaults to 100 (0 means 20), `page` to 1; a page past the end
    /// is Kirby's `ErrorPageException`; a value that is not a whole number is the TypeError
    /// PHP raises for it.
    pub fn of(req: PageRequest<'_>, total: usize) -> Result<Pagination> {
        let number = |name: &str, raw: Option<&str>| -> Result<Option<usize>> {
            match raw.map(str::trim) {
                None | Some("") => Ok(None),
                Some(s) => s.parse::<usize>().map(Some).map_err(|_| Error::Unexpected {
                    code: 500,
                    exception: "TypeError",
                    detail: format!("The `{name}` query parameter must be a whole number"),
                }),
            }
        };
        let limit = match number("limit", req.limit)? {
            None => 100,
            Some(0) => 20,
            Some(n) => n,
        };
        let page = match number("page", req.page)? {
            None | Some(0) => 1,
            Some(n) => n,
        };
        if total == 0 {
            if page != 1 {
                return Err(Error::ErrorPage {
                    key: "error.errorPage",
                    message: format!("Pagination page {page} does not exist, expected 1-1"),
                });
            }
            return Ok(Pagination {
                page: 0,
                total: 0,
                offset: 0,
                limit,
                end: 0,
            });
        }
        let pages = total.div_ceil(limit);
        if page > pages {
            return Err(Error::ErrorPage {
                key: "error.errorPage",
                message: format!("Pagination page {page} does not exist, expected 1-{pages}"),
            });
        }
        let offset = (page - 1) * limit;
        Ok(Pagination {
            page,
            total,
            offset,
            limit,
            end: (offset + limit).min(total),
        })
    }

    /// Kirby's `pagination` object.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({"page": self.page, "total": self.total, "offset": self.offset, "limit": self.limit})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(page: Option<&'a str>, limit: Option<&'a str>) -> PageRequest<'a> {
        PageRequest { page, limit }
    }

    #[test]
    fn pagination_follows_kirby() {
        let p = Pagination::of(req(Some("2"), Some("2")), 5).unwrap();
        assert_eq!((p.page, p.offset, p.end, p.limit), (2, 2, 4, 2));
        let p = Pagination::of(req(None, Some("0")), 50).unwrap();
        assert_eq!(p.limit, 20);
        let p = Pagination::of(req(None, None), 0).unwrap();
        assert_eq!((p.page, p.total), (0, 0));
        let e = Pagination::of(req(Some("3"), Some("2")), 4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Pagination page 3 does not exist, expected 1-2"
        );
        assert_eq!(e.code(), 404);
        let e = Pagination::of(req(Some("x"), None), 4).unwrap_err();
        assert_eq!(e.code(), 500);
        // Huge values never overflow.
        let e = Pagination::of(req(Some("18446744073709551615"), Some("2")), 4).unwrap_err();
        assert_eq!(e.code(), 404);
        let p = Pagination::of(req(Some("1"), Some("18446744073709551615")), 4).unwrap();
        assert_eq!(p.end, 4);
    }

    #[test]
    fn status_filters() {
        assert_eq!(by_status(None, &[1, 2], &[3]), vec![1, 2]);
        assert_eq!(by_status(Some("drafts"), &[1, 2], &[3]), vec![3]);
        assert_eq!(by_status(Some("all"), &[1, 2], &[3]), vec![1, 2, 3]);
    }
}
