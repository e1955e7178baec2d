//! The one-pass cleaner against the three steps: whenever it answers, its bytes and image list
//! must be theirs. Generated articles are built from the shapes it accepts, with hostile values
//! and stray pieces of tag soup mixed in, so that both its answers and its refusals are tried.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use crate::{fast, try_clean_in_steps};

const BASE: Option<&str> = Some("https://news.example.com/a/b.html");

/// How the one-pass cleaner disagrees with the steps on `html`; refusing is never a disagreement.
fn differs(html: &str, base: Option<&str>) -> Option<String> {
    let one_pass = fast::clean(html, base)?;
    let steps = try_clean_in_steps(html, base).expect("steps never fail on these inputs");
    (one_pass != steps).then(|| {
        format!(
            "input {html:?}\none pass {:?} {:?}\n   steps {:?} {:?}",
            one_pass.html, one_pass.images, steps.html, steps.images
        )
    })
}

fn accepted_and_same(html: &str) {
    assert!(fast::clean(html, BASE).is_some(), "refused: {html:?}");
    if let Some(why) = differs(html, BASE) {
        panic!("{why}");
    }
}

#[test]
fn a_typical_article_takes_one_pass_with_the_same_result() {
    let article = concat!(
        "<div class=\"article_content\" style=\"font-size:16px\">\n",
        "<p>清晨的渡口&nbsp;雾还没有散，<strong>第一班船</strong>已经靠岸。</p>\n",
        "<p style=\"text-align:center\"><img class=\"lazy\" src=\"https://news.example.com/static/blank.gif\" ",
        "data-original=\"/img/2026/11/ferry.jpg?w=640&amp;q=80\" data-width=\"640\" data-height=\"427\" alt=\"渡口\"></p>\n",
        "<p>船工说：&ldquo;今年的水比往年大。&rdquo;<a href=\"../tag/ferry\" target=\"_blank\">更多</a></p>\n",
        "<p><span style=\"color:#999\"></span>The river&rsquo;s level &gt; last year&#8217;s &amp; rising.<br/></p>\n",
        "<ul><li>一</li><li>二<ul><li>二点一</li></ul></li></ul><h2 id=\"x\">小结</h2><hr>\n",
        "<div> </div><p><img src=\"https://cdn.example.net/a.png\" srcset=\"x 2x\" width=\"100%\"></p>",
        "</div>"
    );
    accepted_and_same(article);
    let out = fast::clean(article, BASE).expect("accepted");
    assert_eq!(
        out.images,
        [
            "https://news.example.com/img/2026/11/ferry.jpg?w=640&q=80",
            "https://cdn.example.net/a.png"
        ]
    );
    assert!(!out.html.contains("<span"), "empty span kept: {}", out.html);
    assert!(!out.html.contains("<div> </div>"), "{}", out.html);
}

#[test]
fn named_and_numeric_references_match_the_parser() {
    let names = [
        "amp", "lt", "gt", "quot", "apos", "nbsp", "ldquo", "rdquo", "lsquo", "rsquo", "mdash",
        "ndash", "hellip", "middot", "bull", "copy", "reg", "trade", "times", "divide", "deg",
        "yen", "laquo", "raquo", "emsp", "ensp", "thinsp", "zwj",
    ];
    for name in names {
        accepted_and_same(&format!("<p title=\"a&{name};b\">x&{name};y</p>"));
    }
    for code in [
        "32", "60", "38", "x3c", "X22", "160", "8220", "x1F600", "65533", "x10FFFD",
    ] {
        accepted_and_same(&format!("<p title=\"&#{code};\">&#{code};</p>"));
    }
    accepted_and_same("<p>AT &amp; T; a & b; a &= b; 5&#62;3</p><a href=\"?a=1&amp;b=2\">l</a>");
}

#[test]
fn shapes_the_parser_would_rebuild_are_refused() {
    for html in [
        "<p>a<div>b</div></p>",
        "<p>a<p>b</p></p>",
        "<p>a<ul><li>b</li></ul></p>",
        "<a href=\"x\">a<a href=\"y\">b</a></a>",
        "<b><i>x</b></i>",
        "<p>unclosed",
        "</p>",
        "<li>a<li>b</li></li>",
        "<h1>a<h2>b</h2></h1>",
        "<p/>",
        "<br></br>",
        "<table><tr><td>x</td></tr></table>",
        "<pre>\nx</pre>",
        "<font>x</font>",
        "<section>x</section>",
        "<!-- note --><p>x</p>",
        "<p>a < b</p>",
        "<p>&copy2026;</p>",
        "<p>&unknown;</p>",
        "<p>&#0;</p>",
        "<p>&#x80;</p>",
        "<p>&#xD800;</p>",
        "<p>&#13;</p>",
        "<p>&amp</p>",
        "<p>line\r\nbreak</p>",
        "<p>nul\0</p>",
        "<p class=\"a\"class=\"b\">x</p>",
        "<p class=a class=b>x</p>",
        "<p CLASS=a class=b>x</p>",
        "<p class=a\"b>x</p>",
        "<img src=x =y>",
        "<p:x>y</p:x>",
        "<image src=\"http://a.example/x.jpg\">",
        "<p>x</p ",
        "<p",
    ] {
        assert!(fast::clean(html, BASE).is_none(), "accepted: {html:?}");
    }
}

#[test]
fn hostile_values_in_accepted_shapes_meet_the_sanitizer() {
    for html in [
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\" JAVASCRIPT:alert(1)\">x</a>",
        "<a href=\"jav&#x61;script:x\">x</a>",
        "<a href=\"&#106;avascript:x\">x</a>",
        "<a href=\"data:text/html,x\">x</a>",
        "<a href=\"vbscript:x\">x</a>",
        "<a href=\"mailto:a@b.example\">x</a>",
        "<a href=\"//evil.example/x\">x</a>",
        "<a href=\"http://[::1]/x\">x</a>",
        "<img src=\"javascript:alert(1)\">",
        "<img src=\"data:image/png;base64,AAAA\">",
        "<img data-src=\"javascript:x\" src=\"http://a.example/real.jpg\">",
        "<img data-original=\"http://a.example/1x1.gif\" src=\"http://a.example/real.jpg\">",
        "<img srcset=\"http://a.example/s.jpg 2x, http://a.example/t.jpg 3x\">",
        "<img src=\"http://a.example/x.jpg\" onerror=\"alert(1)\" style=\"x\">",
        "<img src=\"http://a.example/x.jpg\" width=\"12px\" height=\"123456\">",
        "<img src=\"http://a.example/x.jpg\" data-width=\"640\" width=\"1\">",
        "<img src=\"http://a.example/x.jpg\" alt=\"&quot;><script>x</script>\">",
        "<p title='\"><svg onload=x>'>x</p>",
        "<ol start=\"3\" reversed><li>x</li></ol>",
        "<ol start=\"x\"><li>x</li></ol>",
        "<span onclick=\"x\">a</span><div id=\"d\" lang=\"zh\">b</div>",
    ] {
        accepted_and_same(html);
    }
}

// ---- generated articles ----

#[rustfmt::skip]
const INLINE: &[&str] = &["span", "a", "b", "strong", "em", "i", "u", "s", "small", "code", "sub", "sup"];
const BLOCK: &[&str] = &["div", "blockquote", "figure", "figcaption"];

#[rustfmt::skip]
const ATTRS: &[&str] = &[
    "href", "src", "data-src", "data-original", "srcset", "data-width", "data-height", "width",
    "height", "alt", "title", "class", "lang", "style", "id", "onclick", "target", "start", "rel",
];

#[rustfmt::skip]
const VALUES: &[&str] = &[
    "http://i.example/a.jpg", "https://i.example/b.png?x=1&amp;y=2", "//cdn.example/c.jpg",
    "../rel/d.jpg", "/abs/e.jpg", "f.jpg", "#frag", "javascript:alert(1)", " JavaScript:x",
    "jav&#x09;ascript:x", "&#106;avascript:x", "data:image/gif;base64,R0lGOD", "about:blank",
    "spacer.gif", "mailto:x@example.com", "640", " 480 ", "52x", "100%", "", "a b", "\u{a0}",
    "&lt;b&gt;", "&quot;>x", "1x1.gif", "http://i.example/loading.gif", "&amp;", "a&b", "&nbsp;",
    "&ldquo;引&rdquo;", "http://i.example/%E5%9B%BE.jpg", "http://例子.example/图.jpg",
    "http://[::1]:8/x", "http://127.0.0.1/x", "https://u:p@i.example/x", "  ", "&#x41;&#66;",
];

#[rustfmt::skip]
const TEXT: &[&str] = &[
    "新闻", "text", " ", "\n", "&amp;", "&lt;script&gt;", ">", "&", "\"", "'", "\u{a0}", "·",
    "&nbsp;", "&hellip;", "&#8212;", "&#x3c;", "©", "\u{2028}", "é", "=", "/", "]]>", "  \n ",
];

/// Pieces of tag soup from outside the accepted shapes, mixed in to exercise refusals.
#[rustfmt::skip]
const STRAY: &[&str] = &[
    "<p>", "</p>", "<div>", "</div>", "</a>", "<a href=x>", "<li>", "</li>", "<table>", "<td>",
    "<script>x</script>", "<!--x-->", "<br/>", "</br>", "<img>", "<h1>", "</span>", "<", "&",
    "&copy", "<svg><p>", "<noscript><img src=/a.jpg></noscript>", "<font>", "<pre>", "\r", "\0",
    "<p/>", "<b", "=\"", "<ul>", "<hr>", "&#0;", "<image src=x>", "<math>",
];

fn attribute() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ATTRS),
        prop::sample::select(VALUES),
        0..5u8,
    )
        .prop_map(|(name, value, quoting)| match quoting {
            0 | 1 => format!(" {name}=\"{}\"", value.replace('"', "&quot;")),
            2 => format!(" {name}='{}'", value.replace('\'', "&#39;")),
            3 if !value.trim().is_empty() => {
                format!(" {name}={}", value.replace([' ', '"', '\''], ""))
            }
            _ => format!(" {name}"),
        })
}

fn attributes() -> impl Strategy<Value = String> {
    prop::collection::vec(attribute(), 0..4).prop_map(|attrs| {
        // Duplicates are refused; keep the first of each name so most tags are accepted.
        let mut seen = Vec::new();
        attrs
            .into_iter()
            .filter(|a| {
                let name = a
                    .trim_start()
                    .split(['=', ' '])
                    .next()
                    .unwrap_or("")
                    .to_string();
                let new = !seen.contains(&name);
                seen.push(name);
                new
            })
            .collect()
    })
}

fn void() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["img", "img", "br", "hr"][..]),
        attributes(),
        any::<bool>(),
    )
        .prop_map(|(tag, attrs, slash)| format!("<{tag}{attrs}{}>", if slash { "/" } else { "" }))
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TEXT), 1..4).prop_map(|t| t.concat())
}

/// Inline content: text, voids, inline elements (no link inside a link).
fn inline() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![3 => text(), 1 => void().prop_filter("no hr in phrasing", |v| !v.starts_with("<hr"))];
    leaf.prop_recursive(3, 16, 4, |inner| {
        (
            prop::sample::select(INLINE),
            attributes(),
            prop::collection::vec(inner, 0..4),
        )
            .prop_filter("no nested links", |(tag, _, kids)| {
                *tag != "a" || !kids.iter().any(|k| k.contains("<a"))
            })
            .prop_map(|(tag, attrs, kids)| format!("<{tag}{attrs}>{}</{tag}>", kids.concat()))
    })
}

/// Block content: paragraphs of inline content, lists, nested blocks.
fn block() -> impl Strategy<Value = String> {
    let para = (attributes(), prop::collection::vec(inline(), 0..5))
        .prop_map(|(attrs, kids)| format!("<p{attrs}>{}</p>\n", kids.concat()));
    let heading = (
        prop::sample::select(&["h2", "h3"][..]),
        prop::collection::vec(inline(), 0..3),
    )
        .prop_map(|(tag, kids)| format!("<{tag}>{}</{tag}>", kids.concat()));
    let leaf = prop_oneof![4 => para, 1 => heading, 1 => inline(), 1 => void()];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            (
                prop::sample::select(BLOCK).prop_filter("p holds no blocks", |t| *t != "p"),
                attributes(),
                prop::collection::vec(inner.clone(), 0..4),
            )
                .prop_map(|(tag, attrs, kids)| format!("<{tag}{attrs}>{}</{tag}>", kids.concat())),
            (
                prop::sample::select(&["ul", "ol"][..]),
                attributes(),
                prop::collection::vec(inner, 1..4),
            )
                .prop_map(|(tag, attrs, items)| {
                    let items: String = items.iter().map(|i| format!("<li>{i}</li>")).collect();
                    format!("<{tag}{attrs}>{items}</{tag}>")
                }),
        ]
    })
}

fn article() -> impl Strategy<Value = String> {
    prop::collection::vec(block(), 1..6).prop_map(|blocks| blocks.concat())
}

/// An article with one stray piece put somewhere, maybe inside a tag.
fn damaged_article() -> impl Strategy<Value = String> {
    (
        article(),
        prop::sample::select(STRAY),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(html, stray, at)| {
            let boundaries: Vec<usize> = html
                .char_indices()
                .map(|(i, _)| i)
                .chain([html.len()])
                .collect();
            let at = boundaries[at.index(boundaries.len())];
            format!("{}{stray}{}", &html[..at], &html[at..])
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(super::cases(400)))]

    #[test]
    fn generated_articles_get_the_bytes_of_the_steps(html in article(), with_base in any::<bool>()) {
        if let Some(why) = differs(&html, with_base.then_some(BASE.unwrap_or_default())) {
            prop_assert!(false, "{why}");
        }
    }

    #[test]
    fn damaged_articles_get_the_bytes_of_the_steps_or_a_refusal(html in damaged_article(), with_base in any::<bool>()) {
        if let Some(why) = differs(&html, with_base.then_some(BASE.unwrap_or_default())) {
            prop_assert!(false, "{why}");
        }
    }
}

/// The differential tests above only mean something if many generated articles are accepted
/// (each has dozens of chances to hold something refused: a raw `&name`, a stray `<`, …).
#[test]
fn most_generated_articles_are_accepted() {
    let mut runner = TestRunner::deterministic();
    let strategy = article();
    let total = 300;
    let accepted = (0..total)
        .filter(|_| {
            let html = strategy
                .new_tree(&mut runner)
                .expect("strategy generates")
                .current();
            fast::clean(&html, BASE).is_some()
        })
        .count();
    assert!(accepted * 3 > total, "only {accepted} of {total} accepted");
}
