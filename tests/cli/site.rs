//! `tidings build` end to end: the bundled sample feeds synced with `format = "html"`, then
//! rendered as the built-in site.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use crate::common::{Blog, Server};

const HTML_HEAD: &str = r#"
[site]
title = "样例镜像"
timezone = "Asia/Shanghai"
[output]
format = "html"
[images]
proxy = "https://cors.zfour.workers.dev/?{url}"
"#;

/// Every file under `dir`: path → (bytes, mtime).
fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let mtime = e.metadata().unwrap().modified().unwrap();
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.insert(rel, (std::fs::read(&p).unwrap(), mtime));
            }
        }
    }
    out
}

#[test]
fn build_renders_the_synced_store_and_a_second_build_writes_nothing() {
    let server = Server::start();
    let blog = Blog::new(&format!("{HTML_HEAD}{}", server.sample_feeds()));
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!blog.posts_dir().exists(), "html format writes no posts");

    let run = blog.run(&["build"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("site: "), "{run:?}");
    assert!(run.stdout.contains(" unchanged, 0 removed in "), "{run:?}");
    let public = blog.path().join("public");
    let category =
        std::fs::read_to_string(public.join("categories/新媒体/ZAKER/source/index.html"))
            .expect("the deepest category page exists");
    assert!(
        category.contains("城市&quot;夜经济&quot;升温：老街区迎来新客流"),
        "the night-market article is listed:\n{category}"
    );
    // Its page exists under the link the category page gives, percent-encoded.
    let post_dir = std::fs::read_dir(public.join("posts"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|name| name.contains("夜经济"))
        .expect("the night-market article has a page");
    let href = format!("posts/{}/", tidings_site::encode_segment(&post_dir));
    assert!(category.contains(&href), "{href} not linked");
    let post =
        std::fs::read_to_string(public.join("posts").join(&post_dir).join("index.html")).unwrap();
    assert!(
        post.contains("src=\"https://cors.zfour.workers.dev/?http://127.0.0.1:"),
        "images go through the proxy"
    );
    assert!(post.contains("loading=\"lazy\""));
    assert!(public.join("atom.xml").is_file() && public.join("search.json").is_file());

    let before = tree(&public);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let run = blog.run(&["build"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("site: 0 pages written, "), "{run:?}");
    assert!(tree(&public) == before, "a second build changed a file");
}

#[test]
fn build_without_a_config_says_how_to_make_one() {
    let blog = Blog::new("");
    std::fs::remove_file(blog.path().join("tidings.toml")).unwrap();
    let run = blog.run(&["build"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("tidings init"), "{run:?}");
}
