use std::path::Path;

use jiff::Timestamp;
use tidings_model::Article;
use tidings_store::{
    FeedOk, FeedState, PackedBody, SqliteStore, Staged, Store, StoreError, StoredArticle,
};

const FEED: &str = "https://rsshub.example/zaker/channel/13";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn article(id: &str, published: &str) -> Article {
    Article {
        id: id.into(),
        feed_url: FEED.into(),
        guid: Some(format!("guid-{id}")),
        link: Some(format!("https://news.example/{id}")),
        title: format!("标题 {id}"),
        author: "编辑部".into(),
        categories: vec!["新媒体".into(), "ZAKER".into(), "channel".into()],
        published: ts(published),
        updated: ts(published),
        html: format!("<p>今日消息 {id}</p>"),
        lead_image: Some(format!("https://img.example/{id}/lead.jpg")),
        images: vec![format!("https://img.example/{id}/1.jpg")],
    }
}

fn staged(a: Article, base: &str) -> Staged {
    Staged {
        content_hash: a.content_hash(),
        body: PackedBody::of(&a.html),
        article: a,
        slug: None,
        slug_base: base.into(),
        path: "posts/{slug}.md".into(),
    }
}

fn ok(status: &str) -> FeedOk {
    FeedOk {
        url: FEED.into(),
        name: "zaker-13".into(),
        etag: Some("\"v1\"".into()),
        last_modified: Some("Sun, 23 Jan 2022 15:27:25 GMT".into()),
        status: status.into(),
    }
}

fn open(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("state.db")).expect("open store")
}

fn ids(list: &[StoredArticle]) -> Vec<&str> {
    list.iter().map(|s| s.article.id.as_str()).collect()
}

fn all(store: &SqliteStore) -> Vec<StoredArticle> {
    let mut out = Vec::new();
    store
        .for_each_article(&mut |a| {
            out.push(a);
            Ok(())
        })
        .unwrap();
    out
}

#[test]
fn stage_then_publish_clears_pending() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = article("a1", "2022-01-23T15:27:25Z");
    let b = article("b2", "2022-01-24T15:27:25Z");
    let stored = store
        .stage(&ok("200"), vec![staged(a, "first"), staged(b, "second")])
        .unwrap();
    assert_eq!(ids(&stored), ["a1", "b2"]);
    assert_eq!(stored[0].path, "posts/first.md");
    assert_eq!(ids(&store.pending().unwrap()), ["b2", "a1"]);

    store.mark_published(&["a1", "unknown-id"]).unwrap();
    assert_eq!(ids(&store.pending().unwrap()), ["b2"]);
    store.mark_published(&["b2"]).unwrap();
    assert!(store.pending().unwrap().is_empty());
    // Published articles are still live for the site builder.
    assert_eq!(all(&store).len(), 2);
}

#[test]
fn known_returns_hash_slug_and_date() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let a = article("k1", "2022-01-23T15:27:25.123456789Z");
    let hash = a.content_hash();
    store.stage(&ok("200"), vec![staged(a, "slug-k")]).unwrap();
    let known = store.known(&["k1", "missing", "k1"]).unwrap();
    assert_eq!(known.len(), 1);
    let k = &known["k1"];
    assert_eq!(k.content_hash, hash);
    assert_eq!(k.slug, "slug-k");
    assert_eq!(k.published, ts("2022-01-23T15:27:25.123456789Z"));
    assert!(store.known(&[]).unwrap().is_empty());
    // Ids are data, never SQL.
    assert!(store.known(&["' OR 1=1 --", "\"]"]).unwrap().is_empty());
}

#[test]
fn slugs_get_numbered_suffixes_case_insensitively() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let batch = vec![
        staged(article("s1", "2022-01-01T00:00:00Z"), "x"),
        staged(article("s2", "2022-01-02T00:00:00Z"), "x"),
    ];
    let first = store.stage(&ok("200"), batch).unwrap();
    let third = store
        .stage(
            &ok("200"),
            vec![staged(article("s3", "2022-01-03T00:00:00Z"), "X")],
        )
        .unwrap();
    assert_eq!(first[0].slug, "x");
    assert_eq!(first[1].slug, "x-2");
    assert_eq!(third[0].slug, "X-3");
    assert_eq!(third[0].path, "posts/X-3.md");

    let abc = store
        .stage(
            &ok("200"),
            vec![
                staged(article("c1", "2022-01-01T00:00:00Z"), "ABC"),
                staged(article("c2", "2022-01-01T00:00:00Z"), "abc"),
                // Unicode case folding too: case-insensitive file systems fold Ä/ä.
                staged(article("c3", "2022-01-01T00:00:00Z"), "Äpfel"),
                staged(article("c4", "2022-01-01T00:00:00Z"), "äpfel"),
                // A base that already looks suffixed does not confuse the scan.
                staged(article("c5", "2022-01-01T00:00:00Z"), "x-2"),
            ],
        )
        .unwrap();
    let slugs: Vec<&str> = abc.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, ["ABC", "abc-2", "Äpfel", "äpfel-2", "x-2-2"]);
}

#[test]
fn tombstones_keep_their_slug_and_never_return() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store
        .stage(
            &ok("200"),
            vec![staged(article("t1", "2022-01-01T00:00:00Z"), "old")],
        )
        .unwrap();
    store.tombstone(&["t1"]).unwrap();
    assert!(store.known(&["t1"]).unwrap().contains_key("t1"));
    assert!(all(&store).is_empty());
    let again = store
        .stage(
            &ok("200"),
            vec![
                staged(article("t1", "2022-01-05T00:00:00Z"), "old"),
                staged(article("t2", "2022-01-05T00:00:00Z"), "old"),
            ],
        )
        .unwrap();
    assert_eq!(ids(&again), ["t2"]);
    assert_eq!(again[0].slug, "old-2");
    assert!(store
        .pending()
        .unwrap()
        .iter()
        .all(|s| s.article.id != "t1"));
}

#[test]
fn update_keeps_its_slug() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let a = article("u1", "2022-01-01T00:00:00Z");
    let first = store
        .stage(&ok("200"), vec![staged(a.clone(), "original")])
        .unwrap();
    store.mark_published(&["u1"]).unwrap();

    let mut changed = a.clone();
    changed.title = "改了标题".into();
    changed.html = "<p>更新</p>".into();
    // Even a caller that forgot the slug (None) or proposes another keeps the stored one.
    let mut proposal = staged(changed.clone(), "renamed");
    proposal.slug = Some("something-else".into());
    proposal.path = "new/{slug}.html".into();
    let second = store.stage(&ok("200"), vec![proposal]).unwrap();
    assert_eq!(second[0].slug, first[0].slug);
    assert_eq!(second[0].path, "new/original.html");
    assert_eq!(
        store.known(&["u1"]).unwrap()["u1"].content_hash,
        changed.content_hash()
    );
    // An update is pending again until it is written.
    assert_eq!(ids(&store.pending().unwrap()), ["u1"]);
    assert_eq!(store.pending().unwrap()[0].article, changed);
}

#[test]
fn failures_count_and_success_resets() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    assert_eq!(store.feed_state(FEED).unwrap(), None);
    let retry = ts("2030-01-01T00:00:00Z");
    store
        .record_failure(FEED, "zaker-13", "HTTP 503 from upstream", Some(retry))
        .unwrap();
    store
        .record_failure(FEED, "zaker-13", "timed out", None)
        .unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!(st.consecutive_failures, 2);
    assert_eq!(st.last_error.as_deref(), Some("timed out"));
    assert_eq!(st.last_status.as_deref(), Some("error"));
    assert_eq!(st.retry_after, None);
    assert_eq!(st.last_ok, None);

    store
        .record_failure(FEED, "zaker-13", "again", Some(retry))
        .unwrap();
    assert_eq!(
        store.feed_state(FEED).unwrap().unwrap().retry_after,
        Some(retry)
    );

    store
        .stage(
            &ok("200"),
            vec![staged(article("f1", "2022-01-01T00:00:00Z"), "f")],
        )
        .unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!(st.consecutive_failures, 0);
    assert_eq!(st.last_status.as_deref(), Some("200"));
    assert_eq!(st.last_error, None);
    assert_eq!(st.retry_after, None);
    assert!(st.last_ok.is_some());
    assert_eq!(st.articles, 1);
}

#[test]
fn failure_keeps_validators() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.record_not_modified(&ok("304")).unwrap();
    store
        .record_failure(FEED, "zaker-13", "reset", None)
        .unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!(st.etag.as_deref(), Some("\"v1\""));
    assert_eq!(st.consecutive_failures, 1);
}

#[test]
fn validators_round_trip() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.stage(&ok("200"), vec![]).unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!(st.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        st.last_modified.as_deref(),
        Some("Sun, 23 Jan 2022 15:27:25 GMT")
    );

    // A 304 without validators keeps ours; with new ones, takes them.
    let mut bare = ok("304");
    bare.etag = None;
    bare.last_modified = None;
    store.record_not_modified(&bare).unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!(st.etag.as_deref(), Some("\"v1\""));
    assert_eq!(st.last_status.as_deref(), Some("304"));
    let mut fresh = ok("304");
    fresh.etag = Some("W/\"v2\"".into());
    store.record_not_modified(&fresh).unwrap();
    assert_eq!(
        store.feed_state(FEED).unwrap().unwrap().etag.as_deref(),
        Some("W/\"v2\"")
    );

    // A 200 without validators clears them: the server stopped sending them.
    store.stage(&bare_200(), vec![]).unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    assert_eq!((st.etag, st.last_modified), (None, None));
}

fn bare_200() -> FeedOk {
    FeedOk {
        etag: None,
        last_modified: None,
        ..ok("200")
    }
}

#[test]
fn images_are_recorded() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    assert!(!store
        .is_published_image("https://img.example/i1/1.jpg")
        .unwrap());
    let mut a = article("i1", "2022-01-01T00:00:00Z");
    a.lead_image = Some("https://cdn.example/enclosure.jpg".into());
    store.stage(&ok("200"), vec![staged(a, "img")]).unwrap();
    assert!(store
        .is_published_image("https://img.example/i1/1.jpg")
        .unwrap());
    assert!(store
        .is_published_image("https://cdn.example/enclosure.jpg")
        .unwrap());
    assert!(!store
        .is_published_image("https://img.example/i1/1.JPG")
        .unwrap());
    assert!(!store.is_published_image("https://img.example/i1/").unwrap());
}

#[test]
fn for_each_is_newest_first_and_stops_on_error() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let batch = vec![
        staged(article("o1", "2021-06-01T00:00:00Z"), "o1"),
        staged(article("o3", "2023-06-01T00:00:00Z"), "o3"),
        staged(article("o2", "2022-06-01T00:00:00.5Z"), "o2"),
        staged(article("o0", "2022-06-01T00:00:00Z"), "o0"),
    ];
    store.stage(&ok("200"), batch).unwrap();
    assert_eq!(ids(&all(&store)), ["o3", "o2", "o0", "o1"]);

    let mut seen = 0;
    let err = store
        .for_each_article(&mut |a| {
            seen += 1;
            Err(StoreError::Corrupt {
                what: format!("article {}", a.article.id),
                field: "test",
                detail: "stop".into(),
            })
        })
        .unwrap_err();
    assert_eq!(seen, 1);
    assert!(err.to_string().contains("o3"), "{err}");
}

#[test]
fn reopen_persists_everything() {
    let dir = tempfile::tempdir().unwrap();
    let a = article("p1", "2022-01-23T15:27:25Z");
    {
        let mut store = open(dir.path());
        store
            .stage(&ok("200"), vec![staged(a.clone(), "persist")])
            .unwrap();
        store.mark_published(&["p1"]).unwrap();
        store
            .record_failure("https://other.example/feed", "other", "DNS", None)
            .unwrap();
    }
    let store = open(dir.path());
    let list = all(&store);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].article, a);
    assert_eq!(list[0].slug, "persist");
    assert!(store.pending().unwrap().is_empty());
    assert!(store
        .is_published_image("https://img.example/p1/1.jpg")
        .unwrap());
    let feeds = store.feeds().unwrap();
    let names: Vec<&str> = feeds.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, ["other", "zaker-13"]);
    assert_eq!(feeds[0].2.consecutive_failures, 1);
    assert_eq!(feeds[1].2.articles, 1);
    assert_eq!(feeds[1].0, FEED);
}

#[test]
fn reopening_is_a_no_op_and_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(SqliteStore::open(&path).unwrap());
    drop(SqliteStore::open(&path).unwrap());
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, tidings_store::SCHEMA_VERSION);
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(
        matches!(err, StoreError::TooNew { found: 99, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("99") && msg.contains("state.db"), "{msg}");
}

#[test]
fn not_a_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    std::fs::write(
        &path,
        b"this is not sqlite, just some text that is long enough",
    )
    .unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(err.to_string().contains("state.db"), "{err}");
}

#[test]
fn article_fields_round_trip_exactly() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mut odd = article("r1", "1969-07-20T20:17:40.000000001Z");
    odd.guid = None;
    odd.link = Some(String::new());
    odd.title = "a'b\"c\\d\n\te\u{0}f 😀".into();
    odd.author = String::new();
    odd.categories = vec![
        "a,b".into(),
        "line\nbreak".into(),
        "\u{1f}unit".into(),
        String::new(),
        "[\"json\"]".into(),
        "新媒体".into(),
    ];
    odd.updated = ts("2262-04-12T00:00:00.999999999Z");
    odd.html = String::new();
    odd.lead_image = None;
    odd.images = vec![];
    let mut empty_cats = article("r2", "2022-01-01T00:00:00Z");
    empty_cats.categories = vec![];
    empty_cats.guid = Some(String::new());
    empty_cats.lead_image = Some(String::new());
    let mut one_empty = article("r3", "2022-01-01T00:00:00Z");
    one_empty.categories = vec![String::new()];

    let input = vec![odd.clone(), empty_cats.clone(), one_empty.clone()];
    let staged_list = input.iter().map(|a| staged(a.clone(), &a.id)).collect();
    store.stage(&ok("200"), staged_list).unwrap();
    let mut back: Vec<Article> = all(&store).into_iter().map(|s| s.article).collect();
    back.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(back, input);
}

#[test]
fn failing_batch_rolls_back_everything() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store
        .stage(
            &ok("200"),
            vec![staged(article("e1", "2022-01-01T00:00:00Z"), "taken")],
        )
        .unwrap();
    // The second article forces a slug that is taken (case-insensitively): the whole batch,
    // feed row included, must roll back.
    let mut clash = staged(article("e3", "2022-01-01T00:00:00Z"), "ignored");
    clash.slug = Some("TAKEN".into());
    let mut failing = ok("200");
    failing.etag = Some("\"never\"".into());
    let err = store
        .stage(
            &failing,
            vec![
                staged(article("e2", "2022-01-01T00:00:00Z"), "fresh"),
                clash,
            ],
        )
        .unwrap_err();
    assert!(err.to_string().contains("e3"), "{err}");
    assert!(store.known(&["e2", "e3"]).unwrap().is_empty());
    assert_eq!(
        store.feed_state(FEED).unwrap().unwrap().etag.as_deref(),
        Some("\"v1\"")
    );
    assert!(!store
        .is_published_image("https://img.example/e2/1.jpg")
        .unwrap());
}

#[test]
fn article_of_unknown_feed_is_refused() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    let mut a = article("x1", "2022-01-01T00:00:00Z");
    a.feed_url = "https://elsewhere.example/feed".into();
    let err = store.stage(&ok("200"), vec![staged(a, "x")]).unwrap_err();
    assert!(err.to_string().contains("x1"), "{err}");
}

#[test]
fn feed_state_defaults() {
    let mut store = SqliteStore::open_in_memory().unwrap();
    store.record_not_modified(&ok("304")).unwrap();
    let st = store.feed_state(FEED).unwrap().unwrap();
    let expected = FeedState {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Sun, 23 Jan 2022 15:27:25 GMT".into()),
        last_status: Some("304".into()),
        last_ok: st.last_ok,
        ..FeedState::default()
    };
    assert_eq!(st, expected);
    assert!(st.last_ok.is_some());
}

#[test]
fn file_database_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    drop(SqliteStore::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn heads_are_the_articles_without_bodies_and_bodies_come_one_by_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let batch = vec![
        staged(article("h1", "2021-06-01T00:00:00Z"), "h1"),
        staged(article("h3", "2023-06-01T00:00:00Z"), "h3"),
        staged(article("h2", "2022-06-01T00:00:00.5Z"), "h2"),
    ];
    store.stage(&ok("200"), batch).unwrap();
    store.tombstone(&["h1"]).unwrap();
    let full = all(&store);
    let mut heads = Vec::new();
    store
        .for_each_article_head(&mut |a| {
            heads.push(a);
            Ok(())
        })
        .unwrap();
    assert_eq!(ids(&heads), ["h3", "h2"]);
    for (head, whole) in heads.iter().zip(&full) {
        assert!(head.article.html.is_empty() && head.article.images.is_empty());
        let mut expected = whole.clone();
        expected.article.html.clear();
        expected.article.images.clear();
        assert_eq!(head, &expected);
        let html = store.article_html(&head.article.id).unwrap();
        assert_eq!(html.as_deref(), Some(whole.article.html.as_str()));
    }
    assert_eq!(store.article_html("h1").unwrap(), None, "pruned");
    assert_eq!(store.article_html("nope").unwrap(), None);
    assert_eq!(store.article_html("' OR 1=1 --").unwrap(), None);
}

#[test]
fn heads_come_in_date_order_without_sorting_or_bodies() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let conn = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id, feed_url, guid, link, title, author, categories, \
             published, published_ns, updated, updated_ns, lead_image, content_hash, slug, path \
             FROM articles WHERE state != 'tombstone' \
             ORDER BY published DESC, published_ns DESC, id",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join("; ");
    assert!(plan.contains("INDEX articles_by_date"), "{plan}");
    assert!(
        !plan.contains("TEMP B-TREE") && !plan.contains("bodies"),
        "{plan}"
    );
}

#[test]
fn feed_counts_never_read_the_article_rows() {
    // `feeds()` runs at the start of every sync: counting a feed's articles must not walk
    // their bodies (state is stored after html).
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let conn = rusqlite::Connection::open(dir.path().join("state.db")).unwrap();
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM articles a \
             WHERE a.feed_url = 'http://x/' AND a.state != 'tombstone'",
            [],
            |r| r.get(3),
        )
        .unwrap();
    assert!(
        plan.contains("COVERING INDEX articles_by_feed_state"),
        "{plan}"
    );
}

/// A store on disk holding one article, `id`, for tests that then change its row by hand.
fn one_article(id: &str) -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let a = article(id, "2022-01-23T15:27:25Z");
    store.stage(&ok("200"), vec![staged(a, id)]).unwrap();
    (dir, store)
}

/// Direct access to the file, for what the API never does: damage, old rows.
fn raw(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("state.db")).unwrap()
}

#[test]
fn bodies_are_stored_compressed_and_read_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    let mut a = article("z1", "2022-01-23T15:27:25Z");
    a.html = "<p>缆车沿着山脊缓缓上行，游客在车厢里看云。</p>\n".repeat(200);
    store
        .stage(&ok("200"), vec![staged(a.clone(), "z")])
        .unwrap();
    let (html, packed): (String, Vec<u8>) = raw(dir.path())
        .query_row(
            "SELECT b.html, b.body FROM articles a JOIN bodies b ON b.seq = a.seq \
             WHERE a.id = 'z1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(html.is_empty());
    assert!(packed.len() * 4 < a.html.len(), "{} bytes", packed.len());
    assert_eq!(store.article_html("z1").unwrap(), Some(a.html.clone()));
    assert_eq!(all(&store)[0].article.html, a.html);
    assert_eq!(store.pending().unwrap()[0].article.html, a.html);
}

#[test]
fn rows_from_before_compression_still_read() {
    let (dir, store) = one_article("o1");
    // How a version-4 store left its rows: text in `html`, no `body`.
    raw(dir.path())
        .execute(
            "UPDATE bodies SET html = '<p>旧的正文</p>', body = NULL \
             WHERE seq = (SELECT seq FROM articles WHERE id = 'o1')",
            [],
        )
        .unwrap();
    assert_eq!(
        store.article_html("o1").unwrap().as_deref(),
        Some("<p>旧的正文</p>")
    );
    assert_eq!(all(&store)[0].article.html, "<p>旧的正文</p>");
}

#[test]
fn a_damaged_body_is_a_named_error_not_a_huge_allocation() {
    let (dir, store) = one_article("d1");
    // A size field of 4 GiB - 1 followed by garbage.
    raw(dir.path())
        .execute(
            "UPDATE bodies SET body = x'FFFFFFFF0102030405' \
             WHERE seq = (SELECT seq FROM articles WHERE id = 'd1')",
            [],
        )
        .unwrap();
    let err = store.article_html("d1").unwrap_err().to_string();
    assert!(err.contains("d1") && err.contains("body"), "{err}");
    raw(dir.path())
        .execute(
            "UPDATE bodies SET body = x'0A000000FF' \
             WHERE seq = (SELECT seq FROM articles WHERE id = 'd1')",
            [],
        )
        .unwrap();
    let err = store.article_html("d1").unwrap_err().to_string();
    assert!(err.contains("d1"), "{err}");
}

/// `n` articles of about 8 KB of text that does not compress.
fn bulky(n: usize) -> Vec<Staged> {
    let mut x: u32 = 12345;
    (0..n)
        .map(|i| {
            let mut a = article(&format!("bulk{i}"), "2022-01-23T15:27:25Z");
            a.html = (0..2700)
                .map(|_| {
                    x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    char::from_u32(0x4E00 + (x >> 16) % 20_000).unwrap()
                })
                .collect();
            staged(a, &format!("bulk-{i}"))
        })
        .collect()
}

fn main_file_len(dir: &Path) -> u64 {
    std::fs::metadata(dir.join("state.db")).unwrap().len()
}

#[test]
fn the_background_checkpointer_copies_the_log_into_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    // Without it, 2 MB stay in the log: SQLite checkpoints on its own only after 32 MB.
    store.stage(&ok("200"), bulky(250)).unwrap();
    assert!(main_file_len(dir.path()) < 1 << 20);
    let checkpointer = store.checkpoint_in_background().unwrap();
    store.stage(&ok("200"), bulky(250)).unwrap();
    drop(checkpointer);
    assert!(
        main_file_len(dir.path()) > 2 << 20,
        "{} bytes",
        main_file_len(dir.path())
    );
    // The store goes on working, and the data reads back.
    assert_eq!(all(&store).len(), 250);
    // In memory there is no log: nothing to do, no thread.
    let mut memory = SqliteStore::open_in_memory().unwrap();
    drop(memory.checkpoint_in_background().unwrap());
}

#[test]
fn a_batch_is_invisible_until_committed_and_a_failing_feed_rolls_back_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(dir.path());
    store.begin_batch().unwrap();
    store
        .stage(
            &ok("200"),
            vec![staged(article("b1", "2022-01-01T00:00:00Z"), "taken")],
        )
        .unwrap();
    // Same connection: the batch sees its own rows (slugs are allocated against them).
    assert_eq!(store.known(&["b1"]).unwrap().len(), 1);
    // Another connection does not, before the commit.
    let others = || -> i64 {
        raw(dir.path())
            .query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(others(), 0);
    // A feed that fails inside the batch undoes the whole batch.
    let mut clash = staged(article("b3", "2022-01-01T00:00:00Z"), "ignored");
    clash.slug = Some("TAKEN".into());
    let err = store
        .stage(
            &ok("200"),
            vec![
                staged(article("b2", "2022-01-01T00:00:00Z"), "fresh"),
                clash,
            ],
        )
        .unwrap_err();
    assert!(err.to_string().contains("b3"), "{err}");
    assert!(store.known(&["b1", "b2", "b3"]).unwrap().is_empty());
    // Committing after the rollback is a no-op, and the store goes on working.
    store.commit_batch().unwrap();
    assert_eq!(others(), 0);
    store.begin_batch().unwrap();
    store
        .stage(
            &ok("200"),
            vec![staged(article("b1", "2022-01-01T00:00:00Z"), "taken")],
        )
        .unwrap();
    store.mark_published(&["b1"]).unwrap();
    store.commit_batch().unwrap();
    assert_eq!(others(), 1);
    assert_eq!(ids(&all(&store)), ["b1"]);
    assert!(store.pending().unwrap().is_empty());
}
