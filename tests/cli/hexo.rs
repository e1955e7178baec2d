//! Real Hexo 8 from npm renders what Tidings wrote: the category path, the exact title, the
//! right instant, and no front-matter error.
//!
//! Needs node and npm (`.ci/run` installs them). Hexo is installed once into
//! `target/hexo-npm/` and reused. Set TIDINGS_SKIP_HEXO=1 to skip on a machine without npm.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{front_matter, Blog, Server, HEXO_HEAD};

const PACKAGES: &[&str] = &[
    "hexo@8",
    "hexo-renderer-marked@7",
    "hexo-renderer-ejs@2",
    "hexo-generator-category@2",
    "hexo-generator-index@4",
];

#[test]
fn hexo_generates_the_synced_posts_under_their_categories() {
    if std::env::var_os("TIDINGS_SKIP_HEXO").is_some() {
        eprintln!("TIDINGS_SKIP_HEXO set: skipping the real-Hexo test");
        return;
    }
    let modules = hexo_install();
    let server = Server::start();
    let blog = Blog::new(&format!("{HEXO_HEAD}{}", server.sample_feeds()));
    // The seed's category path, with a title that breaks naive YAML quoting.
    let nasty = "Hexo: \"quotes\", 'apostrophes' & #hash — 标题";
    server.server.set(
        "/zaker/source",
        "application/rss+xml",
        format!(
            "<rss version=\"2.0\"><channel><title>Z</title><item><title><![CDATA[{nasty}]]></title>\
             <guid>seed-like-1</guid><description>&lt;p&gt;正文&lt;/p&gt;</description>\
             <pubDate>Sun, 23 Jan 2022 15:27:25 GMT</pubDate></item>\
             <item><title>Template syntax in prose</title><guid>tpl-1</guid>\
             <description><![CDATA[<p>Write {{{{ user.name }}}} or {{% if x %}} in a template.</p>\n\n\
             <p>*not emphasis*</p>\n\n    <p>indented</p><pre>a\n\nb</pre>]]></description>\
             <pubDate>Sat, 22 Jan 2022 10:00:00 GMT</pubDate></item></channel></rss>"
        ),
    );
    let config = std::fs::read_to_string(blog.path().join("tidings.toml")).unwrap()
        + &format!(
            "\n[[feed]]\nname = \"source\"\nurl = {:?}\ncategories = [\"新媒体\", \"ZAKER\", \"source\"]\nauthor = \"ZAKER\"\n",
            server.server.url("/zaker/source")
        );
    std::fs::write(blog.path().join("tidings.toml"), config).unwrap();
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");

    write_site(blog.path(), &modules);
    let out = Command::new("node")
        .arg(modules.join("hexo/bin/hexo"))
        .arg("generate")
        .current_dir(blog.path())
        // Hexo colours its log when it sees CI=true; the assertions read plain text.
        .env("NO_COLOR", "1")
        .env("FORCE_COLOR", "0")
        .output()
        .expect("node runs");
    let log = strip_ansi(&format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ));
    assert!(out.status.success(), "hexo generate failed:\n{log}");
    for bad in ["YAMLException", "ERROR", "Process failed"] {
        assert!(!log.contains(bad), "hexo reported {bad}:\n{log}");
    }

    let public = blog.path().join("public");
    let category =
        std::fs::read_to_string(public.join("categories/新媒体/ZAKER/source/index.html"))
            .unwrap_or_else(|e| panic!("category page missing ({e}):\n{log}"));
    assert!(
        unescape(&category).contains(nasty),
        "category page lists the post:\n{category}"
    );
    let item = category
        .split("<li>")
        .find(|li| unescape(li).contains(nasty))
        .unwrap();
    let href = item
        .split("href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let post_page = public
        .join(percent_decode(href.trim_start_matches('/')))
        .join("index.html");
    let page = std::fs::read_to_string(&post_page).unwrap_or_else(|e| panic!("{post_page:?}: {e}"));
    assert!(
        unescape(&page).contains(&format!("<h1 class=\"post-title\">{nasty}</h1>")),
        "{page}"
    );
    assert!(
        page.contains("<time class=\"post-date\">2022-01-23T15:27:25.000Z</time>"),
        "{page}"
    );
    assert!(page.contains("<p>正文</p>"), "{page}");

    // Template-looking prose survives Nunjucks, and blank lines do not turn HTML into Markdown.
    let tpl = walk(&public)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .find(|p| p.contains("post-title\">Template syntax in prose"))
        .expect("the template-syntax post was generated");
    // `&#123;` is `{` to a browser: the reader sees the prose as written.
    let shown = tpl.replace("&#123;", "{");
    assert!(
        shown.contains("{{ user.name }}") && shown.contains("{% if x %}"),
        "{tpl}"
    );
    assert!(
        tpl.contains("<p>*not emphasis*</p>") && !tpl.contains("<em>"),
        "{tpl}"
    );
    assert!(
        tpl.contains("<pre>a\n\nb</pre>") || tpl.contains("<pre>a&#10;&#10;b</pre>"),
        "{tpl}"
    );

    // Every post Tidings wrote became a page: none was skipped by a YAML error.
    let posts = std::fs::read_dir(blog.posts_dir()).unwrap().count();
    let generated = log.matches("Generated: 20").count();
    assert_eq!(generated, posts, "{log}");

    // And the dates Hexo read are the instants Tidings meant (GBK feed, naive Shanghai time).
    let gbk = blog.post_titled("title: '缆车检修完毕，明日恢复运营'");
    assert!(front_matter(&gbk).contains(&"date: 2026-11-24 19:45:00"));
    let pages: Vec<String> = walk(&public)
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(
        pages
            .iter()
            .any(|p| p.contains("缆车检修完毕") && p.contains("2026-11-24T11:45:00.000Z")),
        "naive 19:45 Shanghai is 11:45Z"
    );
}

/// Installs Hexo and the plugins once into target/hexo-npm and returns its node_modules.
fn hexo_install() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/hexo-npm");
    let modules = dir.join("node_modules");
    if modules.join("hexo/bin/hexo").exists() && modules.join("hexo-generator-index").exists() {
        return modules;
    }
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        "{\"name\":\"hexo-npm\",\"private\":true}\n",
    )
    .unwrap();
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .args(PACKAGES)
        .current_dir(&dir)
        .output()
        .expect("npm must be installed for the Hexo test (or set TIDINGS_SKIP_HEXO=1)");
    assert!(
        out.status.success(),
        "npm install failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    modules
}

/// A minimal Hexo site around Tidings' output: config, a tiny theme, the plugin list.
fn write_site(root: &Path, modules: &Path) {
    let deps: Vec<String> = PACKAGES
        .iter()
        .map(|p| format!("\"{}\":\"*\"", p.rsplit_once('@').map_or(*p, |(n, _)| n)))
        .collect();
    std::fs::write(
        root.join("package.json"),
        format!("{{\"name\":\"blog\",\"private\":true,\"hexo\":{{\"version\":\"8.0.0\"}},\"dependencies\":{{{}}}}}\n", deps.join(",")),
    )
    .unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(modules, root.join("node_modules")).unwrap();
    std::fs::write(
        root.join("_config.yml"),
        "title: Tidings test\nurl: http://example.com\ntimezone: Asia/Shanghai\ntheme: mini\n\
         permalink: :year/:month/:day/:title/\ncategory_dir: categories\nper_page: 0\n",
    )
    .unwrap();
    let layout = root.join("themes/mini/layout");
    std::fs::create_dir_all(&layout).unwrap();
    std::fs::write(
        layout.join("post.ejs"),
        "<h1 class=\"post-title\"><%= page.title %></h1>\n\
         <time class=\"post-date\"><%= page.date.toISOString() %></time>\n\
         <div class=\"post-body\"><%- page.content %></div>\n",
    )
    .unwrap();
    let list = "<ul><% page.posts.each(function(p){ %><li><a href=\"<%- url_for(p.path) %>\"><%= p.title %></a> \
                <time><%= p.date.toISOString() %></time></li><% }) %></ul>\n";
    std::fs::write(layout.join("category.ejs"), list).unwrap();
    std::fs::write(layout.join("index.ejs"), list).unwrap();
}

/// The log without terminal colour codes (`ESC [ … m`), in case a colour library ignores
/// NO_COLOR.
fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Undoes the escaping Hexo's templates apply to text.
fn unescape(html: &str) -> String {
    html.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "html") {
            out.push(p);
        }
    }
    out
}
