//! The theme: minijinja templates and two static assets, embedded in the binary and overridable
//! file by file from a folder (`templates/` beside the config).

use std::path::Path;

use minijinja::{AutoEscape, Environment, Error, Output, State, UndefinedBehavior, Value};
use sha2::{Digest, Sha256};

use crate::SiteError;

/// Every template, by the name an override file must have.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("_item.html", include_str!("../templates/_item.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("article.html", include_str!("../templates/article.html")),
    (
        "categories.html",
        include_str!("../templates/categories.html"),
    ),
    ("archives.html", include_str!("../templates/archives.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("404.html", include_str!("../templates/404.html")),
];

/// Static files copied to `assets/`, also overridable by name.
const ASSETS: &[(&str, &str)] = &[
    ("style.css", include_str!("../templates/style.css")),
    ("search.js", include_str!("../templates/search.js")),
];

/// Bumped whenever the Rust side changes what pages contain, so that an upgrade re-renders.
const FORMAT: &str = concat!("tidings-site ", env!("CARGO_PKG_VERSION"), " format 3");

pub struct Theme {
    pub env: Environment<'static>,
    /// `(name, bytes)` of each asset, overrides applied.
    pub assets: Vec<(&'static str, String)>,
    /// Hash of every template and asset source: part of every page's key.
    pub fingerprint: [u8; 32],
}

impl Theme {
    /// The embedded theme with the files found in `overrides` (if any) replacing their
    /// namesakes.
    pub fn load(overrides: Option<&Path>) -> Result<Theme, SiteError> {
        let mut hash = Sha256::new();
        hash.update(FORMAT);
        let mut env = Environment::new();
        // A misspelt variable in a template is an error, not a silently empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_formatter(format_value);
        for (name, embedded) in TEMPLATES {
            let source = source(overrides, name, embedded)?;
            field(&mut hash, name, &source);
            env.add_template_owned(*name, source)
                .map_err(|e| SiteError::Template {
                    name: template_path(overrides, name),
                    source: Box::new(e),
                })?;
        }
        let mut assets = Vec::new();
        for (name, embedded) in ASSETS {
            let source = source(overrides, name, embedded)?;
            field(&mut hash, name, &source);
            assets.push((*name, source));
        }
        Ok(Theme {
            env,
            assets,
            fingerprint: hash.finalize().into(),
        })
    }
}

/// Escapes strings in HTML templates like minijinja does, except `/`: links stay readable
/// (`../posts/x/`, not `..&#x2f;posts&#x2f;x&#x2f;`), and `/` is harmless in text and in
/// quoted attributes.
fn format_value(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => {
            let mut rest = s;
            while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
                let entity = match rest.as_bytes()[i] {
                    b'&' => "&amp;",
                    b'<' => "&lt;",
                    b'>' => "&gt;",
                    b'"' => "&quot;",
                    _ => "&#39;",
                };
                write_str(out, &rest[..i])?;
                write_str(out, entity)?;
                rest = &rest[i + 1..];
            }
            write_str(out, rest)
        }
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn write_str(out: &mut Output, s: &str) -> Result<(), Error> {
    out.write_str(s)
        .map_err(|e| Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

fn field(hash: &mut Sha256, name: &str, source: &str) {
    hash.update((name.len() as u64).to_le_bytes());
    hash.update(name);
    hash.update((source.len() as u64).to_le_bytes());
    hash.update(source);
}

/// The override file's text if there is one, else the embedded text.
fn source(overrides: Option<&Path>, name: &str, embedded: &str) -> Result<String, SiteError> {
    let Some(dir) = overrides else {
        return Ok(embedded.to_string());
    };
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(embedded.to_string()),
        Err(source) => Err(SiteError::Io { path, source }),
    }
}

/// How messages name a template: its override file when there is one.
fn template_path(overrides: Option<&Path>, name: &str) -> String {
    match overrides.map(|d| d.join(name)) {
        Some(p) if p.exists() => p.display().to_string(),
        _ => format!("{name} (built-in)"),
    }
}

/// Names of the files a `templates/` folder may override.
pub fn overridable() -> Vec<&'static str> {
    TEMPLATES
        .iter()
        .chain(ASSETS)
        .map(|(name, _)| *name)
        .collect()
}
