//! The on-disk image cache.
//!
//! Bodies are content-addressed (`objects/ab/<sha256 of the bytes>`), so two URLs serving the
//! same image share one file; each cached URL has a small JSON record (`meta/cd/<sha256 of the
//! URL>.json`) naming its body, type, validators and expiry. The index of records lives in
//! memory (rebuilt from `meta/` at start), tracks use order for LRU eviction and keeps the
//! total size of bodies under the cap. Bodies are written to `tmp/` while they stream and
//! renamed into place only when complete, so a partial download is never served.
//!
//! Concurrent misses for one URL are collapsed: the first request leads the upstream fetch, the
//! others wait for its outcome and then read the cache.

use std::collections::HashMap;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};

use crate::memory::{Hot, Memory};

/// Cache writes running at once on the blocking pool. Unlimited, dozens of large images
/// streaming at once meant dozens of blocking threads, each with its own malloc arena: tens
/// of megabytes of resident memory.
const WRITERS: usize = 4;

/// Largest body the in-memory layer keeps.
const MEMORY_ITEM_MAX: u64 = 256 << 10;

/// The cache key: SHA-256 of the target URL (never of the signature or the request form).
pub(crate) type Key = [u8; 32];

/// What is known about one cached URL.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub url: String,
    /// Hex SHA-256 of the body: its file name under `objects/`.
    pub body: String,
    pub size: u64,
    pub content_type: String,
    /// The upstream's validators, used to revalidate and offered to clients.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Unix seconds.
    pub stored: u64,
    pub expires: u64,
}

impl Meta {
    pub fn is_fresh(&self) -> bool {
        now() < self.expires
    }

    /// Seconds of freshness left (0 when stale).
    pub fn max_age(&self) -> u64 {
        self.expires.saturating_sub(now())
    }

    /// The ETag clients see: the upstream's when it gave one, else one from the content hash.
    pub fn etag(&self) -> String {
        match &self.etag {
            Some(e) => e.clone(),
            None => format!("\"{}\"", &self.body[..32.min(self.body.len())]),
        }
    }
}

/// How a collapsed fetch ended, as seen by the requests that waited for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A fresh entry is in the cache.
    Done,
    /// The upstream failed; the stale entry is to be served.
    Stale,
    /// The upstream answered this error status.
    Failed(http::StatusCode),
    /// The leader went away (its client disconnected) or the body was not cacheable: retry.
    Aborted,
}

type Inflight = Arc<Mutex<HashMap<Key, watch::Receiver<Option<Outcome>>>>>;

/// The first request for a missing URL: it fetches; dropping it without [`Lead::finish`]
/// tells the waiters to retry.
pub(crate) struct Lead {
    key: Key,
    tx: watch::Sender<Option<Outcome>>,
    inflight: Inflight,
    finished: bool,
}

impl Lead {
    pub fn finish(mut self, outcome: Outcome) {
        self.end(outcome);
    }

    fn end(&mut self, outcome: Outcome) {
        if self.finished {
            return;
        }
        self.finished = true;
        lock(&self.inflight).remove(&self.key);
        let _ = self.tx.send(Some(outcome));
    }
}

impl Drop for Lead {
    fn drop(&mut self) {
        self.end(Outcome::Aborted);
    }
}

pub(crate) enum Begin {
    Leader(Lead),
    Follower(watch::Receiver<Option<Outcome>>),
}

/// Wait for a leader's outcome; a vanished leader counts as aborted.
pub(crate) async fn wait(mut rx: watch::Receiver<Option<Outcome>>) -> Outcome {
    match rx.wait_for(Option::is_some).await {
        Ok(v) => v.unwrap_or(Outcome::Aborted),
        Err(_) => Outcome::Aborted,
    }
}

struct Slot {
    meta: Arc<Meta>,
    used: u64,
}

#[derive(Default)]
struct Index {
    entries: HashMap<Key, Slot>,
    /// Body hash → (records using it, size).
    bodies: HashMap<String, (u32, u64)>,
    total: u64,
    tick: u64,
}

pub(crate) struct Cache {
    dir: PathBuf,
    cap: u64,
    /// Lock order: `index` before any `memory` shard.
    index: Mutex<Index>,
    memory: Memory,
    /// Cache writes waiting for or running on the blocking pool (see [`blocking`]).
    gate: Arc<Semaphore>,
    inflight: Inflight,
    seq: AtomicU64,
}

impl Cache {
    /// Open (or create) the cache under `dir`, holding at most `cap` bytes of bodies on disk,
    /// of which up to `memory` bytes of small bodies are also kept in memory.
    pub fn open(dir: &Path, cap: u64, memory: u64) -> io::Result<Cache> {
        for sub in ["objects", "meta", "tmp"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        // Leftovers of downloads interrupted by a crash.
        for entry in std::fs::read_dir(dir.join("tmp"))?.flatten() {
            let _ = std::fs::remove_file(entry.path());
        }
        let cache = Cache {
            dir: dir.to_path_buf(),
            cap,
            index: Mutex::new(Index::default()),
            memory: Memory::new(memory, MEMORY_ITEM_MAX),
            gate: Arc::new(Semaphore::new(WRITERS)),
            inflight: Arc::default(),
            seq: AtomicU64::new(0),
        };
        cache.load()?;
        Ok(cache)
    }

    pub fn key(url: &str) -> Key {
        Sha256::digest(url.as_bytes()).into()
    }

    /// The record for `key`, fresh or stale; marks it as recently used.
    pub fn lookup(&self, key: &Key) -> Option<Arc<Meta>> {
        let mut index = lock(&self.index);
        index.tick += 1;
        let tick = index.tick;
        let slot = index.entries.get_mut(key)?;
        slot.used = tick;
        Some(slot.meta.clone())
    }

    /// The in-memory copy of `key`, fresh or stale; marks it as recently used in memory and
    /// on disk (a hot image must not age out of the disk index, which would drop it from
    /// memory too).
    pub fn hot(&self, key: &Key) -> Option<Arc<Hot>> {
        let hot = self.memory.get(key)?;
        let mut index = lock(&self.index);
        index.tick += 1;
        let tick = index.tick;
        if let Some(slot) = index.entries.get_mut(key) {
            slot.used = tick;
        }
        Some(hot)
    }

    /// Would a body of `size` bytes be kept in memory?
    pub fn memory_takes(&self, size: u64) -> bool {
        self.memory.takes(size)
    }

    /// Keep `body`, just read from disk for `meta`, in memory, unless the disk index has moved
    /// on since `meta` was looked up (a revalidation or a new body must not be shadowed by an
    /// older copy).
    pub fn remember(&self, key: &Key, meta: &Arc<Meta>, body: Bytes) {
        if body.len() as u64 != meta.size || !self.memory.takes(meta.size) {
            return;
        }
        let index = lock(&self.index);
        let current = index
            .entries
            .get(key)
            .is_some_and(|s| Arc::ptr_eq(&s.meta, meta));
        if let (true, Some(hot)) = (current, Hot::new(meta.clone(), body)) {
            self.memory.insert(*key, hot);
        }
    }

    /// Lead the fetch of `key`, or follow the request already leading it.
    pub fn begin(&self, key: Key) -> Begin {
        let mut inflight = lock(&self.inflight);
        if let Some(rx) = inflight.get(&key) {
            return Begin::Follower(rx.clone());
        }
        let (tx, rx) = watch::channel(None);
        inflight.insert(key, rx);
        Begin::Leader(Lead {
            key,
            tx,
            inflight: self.inflight.clone(),
            finished: false,
        })
    }

    pub fn body_path(&self, body: &str) -> PathBuf {
        let prefix = body.get(..2).unwrap_or("00");
        self.dir.join("objects").join(prefix).join(body)
    }

    fn meta_path(&self, key: &Key) -> PathBuf {
        let name = hex(key);
        self.dir
            .join("meta")
            .join(&name[..2])
            .join(format!("{name}.json"))
    }

    /// A temp file to stream a new body into.
    pub fn writer(&self) -> io::Result<Writer> {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let path = self
            .dir
            .join("tmp")
            .join(format!("{}-{n}", std::process::id()));
        // Creating an empty file is a metadata operation: cheap enough to do inline.
        let file = std::fs::File::create(&path)?;
        Ok(Writer {
            file: Some(file),
            path,
            hasher: Sha256::new(),
            size: 0,
            gate: self.gate.clone(),
        })
    }

    /// Move a complete body into place and record `meta` for `key` (its `body` and `size` are
    /// filled in here). Evicts least recently used records to stay under the cap. Returns
    /// `None` when the body alone is bigger than the whole cache.
    pub async fn commit(
        &self,
        key: Key,
        mut writer: Writer,
        mut meta: Meta,
    ) -> io::Result<Option<Arc<Meta>>> {
        let Some(file) = writer.file.take() else {
            return Ok(None);
        };
        drop(file);
        meta.body = hex(&writer.hasher.clone().finalize());
        meta.size = writer.size;
        if meta.size > self.cap {
            return Ok(None);
        }
        let meta = Arc::new(meta);
        self.write_meta(&key, &meta).await?;
        let mut index = lock(&self.index);
        let body_path = self.body_path(&meta.body);
        if !index.bodies.contains_key(&meta.body) {
            if let Some(parent) = body_path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(&writer.path, &body_path)?;
        }
        self.insert(&mut index, key, meta.clone());
        self.evict(&mut index, &key);
        Ok(Some(meta))
    }

    /// After a 304 from upstream: the same body is fresh until `expires`.
    pub async fn refresh(&self, key: Key, old: &Meta, expires: u64) -> io::Result<Arc<Meta>> {
        let meta = Arc::new(Meta {
            expires,
            stored: now(),
            ..old.clone()
        });
        self.write_meta(&key, &meta).await?;
        let mut index = lock(&self.index);
        if let Some(slot) = index.entries.get_mut(&key) {
            slot.meta = meta.clone();
        }
        self.memory.remove(&key);
        Ok(meta)
    }

    /// Forget `key` (the upstream says the image is gone).
    pub fn remove(&self, key: &Key) {
        let mut index = lock(&self.index);
        self.drop_entry(&mut index, key);
    }

    /// `len` bytes of a cached body from `start`, read in `chunk`-sized pieces through the
    /// same gated blocking pool as the writes. `None` when the file cannot be opened.
    pub async fn read_stream(
        &self,
        path: PathBuf,
        start: u64,
        len: u64,
        chunk: usize,
    ) -> Option<impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static> {
        let file = blocking(&self.gate, move || {
            let mut file = std::fs::File::open(&path)?;
            file.seek(io::SeekFrom::Start(start))?;
            Ok(file)
        })
        .await
        .ok()?;
        let gate = self.gate.clone();
        let state = (Some(file), len, gate);
        Some(futures_util::stream::unfold(
            state,
            move |(file, left, gate)| async move {
                let mut file = file.filter(|_| left > 0)?;
                let want = left.min(chunk as u64) as usize;
                let read = blocking(&gate, move || {
                    let mut buf = vec![0; want];
                    file.read_exact(&mut buf)?;
                    Ok((file, buf))
                })
                .await;
                match read {
                    Ok((file, buf)) => {
                        let next = (Some(file), left - want as u64, gate);
                        Some((Ok(Bytes::from(buf)), next))
                    }
                    // The error ends the body; the client sees a cut connection.
                    Err(e) => Some((Err(e), (None, 0, gate))),
                }
            },
        ))
    }

    /// Bytes of bodies currently held.
    #[cfg(test)]
    pub fn total(&self) -> u64 {
        lock(&self.index).total
    }

    async fn write_meta(&self, key: &Key, meta: &Meta) -> io::Result<()> {
        let path = self.meta_path(key);
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("meta-{}-{n}", std::process::id()));
        let json = serde_json::to_vec(meta).map_err(io::Error::other)?;
        blocking(&self.gate, move || {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&tmp, json)?;
            std::fs::rename(&tmp, &path)
        })
        .await
    }

    fn insert(&self, index: &mut Index, key: Key, meta: Arc<Meta>) {
        if index
            .entries
            .get(&key)
            .is_some_and(|s| s.meta.body == meta.body)
        {
            index.tick += 1;
            let tick = index.tick;
            if let Some(slot) = index.entries.get_mut(&key) {
                slot.meta = meta;
                slot.used = tick;
            }
            self.memory.remove(&key);
            return;
        }
        self.release_body(index, &key);
        let body = index
            .bodies
            .entry(meta.body.clone())
            .or_insert((0, meta.size));
        body.0 += 1;
        if body.0 == 1 {
            index.total += meta.size;
        }
        index.tick += 1;
        let used = index.tick;
        index.entries.insert(key, Slot { meta, used });
    }

    /// Drop records, least recently used first, until the bodies fit; never `keep`.
    fn evict(&self, index: &mut Index, keep: &Key) {
        while index.total > self.cap {
            let victim = index
                .entries
                .iter()
                .filter(|(k, _)| *k != keep)
                .min_by_key(|(_, s)| s.used)
                .map(|(k, _)| *k);
            match victim {
                Some(k) => self.drop_entry(index, &k),
                None => break,
            }
        }
    }

    fn drop_entry(&self, index: &mut Index, key: &Key) {
        if index.entries.contains_key(key) {
            self.release_body(index, key);
            let _ = std::fs::remove_file(self.meta_path(key));
        }
    }

    /// Un-reference the body of `key`'s current record, deleting the file when unused.
    fn release_body(&self, index: &mut Index, key: &Key) {
        let Some(body) = index.entries.get(key).map(|s| s.meta.body.clone()) else {
            return;
        };
        self.memory.remove(key);
        if let Some((refs, size)) = index.bodies.get_mut(&body) {
            *refs -= 1;
            if *refs == 0 {
                index.total -= *size;
                index.bodies.remove(&body);
                let _ = std::fs::remove_file(self.body_path(&body));
            }
        }
        index.entries.remove(key);
    }

    /// Rebuild the index from `meta/`, dropping records whose body is missing or the wrong size.
    fn load(&self) -> io::Result<()> {
        let mut found = Vec::new();
        for shard in std::fs::read_dir(self.dir.join("meta"))?.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.flatten() {
                let path = file.path();
                let meta = std::fs::read(&path)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Meta>(&b).ok());
                let size = meta
                    .as_ref()
                    .and_then(|m| std::fs::metadata(self.body_path(&m.body)).ok())
                    .map(|m| m.len());
                match meta {
                    Some(meta) if size == Some(meta.size) => found.push(meta),
                    _ => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
        }
        found.sort_by_key(|m| m.stored);
        let mut index = lock(&self.index);
        for meta in found {
            let key = Cache::key(&meta.url);
            self.insert(&mut index, key, Arc::new(meta));
        }
        self.evict(&mut index, &[0; 32]);
        Ok(())
    }
}

/// A body being streamed into `tmp/`; removed unless committed.
pub(crate) struct Writer {
    file: Option<std::fs::File>,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    gate: Arc<Semaphore>,
}

impl Writer {
    /// Append `chunk`. The write runs on the blocking pool (a slow disk must not stall the
    /// runtime); the chunk is shared, not copied.
    pub async fn write(&mut self, chunk: &Bytes) -> io::Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| io::Error::other("writer closed"))?;
        let data = chunk.clone();
        let file = blocking(&self.gate, move || file.write_all(&data).map(|()| file)).await?;
        self.file = Some(file);
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        Ok(())
    }
}

/// Run file I/O on tokio's blocking pool, at most [`WRITERS`] at once: the pool grows a thread
/// (and with it a malloc arena) for every job in flight when nothing limits them.
async fn blocking<T: Send + 'static>(
    gate: &Arc<Semaphore>,
    job: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let permit = gate
        .clone()
        .acquire_owned()
        .await
        .map_err(io::Error::other)?;
    tokio::task::spawn_blocking(move || {
        let result = job();
        drop(permit);
        result
    })
    .await
    .map_err(io::Error::other)?
}

impl Drop for Writer {
    fn drop(&mut self) {
        // After a successful commit the file has been renamed away and this is a no-op.
        let _ = std::fs::remove_file(&self.path);
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A poisoned lock only means another request panicked mid-update of plain data; keep going.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn put(cache: &Cache, url: &str, body: &[u8]) -> Arc<Meta> {
        let mut w = cache.writer().unwrap();
        w.write(&Bytes::copy_from_slice(body)).await.unwrap();
        let meta = Meta {
            url: url.into(),
            body: String::new(),
            size: 0,
            content_type: "image/png".into(),
            etag: None,
            last_modified: None,
            stored: now(),
            expires: now() + 60,
        };
        cache
            .commit(Cache::key(url), w, meta)
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn evicts_least_recently_used_and_shares_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 25, 0).unwrap();
        put(&cache, "http://a/1", &[1; 10]).await;
        put(&cache, "http://a/2", &[2; 10]).await;
        // Same bytes under another URL: one body file.
        let shared = put(&cache, "http://a/2bis", &[2; 10]).await;
        assert_eq!(cache.total(), 20);
        assert!(cache.lookup(&Cache::key("http://a/1")).is_some());
        put(&cache, "http://a/3", &[3; 10]).await;
        assert_eq!(cache.total(), 20);
        assert!(
            cache.lookup(&Cache::key("http://a/1")).is_some(),
            "recently used"
        );
        assert!(cache.lookup(&Cache::key("http://a/2")).is_none());
        assert!(cache.lookup(&Cache::key("http://a/2bis")).is_none());
        assert!(!cache.body_path(&shared.body).exists());
        // A reopened cache finds what was kept, and nothing else.
        drop(cache);
        let cache = Cache::open(dir.path(), 25, 0).unwrap();
        assert_eq!(cache.total(), 20);
        assert!(cache.lookup(&Cache::key("http://a/3")).is_some());
    }

    /// Copy `url`'s disk entry into memory, as a disk hit does.
    fn remember(cache: &Cache, url: &str, body: &[u8]) -> Arc<Meta> {
        let key = Cache::key(url);
        let meta = cache.lookup(&key).unwrap();
        cache.remember(&key, &meta, Bytes::copy_from_slice(body));
        meta
    }

    #[tokio::test]
    async fn memory_copies_follow_the_disk_index() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 1000, 1 << 20).unwrap();
        let (a, b) = ("http://a/1", "http://a/2");
        let (ka, kb) = (Cache::key(a), Cache::key(b));
        put(&cache, a, &[1; 10]).await;
        put(&cache, b, &[2; 10]).await;
        let old = remember(&cache, a, &[1; 10]);
        remember(&cache, b, &[2; 10]);
        assert_eq!(cache.hot(&ka).unwrap().body[..], [1; 10]);
        assert_eq!(cache.hot(&kb).unwrap().body[..], [2; 10]);

        // Revalidated: the copy goes, and one made from the record read before cannot come
        // back (a request that looked up `old` and read its file just before the refresh).
        cache.refresh(ka, &old, now() + 60).await.unwrap();
        assert!(cache.hot(&ka).is_none());
        cache.remember(&ka, &old, Bytes::from_static(&[1; 10]));
        assert!(cache.hot(&ka).is_none(), "an outdated record was copied");

        // A new body for the URL: the old copy must not shadow it.
        remember(&cache, a, &[1; 10]);
        put(&cache, a, &[3; 10]).await;
        assert!(cache.hot(&ka).is_none());
        remember(&cache, a, &[3; 10]);
        assert_eq!(cache.hot(&ka).unwrap().body[..], [3; 10]);

        // Removed (the upstream said 404): gone from memory too; the other URL is untouched.
        cache.remove(&ka);
        assert!(cache.hot(&ka).is_none());
        assert_eq!(cache.hot(&kb).unwrap().body[..], [2; 10]);
    }

    #[tokio::test]
    async fn a_copy_of_the_wrong_length_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 1000, 1 << 20).unwrap();
        put(&cache, "http://a/1", &[1; 10]).await;
        remember(&cache, "http://a/1", &[1; 9]);
        assert!(cache.hot(&Cache::key("http://a/1")).is_none());
    }

    #[tokio::test]
    async fn too_big_for_the_cache_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 5, 0).unwrap();
        let mut w = cache.writer().unwrap();
        w.write(&Bytes::from_static(&[0; 10])).await.unwrap();
        let meta = Meta {
            url: "http://a/big".into(),
            body: String::new(),
            size: 0,
            content_type: "image/png".into(),
            etag: None,
            last_modified: None,
            stored: 0,
            expires: 0,
        };
        assert!(cache.commit([1; 32], w, meta).await.unwrap().is_none());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
