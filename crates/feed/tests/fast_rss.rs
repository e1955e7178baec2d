//! The fast RSS 2.0 route against the feed-rs route: whenever the fast route accepts a
//! document, the whole `ParsedFeed` must equal feed-rs's. Documents come from the grammar the
//! fast route accepts, and from damaged variants with foreign pieces spliced in.

mod common;

use common::{
    assert_declines, check, container, element, pick, print_route_timing, run_route, spliced,
    Outcome,
};
use proptest::prelude::*;
use tidings_feed::parse_fast_rss;

fn rss(doc: &[u8]) -> Outcome {
    check(parse_fast_rss, doc)
}

// ---------------------------------------------------------------------------------------------
// The grammar.

/// Character data for text elements: entities, CDATA, CJK, markup as text, comments.
fn text() -> impl Strategy<Value = String> + Clone {
    let piece = pick(&[
        "Hello",
        "河边的柳树发芽了",
        "致命武器",
        " ",
        "  ",
        "\n",
        "\t",
        "\r\n",
        "\u{3000}",
        "&amp;",
        "&lt;b&gt;bold&lt;/b&gt;",
        "&quot;quoted&quot;",
        "&apos;",
        "&#20013;",
        "&#x4E2D;",
        "&#x1F600;",
        "&#65;",
        "&nbsp;",
        "&mdash;",
        "&copy;",
        "&unknownentity;",
        "A & B",
        "1 < 2",
        "x > y",
        "]]>",
        "<![CDATA[<p>段落 & <b>粗体</b></p>]]>",
        "<![CDATA[]]>",
        "<![CDATA[  ]]>",
        "<![CDATA[<img src=\"/img/a.jpg\">]]>",
        "<!-- a comment -->",
        "Tom's \"double\"",
        "(Name)",
        "desk@example.cn",
        "%20",
    ]);
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn link_text() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "https://news.example.cn/a/1001",
        "http://news.example.cn/a/1002?x=1&amp;y=2",
        "/a/1003",
        "a/1004",
        "  https://news.example.cn/a/1005  ",
        "",
        " ",
        "javascript:alert(1)",
        "http://[bad",
        "//cdn.example.cn/x",
        "mailto:desk@example.cn",
        "HTTPS://NEWS.EXAMPLE.CN/A/../B",
        "https://例子.测试/路径",
        "https://news.example.cn/a b",
        "<![CDATA[https://news.example.cn/c]]>",
        "?q=1",
        "#frag",
    ])
}

fn date() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "Thu, 28 Oct 2021 14:08:07 CST",
        "Thu, 28 Oct 2021 14:08:07 +0800",
        "Mon, 01 Jan 2024 00:00:00 GMT",
        "2021-10-28 14:08:07",
        "2021-10-28T14:08:07.5+08:00",
        "1969-12-31T23:59:59.5Z",
        "1635401287",
        "1635401287123",
        "2021年10月28日",
        "2021/10/28",
        "  2024-02-29T12:00:00Z  ",
        "garbage",
        "",
        "Fri, 31 Feb 2020 10:00:00 GMT",
        "9999-12-31T23:59:59Z",
    ])
}

fn author_text() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "desk@example.cn (编辑部)",
        "Li Lei",
        "编辑部",
        "desk@example.cn",
        "(Name) x@example.org",
        "mailto:z@example.io",
        "<a@example.com>",
        "  spaced name  ",
        "",
        "&lt;b&gt;",
    ])
}

fn media_url() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "https://img.example.cn/lead.jpg",
        "https://img.example.cn/video.mp4",
        "http://img.example.cn/cover.webp?x=1&amp;y=2",
        "/relative/pic.png",
        "ftp://img.example.cn/a.gif",
        "https://img.example.cn/download",
        "",
    ])
}

fn media_type() -> impl Strategy<Value = Option<String>> + Clone {
    proptest::option::of(pick(&[
        "image/jpeg",
        "IMAGE/PNG",
        "video/mp4",
        "application/octet-stream",
        "image/svg+xml",
    ]))
}

fn media_element(name: &'static str) -> impl Strategy<Value = String> + Clone {
    (media_url(), media_type(), any::<bool>()).prop_map(move |(url, kind, empty)| {
        let kind = kind.map(|k| format!(" type=\"{k}\"")).unwrap_or_default();
        let attrs = format!(" url=\"{url}\"{kind} length=\"12\"");
        if empty {
            format!("<{name}{attrs}/>")
        } else {
            format!("<{name}{attrs}></{name}>")
        }
    })
}

/// One child of an item.
fn item_child() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => text().prop_map(|t| element("title", "", &t)),
        3 => link_text().prop_map(|t| element("link", "", &t)),
        2 => (text(), pick(&["", " isPermaLink=\"false\"", " isPermaLink=\"true\""]))
            .prop_map(|(t, a)| element("guid", &a, &t)),
        1 => link_text().prop_map(|t| element("guid", "", &t)),
        2 => date().prop_map(|d| element("pubDate", "", &d)),
        1 => date().prop_map(|d| element("dc:date", "", &d)),
        3 => text().prop_map(|t| element("description", "", &t)),
        2 => text().prop_map(|t| element("content:encoded", "", &t)),
        1 => author_text().prop_map(|t| element("author", "", &t)),
        1 => author_text().prop_map(|t| element("dc:creator", "", &t)),
        1 => text().prop_map(|t| element("category", " domain=\"x\"", &t)),
        1 => link_text().prop_map(|t| element("comments", "", &t)),
        1 => media_element("enclosure"),
        1 => media_element("media:content"),
        1 => media_url().prop_map(|u| format!("<media:thumbnail url=\"{u}\"/>")),
        1 => Just("<title/>".to_string()),
        1 => Just("<link/>".to_string()),
        1 => Just("\n  <!-- between -->\n".to_string()),
    ]
}

fn item() -> impl Strategy<Value = String> + Clone {
    container("item", item_child())
}

/// One child of the channel other than items.
fn channel_child() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => text().prop_map(|t| element("title", "", &t)),
        3 => link_text().prop_map(|t| element("link", "", &t)),
        2 => text().prop_map(|t| element("description", "", &t)),
        1 => Just("<language>zh-cn</language>".to_string()),
        1 => Just("<generator uri=\"https://gen.example\">RSSHub</generator>".to_string()),
        1 => Just("<ttl>5</ttl>".to_string()),
        1 => date().prop_map(|d| element("lastBuildDate", "", &d)),
        1 => date().prop_map(|d| element("pubDate", "", &d)),
        1 => author_text().prop_map(|t| element("webMaster", "", &t)),
        1 => Just("<copyright>© 2024 &amp; co</copyright>".to_string()),
        1 => Just("<category domain=\"d\">新闻</category>".to_string()),
        1 => Just(
            "<image><url>https://img.example.cn/logo.png</url><title>Logo</title>\
             <link>https://news.example.cn/</link><width>88</width></image>"
                .to_string()
        ),
        1 => link_text().prop_map(|h| format!("<atom:link href=\"{h}\" rel=\"self\" type=\"application/rss+xml\"/>")),
        1 => link_text().prop_map(|h| format!("<atom:link href=\"{h}\"/>")),
        1 => link_text().prop_map(|h| format!("<atom:link href=\"{h}\" rel=\"hub\"/>")),
        1 => Just("<sy:updatePeriod>hourly</sy:updatePeriod>".to_string()),
    ]
}

const NAMESPACES: &str = " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
    xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:media=\"http://search.yahoo.com/mrss/\" \
    xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\"";

/// A whole document of the accepted grammar.
fn document() -> impl Strategy<Value = String> {
    let head = proptest::collection::vec(channel_child(), 0..5);
    let items = proptest::collection::vec(item(), 0..5);
    let tail = proptest::collection::vec(channel_child(), 0..3);
    let prolog = pick(&[
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<?xml version=\"1.0\"?>",
        "",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- generated -->\n<?xml-stylesheet href=\"s.xsl\"?>\n",
    ]);
    let version = pick(&[" version=\"2.0\"", "", " version=''"]);
    (prolog, version, head, items, tail).prop_map(|(prolog, version, head, items, tail)| {
        format!(
            "{prolog}<rss{version}{NAMESPACES}>\n<channel>\n{}{}{}</channel>\n</rss>\n",
            head.concat(),
            items.concat(),
            tail.concat()
        )
    })
}

/// Foreign pieces spliced into valid documents.
fn damage() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "<foo>x</foo>",
        "<foo/>",
        " bar=\"1\"",
        " xml:base=\"http://base.example/dir/\"",
        "<x:y xmlns:x=\"urn:x\"/>",
        "<!-- c -->",
        "<?pi x?>",
        "<?xml version=\"1.0\" encoding=\"gbk\"?>",
        "stray text",
        "<b>",
        "</b>",
        "<b>bold</b>",
        "<![CDATA[z]]>",
        "&amp;",
        "&#0;",
        "&#xD800;",
        "&#X41;",
        "&bad",
        "<!DOCTYPE rss>",
        " xmlns=\"http://purl.org/rss/1.0/\"",
        " xmlns:dc=\"http://example.com/not-dc/\"",
        "<media:group><media:content url=\"https://i.example/g.jpg\"/></media:group>",
        "<media:title>t</media:title>",
        "<itunes:author>x</itunes:author>",
        "<title>dup</title>",
        "<link>/dup</link>",
        "<guid>dup</guid>",
        "<description>dup</description>",
        "\u{0}",
        "\u{1}",
        "<atom:link href=\"/z\"/>",
        "<dc:date>2020-01-01</dc:date>",
        "<updated>2020-01-01</updated>",
        "<item><title>nested</title></item>",
        "</item>",
        "</channel>",
        "<channel>",
        "<undeclared:thing/>",
        "<media:thumbnail url=\"https://i.example/t.jpg\" time=\"12\"/>",
        "'",
        "\"",
        ">",
        "/>",
        "<",
        "]]>",
        "<!--",
        "-->",
        "<!---->",
        "<enclosure url=\"https://i.example/a.jpg\" type=\"\"/>",
        "<enclosure url=\"https://i.example/a\" type=\"image/jpeg; q=1\"/>",
        "<media:content url=\"https://i.example/b.png\" type=\" image/gif\"/>",
        "<author>编辑——a@example.cn</author>",
        "<dc:creator>a@example.cn——编辑</dc:creator>",
        "<webMaster>编辑——a@example.cn</webMaster>",
    ])
}

/// A valid document with foreign pieces inserted at arbitrary places.
fn damaged_document() -> impl Strategy<Value = String> {
    spliced(document(), damage())
}

common::differential_tests! {
    route: parse_fast_rss,
    label: "RSS",
    documents: document(),
    damaged: damaged_document(),
    same: fast_route_equals_feed_rs,
    same_when_damaged: fast_route_equals_feed_rs_on_damaged_documents,
}

/// The benchmark corpus's RSS shape (crates/bench `fn rss`), with our own text.
fn bench_shaped(items: usize, paragraphs: usize, encoding: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<rss version=\"2.0\"><channel>\
         <title>测试频道 7</title><link>http://www.news.example/channel/7</link>\
         <description>自编的测试语料</description>\n"
    );
    for i in 0..items {
        let html: String = (0..paragraphs)
            .map(|p| {
                format!(
                    "<p>第{p}段：清晨的渡口起了薄雾，船工们把缆绳一圈圈收好，\
                     等着第一班客人。<img src=\"/img/{i}_{p}.jpg\" data-original=\"/big/{i}_{p}.jpg\"></p>"
                )
            })
            .collect();
        out.push_str(&format!(
            "<item><title><![CDATA[渡口晨雾 第{i}篇 & 小记]]></title>\
             <link>http://www.news.example/article/{i}</link>\
             <guid isPermaLink=\"false\">news-{i}</guid>\
             <pubDate>Thu, 28 Oct 2021 14:{:02}:07 +0800</pubDate>\
             <description><![CDATA[{html}]]></description></item>\n",
            i % 60
        ));
    }
    out.push_str("</channel></rss>\n");
    out
}

#[test]
fn bench_shape_takes_the_fast_route() {
    let doc = bench_shaped(20, 8, "UTF-8");
    assert_eq!(rss(doc.as_bytes()), Outcome::Same);
    let feed = run_route(parse_fast_rss, doc.as_bytes()).expect("fast route");
    assert_eq!(feed.entries.len(), 20);
    assert_eq!(feed.title.as_deref(), Some("测试频道 7"));
    assert_eq!(feed.entries[3].title, "渡口晨雾 第3篇 & 小记");
    assert_eq!(feed.entries[3].guid.as_deref(), Some("news-3"));
    assert!(feed.entries[3].content.starts_with("<p>第0段"));
    assert!(feed.entries[3].published.is_some());

    // The GBK variant: decoded, prolog rewritten, then the same route.
    let gbk_text = bench_shaped(5, 2, "GBK");
    let (gbk, _, _) = encoding_rs::GBK.encode(&gbk_text);
    assert_eq!(rss(&gbk), Outcome::Same);
    let from_gbk = run_route(parse_fast_rss, &gbk).expect("fast route for GBK");
    assert_eq!(from_gbk.entries[1].title, "渡口晨雾 第1篇 & 小记");
}

#[test]
fn rss2_fixture_takes_the_fast_route() {
    let path = format!("{}/tests/fixtures/rss2.xml", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(rss(&doc), Outcome::Same);
}

/// Documents the fast route must leave to feed-rs (each differs from feed-rs in some way
/// the fast route does not model).
#[test]
fn declines_what_it_does_not_model() {
    let wrap = |items: &str| {
        format!(
            "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
             xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>T</title>{items}</channel></rss>"
        )
    };
    let cases = [
        wrap("<item xml:base=\"http://b.example/\"><link>x</link></item>"),
        wrap("<item><title>a<b>b</b></title></item>"),
        wrap("<item><source url=\"http://s/\">s</source></item>"),
        wrap("<item><media:group><media:content url=\"http://i/a.jpg\"/></media:group></item>"),
        wrap("<item><author>编辑——a@example.cn</author></item>"),
        wrap("<item><enclosure url=\"http://i/a\" type=\"image/jpeg; q=1\"/></item>"),
        wrap("<item><x:y/></item>"),
        wrap("<item><title>&#X41;</title></item>"),
        "<!DOCTYPE rss><rss version=\"2.0\"><channel/></rss>".to_string(),
        "<rss version=\"2.0\" xmlns=\"http://purl.org/rss/1.0/\"><channel></channel></rss>"
            .to_string(),
        "<rss version=\"0.91\"><channel></channel></rss>".to_string(),
        "<rss version=\"2.0\"><junk/><channel></channel></rss>".to_string(),
        "<?xml version=\"1.0\"?><?xml version=\"1.0\" encoding=\"gbk\"?><rss version=\"2.0\"><channel></channel></rss>".to_string(),
        // feed-rs's reader fetches one event past `</channel>`; this declaration panics it.
        "<rss version=\"2.0\"><channel></channel>\n<!-- c --><?xml version=\"1.0\" encoding=\"gbk\"?></rss>".to_string(),
    ];
    // Feed or error from `parse` are both fine here: it must only not panic.
    assert_declines(parse_fast_rss, &cases);
}

/// Timing of both routes on a bench-shaped document (printed, never asserted):
/// `cargo test --release -p tidings-feed --test fast_rss route_timing -- --ignored --nocapture`
#[test]
#[ignore]
fn route_timing() {
    // 20 items of ~10 KB of Chinese HTML each.
    print_route_timing("RSS", parse_fast_rss, &bench_shaped(20, 55, "UTF-8"), 300);
}
