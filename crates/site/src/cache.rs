//! The article texts the last build recorded (the start of each body, for list excerpts and
//! search rows), so that a build need not read the body of an article whose page is unchanged.
//!
//! Texts are kept in one file per shard of articles (the shards of the search index), named by
//! a hash of the content hashes of the shard's articles: `.tidings-texts/<hash>.json`. Such a
//! file never changes once written; new articles add a file for the shard they join and retire
//! the one it replaces, and a build reads only the files of the shards whose texts it shows.
//! The manifest names the current files; a file it does not name is never trusted.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::write::write_if_changed;
use crate::{SiteArticle, SiteError};

/// Folder of the text files, inside the output folder (dot-folders are never served).
pub(crate) const TEXTS_DIR: &str = ".tidings-texts";

/// Content hash → text.
pub(crate) type Texts = HashMap<String, String>;

/// The name of the text file of these articles (a shard, newest first).
pub(crate) fn group_name(articles: &[SiteArticle]) -> String {
    let mut h = Sha256::new();
    for a in articles {
        h.update((a.content_hash.len() as u64).to_le_bytes());
        h.update(&a.content_hash);
    }
    tidings_model::hex(&h.finalize()[..16])
}

/// Reads the named text files into one map. Returns the map and the names that could not be
/// read or parsed (their texts will come from the bodies).
pub(crate) fn load<'a>(
    out: &Path,
    names: impl IntoIterator<Item = &'a str>,
) -> (Texts, Vec<&'a str>) {
    let mut texts = Texts::new();
    let mut broken = Vec::new();
    for name in names {
        match read_group(out, name) {
            Some(pairs) => texts.extend(pairs),
            None => broken.push(name),
        }
    }
    (texts, broken)
}

fn read_group(out: &Path, name: &str) -> Option<Vec<(String, String)>> {
    if !is_name(name) {
        return None;
    }
    let bytes = std::fs::read(out.join(TEXTS_DIR).join(format!("{name}.json"))).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes the text file `name`: `[[content hash, text], …]` in article order. Unchanged bytes
/// are not rewritten; a changed file is replaced through a rename.
pub(crate) fn write<'a>(
    out: &Path,
    name: &str,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), SiteError> {
    let bytes = serde_json::to_vec(&pairs.collect::<Vec<_>>()).unwrap_or_default();
    let path = out.join(TEXTS_DIR).join(format!("{name}.json"));
    write_if_changed(&path, &bytes).map(|_| ())
}

/// Removes every file of the text folder but the named ones (files of earlier builds, and
/// leftovers of a build that stopped before writing its manifest).
pub(crate) fn remove_others(out: &Path, keep: &[String]) {
    let dir = out.join(TEXTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let keep: HashSet<String> = keep.iter().map(|n| format!("{n}.json")).collect();
    for e in entries.flatten() {
        let name = e.file_name();
        let plain = e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink());
        if plain && !keep.contains(name.to_string_lossy().as_ref()) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    // Gone when the site has no article left.
    let _ = std::fs::remove_dir(&dir);
}

/// A name this module made: lowercase hex. The manifest may have been edited by anyone who can
/// write the output folder, and must not name a path elsewhere.
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hex_names_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("public");
        std::fs::create_dir_all(out.join(TEXTS_DIR)).unwrap();
        std::fs::write(dir.path().join("secret.json"), "[[\"a\",\"b\"]]").unwrap();
        for bad in ["../../secret", "", "ABC", "a/b"] {
            let (texts, broken) = load(&out, [bad]);
            assert!(texts.is_empty() && broken == [bad], "{bad:?}");
        }
        write(&out, "0a1b", [("h1", "夜市"), ("h2", "ferry")].into_iter()).unwrap();
        let (texts, broken) = load(&out, ["0a1b"]);
        assert!(broken.is_empty());
        assert_eq!(texts.get("h1").map(String::as_str), Some("夜市"));
    }

    #[test]
    fn other_files_are_removed_and_the_empty_folder_too() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        write(out, "aa", std::iter::empty()).unwrap();
        write(out, "bb", std::iter::empty()).unwrap();
        std::fs::write(out.join(TEXTS_DIR).join(".tidings-tmp-1-2"), "x").unwrap();
        remove_others(out, &["bb".to_string()]);
        let left: Vec<_> = std::fs::read_dir(out.join(TEXTS_DIR))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, ["bb.json"]);
        remove_others(out, &[]);
        assert!(!out.join(TEXTS_DIR).exists());
    }
}
