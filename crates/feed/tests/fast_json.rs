//! The fast JSON Feed route against the feed-rs route: whenever the fast route accepts a
//! document, the whole `ParsedFeed` must equal feed-rs's. Documents come from a grammar of
//! JSON Feed 1.0 / 1.1, and from damaged variants: odd members put into objects (wrong
//! types, duplicates, array-form structs, bad versions) and stray characters anywhere.

mod common;

use common::{
    assert_declines, check, pick, print_route_timing, run_route, splice, Outcome, FEED_URL,
};
use proptest::prelude::*;
use tidings_feed::parse_fast_json;

fn json(doc: &str) -> Outcome {
    check(parse_fast_json, doc.as_bytes())
}

/// JSON string literals (quoted): escapes, CJK, controls, HTML, padding.
fn string() -> impl Strategy<Value = String> + Clone {
    pick(&[
        r#""Hello""#,
        r#""运河边的早市""#,
        r#""  padded  ""#,
        r#""""#,
        r#"" ""#,
        r#""Tea &amp; biscuits""#,
        r#""<p>Hi <b>world</b> <img src=\"img/a.jpg\"></p>""#,
        r#""line\nbreak\r\n""#,
        r#""\u4e2d\u6587""#,
        r#""ctl\u0000\u0007x""#,
        r#""quote \" slash \/ back \\""#,
        r#""\ud83d\ude00""#,
        r#""\t tabbed \t""#,
        r#""&lt;b&gt;""#,
    ])
}

fn url() -> impl Strategy<Value = String> + Clone {
    pick(&[
        r#""https://j.example.net/p/1""#,
        r#""/p/2""#,
        r#""p/3""#,
        r#""""#,
        r#""  https://j.example.net/p/4 ""#,
        r#""javascript:alert(1)""#,
        r#""https://img.example.net/a.png""#,
        r#""http://[bad""#,
        r#""https:\/\/j.example.net\/p\/5""#,
    ])
}

fn date() -> impl Strategy<Value = String> + Clone {
    pick(&[
        r#""2021-10-28T14:08:07+08:00""#,
        r#""2021-10-28 14:08:07""#,
        r#""1635401287123""#,
        r#""Thu, 28 Oct 2021 14:08:07 CST""#,
        r#""garbage""#,
        r#""""#,
        r#""  2024-02-29T12:00:00Z  ""#,
    ])
}

fn author() -> impl Strategy<Value = String> + Clone {
    let name = proptest::option::of(pick(&[
        r#""Zhang San""#,
        r#""desk@example.cn (编辑)""#,
        r#""a@example.cn""#,
        r#""""#,
        r#""  spaced  ""#,
        r#""编辑部""#,
        r#""Li <li@example.org>""#,
    ]));
    let url = proptest::option::of(url());
    (name, url).prop_map(|(name, url)| object(&[("name", name), ("url", url)]))
}

fn attachment() -> impl Strategy<Value = String> + Clone {
    let mime = pick(&[
        r#""image/png""#,
        r#""image/jpeg""#,
        r#""audio/mpeg""#,
        r#""IMAGE/PNG""#,
        r#""""#,
    ]);
    let title = proptest::option::of(string());
    let size = proptest::option::of(pick(&["0", "12345", "null"]));
    (url(), mime, title, size).prop_map(|(url, mime, title, size)| {
        object(&[
            ("url", Some(url)),
            ("mime_type", Some(mime)),
            ("title", title),
            ("size_in_bytes", size),
        ])
    })
}

/// A JSON object of the members that are present.
fn object(members: &[(&str, Option<String>)]) -> String {
    let body: Vec<String> = members
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("\"{k}\": {v}")))
        .collect();
    format!("{{{}}}", body.join(", "))
}

fn array(items: Vec<String>) -> String {
    format!("[{}]", items.join(", "))
}

fn opt<S: Strategy<Value = String> + Clone>(s: S) -> impl Strategy<Value = Option<String>> + Clone {
    proptest::option::weighted(0.5, s)
}

fn list<S: Strategy<Value = String> + Clone>(
    s: S,
    max: usize,
) -> impl Strategy<Value = String> + Clone {
    proptest::collection::vec(s, 0..max).prop_map(array)
}

fn item() -> impl Strategy<Value = String> + Clone {
    let ids = (
        opt(prop_oneof![
            string(),
            pick(&[r#""j-1""#, r#""j-2""#, r#""  j-3 ""#, "null"])
        ]),
        opt(url()),
        opt(url()),
        opt(string()),
    );
    let content = (opt(string()), opt(string()), opt(string()));
    let dates = (opt(date()), opt(date()));
    let people = (opt(author()), opt(list(author(), 3)));
    let extra = (
        opt(list(string(), 3)),
        opt(list(attachment(), 3)),
        opt(url()),
        opt(pick(&[r#"{"about": [1, 2.5, {"x": null}], "ok": true}"#])),
    );
    (ids, content, dates, people, extra).prop_map(
        |(
            (id, u, ext, title),
            (html, text, summary),
            (publ, modi),
            (a, aa),
            (tags, att, image, x),
        )| {
            object(&[
                ("id", id),
                ("url", u),
                ("external_url", ext),
                ("title", title),
                ("content_html", html),
                ("content_text", text),
                ("summary", summary),
                ("date_published", publ),
                ("date_modified", modi),
                ("author", a),
                ("authors", aa),
                ("tags", tags),
                ("attachments", att),
                ("image", image),
                ("_ext", x),
            ])
        },
    )
}

fn document() -> impl Strategy<Value = String> {
    let version = pick(&[
        r#""https://jsonfeed.org/version/1""#,
        r#""https://jsonfeed.org/version/1.1""#,
    ]);
    let head = (
        version,
        string(),
        opt(url()),
        opt(url()),
        opt(string()),
        opt(pick(&[r#""zh-CN""#])),
    );
    let people = (opt(author()), opt(list(author(), 3)));
    let items = proptest::collection::vec(item(), 0..5).prop_map(array);
    let padding = pick(&["", "\n", "  \n\t"]);
    (head, people, items, padding).prop_map(
        |((version, title, home, feed_url, description, language), (a, aa), items, pad)| {
            let doc = object(&[
                ("version", Some(version)),
                ("title", Some(title)),
                ("home_page_url", home),
                ("feed_url", feed_url),
                ("description", description),
                ("language", language),
                (
                    "icon",
                    Some(r#""https://j.example.net/icon.png""#.to_string()),
                ),
                (
                    "banner_image",
                    Some(r#""https://j.example.net/b.png""#.to_string()),
                ),
                ("author", a),
                ("authors", aa),
                ("items", Some(items)),
            ]);
            format!("{pad}{doc}{pad}")
        },
    )
}

/// Members that are valid JSON but odd for the schema, put at the start of some object.
fn odd_member() -> impl Strategy<Value = String> + Clone {
    pick(&[
        r#""id": 7,"#,
        r#""id": null,"#,
        r#""title": null,"#,
        r#""title": "dup","#,
        r#""title": 5,"#,
        r#""items": [],"#,
        r#""items": {},"#,
        r#""version": "https://jsonfeed.org/version/2","#,
        r#""version": "https://jsonfeed.org/version/1xyz","#,
        r#""version": "http://jsonfeed.org/version/1","#,
        r#""size_in_bytes": -1,"#,
        r#""size_in_bytes": 1.5,"#,
        r#""size_in_bytes": 18446744073709551616,"#,
        r#""tags": ["a", 1],"#,
        r#""tags": "solo","#,
        r#""authors": [{"name": "编辑——a@example.cn"}],"#,
        r#""author": {"name": "a@example.cn——编辑"},"#,
        r#""author": "x","#,
        r#""author": ["Li", "https://li.example"],"#,
        r#""authors": [["Wu", null]],"#,
        r#""attachments": [["https://i.example/a.png", "image/png", null, 5]],"#,
        r#""attachments": [{"url": "https://i.example/b.png"}],"#,
        r#""content_html": "\ud800","#,
        r#""content_html": "\u0000\u001f","#,
        r#""url": "https://dup.example","#,
        r#""name": "dup","#,
        r#""name": ["x"],"#,
        r#""mime_type": "image/jpeg","#,
        r#""nested": [[[[[[[[{"a": [[[[]]]]}]]]]]]]],"#,
        r#""content_text": "  only text  ","#,
        r#""summary": null,"#,
        r#""date_published": 1635401287,"#,
        r#""external_url": "https://ext.example/x","#,
    ])
}

fn stray() -> impl Strategy<Value = String> + Clone {
    pick(&[
        ",", "}", "]", "\"", "\\", "null", "{", "[", ":", " ", "\u{0}", "1e999", "// c",
    ])
}

fn damaged_document() -> impl Strategy<Value = String> {
    let members = proptest::collection::vec((any::<prop::sample::Index>(), odd_member()), 1..4);
    let strays = proptest::collection::vec((any::<prop::sample::Index>(), stray()), 0..2);
    (document(), members, strays).prop_map(|(mut doc, members, strays)| {
        for (at, member) in members {
            let opens: Vec<usize> = doc.match_indices('{').map(|(i, _)| i + 1).collect();
            let i = opens[at.index(opens.len())];
            doc.insert_str(i, &member);
        }
        splice(doc, strays)
    })
}

common::differential_tests! {
    route: parse_fast_json,
    label: "JSON",
    documents: document(),
    damaged: damaged_document(),
    same: fast_json_equals_feed_rs,
    same_when_damaged: fast_json_equals_feed_rs_on_damaged_documents,
}

/// The benchmark corpus's JSON shape (crates/bench `fn json`), with our own text.
fn bench_shaped(items: usize, paragraphs: usize) -> String {
    let items: Vec<String> = (0..items)
        .map(|i| {
            let html: String = (0..paragraphs)
                .map(|p| {
                    format!(
                        "<p>第{p}段：雨后的石板路泛着光，\\\"早点铺\\\"的蒸笼冒着白汽。\
                         <img src=\\\"/img/{i}_{p}.jpg\\\"></p>"
                    )
                })
                .collect();
            format!(
                "{{\"content_html\":\"{html}\",\"date_published\":\"2021-10-28T06:{:02}:07Z\",\
                 \"id\":\"json-{i}\",\"title\":\"石板路 第{i}篇\",\"url\":\"http://www.news.example/j/{i}\"}}",
                i % 60
            )
        })
        .collect();
    format!(
        "{{\"items\":[{}],\"title\":\"基准频道 5\",\"version\":\"https://jsonfeed.org/version/1.1\"}}",
        items.join(",")
    )
}

#[test]
fn bench_shape_takes_the_fast_route() {
    let doc = bench_shaped(20, 8);
    assert_eq!(json(&doc), Outcome::Same);
    let feed = run_route(parse_fast_json, doc.as_bytes()).expect("fast route");
    assert_eq!(feed.entries.len(), 20);
    assert_eq!(feed.title.as_deref(), Some("基准频道 5"));
    let e = &feed.entries[3];
    assert_eq!(e.title, "石板路 第3篇");
    assert_eq!(e.guid.as_deref(), Some("json-3"));
    assert_eq!(e.link.as_deref(), Some("http://www.news.example/j/3"));
    assert!(e.content.starts_with("<p>第0段"), "{}", e.content);
    assert!(e.content.contains("\"早点铺\""), "{}", e.content);
    assert!(e.published.is_some());
}

#[test]
fn json_fixture_takes_the_fast_route() {
    let path = format!("{}/tests/fixtures/feed.json", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert_eq!(check(parse_fast_json, &doc), Outcome::Same);
}

#[test]
fn reads_what_feed_rs_reads() {
    let doc = r#"{"version": "https://jsonfeed.org/version/1", "title": "  站 ",
        "feed_url": "https://j.example/feed.json", "home_page_url": "https://j.example/",
        "authors": [{"name": "Feed Person"}],
        "items": [
          {"id": " a ", "external_url": "/ext", "content_html": "  ", "content_text": " plain ",
           "attachments": [{"url": "https://j.example/a.mp3", "mime_type": "audio/mpeg"},
                           {"url": "/pic.png", "mime_type": "image/png"}]},
          {"author": {"name": "desk@example.cn"}, "authors": [{"name": "Later"}],
           "content_text": "t", "summary": "s"}
        ]}"#;
    assert_eq!(json(doc), Outcome::Same);
    let feed = run_route(parse_fast_json, doc.as_bytes()).expect("accepted");
    // home_page_url is pushed first, whatever the member order.
    assert_eq!(feed.link.as_deref(), Some("https://j.example/"));
    assert_eq!(feed.title.as_deref(), Some("站"));
    let (a, b) = (&feed.entries[0], &feed.entries[1]);
    assert_eq!(a.guid.as_deref(), Some("a"));
    assert_eq!(a.link.as_deref(), Some("https://j.example/ext"));
    // Blank HTML loses to the summary, which content_text became.
    assert_eq!(a.content, "plain");
    assert_eq!(a.author.as_deref(), Some("Feed Person"));
    assert_eq!(a.media_image.as_deref(), Some("https://j.example/pic.png"));
    // An email-only first author has no name, and hides the later one.
    assert_eq!(b.author, None);
    assert_eq!(b.content, "t");
}

/// Documents the fast route must leave to feed-rs (which errs or panics on each).
#[test]
fn declines_what_feed_rs_rejects() {
    let cases = [
        r#"{"version": "https://jsonfeed.org/version/2", "title": "t", "items": []}"#.to_string(),
        r#"{"title": "t", "items": []}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "items": []}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t"}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "title": "u", "items": []}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [{"id": 1}]}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [{"tags": [1]}]}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [{"attachments": [{"url": "u", "mime_type": "m", "size_in_bytes": -1}]}]}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "\ud800", "items": []}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [{"authors": [{"name": "编辑——a@example.cn"}]}]}"#.to_string(),
        r#"{"version": "https://jsonfeed.org/version/1", "title": "t", "items": []} trailing"#.to_string(),
        format!(
            r#"{{"version": "https://jsonfeed.org/version/1", "title": "t", "items": [], "author": {}{}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        ),
    ];
    for (doc, answer) in cases.iter().zip(assert_declines(parse_fast_json, &cases)) {
        let Err(err) = answer else {
            panic!("feed-rs should reject:\n{doc}");
        };
        assert!(err.to_string().contains(FEED_URL), "{err}");
    }
}

/// Timing of both routes on a bench-shaped JSON Feed (printed, never asserted):
/// `cargo test --release -p tidings-feed --test fast_json route_timing -- --ignored --nocapture`
#[test]
#[ignore]
fn route_timing() {
    print_route_timing("JSON", parse_fast_json, &bench_shaped(20, 55), 300);
}
