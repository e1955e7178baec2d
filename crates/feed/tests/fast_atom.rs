//! The fast Atom route against the feed-rs route: whenever the fast route accepts a document,
//! the whole `ParsedFeed` must equal feed-rs's. Documents come from the grammar the fast route
//! accepts, and from damaged variants with foreign pieces spliced in.

mod common;

use common::{
    assert_declines, check, container, element, pick, print_route_timing, run_route, spliced,
    Outcome,
};
use proptest::prelude::*;
use tidings_feed::parse_fast_atom;

fn atom(doc: &str) -> Outcome {
    check(parse_fast_atom, doc.as_bytes())
}

/// Character data: entities, CDATA, CJK, escaped markup, comments.
fn text() -> impl Strategy<Value = String> + Clone {
    let piece = pick(&[
        "Hello",
        "运河边的早市",
        " ",
        "\n  ",
        "\t",
        "\u{3000}",
        "&amp;",
        "&lt;p&gt;段落 &lt;img src=\"img/a.jpg\"&gt;&lt;/p&gt;",
        "&lt;b&gt;粗&lt;/b&gt;",
        "&quot;q&quot;",
        "&#20013;",
        "&#x1F600;",
        "&nbsp;",
        "&unknownentity;",
        "A & B",
        "1 < 2",
        "x > y",
        "<![CDATA[<p>原文 & <b>粗体</b></p>]]>",
        "<![CDATA[]]>",
        "<![CDATA[  ]]>",
        "<!-- a comment -->",
        "it's \"quoted\"",
        "desk@example.cn",
    ]);
    proptest::collection::vec(piece, 0..6).prop_map(|v| v.concat())
}

fn href() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "https://blog.example.cn/p/1",
        "http://blog.example.cn/p/2?a=1&amp;b=2",
        "/p/3",
        "p/4",
        "  https://blog.example.cn/p/5  ",
        "",
        "javascript:alert(1)",
        "http://[bad",
        "//cdn.example.cn/x",
        "HTTPS://BLOG.EXAMPLE.CN/A/../B",
        "https://例子.测试/路径",
        "https://img.example.cn/pic.png",
        "#frag",
    ])
}

fn date() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "2022-01-23T15:27:25Z",
        "2022-01-23T15:27:25.5+08:00",
        "2022-02-01",
        "2021-10-28 14:08:07",
        "Thu, 28 Oct 2021 14:08:07 CST",
        "1635401287",
        "  2024-02-29T12:00:00Z  ",
        "garbage",
        "",
        "1969-12-31T23:59:59.5Z",
    ])
}

fn type_attr() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "",
        " type=\"text\"",
        " type=\"html\"",
        " type=\"text/html\"",
    ])
}

fn person(tag: &'static str) -> impl Strategy<Value = String> + Clone {
    let child = prop_oneof![
        3 => pick(&["Wang  Fang", "编辑部", " spaced ", "", "a@example.cn (Li)", "&lt;b&gt;x"])
            .prop_map(|n| element("name", "", &n)),
        1 => pick(&["desk@example.cn", ""]).prop_map(|e| element("email", "", &e)),
        1 => href().prop_map(|u| element("uri", "", &u)),
        1 => Just("<name/>".to_string()),
        1 => Just("<x:role>lead</x:role>".to_string()),
    ];
    proptest::collection::vec(child, 0..4)
        .prop_map(move |children| element(tag, "", &children.concat()))
}

fn link() -> impl Strategy<Value = String> + Clone {
    let rel = pick(&[
        "",
        " rel=\"alternate\"",
        " rel=\"self\"",
        " rel=\"enclosure\"",
        " rel=\"related\"",
        " rel=\"replies\"",
        " rel=\"via\"",
        " rel=\"\"",
    ]);
    let kind = pick(&[
        "",
        " type=\"text/html\"",
        " type=\"image/png\"",
        " type=\"image\"",
    ]);
    (href(), rel, kind, any::<bool>()).prop_map(|(h, rel, kind, empty)| {
        let attrs = format!(" href=\"{h}\"{rel}{kind} length=\"9\"");
        if empty {
            format!("<link{attrs}/>")
        } else {
            format!("<link{attrs}></link>")
        }
    })
}

fn media_content() -> impl Strategy<Value = String> + Clone {
    let url = pick(&[
        "https://img.example.cn/lead.jpg",
        "https://img.example.cn/clip.mp4",
        "/rel/pic.png",
        "",
    ]);
    let kind = pick(&["", " type=\"image/jpeg\"", " type=\"video/mp4\""]);
    (url, kind).prop_map(|(u, k)| format!("<media:content url=\"{u}\"{k}/>"))
}

fn entry_child() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => (text(), type_attr()).prop_map(|(t, a)| element("title", &a, &t)),
        3 => text().prop_map(|t| element("id", "", &t)),
        3 => link(),
        2 => date().prop_map(|d| element("updated", "", &d)),
        2 => date().prop_map(|d| element("published", "", &d)),
        1 => date().prop_map(|d| element("pubDate", "", &d)),
        2 => person("author"),
        1 => person("contributor"),
        3 => (text(), type_attr()).prop_map(|(t, a)| element("content", &a, &t)),
        2 => (text(), type_attr()).prop_map(|(t, a)| element("summary", &a, &t)),
        1 => Just("<category term=\"新闻\" scheme=\"s\"/>".to_string()),
        1 => text().prop_map(|t| element("rights", "", &t)),
        1 => media_content(),
        1 => href().prop_map(|u| format!("<media:thumbnail url=\"{u}\"/>")),
        1 => text().prop_map(|t| element("x:note", " a=\"1\"", &t)),
        1 => text().prop_map(|t| element("atom:title", "", &t)),
        1 => Just("<title/>".to_string()),
        1 => Just("<content type=\"html\"></content>".to_string()),
        1 => Just("\n  <!-- between -->\n".to_string()),
    ]
}

fn entry() -> impl Strategy<Value = String> + Clone {
    container("entry", entry_child())
}

fn feed_child() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        3 => (text(), type_attr()).prop_map(|(t, a)| element("title", &a, &t)),
        3 => link(),
        1 => Just("<id>urn:example:feed</id>".to_string()),
        1 => date().prop_map(|d| element("updated", "", &d)),
        1 => (text(), type_attr()).prop_map(|(t, a)| element("subtitle", &a, &t)),
        1 => Just("<rights type=\"html\">&lt;b&gt;©&lt;/b&gt;</rights>".to_string()),
        1 => person("author"),
        1 => Just("<generator uri=\"https://gen.example\" version=\"1\">Gen</generator>".to_string()),
        1 => Just("<icon>/favicon.ico</icon><logo>https://img.example.cn/logo.png</logo>".to_string()),
        1 => Just("<category term=\"科技\"/>".to_string()),
        1 => Just("<x:meta><x:deep>1</x:deep></x:meta>".to_string()),
        1 => href().prop_map(|h| format!("<atom:link rel=\"hub\" href=\"{h}\"/>")),
    ]
}

const NAMESPACES: &str = " xmlns:media=\"http://search.yahoo.com/mrss/\" \
    xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:x=\"urn:example:x\" \
    xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\" \
    xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\"";

fn document() -> impl Strategy<Value = String> {
    let prolog = pick(&[
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<?xml version=\"1.0\"?>",
        "",
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- made by hand -->\n<?xml-stylesheet href=\"s.xsl\"?>\n",
    ]);
    let default_ns = pick(&[
        " xmlns=\"http://www.w3.org/2005/Atom\"",
        "",
        " xml:lang=\"zh-CN\" xmlns=\"http://www.w3.org/2005/Atom\"",
    ]);
    let head = proptest::collection::vec(feed_child(), 0..5);
    let entries = proptest::collection::vec(entry(), 0..5);
    let tail = proptest::collection::vec(feed_child(), 0..3);
    (prolog, default_ns, head, entries, tail).prop_map(|(prolog, ns, head, entries, tail)| {
        format!(
            "{prolog}<feed{ns}{NAMESPACES}>\n{}{}{}</feed>\n",
            head.concat(),
            entries.concat(),
            tail.concat()
        )
    })
}

fn damage() -> impl Strategy<Value = String> + Clone {
    pick(&[
        "<foo>x</foo>",
        "<foo/>",
        " bar=\"1\"",
        " xml:base=\"http://base.example/dir/\"",
        " type=\"xhtml\"",
        " type=\"image/png\"",
        " type=\"text/plain\"",
        " type=\"application/xml\"",
        " src=\"https://cdn.example/x\"",
        "<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>",
        "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\"><p>x</p></div></content>",
        "<content src=\"/c.html\" type=\"text/html\"/>",
        "<title type=\"bogus\">t</title>",
        "<subtitle type=\"bogus\">t</subtitle>",
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
        "&bad",
        "<!DOCTYPE feed>",
        " xmlns=\"http://purl.org/rss/1.0/\"",
        " xmlns:media=\"urn:not-media\"",
        "<media:group><media:content url=\"https://i.example/g.jpg\"/></media:group>",
        "<media:title>t</media:title>",
        "<media:thumbnail url=\"https://i.example/t.jpg\" time=\"12\"/>",
        "<itunes:author>x</itunes:author>",
        "<wfw:commentRss>https://c.example/rss</wfw:commentRss>",
        "<title>dup</title>",
        "<id>dup</id>",
        "<link href=\"/dup\"/>",
        "<author>plain text author</author>",
        "<author><name>编辑——a@example.cn</name></author>",
        "<author><x:name>prefixed</x:name></author>",
        "<entry><title>nested</title></entry>",
        "</entry>",
        "</feed>",
        "<undeclared:thing/>",
        "\u{0}",
        "'",
        "\"",
        ">",
        "/>",
        "<",
        "]]>",
        "<!--",
        "<!---->",
        "<updated>2020-01-01</updated>",
        "<published></published>",
        "<content>   </content>",
        "<summary/>",
    ])
}

fn damaged_document() -> impl Strategy<Value = String> {
    spliced(document(), damage())
}

common::differential_tests! {
    route: parse_fast_atom,
    label: "Atom",
    documents: document(),
    damaged: damaged_document(),
    same: fast_atom_equals_feed_rs,
    same_when_damaged: fast_atom_equals_feed_rs_on_damaged_documents,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The benchmark corpus's Atom shape (crates/bench `fn atom`), with our own text.
fn bench_shaped(entries: usize, paragraphs: usize) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>基准频道 3</title><id>urn:bench:3</id><updated>2021-10-28T06:08:07Z</updated>\n",
    );
    for i in 0..entries {
        let html: String = (0..paragraphs)
            .map(|p| {
                format!(
                    "<p>第{p}段：傍晚的集市收了摊，卖菜的老人把竹筐叠起来 & 慢慢推回家。\
                     <img src=\"/img/{i}_{p}.jpg\"></p>"
                )
            })
            .collect();
        out.push_str(&format!(
            "<entry><title>{}</title><id>urn:bench-{i}</id><link href=\"http://www.news.example/a/{i}\"/>\
             <updated>2021-10-28T06:{:02}:07Z</updated><content type=\"html\">{}</content></entry>\n",
            escape(&format!("集市 第{i}篇 <小记>")),
            i % 60,
            escape(&html)
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[test]
fn bench_shape_takes_the_fast_route() {
    let doc = bench_shaped(20, 8);
    assert_eq!(atom(&doc), Outcome::Same);
    let feed = run_route(parse_fast_atom, doc.as_bytes()).expect("fast route");
    assert_eq!(feed.entries.len(), 20);
    assert_eq!(feed.title.as_deref(), Some("基准频道 3"));
    let e = &feed.entries[3];
    assert_eq!(e.title, "集市 第3篇 <小记>");
    assert_eq!(e.guid.as_deref(), Some("urn:bench-3"));
    assert_eq!(e.link.as_deref(), Some("http://www.news.example/a/3"));
    assert!(e.content.starts_with("<p>第0段"), "{}", e.content);
    assert!(e.updated.is_some() && e.published.is_none());
}

/// The fixture uses `xml:base`, which the fast route leaves to feed-rs; without it, the
/// rest of the fixture's shapes are accepted.
#[test]
fn atom_fixture_without_xml_base_takes_the_fast_route() {
    let path = format!("{}/tests/fixtures/atom.xml", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(atom(&doc), Outcome::Declined);
    let stripped = doc
        .replace(" xml:base=\"https://blog.example.org/notes/\"", "")
        .replace(" xml:base=\"https://cdn.example.org/archive/\"", "")
        .replace(" xml:base=\"https://static.example.org/second/\"", "")
        // An xhtml title is declined too.
        .replace(
            "<title type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Second <em>entry</em></div></title>",
            "<title>Second entry</title>",
        );
    assert!(!stripped.contains("xml:base"));
    assert_eq!(atom(&stripped), Outcome::Same);
}

#[test]
fn reads_what_feed_rs_reads() {
    let doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title type=\"html\"> A &amp;lt;i&amp;gt; </title>\
        <link rel=\"self\" href=\"https://s.example/feed\"/><link href=\"https://s.example/\"/>\
        <entry><id> e1 </id><id></id><title>first</title><title>  last  </title>\
        <author><email>only@example.cn</email></author><author><name>Second</name></author>\
        <link rel=\"enclosure\" type=\"image/png\" href=\"/pic.png\"/>\
        <summary>short</summary><content type=\"html\">   </content>\
        <published>2022-01-23T15:27:25+08:00</published></entry></feed>";
    assert_eq!(atom(doc), Outcome::Same);
    let feed = run_route(parse_fast_atom, doc.as_bytes()).expect("accepted");
    assert_eq!(feed.link.as_deref(), Some("https://s.example/"));
    let e = &feed.entries[0];
    // An empty id does not clear the first; the last title wins, trimmed.
    assert_eq!(e.guid.as_deref(), Some("e1"));
    assert_eq!(e.title, "last");
    // The first person had only an email, so no name: later people do not count.
    assert_eq!(e.author, None);
    // Blank content falls back to the summary; the image link is the lead image.
    assert_eq!(e.content, "short");
    assert_eq!(e.media_image.as_deref(), Some("https://s.example/pic.png"));
    assert!(e.published.is_some() && e.updated.is_none());
}

/// Documents the fast route must leave to feed-rs.
#[test]
fn declines_what_it_does_not_model() {
    let wrap = |entries: &str| {
        format!(
            "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http://search.yahoo.com/mrss/\" \
             xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\"><title>T</title>{entries}</feed>"
        )
    };
    let cases = [
        wrap("<entry xml:base=\"http://b.example/\"><id>1</id></entry>"),
        wrap("<entry><content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">x</div></content></entry>"),
        wrap("<entry><title type=\"xhtml\">x</title></entry>"),
        wrap("<entry><content src=\"http://c.example/x\" type=\"text/html\"/></entry>"),
        wrap("<entry><content type=\"text/plain\">x</content></entry>"),
        wrap("<entry><content type=\"image/png\">AAAA</content></entry>"),
        wrap("<entry><summary type=\"bogus\">x</summary></entry>"),
        wrap("<entry><title>a<b>b</b></title></entry>"),
        wrap("<entry><author>just text</author></entry>"),
        wrap("<entry><media:group><media:content url=\"http://i/a.jpg\"/></media:group></entry>"),
        wrap("<entry><wfw:commentRss>http://c/</wfw:commentRss></entry>"),
        wrap("<entry><u:x/></entry>"),
        wrap("<subtitle type=\"bogus\">s</subtitle>"),
        "<feed xmlns=\"http://purl.org/rss/1.0/\"><title>T</title></feed>".to_string(),
        "<!DOCTYPE feed><feed><title>T</title></feed>".to_string(),
        "<atom:feed xmlns:atom=\"http://www.w3.org/2005/Atom\"><atom:title>T</atom:title></atom:feed>".to_string(),
        "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>1</id></entry>".to_string(),
        "<feed/>".to_string(),
        "<feed><title>T</title></feed>\n<?xml version=\"1.0\" encoding=\"gbk\"?>".to_string(),
    ];
    // Feed or error from `parse` are both fine here: it must only not panic.
    assert_declines(parse_fast_atom, &cases);
}

/// Timing of both routes on a bench-shaped Atom document (printed, never asserted):
/// `cargo test --release -p tidings-feed --test fast_atom route_timing -- --ignored --nocapture`
#[test]
#[ignore]
fn route_timing() {
    print_route_timing("Atom", parse_fast_atom, &bench_shaped(20, 55), 300);
}
