//! Evidence for the repair pass: what plain feed-rs 3 does with common breakage, and what we do.

use jiff::tz::TimeZone;
use tidings_feed::{parse, FeedContext};

fn rss(items: &str) -> String {
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>{items}</channel></rss>")
}

fn ours(doc: &str) -> Vec<String> {
    let tz = TimeZone::UTC;
    let cx = FeedContext {
        url: "https://f.example.com/",
        timezone: &tz,
    };
    let feed = parse(doc.as_bytes(), None, &cx).unwrap_or_else(|e| panic!("{e}"));
    feed.entries.into_iter().map(|e| e.title).collect()
}

#[test]
fn feed_rs_rejects_what_we_accept() {
    let cases = [
        (
            "bare ampersand",
            rss("<item><title>A & B</title></item>"),
            "A & B",
        ),
        (
            "no version",
            rss("<item><title>t</title></item>").replace(" version=\"2.0\"", ""),
            "t",
        ),
    ];
    for (name, doc, title) in cases {
        assert!(
            feed_rs::parser::parse(doc.as_bytes()).is_err(),
            "{name}: feed-rs got better?"
        );
        assert_eq!(ours(&doc), [title], "{name}");
    }
}

#[test]
fn feed_rs_keeps_what_we_clean() {
    let doc = rss("<item><title>a\u{0}b&nbsp;c</title></item>");
    let raw = feed_rs::parser::parse(doc.as_bytes()).expect("feed-rs parses it");
    let raw_title = raw.entries[0].title.as_ref().map(|t| t.content.clone());
    assert_eq!(raw_title.as_deref(), Some("a\u{0}b&nbsp;c"));
    assert_eq!(ours(&doc), ["ab c"]);
}
