//! Crash-safe file writing.

use std::collections::hash_map::RandomState;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Prefix of the temporary files [`replace_file`] creates; [`remove_temp_files`] looks for it.
pub const TEMP_PREFIX: &str = ".tidings-tmp-";

/// The folder, inside the folder written to, where [`replace_file`] makes its temporary files.
/// Creating and removing a temporary name among the tens of thousands of posts of a blog cost
/// a fifth of the kernel's time per post; in a folder of its own it costs next to nothing.
pub const TEMP_DIR: &str = ".tidings-tmp";

/// Replace `path` with `bytes` so that readers see either the old or the new file, never a
/// partial one: write a temporary file in [`TEMP_DIR`] beside it (or, if that folder cannot be
/// made, in the same folder), then rename it over `path`.
///
/// Nothing is fsynced here: a run writes thousands of posts, and two fsyncs per post were most
/// of a cold sync's time. Callers make a batch durable with one [`sync_tree`] before they
/// record it as published, so a crash leaves at worst posts that the next run rewrites. They
/// remove the emptied [`TEMP_DIR`] with [`remove_temp_dir`] when done.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent_dir(path);
    let (tmp_path, mut file) = create_staged_temp(&dir).map_err(|e| with_path(e, &dir))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| fs::rename(&tmp_path, path));
    if let Err(e) = written {
        // Best effort: the temp file is garbage now; remove_temp_files catches what we miss.
        let _ = fs::remove_file(&tmp_path);
        return Err(with_path(e, path));
    }
    Ok(())
}

/// Makes every file written under `dir` durable: one `syncfs` of its file system on Linux;
/// elsewhere an fsync of each file in `dir` and of `dir` itself.
#[cfg(target_os = "linux")]
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let handle = File::open(dir).map_err(|e| with_path(e, dir))?;
    // SAFETY: the descriptor stays open for the duration of the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        Err(with_path(io::Error::last_os_error(), dir))
    }
}

/// Makes every file written under `dir` durable (see the Linux version).
#[cfg(not(target_os = "linux"))]
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            File::open(entry.path())?.sync_all()?;
        }
    }
    #[cfg(unix)]
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Delete the temporary files a crashed run left in `dir` (`.tidings-tmp-*` there and in its
/// [`TEMP_DIR`], which goes too); returns how many. A missing directory has none.
pub fn remove_temp_files(dir: &Path) -> io::Result<usize> {
    let removed = remove_temp_files_in(&dir.join(TEMP_DIR))?;
    remove_temp_dir(dir)?;
    Ok(removed + remove_temp_files_in(dir)?)
}

/// Removes `dir`'s [`TEMP_DIR`] if it is empty; a missing or non-empty one is left as it is.
pub fn remove_temp_dir(dir: &Path) -> io::Result<()> {
    let staging = dir.join(TEMP_DIR);
    match fs::remove_dir(&staging) {
        Ok(()) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::DirectoryNotEmpty
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(with_path(e, &staging)),
    }
}

fn remove_temp_files_in(dir: &Path) -> io::Result<usize> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(with_path(e, dir)),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| with_path(e, dir))?;
        let is_temp = entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX);
        if is_temp && entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            fs::remove_file(entry.path()).map_err(|e| with_path(e, &entry.path()))?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A fresh temp file in `dir`'s [`TEMP_DIR`], made on first use; in `dir` itself if that
/// folder cannot be made or used.
fn create_staged_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    let staging = dir.join(TEMP_DIR);
    match create_temp(&staging) {
        Ok(temp) => Ok(temp),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Another writer may make it at the same moment: either way it exists after.
            let _ = fs::create_dir(&staging);
            create_temp(&staging).or_else(|_| create_temp(dir))
        }
        Err(_) => create_temp(dir),
    }
}

/// A fresh temp file; `create_new` guarantees we never clobber another writer's file.
fn create_temp(dir: &Path) -> io::Result<(PathBuf, File)> {
    let mut last_err = None;
    for _ in 0..16 {
        let path = dir.join(format!("{TEMP_PREFIX}{}", random_suffix()));
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(file) => return Ok((path, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Unpredictable enough to avoid collisions between processes and threads: std's randomly
/// keyed hasher mixed with the pid, a counter and the clock.
fn random_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    format!("{:016x}", h.finish())
}

fn with_path(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("post.md");
        replace_file(&path, b"first").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"first");
        replace_file(&path, b"second, longer").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second, longer");
        replace_file(&path, b"").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"");
        // The temp files were made in their own folder, which is empty now and goes on request.
        assert!(names(&dir.path().join(TEMP_DIR)).is_empty());
        remove_temp_dir(dir.path()).unwrap();
        assert_eq!(names(dir.path()), vec!["post.md"]);
        remove_temp_dir(dir.path()).unwrap();
    }

    #[test]
    fn an_unusable_temp_folder_falls_back_to_the_folder_itself() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the temp folder would be.
        fs::write(dir.path().join(TEMP_DIR), b"in the way").unwrap();
        let path = dir.path().join("post.md");
        replace_file(&path, b"body").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"body");
        assert_eq!(names(dir.path()), vec![TEMP_DIR, "post.md"]);
        assert!(
            remove_temp_dir(dir.path()).is_err(),
            "not a folder: named error"
        );
    }

    #[test]
    fn failure_names_the_path_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        // Renaming a file over a non-empty directory fails.
        let target = dir.path().join("occupied");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("inner"), b"x").unwrap();
        let err = replace_file(&target, b"data").unwrap_err();
        assert!(err.to_string().contains("occupied"), "{err}");
        assert!(names(&dir.path().join(TEMP_DIR)).is_empty());
        remove_temp_dir(dir.path()).unwrap();
        assert_eq!(names(dir.path()), vec!["occupied"]);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nope").join("post.md");
        let err = replace_file(&path, b"x").unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn removes_only_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::write(d.join(".tidings-tmp-abc"), b"orphan").unwrap();
        fs::write(d.join(".tidings-tmp-def"), b"orphan").unwrap();
        fs::write(d.join("post.md"), b"keep").unwrap();
        fs::write(d.join(".tidings-tmpx"), b"keep").unwrap();
        fs::write(d.join("x.tidings-tmp-1"), b"keep").unwrap();
        fs::create_dir(d.join(".tidings-tmp-dir")).unwrap();
        fs::create_dir(d.join(TEMP_DIR)).unwrap();
        fs::write(d.join(TEMP_DIR).join(".tidings-tmp-123"), b"orphan").unwrap();
        assert_eq!(remove_temp_files(d).unwrap(), 3);
        assert_eq!(
            names(d),
            vec![
                ".tidings-tmp-dir",
                ".tidings-tmpx",
                "post.md",
                "x.tidings-tmp-1"
            ]
        );
        assert_eq!(remove_temp_files(&d.join("missing")).unwrap(), 0);
    }

    #[test]
    fn sync_tree_flushes_and_names_a_missing_folder() {
        let dir = tempfile::tempdir().unwrap();
        replace_file(&dir.path().join("post.md"), b"x").unwrap();
        sync_tree(dir.path()).unwrap();
        let err = sync_tree(&dir.path().join("gone")).unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
    }

    #[test]
    fn suffixes_differ() {
        assert_ne!(random_suffix(), random_suffix());
    }
}
