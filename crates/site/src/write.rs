//! Writing the planned files: skip what the manifest proves unchanged, render the rest on every
//! core, write only changed bytes (atomically), remove what the previous build made and this
//! one did not.

use std::collections::HashMap;
use std::fs::{Metadata, OpenOptions};
use std::hash::{BuildHasherDefault, Hasher};
use std::io::Write as _;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::cache;
use crate::pages::{shard_count, shard_range, text_of, Body, Job, Plan, FEED_ENTRIES};
use crate::theme::Theme;
use crate::{BuildReport, LoadError, Progress, SiteArticle, SiteError, SiteOptions};

/// The manifest of the last build, inside the output folder: file → key, length, mtime.
pub const MANIFEST: &str = ".tidings-build.json";

#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Manifest {
    version: u32,
    files: Files,
    /// The text files (see [`cache`]) of this build's shards, oldest shard first.
    #[serde(default)]
    texts: Vec<String>,
}

/// File path → record. Twelve thousand paths are hashed when the manifest is read and looked
/// up when files are checked: FxHash rather than SipHash, since the paths are the ones this
/// crate wrote (whoever can forge the manifest can as well fill the folder).
type Files = HashMap<String, Record, BuildHasherDefault<PathHasher>>;

#[derive(Default)]
struct PathHasher(u64);

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// What a file was made from (`key`) and how it looked on disk when written or checked.
/// Stored as `[key, len, secs, nanos]`: twelve thousand of them are read on every build.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "RecordRow")]
struct Record {
    key: Key,
    len: u64,
    secs: u64,
    nanos: u32,
}

#[derive(Deserialize)]
struct RecordRow(Key, u64, u64, u32);

/// A file's key, written as 64 lowercase hex digits (parsed without a string per file).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key([u8; 32]);

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Serialize for Key {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 64];
        for (i, b) in self.0.iter().enumerate() {
            buf[2 * i] = HEX[usize::from(b >> 4)];
            buf[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct Hex;
        impl serde::de::Visitor<'_> for Hex {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("64 lowercase hex digits")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                parse_key(v).ok_or_else(|| E::custom("not a key"))
            }
        }
        d.deserialize_str(Hex)
    }
}

fn parse_key(hex: &str) -> Option<Key> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = hex.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let mut key = [0u8; 32];
    for (k, pair) in key.iter_mut().zip(bytes.chunks_exact(2)) {
        *k = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(Key(key))
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.key, self.len, self.secs, self.nanos).serialize(s)
    }
}

impl From<RecordRow> for Record {
    fn from(RecordRow(key, len, secs, nanos): RecordRow) -> Record {
        Record {
            key,
            len,
            secs,
            nanos,
        }
    }
}

impl Record {
    fn on_disk(&self) -> (u64, u64, u32) {
        (self.len, self.secs, self.nanos)
    }
}

const VERSION: u32 = 3;

/// Where bodies come from when the articles came without them.
pub(crate) type Loader<'a> = &'a mut dyn FnMut(&str) -> Result<Option<String>, LoadError>;

struct Shared<'a> {
    out: &'a Path,
    plan: &'a Plan,
    articles: &'a [SiteArticle],
    options: &'a SiteOptions,
    theme: &'a Theme,
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn execute(
    out: &Path,
    old: Manifest,
    plan: &mut Plan,
    articles: &mut [SiteArticle],
    loader: Option<Loader>,
    options: &SiteOptions,
    theme: &Theme,
    progress: &dyn Progress,
) -> Result<BuildReport, SiteError> {
    std::fs::create_dir_all(out).map_err(|source| io(out, source))?;
    let fresh = check_all(out, &plan.jobs, &old);
    let mut stale: Vec<usize> = (0..fresh.len()).filter(|&j| fresh[j].is_none()).collect();
    let groups = text_groups(articles);
    let wanted = texts_wanted(plan, &stale, &groups, &old.texts, articles.len());
    let mut has_body = vec![loader.is_none(); articles.len()];
    let need = bodies_needed(plan, &stale, articles.len());
    let (cached, broken) = if loader.is_some() {
        cached_texts(out, &groups, &old.texts, &wanted, &need, articles)
    } else {
        Default::default()
    };
    if let Some(load) = loader {
        for i in 0..articles.len() {
            // Its page or the feed shows its body, or its text is shown and not recorded.
            let uncached = wanted[i] && !cached.contains_key(&articles[i].content_hash);
            if !need[i] && !uncached {
                continue;
            }
            let a = &mut articles[i].article;
            a.html = load(&a.id)
                .and_then(|b| b.ok_or_else(|| "no longer in the store".into()))
                .map_err(|source| SiteError::Body {
                    id: a.id.clone(),
                    source,
                })?;
            has_body[i] = true;
        }
    }
    let texts = articles
        .iter()
        .enumerate()
        .map(|(i, a)| match (wanted[i], has_body[i]) {
            (false, _) => String::new(),
            (true, true) => text_of(&a.article.html),
            (true, false) => cached.get(&a.content_hash).cloned().unwrap_or_default(),
        })
        .collect();
    plan.set_texts(texts);
    // The feed and the search shards are the long jobs: started first, they run beside the
    // pages instead of after them.
    stale.sort_by_key(|&j| !matches!(plan.jobs[j].body, Body::Atom | Body::SearchShard(_)));
    let shared = Shared {
        out,
        plan,
        articles,
        options,
        theme,
    };
    progress.begin(stale.len());
    let results = run_all(&shared, &stale, progress);
    progress.end();
    let mut report = BuildReport::default();
    let mut written = vec![None; fresh.len()];
    for (j, r) in stale.iter().zip(results?) {
        written[*j] = Some(r);
    }
    let mut new = Manifest {
        version: VERSION,
        files: Files::with_capacity_and_hasher(plan.jobs.len(), Default::default()),
        texts: save_texts(
            out,
            plan.texts(),
            articles,
            &groups,
            &old.texts,
            &broken,
            &wanted,
        )?,
    };
    // Old files this build makes again: when that is all of them, none is left to remove.
    let mut kept = 0;
    for ((job, fresh), written) in plan.jobs.iter_mut().zip(fresh).zip(written) {
        if fresh.is_some() || old.files.contains_key(&job.file) {
            kept += 1;
        }
        let record = match (fresh, written) {
            (_, Some((true, record))) => {
                report.written += 1;
                record
            }
            (Some(record), _) | (None, Some((false, record))) => {
                report.unchanged += 1;
                record
            }
            // Every stale job has a result when none failed.
            (None, None) => continue,
        };
        new.files.insert(std::mem::take(&mut job.file), record);
    }
    let all_kept = kept == old.files.len();
    if !all_kept {
        report.removed = remove_stale(out, &old, &new);
    }
    // A build that changed nothing leaves the manifest alone without serializing it again:
    // every file was fresh (its record is the old one) and every old file is still made.
    let same = stale.is_empty() && all_kept && new.texts == old.texts;
    let path = out.join(MANIFEST);
    if !same || !path.is_file() {
        let bytes = serde_json::to_vec(&new).unwrap_or_default();
        replace(&path, &bytes)?;
    }
    // Only now that the manifest names the new text files may the old ones go.
    cache::remove_others(out, &new.texts);
    Ok(report)
}

/// The text file name of each shard, oldest first.
fn text_groups(articles: &[SiteArticle]) -> Vec<String> {
    let n = articles.len();
    (1..=shard_count(n))
        .map(|k| cache::group_name(&articles[shard_range(n, k)]))
        .collect()
}

/// The articles whose text this build must know: those the stale files show, and every
/// article of a shard whose text file must be written (its articles changed).
fn texts_wanted(
    plan: &Plan,
    stale: &[usize],
    groups: &[String],
    old_groups: &[String],
    n: usize,
) -> Vec<bool> {
    let mut wanted = vec![false; n];
    for &j in stale {
        plan.texts_read(&plan.jobs[j], n, &mut |i| wanted[i] = true);
    }
    for (k, g) in groups.iter().enumerate() {
        if !old_groups.contains(g) {
            shard_range(n, k + 1).for_each(|i| wanted[i] = true);
        }
    }
    wanted
}

/// The articles whose bodies the stale files show: their own pages, and the feed's entries.
fn bodies_needed(plan: &Plan, stale: &[usize], n: usize) -> Vec<bool> {
    let mut need = vec![false; n];
    for &j in stale {
        match &plan.jobs[j].body {
            Body::Article(i) => need[*i] = true,
            Body::Atom => need.iter_mut().take(FEED_ENTRIES).for_each(|x| *x = true),
            _ => {}
        }
    }
    need
}

/// The recorded texts of the wanted articles whose bodies are not read anyway: from the text
/// file of their shard when it is unchanged, else from the last build's files that this one
/// no longer has (an article joins a new shard file when newer ones arrive). Also returns the
/// files that could not be read.
fn cached_texts<'a>(
    out: &Path,
    groups: &[String],
    old_groups: &'a [String],
    wanted: &[bool],
    need: &[bool],
    articles: &[SiteArticle],
) -> (cache::Texts, Vec<&'a str>) {
    let n = articles.len();
    let mut names: Vec<&str> = Vec::new();
    let mut orphans = false;
    for (k, g) in groups.iter().enumerate() {
        if shard_range(n, k + 1).any(|i| wanted[i] && !need[i]) {
            match old_groups.iter().find(|o| *o == g) {
                Some(o) => names.push(o),
                None => orphans = true,
            }
        }
    }
    if orphans {
        names.extend(
            old_groups
                .iter()
                .filter(|o| !groups.contains(o))
                .map(String::as_str),
        );
    }
    cache::load(out, names)
}

/// Writes the text file of every shard the last build had none for (or whose file was
/// unreadable) and returns the names of this build's files. A shard whose texts are not all
/// known gets no file: the next build that shows it reads its bodies and writes one.
fn save_texts(
    out: &Path,
    texts: &[String],
    articles: &[SiteArticle],
    groups: &[String],
    old_groups: &[String],
    broken: &[&str],
    wanted: &[bool],
) -> Result<Vec<String>, SiteError> {
    let n = articles.len();
    let mut names = Vec::new();
    for (k, g) in groups.iter().enumerate() {
        let recorded = old_groups.contains(g) && !broken.contains(&g.as_str());
        let range = shard_range(n, k + 1);
        if !recorded {
            if !range.clone().all(|i| wanted[i]) {
                continue;
            }
            let pairs = range.map(|i| (articles[i].content_hash.as_str(), texts[i].as_str()));
            cache::write(out, g, pairs)?;
        }
        names.push(g.clone());
    }
    Ok(names)
}

/// For each job, its old record when the manifest's key matches and the file is as it was
/// left (checked on every core: it is a `stat` per file).
fn check_all(out: &Path, jobs: &[Job], old: &Manifest) -> Vec<Option<Record>> {
    let out = &OutDir::open(out);
    let workers = workers(jobs.len());
    let chunk = jobs.len().div_ceil(workers).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    part.iter()
                        .map(|job| {
                            let old = old.files.get(&job.file)?;
                            (old.key.0 == job.key && out.stat(&job.file) == Some(old.on_disk()))
                                .then(|| old.clone())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn workers(jobs: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(jobs.max(1))
}

/// Runs the `stale` jobs on every core; results come back in the order of `stale`.
fn run_all(
    shared: &Shared,
    stale: &[usize],
    progress: &dyn Progress,
) -> Result<Vec<(bool, Record)>, SiteError> {
    let jobs = &shared.plan.jobs;
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<Option<(bool, Record)>> = vec![None; stale.len()];
    let mut first_error = None;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers(stale.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&j) = stale.get(i) else { break };
                        match one(shared, &jobs[j]) {
                            Ok(r) => done.push((i, r)),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                        progress.advance(1);
                    }
                    Ok(done)
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok(done)) => {
                    for (i, r) in done {
                        results[i] = Some(r);
                    }
                }
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }
    // Every slot is filled when no worker failed.
    Ok(results.into_iter().flatten().collect())
}

/// One stale file: rendered, and written if its bytes differ.
fn one(shared: &Shared, job: &Job) -> Result<(bool, Record), SiteError> {
    let path = shared.out.join(&job.file);
    let bytes = shared
        .plan
        .render(job, shared.articles, shared.options, shared.theme)?;
    let (written, meta) = write_if_changed(&path, &bytes)?;
    let record = record(&meta, Key(job.key)).ok_or_else(|| {
        io(
            &path,
            std::io::Error::new(std::io::ErrorKind::Unsupported, "no modification time"),
        )
    })?;
    Ok((written, record))
}

/// The output folder, opened once so that each file is looked up from it rather than from the
/// root: a stat per file is most of the work of a build with little to do.
struct OutDir<'a> {
    path: &'a Path,
    #[cfg(unix)]
    handle: Option<std::fs::File>,
}

impl OutDir<'_> {
    fn open(path: &Path) -> OutDir<'_> {
        OutDir {
            path,
            #[cfg(unix)]
            handle: std::fs::File::open(path).ok(),
        }
    }

    /// Size and modification time of the file `rel` (following links, like `metadata`).
    fn stat(&self, rel: &str) -> Option<(u64, u64, u32)> {
        #[cfg(unix)]
        if let Some(dir) = &self.handle {
            return stat_at(dir, rel);
        }
        let r = record(&std::fs::metadata(self.path.join(rel)).ok()?, Key([0; 32]))?;
        Some(r.on_disk())
    }
}

#[cfg(unix)]
fn stat_at(dir: &std::fs::File, rel: &str) -> Option<(u64, u64, u32)> {
    use std::os::fd::AsRawFd;
    let path = std::ffi::CString::new(rel).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `path` is NUL-terminated and outlives the call, `st` is a buffer of the size
    // fstatat writes, and `dir` is an open descriptor for the duration of the call.
    let done = unsafe { libc::fstatat(dir.as_raw_fd(), path.as_ptr(), st.as_mut_ptr(), 0) };
    if done != 0 {
        return None;
    }
    // SAFETY: fstatat returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    // Times before 1970 are refused, as `record` refuses them.
    Some((
        u64::try_from(st.st_size).ok()?,
        u64::try_from(st.st_mtime).ok()?,
        u32::try_from(st.st_mtime_nsec).ok()?,
    ))
}

fn record(meta: &Metadata, key: Key) -> Option<Record> {
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(Record {
        key,
        len: meta.len(),
        secs: mtime.as_secs(),
        nanos: mtime.subsec_nanos(),
    })
}

/// Writes `bytes` to `path` unless it already holds exactly them. Returns whether it wrote,
/// and the file's metadata as left.
///
/// A file that exists is replaced through a temporary file beside it and a rename: a reader
/// (or a crash) never sees half a page. A new file is written in place, which saves a third of
/// the system calls of a first build: nobody was served it before, and a crash leaves a file
/// the manifest does not vouch for, so the next build checks and replaces it.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(bool, Metadata), SiteError> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.len() == bytes.len() as u64 && std::fs::read(path).is_ok_and(|old| old == bytes) {
            return Ok((false, meta));
        }
        return replace(path, bytes).map(|meta| (true, meta));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    // `create_new` never follows a link planted where the page goes.
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => {
            let written = f.write_all(bytes).and_then(|()| f.metadata());
            written.map(|meta| (true, meta)).map_err(|source| {
                let _ = std::fs::remove_file(path);
                io(path, source)
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            replace(path, bytes).map(|meta| (true, meta))
        }
        Err(source) => Err(io(path, source)),
    }
}

/// Replaces `path` by a temporary file holding `bytes`, renamed over it.
fn replace(path: &Path, bytes: &[u8]) -> Result<Metadata, SiteError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(temp_name());
    let result = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        // The rename keeps the inode, and with it this modification time.
        let meta = f.metadata()?;
        std::fs::rename(&tmp, path)?;
        Ok(meta)
    });
    result.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        io(path, source)
    })
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".tidings-tmp-{}-{n}", std::process::id())
}

pub(crate) fn read_manifest(out: &Path) -> Manifest {
    std::fs::read(out.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        .filter(|m| m.version == VERSION)
        .unwrap_or_default()
}

/// Removes the files the old manifest lists and the new one does not, then the folders that
/// became empty. Only plain relative paths are touched: the manifest sits in a folder others
/// can write to, and must not be a way to delete files elsewhere.
fn remove_stale(out: &Path, old: &Manifest, new: &Manifest) -> usize {
    let mut removed = 0;
    for file in old.files.keys() {
        if new.files.contains_key(file) || !is_plain_relative(file) {
            continue;
        }
        let path = out.join(file);
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
            prune_empty_dirs(out, &path);
        }
    }
    removed
}

fn is_plain_relative(file: &str) -> bool {
    !file.is_empty()
        && !file.contains('\\')
        && Path::new(file)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn prune_empty_dirs(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn io(path: &Path, source: std::io::Error) -> SiteError {
    SiteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_paths_cannot_leave_the_output_folder() {
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "a\\..\\b", "./a"] {
            assert!(!is_plain_relative(bad), "{bad:?}");
        }
        assert!(is_plain_relative("posts/夜市/index.html"));
    }

    #[test]
    fn a_tampered_manifest_removes_nothing_outside() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("public");
        std::fs::create_dir_all(&out).unwrap();
        let victim = root.path().join("victim.txt");
        std::fs::write(&victim, "keep").unwrap();
        let rec = Record {
            key: Key([0; 32]),
            len: 0,
            secs: 0,
            nanos: 0,
        };
        let mut old = Manifest::default();
        old.files.insert("../victim.txt".into(), rec.clone());
        old.files.insert(victim.display().to_string(), rec);
        assert_eq!(remove_stale(&out, &old, &Manifest::default()), 0);
        assert!(victim.exists());
    }

    #[test]
    fn keys_are_written_and_read_as_hex() {
        let key: Vec<u8> = (0..32u8).map(|b| b.wrapping_mul(37)).collect();
        let key = Key(key.try_into().unwrap());
        let json = serde_json::to_string(&key).unwrap();
        assert_eq!(json, format!("\"{}\"", tidings_model::hex(&key.0)));
        assert_eq!(serde_json::from_str::<Key>(&json).unwrap(), key);
        for bad in [
            json.to_uppercase(),
            json.replace('a', "g"),
            "\"00\"".into(),
            "7".into(),
        ] {
            assert!(serde_json::from_str::<Key>(&bad).is_err(), "{bad}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn stat_from_the_folder_agrees_with_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let (_, meta) = write_if_changed(&dir.path().join("a/夜市/index.html"), b"page").unwrap();
        let out = OutDir::open(dir.path());
        let want = record(&meta, Key([0; 32])).unwrap().on_disk();
        assert_eq!(out.stat("a/夜市/index.html"), Some(want));
        assert_eq!(out.stat("a/missing.html"), None);
        assert_eq!(out.stat("a/\0nul"), None);
    }

    #[test]
    fn identical_bytes_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/index.html");
        let (new, meta) = write_if_changed(&p, b"one").unwrap();
        let before = std::fs::metadata(&p).unwrap().modified().unwrap();
        assert!(new && meta.modified().unwrap() == before && meta.len() == 3);
        std::thread::sleep(std::time::Duration::from_millis(15));
        assert!(!write_if_changed(&p, b"one").unwrap().0);
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
        let (changed, meta) = write_if_changed(&p, b"two!").unwrap();
        let after = std::fs::metadata(&p).unwrap();
        assert!(changed && meta.modified().unwrap() == after.modified().unwrap());
        assert_eq!(meta.len(), 4);
        assert_eq!(std::fs::read(&p).unwrap(), b"two!");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }
}
