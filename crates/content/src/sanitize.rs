//! The sanitizer: ammonia with a news-article allowlist, built once.
//!
//! URL attributes are finished in ammonia's attribute filter, which sees values after html5ever
//! decoded them: relative URLs are resolved against the article's base, and the result must be
//! an absolute `http`/`https` URL (`mailto` too for links) or the attribute goes. The base is
//! per call while the builder is shared, so it travels in a thread-local for the duration of
//! one `clean` call.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative};
use url::Url;

use crate::plain_url::is_canonical_http;
use crate::prepass::is_placeholder;

/// Elements kept (without their attributes unless listed below).
#[rustfmt::skip]
pub const ALLOWED_TAGS: &[&str] = &[
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code", "em",
    "strong", "b", "i", "u", "s", "sub", "sup", "small", "mark", "del", "ins", "abbr", "cite",
    "q", "kbd", "samp", "var", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody",
    "tfoot", "tr", "th", "td", "caption", "figure", "figcaption", "img", "a", "div", "span",
    "section", "article", "header", "footer", "aside",
    // Block containers the HTML parser treats as "special": unwrapping them could let the
    // re-parse of our own output nest differently (`<li><nav><li>` → `<li><li>`), which would
    // break idempotence. They are inert, so they stay.
    "center", "nav", "main", "hgroup", "search", "fieldset", "legend", "address", "details",
    "summary", "menu", "dir", "listing",
];

/// Elements removed together with everything inside them. Besides active content this lists
/// the remaining parser scope markers (`button`, `marquee`, …): unwrapping those has the same
/// re-parse problem as above, and their content is page furniture anyway.
#[rustfmt::skip]
pub const REMOVED_WITH_CONTENT: &[&str] = &[
    "script", "style", "template", "iframe", "object", "embed", "applet", "svg", "math",
    "noscript", "noembed", "noframes", "frameset", "frame", "form", "select", "textarea",
    "button", "video", "audio", "canvas", "marquee",
    // Ruby annotations: the parser closes `rt`/`rp` by implied end tags, which an unwrapped
    // element in between defeats on the first parse but not on the second. The base text stays.
    "rt", "rp",
];

pub(crate) const LINK_REL: &str = "noopener noreferrer nofollow";
const LINK_SCHEMES: &[&str] = &["http", "https", "mailto"];
const IMAGE_SCHEMES: &[&str] = &["http", "https"];
const MAX_NUMBER_DIGITS: usize = 5;

static BUILDER: LazyLock<Builder<'static>> = LazyLock::new(builder);

thread_local! {
    static BASE: RefCell<Option<Url>> = const { RefCell::new(None) };
}

/// Sanitizes `html`, resolving relative URLs against `base`. The result is ammonia's
/// serialization as bytes, for [`crate::rewrite::as_text`] to read without a copy.
pub fn sanitize(html: &str, base: Option<Url>) -> Vec<u8> {
    let document = {
        let _base = BaseGuard::set(base);
        BUILDER.clean(html)
    };
    // `to_string` would check the serialization with `String::from_utf8`, slow on Chinese text.
    let mut out = Vec::with_capacity(html.len());
    // Writing to a Vec cannot fail.
    let _ = document.write_to(&mut out);
    out
}

/// Parses a caller-supplied base; only absolute http(s) URLs can be bases.
pub fn parse_base(base: &str) -> Option<Url> {
    Url::parse(base.trim())
        .ok()
        .filter(|url| IMAGE_SCHEMES.contains(&url.scheme()) && url.has_host())
}

/// Sets the thread's base and clears it again on drop, also when unwinding.
pub(crate) struct BaseGuard;

impl BaseGuard {
    pub(crate) fn set(base: Option<Url>) -> BaseGuard {
        BASE.with(|b| *b.borrow_mut() = base);
        BaseGuard
    }
}

impl Drop for BaseGuard {
    fn drop(&mut self) {
        BASE.with(|b| *b.borrow_mut() = None);
    }
}

fn builder() -> Builder<'static> {
    let mut b = Builder::empty();
    let tag_attributes: HashMap<&str, HashSet<&str>> = HashMap::from([
        ("a", HashSet::from(["href"])),
        ("img", HashSet::from(["src", "alt", "width", "height"])),
        ("td", HashSet::from(["colspan", "rowspan"])),
        ("th", HashSet::from(["colspan", "rowspan"])),
        ("ol", HashSet::from(["start"])),
    ]);
    b.tags(ALLOWED_TAGS.iter().copied().collect())
        .clean_content_tags(REMOVED_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(tag_attributes)
        // `id` is left out on purpose: it can clobber DOM globals of the page hosting the post.
        .generic_attributes(HashSet::from(["class", "title", "lang"]))
        .url_schemes(LINK_SCHEMES.iter().copied().collect())
        // Relative URLs reach the filter below, which resolves or drops them.
        .url_relative(UrlRelative::PassThrough)
        .link_rel(Some(LINK_REL))
        .strip_comments(true)
        .attribute_filter(filter_attribute);
    b
}

/// What ammonia with this builder leaves of a URL attribute (`a href`, `img src`): its scheme
/// check on the decoded value, then [`filter_attribute`]. For the one-pass cleaner, which must
/// agree with ammonia byte for byte.
pub(crate) fn url_attribute(element: &str, attribute: &str, value: &str) -> Option<String> {
    let rule = url_rule(element, attribute);
    if let Some(rule) = rule.filter(|_| is_canonical_http(value)) {
        // What parsing would give back: `value` itself, with its http(s) scheme and host.
        let scheme = &value[..value.find(':').unwrap_or(0)];
        return rule.admit(rule.schemes.contains(&scheme).then(|| value.to_string()));
    }
    let parsed = Url::parse(value);
    let scheme_ok = match &parsed {
        Ok(url) => LINK_SCHEMES.contains(&url.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => true,
        Err(_) => false,
    };
    match (parsed, rule) {
        _ if !scheme_ok => None,
        // The filter would trim the value and parse it again: when trimming changes nothing
        // (nearly always), that parse is this one. URL parsing was a third of the one-pass
        // cleaner's time.
        (Ok(url), Some(rule)) if value.trim() == value => rule.admit(accept_url(url, rule.schemes)),
        _ => filter_attribute(element, attribute, value).map(Cow::into_owned),
    }
}

/// What a URL attribute may hold.
#[derive(Clone, Copy)]
struct UrlRule {
    schemes: &'static [&'static str],
    /// A stand-in image is junk wherever it comes from; the pre-pass drops most of them, this
    /// catches those it cannot see (and keeps the second `clean` from disagreeing).
    no_placeholders: bool,
}

impl UrlRule {
    fn admit(self, url: Option<String>) -> Option<String> {
        url.filter(|url| !(self.no_placeholders && is_placeholder(url)))
    }
}

fn url_rule(element: &str, attribute: &str) -> Option<UrlRule> {
    match (element, attribute) {
        ("a", "href") => Some(UrlRule {
            schemes: LINK_SCHEMES,
            no_placeholders: false,
        }),
        ("img", "src") => Some(UrlRule {
            schemes: IMAGE_SCHEMES,
            no_placeholders: true,
        }),
        _ => None,
    }
}

fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    if let Some(rule) = url_rule(element, attribute) {
        return rule
            .admit(absolute_url(value, rule.schemes))
            .map(Cow::Owned);
    }
    match attribute {
        "width" | "height" | "colspan" | "rowspan" | "start" => number(value).map(Cow::Borrowed),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// `value` as a normalized absolute URL with one of `schemes`, resolving it against the
/// thread's base. Protocol-relative URLs take the base's scheme, else `http`.
fn absolute_url(value: &str, schemes: &[&str]) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let url = match Url::parse(value) {
        Ok(url) => url,
        Err(url::ParseError::RelativeUrlWithoutBase) => resolve(value)?,
        Err(_) => return None,
    };
    accept_url(url, schemes)
}

/// `url` as a string if it has one of `schemes` (and a host, unless it is `mailto`).
fn accept_url(url: Url, schemes: &[&str]) -> Option<String> {
    if !schemes.contains(&url.scheme()) {
        return None;
    }
    if url.scheme() != "mailto" && !url.has_host() {
        return None;
    }
    // The serialization of a parsed Url parses back to itself, which keeps `clean` idempotent.
    Some(url.into())
}

fn resolve(relative: &str) -> Option<Url> {
    BASE.with(|base| match base.borrow().as_ref() {
        Some(base) => base.join(relative).ok(),
        None if relative.starts_with("//") => Url::parse(&format!("http:{relative}")).ok(),
        None => None,
    })
}

pub(crate) fn number(value: &str) -> Option<&str> {
    let value = value.trim();
    let ok = !value.is_empty()
        && value.len() <= MAX_NUMBER_DIGITS
        && value.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_base(base: Option<&str>, f: impl FnOnce() -> Option<String>) -> Option<String> {
        let _g = BaseGuard::set(base.and_then(parse_base));
        f()
    }

    #[test]
    fn relative_urls_resolve_against_the_base() {
        let base = Some("https://news.example.com/a/b/page.html");
        let cases = [
            ("x.jpg", "https://news.example.com/a/b/x.jpg"),
            ("../x.jpg", "https://news.example.com/a/x.jpg"),
            ("/x.jpg", "https://news.example.com/x.jpg"),
            ("//cdn.example.net/x.jpg", "https://cdn.example.net/x.jpg"),
            ("?p=2", "https://news.example.com/a/b/page.html?p=2"),
        ];
        for (rel, want) in cases {
            let got = with_base(base, || absolute_url(rel, IMAGE_SCHEMES));
            assert_eq!(got.as_deref(), Some(want), "{rel}");
        }
    }

    #[test]
    fn without_a_base_only_protocol_relative_survives() {
        assert_eq!(
            with_base(None, || absolute_url(
                "//cdn.example.net/x.jpg",
                IMAGE_SCHEMES
            ))
            .as_deref(),
            Some("http://cdn.example.net/x.jpg")
        );
        assert_eq!(
            with_base(None, || absolute_url("x.jpg", IMAGE_SCHEMES)),
            None
        );
        assert_eq!(
            with_base(None, || absolute_url("/x.jpg", LINK_SCHEMES)),
            None
        );
    }

    #[test]
    fn non_http_bases_are_ignored() {
        for base in [
            "javascript:alert(1)//",
            "data:text/html,x",
            "file:///etc/",
            "relative/",
        ] {
            assert!(parse_base(base).is_none(), "{base}");
        }
    }

    #[test]
    fn bad_schemes_are_refused_even_after_resolution() {
        let base = Some("https://news.example.com/");
        for v in [
            "javascript:alert(1)",
            " JAVASCRIPT:x",
            "vbscript:x",
            "data:image/png;base64,AA",
            "file:///x",
        ] {
            assert_eq!(
                with_base(base, || absolute_url(v, LINK_SCHEMES)),
                None,
                "{v}"
            );
        }
        assert_eq!(
            with_base(base, || absolute_url("mailto:a@b.example", IMAGE_SCHEMES)),
            None
        );
        assert!(with_base(base, || absolute_url("mailto:a@b.example", LINK_SCHEMES)).is_some());
    }

    #[test]
    fn numbers_are_digits_only() {
        assert_eq!(number(" 780 "), Some("780"));
        for v in ["", "100%", "12px", "1e3", "-1", "123456", "1 onerror=x"] {
            assert_eq!(number(v), None, "{v}");
        }
    }
}
