//! The fault matrix: every way a feed host or a feed body can go wrong, end to end.
//!
//! Failing cases run in ONE sync (their timeouts overlap) after a first sync in which every
//! feed was healthy, so each case can check that the feed's earlier posts are untouched. Every
//! case asserts: (a) stderr names the feed, its URL and the cause in one line, (b) the healthy
//! feeds of the same run are published, (c) the failing feed's posts keep their bytes and
//! mtime, (d) `tidings status` shows the error. Bodies that are broken but readable must
//! succeed; those have one test each.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::{front_matter, Blog, Run, HEXO_HEAD};

/// What the fault server answers on one path.
#[derive(Clone)]
enum Reply {
    /// 200 with this content type and body (Content-Length set).
    Body(&'static str, Vec<u8>),
    /// These exact bytes, then close.
    Raw(Vec<u8>),
    /// Read the request, then say nothing for a minute.
    Hang,
    /// Headers at once, then the body one byte per second.
    Drip(Vec<u8>),
    /// A chunked body that never ends.
    EndlessChunks,
    /// `Content-Encoding: gzip`: ~1 KiB per MiB of zeros, 2 GiB in all.
    GzipBomb,
}

/// A tiny HTTP/1.1 server on std threads whose answers the test switches while it runs.
struct FaultServer {
    addr: std::net::SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
}

impl FaultServer {
    fn start() -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = FaultServer {
            addr: listener.local_addr().unwrap(),
            routes: Arc::default(),
            hits: Arc::default(),
            stop: Arc::default(),
        };
        let (routes, hits, stop) = (
            server.routes.clone(),
            server.hits.clone(),
            server.stop.clone(),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break; // dropping the listener: later connects are refused
                }
                let Ok(conn) = conn else { continue };
                let (routes, hits) = (routes.clone(), hits.clone());
                std::thread::spawn(move || serve(conn, &routes, &hits));
            }
        });
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.into(), reply);
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    /// Closes the listening socket: connections are refused from now on.
    fn close(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serve(
    mut conn: TcpStream,
    routes: &Mutex<HashMap<String, Reply>>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    let Some(path) = read_request(&mut conn) else {
        return;
    };
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let reply = routes.lock().unwrap().get(&path).cloned();
    let _ = match reply {
        None => conn.write_all(&status_reply("404 Not Found", "", b"")),
        Some(reply) => write_reply(&mut conn, reply),
    };
    let _ = conn.shutdown(Shutdown::Both);
}

fn read_request(conn: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = conn.read(&mut chunk).ok().filter(|n| *n > 0)?;
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = String::from_utf8_lossy(&buf).lines().next()?.to_string();
    line.split(' ').nth(1).map(str::to_string)
}

fn write_reply(conn: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Body(ct, body) => conn.write_all(&status_reply(
            "200 OK",
            &format!("Content-Type: {ct}\r\n"),
            &body,
        )),
        Reply::Raw(bytes) => conn.write_all(&bytes),
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(60));
            Ok(())
        }
        Reply::Drip(body) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            conn.write_all(head.as_bytes())?;
            for b in body {
                conn.write_all(&[b])?;
                std::thread::sleep(Duration::from_secs(1));
            }
            Ok(())
        }
        Reply::EndlessChunks => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            let chunk = format!("{:x}\r\n{}\r\n", 16 * 1024, "<!-- padding -->".repeat(1024));
            for _ in 0..100_000 {
                conn.write_all(chunk.as_bytes())?;
            }
            Ok(())
        }
        Reply::GzipBomb => {
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")?;
            let block = zeros_block();
            let mut frame = format!("{:x}\r\n", block.len()).into_bytes();
            frame.extend_from_slice(&block);
            frame.extend_from_slice(b"\r\n");
            conn.write_all(b"a\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff\r\n")?;
            for _ in 0..2048 {
                conn.write_all(&frame)?;
            }
            Ok(())
        }
    }
}

/// One raw-deflate block (full flush, not final) that inflates to 1 MiB of zeros; repeating it
/// keeps the stream valid and unbounded.
fn zeros_block() -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(1 << 16);
    deflate
        .compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    assert!(block.len() < 8 * 1024, "a bomb block must be small");
    block
}

fn status_reply(status: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn redirect(to: &str) -> Reply {
    Reply::Raw(status_reply(
        "302 Found",
        &format!("Location: {to}\r\n"),
        b"",
    ))
}

/// An RSS 2.0 feed with `n` items whose titles and guids start with `tag`.
fn rss(tag: &str, n: usize) -> Vec<u8> {
    let mut items = String::new();
    for i in 1..=n {
        items.push_str(&format!(
            "<item><title>{tag} 第{i}条：港口夜航恢复</title><link>http://news.example/{tag}/{i}</link>\
             <guid>{tag}-{i}</guid><pubDate>Mon, 0{i} Nov 2026 08:00:00 GMT</pubDate>\
             <description>&lt;p&gt;{tag} 正文 {i}：码头的灯一直亮到清晨。&lt;/p&gt;</description></item>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>{tag}</title>\
         <link>http://news.example/{tag}</link>\n{items}</channel></rss>\n"
    )
    .into_bytes()
}

const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";

fn config(feeds: &[(&str, String)]) -> String {
    let mut c = format!("{HEXO_HEAD}\n[fetch]\ntimeout = 2\nmax_bytes = 262144\nper_host = 64\n");
    for (name, url) in feeds {
        c.push_str(&format!(
            "\n[[feed]]\nname = {name:?}\nurl = {url:?}\ncategories = [\"故障\", {name:?}]\n"
        ));
    }
    c
}

/// The posts whose front-matter title starts with `tag ` (how `rss` titles them).
fn posts_of(
    snapshot: &BTreeMap<String, (Vec<u8>, std::time::SystemTime)>,
    tag: &str,
) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    let prefix = format!("title: '{tag} ");
    snapshot
        .iter()
        .filter(|(_, (bytes, _))| {
            String::from_utf8_lossy(bytes)
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with(&prefix))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The single stderr line about `name`, asserting there is exactly one.
fn failure_line<'a>(run: &'a Run, name: &str, url: &str) -> &'a str {
    let head = format!("failed: feed {name:?} ({url}): ");
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains(&format!("{name:?}")))
        .collect();
    assert_eq!(lines.len(), 1, "one line for {name}: {run:?}");
    assert!(lines[0].starts_with(&head), "{name}: {run:?}");
    assert!(
        !lines[0][head.len()..].starts_with(url),
        "the cause need not repeat the URL: {}",
        lines[0]
    );
    lines[0]
}

/// (name, cause substrings, lower-cased) of every failing case.
struct Case {
    name: &'static str,
    path: String,
    causes: &'static [&'static str],
}

#[test]
fn every_fault_fails_only_its_own_feed_and_is_recorded() {
    let server = FaultServer::start();
    let gone = FaultServer::start(); // its port is closed before the second run
    let cases: Vec<Case> = [
        ("http-404", &["http 404 not found"][..]),
        ("http-410", &["http 410 gone"]),
        ("http-500", &["http 500 internal server error"]),
        ("http-503-html", &["http 503 service unavailable"]),
        (
            "http-429",
            &["http 429 too many requests", "(retry after 20"],
        ),
        ("hang", &["no complete response within 2s"]),
        ("drip", &["no complete response within 2s"]),
        ("over-cap-plain", &["larger than 262144 bytes"]),
        ("over-cap-chunked", &["larger than 262144 bytes"]),
        ("gzip-bomb", &["larger than 262144 bytes"]),
        ("redirect-loop", &["too many redirects"]),
        ("redirect-chain", &["too many redirects"]),
        ("html-page", &["not a feed"]),
        ("empty-200", &["empty response"]),
        ("truncated-xml", &["xml error"]),
    ]
    .into_iter()
    .map(|(name, causes)| Case {
        name,
        path: format!("/{name}.xml"),
        causes,
    })
    .collect();

    let mut feeds: Vec<(&str, String)> = vec![
        ("control-a", server.url("/control-a.xml")),
        ("control-b", server.url("/control-b.xml")),
        ("refused", gone.url("/refused.xml")),
        ("dns", "http://nonexistent.invalid/feed.xml".into()),
    ];
    feeds.extend(cases.iter().map(|c| (c.name, server.url(&c.path))));
    for (name, url) in &feeds {
        if let Some(path) = url.strip_prefix(&server.url("")) {
            server.set(path, Reply::Body(RSS_TYPE, rss(name, 2)));
        }
    }
    gone.set("/refused.xml", Reply::Body(RSS_TYPE, rss("refused", 2)));
    let blog = Blog::new(&config(&feeds));

    let first = blog.run(&["sync"]);
    assert_eq!(first.code, 2, "only dns fails at first: {first:?}");
    let before = blog.snapshot();
    assert_eq!(before.len(), 2 * (feeds.len() - 1), "{first:?}");

    // Now break everything but the controls, which each gain an article.
    break_feeds(&server, &cases);
    gone.close();
    server.set("/control-a.xml", Reply::Body(RSS_TYPE, rss("control-a", 3)));
    server.set("/control-b.xml", Reply::Body(RSS_TYPE, rss("control-b", 3)));

    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 2, "{run:?}");
    let failed = cases.len() + 2;
    assert!(
        run.stdout.contains(&format!(
            "feeds: 2 ok, {failed} failed; posts: 2 new, 0 updated"
        )),
        "{run:?}"
    );
    let after = blog.snapshot();
    // (b) the controls published their new article.
    for tag in ["control-a", "control-b"] {
        assert_eq!(posts_of(&after, tag).len(), 3, "{tag}: {:?}", after.keys());
    }
    let status = blog.run(&["status"]);
    let mut all: Vec<(&str, String, &[&str])> = cases
        .iter()
        .map(|c| (c.name, server.url(&c.path), c.causes))
        .collect();
    all.push(("refused", gone.url("/refused.xml"), &["cannot connect"]));
    all.push((
        "dns",
        "http://nonexistent.invalid/feed.xml".into(),
        &["cannot connect"],
    ));
    for (name, url, causes) in &all {
        // (a) one line naming feed, URL and cause.
        let line = failure_line(&run, name, url).to_lowercase();
        for cause in *causes {
            assert!(line.contains(cause), "{name}: {line:?} lacks {cause:?}");
        }
        // (c) earlier posts untouched, bytes and mtime.
        assert_eq!(
            posts_of(&after, name),
            posts_of(&before, name),
            "{name}: earlier posts changed"
        );
        if *name != "dns" {
            assert_eq!(posts_of(&before, name).len(), 2, "{name}");
        }
        // (d) the store records the failure and its cause.
        let row = status
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing from status: {status:?}"))
            .to_lowercase();
        assert!(row.contains(" error "), "{name}: {row}");
        assert!(
            row.contains(causes[0]),
            "{name}: {row} lacks {:?}",
            causes[0]
        );
    }
    assert!(
        !after.keys().any(|k| k.starts_with(".tidings-tmp")),
        "no temp file or temp folder left"
    );

    // The 429 asked for an hour: the next run leaves that feed alone.
    let hits = server.hits("/http-429.xml");
    let third = blog.run(&["sync"]);
    assert!(third.stdout.contains(", 1 deferred;"), "{third:?}");
    assert_eq!(
        server.hits("/http-429.xml"),
        hits,
        "a deferred feed is not fetched"
    );
    assert!(!third.stderr.contains("\"http-429\""), "{third:?}");
}

/// Switches every case from its healthy feed to its fault.
fn break_feeds(server: &FaultServer, cases: &[Case]) {
    let html = b"<!DOCTYPE html><html><head><title>Maintenance</title></head><body><h1>\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad</h1></body></html>";
    let big = {
        let mut b = rss("over-cap-plain", 2);
        b.extend(std::iter::repeat_n(b' ', 300_000));
        b
    };
    let truncated = {
        let full = rss("truncated-xml", 3);
        full[..full.len() * 2 / 3].to_vec()
    };
    for c in cases {
        let reply = match c.name {
            "http-404" => Reply::Raw(status_reply("404 Not Found", "", b"")),
            "http-410" => Reply::Raw(status_reply("410 Gone", "", b"gone")),
            "http-500" => Reply::Raw(status_reply("500 Internal Server Error", "", b"oops")),
            "http-503-html" => Reply::Raw(status_reply(
                "503 Service Unavailable",
                "Content-Type: text/html\r\n",
                html,
            )),
            "http-429" => Reply::Raw(status_reply(
                "429 Too Many Requests",
                "Retry-After: 3600\r\n",
                b"slow down",
            )),
            "hang" => Reply::Hang,
            "drip" => Reply::Drip(rss("drip", 2)),
            "over-cap-plain" => Reply::Body(RSS_TYPE, big.clone()),
            "over-cap-chunked" => Reply::EndlessChunks,
            "gzip-bomb" => Reply::GzipBomb,
            "redirect-loop" => redirect("/redirect-loop.xml"),
            "redirect-chain" => {
                for hop in 1..=6 {
                    server.set(
                        &format!("/hop/{hop}"),
                        redirect(&format!("/hop/{}", hop + 1)),
                    );
                }
                server.set("/hop/7", Reply::Body(RSS_TYPE, rss("redirect-chain", 2)));
                redirect("/hop/1")
            }
            "html-page" => Reply::Body("text/html; charset=utf-8", html.to_vec()),
            "empty-200" => Reply::Body(RSS_TYPE, Vec::new()),
            "truncated-xml" => Reply::Body(RSS_TYPE, truncated.clone()),
            other => panic!("no fault for {other}"),
        };
        server.set(&c.path, reply);
    }
}

// ---- Broken but readable: these must succeed. ----

/// One feed served with `body`; returns the blog after a sync that must exit 0.
fn sync_one(content_type: &'static str, body: Vec<u8>) -> (FaultServer, Blog, Run) {
    let server = FaultServer::start();
    server.set("/f.xml", Reply::Body(content_type, body));
    let blog = Blog::new(&config(&[("hostile", server.url("/f.xml"))]));
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 0, "{run:?}");
    (server, blog, run)
}

/// Every post parsed as YAML front matter + body.
fn posts(blog: &Blog) -> Vec<(String, serde_yaml::Value, String)> {
    blog.snapshot()
        .into_iter()
        .map(|(name, (bytes, _))| {
            let text = String::from_utf8(bytes).expect("posts are UTF-8");
            let fm = front_matter(&text).join("\n");
            let yaml: serde_yaml::Value = serde_yaml::from_str(&fm)
                .unwrap_or_else(|e| panic!("{name}: front matter is not YAML ({e}):\n{fm}"));
            let body = text.splitn(3, "---\n").nth(2).unwrap_or("").to_string();
            (name, yaml, body)
        })
        .collect()
}

fn titles(blog: &Blog) -> Vec<String> {
    let mut t: Vec<String> = posts(blog)
        .into_iter()
        .map(|(_, y, _)| y["title"].as_str().unwrap_or("").to_string())
        .collect();
    t.sort();
    t
}

#[test]
fn bare_ampersands_are_repaired() {
    let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>A & B</title>\
        <item><title>Tom & Jerry 与 猫和老鼠</title><guid>amp-1</guid><link>http://x.example/?a=1&b=2</link>\
        <description>salt & pepper; R&D &amp; more</description></item></channel></rss>";
    let (_s, blog, _) = sync_one(RSS_TYPE, body.into());
    assert_eq!(titles(&blog), ["Tom & Jerry 与 猫和老鼠"]);
    let (_, _, html) = posts(&blog).remove(0);
    assert!(
        html.contains("salt &amp; pepper; R&amp;D &amp; more"),
        "{html}"
    );
}

#[test]
fn rss_without_version_is_read() {
    let body = "<rss><channel><title>无版本</title><item><title>没有版本号的频道</title>\
        <guid>nov-1</guid><description>正文照常。</description></item></channel></rss>";
    let (_s, blog, _) = sync_one(RSS_TYPE, body.into());
    assert_eq!(titles(&blog), ["没有版本号的频道"]);
}

#[test]
fn an_invalid_byte_in_a_gbk_feed_spoils_only_that_character() {
    let head =
        "<?xml version=\"1.0\" encoding=\"gbk\"?><rss version=\"2.0\"><channel><title>晚报</title>";
    let one = "<item><title>第一条：旧城改造</title><guid>g-1</guid><description>坏字节在这里";
    let rest = "之后的文字完好。</description></item><item><title>第二条：江边步道开放</title>\
        <guid>g-2</guid><description>步道全长八公里，沿途设有十二处休息点。</description></item></channel></rss>";
    let mut body = encoding_rs::GBK.encode(head).0.into_owned();
    body.extend_from_slice(&encoding_rs::GBK.encode(one).0);
    body.extend_from_slice(&[0x81, 0x20]); // a lead byte without its trail
    body.extend_from_slice(&encoding_rs::GBK.encode(rest).0);
    let (_s, blog, _) = sync_one("text/xml; charset=gbk", body);
    assert_eq!(titles(&blog), ["第一条：旧城改造", "第二条：江边步道开放"]);
    let all = posts(&blog);
    let first = &all
        .iter()
        .find(|p| p.1["title"] == "第一条：旧城改造")
        .unwrap()
        .2;
    assert!(
        first.contains("坏字节在这里") && first.contains("之后的文字完好。"),
        "{first}"
    );
    let second = &all
        .iter()
        .find(|p| p.1["title"] == "第二条：江边步道开放")
        .unwrap()
        .2;
    assert!(
        second.contains("步道全长八公里，沿途设有十二处休息点。"),
        "{second}"
    );
}

#[test]
fn a_utf8_feed_declaring_gbk_is_read_as_utf8() {
    let body = "<?xml version=\"1.0\" encoding=\"gbk\"?><rss version=\"2.0\"><channel><title>自称GBK</title>\
        <item><title>声明与实际编码不符的频道</title><guid>u-1</guid><description>内容其实是UTF-8。</description></item>\
        </channel></rss>";
    let (_s, blog, _) = sync_one("text/xml", body.into());
    assert_eq!(titles(&blog), ["声明与实际编码不符的频道"]);
}

#[test]
fn a_bom_beats_a_wrong_declaration() {
    let mut body = vec![0xEF, 0xBB, 0xBF];
    body.extend_from_slice(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss version=\"2.0\"><channel><title>BOM</title>\
        <item><title>字节顺序标记说了算</title><guid>b-1</guid><description>正文。</description></item>\
        </channel></rss>"
            .as_bytes(),
    );
    let (_s, blog, _) = sync_one("application/xml", body);
    assert_eq!(titles(&blog), ["字节顺序标记说了算"]);
}

#[test]
fn a_prolog_after_blank_lines_is_accepted() {
    let body = "\n\n   \r\n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>空行</title>\
        <item><title>前面有空行的频道</title><guid>p-1</guid><description>正文。</description></item></channel></rss>";
    let (_s, blog, _) = sync_one(RSS_TYPE, body.into());
    assert_eq!(titles(&blog), ["前面有空行的频道"]);
}

#[test]
fn an_entry_with_nothing_but_a_body_is_published_once() {
    let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Bare</title>\
        <item><description>&lt;p&gt;一条没有标题、链接、编号和日期的快讯，只有这段正文。&lt;/p&gt;</description></item>\
        </channel></rss>";
    let (server, blog, run) = sync_one(RSS_TYPE, body.into());
    assert!(run.stdout.contains("posts: 1 new"), "{run:?}");
    let before = blog.snapshot();
    let title = titles(&blog).remove(0);
    assert!(title.starts_with("一条没有标题"), "{title}");
    std::thread::sleep(Duration::from_millis(20));
    let again = blog.run(&["sync"]);
    assert_eq!(server.hits("/f.xml"), 2, "fetched and parsed again");
    assert!(
        again
            .stdout
            .contains("posts: 0 new, 0 updated, 1 unchanged"),
        "{again:?}"
    );
    assert_eq!(blog.snapshot(), before, "same file, same bytes, same mtime");
}

#[test]
fn a_date_in_the_year_9999_is_published_sanely() {
    let body = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Far</title>\
        <item><title>来自遥远未来的消息</title><guid>y-1</guid><pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>\
        <description>正文。</description></item>\
        <item><title>正常日期的消息</title><guid>y-2</guid><pubDate>Mon, 02 Nov 2026 08:00:00 GMT</pubDate>\
        <description>正文。</description></item></channel></rss>";
    let (_s, blog, _) = sync_one(RSS_TYPE, body.into());
    assert_eq!(titles(&blog), ["来自遥远未来的消息", "正常日期的消息"]);
    for (name, yaml, _) in posts(&blog) {
        let date = yaml["date"].as_str().unwrap_or_default().to_string();
        // A YAML date Hexo can read: `YYYY-MM-DD HH:MM:SS`, four-digit year.
        assert_eq!(date.len(), 19, "{name}: {date:?}");
        assert!(
            date.as_bytes()[4] == b'-' && date[..4].parse::<u32>().is_ok(),
            "{name}: {date:?}"
        );
    }
}

#[test]
fn a_200_kb_title_keeps_a_short_file_name_and_the_exact_title() {
    let title: String = "超长标题".repeat(17_000) + "END";
    assert!(title.len() > 200_000);
    let body = format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Long</title>\
         <item><title>{title}</title><guid>l-1</guid><description>正文。</description></item></channel></rss>"
    );
    let (_s, blog, _) = sync_one(RSS_TYPE, body.into_bytes());
    let all = posts(&blog);
    assert_eq!(all.len(), 1);
    let (name, yaml, _) = &all[0];
    // The stem is capped at 120 bytes (room for `-NN` and the extension).
    let stem = name.strip_suffix(".md").unwrap_or(name);
    assert!(stem.len() <= 120, "{} bytes: {name}", stem.len());
    assert!(
        name.starts_with("超长标题") && name.ends_with(".md"),
        "{name}"
    );
    assert_eq!(yaml["title"].as_str(), Some(title.as_str()));
}

#[test]
fn nul_and_control_characters_leave_valid_yaml_and_clean_html() {
    let rss_body = b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Ctl</title>\
        <item><title>NUL\x00here \x07bell \x1b[31mred\x1b[0m &#1; ok</title><guid>c-1</guid>\
        <description>&lt;p&gt;body\x00with\x01controls\x0b and \x1b escapes&lt;/p&gt;</description></item>\
        </channel></rss>"
        .to_vec();
    let (_s, blog, _) = sync_one(RSS_TYPE, rss_body);
    let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"j","items":[
        {"id":"j-1","title":"json\u0000title\u0008with\u001fcontrols\u2028line","content_html":"<p>a\u0000b\u0007c</p>"}]}"#;
    let (_s2, blog2, _) = sync_one("application/feed+json", json.into());
    for b in [&blog, &blog2] {
        let all = posts(b);
        assert_eq!(all.len(), 1);
        let (name, yaml, html) = &all[0];
        let title = yaml["title"].as_str().unwrap_or_default();
        assert!(!title.is_empty(), "{name}");
        assert!(!title.contains('\0'), "{name}: NUL survived in {title:?}");
        assert!(!name.chars().any(|c| c.is_control()), "{name:?}");
        let bad: Vec<char> = html
            .chars()
            .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
            .collect();
        assert!(
            bad.is_empty(),
            "{name}: control characters {bad:?} in body {html:?}"
        );
    }
}
