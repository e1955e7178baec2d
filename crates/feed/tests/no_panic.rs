//! Property tests: hostile bytes produce a feed or an error, never a panic.

use jiff::tz::TimeZone;
use proptest::prelude::*;
use tidings_feed::{dates, decode, parse, text, FeedContext};

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
