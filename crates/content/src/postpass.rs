//! After ammonia: drop images left without a URL, list image URLs, drop empty wrappers.
//!
//! The input here is ammonia's serialization, which is regular: every `<` in text is `&lt;`,
//! attribute values are double-quoted with `"`, `<`, `>` and `&` escaped, comments are stripped
//! and no raw-text element survives. [`tidy`] relies on exactly that, and so does [`run`]: it
//! reads each start tag as `<name( attr="value")*>` and does the image and attribute-order work
//! in the same scan as [`tidy`]. Should a tag ever not have that shape, [`run`] starts over with
//! lol_html, which parses any HTML, and then [`tidy`]; both ways give the same bytes (a property
//! test compares them).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;

use lol_html::errors::RewritingError;
use lol_html::html_content::Element;
use lol_html::{ElementContentHandlers, RewriteStrSettings, Selector};
use memchr::{memchr2, memchr3};

use crate::rewrite::rewrite;
use tidings_model::CleanHtml;

static ANY: LazyLock<Selector> = LazyLock::new(|| "*".parse().expect("constant selector"));

/// Attributes every image leaves with.
pub const IMG_FIXED_ATTRS: [(&str, &str); 3] = [
    ("referrerpolicy", "no-referrer"),
    ("loading", "lazy"),
    ("decoding", "async"),
];

/// Output order of attributes. ammonia's order depends on which attributes it dropped (it
/// swap-removes), so a second `clean` could reorder them; a fixed order keeps output stable.
const ATTRIBUTE_ORDER: [&str; 15] = [
    "href",
    "src",
    "alt",
    "title",
    "width",
    "height",
    "colspan",
    "rowspan",
    "start",
    "class",
    "lang",
    "rel",
    "referrerpolicy",
    "loading",
    "decoding",
];

/// Elements whose start tag drops one directly following newline when parsed; serializing
/// them must add one back, or a second `clean` would eat a line (html5ever does not).
const NEWLINE_EATERS: [&str; 2] = ["pre", "listing"];

/// Elements removed when they hold nothing (div: only whitespace; span: nothing at all).
const DROPPED_WHEN_EMPTY: [&str; 2] = ["div", "span"];

/// Void elements of the allowlist: no end tag follows them.
const VOID: [&str; 3] = ["br", "hr", "img"];

pub fn run(sanitized: &str) -> Result<CleanHtml, RewritingError> {
    match run_in_scan(sanitized) {
        Some(clean) => Ok(clean),
        None => run_with_lol_html(sanitized),
    }
}

/// The post-pass inside [`tidy`]'s scan; `None` if a start tag is not shaped as expected.
pub(crate) fn run_in_scan(sanitized: &str) -> Option<CleanHtml> {
    let mut images = Images::default();
    let mut attrs = Vec::new();
    let html = scan(sanitized, |tag, out| {
        finish_start_tag(tag, out, &mut attrs, &mut images)
    })?;
    Some(CleanHtml {
        html,
        images: images.urls,
    })
}

/// The post-pass as lol_html handlers, then [`tidy`]: the way for input of any shape.
pub(crate) fn run_with_lol_html(sanitized: &str) -> Result<CleanHtml, RewritingError> {
    let mut images = Vec::new();
    let mut seen = HashSet::new();
    let handler = ElementContentHandlers::default().element(|el: &mut Element| {
        if el.tag_name() == "img" && !finish_image(el, &mut images, &mut seen) {
            return Ok(());
        }
        order_attributes(el);
        Ok(())
    });
    let settings = RewriteStrSettings::new()
        .with_strict(false)
        .append_element_content_handler((Cow::Borrowed(&*ANY), handler));
    let html = rewrite(sanitized, settings)?;
    Ok(CleanHtml {
        html: tidy(&html),
        images,
    })
}

/// Lists the image's URL and sets the fixed attributes; removes an image without `src` (the
/// sanitizer drops a src it cannot vouch for) and returns false for it.
fn finish_image(el: &mut Element, images: &mut Vec<String>, seen: &mut HashSet<String>) -> bool {
    let Some(src) = el.get_attribute("src") else {
        el.remove();
        return false;
    };
    let url = decode_attribute(&src).into_owned();
    if seen.insert(url.clone()) {
        images.push(url);
    }
    for (name, value) in IMG_FIXED_ATTRS {
        set(el, name, value);
    }
    true
}

/// Where an attribute goes: by [`ATTRIBUTE_ORDER`], others after them by name.
fn attribute_key(name: &str) -> (usize, &str) {
    let rank = ATTRIBUTE_ORDER.iter().position(|n| *n == name);
    (rank.unwrap_or(ATTRIBUTE_ORDER.len()), name)
}

fn in_order(a: &str, b: &str) -> bool {
    attribute_key(a) <= attribute_key(b)
}

/// Reads `<name( attr="value")*>` as ammonia writes it: the tag's name, and its attributes
/// (values raw, entities intact) into `attrs`. `None` for anything else.
pub(crate) fn read_start_tag<'a>(
    tag: &'a str,
    attrs: &mut Vec<(&'a str, &'a str)>,
) -> Option<&'a str> {
    attrs.clear();
    let inner = tag.strip_prefix('<')?.strip_suffix('>')?;
    // Byte loops, not `find`/`split_once`: tags are short, and every tag of every post goes
    // through here (routing reads each tag of a post when it is rendered).
    let bytes = inner.as_bytes();
    let name_end = bytes.iter().position(|&b| b == b' ').unwrap_or(bytes.len());
    let name = &inner[..name_end];
    if !is_name(name) {
        return None;
    }
    let mut at = name_end;
    while at < bytes.len() {
        // ` name="value"`: '=', '"' and ' ' are ASCII, so every index is a char boundary.
        if bytes[at] != b' ' {
            return None;
        }
        let eq = at + 1 + bytes[at + 1..].iter().position(|&b| b == b'=')?;
        if bytes.get(eq + 1) != Some(&b'"') {
            return None;
        }
        let value_end = eq + 2 + memchr::memchr(b'"', &bytes[eq + 2..])?;
        let attr = &inner[at + 1..eq];
        if !is_name(attr) {
            return None;
        }
        attrs.push((attr, &inner[eq + 2..value_end]));
        at = value_end + 1;
    }
    Some(name)
}

/// Lowercase names as html5ever writes those of the allowlist.
fn is_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn order_attributes(el: &mut Element) {
    let attrs = el.attributes();
    if attrs.len() < 2 {
        return;
    }
    let mut attrs: Vec<(String, String)> = attrs.iter().map(|a| (a.name(), a.value())).collect();
    if attrs.windows(2).all(|w| in_order(&w[0].0, &w[1].0)) {
        return;
    }
    attrs.sort_by(|a, b| attribute_key(&a.0).cmp(&attribute_key(&b.0)));
    for (name, _) in &attrs {
        el.remove_attribute(name);
    }
    // Values are copied as serialized (already escaped); set_attribute leaves entities alone.
    for (name, value) in &attrs {
        set(el, name, value);
    }
}

fn set(el: &mut Element, name: &str, value: &str) {
    // Every name here came from a parsed attribute or a constant, so it is valid.
    let _ = el.set_attribute(name, value);
}

/// Image URLs in order of first appearance.
#[derive(Default)]
pub(crate) struct Images {
    pub(crate) urls: Vec<String>,
    seen: HashSet<String>,
}

impl Images {
    pub(crate) fn add(&mut self, url: String) {
        if !self.seen.contains(&url) {
            self.seen.insert(url.clone());
            self.urls.push(url);
        }
    }
}

/// What lol_html's post-pass does to one start tag, done on ammonia's serialization: an image
/// without `src` is left out (false), an image's URL is listed and it gets the fixed
/// attributes; attributes are put in order. `None` when the tag is not shaped as expected.
fn finish_start_tag<'a>(
    tag: &'a str,
    out: &mut String,
    attrs: &mut Vec<(&'a str, &'a str)>,
    images: &mut Images,
) -> Option<bool> {
    let name = read_start_tag(tag, attrs)?;
    if name == "img" {
        let Some(&(_, src)) = attrs.iter().find(|(n, _)| *n == "src") else {
            return Some(false);
        };
        images.add(decode_attribute(src).into_owned());
        for (fixed, value) in IMG_FIXED_ATTRS {
            match attrs.iter_mut().find(|(n, _)| *n == fixed) {
                Some(attr) => attr.1 = value,
                None => attrs.push((fixed, value)),
            }
        }
    } else if attrs.windows(2).all(|w| in_order(w[0].0, w[1].0)) {
        // Unchanged: lol_html writes such a tag exactly as it came.
        out.push_str(tag);
        return Some(true);
    }
    // Stable, like the sort of the lol_html way, so equal names keep their order.
    attrs.sort_by(|a, b| attribute_key(a.0).cmp(&attribute_key(b.0)));
    out.push('<');
    out.push_str(name);
    for (name, value) in attrs.iter() {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        out.push_str(value);
        out.push('"');
    }
    out.push('>');
    Some(true)
}

/// Decodes an attribute value as html5ever serializes it.
pub fn decode_attribute(value: &str) -> Cow<'_, str> {
    if !value.contains('&') {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let entity = [
            ("&amp;", "&"),
            ("&quot;", "\""),
            ("&lt;", "<"),
            ("&gt;", ">"),
            ("&nbsp;", "\u{a0}"),
        ]
        .into_iter()
        .find(|(e, _)| rest.starts_with(e));
        match entity {
            Some((e, c)) => {
                out.push_str(c);
                rest = &rest[e.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// Escapes a value for a double-quoted attribute, the way html5ever does.
pub fn encode_attribute(value: &str) -> Cow<'_, str> {
    if !value.contains(['&', '"', '<', '>', '\u{a0}']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 16);
    escape_into(&mut out, value, true);
    Cow::Owned(out)
}

/// Escapes as html5ever's serializer does: `&`, `<`, `>` and no-break spaces, and `"` in
/// attribute values.
pub(crate) fn escape_into(out: &mut String, text: &str, attribute: bool) {
    let bytes = text.as_bytes();
    let quote = if attribute { b'"' } else { b'<' };
    // Two searches, each in vector code; 0xc2 leads the two bytes of U+0080..U+00BF.
    let next = |from: usize| {
        let slice = &bytes[from..];
        let end = memchr3(quote, b'<', b'>', slice).unwrap_or(slice.len());
        from + memchr2(b'&', 0xc2, &slice[..end]).unwrap_or(end)
    };
    let mut from = 0;
    loop {
        let i = next(from);
        out.push_str(&text[from..i]);
        let Some(&byte) = bytes.get(i) else {
            return;
        };
        let (replacement, len) = match byte {
            b'&' => ("&amp;", 1),
            b'"' => ("&quot;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            _ if bytes.get(i + 1) == Some(&0xa0) => ("&nbsp;", 2),
            _ => (&text[i..i + 2], 2),
        };
        out.push_str(replacement);
        from = i + len;
    }
}

/// Headings: the parser closes an open heading when another heading starts directly inside
/// it, so a heading whose parent is a heading (possible once an unknown element between them
/// was unwrapped) would re-parse as a sibling. [`tidy`] unwraps the inner one.
const HEADINGS: [&str; 6] = ["h1", "h2", "h3", "h4", "h5", "h6"];

struct Open<'a> {
    name: &'a str,
    /// Where the start tag begins in the output.
    tag_at: usize,
    /// Where the element's content begins in the output.
    content_at: usize,
    /// The tags were left out (a heading directly inside a heading); the content stays.
    unwrapped: bool,
}

/// Fixes what ammonia's serialization would re-parse differently, and drops empty wrappers:
/// removes empty `div`/`span` (nested ones too, in one pass), unwraps a heading directly
/// inside a heading, and restores the newline a parser eats after `<pre>`.
pub fn tidy(html: &str) -> String {
    let copy = |tag: &str, out: &mut String| {
        out.push_str(tag);
        Some(true)
    };
    // Copying a tag cannot fail.
    scan(html, copy).unwrap_or_default()
}

/// [`tidy`], with every start tag that is written passed to `start_tag`, which writes it (or
/// not) to the output and says whether it did; `None` from it ends the scan with `None`.
fn scan<'a>(
    html: &'a str,
    mut start_tag: impl FnMut(&'a str, &mut String) -> Option<bool>,
) -> Option<String> {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut open: Vec<Open<'_>> = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            push_text(&mut out, &open, rest);
            break;
        };
        push_text(&mut out, &open, &rest[..lt]);
        rest = &rest[lt..];
        // In this serialization a tag always ends at the first `>`; if not, keep the rest as is.
        let Some(gt) = rest.find('>') else {
            out.push_str(rest);
            break;
        };
        let tag = &rest[..=gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix("</") {
            close(&mut out, &mut open, tag, name.trim_end_matches('>'));
        } else {
            start(&mut out, &mut open, tag, &mut start_tag)?;
        }
    }
    Some(out)
}

/// The innermost element whose tags are written.
fn parent<'o, 'a>(open: &'o [Open<'a>]) -> Option<&'o Open<'a>> {
    open.iter().rev().find(|o| !o.unwrapped)
}

fn start<'a>(
    out: &mut String,
    open: &mut Vec<Open<'a>>,
    tag: &'a str,
    start_tag: &mut impl FnMut(&'a str, &mut String) -> Option<bool>,
) -> Option<()> {
    let name = tag_name(tag);
    let unwrapped =
        HEADINGS.contains(&name) && parent(open).is_some_and(|p| HEADINGS.contains(&p.name));
    let tag_at = out.len();
    // Only images are ever left out, and they are void: nothing to keep open.
    if !unwrapped && !start_tag(tag, out)? {
        return Some(());
    }
    if !VOID.contains(&name) {
        open.push(Open {
            name,
            tag_at,
            content_at: out.len(),
            unwrapped,
        });
    }
    Some(())
}

fn push_text(out: &mut String, open: &[Open<'_>], text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(p) = parent(open) {
        let first_in_eater = NEWLINE_EATERS.contains(&p.name) && out.len() == p.content_at;
        if first_in_eater && text.starts_with('\n') {
            out.push('\n');
        }
    }
    out.push_str(text);
}

fn close(out: &mut String, open: &mut Vec<Open<'_>>, tag: &str, name: &str) {
    let Some(top) = open.pop() else {
        out.push_str(tag);
        return;
    };
    if top.unwrapped {
        return;
    }
    let content = &out[top.content_at..];
    let empty = match top.name {
        "div" => content.trim_ascii().is_empty(),
        "span" => content.is_empty(),
        _ => false,
    };
    if empty && top.name == name && DROPPED_WHEN_EMPTY.contains(&name) {
        out.truncate(top.tag_at);
    } else {
        out.push_str(tag);
    }
}

fn tag_name(tag: &str) -> &str {
    let inner = &tag[1..];
    let end = inner
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .unwrap_or(inner.len());
    &inner[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_wrappers_go_nested_ones_too() {
        assert_eq!(
            tidy("<p>a</p><div></div><div class=\"x\">\n <div></div> </div>"),
            "<p>a</p>"
        );
        assert_eq!(tidy("a<span></span>b<span> </span>"), "ab<span> </span>");
        assert_eq!(
            tidy("<div><img src=\"x\"></div>"),
            "<div><img src=\"x\"></div>"
        );
        assert_eq!(tidy("<div><br></div>"), "<div><br></div>");
        assert_eq!(tidy("<p></p>"), "<p></p>");
    }

    #[test]
    fn pre_keeps_its_leading_newline() {
        assert_eq!(tidy("<pre>\nx</pre>"), "<pre>\n\nx</pre>");
        assert_eq!(tidy("<pre>x\n</pre>"), "<pre>x\n</pre>");
        assert_eq!(tidy("<pre><div></div>\nx</pre>"), "<pre>\n\nx</pre>");
    }

    #[test]
    fn a_heading_inside_a_heading_is_unwrapped() {
        assert_eq!(
            tidy("<h1>a<h2>b<h3>c</h3></h2></h1><h2>d</h2>"),
            "<h1>abc</h1><h2>d</h2>"
        );
        assert_eq!(
            tidy("<h1><a href=\"x\"><h2>b</h2></a></h1>"),
            "<h1><a href=\"x\"><h2>b</h2></a></h1>"
        );
    }

    #[test]
    fn attribute_round_trip() {
        let raw = "http://a.example/x?a=1&b=\"2\"<>\u{a0}&amp;";
        assert_eq!(decode_attribute(&encode_attribute(raw)), raw);
        assert_eq!(decode_attribute("a&b&amp;c&#39;"), "a&b&c&#39;");
    }

    #[test]
    fn images_without_src_are_removed_and_urls_listed_once() {
        let out = run(r#"<img alt="x"><img src="http://a.example/1.jpg?a=1&amp;b=2"><p><img src="http://a.example/2.jpg"></p><img src="http://a.example/1.jpg?a=1&amp;b=2">"#)
            .expect("post-pass");
        assert_eq!(
            out.images,
            ["http://a.example/1.jpg?a=1&b=2", "http://a.example/2.jpg"]
        );
        assert_eq!(out.html.matches("<img").count(), 3);
        assert!(!out.html.contains("alt=\"x\""));
    }

    #[test]
    fn start_tags_are_read_as_ammonia_writes_them() {
        let mut attrs = Vec::new();
        let tag = r#"<img src="http://a.example/x?a=1&amp;b=2" alt="图 &quot;1&quot;">"#;
        assert_eq!(read_start_tag(tag, &mut attrs), Some("img"));
        assert_eq!(
            attrs,
            [
                ("src", "http://a.example/x?a=1&amp;b=2"),
                ("alt", "图 &quot;1&quot;")
            ]
        );
        assert_eq!(read_start_tag("<h2>", &mut attrs), Some("h2"));
        assert!(attrs.is_empty());
        for odd in [
            "<img src=x>",
            "<img src='x'>",
            "<img  src=\"x\">",
            "<img src=\"x\" >",
            "<IMG src=\"x\">",
            "<img SRC=\"x\">",
            "<img src=\"x\"/>",
            "<img on:x=\"y\">",
            "<!DOCTYPE html>",
            "<>",
        ] {
            assert_eq!(read_start_tag(odd, &mut attrs), None, "{odd}");
        }
    }

    #[test]
    fn an_odd_tag_sends_the_whole_article_the_lol_html_way() {
        // Not ammonia's shape: unquoted, so the scan gives up and lol_html parses it.
        let odd = r#"<p>a</p><img alt=x src=http://a.example/1.jpg><img alt="y">"#;
        assert!(run_in_scan(odd).is_none());
        let out = run(odd).expect("post-pass");
        assert_eq!(out.images, ["http://a.example/1.jpg"]);
        assert_eq!(out.html.matches("<img").count(), 1, "{}", out.html);
        assert!(out.html.contains("referrerpolicy"), "{}", out.html);
    }

    #[test]
    fn images_get_fixed_attributes_and_attributes_their_order() {
        let out = run_in_scan(
            r#"<a rel="x" href="http://a.example/">l</a><img class="c" alt="a" src="http://a.example/1.jpg">"#,
        )
        .expect("ammonia-shaped");
        assert_eq!(
            out.html,
            r#"<a href="http://a.example/" rel="x">l</a><img src="http://a.example/1.jpg" alt="a" class="c" referrerpolicy="no-referrer" loading="lazy" decoding="async">"#
        );
    }
}
