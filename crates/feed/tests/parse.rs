//! Fixture-driven tests of the whole stage: bytes in, entries out.

use std::collections::HashSet;

use jiff::tz::TimeZone;
use tidings_feed::{parse, FeedContext, FeedError};
use tidings_model::{Entry, ParsedFeed};

const FEED_URL: &str = "https://feeds.example.com/source.xml";

fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").expect("bundled zone")
}

fn parse_in(
    bytes: &[u8],
    content_type: Option<&str>,
    tz: &TimeZone,
) -> Result<ParsedFeed, FeedError> {
    parse(
        bytes,
        content_type,
        &FeedContext {
            url: FEED_URL,
            timezone: tz,
        },
    )
}

fn ok(bytes: &[u8]) -> ParsedFeed {
    match parse_in(bytes, None, &shanghai()) {
        Ok(feed) => feed,
        Err(e) => panic!("parse failed: {e}"),
    }
}

fn err(bytes: &[u8]) -> String {
    match parse_in(bytes, None, &shanghai()) {
        Ok(feed) => panic!("expected an error, got {} entries", feed.entries.len()),
        Err(e) => e.to_string(),
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ts(s: &str) -> Option<jiff::Timestamp> {
    Some(s.parse().expect("timestamp literal"))
}

fn titles(feed: &ParsedFeed) -> Vec<&str> {
    feed.entries.iter().map(|e| e.title.as_str()).collect()
}

fn assert_unique_ids(entries: &[Entry]) {
    let ids: HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), entries.len(), "ids must be unique");
    for e in entries {
        assert_eq!(e.id.len(), 32, "{}", e.id);
        assert!(e.id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// A minimal RSS 2.0 document around the given items.
fn rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>T</title>\
         <link>https://site.example.com/</link>{items}</channel></rss>"
    )
}

#[test]
fn rss2_fixture() {
    let feed = ok(&fixture("rss2.xml"));
    assert_eq!(feed.title.as_deref(), Some("晨报 · Morning Notes"));
    assert_eq!(feed.link.as_deref(), Some("https://news.example.cn/"));
    assert_eq!(feed.entries.len(), 4);
    assert_unique_ids(&feed.entries);

    let first = &feed.entries[0];
    assert_eq!(first.title, "\"致命武器\"");
    assert_eq!(first.guid.as_deref(), Some("story-1001"));
    assert_eq!(
        first.link.as_deref(),
        Some("https://news.example.cn/a/1001")
    );
    assert_eq!(
        first.published,
        ts("2021-10-28T06:08:07Z"),
        "CST in a Shanghai feed"
    );
    assert_eq!(first.author.as_deref(), Some("编辑部"));
    assert!(
        first.content.starts_with("<p>河边的柳树发芽了 & 春天来了"),
        "{}",
        first.content
    );
    assert_eq!(
        first.media_image.as_deref(),
        Some("https://img.example.cn/lead.jpg")
    );
    assert_eq!(
        first.base.as_deref(),
        Some("https://news.example.cn/a/1001")
    );

    let second = &feed.entries[1];
    assert_eq!(second.title, "Bold & co");
    assert_eq!(
        second.link.as_deref(),
        Some("https://news.example.cn/a/1002"),
        "relative link"
    );
    assert_eq!(
        second.published,
        ts("2021-10-28T06:08:07Z"),
        "naive dc:date in Shanghai"
    );
    assert_eq!(second.author.as_deref(), Some("Li Lei"));
    assert_eq!(
        second.content, "<p>Only a summary here.</p>",
        "summary when no content"
    );
    assert_eq!(
        second.media_image.as_deref(),
        Some("https://img.example.cn/thumb.png"),
        "video is no image; the thumbnail is"
    );

    let third = &feed.entries[2];
    assert_eq!(third.title, "Epoch & millis", "bare & repaired");
    assert_eq!(third.published, ts("2021-10-28T06:08:07Z"));
    assert_eq!(third.guid, None);
    assert_eq!(
        third.media_image.as_deref(),
        Some("https://img.example.cn/cover.webp?x=1"),
        "untyped enclosure that looks like an image"
    );

    let bare = &feed.entries[3];
    assert_eq!(bare.title, "");
    assert_eq!(
        (&bare.guid, &bare.link, &bare.published),
        (&None, &None, &None)
    );
    assert_eq!(bare.content, "No title, no link, no guid and no date.");
    assert_eq!(
        bare.base.as_deref(),
        Some("https://news.example.cn/"),
        "feed link as base"
    );
}

#[test]
fn ids_are_stable_across_parses() {
    let a = ok(&fixture("rss2.xml"));
    let b = ok(&fixture("rss2.xml"));
    let ids = |f: &ParsedFeed| f.entries.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    // The id depends on the feed URL, not only on the entry.
    let other = parse(
        &fixture("rss2.xml"),
        None,
        &FeedContext {
            url: "https://elsewhere.example.com/feed",
            timezone: &shanghai(),
        },
    )
    .expect("parses");
    assert_ne!(ids(&a), ids(&other));
}

#[test]
fn atom_fixture_with_xml_base() {
    let feed = ok(&fixture("atom.xml"));
    assert_eq!(feed.title.as_deref(), Some("Field Notes"));
    assert_eq!(
        feed.link.as_deref(),
        Some("https://blog.example.org/notes/")
    );
    assert_eq!(feed.entries.len(), 2);
    assert_unique_ids(&feed.entries);

    let first = &feed.entries[0];
    assert_eq!(first.title, "Walking the old canal");
    assert_eq!(
        first.link.as_deref(),
        Some("https://blog.example.org/notes/2022/canal.html")
    );
    // Relative references in content resolve against the xml:base in scope, not the link.
    assert_eq!(
        first.base.as_deref(),
        Some("https://blog.example.org/notes/")
    );
    assert_eq!(first.published, ts("2022-01-23T07:27:25Z"));
    assert_eq!(first.updated, ts("2022-01-24T08:00:00Z"));
    assert_eq!(first.author.as_deref(), Some("Wang Fang"));
    assert_eq!(
        first.content,
        "<p>The towpath <img src=\"img/bridge.jpg\"></p>"
    );
    assert_eq!(
        first.media_image.as_deref(),
        Some("https://blog.example.org/notes/pics/canal.png")
    );
    assert_eq!(
        first.guid.as_deref(),
        Some("tag:blog.example.org,2022:canal")
    );

    let second = &feed.entries[1];
    assert_eq!(second.title, "Second entry");
    assert_eq!(
        second.link.as_deref(),
        Some("https://cdn.example.org/archive/post-2.html")
    );
    assert_eq!(
        second.base.as_deref(),
        Some("https://static.example.org/second/")
    );
    assert_eq!(
        second.updated,
        ts("2022-01-31T16:00:00Z"),
        "date-only, Shanghai midnight"
    );
}

#[test]
fn json_feed_fixture() {
    let feed = ok(&fixture("feed.json"));
    assert_eq!(feed.title.as_deref(), Some("小站 JSON"));
    assert_eq!(feed.link.as_deref(), Some("https://json.example.net/"));
    assert_eq!(titles(&feed), ["Tea & biscuits", ""]);
    let first = &feed.entries[0];
    assert_eq!(first.content, "<p>Hello <b>world</b></p>", "NUL removed");
    assert_eq!(first.published, ts("2021-10-28T06:08:07Z"));
    assert_eq!(first.updated, ts("2021-10-29T01:00:00Z"));
    assert_eq!(first.author.as_deref(), Some("Zhang San"));
    assert_eq!(first.guid.as_deref(), Some("j-1"));
    let second = &feed.entries[1];
    assert_eq!(second.content, "Plain text only");
    assert_eq!(second.published, ts("2021-10-28T06:08:07.123Z"));
    assert_unique_ids(&feed.entries);
}

#[test]
fn rss1_rdf_fixture() {
    let feed = ok(&fixture("rdf.xml"));
    assert_eq!(feed.title.as_deref(), Some("RDF Daily"));
    assert_eq!(titles(&feed), ["First RDF item", "Second RDF item"]);
    assert_eq!(feed.entries[0].published, ts("2021-10-28T06:08:07Z"));
    assert_eq!(feed.entries[0].author.as_deref(), Some("Han Meimei"));
    assert_eq!(feed.entries[1].published, ts("2021-10-28T06:08:00Z"));
    assert_eq!(
        feed.entries[1].link.as_deref(),
        Some("https://rdf.example.com/x/2")
    );
    assert_unique_ids(&feed.entries);
}

fn gbk_feed(label: &str) -> Vec<u8> {
    let mut bytes = format!("<?xml version=\"1.0\" encoding=\"{label}\"?>\n").into_bytes();
    let body = rss("<item><title>长江边的清晨</title><description>渔船缓缓靠岸，雾气还没有散去。</description></item>");
    let body = body
        .split_once("?>\n")
        .map_or(body.as_str(), |(_, b)| b)
        .to_string();
    bytes.extend(encoding_rs::GBK.encode(&body).0.iter());
    bytes
}

#[test]
fn gbk_feed_under_every_label() {
    for label in [
        "gbk",
        "GBK",
        "gb2312",
        "GB2312",
        "cp936",
        "gb_2312-80",
        "x-gbk",
    ] {
        let feed = ok(&gbk_feed(label));
        assert_eq!(titles(&feed), ["长江边的清晨"], "label {label}");
        assert_eq!(feed.entries[0].content, "渔船缓缓靠岸，雾气还没有散去。");
    }
}

#[test]
fn gbk_feed_by_http_charset_only() {
    let body = rss("<item><title>山里的小学开学了</title></item>");
    let body = body.replace("encoding=\"UTF-8\"", "");
    let bytes = encoding_rs::GBK.encode(&body).0.into_owned();
    let feed = parse_in(
        &bytes,
        Some("application/rss+xml; charset=cp936"),
        &shanghai(),
    )
    .expect("parses");
    assert_eq!(titles(&feed), ["山里的小学开学了"]);
}

#[test]
fn utf8_feed_declaring_gbk_stays_utf8() {
    let doc = rss("<item><title>标题是UTF-8的</title></item>").replace("UTF-8\"?>", "gbk\"?>");
    let feed = parse_in(
        doc.as_bytes(),
        Some("text/xml; charset=gb2312"),
        &shanghai(),
    )
    .expect("parses");
    assert_eq!(titles(&feed), ["标题是UTF-8的"]);
}

#[test]
fn bom_beats_wrong_declaration() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend(
        rss("<item><title>带BOM的标题</title></item>")
            .replace("UTF-8", "GB2312")
            .bytes(),
    );
    assert_eq!(titles(&ok(&bytes)), ["带BOM的标题"]);
}

#[test]
fn one_invalid_byte_in_gbk_feed() {
    let mut bytes =
        b"<?xml version=\"1.0\" encoding=\"gbk\"?><rss version=\"2.0\"><channel><item><title>"
            .to_vec();
    bytes.extend(encoding_rs::GBK.encode("前半句").0.iter());
    bytes.push(0xFF);
    bytes.extend(encoding_rs::GBK.encode("后半句").0.iter());
    bytes.extend(b"</title></item><item><title>");
    bytes.extend(encoding_rs::GBK.encode("第二条").0.iter());
    bytes.extend(b"</title></item></channel></rss>");
    let feed = ok(&bytes);
    assert_eq!(titles(&feed), ["前半句\u{FFFD}后半句", "第二条"]);
}

#[test]
fn prolog_after_blank_lines() {
    let doc = format!("\n\n   \r\n{}", rss("<item><title>x</title></item>"));
    assert_eq!(titles(&ok(doc.as_bytes())), ["x"]);
    // Well past byte 64.
    let doc = format!(
        "{}{}",
        " \n".repeat(100),
        rss("<item><title>y</title></item>")
    );
    assert_eq!(titles(&ok(doc.as_bytes())), ["y"]);
}

#[test]
fn rss_without_version() {
    let doc = rss("<item><title>no version</title></item>").replace(" version=\"2.0\"", "");
    assert!(!doc.contains("<rss version"));
    assert_eq!(titles(&ok(doc.as_bytes())), ["no version"]);
}

#[test]
fn bare_ampersands_and_html_entities() {
    let doc = rss(
        "<item><title>AT&T &amp; R&D &nbsp;&mdash; ok &#169;</title>\
         <link>https://site.example.com/?a=1&b=2</link>\
         <description>Fish & chips&hellip;</description></item>",
    );
    let feed = ok(doc.as_bytes());
    let e = &feed.entries[0];
    assert_eq!(e.title, "AT&T & R&D — ok ©");
    assert_eq!(e.link.as_deref(), Some("https://site.example.com/?a=1&b=2"));
    assert_eq!(e.content, "Fish & chips…");
}

#[test]
fn cdata_is_left_alone() {
    let doc = rss("<item><title><![CDATA[A & B &amp; <i>C</i>]]></title>\
         <description><![CDATA[<p>x &nbsp; & y</p>]]></description></item>");
    let e = &ok(doc.as_bytes()).entries[0];
    // Inside CDATA `&amp;` is literal text; plain() then decodes it as an HTML entity.
    assert_eq!(e.title, "A & B & C");
    assert_eq!(e.content, "<p>x &nbsp; & y</p>");
}

#[test]
fn titles_are_exact_otherwise() {
    let title = "“引号”与'单引号' \"双引号\" —— 100% 真实!? (括号) [方括号] a/b";
    let doc = rss(&format!(
        "<item><title>{}</title></item>",
        title.replace('&', "&amp;").replace('<', "&lt;")
    ));
    assert_eq!(titles(&ok(doc.as_bytes())), [title]);
}

#[test]
fn control_characters_in_titles_and_bodies() {
    let doc = rss(
        "<item><title>tab\there\u{0}nul\u{1}\u{8}\u{B}bell\u{7}</title>\
         <description><![CDATA[<p>a\u{0}b\u{1B}c</p>]]></description></item>",
    );
    let e = &ok(doc.as_bytes()).entries[0];
    assert_eq!(e.title, "tab herenulbell");
    assert_eq!(e.content, "<p>abc</p>");
}

#[test]
fn huge_title() {
    let big = "长".repeat(70_000); // ~200 KB of UTF-8
    let doc = rss(&format!("<item><title>{big}</title><guid>g</guid></item>"));
    assert!(doc.len() > 200_000);
    let feed = ok(doc.as_bytes());
    assert_eq!(feed.entries[0].title.len(), big.len());
}

#[test]
fn entry_without_anything_gets_stable_text_id() {
    let doc = rss("<item><description>only a body</description></item><item><description>another body</description></item>");
    let a = ok(doc.as_bytes());
    let b = ok(doc.as_bytes());
    assert_eq!(a.entries[0].id, b.entries[0].id);
    assert_ne!(a.entries[0].id, a.entries[1].id);
    assert_eq!(a.entries[0].published, None);
}

#[test]
fn repeated_guids_are_separate_articles() {
    let doc = rss(
        "<item><guid>dup</guid><title>one</title><link>https://s.example.com/1</link></item>\
         <item><guid>dup</guid><title>two</title><link>https://s.example.com/2</link></item>\
         <item><guid>dup</guid><title>two</title><link>https://s.example.com/2</link></item>",
    );
    let feed = ok(doc.as_bytes());
    assert_eq!(feed.entries.len(), 3);
    assert_unique_ids(&feed.entries);
    // The first occurrence keeps the id it would have alone.
    let alone = ok(rss("<item><guid>dup</guid><title>x</title></item>").as_bytes());
    assert_eq!(feed.entries[0].id, alone.entries[0].id);
    assert_eq!(
        feed.entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>(),
        ok(doc.as_bytes())
            .entries
            .iter()
            .map(|e| e.id.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn cst_depends_on_feed_zone() {
    let doc = rss("<item><title>t</title><pubDate>Thu, 28 Oct 2021 14:08:07 CST</pubDate></item>");
    let chicago = TimeZone::get("America/Chicago").expect("zone");
    let feed = parse_in(doc.as_bytes(), None, &chicago).expect("parses");
    assert_eq!(feed.entries[0].published, ts("2021-10-28T20:08:07Z"));
    let feed = parse_in(doc.as_bytes(), None, &shanghai()).expect("parses");
    assert_eq!(feed.entries[0].published, ts("2021-10-28T06:08:07Z"));
}

#[test]
fn unparseable_date_is_none_not_error() {
    let doc = rss("<item><title>t</title><pubDate>sometime last week</pubDate></item>");
    assert_eq!(ok(doc.as_bytes()).entries[0].published, None);
}

#[test]
fn javascript_links_are_dropped() {
    let doc = rss("<item><title>t</title><link>javascript:alert(1)</link></item>");
    let e = &ok(doc.as_bytes()).entries[0];
    assert_eq!(e.link, None);
    assert_eq!(e.base.as_deref(), Some("https://site.example.com/"));
}

#[test]
fn html_page_is_not_a_feed() {
    for page in [
        "<!DOCTYPE html><html><head><title>Hi</title></head><body>x</body></html>",
        "\n<!doctype HTML>\n<html lang=\"zh\">",
        "<html><body>Just a page</body></html>",
        "<?xml version=\"1.0\"?><!-- generated --><html xmlns=\"http://www.w3.org/1999/xhtml\"></html>",
    ] {
        let message = err(page.as_bytes());
        assert!(message.contains("not a feed (looks like HTML)"), "{message}");
        assert!(message.starts_with(FEED_URL), "{message}");
    }
}

#[test]
fn other_roots_and_non_xml_are_not_feeds() {
    let message = err(b"<?xml version=\"1.0\"?><opml version=\"2.0\"><body/></opml>");
    assert!(
        message.contains("not a feed") && message.contains("<opml>"),
        "{message}"
    );
    let message = err(b"Service Unavailable");
    assert!(
        message.contains("not a feed (neither XML nor JSON)"),
        "{message}"
    );
}

#[test]
fn empty_body_is_an_error() {
    for body in [&b""[..], b"   \n\t "] {
        let message = err(body);
        assert_eq!(message, format!("{FEED_URL}: empty response"));
    }
}

#[test]
fn truncated_xml_is_an_error_with_a_line() {
    let full = fixture("rss2.xml");
    let at = full
        .windows(6)
        .position(|w| w == b"<item>")
        .expect("has items");
    // Cut inside the item, possibly mid-character: still an error, never a panic.
    for end in at + 38..at + 44 {
        let message = err(&full[..end]);
        assert!(message.contains("XML error at line"), "{message}");
    }
    let message = err(&full[..full.len() - 20]);
    assert!(message.contains("XML error at line"), "{message}");
    let message = err(b"<rss version=\"2.0\">\n<channel>\n<item></channel></rss>");
    assert!(message.contains("XML error at line 3"), "{message}");
}

#[test]
fn broken_json_is_an_error() {
    let message = err(b"{\"version\": \"https://jsonfeed.org/version/1\", \"items\": [");
    assert!(message.contains("JSON Feed error"), "{message}");
    let message = err(b"{\"version\": \"2\", \"title\": \"t\", \"items\": []}");
    assert!(message.contains("unsupported version"), "{message}");
}

#[test]
fn atom_namespaced_dates_in_rss() {
    let doc =
        "<rss version=\"2.0\" xmlns:a10=\"http://www.w3.org/2005/Atom\"><channel><title>T</title>\
        <item><title>t</title><pubDate>Thu, 28 Oct 2021 14:08:07 GMT+8</pubDate>\
        <a10:updated>2021-10-29 09:00:00</a10:updated></item></channel></rss>";
    let e = &ok(doc.as_bytes()).entries[0];
    assert_eq!(e.published, ts("2021-10-28T06:08:07Z"));
    assert_eq!(e.updated, ts("2021-10-29T01:00:00Z"));
}

#[test]
fn rss091_with_doctype_and_entities() {
    let doc = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n\
        <!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS 0.91//EN\" \
        \"http://my.netscape.com/publish/formats/rss-0.91.dtd\">\n\
        <rss version=\"0.91\"><channel><title>Old</title><link>http://old.example.com/</link>\
        <item><title>caf\u{e9} &eacute;t&eacute;</title><link>http://old.example.com/1</link></item>\
        </channel></rss>";
    let latin1 = encoding_rs::WINDOWS_1252.encode(doc).0.into_owned();
    let feed = ok(&latin1);
    assert_eq!(titles(&feed), ["café été"]);
}

#[test]
fn entries_keep_document_order() {
    let items: String = (0..30)
        .map(|i| format!("<item><title>n{i}</title><guid>g{i}</guid></item>"))
        .collect();
    let feed = ok(rss(&items).as_bytes());
    let want: Vec<String> = (0..30).map(|i| format!("n{i}")).collect();
    assert_eq!(titles(&feed), want);
    assert_unique_ids(&feed.entries);
}
