//! The one-pass XML reader shared by the fast RSS and Atom routes.
//!
//! The repaired document is already a `&str`, so this walks it once and takes text as slices
//! of it. Every method returns `None` at the first thing whose outcome it would have to work
//! out the way feed-rs (through quick-xml) does: `xml:base`, a DOCTYPE, a default namespace
//! other than the one the route allows, a nested element inside a text element, an odd
//! reference, markup it does not recognise. The caller then runs feed-rs, which handles
//! anything.
//!
//! Interpretation is borrowed, not re-invented: tag ends are found with quick-xml's
//! `ElementParser`, attributes read with its `Attributes` and unescaped with the same
//! `quick_xml::escape::unescape` feed-rs uses, character references resolved with
//! `BytesRef::resolve_char_ref`.

use std::borrow::Cow;

use memchr::{memchr, memchr3, memmem};
use quick_xml::escape::{resolve_predefined_entity, unescape};
use quick_xml::events::attributes::{Attribute, Attributes};
use quick_xml::events::BytesRef;
use quick_xml::parser::{ElementParser, Parser};
use url::Url;

/// Deeper nesting inside skipped elements is left to feed-rs.
const MAX_DEPTH: usize = 16;

/// Namespaces that feed-rs tells apart (others are all "unknown" to it).
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Ns {
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
    pub(crate) fn of(uri: &str) -> Ns {
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

/// A start tag.
pub(crate) struct Start<'a> {
    /// Everything between `<` and `>` (or `/>`).
    pub(crate) content: &'a str,
    /// Length of the qualified name at the start of `content`.
    pub(crate) name_len: usize,
    pub(crate) ns: Ns,
    pub(crate) local: &'a str,
    /// `<x/>`: no content, no end tag.
    pub(crate) empty: bool,
}

impl<'a> Start<'a> {
    pub(crate) fn qname(&self) -> &'a str {
        &self.content[..self.name_len]
    }

    /// The attributes, exactly as quick-xml reads them for feed-rs.
    pub(crate) fn attributes(&self) -> Attributes<'a> {
        Attributes::new(self.content, self.name_len)
    }

    /// The first attribute called `name`, unescaped as feed-rs does (falling back to the raw
    /// value when unescaping fails). Attribute errors were ruled out when the tag was read.
    pub(crate) fn attr(&self, name: &str) -> Option<Cow<'a, str>> {
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

/// A media URL (absolute, as feed-rs keeps only those) and its type attribute.
pub(crate) struct Media<'a> {
    pub(crate) url: Url,
    pub(crate) kind: Option<Cow<'a, str>>,
}

/// Text content: a slice of the document when it came in one piece, else a copy.
pub(crate) type Text<'a> = Cow<'a, str>;

pub(crate) struct Reader<'a> {
    src: &'a str,
    pos: usize,
    /// Prefixes declared on the root and their namespaces.
    prefixes: Vec<(&'a str, Ns)>,
    /// The namespace of unprefixed names (feed-rs's default for the format).
    default_ns: Ns,
    /// The one default namespace declaration (`xmlns="…"`) the root may carry: one that
    /// only restates `default_ns`.
    default_uri: Option<&'static str>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(src: &'a str, default_ns: Ns, default_uri: Option<&'static str>) -> Self {
        Reader {
            src,
            pos: 0,
            prefixes: Vec::new(),
            default_ns,
            default_uri,
        }
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    /// The XML declaration (UTF-8 or no encoding; the decoder rewrote it), then whitespace,
    /// comments and processing instructions up to the root.
    pub(crate) fn prolog(&mut self) -> Option<()> {
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
    pub(crate) fn skip_pi(&mut self) -> Option<()> {
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
    pub(crate) fn skip_space_and_comments(&mut self) -> Option<()> {
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
    pub(crate) fn skip_comment(&mut self) -> Option<()> {
        let body = self.rest().get(4..)?;
        if body.starts_with(['-', '>']) {
            return None;
        }
        let end = memmem::find(body.as_bytes(), b"-->")?;
        self.pos += 4 + end + 3;
        Some(())
    }

    /// feed-rs stops after `</channel>` (RSS) or `</feed>` (Atom), but its reader has already
    /// fetched the next event, reading on through text, CDATA, comments and processing
    /// instructions to the next tag. An XML declaration on that stretch makes quick-xml panic,
    /// so anything but plain text, CDATA and comments before the next tag is left to feed-rs.
    pub(crate) fn after_end(&mut self) -> Option<()> {
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

    /// Reads a start tag at the cursor. Attributes must all read cleanly; `xml:base`, and
    /// namespace declarations anywhere but on the root, mean `None`.
    pub(crate) fn start_tag(&mut self, is_root: bool) -> Option<Start<'a>> {
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
            None => self.default_ns,
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

    /// Records a root `xmlns:p="uri"`. A default namespace other than `default_uri`, or a
    /// declaration quick-xml could
    /// reject (reserved prefixes and URIs, an empty URI, an escaped one), means `None`.
    pub(crate) fn declare(&mut self, attr: Attribute<'a>) -> Option<()> {
        let Cow::Borrowed(uri) = attr.value else {
            return None;
        };
        if attr.key.0 == "xmlns" {
            return (self.default_uri == Some(uri)).then_some(());
        }
        let prefix = attr.key.0.strip_prefix("xmlns:")?;
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

    /// The next child element of `parent`, or `Some(None)` once its end tag (or, for an empty
    /// element, nothing) is consumed. Whitespace and comments between children are skipped;
    /// anything else declines.
    pub(crate) fn next_child(&mut self, parent: &Start<'a>) -> Option<Option<Start<'a>>> {
        if parent.empty {
            return Some(None);
        }
        self.skip_space_and_comments()?;
        if self.end_tag(parent.qname()) {
            return Some(None);
        }
        self.start_tag(false).map(Some)
    }

    /// Consumes `</name>` (trailing whitespace allowed, as in quick-xml) if it is next.
    pub(crate) fn end_tag(&mut self, name: &str) -> bool {
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
    pub(crate) fn text(&mut self, start: &Start<'a>) -> Option<Option<Text<'a>>> {
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

    /// Adds a run of character data (up to the next `<`) to `text`, resolving references
    /// as quick-xml and feed-rs do.
    pub(crate) fn run(&self, mut run: &'a str, text: &mut Option<Text<'a>>) -> Option<()> {
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
    pub(crate) fn no_content(&mut self, start: &Start<'a>) -> Option<()> {
        if start.empty {
            return Some(());
        }
        self.skip_space_and_comments()?;
        self.end_tag(start.qname()).then_some(())
    }

    /// Skips an element feed-rs does not turn into anything we use, checking that quick-xml
    /// would read it without error: text, references, CDATA, comments and nested elements.
    pub(crate) fn skip_content(&mut self, start: &Start<'a>, depth: usize) -> Option<()> {
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
pub(crate) fn split_name(qname: &str) -> Option<(Option<&str>, &str)> {
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

pub(crate) fn push<'a>(text: &mut Option<Text<'a>>, piece: &'a str) {
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
pub(crate) fn push_owned<'a>(text: &mut Option<Text<'a>>, piece: &str) {
    match text {
        None => *text = Some(Cow::Owned(piece.to_string())),
        Some(t) => t.to_mut().push_str(piece),
    }
}

/// An enclosure or media:content: kept (as feed-rs keeps it) when its `url` is an absolute
/// URL. `Some(None)`: nothing to keep; `None`: a type this module cannot match feed-rs on.
pub(crate) fn media<'a>(start: &Start<'a>) -> Option<Option<Media<'a>>> {
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

pub(crate) fn is_plain_media_type(s: &str) -> bool {
    let part = |p: &str| {
        (1..=63).contains(&p.len())
            && p.starts_with(|c: char| c.is_ascii_alphanumeric())
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-' | b'_'))
    };
    matches!(s.split_once('/'), Some((t, sub)) if part(t) && part(sub))
}

pub(crate) fn trim_cow(text: Text) -> Text {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) if s.trim().len() == s.len() => Cow::Owned(s),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}
