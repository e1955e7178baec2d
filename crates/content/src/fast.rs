//! One pass over simple article HTML, giving exactly the bytes of the full pipeline.
//!
//! Most feeds send the same plain shape: paragraphs, emphasis, links, spans and lazy images,
//! every element closed where it was opened. For such HTML the spec's tree builder builds the
//! tree the tags spell out, so the pre-pass, ammonia and the post-pass can be done while reading
//! the tags once, with no DOM. [`clean`] does that and gives up (`None`) at the first thing
//! whose outcome it would have to work out the way the spec's parser does: misnested or
//! unclosed elements, a block inside `<p>`, a link inside a link, an element outside a small
//! set, comments, a `<` that starts no tag, a character reference it does not know, control
//! characters. The caller then runs the full pipeline, which handles anything.
//!
//! Every decision that matters for safety is made by the same functions the full pipeline
//! uses (the URL checks of the sanitizer, the pre-pass's lazy-image rules, the post-pass's
//! attribute escaping); a property test holds this module to the full pipeline's exact bytes.

use std::borrow::Cow;

use memchr::memchr;
use tidings_model::CleanHtml;

use crate::postpass::{escape_into, Images, IMG_FIXED_ATTRS};
use crate::prepass::{first_candidate, is_pixel_size, is_placeholder, LAZY_ATTRS};
use crate::sanitize::{number, parse_base, url_attribute, BaseGuard, LINK_REL};

/// Deeper nesting than this is left to the full pipeline (and never seen in articles).
const MAX_DEPTH: usize = 64;

/// Cleans `raw` in one pass, or `None` if it is not of the simple shape described above.
pub(crate) fn clean(raw: &str, base: Option<&str>) -> Option<CleanHtml> {
    if has_control_characters(raw.as_bytes()) {
        return None;
    }
    let _base = BaseGuard::set(base.and_then(parse_base));
    let mut cleaner = Cleaner {
        out: String::with_capacity(raw.len() + raw.len() / 8),
        open: Vec::new(),
        images: Images::default(),
        attrs: Vec::new(),
    };
    let mut rest = raw;
    while let Some(lt) = memchr(b'<', rest.as_bytes()) {
        cleaner.text(&rest[..lt])?;
        rest = &rest[lt..];
        let len = cleaner.tag(rest)?;
        rest = &rest[len..];
    }
    cleaner.text(rest)?;
    // Elements left open would be closed by the parser where it sees fit.
    if !cleaner.open.is_empty() {
        return None;
    }
    Some(CleanHtml {
        html: cleaner.out,
        images: cleaner.images.urls,
    })
}

/// NUL and CR are rewritten by the HTML tokenizer, the other C0 controls are parse errors;
/// none occurs in ordinary articles. Written as a fold so that it compiles to vector code.
fn has_control_characters(bytes: &[u8]) -> bool {
    bytes.iter().fold(false, |seen, &b| {
        seen | ((b < 0x20 && b != b'\n' && b != b'\t') | (b == 0x7f))
    })
}

/// The elements this module handles, and how the tree builder treats each.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `br`, `img`: no content, no end tag.
    Void,
    /// `hr`: void, and it closes an open `<p>` first.
    VoidBlock,
    /// Elements that just nest (`span`, `b`, …).
    Inline,
    /// `a`: may not nest in itself.
    Link,
    /// Blocks that close an open `<p>` and stop the search for an open `<li>`.
    Block,
    /// `div`: closes an open `<p>`, but the search for an open `<li>` passes through it.
    Div,
    P,
    Li,
    Heading,
}

fn kind(name: &str) -> Option<(&'static str, Kind)> {
    const ELEMENTS: [(&str, Kind); 29] = [
        ("p", Kind::P),
        ("br", Kind::Void),
        ("img", Kind::Void),
        ("hr", Kind::VoidBlock),
        ("span", Kind::Inline),
        ("a", Kind::Link),
        ("b", Kind::Inline),
        ("strong", Kind::Inline),
        ("em", Kind::Inline),
        ("i", Kind::Inline),
        ("u", Kind::Inline),
        ("s", Kind::Inline),
        ("small", Kind::Inline),
        ("code", Kind::Inline),
        ("sub", Kind::Inline),
        ("sup", Kind::Inline),
        ("div", Kind::Div),
        ("blockquote", Kind::Block),
        ("ul", Kind::Block),
        ("ol", Kind::Block),
        ("figure", Kind::Block),
        ("figcaption", Kind::Block),
        ("li", Kind::Li),
        ("h1", Kind::Heading),
        ("h2", Kind::Heading),
        ("h3", Kind::Heading),
        ("h4", Kind::Heading),
        ("h5", Kind::Heading),
        ("h6", Kind::Heading),
    ];
    ELEMENTS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .copied()
}

struct Open {
    name: &'static str,
    kind: Kind,
    /// Where the start tag begins in the output.
    tag_at: usize,
    /// Where the element's content begins in the output.
    content_at: usize,
}

struct Cleaner<'a> {
    out: String,
    open: Vec<Open>,
    images: Images,
    /// The attributes of the tag being read, raw, reused from tag to tag.
    attrs: Vec<(&'a str, &'a str)>,
}

impl<'a> Cleaner<'a> {
    fn text(&mut self, raw: &str) -> Option<()> {
        let text = decode(raw)?;
        escape_into(&mut self.out, &text, false);
        Some(())
    }

    /// Handles the tag at the start of `html`; returns its length.
    fn tag(&mut self, html: &'a str) -> Option<usize> {
        let bytes = html.as_bytes();
        if bytes.get(1) == Some(&b'/') {
            let end = memchr(b'>', bytes)?;
            self.end_tag(&html[2..end])?;
            return Some(end + 1);
        }
        let (name, len) = read_start_tag(html, &mut self.attrs)?;
        self.start_tag(name)?;
        Some(len)
    }

    fn start_tag(&mut self, name: &str) -> Option<()> {
        let (name, kind) = kind(name)?;
        let p_open = self.open.iter().any(|o| o.kind == Kind::P);
        let closes_p = !matches!(kind, Kind::Void | Kind::Inline | Kind::Link);
        let nested = match kind {
            _ if closes_p && p_open => true,
            Kind::Link => self.open.iter().any(|o| o.kind == Kind::Link),
            Kind::Heading => self.open.iter().any(|o| o.kind == Kind::Heading),
            Kind::Li => self.li_is_open(),
            _ => false,
        };
        if nested || self.open.len() >= MAX_DEPTH {
            return None;
        }
        let tag_at = self.out.len();
        let attrs = std::mem::take(&mut self.attrs);
        let written = self.write_start_tag(name, &attrs);
        self.attrs = attrs;
        if written? && !matches!(kind, Kind::Void | Kind::VoidBlock) {
            self.open.push(Open {
                name,
                kind,
                tag_at,
                content_at: self.out.len(),
            });
        }
        Some(())
    }

    /// Whether a new `<li>` would close an open one: the tree builder looks down the stack
    /// for an `li`, passing only through `div`, `p` and elements that are not "special".
    fn li_is_open(&self) -> bool {
        for o in self.open.iter().rev() {
            match o.kind {
                Kind::Li => return true,
                Kind::Block | Kind::Heading => return false,
                _ => {}
            }
        }
        false
    }

    /// Closes the current element, which must be `name`; an empty `div` or `span` goes.
    fn end_tag(&mut self, name: &str) -> Option<()> {
        let top = self.open.pop()?;
        if !top.name.eq_ignore_ascii_case(name) {
            return None;
        }
        let content = &self.out[top.content_at..];
        let empty = match top.name {
            "div" => content.trim_ascii().is_empty(),
            "span" => content.is_empty(),
            _ => false,
        };
        if empty {
            self.out.truncate(top.tag_at);
        } else {
            self.out.push_str("</");
            self.out.push_str(top.name);
            self.out.push('>');
        }
        Some(())
    }

    /// Writes the start tag with the attributes the sanitizer keeps, in the post-pass's order.
    /// `Some(false)`: an image left without a URL, which is dropped; `None`: give up.
    fn write_start_tag(&mut self, name: &'static str, attrs: &[(&str, &str)]) -> Option<bool> {
        let get = |wanted: &str| {
            attrs
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(wanted))
                .map(|(_, v)| *v)
        };
        let mut kept = Kept::default();
        match name {
            "a" => {
                let href = try_map(get("href"), decode)?;
                kept.href = href.and_then(|href| url_attribute("a", "href", &href));
            }
            "img" => {
                kept.src = image_source(get)?;
                if kept.src.is_none() {
                    return Some(false);
                }
                kept.alt = try_map(get("alt"), decode)?;
                let (width, height) = image_size(get)?;
                (kept.width, kept.height) = (width, height);
            }
            "ol" => kept.start = try_map(get("start"), number_attribute)?.flatten(),
            _ => {}
        }
        kept.title = try_map(get("title"), decode)?;
        kept.class = try_map(get("class"), decode)?;
        kept.lang = try_map(get("lang"), decode)?;
        kept.write(&mut self.out, name);
        if let Some(src) = kept.src {
            self.images.add(src);
        }
        Some(true)
    }
}

/// An image's `src` as the pre-pass picks it (lazy attributes first, placeholders skipped,
/// srcset last, all on raw values) and the sanitizer then checks it. `None`: give up.
fn image_source<'v>(get: impl Fn(&str) -> Option<&'v str>) -> Option<Option<String>> {
    let lazy = LAZY_ATTRS
        .iter()
        .filter_map(|name| get(name))
        .find(|value| !is_placeholder(value));
    let raw = lazy.or_else(|| {
        get("src")
            .filter(|src| !is_placeholder(src))
            .or_else(|| first_candidate(get("data-srcset").or_else(|| get("srcset"))?))
    });
    let Some(raw) = raw else {
        return Some(None);
    };
    let src = decode(raw.trim())?;
    Some(url_attribute("img", "src", &src))
}

/// `width`/`height`: `data-width`/`data-height` win when they are pixel sizes (pre-pass),
/// and what remains must be a number (sanitizer).
#[allow(clippy::type_complexity)]
fn image_size<'v>(
    get: impl Fn(&str) -> Option<&'v str>,
) -> Option<(Option<Cow<'v, str>>, Option<Cow<'v, str>>)> {
    let size = |lazy: &str, plain: &str| {
        let carried = get(lazy).map(str::trim).filter(|v| is_pixel_size(v));
        try_map(carried.or_else(|| get(plain)), number_attribute).map(Option::flatten)
    };
    Some((size("data-width", "width")?, size("data-height", "height")?))
}

/// `f` applied to a value that may be missing; `None` when `f` gives up.
fn try_map<'v, T>(
    value: Option<&'v str>,
    f: impl FnOnce(&'v str) -> Option<T>,
) -> Option<Option<T>> {
    match value {
        None => Some(None),
        Some(value) => f(value).map(Some),
    }
}

/// A decoded attribute the sanitizer keeps only as a number. `None`: give up.
fn number_attribute(raw: &str) -> Option<Option<Cow<'_, str>>> {
    Some(match decode(raw)? {
        Cow::Borrowed(v) => number(v).map(Cow::Borrowed),
        Cow::Owned(v) => number(&v).map(|n| Cow::Owned(n.to_string())),
    })
}

/// The attributes the sanitizer keeps, decoded, one field per name; written in the order of
/// the post-pass's `ATTRIBUTE_ORDER`.
#[derive(Default)]
struct Kept<'v> {
    href: Option<String>,
    src: Option<String>,
    alt: Option<Cow<'v, str>>,
    title: Option<Cow<'v, str>>,
    width: Option<Cow<'v, str>>,
    height: Option<Cow<'v, str>>,
    start: Option<Cow<'v, str>>,
    class: Option<Cow<'v, str>>,
    lang: Option<Cow<'v, str>>,
}

impl Kept<'_> {
    fn write(&self, out: &mut String, name: &str) {
        out.push('<');
        out.push_str(name);
        let attrs = [
            ("href", self.href.as_deref()),
            ("src", self.src.as_deref()),
            ("alt", self.alt.as_deref()),
            ("title", self.title.as_deref()),
            ("width", self.width.as_deref()),
            ("height", self.height.as_deref()),
            ("start", self.start.as_deref()),
            ("class", self.class.as_deref()),
            ("lang", self.lang.as_deref()),
        ];
        for (attr, value) in attrs {
            if let Some(value) = value {
                write_attribute(out, attr, value);
            }
        }
        if name == "a" {
            write_attribute(out, "rel", LINK_REL);
        }
        if name == "img" {
            for (attr, value) in IMG_FIXED_ATTRS {
                write_attribute(out, attr, value);
            }
        }
        out.push('>');
    }
}

fn write_attribute(out: &mut String, name: &str, value: &str) {
    out.push(' ');
    out.push_str(name);
    out.push_str("=\"");
    escape_into(out, value, true);
    out.push('"');
}

/// Reads a start tag `<name( attr(=value)?)*( /)?>` into its name and raw attributes; returns
/// the name and the tag's length. `None` for anything the tokenizer would read in an
/// unusual way, or a duplicate attribute.
fn read_start_tag<'a>(
    html: &'a str,
    attrs: &mut Vec<(&'a str, &'a str)>,
) -> Option<(&'a str, usize)> {
    attrs.clear();
    let bytes = html.as_bytes();
    let name_len = bytes[1..].iter().position(|b| !b.is_ascii_alphanumeric())?;
    if name_len == 0 || !bytes[1].is_ascii_alphabetic() {
        return None;
    }
    let name = &html[1..1 + name_len];
    let mut at = 1 + name_len;
    loop {
        let had_space = skip_space(bytes, &mut at);
        match *bytes.get(at)? {
            b'>' => return Some((name, at + 1)),
            b'/' => {
                // `/>` is ignored on void elements and meaningless on others.
                let void = matches!(kind(name), Some((_, Kind::Void | Kind::VoidBlock)));
                return (bytes.get(at + 1) == Some(&b'>') && void).then_some((name, at + 2));
            }
            _ if !had_space => return None,
            _ => {}
        }
        let (attr, value) = read_attribute(html, &mut at)?;
        if attrs.iter().any(|(n, _)| n.eq_ignore_ascii_case(attr)) {
            return None;
        }
        attrs.push((attr, value));
    }
}

/// Skips tag whitespace; returns whether there was any.
fn skip_space(bytes: &[u8], at: &mut usize) -> bool {
    let from = *at;
    while matches!(bytes.get(*at), Some(b' ' | b'\t' | b'\n')) {
        *at += 1;
    }
    *at > from
}

fn read_attribute<'a>(html: &'a str, at: &mut usize) -> Option<(&'a str, &'a str)> {
    let bytes = html.as_bytes();
    let from = *at;
    while bytes
        .get(*at)
        .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
    {
        *at += 1;
    }
    if *at == from {
        return None;
    }
    let name = &html[from..*at];
    let mut after = *at;
    skip_space(bytes, &mut after);
    if bytes.get(after) != Some(&b'=') {
        // A name alone: the value is empty. What follows is read as the next attribute.
        return Some((name, ""));
    }
    *at = after + 1;
    skip_space(bytes, at);
    let value = match *bytes.get(*at)? {
        quote @ (b'"' | b'\'') => {
            let len = memchr(quote, &bytes[*at + 1..])?;
            let value = &html[*at + 1..*at + 1 + len];
            *at += len + 2;
            // The next attribute must be set apart by whitespace, or the tag end.
            if !matches!(bytes.get(*at), Some(b' ' | b'\t' | b'\n' | b'>' | b'/')) {
                return None;
            }
            value
        }
        _ => {
            let start = *at;
            while bytes
                .get(*at)
                .is_some_and(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'>'))
            {
                *at += 1;
            }
            let value = &html[start..*at];
            if value.is_empty() || value.contains(['"', '\'', '<', '=', '`']) {
                return None;
            }
            value
        }
    };
    Some((name, value))
}

/// Decodes the character references of text or an attribute value. `None` for a reference the
/// tokenizer would resolve by rules this module does not follow (unknown names, a missing `;`,
/// code points it replaces).
fn decode(raw: &str) -> Option<Cow<'_, str>> {
    let Some(first) = memchr(b'&', raw.as_bytes()) else {
        return Some(Cow::Borrowed(raw));
    };
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    while !rest.is_empty() {
        // `rest` starts with `&` here.
        let (decoded, len) = reference(rest)?;
        out.push_str(decoded.encode_utf8(&mut [0; 4]));
        rest = &rest[len..];
        let next = memchr(b'&', rest.as_bytes()).unwrap_or(rest.len());
        out.push_str(&rest[..next]);
        rest = &rest[next..];
    }
    Some(Cow::Owned(out))
}

/// The character a reference at the start of `s` (`&…`) stands for, and its length. A bare
/// `&` (followed by neither a letter, a digit nor `#`) stands for itself.
fn reference(s: &str) -> Option<(char, usize)> {
    let bytes = s.as_bytes();
    match bytes.get(1) {
        Some(b'#') => numeric_reference(s),
        Some(b) if b.is_ascii_alphanumeric() => {
            let semi = memchr(b';', bytes)?;
            let name = &s[1..semi];
            let c = NAMED.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)?;
            Some((c, semi + 1))
        }
        _ => Some(('&', 1)),
    }
}

/// `&#123;` or `&#x7b;`, for code points the tokenizer keeps as they are.
fn numeric_reference(s: &str) -> Option<(char, usize)> {
    let (digits_at, radix) = match s.as_bytes().get(2) {
        Some(b'x' | b'X') => (3, 16),
        _ => (2, 10),
    };
    let semi = memchr(b';', s.as_bytes())?;
    let digits = &s[digits_at..semi];
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let code = u32::from_str_radix(digits, radix).ok()?;
    let plain = (0x20..0x7f).contains(&code)
        || (0xa0..0xfdd0).contains(&code)
        || (0xfdf0..0xfffe).contains(&code)
        || (0x10000..=0x10ffff).contains(&code) && code & 0xfffe != 0xfffe;
    let c = char::from_u32(code).filter(|_| plain)?;
    Some((c, semi + 1))
}

/// Named references common in articles. Anything else sends the article the full way.
const NAMED: [(&str, char); 28] = [
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("mdash", '\u{2014}'),
    ("ndash", '\u{2013}'),
    ("hellip", '\u{2026}'),
    ("middot", '\u{b7}'),
    ("bull", '\u{2022}'),
    ("copy", '\u{a9}'),
    ("reg", '\u{ae}'),
    ("trade", '\u{2122}'),
    ("times", '\u{d7}'),
    ("divide", '\u{f7}'),
    ("deg", '\u{b0}'),
    ("yen", '\u{a5}'),
    ("laquo", '\u{ab}'),
    ("raquo", '\u{bb}'),
    ("emsp", '\u{2003}'),
    ("ensp", '\u{2002}'),
    ("thinsp", '\u{2009}'),
    ("zwj", '\u{200d}'),
];
