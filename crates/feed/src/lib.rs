//! Decodes any encoding and parses RSS, Atom and JSON Feed into entries.
//!
//! The stage is pure: bytes (and the HTTP `Content-Type`) in, a [`ParsedFeed`] out.
//!
//! ```text
//!                                            ┌─► rss  (plain RSS 2.0, one pass) ─┐
//! bytes ─► decode::to_utf8 ─► repair (XML) ──┼─► atom (plain Atom 1.0, one pass) ┤
//!                                            │        │ None: not plain          ├─► our rules:
//!                                            │        ▼                          │   ids, bases,
//!                     JSON ──► json (serde, from the &str) ─► None ─► feed-rs ───┘   dates, text
//! ```
//!
//! feed-rs does the format work. Around it we own what it gets wrong: the character encoding
//! (feed-rs trusts the prolog), broken-but-common XML (see `repair`), dates (we hand feed-rs
//! our own [`dates::parse_date`], so it sees every raw date string of every entry in one pass),
//! and identity (feed-rs invents random ids; ours are stable hashes, see `ids`).
//!
//! Most feeds are plain, and for those three exact shortcuts skip feed-rs: `rss` and `atom`
//! read the repaired text once with the shared `reader` (without feed-rs's second UTF-8
//! validation and copies), and `json` deserialises feed-rs's own JSON Feed schema with
//! `serde_json::from_str` into borrowed strings (feed-rs reads through the byte-by-byte
//! `IoRead`). Each yields the very `ParsedFeed` the feed-rs route would, or declines (returns
//! `None`) at anything whose feed-rs treatment it does not mirror, and feed-rs runs — also to
//! produce the error message when the document is bad. All routes end in the same helpers
//! (`build_entry`, `main_link`, `media_image`, `feed_title`, `link_href`, `person_name`), so
//! our rules live in one place; differential property tests (tests/fast_*.rs) hold each
//! shortcut to feed-rs.

mod atom;
pub mod dates;
pub mod decode;
mod ids;
mod json;
mod reader;
mod repair;
mod rss;
mod scan;
pub mod text;

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::SystemTime;

use feed_rs::model::{Entry as RawEntry, Feed as RawFeed, Link};
use feed_rs::parser::{ParseErrorKind, ParseFeedError};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use regex::Regex;
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
    with_document(bytes, content_type, cx, |doc, is_json| {
        // Plain RSS 2.0, Atom and JSON Feed take their one-pass routes; the rest, feed-rs.
        let fast = if is_json {
            json::parse(doc, cx)
        } else {
            rss::parse(doc, cx).or_else(|| atom::parse(doc, cx))
        };
        match fast {
            Some(feed) => Ok(feed),
            None => parse_feed_rs(doc, is_json, cx),
        }
    })?
}

/// Like [`parse`], but always through feed-rs: the reference the fast routes are tested
/// against.
#[doc(hidden)]
pub fn parse_with_feed_rs(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
) -> Result<ParsedFeed, FeedError> {
    with_document(bytes, content_type, cx, |doc, is_json| {
        parse_feed_rs(doc, is_json, cx)
    })?
}

/// Only the fast RSS route: `None` when it declines the document (or the prelude fails).
/// For tests that must know which route produced a feed.
#[doc(hidden)]
pub fn parse_fast_rss(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
) -> Option<ParsedFeed> {
    fast_route(bytes, content_type, cx, |doc, is_json| {
        (!is_json).then(|| rss::parse(doc, cx)).flatten()
    })
}

/// Only the fast Atom route, like [`parse_fast_rss`].
#[doc(hidden)]
pub fn parse_fast_atom(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
) -> Option<ParsedFeed> {
    fast_route(bytes, content_type, cx, |doc, is_json| {
        (!is_json).then(|| atom::parse(doc, cx)).flatten()
    })
}

/// Only the fast JSON Feed route, like [`parse_fast_rss`].
#[doc(hidden)]
pub fn parse_fast_json(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
) -> Option<ParsedFeed> {
    fast_route(bytes, content_type, cx, |doc, is_json| {
        is_json.then(|| json::parse(doc, cx)).flatten()
    })
}

fn fast_route(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
    route: impl FnOnce(&str, bool) -> Option<ParsedFeed>,
) -> Option<ParsedFeed> {
    with_document(bytes, content_type, cx, route).ok()?
}

/// Decodes, sniffs and (for XML) repairs `bytes`, then hands the document to `route`.
fn with_document<T>(
    bytes: &[u8],
    content_type: Option<&str>,
    cx: &FeedContext,
    route: impl FnOnce(&str, bool) -> T,
) -> Result<T, FeedError> {
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
    Ok(route(&doc, is_json))
}

fn parse_feed_rs(doc: &str, is_json: bool, cx: &FeedContext) -> Result<ParsedFeed, FeedError> {
    // feed-rs 3 panics on some hostile input (an author "名——a@b.cn" slices inside a
    // character); such a feed is an error, not a crash.
    let parsed = std::panic::catch_unwind(|| feed_parser(cx.timezone).parse(doc.as_bytes()))
        .map_err(|_| FeedError::Invalid {
            url: cx.url.into(),
            message: "feed-rs panicked on this document".into(),
        })?;
    let raw = parsed.map_err(|e| parse_error(e, doc, cx.url))?;
    Ok(convert(raw, doc, is_json, cx))
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
    /// The bases of a feed whose main link (as read, maybe relative) is `link`.
    fn new(link: Option<&str>, cx: &FeedContext) -> Bases {
        let mut bases = Bases {
            feed_link: None,
            feed_url: Url::parse(cx.url).ok(),
        };
        bases.feed_link = link.and_then(|l| bases.absolute(l, None));
        bases
    }

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

/// The feed-level fields both routes hand over: the title text and the main link as read.
fn feed_title(raw: Option<&str>) -> Option<String> {
    raw.map(text::plain).filter(|t| !t.is_empty())
}

/// An entry as read by either route (feed-rs or [`rss`]), before our rules make it an [`Entry`].
/// Strings are as feed-rs would hold them: text trimmed where feed-rs trims, links as its
/// `Link::href`.
struct EntryParts<'a> {
    /// The href of the main link (see [`main_link`]).
    link: Option<&'a str>,
    /// `xml:base` in effect for the content.
    content_base: Option<&'a str>,
    /// The raw id / guid, empty when absent.
    guid: &'a str,
    title: Option<&'a str>,
    /// The first author's name.
    author: Option<&'a str>,
    body: Option<Cow<'a, str>>,
    summary: Option<Cow<'a, str>>,
    published: Option<Timestamp>,
    updated: Option<Timestamp>,
}

/// Our rules for one entry: absolute links, the base, the lead-image fallback (`media_image`
/// gets the entry's base), plain title and author, the content choice, the stable id.
fn build_entry(
    parts: EntryParts,
    media_image: impl FnOnce(Option<&Url>, &Bases) -> Option<String>,
    scope: Option<&Url>,
    bases: &Bases,
    is_json: bool,
    ids: &mut EntryIds,
) -> Entry {
    let link = parts.link.and_then(|l| bases.absolute(l, scope));
    let content_base = parts.content_base.and_then(|b| bases.absolute(b, scope));
    let base = content_base
        .or_else(|| scope.cloned())
        .or_else(|| link.clone())
        .or_else(|| bases.feed_link.clone())
        .or_else(|| bases.feed_url.clone());
    let media_image = media_image(base.as_ref(), bases);
    let guid = Some(parts.guid.trim().to_string()).filter(|g| !g.is_empty());
    let title = parts.title.map(text::plain).unwrap_or_default();
    let author = parts.author.map(author_name).filter(|a| !a.is_empty());
    let mut content = parts
        .body
        .filter(|b| !b.trim().is_empty())
        .or(parts.summary)
        .map(Cow::into_owned)
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
        published: parts.published,
        updated: parts.updated,
        content,
        base: base.map(String::from),
        media_image,
    }
}

fn convert(raw: RawFeed, doc: &str, is_json: bool, cx: &FeedContext) -> ParsedFeed {
    let bases = Bases::new(main_link(raw.links.iter().map(link_ref)), cx);
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
        title: feed_title(raw.title.as_ref().map(|t| t.content.as_str())),
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
    let parts = EntryParts {
        link: main_link(e.links.iter().map(link_ref)),
        content_base: e.base.as_deref(),
        guid: &e.id,
        title: e.title.as_ref().map(|t| t.content.as_str()),
        author: e.authors.first().and_then(|p| p.name.as_deref()),
        body: e
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .map(Cow::Borrowed),
        summary: e
            .summary
            .as_ref()
            .map(|s| Cow::Borrowed(s.content.as_str())),
        published: e
            .published
            .and_then(|t| jiff_time(t.timestamp(), t.timestamp_subsec_nanos())),
        updated: e
            .updated
            .and_then(|t| jiff_time(t.timestamp(), t.timestamp_subsec_nanos())),
    };
    let media = |base: Option<&Url>, bases: &Bases| {
        let contents = e.media.iter().flat_map(|m| &m.content).filter_map(|c| {
            let url = c.url.as_ref()?;
            Some((
                url,
                c.content_type.as_ref().map(|t| Cow::Owned(t.to_string())),
            ))
        });
        let image_links = e
            .links
            .iter()
            .filter(|l| {
                l.media_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("image/"))
            })
            .map(|l| l.href.as_str());
        let thumbnails = e
            .media
            .iter()
            .flat_map(|m| &m.thumbnails)
            .map(|t| t.image.uri.as_str());
        media_image(contents, image_links, thumbnails, base, bases)
    };
    build_entry(parts, media, scope, bases, is_json, ids)
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

/// What [`main_link`] needs to know of a link.
#[derive(Clone, Copy)]
struct LinkRef<'a> {
    href: &'a str,
    rel: Option<&'a str>,
    /// No special target (comments, comments feed).
    plain: bool,
}

fn link_ref(l: &Link) -> LinkRef<'_> {
    LinkRef {
        href: &l.href,
        rel: l.rel.as_deref(),
        plain: l.target.is_none(),
    }
}

/// The page link's href: the first `alternate` (or rel-less) link, else the first that is not
/// self/enclosure/comments.
fn main_link<'a>(links: impl Iterator<Item = LinkRef<'a>> + Clone) -> Option<&'a str> {
    let mut plain = links.filter(|l| l.plain);
    let first = plain
        .clone()
        .find(|l| matches!(l.rel, None | Some("alternate")))
        .or_else(|| {
            plain.find(|l| {
                !matches!(
                    l.rel,
                    Some("self" | "enclosure" | "edit" | "replies" | "hub" | "related")
                )
            })
        });
    first.map(|l| l.href)
}

/// The lead-image fallback: an image enclosure or media:content, else an image link, else a
/// media thumbnail. `contents` are media URLs with their media type as text, `image_links`
/// the hrefs of links typed `image/*`, `thumbnails` the thumbnail URLs as written.
fn media_image<'u>(
    contents: impl Iterator<Item = (&'u Url, Option<Cow<'u, str>>)>,
    image_links: impl Iterator<Item = &'u str>,
    thumbnails: impl Iterator<Item = &'u str>,
    base: Option<&Url>,
    bases: &Bases,
) -> Option<String> {
    let mut contents = contents;
    let from_content = contents
        .find(|(url, kind)| {
            is_image_content(url, kind.as_deref()) && matches!(url.scheme(), "http" | "https")
        })
        .map(|(url, _)| url.clone());
    let mut image_links = image_links;
    let mut thumbnails = thumbnails;
    from_content
        .or_else(|| image_links.find_map(|href| bases.absolute(href, base)))
        .or_else(|| thumbnails.find_map(|uri| bases.absolute(uri, base)))
        .map(String::from)
}

fn is_image_content(url: &Url, content_type: Option<&str>) -> bool {
    match content_type {
        Some(t) => {
            let t = t.to_ascii_lowercase();
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
    if may_hold_controls(&s) && s.contains(bad) {
        s.chars().filter(|c| !bad(*c)).collect()
    } else {
        s
    }
}

/// The href feed-rs's `Link::new` makes of a link text (with no base): the URL as the `url`
/// crate writes it when it parses, else the text; trimmed.
fn link_href(text: &str) -> String {
    match Url::parse(text) {
        Ok(url) => String::from(url).trim().to_string(),
        Err(_) => text.trim().to_string(),
    }
}

/// The person name feed-rs's `Person::parse` finds in an author text: with an email in it,
/// the longer of the text before and after the email; else the whole text, trimmed.
/// `None` (the outer one) where feed-rs would slice inside a character and panic.
fn person_name(raw: &str) -> Option<Option<&str>> {
    static EMAIL: OnceLock<Option<Regex>> = OnceLock::new();
    // The pattern is feed-rs's own, so that both find the same email.
    let email = EMAIL.get_or_init(|| {
        Regex::new(r"\b(<\[\()?(mailto:)?([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})(>]\))?\b")
            .ok()
    });
    let Some(found) = email.as_ref()?.captures(raw) else {
        return Some(Some(raw.trim()));
    };
    if found.get(3).is_none() {
        return Some(Some(raw.trim()));
    }
    let span = found.get(0)?;
    let prefix_len = span.start();
    let suffix_len = raw.len() - span.end();
    let name = if prefix_len > suffix_len {
        raw.get(..span.start() - 1)?
    } else if span.end() < raw.len() {
        raw.get(span.end() + 1..)?
    } else {
        ""
    };
    let name = name.trim();
    Some((!name.is_empty()).then_some(name))
}

/// Whether `s` may hold a control character: C0 and DEL are one byte each, C1 starts with
/// 0xC2 in UTF-8. A branch-free test per chunk compiles to vector code (as in `repair`), and
/// clears most texts far faster than the exact check by character.
fn may_hold_controls(s: &str) -> bool {
    let suspect = |b: u8| {
        ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r')) | (b == 0x7F) | (b == 0xC2)
    };
    s.as_bytes()
        .chunks(256)
        .any(|chunk| chunk.iter().fold(false, |any, &b| any | suspect(b)))
}

#[cfg(test)]
mod tests {
    use super::{may_hold_controls, strip_controls};

    #[test]
    fn byte_prefilter_sees_every_control() {
        // Every control char is flagged, at every position within a chunk.
        let controls = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
        for (k, c) in controls.enumerate() {
            let s = format!("{}{c}{}", "中".repeat(k % 100), "x".repeat(k % 7));
            assert!(may_hold_controls(&s), "{:?}", c);
            assert!(!strip_controls(s).contains(c));
        }
        assert!(!may_hold_controls(&"渡口：tab\t newline\r\n".repeat(50)));
        assert_eq!(strip_controls("a\u{0}b\u{85}c\u{9f}d©".into()), "abcd©");
    }
}
