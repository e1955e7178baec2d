//! Writing the planned files: skip what the manifest proves unchanged, render the rest on every
//! core, write only changed bytes (atomically), remove what the previous build made and this
//! one did not.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Component, Path};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::pages::{Job, Plan};
use crate::theme::Theme;
use crate::{BuildReport, Progress, SiteArticle, SiteError, SiteOptions};

/// The manifest of the last build, inside the output folder: file → key, length, mtime.
pub const MANIFEST: &str = ".tidings-build.json";

#[derive(Default, Serialize, Deserialize)]
struct Manifest {
    version: u32,
    files: BTreeMap<String, Record>,
}

/// What a file was made from (`key`) and how it looked on disk when written or checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    key: String,
    len: u64,
    secs: u64,
    nanos: u32,
}

const VERSION: u32 = 1;

struct Shared<'a> {
    out: &'a Path,
    plan: &'a Plan,
    articles: &'a [SiteArticle],
    options: &'a SiteOptions,
    theme: &'a Theme,
    old: &'a Manifest,
}

pub(crate) fn execute(
    out: &Path,
    plan: &Plan,
    articles: &[SiteArticle],
    options: &SiteOptions,
    theme: &Theme,
    progress: &dyn Progress,
) -> Result<BuildReport, SiteError> {
    std::fs::create_dir_all(out).map_err(|source| io(out, source))?;
    let old = read_manifest(out);
    let shared = Shared {
        out,
        plan,
        articles,
        options,
        theme,
        old: &old,
    };
    progress.begin(plan.jobs.len());
    let results = run_all(&shared, progress);
    progress.end();
    let mut report = BuildReport::default();
    let mut new = Manifest {
        version: VERSION,
        files: BTreeMap::new(),
    };
    for (job, (written, record)) in plan.jobs.iter().zip(results?) {
        if written {
            report.written += 1;
        } else {
            report.unchanged += 1;
        }
        new.files.insert(job.file.clone(), record);
    }
    report.removed = remove_stale(out, &old, &new);
    let bytes = serde_json::to_vec(&new).unwrap_or_default();
    write_if_changed(&out.join(MANIFEST), &bytes)?;
    Ok(report)
}

/// Runs every job on every core; results come back in job order.
fn run_all(shared: &Shared, progress: &dyn Progress) -> Result<Vec<(bool, Record)>, SiteError> {
    let jobs = &shared.plan.jobs;
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
        .min(jobs.len().max(1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let mut results: Vec<Option<(bool, Record)>> = vec![None; jobs.len()];
    let mut first_error = None;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = jobs.get(i) else { break };
                        match one(shared, job) {
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

/// One file: skipped when the manifest's key matches and the file is as it was left,
/// otherwise rendered and written if its bytes differ.
fn one(shared: &Shared, job: &Job) -> Result<(bool, Record), SiteError> {
    let path = shared.out.join(&job.file);
    let key = tidings_model::hex(&job.key);
    if let Some(old) = shared.old.files.get(&job.file) {
        if old.key == key && stat(&path, &key).as_ref() == Some(old) {
            return Ok((false, old.clone()));
        }
    }
    let bytes = shared
        .plan
        .render(job, shared.articles, shared.options, shared.theme)?;
    let written = write_if_changed(&path, &bytes)?;
    let record = stat(&path, &key).ok_or_else(|| {
        io(
            &path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "vanished after writing"),
        )
    })?;
    Ok((written, record))
}

fn stat(path: &Path, key: &str) -> Option<Record> {
    let meta = std::fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some(Record {
        key: key.to_string(),
        len: meta.len(),
        secs: mtime.as_secs(),
        nanos: mtime.subsec_nanos(),
    })
}

/// Writes `bytes` to `path` unless it already holds exactly them. Returns whether it wrote.
/// The write goes to a temporary file beside it, then a rename: a reader (or a crash) never
/// sees half a page.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool, SiteError> {
    let same_len = std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if same_len && std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| io(dir, source))?;
    let tmp = dir.join(temp_name());
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(path, source));
    }
    Ok(true)
}

fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".tidings-tmp-{}-{n}", std::process::id())
}

fn read_manifest(out: &Path) -> Manifest {
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
            key: String::new(),
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
    fn identical_bytes_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/index.html");
        assert!(write_if_changed(&p, b"one").unwrap());
        let before = std::fs::metadata(&p).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(15));
        assert!(!write_if_changed(&p, b"one").unwrap());
        assert_eq!(std::fs::metadata(&p).unwrap().modified().unwrap(), before);
        assert!(write_if_changed(&p, b"two").unwrap());
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }
}
