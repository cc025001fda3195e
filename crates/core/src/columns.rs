//! Field columns: one content field's value for every page of a snapshot, packed into one
//! buffer and built on first use, so that a filter or sort over thousands of pages scans a
//! dense array instead of chasing each page's content map through memory.
//!
//! A column belongs to one snapshot: cloning a snapshot (to change it) starts an empty cache,
//! so a column never outlives the content it was read from. Columns are bounded in bytes: a
//! field whose values are too long for a column (a body text on every page) is remembered as
//! such and read from the pages as before.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::model::PageIdx;

/// The most bytes of values one column holds.
const MAX_COLUMN_BYTES: usize = 4 << 20;
/// The most bytes all columns of one snapshot hold.
const MAX_CACHE_BYTES: usize = 32 << 20;
/// Marks a page without the field.
const MISSING: u32 = u32::MAX;

/// One field of every page: `text[start..end]` by page index.
#[derive(Debug)]
pub struct Column {
    text: String,
    spans: Vec<(u32, u32)>,
}

impl Column {
    /// Packs each page's value, or `None` once the column grows past the limit.
    fn build<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Option<Column> {
        let mut text = String::new();
        let mut spans = Vec::new();
        for value in values {
            match value {
                Some(v) => {
                    if text.len() + v.len() > MAX_COLUMN_BYTES {
                        return None;
                    }
                    let start = text.len() as u32;
                    text.push_str(v);
                    spans.push((start, text.len() as u32));
                }
                None => spans.push((MISSING, MISSING)),
            }
        }
        text.shrink_to_fit();
        Some(Column { text, spans })
    }

    /// The field of page `p`, `None` when the page has no such field.
    pub fn get(&self, p: PageIdx) -> Option<&str> {
        let (start, end) = *self.spans.get(p)?;
        (start != MISSING).then(|| &self.text[start as usize..end as usize])
    }

    fn bytes(&self) -> usize {
        self.text.len() + self.spans.len() * std::mem::size_of::<(u32, u32)>()
    }
}

/// The columns of one snapshot, by field key. `None` marks a field too long for a column.
#[derive(Debug, Default)]
pub struct Columns {
    inner: RwLock<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    by_key: HashMap<String, Option<Arc<Column>>>,
    bytes: usize,
}

impl Clone for Columns {
    /// A changed copy of a snapshot must not read the original's columns: a clone is empty.
    fn clone(&self) -> Self {
        Columns::default()
    }
}

impl Columns {
    /// The column of field `key` (lower case) of every page, built on first use from
    /// `values` (each page's value, by page index); `None` when the field does not fit a
    /// column or the cache is full.
    pub fn get<'a, I: IntoIterator<Item = Option<&'a str>>>(
        &self,
        key: &str,
        values: impl FnOnce() -> I,
    ) -> Option<Arc<Column>> {
        if let Ok(cache) = self.inner.read()
            && let Some(c) = cache.by_key.get(key)
        {
            return c.clone();
        }
        let mut cache = self.inner.write().ok()?;
        if let Some(c) = cache.by_key.get(key) {
            return c.clone();
        }
        if cache.bytes >= MAX_CACHE_BYTES {
            return None;
        }
        let column = Column::build(values()).map(Arc::new);
        let bytes = column.as_ref().map_or(0, |c| c.bytes());
        if cache.bytes + bytes > MAX_CACHE_BYTES {
            return column;
        }
        cache.bytes += bytes;
        cache.by_key.insert(key.to_string(), column.clone());
        column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field `key` of each page given as field lists.
    fn values<'a>(
        pages: &'a [Vec<(&'a str, &'a str)>],
        key: &'a str,
    ) -> impl FnOnce() -> Vec<Option<&'a str>> {
        move || {
            pages
                .iter()
                .map(|p| p.iter().find(|(k, _)| *k == key).map(|(_, v)| *v))
                .collect()
        }
    }

    #[test]
    fn a_column_reads_each_pages_field_and_tells_missing_from_empty() {
        let pages = vec![
            vec![("category", "guide"), ("title", "A")],
            vec![("title", "B")],
            vec![("category", "")],
        ];
        let columns = Columns::default();
        let c = columns.get("category", values(&pages, "category")).unwrap();
        assert_eq!(c.get(0), Some("guide"));
        assert_eq!(c.get(1), None);
        assert_eq!(c.get(2), Some(""));
        assert_eq!(c.get(3), None);
        // the second call is the cached column
        let again = columns.get("category", || -> Vec<Option<&str>> { unreachable!() });
        assert!(Arc::ptr_eq(&c, &again.unwrap()));
    }

    #[test]
    fn a_field_too_long_for_a_column_is_read_from_the_pages() {
        let long = "x".repeat(MAX_COLUMN_BYTES / 2 + 1);
        let pages = vec![vec![("text", long.as_str())], vec![("text", long.as_str())]];
        let columns = Columns::default();
        assert!(columns.get("text", values(&pages, "text")).is_none());
        assert!(columns.inner.read().unwrap().by_key.contains_key("text"));
        assert_eq!(columns.inner.read().unwrap().bytes, 0);
    }

    #[test]
    fn a_cloned_cache_starts_empty() {
        let pages = vec![vec![("category", "guide")]];
        let columns = Columns::default();
        columns.get("category", values(&pages, "category")).unwrap();
        assert!(columns.clone().inner.read().unwrap().by_key.is_empty());
    }
}
