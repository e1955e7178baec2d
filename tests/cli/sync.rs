//! `tidings sync` end to end on the bundled sample feeds.

use crate::common::{front_matter, Blog, Server, HEXO_HEAD};

fn blog(server: &Server) -> Blog {
    Blog::new(&format!("{HEXO_HEAD}{}", server.sample_feeds()))
}

#[test]
fn first_sync_publishes_every_sample_article() {
    let server = Server::start();
    let blog = blog(&server);
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("feeds: 6 ok, 0 failed; posts: 13 new, 0 updated, 0 unchanged"),
        "{run:?}"
    );
    assert_eq!(blog.snapshot().len(), 13);
}

#[test]
fn second_sync_leaves_every_file_byte_and_mtime_identical() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let before = blog.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("posts: 0 new, 0 updated"), "{run:?}");
    assert_eq!(blog.snapshot(), before);
}

#[test]
fn unchanged_feed_body_without_etag_is_still_a_no_op() {
    // A body that differs only in bytes (so its ETag changes) is re-parsed, every article is
    // found unchanged by hash, and no file is touched.
    let server = Server::start();
    let body = tidings_demo::sample(&tidings_demo::FEEDS[0], &server.server.origin()).body;
    server
        .server
        .set("/plain.xml", "application/rss+xml", body.clone());
    let feed = format!(
        "{HEXO_HEAD}\n[[feed]]\nurl = {:?}\ncategories = [\"a\"]\n",
        server.server.url("/plain.xml")
    );
    let blog = Blog::new(&feed);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let before = blog.snapshot();
    let mut changed = body;
    changed.extend_from_slice(b"<!-- refreshed -->");
    server
        .server
        .set("/plain.xml", "application/rss+xml", changed);
    let run = blog.run(&["sync"]);
    assert!(
        run.stdout.contains("posts: 0 new, 0 updated, 3 unchanged"),
        "{run:?}"
    );
    assert_eq!(blog.snapshot(), before);
}

#[test]
fn a_changed_article_rewrites_its_own_file() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let before = blog.snapshot();
    let sample = tidings_demo::sample(&tidings_demo::FEEDS[0], &server.server.origin());
    let text = String::from_utf8(sample.body)
        .unwrap()
        .replace("公交公司把两条线路", "公交公司把三条线路");
    server
        .server
        .set(tidings_demo::FEEDS[0].path, "application/rss+xml", text);
    let run = blog.run(&["sync"]);
    assert!(
        run.stdout.contains("posts: 0 new, 1 updated, 2 unchanged"),
        "{run:?}"
    );
    let after = blog.snapshot();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "no new file"
    );
    let changed: Vec<_> = after
        .iter()
        .filter(|(k, v)| before[*k] != **v)
        .map(|(k, _)| k.clone())
        .collect();
    assert_eq!(changed, ["城市夜经济升温：老街区迎来新客流.md"]);
    let post = String::from_utf8(after[&changed[0]].0.clone()).unwrap();
    assert!(post.contains("三条线路"));
}

#[test]
fn a_retitled_article_keeps_its_file_name() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let sample = tidings_demo::sample(&tidings_demo::FEEDS[0], &server.server.origin());
    let text = String::from_utf8(sample.body)
        .unwrap()
        .replace("今冬首场寒潮", "今冬第一场寒潮");
    server
        .server
        .set(tidings_demo::FEEDS[0].path, "application/rss+xml", text);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let names: Vec<String> = blog.snapshot().into_keys().collect();
    assert!(
        names.contains(&"气象台：本周末将迎来今冬首场寒潮.md".to_string()),
        "{names:?}"
    );
    assert_eq!(names.len(), 13);
    let post = blog.post_titled("title: '气象台：本周末将迎来今冬第一场寒潮'");
    assert!(post.contains("预计"));
}

#[test]
fn one_failing_feed_does_not_stop_the_others_and_exits_2() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let before = blog.snapshot();
    server.server.remove(tidings_demo::FEEDS[1].path);
    // A new article appears in another feed in the same run.
    let sample = tidings_demo::sample(&tidings_demo::FEEDS[0], &server.server.origin());
    let extra = "<item><title>新增的一条快讯</title><guid>zaker-new-1</guid><description>快讯正文。</description><pubDate>Mon, 23 Nov 2026 01:00:00 GMT</pubDate></item>\n</channel>";
    let text = String::from_utf8(sample.body)
        .unwrap()
        .replace("</channel>", extra);
    server
        .server
        .set(tidings_demo::FEEDS[0].path, "application/rss+xml", text);

    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 2, "{run:?}");
    let url = server.server.url(tidings_demo::FEEDS[1].path);
    assert!(
        run.stderr
            .contains(&format!("failed: feed \"harbour-gazette\" ({url}): ")),
        "{run:?}"
    );
    assert!(run.stderr.contains("404"), "{run:?}");
    assert!(
        run.stdout.contains("feeds: 5 ok, 1 failed; posts: 1 new"),
        "{run:?}"
    );
    let after = blog.snapshot();
    for (name, v) in &before {
        assert_eq!(&after[name], v, "{name} must be untouched");
    }
    assert_eq!(after.len(), before.len() + 1);

    let status = blog.run(&["status"]);
    let line = status
        .stdout
        .lines()
        .find(|l| l.starts_with("harbour-gazette"))
        .unwrap();
    assert!(line.contains("error") && line.contains("404"), "{status:?}");
}

#[test]
fn rewrite_rerenders_from_the_store_without_fetching() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let hits = server.server.hits(tidings_demo::FEEDS[0].path);
    let config = std::fs::read_to_string(blog.path().join("tidings.toml")).unwrap();
    let config = config.replace(
        "https://cors.zfour.workers.dev/?{url}",
        "https://img.example/p?u={url_encoded}",
    );
    std::fs::write(blog.path().join("tidings.toml"), config).unwrap();

    let run = blog.run(&["sync", "--rewrite"]);
    assert_eq!(run.code, 0, "{run:?}");
    // The 9 posts with images change; the 4 without are byte-identical and left alone.
    assert!(
        run.stdout.contains("posts: 9 rewritten, 4 unchanged"),
        "{run:?}"
    );
    assert_eq!(
        server.server.hits(tidings_demo::FEEDS[0].path),
        hits,
        "no fetch"
    );
    let post = blog.post_titled("title: '城市\"夜经济\"升温：老街区迎来新客流'");
    assert!(
        post.contains("headimg: 'https://img.example/p?u=http%3A%2F%2F127.0.0.1%3A"),
        "{post}"
    );
    assert!(!post.contains("cors.zfour"));

    let before = blog.snapshot();
    let run = blog.run(&["sync", "--rewrite"]);
    assert!(
        run.stdout.contains("posts: 0 rewritten, 13 unchanged"),
        "{run:?}"
    );
    assert_eq!(
        blog.snapshot(),
        before,
        "an identical rewrite touches nothing"
    );
}

#[test]
fn gbk_feed_with_naive_dates_is_decoded_and_dated_in_the_feed_zone() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let post = blog.post_titled("title: '缆车检修完毕，明日恢复运营'");
    let fm = front_matter(&post);
    assert!(fm.contains(&"date: 2026-11-24 19:45:00"), "{fm:?}");
    assert!(fm.contains(&"author: 山城晚报"), "{fm:?}");
    assert!(post.contains("跨江缆车将于明天早上七点恢复运营"));
    let post = blog.post_titled("title: '社区图书角收到第一千本捐赠图书'");
    assert!(
        front_matter(&post).contains(&"date: 2026-11-23 08:10:00"),
        "{post}"
    );
}

#[test]
fn hostile_feed_is_neutralised() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    for (name, (bytes, _)) in blog.snapshot() {
        assert!(
            !name.contains('/') && !name.starts_with('.') && !name.starts_with('_'),
            "{name}"
        );
        let text = String::from_utf8(bytes).unwrap();
        let lower = text.to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "onclick",
            "onload",
            "javascript:",
            "<iframe",
            "<svg",
            "<form",
            "<base",
            "<meta",
            "style=",
            "srcset",
        ] {
            assert!(!lower.contains(bad), "{name} contains {bad}:\n{text}");
        }
    }
    let post = blog.post_titled("title: '../../etc/passwd: \"quoted\" ''single'' #not-a-comment'");
    assert!(post.contains("<p>Harmless text.</p>"));
    // Every image goes through the proxy, with the no-referrer policy.
    for img in post.split("<img ").skip(1) {
        assert!(
            img.starts_with("src=\"https://cors.zfour.workers.dev/?http://"),
            "{img}"
        );
        assert!(img.contains("referrerpolicy=\"no-referrer\""), "{img}");
    }
}

#[test]
fn lazy_images_are_promoted_and_lead_image_is_the_first() {
    let server = Server::start();
    let blog = blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let origin = server.server.origin();
    let post = blog.post_titled("title: '秋天的最后一片银杏叶'");
    let lead = format!("'https://cors.zfour.workers.dev/?{origin}/img/ginkgo.png?w=600&h=900'");
    assert!(
        front_matter(&post).contains(&format!("headimg: {lead}").as_str()),
        "{post}"
    );
    assert!(post.contains("width=\"600\" height=\"900\""), "{post}");
    assert!(!post.contains("data-original"), "{post}");
}
