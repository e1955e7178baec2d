//! The seed post (`../shared/seeds/`), fed back through Tidings, comes out field for field.

use crate::common::{front_matter, Blog, Server};

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/seeds/000_8a871a9ee358b0ad.txt"
);
/// The seed's title as the source had it; the old script mangled the quotes into `_`.
const REAL_TITLE: &str = "美\"致命武器\"运抵乌克兰，美德已准备撤离在乌人员";

fn seed() -> (Vec<String>, String) {
    let text = std::fs::read_to_string(SEED).expect("the seed is read from ../shared/seeds");
    let text = text.trim_start();
    let fm: Vec<String> = front_matter(text).into_iter().map(str::to_string).collect();
    let body = text.splitn(3, "---\n").nth(2).unwrap().to_string();
    (fm, body)
}

/// An RSSHub-style feed carrying the seed's article.
fn seed_feed(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>ZAKER - RSSHub</title><link>http://www.myzaker.com/</link>
<item><title><![CDATA[{REAL_TITLE}]]></title>
<description><![CDATA[{body}]]></description>
<pubDate>Sun, 23 Jan 2022 15:27:25 GMT</pubDate>
<guid isPermaLink="false">61ede00cb15ec054991d5ac2</guid>
<link>http://www.myzaker.com/article/61ede00cb15ec054991d5ac2</link>
</item></channel></rss>"#
    )
}

#[test]
fn seed_article_yields_the_seed_front_matter_field_for_field() {
    let (seed_fm, body) = seed();
    let server = Server::start();
    server.server.set(
        "/zaker/channel/source",
        "application/rss+xml",
        seed_feed(&body),
    );
    let blog = Blog::new(&format!(
        r#"
[site]
timezone = "Asia/Shanghai"
[output]
format = "hexo"
date_format = "rfc2822"
[images]
proxy = "https://cors.zfour.workers.dev/?{{url}}"
[[feed]]
url = "{}"
categories = ["新媒体", "ZAKER", "source"]
author = "ZAKER"
"#,
        server.server.url("/zaker/channel/source")
    ));
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    let post = blog.post_titled(&format!("title: '{REAL_TITLE}'"));
    let ours = front_matter(&post);

    let mut expected: Vec<String> = seed_fm.clone();
    assert!(
        expected[0].starts_with("title: '美_致命武器_"),
        "the seed's mangled title"
    );
    expected[0] = format!("title: '{REAL_TITLE}'");
    expected.push("updated: Sun, 23 Jan 2022 15:27:25 GMT".into());
    assert_eq!(ours, expected);

    // The body keeps the article and its images, cleaned: lazy originals promoted and routed,
    // sizes kept, junk gone.
    assert!(post.contains("<img src=\"https://cors.zfour.workers.dev/?http://zkres1.myzaker.com/202201/61ede00cb15ec054991d5ac3_1024.jpg\" width=\"680\" height=\"454\""), "{post}");
    assert_eq!(post.matches("<img ").count(), 4);
    assert_eq!(post.matches("referrerpolicy=\"no-referrer\"").count(), 4);
    for gone in [
        "onclick",
        "data-original",
        "recommend_bottom",
        "article_bottom",
    ] {
        assert!(!post.contains(gone), "{gone} should be gone");
    }
    assert!(post.contains("18 日，俄罗斯外交部表示"));
    // The file name keeps the CJK title, minus the characters Hexo cannot serve.
    let names: Vec<String> = blog.snapshot().into_keys().collect();
    assert_eq!(names, [format!("{}.md", REAL_TITLE.replace('"', ""))]);
}
