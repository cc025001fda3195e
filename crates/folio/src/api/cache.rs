//! The response cache for API reads. A GET answer is a pure function of the snapshot, the
//! acting user, the base URL and the request path with its query, so its serialized bytes are
//! kept under exactly that key. A new snapshot has a new version, which makes every older
//! entry unreachable. The cache is bounded in bytes and in entries; the oldest entries go
//! first, and an answer too large for its share of the budget is not kept at all.

use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// What identifies a cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Snapshot version.
    pub version: u64,
    /// The acting user's id, the base URL (from the Host header or the `url` option) and
    /// the raw path with its query, one per line (neither an id nor a host nor a request
    /// target holds a line break), in one allocation.
    pub text: String,
}

impl Key {
    /// The key of a read: snapshot version, user id, base URL, raw path and query.
    pub fn new(version: u64, who: &str, base: &str, path: &str, query: &str) -> Key {
        let mut text = String::with_capacity(who.len() + base.len() + path.len() + query.len() + 3);
        for part in [who, "\n", base, "\n", path, "?", query] {
            text.push_str(part);
        }
        Key { version, text }
    }

    fn weight(&self) -> usize {
        self.text.len() + 64
    }
}

/// A cached answer.
#[derive(Debug, Clone)]
pub struct Entry {
    /// HTTP status.
    pub status: u16,
    /// The JSON bytes.
    pub body: Bytes,
    /// Extra headers (e.g. `ETag`).
    pub headers: Vec<(&'static str, String)>,
}

impl Entry {
    fn weight(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 16)
                .sum::<usize>()
            + 64
    }
}

/// The query parameters the API's read routes look at. A query with any other parameter is
/// answered but not cached, so `?junk=<n>` cannot fill the cache with copies.
pub const KNOWN_PARAMS: &[&str] = &[
    "select", "view", "page", "limit", "status", "section", "q", "language",
];

/// Whether a raw query string names only [`KNOWN_PARAMS`] (each at most once).
pub fn cacheable_query(raw: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let name = pair.split_once('=').map_or(pair, |(k, _)| k);
        let Some(known) = KNOWN_PARAMS.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            return false;
        };
        if seen.contains(known) {
            return false;
        }
        seen.push(known);
    }
    true
}

struct Inner {
    map: HashMap<Key, (u64, Entry)>,
    /// Insertion order: (sequence number, key); a key re-inserted later has a newer number.
    order: VecDeque<(u64, Key)>,
    bytes: usize,
    seq: u64,
}

/// A map from [`Key`] to [`Entry`], bounded by total bytes and by entry count.
pub struct ResponseCache {
    inner: Mutex<Inner>,
    max_entries: usize,
    max_bytes: usize,
}

impl ResponseCache {
    /// A cache holding at most `max_entries` answers and `max_bytes` bytes (either 0
    /// disables it). One answer may take at most an eighth of the byte budget.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        ResponseCache {
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                order: VecDeque::new(),
                bytes: 0,
                seq: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    fn enabled(&self) -> bool {
        self.max_entries > 0 && self.max_bytes > 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A cached answer.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        if !self.enabled() {
            return None;
        }
        self.lock().map.get(key).map(|(_, e)| e.clone())
    }

    /// Stores a successful answer (other statuses are never kept), evicting the oldest
    /// entries until it fits.
    pub fn put(&self, key: Key, entry: Entry) {
        if !self.enabled() || entry.status != 200 {
            return;
        }
        let weight = key.weight() + entry.weight();
        if weight > self.max_bytes / 8 {
            return;
        }
        let mut inner = self.lock();
        inner.seq += 1;
        let seq = inner.seq;
        if let Some((_, old)) = inner.map.remove(&key) {
            inner.bytes -= key.weight() + old.weight();
        }
        while !inner.order.is_empty()
            && (inner.bytes + weight > self.max_bytes || inner.map.len() >= self.max_entries)
        {
            let Some((s, k)) = inner.order.pop_front() else {
                break;
            };
            if inner.map.get(&k).is_some_and(|(current, _)| *current == s)
                && let Some((_, e)) = inner.map.remove(&k)
            {
                inner.bytes -= k.weight() + e.weight();
            }
        }
        inner.bytes += weight;
        inner.order.push_back((seq, key.clone()));
        inner.map.insert(key, (seq, entry));
        // Re-inserted keys leave stale order slots; keep the queue from growing without end.
        if inner.order.len() > 2 * inner.map.len() + 64 {
            let Inner { map, order, .. } = &mut *inner;
            order.retain(|(s, k)| map.get(k).is_some_and(|(current, _)| current == s));
        }
    }

    /// Bytes held now (keys, bodies and headers, approximately).
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: u64, t: &str) -> Key {
        Key::new(v, "u", "b", t, "")
    }

    fn entry(n: usize) -> Entry {
        Entry {
            status: 200,
            body: Bytes::from(vec![b'x'; n]),
            headers: vec![],
        }
    }

    #[test]
    fn versions_and_entry_bounds() {
        let c = ResponseCache::new(2, 1 << 20);
        c.put(key(1, "/a"), entry(2));
        assert!(c.get(&key(1, "/a")).is_some());
        assert!(c.get(&key(2, "/a")).is_none(), "a new snapshot misses");
        c.put(key(1, "/b"), entry(2));
        c.put(key(2, "/c"), entry(2));
        assert!(c.get(&key(1, "/a")).is_none(), "the oldest goes first");
        assert!(c.get(&key(1, "/b")).is_some());
        assert!(c.get(&key(2, "/c")).is_some());
        let off = ResponseCache::new(0, 1 << 20);
        off.put(key(1, "/a"), entry(2));
        assert!(off.get(&key(1, "/a")).is_none());
    }

    #[test]
    fn bounded_in_bytes() {
        let c = ResponseCache::new(100_000, 1_000_000);
        for i in 0..1200 {
            c.put(key(1, &format!("/p?page={i}")), entry(100_000));
        }
        assert!(c.bytes() <= 1_000_000, "{} bytes", c.bytes());
        assert!(c.len() <= 10);
        assert!(c.get(&key(1, "/p?page=1199")).is_some(), "the newest stays");
        assert!(c.get(&key(1, "/p?page=0")).is_none());
        // Too big for its share: not kept, nothing evicted for it.
        c.put(key(1, "/huge"), entry(200_000));
        assert!(c.get(&key(1, "/huge")).is_none());
        assert!(c.get(&key(1, "/p?page=1199")).is_some());
    }

    #[test]
    fn re_inserting_a_key_keeps_the_accounting_right() {
        let c = ResponseCache::new(100, 100_000);
        for _ in 0..1000 {
            c.put(key(1, "/a"), entry(1000));
        }
        assert_eq!(c.len(), 1);
        assert_eq!(c.bytes(), key(1, "/a").weight() + entry(1000).weight());
        assert!(c.lock().order.len() < 200);
    }

    #[test]
    fn errors_are_never_cached() {
        let c = ResponseCache::new(100, 100_000);
        let mut e = entry(10);
        e.status = 404;
        c.put(key(1, "/x"), e);
        assert!(c.get(&key(1, "/x")).is_none());
    }

    #[test]
    fn only_known_query_parameters_are_cacheable() {
        assert!(cacheable_query(""));
        assert!(cacheable_query(
            "select=id,title&view=compact&page=2&limit=10"
        ));
        assert!(cacheable_query("SELECT=id"));
        assert!(!cacheable_query("junk=1"));
        assert!(!cacheable_query("select=id&n=5"));
        assert!(!cacheable_query("page=1&page=2"), "repeated parameters");
    }
}
