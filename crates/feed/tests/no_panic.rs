//! Property tests: hostile bytes produce a feed or an error, never a panic.

mod common;

use common::assert_declines;
use jiff::tz::TimeZone;
use proptest::prelude::*;
use tidings_feed::{
    dates, decode, parse, parse_fast_atom, parse_fast_json, parse_fast_rss, parse_with_feed_rs,
    text, FeedContext,
};

fn fixtures() -> Vec<Vec<u8>> {
    ["rss2.xml", "atom.xml", "feed.json", "rdf.xml"]
        .iter()
        .map(|name| {
            let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
        })
        .collect()
}

fn run(bytes: &[u8], content_type: Option<&str>) {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let cx = FeedContext {
        url: "https://f.example.com/feed",
        timezone: &tz,
    };
    if let Ok(feed) = parse(bytes, content_type, &cx) {
        for e in &feed.entries {
            assert_eq!(e.id.len(), 32);
        }
    }
    // The fast routes on their own, too (`parse` only reaches each for some inputs).
    let _ = parse_fast_rss(bytes, content_type, &cx);
    let _ = parse_fast_atom(bytes, content_type, &cx);
    let _ = parse_fast_json(bytes, content_type, &cx);
}

/// A plain RSS 2.0 document around `items`, the shape the fast route accepts.
fn plain_rss(items: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>\
         <link>https://f.example.com/</link>{items}</channel></rss>"
    )
}

fn cx_shanghai(tz: &TimeZone) -> FeedContext<'_> {
    FeedContext {
        url: "https://f.example.com/feed",
        timezone: tz,
    }
}

#[test]
fn huge_title_takes_the_fast_route() {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let title = "标题&amp;<![CDATA[x<y]]>".repeat(200_000 / 30);
    let doc = plain_rss(&format!(
        "<item><title>{title}</title><link>/a</link></item>"
    ));
    let feed = parse_fast_rss(doc.as_bytes(), None, &cx_shanghai(&tz)).expect("accepted");
    // Each 26-byte repetition reads as the 10 bytes "标题&x<y".
    assert_eq!(feed.entries[0].title.len(), 10 * (200_000 / 30));
    assert!(feed.entries[0].title.starts_with("标题&x<y标题"));
    let reference = parse_with_feed_rs(doc.as_bytes(), None, &cx_shanghai(&tz)).expect("parses");
    assert_eq!(feed.entries, reference.entries);
    // Unclosed markup in a huge title, the quadratic trap for naive scanners.
    let doc = plain_rss(&format!(
        "<item><title>{}</title></item>",
        "&lt;a".repeat(50_000)
    ));
    let feed = parse(doc.as_bytes(), None, &cx_shanghai(&tz)).expect("parses");
    assert_eq!(feed.entries[0].title.len(), 100_000);
}

#[test]
fn controls_and_nul_in_plain_rss() {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let doc = plain_rss(
        "<item><title>a\u{0}b\u{1}c&#1;d</title><description>x\u{7}y\u{1b}z</description>\
         <guid>\u{0}g\u{8}</guid></item>",
    );
    let feed = parse(doc.as_bytes(), None, &cx_shanghai(&tz)).expect("parses");
    let e = &feed.entries[0];
    assert!(!e.title.contains(|c: char| c.is_control()), "{:?}", e.title);
    assert!(
        !e.content.contains(['\u{0}', '\u{7}', '\u{1b}']),
        "{:?}",
        e.content
    );
    assert_eq!(e.guid.as_deref(), Some("g"));
}

#[test]
fn deeply_nested_junk_is_declined_or_parsed_without_panic() {
    let depth = 5_000;
    let nested = format!("{}x{}", "<junk>".repeat(depth), "</junk>".repeat(depth));
    assert_declines(
        parse_fast_rss,
        &[
            // In the channel (skipped content) and in an item (not accepted there).
            plain_rss(&nested),
            plain_rss(&format!("<item>{nested}</item>")),
            // Unclosed nesting, and nesting inside a text element.
            plain_rss(&"<junk a='1'>".repeat(depth)),
            plain_rss(&format!("<item><title>{nested}</title></item>")),
        ],
    );
}

#[test]
fn feed_rs_panic_on_an_author_is_an_error_not_a_crash() {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let doc = plain_rss("<item><title>t</title><author>编辑——desk@example.cn</author></item>");
    let err = parse(doc.as_bytes(), None, &cx_shanghai(&tz)).expect_err("feed-rs panics");
    assert!(
        err.to_string().contains("https://f.example.com/feed"),
        "{err}"
    );
}

/// A plain Atom document around `entries`, the shape the fast route accepts.
fn plain_atom(entries: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>\
         <link href=\"https://f.example.com/\"/>{entries}</feed>"
    )
}

/// A JSON Feed around `items` (JSON text of the array's contents).
fn plain_json(items: &str) -> String {
    format!(
        "{{\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"T\", \"items\": [{items}]}}"
    )
}

#[test]
fn hostile_atom() {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let cx = cx_shanghai(&tz);
    // A huge title made of pieces: accepted, and equal to feed-rs's reading.
    let title = "标题&amp;<![CDATA[x<y]]>".repeat(200_000 / 30);
    let doc = plain_atom(&format!("<entry><title>{title}</title><id>1</id></entry>"));
    let feed = parse_fast_atom(doc.as_bytes(), None, &cx).expect("accepted");
    let reference = parse_with_feed_rs(doc.as_bytes(), None, &cx).expect("parses");
    assert_eq!(feed.entries, reference.entries);
    assert_eq!(feed.entries[0].title.len(), 10 * (200_000 / 30));
    // Deep nesting in a skipped element, in an entry, in a text, and unclosed.
    let depth = 5_000;
    let nested = format!("{}x{}", "<x:j>".repeat(depth), "</x:j>".repeat(depth));
    let with_x = |d: String| d.replace("<feed ", "<feed xmlns:x=\"urn:x\" ");
    assert_declines(
        parse_fast_atom,
        &[
            with_x(plain_atom(&nested)),
            with_x(plain_atom(&format!("<entry>{nested}</entry>"))),
            with_x(plain_atom(&format!(
                "<entry><title>{nested}</title></entry>"
            ))),
            with_x(plain_atom(&"<x:j a='1'>".repeat(depth))),
        ],
    );
    // Controls and NUL never reach the entry.
    let doc = plain_atom("<entry><title>a\u{0}b&#1;c</title><content>x\u{7}y</content></entry>");
    let feed = parse(doc.as_bytes(), None, &cx).expect("parses");
    assert!(!feed.entries[0].title.contains(|c: char| c.is_control()));
    assert!(!feed.entries[0].content.contains('\u{7}'));
}

#[test]
fn hostile_json() {
    let tz = TimeZone::get("Asia/Shanghai").expect("zone");
    let cx = cx_shanghai(&tz);
    // Nesting deeper than any stack in a member nobody reads: serde_json skips it without
    // recursion, in both routes.
    let depth = 200_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let doc = plain_json(&format!("{{\"id\": \"1\", \"_x\": {deep}}}"));
    let feed = parse_fast_json(doc.as_bytes(), None, &cx).expect("accepted");
    let reference = parse_with_feed_rs(doc.as_bytes(), None, &cx).expect("parses");
    assert_eq!(feed.entries, reference.entries);
    // Deep nesting where a value is typed, and unclosed: errors, no panic.
    let answers = assert_declines(
        parse_fast_json,
        &[
            plain_json(&format!("{{\"id\": {deep}}}")),
            plain_json(&"{\"_x\": [".repeat(10_000)),
            plain_json(&"{\"author\": ".repeat(10_000)),
        ],
    );
    assert!(answers.iter().all(Result::is_err), "{answers:?}");
    // A huge escaped string and control characters: content keeps no controls.
    let html = "<p>\\u4e2d\\u0000\\\"x\\\"</p>".repeat(100_000);
    let doc = plain_json(&format!("{{\"id\": \"2\", \"content_html\": \"{html}\"}}"));
    let feed = parse_fast_json(doc.as_bytes(), None, &cx).expect("accepted");
    assert_eq!(feed.entries[0].content, "<p>中\"x\"</p>".repeat(100_000));
    // Wrong types are feed-rs's error, named with the feed URL.
    let doc = plain_json("{\"id\": {\"nested\": true}}");
    assert!(parse_fast_json(doc.as_bytes(), None, &cx).is_none());
    let err = parse(doc.as_bytes(), None, &cx).expect_err("wrong type");
    assert!(
        err.to_string().contains("https://f.example.com/feed"),
        "{err}"
    );
    // feed-rs panics on this author: an error, not a crash.
    let doc = plain_json("{\"authors\": [{\"name\": \"编辑——desk@example.cn\"}]}");
    assert!(parse_fast_json(doc.as_bytes(), None, &cx).is_none());
    assert!(parse(doc.as_bytes(), None, &cx).is_err());
}

/// One edit of a valid feed: overwrite, insert or delete a few bytes at a position.
#[derive(Debug, Clone)]
enum Edit {
    Overwrite(usize, Vec<u8>),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that matter to XML, encodings and dates, plus anything.
    let interesting = prop_oneof![
        Just(b"&".to_vec()),
        Just(b"<".to_vec()),
        Just(b"]]>".to_vec()),
        Just(b"<![CDATA[".to_vec()),
        Just(b"\0".to_vec()),
        Just(vec![0xFF]),
        Just(vec![0xE4, 0xB8]),
        Just(b"&#x0;".to_vec()),
        Just(b"&nbsp".to_vec()),
        Just(b"xml:base=\"::\"".to_vec()),
        Just(b"<item>".to_vec()),
        Just(b"</entry>".to_vec()),
        Just(b"9999".to_vec()),
        Just(b"\"".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..8),
    ];
    prop_oneof![
        (any::<usize>(), interesting.clone()).prop_map(|(at, b)| Edit::Overwrite(at, b)),
        (any::<usize>(), interesting).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 1usize..64).prop_map(|(at, n)| Edit::Delete(at, n)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(doc: &mut Vec<u8>, edit: &Edit) {
    let len = doc.len().max(1);
    match edit {
        Edit::Overwrite(at, bytes) => {
            let at = at % len;
            for (k, b) in bytes.iter().enumerate() {
                if let Some(slot) = doc.get_mut(at + k) {
                    *slot = *b;
                }
            }
        }
        Edit::Insert(at, bytes) => {
            let at = (at % len).min(doc.len());
            doc.splice(at..at, bytes.iter().copied());
        }
        Edit::Delete(at, n) => {
            let at = (at % len).min(doc.len());
            let end = (at + n).min(doc.len());
            doc.drain(at..end);
        }
        Edit::Truncate(at) => doc.truncate(at % len),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        run(&bytes, None);
        run(&bytes, Some("text/xml; charset=gbk"));
    }

    #[test]
    fn xml_looking_bytes(s in "[<>&;#x0-9a-z/\\[\\]!?=\"' \n-]{0,300}") {
        run(s.as_bytes(), None);
        run(format!("<rss>{s}").as_bytes(), None);
        run(format!("<feed xmlns=\"http://www.w3.org/2005/Atom\">{s}").as_bytes(), None);
    }

    #[test]
    fn rss_looking_bytes(s in "(<item>|</item>|<title>|</title>|<link>|<guid>|</guid>|<!\\[CDATA\\[|\\]\\]>|<!--|-->|&#x?[0-9a-f]{0,6};?|&[a-z]{0,5};?|<[a-z:]{1,6}( [a-z:]{1,6}=\"[^\"<]{0,8}\")?/?>|</[a-z:]{1,6}>|[a-z 中文<>&;'\"/=]){0,60}") {
        run(plain_rss(&s).as_bytes(), None);
        run(plain_rss(&format!("<item>{s}</item>")).as_bytes(), None);
        run(plain_rss(&format!("<item><title>{s}</title></item>")).as_bytes(), None);
    }

    #[test]
    fn json_looking_bytes(s in "([{}\\[\\],:\" ]|null|true|-?[0-9]{1,3}(\\.[0-9])?|\"(id|title|url|items|authors|name|content_html|attachments|mime_type)\"|\\\\u[0-9a-fA-F]{4}|中){0,60}") {
        run(plain_json(&s).as_bytes(), None);
        run(plain_json(&format!("{{{s}}}")).as_bytes(), None);
        run(format!("{{\"version\": \"https://jsonfeed.org/version/1\", {s}").as_bytes(), None);
    }

    #[test]
    fn atom_looking_bytes(s in "(<entry>|</entry>|<title( type=\"(html|xhtml|text)\")?>|</title>|<content>|</content>|<link href=\"/a\"/>|<id>|</id>|<author>|<name>|<!\\[CDATA\\[|\\]\\]>|<!--|-->|&#x?[0-9a-f]{0,6};?|&[a-z]{0,5};?|<[a-z:]{1,6}( [a-z:]{1,6}=\"[^\"<]{0,8}\")?/?>|</[a-z:]{1,6}>|[a-z 中文<>&;'\"/=]){0,60}") {
        run(plain_atom(&s).as_bytes(), None);
        run(plain_atom(&format!("<entry>{s}</entry>")).as_bytes(), None);
    }

    #[test]
    fn mutated_fixtures(which in 0usize..4, edits in proptest::collection::vec(edit(), 1..6)) {
        let mut doc = fixtures().swap_remove(which);
        for e in &edits {
            apply(&mut doc, e);
        }
        run(&doc, None);
    }

    #[test]
    fn dates_never_panic(s in "\\PC{0,60}") {
        let _ = dates::parse_date(&s, &TimeZone::UTC);
        let _ = dates::parse_date(&s, &TimeZone::get("America/Chicago").expect("zone"));
    }

    #[test]
    fn date_like_strings_never_panic(s in "[0-9]{1,5}[-/年.][0-9]{1,3}[-/月.][0-9]{1,3}日?[ T]?[0-9]{0,3}[:时]?[0-9]{0,3}[:分]?[0-9]{0,3}(\\.[0-9]{0,12})? ?(Z|[+-][0-9]{0,5}|CST|GMT[+-][0-9]{1,4})?") {
        let _ = dates::parse_date(&s, &TimeZone::get("Asia/Shanghai").expect("zone"));
    }

    #[test]
    fn plain_text_never_panics(s in "\\PC{0,200}") {
        let out = text::plain(&s);
        prop_assert!(!out.starts_with(' ') && !out.ends_with(' '));
        prop_assert!(!out.contains("  "));
    }

    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512), label in "[a-z0-9_-]{0,12}") {
        let ct = format!("text/xml; charset={label}");
        let _ = decode::to_utf8(&bytes, Some(&ct));
    }
}
