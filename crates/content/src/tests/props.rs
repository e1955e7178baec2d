//! Generated tag soup from a vocabulary of dangerous pieces: the output must satisfy the same
//! invariants as the hand-written corpus, including idempotence.

use proptest::prelude::*;

use super::{listed_images, route_differs, scan_differs, violation};
use crate::clean;

#[rustfmt::skip]
const TAGS: &[&str] = &[
    "p", "div", "span", "a", "img", "b", "i", "em", "strong", "font", "table", "tr", "td", "th",
    "tbody", "caption", "li", "ul", "ol", "dd", "dt", "dl", "h1", "h2", "pre", "listing", "nav",
    "center", "button", "form", "select", "option", "textarea", "script", "style", "svg", "math",
    "mtext", "mglyph", "noscript", "template", "iframe", "object", "embed", "xmp", "title",
    "base", "meta", "video", "source", "picture", "figure", "ruby", "rt", "nobr", "marquee",
    "foreignobject", "desc", "annotation-xml", "frameset", "plaintext", "image", "br", "hr",
    "blockquote", "section", "details", "summary", "q", "code", "s", "u", "small",
    "h3", "dir", "menu", "main", "address", "rp", "rb", "colgroup", "col", "input", "label",
    "map", "area", "big", "tt", "strike", "wbr", "body", "html", "head", "frame", "applet",
    "legend", "fieldset", "hgroup", "search", "mi", "thead", "tfoot", "optgroup", "a",
];

#[rustfmt::skip]
const ATTRS: &[&str] = &[
    "href", "src", "data-src", "data-original", "data-lazy-src", "srcset", "data-width",
    "data-height", "width", "height", "onclick", "onerror", "onload", "style", "class", "id",
    "name", "title", "alt", "action", "formaction", "poster", "xlink:href", "colspan", "encoding",
    "rel", "target", "background", "lang",
];

#[rustfmt::skip]
const VALUES: &[&str] = &[
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:x", "jav&#x09;ascript:x",
    "&#106;avascript:x", "vbscript:x", "data:text/html,<script>x</script>",
    "data:image/gif;base64,R0lGOD", "http://i.example/a.jpg",
    "https://i.example/b.png?x=1&amp;y=2", "//cdn.example/c.jpg", "../rel/d.jpg", "/abs/e.jpg",
    "f.jpg", "#frag", "about:blank", "spacer.gif", "mailto:x@example.com", "780", "52x",
    "expression(alert(1))", "url(x)", "text/html", "\"><script>x</script>",
    "</noscript><img src=x onerror=y>", "", "a b", "https://placeholder", "\u{a0}", "&lt;b&gt;",
    "1x1.gif",
];

#[rustfmt::skip]
const TEXT: &[&str] = &[
    "新闻", "text", " ", "\n", "&amp;", "&lt;script&gt;", "<", ">", "&", "\"", "'", "]]>", "<!--",
    "-->", "<![CDATA[", "</", "/>", "=", "\u{0}", "\r\n", "&#0;", "\u{2028}",
];

fn attribute() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ATTRS),
        prop::sample::select(VALUES),
        0..4u8,
    )
        .prop_map(|(name, value, quoting)| match quoting {
            0 => format!(" {name}=\"{value}\""),
            1 => format!(" {name}='{value}'"),
            2 => format!(" {name}={}", value.replace(' ', "")),
            _ => format!(" {name}"),
        })
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        (
            prop::sample::select(TAGS),
            prop::collection::vec(attribute(), 0..4),
            any::<bool>()
        )
            .prop_map(|(tag, attrs, upper)| {
                let tag = if upper {
                    tag.to_ascii_uppercase()
                } else {
                    tag.to_string()
                };
                format!("<{tag}{}>", attrs.concat())
            }),
        prop::sample::select(TAGS).prop_map(|tag| format!("</{tag}>")),
        prop::sample::select(TEXT).prop_map(str::to_string),
    ]
}

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(piece(), 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    // PROPTEST_CASES raises the count for a longer hunt.
    #![proptest_config(ProptestConfig::with_cases(super::cases(600)))]

    #[test]
    fn generated_soup_comes_out_safe_and_stable(html in soup(), with_base in any::<bool>()) {
        let base = with_base.then_some("https://news.example.com/a/b.html");
        let out = clean(&html, base);
        if let Some(why) = violation(&out.html, base) {
            prop_assert!(false, "input {html:?} → {:?}: {why}", out.html);
        }
        for url in &out.images {
            prop_assert!(url.starts_with("http://") || url.starts_with("https://"));
        }
        prop_assert_eq!(&out.images, &listed_images(&out.html));
    }

    #[test]
    fn post_pass_in_the_scan_matches_the_lol_html_post_pass(html in soup(), with_base in any::<bool>()) {
        let base = with_base.then_some("https://news.example.com/a/b.html");
        if let Some(why) = scan_differs(&html, base) {
            prop_assert!(false, "input {html:?}: {why}");
        }
    }

    #[test]
    fn routing_by_scan_matches_lol_html(html in soup(), with_base in any::<bool>()) {
        let base = with_base.then_some("https://news.example.com/a/b.html");
        let clean = clean(&html, base);
        if let Some(why) = route_differs(&clean.html, true) {
            prop_assert!(false, "input {html:?}: {why}");
        }
        // Tag soup that is not canonical is either read alike or left to lol_html.
        if let Some(why) = route_differs(&html, false) {
            prop_assert!(false, "raw input {html:?}: {why}");
        }
    }

    #[test]
    fn html_the_pre_pass_skips_is_html_it_would_not_change(html in soup()) {
        if crate::prepass::run_if_needed(&html).expect("pre-pass").is_none() {
            prop_assert_eq!(crate::prepass::run(&html).expect("pre-pass"), html);
        }
    }
}
