//! What the differential tests of the fast routes share: run a fast route and the feed-rs
//! route on one document and demand the same `ParsedFeed` whenever the fast route accepts;
//! the acceptance-rate, declines and timing checks every route file repeats.

#![allow(dead_code)]

use jiff::tz::TimeZone;
use proptest::prelude::*;
use tidings_feed::{parse, parse_with_feed_rs, FeedContext, FeedError};
use tidings_model::ParsedFeed;

pub const FEED_URL: &str = "https://feeds.example.com/feed/source";

/// A fast route on its own: `None` when it declines.
pub type Route = fn(&[u8], Option<&str>, &FeedContext) -> Option<ParsedFeed>;

pub fn shanghai() -> TimeZone {
    TimeZone::get("Asia/Shanghai").expect("bundled zone")
}

/// `route` alone on `doc`, in the context every differential test uses.
pub fn run_route(route: Route, doc: &[u8]) -> Option<ParsedFeed> {
    let tz = shanghai();
    route(doc, None, &context(&tz))
}

/// The context every differential test uses: `FEED_URL`, read in `tz`.
pub fn context(tz: &TimeZone) -> FeedContext<'_> {
    FeedContext {
        url: FEED_URL,
        timezone: tz,
    }
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
    let cx = context(&tz);
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

/// `<name attrs>body</name>`.
pub fn element(name: &str, attrs: &str, body: &str) -> String {
    format!("<{name}{attrs}>{body}</{name}>")
}

/// A `tag` element holding up to nine children from `child`; `<tag/>` when it has none.
pub fn container<S>(tag: &'static str, child: S) -> impl Strategy<Value = String> + Clone
where
    S: Strategy<Value = String> + Clone,
{
    proptest::collection::vec(child, 0..10).prop_map(move |children| {
        if children.is_empty() {
            format!("<{tag}/>")
        } else {
            format!("<{tag}>{}</{tag}>\n", children.concat())
        }
    })
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

/// Documents from `documents` with one to three pieces from `damage` spliced in.
pub fn spliced<D, P>(documents: D, damage: P) -> impl Strategy<Value = String>
where
    D: Strategy<Value = String>,
    P: Strategy<Value = String>,
{
    let edits = proptest::collection::vec((any::<prop::sample::Index>(), damage), 1..4);
    (documents, edits).prop_map(|(doc, edits)| splice(doc, edits))
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

/// Asserts that at least `min_percent` % of 400 documents drawn from `strategy` take the fast
/// route (each checked against feed-rs): the differential property tests prove nothing if it
/// declines everything. `label` and `kind` name the route and the documents in the printout.
pub fn assert_share_accepted<S: Strategy>(
    route: Route,
    label: &str,
    kind: &str,
    strategy: S,
    min_percent: usize,
) where
    S::Value: AsRef<str>,
{
    let total = 400;
    let n = accepted(route, strategy, total);
    println!("fast {label} route took {n} of {total} {kind} documents");
    assert!(n * 100 >= total * min_percent, "only {n} of {total}");
}

/// The four tests every fast route's file has: the differential property tests over valid and
/// damaged documents (named by the caller, so each file keeps its test names), and the two
/// acceptance-rate checks that keep them honest. `PROPTEST_CASES` sets the case count.
// Each test binary compiles this module; no_panic uses its helpers but not these tests.
#[allow(unused_macros)]
macro_rules! differential_tests {
    (
        route: $route:path,
        label: $label:literal,
        documents: $documents:expr,
        damaged: $damaged:expr,
        same: $same:ident,
        same_when_damaged: $same_when_damaged:ident $(,)?
    ) => {
        proptest::proptest! {
            #![proptest_config(proptest::prelude::ProptestConfig::with_cases($crate::common::cases()))]

            #[test]
            fn $same(doc in $documents) {
                $crate::common::check($route, doc.as_bytes());
            }

            #[test]
            fn $same_when_damaged(doc in $damaged) {
                $crate::common::check($route, doc.as_bytes());
            }
        }

        // Most documents of the accepted grammar must take the fast route.
        #[test]
        fn generated_documents_mostly_take_the_fast_route() {
            $crate::common::assert_share_accepted($route, $label, "generated", $documents, 80);
        }

        // Damaged documents must not all be declined either, or the splicing tests nothing.
        #[test]
        fn some_damaged_documents_take_the_fast_route() {
            $crate::common::assert_share_accepted($route, $label, "damaged", $damaged, 5);
        }
    };
}
#[allow(unused_imports)]
pub(crate) use differential_tests;

/// Asserts that `route` declines every case, and that `parse` (which then falls back to
/// feed-rs) still answers each without panicking. Returns `parse`'s answers, in order, for
/// tests that know more (e.g. that feed-rs rejects every case).
pub fn assert_declines(route: Route, cases: &[String]) -> Vec<Result<ParsedFeed, FeedError>> {
    let tz = shanghai();
    let cx = context(&tz);
    cases
        .iter()
        .map(|doc| {
            assert!(
                route(doc.as_bytes(), None, &cx).is_none(),
                "should decline:\n{doc}"
            );
            parse(doc.as_bytes(), None, &cx)
        })
        .collect()
}

/// Prints the mean time of `parse` (which takes `route` on `doc`, checked first) and of the
/// feed-rs route over `runs` runs. Printed, never asserted: timings vary by machine and load.
pub fn print_route_timing(label: &str, route: Route, doc: &str, runs: u32) {
    let tz = shanghai();
    let cx = context(&tz);
    assert!(
        route(doc.as_bytes(), None, &cx).is_some(),
        "fast route declines"
    );
    let (fast, a) = micros_per_call(runs, &|| {
        parse(doc.as_bytes(), None, &cx).map_or(0, |f| f.entries.len())
    });
    let (slow, b) = micros_per_call(runs, &|| {
        parse_with_feed_rs(doc.as_bytes(), None, &cx).map_or(0, |f| f.entries.len())
    });
    // Both routes read the same number of entries, or the comparison is meaningless.
    assert_eq!(a, b);
    println!(
        "{label} document of {} KB, {runs} runs: fast route {fast:.0} µs/doc, feed-rs route {slow:.0} µs/doc",
        doc.len() / 1024
    );
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
