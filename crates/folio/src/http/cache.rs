//! The response cache for API reads. A GET answer is a pure function of the snapshot, the
//! acting user, the base URL and the request path with its query, so its serialized bytes are
//! kept under exactly that key. A new snapshot has a new version, which makes every older
//! entry unreachable; the map is simply cleared when it grows past its bound.

use bytes::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;

/// What identifies a cached answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Snapshot version.
    pub version: u64,
    /// The acting user's id.
    pub who: String,
    /// Base URL (from the Host header or the `url` option).
    pub base: String,
    /// Raw path and query.
    pub target: String,
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

/// A bounded map from [`Key`] to [`Entry`].
pub struct ResponseCache {
    map: Mutex<HashMap<Key, Entry>>,
    max: usize,
}

impl ResponseCache {
    /// A cache holding at most `max` entries (0 disables it).
    pub fn new(max: usize) -> Self {
        ResponseCache {
            map: Mutex::new(HashMap::new()),
            max,
        }
    }

    /// A cached answer.
    pub fn get(&self, key: &Key) -> Option<Entry> {
        if self.max == 0 {
            return None;
        }
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    /// Stores an answer; entries of older snapshots are dropped when the map is full.
    pub fn put(&self, key: Key, entry: Entry) {
        if self.max == 0 {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= self.max {
            let current = key.version;
            map.retain(|k, _| k.version == current);
            if map.len() >= self.max {
                map.clear();
            }
        }
        map.insert(key, entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(v: u64, t: &str) -> Key {
        Key {
            version: v,
            who: "u".into(),
            base: "b".into(),
            target: t.into(),
        }
    }

    #[test]
    fn versions_and_bounds() {
        let c = ResponseCache::new(2);
        let e = Entry {
            status: 200,
            body: Bytes::from_static(b"{}"),
            headers: vec![],
        };
        c.put(key(1, "/a"), e.clone());
        assert!(c.get(&key(1, "/a")).is_some());
        assert!(c.get(&key(2, "/a")).is_none(), "a new snapshot misses");
        c.put(key(1, "/b"), e.clone());
        c.put(key(2, "/c"), e.clone());
        assert!(
            c.get(&key(1, "/a")).is_none(),
            "old versions are dropped when full"
        );
        assert!(c.get(&key(2, "/c")).is_some());
        let off = ResponseCache::new(0);
        off.put(key(1, "/a"), e);
        assert!(off.get(&key(1, "/a")).is_none());
    }
}
