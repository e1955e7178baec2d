//! Reads and validates `tidings.toml`.
//!
//! Loading happens in two passes over the same text: a schema walk over the spanned TOML tree,
//! which catches unknown keys (with a did-you-mean) and points at their line, then a typed serde
//! pass whose errors also carry a line. Values that need more than a type check (time zones,
//! URLs, enums) are validated last, again with the line of the offending value.

mod schema;
mod starter;

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

pub use starter::STARTER;

/// A config error: always names the file, and the line and key when there is one.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {key}: {message}")]
    At {
        file: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: PathBuf, message: String },
}

/// Output formats. `html` is the built-in site; the others write posts into `[output] dir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Hexo,
    Hugo,
    Zola,
    Jekyll,
}

/// How `date:` and `updated:` are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD HH:mm:ss` in the site zone: the one form Hexo always reads right.
    Naive,
    /// `Sun, 23 Jan 2022 15:27:25 GMT`, the seed's form.
    Rfc2822,
}

/// Where published images point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImageRoute {
    Direct,
    /// A URL template with `{url}` or `{url_encoded}`.
    Template(String),
    /// Signed URLs of Tidings' own proxy.
    Builtin,
}

/// Where the proxy's HMAC key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    Literal(String),
    Env(String),
    /// Not configured: generated once into the state directory.
    Generated,
}

#[derive(Clone, Debug)]
pub struct Site {
    pub title: String,
    pub url: String,
    pub timezone: TimeZone,
    /// The IANA name of `timezone`, for display.
    pub timezone_name: String,
    pub out: PathBuf,
    /// Articles per list page of the built-in site.
    pub per_page: usize,
    /// `lang` of the built-in site's pages.
    pub language: String,
}

#[derive(Clone, Debug)]
pub struct Output {
    pub format: Format,
    pub dir: PathBuf,
    pub date_format: DateFormat,
    pub image_keys: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Proxy {
    pub public_url: String,
    pub key: KeySource,
    /// Retired keys still accepted for verification while old URLs are around.
    pub old_keys: Vec<KeySource>,
    pub allow_private: Vec<String>,
    pub allow_hosts: Vec<String>,
    /// Where `tidings proxy` listens.
    pub addr: std::net::SocketAddr,
    /// Host glob → Referer sent to that host, from `[proxy.referer]`.
    pub referer: Vec<(String, String)>,
    /// `None`: `image-cache` under the state folder.
    pub cache_dir: Option<PathBuf>,
    pub cache_size: u64,
    pub max_bytes: u64,
    pub timeout: Duration,
    pub max_concurrent: usize,
    /// Requests per client per minute; 0 turns the limit off (e.g. behind a CDN).
    pub rate_limit: u32,
}

#[derive(Clone, Debug)]
pub struct Fetch {
    pub concurrency: usize,
    pub per_host: usize,
    pub timeout: Duration,
    pub max_bytes: u64,
}

#[derive(Clone, Debug)]
pub struct Feed {
    pub name: String,
    pub url: String,
    pub categories: Vec<String>,
    pub author: Option<String>,
    pub timezone: TimeZone,
    /// Line of the `[[feed]]` entry, for messages.
    pub line: usize,
}

/// A loaded, validated configuration. Paths are absolute (resolved against the config's folder).
#[derive(Clone, Debug)]
pub struct Config {
    pub file: PathBuf,
    pub site: Site,
    pub output: Output,
    pub images: ImageRoute,
    pub proxy: Proxy,
    pub fetch: Fetch,
    /// The state folder (`.tidings/` beside the config by default).
    pub state_dir: PathBuf,
    pub feeds: Vec<Feed>,
}

impl Config {
    /// Reads and validates the config at `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        Config::parse(&text, file)
    }

    /// Validates config text as if it were read from `file` (used for paths and messages).
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let cx = Cx { text, file };
        schema::check(text).map_err(|e| cx.at(e.offset, &e.key, e.message))?;
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            cx.at(offset, "", e.message().trim().to_string())
        })?;
        cx.build(raw)
    }
}

struct Cx<'a> {
    text: &'a str,
    file: &'a Path,
}

impl Cx<'_> {
    fn at(&self, offset: usize, key: &str, message: String) -> ConfigError {
        ConfigError::At {
            file: self.file.to_path_buf(),
            line: line_of(self.text, offset),
            key: if key.is_empty() {
                "config".into()
            } else {
                key.to_string()
            },
            message,
        }
    }

    fn bad<T>(&self, value: &Spanned<T>, key: &str, message: String) -> ConfigError {
        self.at(value.span().start, key, message)
    }

    fn root(&self) -> PathBuf {
        match self.file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn build(&self, raw: Raw) -> Result<Config, ConfigError> {
        let root = self.root();
        let site = self.site(raw.site, &root)?;
        let output = self.output(raw.output, &root)?;
        let images = self.images(raw.images)?;
        let proxy = self.proxy(raw.proxy, &root)?;
        let fetch = self.fetch(raw.fetch)?;
        let state_dir = match raw.state.path {
            Some(p) => root.join(p),
            None => root.join(".tidings"),
        };
        let feeds = self.feeds(raw.feed, &site.timezone)?;
        Ok(Config {
            file: self.file.to_path_buf(),
            site,
            output,
            images,
            proxy,
            fetch,
            state_dir,
            feeds,
        })
    }

    fn site(&self, raw: RawSite, root: &Path) -> Result<Site, ConfigError> {
        let (timezone, timezone_name) = match &raw.timezone {
            Some(name) => (self.zone(name, "site.timezone")?, name.get_ref().clone()),
            None => (TimeZone::UTC, "UTC".to_string()),
        };
        if let Some(url) = &raw.url {
            self.http_url(url, "site.url")?;
        }
        Ok(Site {
            title: raw.title.unwrap_or_else(|| "Tidings".into()),
            url: raw.url.map(Spanned::into_inner).unwrap_or_default(),
            timezone,
            timezone_name,
            out: root.join(raw.out.unwrap_or_else(|| "public".into())),
            per_page: match &raw.per_page {
                Some(n) if !(1..=1000).contains(n.get_ref()) => {
                    return Err(self.bad(n, "site.per_page", "must be from 1 to 1000".into()))
                }
                Some(n) => *n.get_ref() as usize,
                None => 20,
            },
            language: raw.language.unwrap_or_else(|| "zh-CN".into()),
        })
    }

    fn output(&self, raw: RawOutput, root: &Path) -> Result<Output, ConfigError> {
        let format = match raw.format.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("html") => Format::Html,
            Some("hexo") => Format::Hexo,
            Some("hugo") => Format::Hugo,
            Some("zola") => Format::Zola,
            Some("jekyll") => Format::Jekyll,
            Some(other) => {
                return Err(self.bad(
                    raw.format.as_ref().unwrap(),
                    "output.format",
                    format!("unknown format {other:?} (expected html, hexo, hugo, zola or jekyll)"),
                ))
            }
        };
        let date_format = match raw.date_format.as_ref().map(|s| s.get_ref().as_str()) {
            None | Some("naive") => DateFormat::Naive,
            Some("rfc2822") => DateFormat::Rfc2822,
            Some(other) => {
                return Err(self.bad(
                    raw.date_format.as_ref().unwrap(),
                    "output.date_format",
                    format!("unknown date format {other:?} (expected \"naive\" or \"rfc2822\")"),
                ))
            }
        };
        let image_keys = raw
            .image_keys
            .unwrap_or_else(|| vec!["headimg".into(), "thumbnail".into()]);
        Ok(Output {
            format,
            dir: root.join(raw.dir.unwrap_or_else(|| "source/_posts".into())),
            date_format,
            image_keys,
        })
    }

    fn images(&self, raw: RawImages) -> Result<ImageRoute, ConfigError> {
        let mode = raw.mode.as_ref().map(|s| s.get_ref().as_str());
        match mode {
            Some("direct") => return Ok(ImageRoute::Direct),
            None | Some("proxy") => {}
            Some("download") => {
                return Err(self.bad(
                    raw.mode.as_ref().unwrap(),
                    "images.mode",
                    "\"download\" is not supported yet; use \"proxy\" or \"direct\"".into(),
                ))
            }
            Some(other) => {
                return Err(self.bad(
                    raw.mode.as_ref().unwrap(),
                    "images.mode",
                    format!("unknown mode {other:?} (expected proxy, direct or download)"),
                ))
            }
        }
        match raw.proxy {
            None => Ok(ImageRoute::Builtin),
            Some(p) if p.get_ref() == "builtin" => Ok(ImageRoute::Builtin),
            Some(p) => {
                let t = p.get_ref();
                if !t.contains("{url}") && !t.contains("{url_encoded}") {
                    return Err(self.bad(
                        &p,
                        "images.proxy",
                        "a proxy template needs {url} or {url_encoded} (or say \"builtin\")".into(),
                    ));
                }
                if !(t.starts_with("http://") || t.starts_with("https://") || t.starts_with('/')) {
                    return Err(self.bad(
                        &p,
                        "images.proxy",
                        "a proxy template must start with http://, https:// or /".into(),
                    ));
                }
                Ok(ImageRoute::Template(p.into_inner()))
            }
        }
    }

    fn proxy(&self, raw: RawProxy, root: &Path) -> Result<Proxy, ConfigError> {
        if let Some(url) = &raw.public_url {
            self.http_url(url, "proxy.public_url")?;
        }
        let key = match raw.key.map(Spanned::into_inner) {
            None => KeySource::Generated,
            Some(k) => key_source(k),
        };
        for entry in raw.allow_private.iter() {
            let ok = entry
                .get_ref()
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            if !ok {
                return Err(self.bad(
                    entry,
                    "proxy.allow_private",
                    format!("{:?} is not \"host:port\"", entry.get_ref()),
                ));
            }
        }
        for glob in &raw.allow_hosts {
            self.host_glob(glob, "proxy.allow_hosts")?;
        }
        let mut referer = Vec::new();
        for (glob, value) in raw.referer {
            if !host_glob_ok(&glob) {
                return Err(self.bad(
                    &value,
                    "proxy.referer",
                    format!("{glob:?} is not a host or *.host pattern"),
                ));
            }
            self.http_url(&value, "proxy.referer")?;
            referer.push((glob, value.into_inner()));
        }
        let addr = match &raw.addr {
            None => std::net::SocketAddr::from(([127, 0, 0, 1], 8081)),
            Some(a) => a.get_ref().parse().map_err(|_| {
                self.bad(
                    a,
                    "proxy.addr",
                    format!(
                        "{:?} is not an address like \"127.0.0.1:8081\"",
                        a.get_ref()
                    ),
                )
            })?,
        };
        let positive = |v: &Option<Spanned<u64>>, key: &str, default: u64| match v {
            Some(n) if *n.get_ref() == 0 => Err(self.bad(n, key, "must be at least 1".into())),
            Some(n) => Ok(*n.get_ref()),
            None => Ok(default),
        };
        Ok(Proxy {
            public_url: raw
                .public_url
                .map(Spanned::into_inner)
                .unwrap_or_else(|| "http://127.0.0.1:8081".into()),
            key,
            old_keys: raw.old_keys.into_iter().map(key_source).collect(),
            allow_private: raw
                .allow_private
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            allow_hosts: raw
                .allow_hosts
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            addr,
            referer,
            cache_dir: raw.cache_dir.map(|d| root.join(d)),
            cache_size: positive(&raw.cache_size, "proxy.cache_size", 512 << 20)?,
            max_bytes: positive(&raw.max_bytes, "proxy.max_bytes", 20 << 20)?,
            timeout: Duration::from_secs(positive(&raw.timeout, "proxy.timeout", 10)?),
            max_concurrent: positive(&raw.max_concurrent, "proxy.max_concurrent", 64)? as usize,
            rate_limit: raw.rate_limit.unwrap_or(1200),
        })
    }

    fn host_glob(&self, glob: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
        if host_glob_ok(glob.get_ref()) {
            Ok(())
        } else {
            Err(self.bad(
                glob,
                key,
                format!("{:?} is not a host or *.host pattern", glob.get_ref()),
            ))
        }
    }

    fn fetch(&self, raw: RawFetch) -> Result<Fetch, ConfigError> {
        let positive = |v: &Option<Spanned<u64>>, key: &str, default: u64| match v {
            Some(n) if *n.get_ref() == 0 => Err(self.bad(n, key, "must be at least 1".into())),
            Some(n) => Ok(*n.get_ref()),
            None => Ok(default),
        };
        Ok(Fetch {
            concurrency: positive(&raw.concurrency, "fetch.concurrency", 32)? as usize,
            per_host: positive(&raw.per_host, "fetch.per_host", 8)? as usize,
            timeout: Duration::from_secs(positive(&raw.timeout, "fetch.timeout", 30)?),
            max_bytes: positive(&raw.max_bytes, "fetch.max_bytes", 16 << 20)?,
        })
    }

    fn feeds(&self, raw: Vec<RawFeed>, site_zone: &TimeZone) -> Result<Vec<Feed>, ConfigError> {
        let mut feeds: Vec<Feed> = Vec::with_capacity(raw.len());
        for f in raw {
            let line = line_of(self.text, f.url.span().start);
            self.http_url(&f.url, "feed.url")?;
            let timezone = match &f.timezone {
                Some(name) => self.zone(name, "feed.timezone")?,
                None => site_zone.clone(),
            };
            let name = f
                .name
                .map(Spanned::into_inner)
                .unwrap_or_else(|| f.url.get_ref().clone());
            if let Some(prev) = feeds.iter().find(|p| p.url == *f.url.get_ref()) {
                return Err(self.bad(
                    &f.url,
                    "feed.url",
                    format!("the same URL is already configured on line {}", prev.line),
                ));
            }
            if let Some(prev) = feeds.iter().find(|p| p.name == name) {
                return Err(self.at(
                    f.url.span().start,
                    "feed.name",
                    format!("the name {name:?} is already used on line {}", prev.line),
                ));
            }
            feeds.push(Feed {
                name,
                url: f.url.into_inner(),
                categories: f.categories,
                author: f.author,
                timezone,
                line,
            });
        }
        Ok(feeds)
    }

    fn zone(&self, name: &Spanned<String>, key: &str) -> Result<TimeZone, ConfigError> {
        TimeZone::get(name.get_ref()).map_err(|_| {
            self.bad(
                name,
                key,
                format!(
                    "unknown time zone {:?} (use an IANA name like \"Asia/Shanghai\")",
                    name.get_ref()
                ),
            )
        })
    }

    fn http_url(&self, url: &Spanned<String>, key: &str) -> Result<(), ConfigError> {
        let ok = url::Url::parse(url.get_ref())
            .map(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .unwrap_or(false);
        if ok {
            Ok(())
        } else {
            Err(self.bad(
                url,
                key,
                format!("{:?} is not an http(s) URL", url.get_ref()),
            ))
        }
    }
}

/// A key given as a literal or `env:NAME`.
fn key_source(k: String) -> KeySource {
    match k.strip_prefix("env:") {
        Some(name) => KeySource::Env(name.to_string()),
        None => KeySource::Literal(k),
    }
}

/// `host` or `*.host`: no other wildcards, no scheme, path, port or userinfo.
fn host_glob_ok(glob: &str) -> bool {
    let name = glob.strip_prefix("*.").unwrap_or(glob);
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| !matches!(c, '*' | '/' | '\\' | '@' | ':' | '?' | '#' | ' ' | '%'))
}

/// 1-based line number of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Raw {
    site: RawSite,
    output: RawOutput,
    images: RawImages,
    proxy: RawProxy,
    fetch: RawFetch,
    state: RawState,
    feed: Vec<RawFeed>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawSite {
    title: Option<String>,
    url: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    out: Option<String>,
    per_page: Option<Spanned<u64>>,
    language: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawOutput {
    format: Option<Spanned<String>>,
    dir: Option<String>,
    date_format: Option<Spanned<String>>,
    image_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawImages {
    mode: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawProxy {
    public_url: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    old_keys: Vec<String>,
    allow_private: Vec<Spanned<String>>,
    allow_hosts: Vec<Spanned<String>>,
    addr: Option<Spanned<String>>,
    referer: std::collections::BTreeMap<String, Spanned<String>>,
    cache_dir: Option<String>,
    cache_size: Option<Spanned<u64>>,
    max_bytes: Option<Spanned<u64>>,
    timeout: Option<Spanned<u64>>,
    max_concurrent: Option<Spanned<u64>>,
    rate_limit: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawFetch {
    concurrency: Option<Spanned<u64>>,
    per_host: Option<Spanned<u64>>,
    timeout: Option<Spanned<u64>>,
    max_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawState {
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeed {
    url: Spanned<String>,
    name: Option<Spanned<String>>,
    #[serde(default)]
    categories: Vec<String>,
    author: Option<String>,
    timezone: Option<Spanned<String>>,
}

#[cfg(test)]
mod tests;
