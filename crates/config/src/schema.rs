//! The set of keys `tidings.toml` accepts, checked on the spanned TOML tree so that an unknown key
//! is reported on its own line with the nearest known key as a suggestion.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// Known keys per table. `None` as the key list means "any key" (user-defined maps).
const TABLES: &[(&str, Option<&[&str]>)] = &[
    (
        "site",
        Some(&["title", "url", "timezone", "out", "per_page", "language"]),
    ),
    (
        "output",
        Some(&["format", "dir", "date_format", "image_keys"]),
    ),
    ("images", Some(&["mode", "proxy"])),
    (
        "proxy",
        Some(&[
            "public_url",
            "key",
            "old_keys",
            "allow_private",
            "allow_hosts",
            "addr",
            "referer",
            "cache_dir",
            "cache_size",
            "max_bytes",
            "timeout",
            "max_concurrent",
            "rate_limit",
        ]),
    ),
    (
        "fetch",
        Some(&["concurrency", "per_host", "timeout", "max_bytes"]),
    ),
    ("state", Some(&["path"])),
    (
        "feed",
        Some(&["url", "name", "categories", "author", "timezone"]),
    ),
];

pub(crate) struct SchemaError {
    pub offset: usize,
    pub key: String,
    pub message: String,
}

/// Checks every key of the document against [`TABLES`]. TOML syntax errors are reported here
/// too, since this is the first parse.
pub(crate) fn check(text: &str) -> Result<(), SchemaError> {
    let doc = DeTable::parse(text).map_err(|e| SchemaError {
        offset: e.span().map(|s| s.start).unwrap_or(0),
        key: String::new(),
        message: e.message().trim().to_string(),
    })?;
    let top: Vec<&str> = TABLES.iter().map(|(name, _)| *name).collect();
    for (key, value) in doc.get_ref().iter() {
        let name = key.get_ref().as_ref();
        let Some((_, keys)) = TABLES.iter().find(|(t, _)| *t == name) else {
            return Err(unknown(key, name, &top));
        };
        let Some(keys) = keys else { continue };
        match value.get_ref() {
            DeValue::Table(t) => check_table(name, t, keys)?,
            DeValue::Array(items) if name == "feed" => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(t) => check_table(name, t, keys)?,
                        _ => return Err(not_table(item.span().start, name)),
                    }
                }
            }
            _ => return Err(not_table(value.span().start, name)),
        }
    }
    Ok(())
}

fn check_table(table: &str, t: &DeTable<'_>, keys: &[&str]) -> Result<(), SchemaError> {
    for (key, _) in t.iter() {
        let name = key.get_ref().as_ref();
        if !keys.contains(&name) {
            let mut e = unknown(key, name, keys);
            e.key = format!("{table}.{name}");
            return Err(e);
        }
    }
    Ok(())
}

fn unknown<T>(key: &Spanned<T>, name: &str, known: &[&str]) -> SchemaError {
    let hint = match closest(name, known) {
        Some(k) => format!(" (did you mean `{k}`?)"),
        None => format!(" (known keys: {})", known.join(", ")),
    };
    SchemaError {
        offset: key.span().start,
        key: name.to_string(),
        message: format!("unknown key{hint}"),
    }
}

fn not_table(offset: usize, name: &str) -> SchemaError {
    let message = if name == "feed" {
        "each feed must be a [[feed]] table".to_string()
    } else {
        format!("must be a table: write [{name}]")
    };
    SchemaError {
        offset,
        key: name.to_string(),
        message,
    }
}

/// The known key nearest to `name`, if it is near enough to be a typo.
fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}
