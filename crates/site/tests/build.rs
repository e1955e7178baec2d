//! End to end: a fixture set of articles (Chinese and English, three-level categories, one
//! hostile title) built into a temp folder, then checked file by file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use tidings_model::image::ImagePolicy;
use tidings_model::Article;
use tidings_site::{build, build_from_heads, BuildReport, SiteArticle, SiteOptions};

const HOSTILE: &str = "<script>alert(1)</script> & \"引号\" </title>";

const CATEGORIES: &[&[&str]] = &[
    &["新媒体", "ZAKER", "source"],
    &["新媒体", "地方", "晚报"],
    &["World", "Harbour Gazette"],
    &["Blogs"],
];

/// Article `n`: one hour older per step back from late November 2026, so the set spans two
/// months; every third one is English.
fn article(n: usize) -> SiteArticle {
    let published = Timestamp::from_second(1_795_350_000 - n as i64 * 3600 * 7).unwrap();
    let english = n % 3 == 0;
    let title = if n == 7 {
        HOSTILE.to_string()
    } else if english {
        format!("Harbour ferry timetable changes, part {n}")
    } else {
        format!("城市夜经济观察 第{n}期：老街区迎来新客流")
    };
    let body = if english {
        format!("<p>The ferry company said the evening crossing {n} moves to nine o'clock.</p>")
    } else {
        format!("<p>江畔老街的夜市第{n}次排起长队，摊主说热干面卖得最好。</p>")
    };
    let img = format!("http://img.example.cn/{n}.jpg");
    let html = format!(
        "<div>{body}<img src=\"{img}\" width=\"780\" height=\"520\" loading=\"lazy\" \
         decoding=\"async\" referrerpolicy=\"no-referrer\"></div>"
    );
    let categories = CATEGORIES[n % CATEGORIES.len()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let article = Article {
        id: format!("id{n:04}"),
        feed_url: "http://feeds.example/rss".into(),
        guid: None,
        link: Some(format!("http://news.example.cn/a/{n}?x=1&y=2")),
        title,
        author: if english {
            "Harbour Gazette".into()
        } else {
            "ZAKER".into()
        },
        categories,
        published,
        updated: published,
        html,
        lead_image: Some(img.clone()),
        images: vec![img],
    };
    let slug = if n == 7 {
        "script-alert".to_string()
    } else {
        format!("文章-{n}")
    };
    SiteArticle {
        content_hash: article.content_hash(),
        article,
        slug,
    }
}

fn articles(range: std::ops::Range<usize>) -> Vec<SiteArticle> {
    range.map(article).collect()
}

fn options() -> SiteOptions {
    SiteOptions {
        title: "新闻镜像 & <Mirror>".into(),
        base_url: "https://news.example.com/".into(),
        language: "zh-CN".into(),
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
        per_page: 20,
        templates_dir: None,
        policy: ImagePolicy::Template("https://proxy.example/?{url}".into()),
    }
}

fn run(out: &Path, set: Vec<SiteArticle>) -> BuildReport {
    build(out, set, &options(), &()).unwrap()
}

/// Every file under `dir`: relative path → (bytes, mtime).
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    for f in files(dir) {
        let rel = f.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        let mtime = std::fs::metadata(&f).unwrap().modified().unwrap();
        out.insert(rel, (std::fs::read(&f).unwrap(), mtime));
    }
    out
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.push(p);
            }
        }
    }
    all.sort();
    all
}

/// The build's own bookkeeping (the manifest and the recorded texts), not part of the site.
fn internal(rel: &str) -> bool {
    rel == tidings_site::MANIFEST || rel.starts_with(".tidings-texts/")
}

/// The files of the site proper.
fn site_files(dir: &Path) -> usize {
    files(dir)
        .iter()
        .filter(|f| !internal(&f.strip_prefix(dir).unwrap().to_string_lossy()))
        .count()
}

/// Every search row, newest first, as `search.json` and its shards give them.
fn search_rows(out: &Path) -> Vec<serde_json::Value> {
    let index: serde_json::Value = serde_json::from_str(&read(out, "search.json")).unwrap();
    let mut rows = Vec::new();
    for shard in index["shards"].as_array().unwrap() {
        let file = shard.as_str().unwrap().split('?').next().unwrap();
        let part: serde_json::Value = serde_json::from_str(&read(out, file)).unwrap();
        rows.extend(part["items"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(index["count"], rows.len(), "search.json counts its rows");
    rows
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn every_kind_of_page_exists() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let report = run(out, articles(0..60));
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    for rel in [
        "index.html",
        "page/1/index.html",
        "page/2/index.html",
        "page/3/index.html",
        "categories/index.html",
        "categories/新媒体/index.html",
        "categories/新媒体/ZAKER/index.html",
        "categories/新媒体/ZAKER/source/index.html",
        "categories/World/Harbour Gazette/index.html",
        "archives/index.html",
        "archives/2026/11/index.html",
        "atom.xml",
        "sitemap.xml",
        "404.html",
        "search/index.html",
        "search.json",
        "search/1.json",
        "sitemap/lists.xml",
        "sitemap/1.xml",
        "assets/style.css",
        "assets/search.js",
        "posts/文章-1/index.html",
        "posts/script-alert/index.html",
    ] {
        assert!(out.join(rel).is_file(), "missing {rel}");
    }
    assert!(!out.join("page/4/index.html").exists());
    // 30 articles under 新媒体: one full page of 20 besides the front page.
    assert!(out.join("categories/新媒体/page/1/index.html").is_file());
    assert!(!out.join("categories/新媒体/page/2").exists());
    assert_eq!(
        report.written,
        site_files(out),
        "all but the manifest and texts"
    );
}

#[test]
fn pages_show_what_a_reader_needs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let post = read(out, "posts/文章-1/index.html");
    assert!(post.contains("城市夜经济观察 第1期"));
    // The body's image goes through the proxy and keeps its size and lazy loading.
    assert!(post.contains("src=\"https://proxy.example/?http://img.example.cn/1.jpg\""));
    assert!(post.contains("width=\"780\" height=\"520\" loading=\"lazy\""));
    // Original link (escaped), date in the site zone, category links at every level.
    assert!(post.contains("href=\"http://news.example.cn/a/1?x=1&amp;y=2\""));
    assert!(!post.contains("&#x2f;"), "slashes are left alone");
    let when = article(1)
        .article
        .published
        .to_zoned_datetime(TimeZone::get("Asia/Shanghai").unwrap());
    assert!(post.contains(&when.strftime("%Y-%m-%d %H:%M").to_string()));
    assert!(post.contains("+08:00\""));
    assert!(post.contains("%E6%96%B0%E5%AA%92%E4%BD%93/%E5%9C%B0%E6%96%B9/"));
    let index = read(out, "index.html");
    // Newest first: article 0 before article 1, and article 25 is on page 2.
    let (a0, a1) = (index.find("part 0").unwrap(), index.find("第1期").unwrap());
    assert!(a0 < a1);
    assert!(!index.contains("第25期") && read(out, "page/2/index.html").contains("第25期"));
    let cat = read(out, "categories/新媒体/ZAKER/source/index.html");
    assert!(cat.contains("第4期") && !cat.contains("第5期"));
}

#[test]
fn the_hostile_title_is_escaped_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let mut checked = 0;
    for f in files(out) {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.display().to_string();
        assert!(!text.contains("<script>alert"), "raw title in {name}");
        assert!(!text.contains("</title> "), "raw title in {name}");
        if text.contains("alert(1)") {
            checked += 1;
        }
    }
    // Its page, the front page, its category pages, archive, feed, search index.
    assert!(checked >= 6, "title found in only {checked} files");
    assert!(read(out, "posts/script-alert/index.html")
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let rows = search_rows(out);
    let titles: Vec<&str> = rows.iter().map(|r| r[1].as_str().unwrap()).collect();
    assert!(
        titles.contains(&HOSTILE),
        "the index holds the exact title once decoded"
    );
    let first = &rows[0];
    assert_eq!(first[0], "文章-0", "rows start with the raw slug");
    assert!(first[4]
        .as_str()
        .unwrap()
        .starts_with("The ferry company said"));
    assert!(read(out, "index.html").contains("<title>新闻镜像 &amp; &lt;Mirror&gt;</title>"));
}

#[test]
fn every_internal_link_resolves_and_is_percent_encoded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let mut links = 0;
    for f in files(out) {
        let rel = f.strip_prefix(out).unwrap().to_string_lossy().into_owned();
        if !rel.ends_with(".html") {
            continue;
        }
        let html = std::fs::read_to_string(&f).unwrap();
        for raw in attributes(&html) {
            let url = html_escape::decode_html_entities(&raw).into_owned();
            let external = ["http://", "https://", "#", "data:"];
            if external.iter().any(|p| url.starts_with(p)) {
                continue;
            }
            assert!(url.is_ascii(), "{rel}: link {url:?} is not percent-encoded");
            let target = resolve(&rel, &url);
            assert!(
                out.join(&target).is_file(),
                "{rel}: {url:?} → {target} does not exist"
            );
            links += 1;
        }
    }
    assert!(links > 1000, "only {links} links checked");
}

/// Values of every href= and src= attribute.
fn attributes(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap();
            found.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    found
}

/// The file a link on page `page` leads to, the way a static server finds it.
fn resolve(page: &str, url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap();
    let mut parts: Vec<String> = if url.starts_with('/') {
        Vec::new()
    } else {
        page.split('/').map(String::from).collect()
    };
    parts.pop(); // the page's own file name
    for seg in url.trim_start_matches('/').split('/') {
        match seg {
            "." => {}
            ".." => {
                assert!(parts.pop().is_some(), "{page}: {url} leaves the site");
            }
            s => parts.push(
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .unwrap()
                    .into_owned(),
            ),
        }
    }
    let mut path = parts.join("/");
    if url.ends_with('/') || url.is_empty() || url == "." {
        if !path.is_empty() && !path.ends_with('/') {
            path.push('/');
        }
        path.push_str("index.html");
    }
    path.trim_start_matches('/').to_string()
}

#[test]
fn the_atom_feed_parses_with_the_fifty_newest_entries() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let bytes = std::fs::read(out.join("atom.xml")).unwrap();
    let feed = feed_rs::parser::parse(&bytes[..]).unwrap();
    assert_eq!(feed.entries.len(), 50);
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.title.clone().unwrap().content)
        .collect();
    assert_eq!(titles[0], "Harbour ferry timetable changes, part 0");
    assert_eq!(titles[7], HOSTILE);
    assert!(titles[49].contains("49"));
    let first = &feed.entries[0];
    let content = first.content.as_ref().unwrap().body.clone().unwrap();
    assert!(content.contains("https://proxy.example/?http://img.example.cn/0.jpg"));
    assert_eq!(
        first.links[0].href,
        "https://news.example.com/posts/%E6%96%87%E7%AB%A0-0/"
    );
    assert_eq!(
        first.published,
        Some(article(0).article.published.to_string().parse().unwrap())
    );
}

#[test]
fn the_sitemap_lists_every_article_and_category() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let index = read(out, "sitemap.xml");
    assert!(index.contains("<sitemapindex "));
    let prefix = "<sitemap><loc>https://news.example.com/";
    let parts: Vec<&str> = index
        .lines()
        .filter_map(|l| l.strip_prefix(prefix)?.strip_suffix("</loc></sitemap>"))
        .collect();
    assert_eq!(parts, ["sitemap/lists.xml", "sitemap/1.xml"]);
    let map: String = parts.iter().map(|p| read(out, p)).collect();
    for n in 0..60 {
        let slug = article(n).slug;
        let url = format!(
            "https://news.example.com/posts/{}/",
            tidings_site::encode_segment(&slug)
        );
        assert!(map.contains(&format!("<loc>{url}</loc>")), "missing {url}");
    }
    assert!(map.contains(
        "<loc>https://news.example.com/categories/%E6%96%B0%E5%AA%92%E4%BD%93/ZAKER/source/</loc>"
    ));
    // Articles, the front page, eight category nodes.
    assert_eq!(map.matches("<url>").count(), 60 + 1 + 8);
}

#[test]
fn a_second_build_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..60));
    let before = snapshot(out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = run(out, articles(0..60));
    assert_eq!((report.written, report.removed), (0, 0), "{report:?}");
    assert_eq!(report.unchanged, site_files(out));
    assert!(snapshot(out) == before, "a file changed");
}

#[test]
fn adding_two_articles_rewrites_only_the_pages_that_show_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // Articles 2..62 first; then 0 and 1 arrive (the two newest).
    run(out, articles(2..62));
    let before = snapshot(out);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let report = run(out, articles(0..62));
    let after = snapshot(out);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    let internal_changed = changed.iter().filter(|c| internal(c)).count();
    assert_eq!(
        report.written,
        changed.len() - internal_changed,
        "the manifest and texts are not counted: {changed:?}"
    );
    assert_eq!(report.removed, 0);
    assert!(changed
        .iter()
        .any(|c| c.as_str() == "posts/文章-0/index.html"));
    assert!(changed
        .iter()
        .any(|c| c.as_str() == "posts/文章-1/index.html"));
    // Numbered pages count from the oldest article: two new ones change only the front
    // pages of the lists they join (the site, their categories at every level, their month).
    let mut fronts: Vec<String> = vec!["index.html".into(), "archives/2026/11/index.html".into()];
    for n in [0, 1] {
        let mut path = String::from("categories/");
        for c in article(n).article.categories {
            path.push_str(&c);
            path.push('/');
            fronts.push(format!("{path}index.html"));
        }
    }
    for c in &changed {
        let allowed = c.starts_with("posts/文章-0/")
            || c.starts_with("posts/文章-1/")
            || fronts.contains(c)
            || [
                "categories/index.html",
                "archives/index.html",
                "atom.xml",
                "sitemap/1.xml",
                "search.json",
                "search/1.json",
            ]
            .contains(&c.as_str())
            || internal(c);
        assert!(allowed, "{c} should not have been rewritten");
    }
    assert!(changed.len() <= fronts.len() + 10, "{changed:?}");
    // Untouched: every older article page, the other categories, the theme.
    for untouched in [
        "posts/文章-2/index.html",
        "posts/script-alert/index.html",
        "categories/World/Harbour Gazette/index.html",
        "categories/Blogs/index.html",
        "page/1/index.html",
        "page/3/index.html",
        "assets/style.css",
        "404.html",
        "sitemap.xml",
        "sitemap/lists.xml",
    ] {
        assert!(
            before.get(untouched) == after.get(untouched),
            "{untouched} was rewritten"
        );
    }
}

#[test]
fn pages_that_no_longer_exist_are_removed_and_foreign_files_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    std::fs::write(out.join("CNAME"), "news.example.com").unwrap();
    run(out, articles(0..45));
    assert!(out.join("page/2/index.html").is_file());
    let report = run(out, articles(0..30));
    assert!(!out.join("posts/文章-40").exists(), "empty folder pruned");
    assert!(!out.join("page/2").exists());
    assert!(out.join("page/1/index.html").is_file());
    assert!(
        out.join("CNAME").is_file(),
        "a file the site did not make is kept"
    );
    assert!(report.removed >= 15, "{report:?}");
}

#[test]
fn an_edited_page_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..5));
    let page = out.join("posts/文章-1/index.html");
    let good = std::fs::read(&page).unwrap();
    std::fs::write(&page, "defaced").unwrap();
    let report = run(out, articles(0..5));
    assert_eq!(report.written, 1);
    assert_eq!(std::fs::read(&page).unwrap(), good);
}

#[test]
fn unsafe_and_repeated_slugs_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let mut set = articles(0..3);
    set[0].slug = "../escape".into();
    set[1].slug = "..".into();
    set[2].slug = "文章-0".into();
    let mut twin = article(3);
    twin.slug = "文章-0".into();
    set.push(twin);
    let report = run(&out, set);
    assert_eq!(report.skipped.len(), 3, "{:?}", report.skipped);
    assert!(report.skipped[0].contains("id00"));
    assert!(!dir.path().join("escape").exists());
    assert!(out.join("posts/文章-0/index.html").is_file());
}

#[test]
fn hostile_category_names_stay_inside_the_site() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let mut a = article(1);
    a.article.categories = vec!["..".into(), "../../x".into(), "page".into()];
    let report = run(&out, vec![a]);
    assert!(report.skipped.is_empty());
    assert!(out
        .join("categories/_../_..-..-x/_page/index.html")
        .is_file());
    assert!(!dir.path().join("x").exists());
}

#[test]
fn templates_are_overridable_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let templates = dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("404.html"),
        "{% extends \"base.html\" %}{% block main %}<p>走丢了 {{ site.title }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::write(templates.join("style.css"), "body{color:red}").unwrap();
    let mut opts = options();
    opts.templates_dir = Some(templates.clone());
    build(&out, articles(0..3), &opts, &()).unwrap();
    assert!(read(&out, "404.html").contains("<p>走丢了 新闻镜像 &amp; &lt;Mirror&gt;</p>"));
    assert_eq!(read(&out, "assets/style.css"), "body{color:red}");
    assert!(
        read(&out, "index.html").contains("class=\"masthead\""),
        "others stay built in"
    );
    // A broken override is an error naming its file.
    std::fs::write(templates.join("list.html"), "{% for %}").unwrap();
    let err = build(&out, articles(0..3), &opts, &())
        .unwrap_err()
        .to_string();
    assert!(err.contains("templates/list.html"), "{err}");
}

#[test]
fn changing_the_image_policy_rewrites_article_pages() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..3));
    let mut opts = options();
    opts.policy = ImagePolicy::Direct;
    let report = build(out, articles(0..3), &opts, &()).unwrap();
    assert!(report.written >= 3);
    let post = read(out, "posts/文章-1/index.html");
    assert!(post.contains("src=\"http://img.example.cn/1.jpg\""));
}

#[test]
fn the_404_page_links_from_the_site_root() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let mut opts = options();
    opts.base_url = "https://example.org/news".into();
    build(out, articles(0..2), &opts, &()).unwrap();
    let page = read(out, "404.html");
    assert!(page.contains("href=\"/news/assets/style.css\""), "{page}");
}

#[test]
fn an_empty_store_still_makes_a_site() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let report = run(out, Vec::new());
    assert!(report.written > 5);
    assert!(read(out, "index.html").contains("Nothing here yet."));
    feed_rs::parser::parse(&std::fs::read(out.join("atom.xml")).unwrap()[..]).unwrap();
}

#[test]
fn numbered_pages_count_from_the_oldest_and_keep_their_articles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // 50 articles: page 1 holds the 20 oldest (49..30), page 2 the next (29..10), the front
    // page the 20 newest (0..19), and its "Older" link leads to page 2, the newest full one.
    run(out, articles(0..50));
    let page1 = read(out, "page/1/index.html");
    assert!(page1.contains("第49期") && page1.contains("第31期") && !page1.contains("第29期"));
    let page2 = read(out, "page/2/index.html");
    assert!(page2.contains("第29期") && page2.contains("第10期") && !page2.contains("第49期"));
    assert!(!out.join("page/3").exists());
    let front = read(out, "index.html");
    assert!(front.contains("第19期") && !front.contains("第20期"));
    assert!(front.contains("href=\"./page/2/\"") && front.contains(">Latest<"));
    assert!(page2.contains("href=\"../../\"") && page2.contains("href=\"../../page/1/\""));
    assert!(page1.contains("href=\"../../page/2/\"") && !page1.contains("Older"));
    // Ten more newest articles fill page 3; pages 1 and 2 keep their bytes.
    let before = snapshot(out);
    let mut set = articles(0..50);
    for k in 0..10 {
        let mut a = article(50 + k);
        a.article.published = Timestamp::from_second(1_795_400_000 + k as i64).unwrap();
        a.article.updated = a.article.published;
        a.content_hash = a.article.content_hash();
        set.push(a);
    }
    run(out, set);
    let after = snapshot(out);
    assert!(before["page/1/index.html"] == after["page/1/index.html"]);
    let page3 = read(out, "page/3/index.html");
    assert!(page3.contains("第1期") && page3.contains("第59期") && !page3.contains("第10期"));
    // Page 2's "Newer" link now leads to page 3: it is rewritten, its articles are not.
    assert!(read(out, "page/2/index.html").contains("href=\"../../page/3/\""));
    // A front page with no leftover article repeats the newest full page and skips it.
    assert!(read(out, "index.html").contains("href=\"./page/2/\""));
}

#[test]
fn the_front_page_of_a_short_list_has_no_pager() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..20));
    let front = read(out, "index.html");
    assert!(!front.contains("class=\"pager\""), "{front}");
    assert!(out.join("page/1/index.html").is_file());
    assert!(!out.join("page/2").exists());
}

/// Builds from heads, loading bodies from `set`; returns the report and the ids asked for.
fn run_heads(out: &Path, set: &[SiteArticle]) -> (BuildReport, Vec<String>) {
    let heads = set
        .iter()
        .map(|a| {
            let mut h = a.clone();
            h.article.html.clear();
            h
        })
        .collect();
    let mut asked = Vec::new();
    let mut body = |id: &str| -> Result<Option<String>, tidings_site::LoadError> {
        asked.push(id.to_string());
        Ok(set
            .iter()
            .find(|a| a.article.id == id)
            .map(|a| a.article.html.clone()))
    };
    let report = build_from_heads(out, heads, &mut body, &options(), &()).unwrap();
    (report, asked)
}

#[test]
fn a_build_from_heads_reads_only_the_bodies_it_renders() {
    let (full, heads) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(full.path(), articles(2..62));
    let (_, asked) = run_heads(heads.path(), &articles(2..62));
    assert_eq!(asked.len(), 60, "a first build reads every body once");
    let strip = |m: BTreeMap<String, (Vec<u8>, SystemTime)>| -> BTreeMap<String, Vec<u8>> {
        // The manifest records mtimes; every other file must match byte for byte.
        m.into_iter()
            .filter(|(k, _)| k != tidings_site::MANIFEST)
            .map(|(k, (b, _))| (k, b))
            .collect()
    };
    assert!(
        strip(snapshot(full.path())) == strip(snapshot(heads.path())),
        "same site either way"
    );
    let (report, asked) = run_heads(heads.path(), &articles(2..62));
    assert_eq!(
        (report.written, asked.len()),
        (0, 0),
        "nothing new reads nothing"
    );
    // Two new articles: their pages, and the feed's fifty entries.
    let (_, asked) = run_heads(heads.path(), &articles(0..62));
    assert!(asked.contains(&"id0000".to_string()) && asked.contains(&"id0001".to_string()));
    assert_eq!(asked.len(), 50, "{asked:?}");
}

#[test]
fn a_missing_body_stops_the_build_and_names_the_article() {
    let dir = tempfile::tempdir().unwrap();
    let heads = articles(0..3);
    let mut body = |id: &str| -> Result<Option<String>, tidings_site::LoadError> {
        if id == "id0001" {
            Ok(None)
        } else {
            Err(format!("disk on fire near {id}").into())
        }
    };
    let err = build_from_heads(dir.path(), heads, &mut body, &options(), &()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("id0000") && msg.contains("disk on fire"),
        "{msg}"
    );
}

#[test]
fn a_damaged_manifest_costs_a_render_not_a_rewrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run_heads(out, &articles(0..30));
    let before = snapshot(out);
    std::fs::write(
        out.join(tidings_site::MANIFEST),
        "{\"version\":2,\"files\":{\"x\":",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (report, asked) = run_heads(out, &articles(0..30));
    assert_eq!(asked.len(), 30, "every body is read again");
    assert_eq!(report.written, 0, "{report:?}");
    let after = snapshot(out);
    for (file, was) in &before {
        if file != tidings_site::MANIFEST {
            assert!(after.get(file) == Some(was), "{file} was rewritten");
        }
    }
    let (report, asked) = run_heads(out, &articles(0..30));
    assert_eq!((report.written, asked.len()), (0, 0));
}

#[cfg(unix)]
#[test]
fn a_link_planted_where_a_page_goes_is_replaced_not_followed() {
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("public");
    let page = out.join("posts/文章-1");
    std::fs::create_dir_all(&page).unwrap();
    let (dangling, existing) = (
        root.path().join("created.txt"),
        root.path().join("kept.txt"),
    );
    std::fs::write(&existing, "keep").unwrap();
    std::os::unix::fs::symlink(&dangling, page.join("index.html")).unwrap();
    std::fs::create_dir_all(out.join("posts/文章-2")).unwrap();
    std::os::unix::fs::symlink(&existing, out.join("posts/文章-2/index.html")).unwrap();
    run(&out, articles(0..5));
    assert!(!dangling.exists(), "a dangling link was followed");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep");
    for n in [1, 2] {
        let p = out.join(format!("posts/文章-{n}/index.html"));
        assert!(!p.symlink_metadata().unwrap().file_type().is_symlink());
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .contains(&format!("第{n}期")));
    }
}

/// Relative path → (bytes, mtime) of the files whose bytes or mtime differ between snapshots.
fn changed_files(
    before: &BTreeMap<String, (Vec<u8>, SystemTime)>,
    after: &BTreeMap<String, (Vec<u8>, SystemTime)>,
) -> Vec<String> {
    after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect()
}

fn text_files(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join(".tidings-texts"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn new_articles_change_only_the_newest_search_and_sitemap_shards() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // 1,990 articles: shards of 1,000 and 990, counted from the oldest.
    run_heads(out, &articles(22..2012));
    let before = snapshot(out);
    assert_eq!(search_rows(out).len(), 1990);
    assert_eq!(text_files(out).len(), 2);
    std::thread::sleep(std::time::Duration::from_millis(20));
    // Twenty newer ones fill shard 2 and start shard 3.
    let (_, asked) = run_heads(out, &articles(2..2012));
    assert_eq!(
        asked.len(),
        50,
        "only the feed's bodies: shard 2's texts come from its old text file"
    );
    let after = snapshot(out);
    let changed = changed_files(&before, &after);
    for kept in ["search/1.json", "sitemap/1.xml", "sitemap/lists.xml"] {
        assert!(!changed.contains(&kept.to_string()), "{kept} was rewritten");
    }
    for new in [
        "search/2.json",
        "search/3.json",
        "sitemap/2.xml",
        "sitemap/3.xml",
        "search.json",
        "sitemap.xml",
    ] {
        assert!(changed.contains(&new.to_string()), "{new} is stale");
    }
    assert_eq!(text_files(out).len(), 3, "old text files are removed");
    let rows = search_rows(out);
    let slugs: Vec<String> = rows
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = articles(2..2012).into_iter().map(|a| a.slug).collect();
    assert!(slugs == expected, "every article once, newest first");
    // Rows of articles whose bodies were not read this time keep their texts.
    let oldest = rows.last().unwrap()[4].as_str().unwrap();
    assert!(oldest.starts_with("江畔老街的夜市第2011次"), "{oldest}");

    // Two more: only the newest shard and the index change.
    let before = after;
    let index_before = read(out, "search.json");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (report, asked) = run_heads(out, &articles(0..2012));
    assert_eq!(asked.len(), 50);
    let changed = changed_files(&before, &snapshot(out));
    let shards: Vec<&String> = changed
        .iter()
        .filter(|c| c.starts_with("search") || c.starts_with("sitemap"))
        .collect();
    assert_eq!(
        shards,
        ["search.json", "search/3.json", "sitemap/3.xml"],
        "{report:?}"
    );
    // Unchanged shards keep their URLs (and their cache-busting versions).
    let versions = |index: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(index).unwrap();
        v["shards"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    let (old, new) = (versions(&index_before), versions(&read(out, "search.json")));
    assert_eq!(old[1..], new[1..]);
    assert!(old[0] != new[0] && new[0].starts_with("search/3.json?v="));
}

#[test]
fn a_lost_text_file_costs_body_reads_and_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run_heads(out, &articles(1..31));
    let texts = text_files(out);
    assert_eq!(texts.len(), 1);
    std::fs::remove_file(out.join(".tidings-texts").join(&texts[0])).unwrap();
    // Nothing new: no text is needed, so none is read or written.
    let (report, asked) = run_heads(out, &articles(1..31));
    assert_eq!((report.written, asked.len()), (0, 0));
    // A new article re-renders the search shard, whose texts must now come from the bodies.
    let (_, asked) = run_heads(out, &articles(0..31));
    assert_eq!(asked.len(), 31, "{asked:?}");
    let rows = search_rows(out);
    assert!(rows[29][4]
        .as_str()
        .unwrap()
        .starts_with("江畔老街的夜市第29次"));
    assert_eq!(text_files(out).len(), 1, "a text file again");
    let (report, asked) = run_heads(out, &articles(0..31));
    assert_eq!((report.written, asked.len()), (0, 0));
}

#[test]
fn a_damaged_text_file_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run_heads(out, &articles(1..31));
    let file = out.join(".tidings-texts").join(&text_files(out)[0]);
    std::fs::write(&file, "[[\"not\",\"a text\"]").unwrap();
    let (_, asked) = run_heads(out, &articles(0..31));
    assert_eq!(asked.len(), 31);
    let rows = search_rows(out);
    assert!(rows.iter().all(|r| r[4].as_str().unwrap().len() > 20));
}

#[test]
fn leftover_text_files_are_removed_by_the_next_build() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    run(out, articles(0..10));
    let kept = text_files(out);
    // What a build stopped before writing its manifest leaves behind.
    std::fs::write(out.join(".tidings-texts/0123abcd.json"), "[]").unwrap();
    std::fs::write(out.join(".tidings-texts/.tidings-tmp-9-9"), "half").unwrap();
    let report = run(out, articles(0..10));
    assert_eq!(report.written, 0);
    assert_eq!(text_files(out), kept);
    // No article, no text folder.
    run(out, Vec::new());
    assert!(!out.join(".tidings-texts").exists());
    assert!(search_rows(out).is_empty());
}
