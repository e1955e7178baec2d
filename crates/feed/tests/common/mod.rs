//! What the differential tests of the fast routes share: run a fast route and the feed-rs
//! route on one document and demand the same `ParsedFeed` whenever the fast route accepts.

#![allow(dead_code)]

use jiff::tz::TimeZone;
use proptest::prelude::*;
use tidings_feed::{parse, parse_with_feed_rs, FeedContext};
use tidings_model::ParsedFeed;

pub const FEED_URL: &str = "https://feeds.example.com/feed/source";

/// A fast route on its own: `None` when it declines.
pub type Route = fn(&[u8], Option<&str>, &FeedContext) -> Option<ParsedFeed>;

pub fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").expect("bundled zone")
}

/// How one document went.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// The fast route accepted it and agreed with feed-rs.
    Same,
    /// The fast route declined it.
    Declined,
}

/// Runs `route` and feed-rs; panics (fails the test) when the fast route accepts but differs,
/// or accepts what feed-rs rejects.
pub fn check(route: Route, doc: &[u8]) -> Outcome {
    let tz = shanghai();
    let cx = FeedContext {
        url: FEED_URL,
        timezone: &tz,
    };
    let Some(fast) = route(doc, None, &cx) else {
        return Outcome::Declined;
    };
    let text = String::from_utf8_lossy(doc);
    let reference = match parse_with_feed_rs(doc, None, &cx) {
        Ok(feed) => feed,
        Err(e) => panic!("fast route accepted what feed-rs rejects ({e}):\n{text}"),
    };
    assert_same(&fast, &reference, &text);
    // `parse` itself takes a fast route here and agrees.
    let public = parse(doc, None, &cx).expect("parse agrees");
    assert_same(&public, &reference, &text);
    Outcome::Same
}

pub fn assert_same(fast: &ParsedFeed, reference: &ParsedFeed, doc: &str) {
    assert_eq!(fast.title, reference.title, "title of\n{doc}");
    assert_eq!(fast.link, reference.link, "link of\n{doc}");
    assert_eq!(
        fast.entries.len(),
        reference.entries.len(),
        "entry count of\n{doc}"
    );
    for (a, b) in fast.entries.iter().zip(&reference.entries) {
        assert_eq!(a, b, "entry of\n{doc}");
    }
}

pub fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    proptest::sample::select(options).prop_map(str::to_string)
}

/// `pieces` inserted into `doc` at arbitrary (char-boundary) places.
pub fn splice(mut doc: String, edits: Vec<(prop::sample::Index, String)>) -> String {
    for (at, piece) in edits {
        let mut i = at.index(doc.len() + 1);
        while !doc.is_char_boundary(i) {
            i -= 1;
        }
        doc.insert_str(i, &piece);
    }
    doc
}

/// 600 cases by default; `PROPTEST_CASES` (e.g. 20000, in release mode) overrides it.
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(600)
}

/// How many of `total` documents drawn from `strategy` the fast route took (each checked).
pub fn accepted<S: Strategy>(route: Route, strategy: S, total: usize) -> usize
where
    S::Value: AsRef<str>,
{
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    (0..total)
        .filter(|_| {
            let doc = strategy.new_tree(&mut runner).expect("generate").current();
            check(route, doc.as_ref().as_bytes()) == Outcome::Same
        })
        .count()
}

/// Mean µs per call of `f` over `runs` runs, after one warm-up.
pub fn micros_per_call(runs: u32, f: &dyn Fn() -> usize) -> (f64, usize) {
    let _ = f();
    let start = std::time::Instant::now();
    let mut n = 0;
    for _ in 0..runs {
        n += f();
    }
    (start.elapsed().as_secs_f64() * 1e6 / f64::from(runs), n)
}
