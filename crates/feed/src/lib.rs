//! Decodes any encoding and parses RSS, Atom and JSON Feed into entries.
//!
//! The stage is pure: bytes (and the HTTP `Content-Type`) in, a [`ParsedFeed`] out.
//!
//! ```text
//! bytes ─► decode::to_utf8 ─► repair (XML only) ─► feed-rs ─► entries with our dates and ids
//! ```
//!
//! feed-rs does the format work. Around it we own what it gets wrong: the character encoding
//! (feed-rs trusts the prolog), broken-but-common XML (see `repair`), dates (we hand feed-rs
//! our own [`dates::parse_date`], so it sees every raw date string of every entry in one pass),
//! and identity (feed-rs invents random ids; ours are stable hashes, see `ids`).

pub mod dates;
pub mod decode;
mod ids;
mod repair;
mod scan;
pub mod text;

use std::borrow::Cow;
use std::time::SystemTime;

use feed_rs::model::{Entry as RawEntry, Feed as RawFeed, Link, MediaContent};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use tidings_model::{Entry, ParsedFeed};
use url::Url;

use ids::EntryIds;

/// What the parser needs to know about the feed besides its bytes.
#[derive(Clone, Copy, Debug)]
pub struct FeedContext<'a> {
    /// The configured feed URL: identity for ids, and the last-resort base for relative links.
    pub url: &'a str,
    /// Zone in which naive dates are read (the feed's `timezone`, else the site's).
    pub timezone: &'a TimeZone,
}

/// Why a response could not be read as a feed. Every message names the feed URL.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("{url}: empty response")]
    Empty { url: String },
    #[error("{url}: not a feed ({cause})")]
    NotAFeed { url: String, cause: String },
    #[error("{url}: XML error at line {line}: {message}")]
    Xml {
        url: String,
        line: usize,
        message: String,
    },
    #[error("{url}: JSON Feed error: {message}")]
    Json { url: String, message: String },
    #[error("{url}: cannot read feed: {message}")]
    Invalid { url: String, message: String },
}

/// Parses a feed of any supported format and encoding.
///
/// `content_type` is the HTTP `Content-Type` header, used only for its `charset`.
pub fn parse(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
) -> Result<ParsedFeed, FeedError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty { url: cx.url.into() });
    }
    let text = decode::decode(bytes, content_type);
    let body = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let is_json = body.starts_with('{');
    if !is_json {
        sniff_markup(body).map_err(|cause| FeedError::NotAFeed {
            url: cx.url.into(),
            cause,
        })?;
    }
    let doc: Cow<str> = if is_json {
        Cow::Borrowed(body)
    } else {
        repair::repair(body)
    };
    let raw = feed_parser(cx.timezone)
        .parse(doc.as_bytes())
        .map_err(|e| parse_error(e, &doc, cx.url))?;
    Ok(convert(raw, &doc, is_json, cx))
}

/// A feed-rs parser wired to our date parser, leaving content raw and ids empty when absent.
fn feed_parser(tz: &TimeZone) -> feed_rs::parser::Parser {
    let tz = tz.clone();
    feed_rs::parser::Builder::new()
        .sanitize_content(false)
        .id_generator(|_, _, _| String::new())
        .timestamp_parser(move |s| {
            let ts = dates::parse_date(s, &tz)?;
            // chrono's `DateTime<Utc>` via `SystemTime`: every jiff timestamp fits in chrono.
            SystemTime::try_from(ts).ok().map(Into::into)
        })
        .build()
}

/// Rejects what is plainly not XML before any repair work; the cause says what it looks like.
fn sniff_markup(body: &str) -> Result<(), String> {
    let head = first_markup(body);
    let lower: String = head.chars().take(16).flat_map(char::to_lowercase).collect();
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        return Err("looks like HTML".into());
    }
    if !body.starts_with('<') {
        return Err("neither XML nor JSON".into());
    }
    Ok(())
}

/// The text from the first element or DOCTYPE, past the prolog and comments.
fn first_markup(mut s: &str) -> &str {
    loop {
        s = s.trim_start();
        let end = if s.starts_with("<?") {
            s.find("?>").map(|i| i + 2)
        } else if s.starts_with("<!--") {
            s.find("-->").map(|i| i + 3)
        } else {
            return s;
        };
        match end {
            Some(i) => s = &s[i..],
            None => return s,
        }
    }
}

fn parse_error(e: ParseFeedError, doc: &str, url: &str) -> FeedError {
    let url = url.to_string();
    match e {
        ParseFeedError::XmlReader(xml) => match scan::locate_error(doc) {
            Some((line, message)) => FeedError::Xml { url, line, message },
            None => FeedError::Xml {
                url,
                line: 1 + doc.matches('\n').count(),
                message: xml.to_string(),
            },
        },
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => FeedError::NotAFeed {
            cause: match root_name(doc) {
                Some(name) => format!("root element <{name}> is not RSS, Atom or RDF"),
                None => "no root element".into(),
            },
            url,
        },
        ParseFeedError::JsonSerde(e) => FeedError::Json {
            url,
            message: e.to_string(),
        },
        ParseFeedError::JsonUnsupportedVersion(v) => FeedError::Json {
            url,
            message: format!("unsupported version {v:?}"),
        },
        other => FeedError::Invalid {
            url,
            message: other.to_string(),
        },
    }
}

fn root_name(doc: &str) -> Option<String> {
    let mut s = first_markup(doc);
    if s.starts_with("<!") {
        s = first_markup(s.get(s.find('>')? + 1..)?);
    }
    let name: String = s
        .strip_prefix('<')?
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
        .take(40)
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Everything an entry's URLs may be resolved against, outermost last.
struct Bases {
    feed_link: Option<Url>,
    feed_url: Option<Url>,
}

impl Bases {
    /// `href` made absolute against `first`, else the feed link, else the feed URL; http(s) only.
    fn absolute(&self, href: &str, first: Option<&Url>) -> Option<Url> {
        let href = href.trim();
        let url = match Url::parse(href) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => first
                .or(self.feed_link.as_ref())
                .or(self.feed_url.as_ref())?
                .join(href)
                .ok()?,
            Err(_) => return None,
        };
        matches!(url.scheme(), "http" | "https").then_some(url)
    }
}

fn convert(raw: RawFeed, doc: &str, is_json: bool, cx: &FeedContext) -> ParsedFeed {
    let feed_url = Url::parse(cx.url).ok();
    let mut bases = Bases {
        feed_link: None,
        feed_url,
    };
    bases.feed_link = main_link(&raw.links).and_then(|l| bases.absolute(&l.href, None));
    let scopes = if !is_json && doc.contains("xml:base") {
        scan::entry_bases(doc, bases.feed_url.as_ref())
    } else {
        Vec::new()
    };
    // The scan counts entries its own way; only trust it when it agrees with feed-rs.
    let scopes_fit = scopes.len() == raw.entries.len();
    let mut ids = EntryIds::new(cx.url);
    let entries = raw
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let scope = scopes
                .get(i)
                .filter(|_| scopes_fit)
                .and_then(Option::as_ref);
            convert_entry(e, scope, &bases, is_json, &mut ids)
        })
        .collect();
    ParsedFeed {
        title: raw
            .title
            .map(|t| text::plain(&t.content))
            .filter(|t| !t.is_empty()),
        link: bases.feed_link.map(String::from),
        entries,
    }
}

fn convert_entry(
    e: RawEntry,
    scope: Option<&Url>,
    bases: &Bases,
    is_json: bool,
    ids: &mut EntryIds,
) -> Entry {
    let link = main_link(&e.links).and_then(|l| bases.absolute(&l.href, scope));
    let content_base = e.base.as_deref().and_then(|b| bases.absolute(b, scope));
    let base = content_base
        .or_else(|| scope.cloned())
        .or_else(|| link.clone())
        .or_else(|| bases.feed_link.clone())
        .or_else(|| bases.feed_url.clone());
    let media_image = media_image(&e, base.as_ref(), bases);
    let guid = Some(e.id.trim().to_string()).filter(|g| !g.is_empty());
    let title = e.title.map(|t| text::plain(&t.content)).unwrap_or_default();
    let author = e
        .authors
        .first()
        .and_then(|p| p.name.as_deref())
        .map(author_name)
        .filter(|a| !a.is_empty());
    let mut content = e
        .content
        .and_then(|c| c.body)
        .filter(|b| !b.trim().is_empty())
        .or_else(|| e.summary.map(|s| s.content))
        .unwrap_or_default();
    if is_json {
        // XML input lost these in the repair pass; JSON can carry them as \u escapes.
        content = strip_controls(content);
    }
    let link = link.map(String::from);
    let id = ids.next(guid.as_deref(), link.as_deref(), &title, &content);
    Entry {
        id,
        guid,
        link,
        title,
        author,
        published: e
            .published
            .and_then(|t| jiff_time(t.timestamp(), t.timestamp_subsec_nanos())),
        updated: e
            .updated
            .and_then(|t| jiff_time(t.timestamp(), t.timestamp_subsec_nanos())),
        content,
        base: base.map(String::from),
        media_image,
    }
}

/// RSS `author` is "email (Name)"; feed-rs leaves the parentheses on the name.
fn author_name(raw: &str) -> String {
    let name = text::plain(raw);
    match name.strip_prefix('(').and_then(|n| n.strip_suffix(')')) {
        Some(inner) if !inner.contains(['(', ')']) => inner.trim().to_string(),
        _ => name,
    }
}

fn jiff_time(seconds: i64, nanos: u32) -> Option<Timestamp> {
    Timestamp::new(seconds, i32::try_from(nanos).ok()?).ok()
}

/// The page link: the first `alternate` (or rel-less) link, else the first that is not
/// self/enclosure/comments.
fn main_link(links: &[Link]) -> Option<&Link> {
    let plain = |l: &&Link| l.target.is_none();
    links
        .iter()
        .filter(plain)
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .or_else(|| {
            links.iter().filter(plain).find(|l| {
                !matches!(
                    l.rel.as_deref(),
                    Some("self" | "enclosure" | "edit" | "replies" | "hub" | "related")
                )
            })
        })
}

/// The lead-image fallback: an image enclosure or media:content, else an image link, else a
/// media thumbnail.
fn media_image(e: &RawEntry, base: Option<&Url>, bases: &Bases) -> Option<String> {
    let from_content = e
        .media
        .iter()
        .flat_map(|m| &m.content)
        .filter(|c| is_image_content(c))
        .filter_map(|c| c.url.as_ref())
        .find(|u| matches!(u.scheme(), "http" | "https"))
        .cloned();
    let from_links = || {
        e.links
            .iter()
            .filter(|l| {
                l.media_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("image/"))
            })
            .find_map(|l| bases.absolute(&l.href, base))
    };
    let from_thumbnails = || {
        e.media
            .iter()
            .flat_map(|m| &m.thumbnails)
            .find_map(|t| bases.absolute(&t.image.uri, base))
    };
    from_content
        .or_else(from_links)
        .or_else(from_thumbnails)
        .map(String::from)
}

fn is_image_content(c: &MediaContent) -> bool {
    let Some(url) = &c.url else {
        return false;
    };
    match &c.content_type {
        Some(t) => {
            let t = t.to_string().to_ascii_lowercase();
            t.starts_with("image/")
                || (t.ends_with("/octet-stream") && looks_like_image(url.path()))
        }
        None => looks_like_image(url.path()),
    }
}

fn looks_like_image(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    [".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

fn strip_controls(s: String) -> String {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    if s.contains(bad) {
        s.chars().filter(|c| !bad(*c)).collect()
    } else {
        s
    }
}
