//! The in-memory layer over the disk cache: small, hot bodies with their response headers
//! already built, so a hit is a hash lookup and a few reference-count increments instead of
//! an open, a read and a dozen header parses.
//!
//! It only ever holds copies of what the disk index holds: entries are added from a disk hit
//! (see `Cache::remember`) and dropped whenever the disk index changes that URL (new body,
//! revalidation, removal, eviction). It is bounded by bytes of bodies, split into shards so
//! that hits on different URLs rarely wait for each other, each shard evicting its least
//! recently used entries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};

use crate::cache::{Key, Meta};
use crate::respond::security_headers;

const SHARDS: usize = 8;

/// One cached image, ready to answer with.
pub(crate) struct Hot {
    /// The record it was built from (type, validators, expiry).
    pub meta: Arc<Meta>,
    pub body: Bytes,
    /// The client-visible ETag (`meta.etag()`), kept to answer conditionals.
    pub etag: String,
    /// The headers of a full 200: Content-Type, Content-Length, ETag, Accept-Ranges,
    /// Last-Modified, the security headers, and a Cache-Control to be replaced per request.
    /// With every header already present, stamping the per-request ones on a clone replaces
    /// values in place instead of growing the map.
    pub headers: HeaderMap,
}

impl Hot {
    /// `None` when a header value would be invalid (then the disk path answers instead).
    pub fn new(meta: Arc<Meta>, body: Bytes) -> Option<Hot> {
        let etag = meta.etag();
        let mut headers = HeaderMap::with_capacity(12);
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&meta.content_type).ok()?,
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        headers.insert(header::ETAG, HeaderValue::from_str(&etag).ok()?);
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        if let Some(lm) = &meta.last_modified {
            headers.insert(header::LAST_MODIFIED, HeaderValue::from_str(lm).ok()?);
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public"));
        headers.extend(security_headers());
        Some(Hot {
            meta,
            body,
            etag,
            headers,
        })
    }
}

struct Entry {
    hot: Arc<Hot>,
    used: u64,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<Key, Entry>,
    /// Use tick → key: the first is the least recently used.
    order: BTreeMap<u64, Key>,
    bytes: u64,
    tick: u64,
}

impl Shard {
    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.entries.remove(key) {
            self.order.remove(&old.used);
            self.bytes -= old.hot.body.len() as u64;
        }
    }
}

pub(crate) struct Memory {
    shards: Vec<Mutex<Shard>>,
    /// Bytes of bodies per shard.
    shard_cap: u64,
    /// Largest body kept.
    item_max: u64,
}

impl Memory {
    /// `cap` bytes of bodies in all, none bigger than `item_max`; a zero `cap` keeps nothing.
    pub fn new(cap: u64, item_max: u64) -> Memory {
        let shard_cap = cap / SHARDS as u64;
        Memory {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_cap,
            item_max: item_max.min(shard_cap),
        }
    }

    /// Would a body of `size` bytes be kept?
    pub fn takes(&self, size: u64) -> bool {
        size > 0 && size <= self.item_max
    }

    fn shard(&self, key: &Key) -> MutexGuard<'_, Shard> {
        // The key is a SHA-256: any byte of it is evenly spread.
        let m = &self.shards[key[0] as usize % SHARDS];
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for `key`, marked as recently used.
    pub fn get(&self, key: &Key) -> Option<Arc<Hot>> {
        let mut shard = self.shard(key);
        shard.tick += 1;
        let tick = shard.tick;
        let entry = shard.entries.get_mut(key)?;
        let old = std::mem::replace(&mut entry.used, tick);
        let hot = entry.hot.clone();
        shard.order.remove(&old);
        shard.order.insert(tick, *key);
        Some(hot)
    }

    /// Keep `hot` for `key` (replacing any older entry), evicting the least recently used.
    pub fn insert(&self, key: Key, hot: Hot) {
        let size = hot.body.len() as u64;
        if !self.takes(size) {
            return;
        }
        let mut shard = self.shard(&key);
        shard.remove(&key);
        while shard.bytes + size > self.shard_cap {
            let Some((_, victim)) = shard.order.pop_first() else {
                break;
            };
            if let Some(old) = shard.entries.remove(&victim) {
                shard.bytes -= old.hot.body.len() as u64;
            }
        }
        shard.tick += 1;
        let used = shard.tick;
        shard.order.insert(used, key);
        shard.bytes += size;
        let hot = Arc::new(hot);
        shard.entries.insert(key, Entry { hot, used });
    }

    pub fn remove(&self, key: &Key) {
        self.shard(key).remove(key);
    }

    /// Bytes of bodies held.
    #[cfg(test)]
    pub fn bytes(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(url: &str, n: u8) -> Arc<Meta> {
        Arc::new(Meta {
            url: url.into(),
            body: format!("{n:02x}").repeat(32),
            size: 0,
            content_type: "image/png".into(),
            etag: None,
            last_modified: None,
            stored: 0,
            expires: u64::MAX,
        })
    }

    /// Keys that all land in shard 0, so one shard's cap is what is tested.
    fn key(n: u8) -> Key {
        let mut k = [0; 32];
        k[0] = 0;
        k[1] = n;
        k
    }

    fn hot(n: u8, len: usize) -> Hot {
        Hot::new(meta(&format!("http://a/{n}"), n), Bytes::from(vec![n; len])).unwrap()
    }

    #[test]
    fn bounded_by_bytes_and_evicts_least_recently_used() {
        // 8 shards of 100 bytes.
        let m = Memory::new(800, 60);
        m.insert(key(1), hot(1, 40));
        m.insert(key(2), hot(2, 40));
        assert!(m.get(&key(1)).is_some()); // 1 is now more recent than 2
        m.insert(key(3), hot(3, 40));
        assert!(m.get(&key(2)).is_none(), "least recently used was evicted");
        assert_eq!(m.get(&key(1)).unwrap().body[0], 1);
        assert_eq!(m.get(&key(3)).unwrap().body[0], 3);
        assert_eq!(m.bytes(), 80);
    }

    #[test]
    fn too_big_or_empty_bodies_are_not_kept() {
        let m = Memory::new(800, 60);
        m.insert(key(1), hot(1, 61));
        m.insert(key(2), hot(2, 0));
        assert!(m.get(&key(1)).is_none());
        assert!(m.get(&key(2)).is_none());
        assert_eq!(m.bytes(), 0);
        let off = Memory::new(0, 60);
        off.insert(key(1), hot(1, 1));
        assert!(off.get(&key(1)).is_none());
    }

    #[test]
    fn replacing_and_removing_keep_the_byte_count() {
        let m = Memory::new(800, 60);
        m.insert(key(1), hot(1, 50));
        m.insert(key(1), hot(9, 30));
        assert_eq!(m.bytes(), 30);
        assert_eq!(m.get(&key(1)).unwrap().body[0], 9);
        m.remove(&key(1));
        assert_eq!(m.bytes(), 0);
        assert!(m.get(&key(1)).is_none());
    }

    #[test]
    fn headers_are_prebuilt() {
        let h = hot(7, 12);
        assert_eq!(h.headers[header::CONTENT_LENGTH], "12");
        assert_eq!(h.headers[header::CONTENT_TYPE], "image/png");
        assert_eq!(h.headers[header::ETAG], h.etag.as_str());
        assert_eq!(h.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h.headers[header::CONTENT_SECURITY_POLICY], crate::CSP);
        let mut bad = (*meta("http://a/x", 1)).clone();
        bad.content_type = "image/png\r\nset-cookie: x=1".into();
        assert!(Hot::new(Arc::new(bad), Bytes::from_static(b"x")).is_none());
    }
}
