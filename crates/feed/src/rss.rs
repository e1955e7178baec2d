//! One pass over plain RSS 2.0, giving exactly the [`ParsedFeed`] of the feed-rs route.
//!
//! Most feeds are RSS 2.0 of one plain shape: a channel with a title and a link, and items of
//! title, link, guid, date, description and maybe `content:encoded`, author and enclosure.
//! feed-rs reads such a feed through a `BufRead`, so quick-xml validates every byte as UTF-8
//! again, and every text is copied a few times on its way into feed-rs's model. Here the
//! repaired document is already a `&str`: [`parse`] walks it once, takes text as slices of it,
//! and returns `None` at the first thing whose outcome it would have to work out the way
//! feed-rs does — an element outside the small set below, `xml:base`, a default namespace, a
//! DOCTYPE, a nested element inside a text element, an odd reference, an unusual media type,
//! markup it does not recognise. The caller then runs feed-rs, which handles anything.
//!
//! Interpretation is borrowed, not re-invented: tag ends are found with quick-xml's
//! `ElementParser`, attributes read with its `Attributes` and unescaped with the same
//! `quick_xml::escape::unescape` feed-rs uses, character references resolved with
//! `BytesRef::resolve_char_ref`, and everything after reading (ids, bases, dates, plain text,
//! main link, lead image) is done by the same functions the feed-rs route calls. Where this
//! module mirrors a feed-rs rule (which of two titles wins, what is trimmed), the comment says
//! so, and a differential property test holds it to feed-rs's output.
//!
//! Accepted: an `<?xml?>` prolog declaring UTF-8 (or nothing), comments and processing
//! instructions before the root; `<rss version="2.0">` (or `version=""`) whose only
//! namespace declarations are prefixed; its `<channel>`; in the channel `title`, `link`,
//! `atom:link`, `item`, and any other element that feed-rs reads only into fields we do not
//! use (description, language, image, …) or ignores (unknown namespaces), skipped after a
//! strict well-formedness check; in an item `title`, `link`, `guid`, `pubDate`, `dc:date`,
//! `description`, `content:encoded`, `author`, `dc:creator`, `category`, `comments`,
//! `enclosure`, `media:content` and `media:thumbnail` (both without children). What follows
//! `</channel>` is not read (nor is it by feed-rs), apart from the stretch up to the next tag,
//! which feed-rs's reader has already fetched (see `Reader::after_channel`).

use std::borrow::Cow;
use std::sync::OnceLock;

use memchr::{memchr, memchr3, memmem};
use quick_xml::escape::{resolve_predefined_entity, unescape};
use quick_xml::events::attributes::{Attribute, Attributes};
use quick_xml::events::BytesRef;
use quick_xml::parser::{ElementParser, Parser};
use regex::Regex;
use tidings_model::ParsedFeed;
use url::Url;

use crate::ids::EntryIds;
use crate::{
    build_entry, dates, feed_title, main_link, media_image, Bases, EntryParts, FeedContext, LinkRef,
};

/// Deeper nesting inside skipped channel elements is left to feed-rs.
const MAX_DEPTH: usize = 16;

/// Namespaces that feed-rs tells apart (others are all "unknown" to it).
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ns {
    Rss,
    Atom,
    Content,
    Dc,
    Media,
    /// iTunes, Podcast, Well-Formed Web: feed-rs reads them, this module does not.
    Unhandled,
    Unknown,
}

impl Ns {
    /// The namespace of a URI, as feed-rs's `NS::parse` sees it.
    fn of(uri: &str) -> Ns {
        match uri {
            "http://purl.org/rss/1.0/" => Ns::Rss,
            "http://www.w3.org/2005/Atom" => Ns::Atom,
            "http://purl.org/rss/1.0/modules/content/" => Ns::Content,
            "http://purl.org/dc/elements/1.1/" => Ns::Dc,
            "http://search.yahoo.com/mrss/" => Ns::Media,
            "http://www.itunes.com/dtds/podcast-1.0.dtd"
            | "https://podcastindex.org/namespace/1.0"
            | "http://wellformedweb.org/CommentAPI/" => Ns::Unhandled,
            _ => Ns::Unknown,
        }
    }
}

/// Parses `doc` (repaired XML) if it is plain RSS 2.0; `None` means "ask feed-rs".
pub(crate) fn parse(doc: &str, cx: &FeedContext) -> Option<ParsedFeed> {
    let mut reader = Reader {
        src: doc,
        pos: 0,
        prefixes: Vec::new(),
    };
    reader.prolog()?;
    reader.root()?;
    let channel = reader.channel()?;
    finish(channel, cx)
}

/// A start tag.
struct Start<'a> {
    /// Everything between `<` and `>` (or `/>`).
    content: &'a str,
    /// Length of the qualified name at the start of `content`.
    name_len: usize,
    ns: Ns,
    local: &'a str,
    /// `<x/>`: no content, no end tag.
    empty: bool,
}

impl<'a> Start<'a> {
    fn qname(&self) -> &'a str {
        &self.content[..self.name_len]
    }

    /// The attributes, exactly as quick-xml reads them for feed-rs.
    fn attributes(&self) -> Attributes<'a> {
        Attributes::new(self.content, self.name_len)
    }

    /// The first attribute called `name`, unescaped as feed-rs does (falling back to the raw
    /// value when unescaping fails). Attribute errors were ruled out when the tag was read.
    fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
        let attr = self
            .attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)?;
        Some(match unescape(&attr.value) {
            Ok(Cow::Borrowed(_)) => attr.value,
            Ok(Cow::Owned(s)) => Cow::Owned(s),
            Err(_) => attr.value,
        })
    }
}

/// What the channel holds, as read.
#[derive(Default)]
struct Channel<'a> {
    /// The last `<title>`'s text (feed-rs assigns, so the last one wins, empty or not).
    title: Option<Text<'a>>,
    /// `<link>` and `atom:link` as feed-rs's `Link` would hold them: href and rel.
    links: Vec<(String, Option<Cow<'a, str>>)>,
    items: Vec<Item<'a>>,
}

/// One item, as read.
#[derive(Default)]
struct Item<'a> {
    /// Last `<title>` wins.
    title: Option<Text<'a>>,
    /// First `<link>` with text: feed-rs pushes every link, and the first plain one wins.
    link: Option<Text<'a>>,
    /// Last `<guid>` with text (feed-rs assigns only when there is text).
    guid: Option<Text<'a>>,
    /// Text of the last `<pubDate>` / `<dc:date>` (feed-rs assigns, so an empty one clears).
    date: Option<Text<'a>>,
    /// Last `<description>` wins.
    summary: Option<Text<'a>>,
    /// Last `<content:encoded>` wins.
    encoded: Option<Text<'a>>,
    /// The first `<author>` / `<dc:creator>` with text: feed-rs pushes them in order and we
    /// take the first person's name.
    author: Option<Text<'a>>,
    enclosures: Vec<Media<'a>>,
    media_contents: Vec<Media<'a>>,
    thumbnails: Vec<Cow<'a, str>>,
}

/// A media URL (absolute, as feed-rs keeps only those) and its type attribute.
struct Media<'a> {
    url: Url,
    kind: Option<Cow<'a, str>>,
}

/// Text content: a slice of the document when it came in one piece, else a copy.
type Text<'a> = Cow<'a, str>;

struct Reader<'a> {
    src: &'a str,
    pos: usize,
    /// Prefixes declared on the root and their namespaces.
    prefixes: Vec<(&'a str, Ns)>,
}

impl<'a> Reader<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    /// The XML declaration (UTF-8 or no encoding; the decoder rewrote it), then whitespace,
    /// comments and processing instructions up to the root.
    fn prolog(&mut self) -> Option<()> {
        if let Some(decl) = self.rest().strip_prefix("<?xml") {
            if !decl.starts_with([' ', '\t', '\r', '\n']) {
                return None;
            }
            let end = memmem::find(decl.as_bytes(), b"?>")?;
            let attrs = &decl[..end];
            for attr in Attributes::new(attrs, 0) {
                let attr = attr.ok()?;
                if attr.key.as_ref() == "encoding"
                    && !matches!(attr.value.to_ascii_lowercase().as_str(), "utf-8" | "utf8")
                {
                    return None;
                }
            }
            self.pos += 5 + end + 2;
        }
        loop {
            self.skip_space_and_comments()?;
            if !self.rest().starts_with("<?") {
                return Some(());
            }
            self.skip_pi()?;
        }
    }

    /// A processing instruction other than a declaration: feed-rs ignores it.
    fn skip_pi(&mut self) -> Option<()> {
        let body = self.rest().get(2..)?;
        let target = &body[..body
            .find([' ', '\t', '\r', '\n', '?'])
            .unwrap_or(body.len())];
        // A second `xml` declaration would make feed-rs switch encodings.
        if !target.starts_with(|c: char| c.is_ascii_alphabetic())
            || target.eq_ignore_ascii_case("xml")
        {
            return None;
        }
        let end = memmem::find(body.as_bytes(), b"?>")?;
        self.pos += 2 + end + 2;
        Some(())
    }

    /// Skips whitespace and comments between elements; any other text means `None`.
    fn skip_space_and_comments(&mut self) -> Option<()> {
        loop {
            let rest = self.rest();
            let text = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            self.pos += rest.len() - text.len();
            if text.starts_with("<!--") {
                self.skip_comment()?;
            } else if text.is_empty() || text.starts_with('<') {
                return Some(());
            } else {
                return None;
            }
        }
    }

    /// Skips the comment at the cursor. One starting with `-` or `>` (`<!-->`) is left to
    /// feed-rs: only there could the search for its end differ from quick-xml's.
    fn skip_comment(&mut self) -> Option<()> {
        let body = self.rest().get(4..)?;
        if body.starts_with(['-', '>']) {
            return None;
        }
        let end = memmem::find(body.as_bytes(), b"-->")?;
        self.pos += 4 + end + 3;
        Some(())
    }

    /// `<rss version="2.0">` and its namespace declarations.
    fn root(&mut self) -> Option<()> {
        let start = self.start_tag(true)?;
        if start.qname() != "rss" || start.empty {
            return None;
        }
        // feed-rs dispatches on the first `version` attribute.
        let version = start.attr("version")?;
        if !matches!(version.as_ref(), "2.0" | "") {
            return None;
        }
        Some(())
    }

    /// The channel: the first element of the root, which must be `<channel>`.
    fn channel(&mut self) -> Option<Channel<'a>> {
        self.skip_space_and_comments()?;
        let start = self.start_tag(false)?;
        if start.qname() != "channel" || start.empty {
            return None;
        }
        let mut channel = Channel::default();
        loop {
            self.skip_space_and_comments()?;
            if self.end_tag("channel") {
                self.after_channel()?;
                return Some(channel);
            }
            let child = self.start_tag(false)?;
            match (child.ns, child.local) {
                (Ns::Rss, "title") => channel.title = self.text(&child)?,
                (Ns::Rss, "link") => {
                    if let Some(text) = self.text(&child)? {
                        channel.links.push((link_href(&text), None));
                    }
                }
                (Ns::Atom, "link") => {
                    self.no_content(&child)?;
                    if let Some(href) = child.attr("href") {
                        // feed-rs defaults an Atom link's rel to "alternate".
                        let rel = child.attr("rel").unwrap_or(Cow::Borrowed("alternate"));
                        channel.links.push((link_href(&href), Some(rel)));
                    }
                }
                (Ns::Rss, "item") => channel.items.push(self.item(&child)?),
                (Ns::Rss, "managingEditor" | "webMaster") => {
                    self.person(&child)?;
                }
                (Ns::Unhandled, _) => return None,
                // Everything else feed-rs reads into fields we do not use, or ignores.
                _ => self.skip_content(&child, 1)?,
            }
        }
    }

    /// feed-rs stops after `</channel>`, but its reader has already fetched the next event,
    /// reading on through text, CDATA, comments and processing instructions to the next tag.
    /// An XML declaration on that stretch makes quick-xml panic, so anything but plain
    /// text, CDATA and comments before the next tag is left to feed-rs.
    fn after_channel(&mut self) -> Option<()> {
        loop {
            let rest = self.rest();
            let Some(lt) = memchr(b'<', rest.as_bytes()) else {
                return Some(());
            };
            self.pos += lt;
            let markup = self.rest();
            if let Some(cdata) = markup.strip_prefix("<![CDATA[") {
                let end = memmem::find(cdata.as_bytes(), b"]]>")?;
                self.pos += 9 + end + 3;
            } else if markup.starts_with("<!--") {
                self.skip_comment()?;
            } else if markup.starts_with("<!") || markup.starts_with("<?") {
                return None;
            } else {
                return Some(());
            }
        }
    }

    fn item(&mut self, start: &Start<'a>) -> Option<Item<'a>> {
        let mut item = Item::default();
        if start.empty {
            return Some(item);
        }
        loop {
            self.skip_space_and_comments()?;
            if self.end_tag(start.qname()) {
                return Some(item);
            }
            let child = self.start_tag(false)?;
            match (child.ns, child.local) {
                (Ns::Rss, "title") => item.title = self.text(&child)?,
                (Ns::Rss, "link") => {
                    let text = self.text(&child)?;
                    if item.link.is_none() {
                        item.link = text;
                    }
                }
                (Ns::Rss, "guid") => {
                    if let Some(text) = self.text(&child)? {
                        item.guid = Some(text);
                    }
                }
                (Ns::Rss, "pubDate") | (Ns::Dc, "date") => item.date = self.text(&child)?,
                (Ns::Rss, "description") => item.summary = self.text(&child)?,
                (Ns::Content, "encoded") => item.encoded = self.text(&child)?,
                (Ns::Rss, "author") | (Ns::Dc, "creator") => {
                    let text = self.person(&child)?;
                    if item.author.is_none() {
                        item.author = text;
                    }
                }
                // Read by feed-rs into categories and comment links, which decide nothing
                // here (comment links are never the main link and carry no media type).
                (Ns::Rss, "category" | "comments") => {
                    self.text(&child)?;
                }
                (Ns::Rss, "enclosure") => {
                    self.no_content(&child)?;
                    if let Some(media) = media(&child)? {
                        item.enclosures.push(media);
                    }
                }
                (Ns::Media, "content") => {
                    self.no_content(&child)?;
                    if let Some(media) = media(&child)? {
                        item.media_contents.push(media);
                    }
                }
                (Ns::Media, "thumbnail") => {
                    self.no_content(&child)?;
                    // feed-rs parses `time` with an unwrap that panics on long numbers.
                    if child.attr("time").is_some() {
                        return None;
                    }
                    if let Some(url) = child.attr("url") {
                        item.thumbnails.push(url);
                    }
                }
                _ => return None,
            }
        }
    }

    /// Reads a start tag at the cursor. Attributes must all read cleanly; `xml:base`, and
    /// namespace declarations anywhere but on the root, mean `None`.
    fn start_tag(&mut self, is_root: bool) -> Option<Start<'a>> {
        let rest = self.rest();
        let after = rest.strip_prefix('<')?;
        let gt = ElementParser::Outside.feed(after.as_bytes())?;
        let mut content = &after[..gt];
        let empty = content.ends_with('/');
        if empty {
            content = &content[..content.len() - 1];
        }
        let name_len = content
            .find([' ', '\t', '\r', '\n'])
            .unwrap_or(content.len());
        let (prefix, local) = split_name(&content[..name_len])?;
        for attr in Attributes::new(content, name_len) {
            let attr = attr.ok()?;
            let key = attr.key.as_ref();
            if key == "xml:base" {
                return None;
            }
            if key == "xmlns" || key.starts_with("xmlns:") {
                if !is_root {
                    return None;
                }
                self.declare(attr)?;
            }
        }
        let ns = match prefix {
            None => Ns::Rss,
            Some(p) => self.prefixes.iter().find(|(q, _)| *q == p)?.1,
        };
        self.pos += 1 + gt + 1;
        Some(Start {
            content,
            name_len,
            ns,
            local,
            empty,
        })
    }

    /// Records a root `xmlns:p="uri"`. A default namespace, or a declaration quick-xml could
    /// reject (reserved prefixes and URIs, an empty URI, an escaped one), means `None`.
    fn declare(&mut self, attr: Attribute<'a>) -> Option<()> {
        let prefix = attr.key.0.strip_prefix("xmlns:")?;
        let Cow::Borrowed(uri) = attr.value else {
            return None;
        };
        let reserved = prefix
            .get(..3)
            .is_some_and(|p| p.eq_ignore_ascii_case("xml"))
            || uri.is_empty()
            || uri.contains('&')
            || uri == "http://www.w3.org/XML/1998/namespace"
            || uri == "http://www.w3.org/2000/xmlns/"
            || self.prefixes.len() >= 32;
        if reserved || split_name(prefix)? != (None, prefix) {
            return None;
        }
        self.prefixes.push((prefix, Ns::of(uri)));
        Some(())
    }

    /// Consumes `</name>` (trailing whitespace allowed, as in quick-xml) if it is next.
    fn end_tag(&mut self, name: &str) -> bool {
        let Some(after) = self
            .rest()
            .strip_prefix("</")
            .and_then(|r| r.strip_prefix(name))
        else {
            return false;
        };
        let trimmed = after.trim_start_matches([' ', '\t', '\r', '\n']);
        if !trimmed.starts_with('>') {
            return false;
        }
        self.pos = self.src.len() - trimmed.len() + 1;
        true
    }

    /// The text of a text-only element the way feed-rs's `child_as_text` builds it: text,
    /// CDATA and references joined (comments skipped), `None` when there were none.
    /// `Err`-like `None` (the outer one) when anything else is inside.
    fn text(&mut self, start: &Start<'a>) -> Option<Option<Text<'a>>> {
        if start.empty {
            return Some(None);
        }
        let mut text: Option<Text<'a>> = None;
        loop {
            let rest = self.rest();
            let lt = memchr(b'<', rest.as_bytes())?;
            self.run(&rest[..lt], &mut text)?;
            self.pos += lt;
            let markup = self.rest();
            if let Some(cdata) = markup.strip_prefix("<![CDATA[") {
                let end = memmem::find(cdata.as_bytes(), b"]]>")?;
                push(&mut text, &cdata[..end]);
                self.pos += 9 + end + 3;
            } else if markup.starts_with("<!--") {
                self.skip_comment()?;
            } else if self.end_tag(start.qname()) {
                return Some(text);
            } else {
                return None;
            }
        }
    }

    /// The text of an element feed-rs reads as a person; `None` (the outer one) when
    /// feed-rs would panic on it, whichever person it is.
    fn person(&mut self, start: &Start<'a>) -> Option<Option<Text<'a>>> {
        let text = self.text(start)?;
        if let Some(raw) = &text {
            person_name(raw)?;
        }
        Some(text)
    }

    /// Adds a run of character data (up to the next `<`) to `text`, resolving references
    /// as quick-xml and feed-rs do.
    fn run(&self, mut run: &'a str, text: &mut Option<Text<'a>>) -> Option<()> {
        while let Some(amp) = memchr(b'&', run.as_bytes()) {
            push(text, &run[..amp]);
            let after = &run[amp + 1..];
            // quick-xml ends a reference at the first `;`, `&` or `<`; without `;` it errs.
            let semi = memchr3(b';', b'&', b'<', after.as_bytes())?;
            if after.as_bytes()[semi] != b';' {
                return None;
            }
            let name = &after[..semi];
            if name.starts_with('#') {
                let c = BytesRef::new(name).resolve_char_ref().ok()??;
                let mut buf = [0u8; 4];
                push_owned(text, c.encode_utf8(&mut buf));
            } else if let Some(resolved) = resolve_predefined_entity(name) {
                push_owned(text, resolved);
            } else {
                // feed-rs keeps an unknown entity as written.
                push_owned(text, &run[amp..amp + 1 + semi + 1]);
            }
            run = &after[semi + 1..];
        }
        push(text, run);
        Some(())
    }

    /// An element feed-rs reads only for its attributes: no children, whitespace at most.
    fn no_content(&mut self, start: &Start<'a>) -> Option<()> {
        if start.empty {
            return Some(());
        }
        self.skip_space_and_comments()?;
        self.end_tag(start.qname()).then_some(())
    }

    /// Skips an element feed-rs does not turn into anything we use, checking that quick-xml
    /// would read it without error: text, references, CDATA, comments and nested elements.
    fn skip_content(&mut self, start: &Start<'a>, depth: usize) -> Option<()> {
        if start.empty {
            return Some(());
        }
        if depth > MAX_DEPTH {
            return None;
        }
        let mut scratch = None;
        loop {
            let rest = self.rest();
            let lt = memchr(b'<', rest.as_bytes())?;
            self.run(&rest[..lt], &mut scratch)?;
            scratch = None;
            self.pos += lt;
            let markup = self.rest();
            if let Some(cdata) = markup.strip_prefix("<![CDATA[") {
                let end = memmem::find(cdata.as_bytes(), b"]]>")?;
                self.pos += 9 + end + 3;
            } else if markup.starts_with("<!--") {
                self.skip_comment()?;
            } else if self.end_tag(start.qname()) {
                return Some(());
            } else if markup.starts_with("</") || markup.starts_with("<!") {
                return None;
            } else if markup.starts_with("<?") {
                self.skip_pi()?;
            } else {
                let child = self.start_tag(false)?;
                // feed-rs reads these wherever they are; leave them to it.
                if child.ns == Ns::Unhandled {
                    return None;
                }
                self.skip_content(&child, depth + 1)?;
            }
        }
    }
}

/// `prefix:local` or `local`, each an XML-ish ASCII name; anything else is left to feed-rs.
fn split_name(qname: &str) -> Option<(Option<&str>, &str)> {
    let name_ok = |s: &str| {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    };
    match qname.split_once(':') {
        Some((prefix, local)) if name_ok(prefix) && name_ok(local) => Some((Some(prefix), local)),
        None if name_ok(qname) => Some((None, qname)),
        _ => None,
    }
}

fn push<'a>(text: &mut Option<Text<'a>>, piece: &'a str) {
    // quick-xml's empty text and CDATA events add nothing in feed-rs.
    if piece.is_empty() {
        return;
    }
    match text {
        None => *text = Some(Cow::Borrowed(piece)),
        Some(t) => t.to_mut().push_str(piece),
    }
}

/// Like `push`, but a reference always makes the text present, even when it is empty.
fn push_owned<'a>(text: &mut Option<Text<'a>>, piece: &str) {
    match text {
        None => *text = Some(Cow::Owned(piece.to_string())),
        Some(t) => t.to_mut().push_str(piece),
    }
}

/// An enclosure or media:content: kept (as feed-rs keeps it) when its `url` is an absolute
/// URL. `Some(None)`: nothing to keep; `None`: a type this module cannot match feed-rs on.
fn media<'a>(start: &Start<'a>) -> Option<Option<Media<'a>>> {
    let kind = start.attr("type");
    if let Some(kind) = &kind {
        // feed-rs parses the type with `mediatype`; we only take types whose parse we know:
        // plain `type/subtype`, which it keeps as written.
        if !is_plain_media_type(kind) {
            return None;
        }
    }
    let Some(url) = start.attr("url").and_then(|u| Url::parse(&u).ok()) else {
        return Some(None);
    };
    Some(Some(Media { url, kind }))
}

fn is_plain_media_type(s: &str) -> bool {
    let part = |p: &str| {
        (1..=63).contains(&p.len())
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'))
    };
    matches!(s.split_once('/'), Some((t, sub)) if part(t) && part(sub))
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

/// Turns what was read into the feed, through the same helpers as the feed-rs route.
fn finish(channel: Channel, cx: &FeedContext) -> Option<ParsedFeed> {
    let links = channel.links.iter().map(|(href, rel)| LinkRef {
        href,
        rel: rel.as_deref(),
        plain: true,
    });
    let bases = Bases::new(main_link(links), cx);
    let mut ids = EntryIds::new(cx.url);
    let mut entries = Vec::with_capacity(channel.items.len());
    for item in channel.items {
        entries.push(entry(item, &bases, cx, &mut ids)?);
    }
    Some(ParsedFeed {
        title: feed_title(channel.title.as_deref().map(str::trim)),
        link: bases.feed_link.map(String::from),
        entries,
    })
}

fn entry(
    item: Item,
    bases: &Bases,
    cx: &FeedContext,
    ids: &mut EntryIds,
) -> Option<tidings_model::Entry> {
    let link = item.link.as_deref().map(link_href);
    let author = match item.author.as_deref() {
        Some(raw) => person_name(raw)?,
        None => None,
    };
    // feed-rs copies the published date into `updated` when there is no other.
    let published = item
        .date
        .as_deref()
        .and_then(|d| dates::parse_date(d, cx.timezone));
    let parts = EntryParts {
        link: link.as_deref(),
        content_base: None,
        guid: item.guid.as_deref().map_or("", str::trim),
        // feed-rs trims titles and descriptions (its `Text`), not `content:encoded`.
        title: item.title.as_deref().map(str::trim),
        author,
        body: item.encoded.filter(|b| !b.is_empty()),
        summary: item.summary.map(trim_cow),
        published,
        updated: published,
    };
    // With any media:content, feed-rs's MediaRSS object takes over: its contents replace
    // the enclosures, and only then do thumbnails count.
    let (contents, thumbnails) = if item.media_contents.is_empty() {
        (&item.enclosures, &[][..])
    } else {
        (&item.media_contents, &item.thumbnails[..])
    };
    let media = |base: Option<&Url>, bases: &Bases| {
        media_image(
            contents.iter().map(|m| (&m.url, m.kind.clone())),
            std::iter::empty(),
            thumbnails.iter().map(|t| t.as_ref()),
            base,
            bases,
        )
    };
    Some(build_entry(parts, media, None, bases, false, ids))
}

fn trim_cow(text: Text) -> Text {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}
