//! State integrity: SIGKILL at random moments, two runs at once, and a warm sync that writes
//! nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Blog, Server, HEXO_HEAD};

const FEEDS: usize = 8;
const ARTICLES: usize = 6;

/// Adds `FEEDS` generated feeds of `ARTICLES` articles to the fixture server; returns their
/// config lines. Every title is unique, so slugs do not depend on which feed lands first.
fn generated_feeds(server: &Server) -> String {
    let mut config = String::new();
    for f in 0..FEEDS {
        let path = format!("/gen/{f}.xml");
        server
            .server
            .set(&path, "application/rss+xml", generated_feed(f));
        config.push_str(&format!(
            "\n[[feed]]\nname = \"gen-{f}\"\nurl = {:?}\ncategories = [\"生成\", \"第{f}组\"]\n",
            server.server.url(&path)
        ));
    }
    config
}

fn generated_feed(f: usize) -> Vec<u8> {
    let mut items = String::new();
    for a in 0..ARTICLES {
        let para =
            "<p>江边的早市六点开张，卖菜的阿姨把最新鲜的青菜摆在最前面，来往的行人放慢了脚步。</p>"
                .repeat(6);
        let html = format!(
            "<div>{para}<img data-src=\"http://img.example/{f}/{a}.jpg\" src=\"http://img.example/blank.gif\"><p>第{f}组第{a}篇，完。</p></div>"
        );
        items.push_str(&format!(
            "<item><title>第{f}组的第{a}条消息：早市见闻</title><link>http://news.example/{f}/{a}</link>\
             <guid>gen-{f}-{a}</guid><pubDate>Mon, {:02} Nov 2026 {:02}:{:02}:00 GMT</pubDate>\
             <description><![CDATA[{html}]]></description></item>\n",
            1 + a % 28,
            f % 24,
            a % 60
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>生成频道 {f}</title>\
         <link>http://news.example/{f}</link>\n{items}</channel></rss>\n"
    )
    .into_bytes()
}

fn big_blog(server: &Server) -> Blog {
    Blog::new(&format!(
        "{HEXO_HEAD}\n[fetch]\nper_host = 16\n{}{}",
        server.sample_feeds(),
        generated_feeds(server)
    ))
}

fn spawn_sync(blog: &Blog) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tidings"))
        .arg("sync")
        // Flush every few posts, so kills also land while a flush runs in the background.
        .env("TIDINGS_FLUSH_EVERY", "7")
        .current_dir(blog.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// name → bytes of every file in the posts folder (temp files included).
fn files(blog: &Blog) -> BTreeMap<String, Vec<u8>> {
    blog.snapshot()
        .into_iter()
        .map(|(k, (bytes, _))| (k, bytes))
        .collect()
}

/// (path, state) of every article row, read-only.
fn store_rows(blog: &Blog) -> Vec<(String, String)> {
    let db = blog.path().join(".tidings/tidings.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    // An article whose post is still to be written is listed in `pending`.
    let mut stmt = conn
        .prepare(
            "SELECT path, CASE WHEN id IN (SELECT id FROM pending) THEN 'pending' ELSE state END \
             FROM articles",
        )
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<Vec<(String, String)>, _>>()
        .unwrap();
    rows
}

/// A small xorshift: no rand crate needed, and the seed is printed so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn reset(blog: &Blog) {
    for dir in [blog.path().join(".tidings"), blog.posts_dir()] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}

fn assert_complete(blog: &Blog, clean: &BTreeMap<String, Vec<u8>>, round: usize) {
    let got = files(blog);
    let missing: Vec<_> = clean.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !clean.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "round {round}: missing {missing:?}, extra (duplicates or temp files) {extra:?}"
    );
    for (name, bytes) in clean {
        assert!(got[name] == *bytes, "round {round}: {name} differs");
    }
    let rows = store_rows(blog);
    assert_eq!(rows.len(), clean.len(), "round {round}: one row per post");
    let paths: BTreeSet<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    let names: BTreeSet<&str> = clean.keys().map(String::as_str).collect();
    assert_eq!(paths, names, "round {round}: store and disk agree");
    assert!(
        rows.iter().all(|(_, s)| s == "published"),
        "round {round}: nothing left pending"
    );
}

#[test]
fn sigkill_at_random_moments_then_rerun_gives_the_clean_output() {
    let server = Server::start();
    let blog = big_blog(&server);
    let started = Instant::now();
    let run = blog.run(&["sync"]);
    let full = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    let clean = files(&blog);
    assert_eq!(clean.len(), 13 + FEEDS * ARTICLES);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test: seed {seed}, full run {full:?}");
    let mut rng = Rng(seed);
    // A run that ends before its kill narrows the window: runs vary with the machine's load,
    // and kills aimed past the end of a run test nothing.
    let mut window = full.as_millis() as u64;
    let mut killed_midway = 0;
    let mut round = 0;
    while killed_midway < 30 {
        round += 1;
        assert!(round <= 90, "kills keep missing the run (seed {seed})");
        reset(&blog);
        // Some rounds die twice before the run that completes.
        for _ in 0..=rng.below(2) {
            let mut child = spawn_sync(&blog);
            let spawned = Instant::now();
            std::thread::sleep(Duration::from_millis(rng.below(window + 1)));
            let status = child.try_wait().unwrap();
            if let Some(status) = status {
                assert!(status.success(), "round {round}: {status:?}");
                window = window.min(spawned.elapsed().as_millis() as u64);
                child.wait().unwrap();
                continue;
            }
            child.kill().unwrap(); // SIGKILL on Unix
            child.wait().unwrap();
            killed_midway += 1;
            // Whatever is on disk now is whole: each post equals its clean twin.
            for (name, bytes) in files(&blog) {
                if name.starts_with(".tidings-tmp") {
                    continue; // an orphan (or the temp folder) the next run must sweep
                }
                let twin = clean.get(&name);
                assert!(
                    twin == Some(&bytes),
                    "round {round} (seed {seed}): {name} is half-written or unexpected"
                );
            }
        }
        let rerun = blog.run(&["sync"]);
        assert_eq!(rerun.code, 0, "round {round} (seed {seed}): {rerun:?}");
        assert_complete(&blog, &clean, round);
    }
}

#[test]
fn two_runs_at_once_one_wins_the_other_is_refused() {
    let server = Server::start();
    let blog = big_blog(&server);
    for attempt in 0..3 {
        reset(&blog);
        let (a, b) = (spawn_sync(&blog), spawn_sync(&blog));
        let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
        let codes: Vec<i32> = outs.iter().map(|o| o.status.code().unwrap_or(-1)).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        let text: Vec<String> = outs
            .iter()
            .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
            .collect();
        assert_eq!(sorted, [0, 1], "attempt {attempt}: {codes:?} {text:?}");
        let loser = &text[codes.iter().position(|c| *c == 1).unwrap()];
        assert!(
            loser.contains("another tidings run holds ")
                && loser.contains(".tidings/lock; wait for it to finish"),
            "{loser}"
        );
        assert_eq!(loser.lines().count(), 1, "one clear line: {loser}");
        let posts = files(&blog);
        assert_eq!(posts.len(), 13 + FEEDS * ARTICLES, "no duplicates");
        assert_eq!(store_rows(&blog).len(), posts.len());
    }
}

/// Counts every INSERT, UPDATE and DELETE on `articles` from now on, through triggers stored
/// in the database itself, so the `tidings` process is counted too.
fn install_write_counter(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "CREATE TABLE test_writes (n INTEGER NOT NULL);
         INSERT INTO test_writes VALUES (0);
         CREATE TRIGGER test_ins AFTER INSERT ON articles BEGIN UPDATE test_writes SET n = n + 1; END;
         CREATE TRIGGER test_upd AFTER UPDATE ON articles BEGIN UPDATE test_writes SET n = n + 1; END;
         CREATE TRIGGER test_del AFTER DELETE ON articles BEGIN UPDATE test_writes SET n = n + 1; END;",
    )
    .unwrap();
}

fn article_writes(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT n FROM test_writes", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_warm_sync_writes_no_file_and_no_article_row() {
    let server = Server::start();
    let blog = big_blog(&server);
    assert_eq!(blog.run(&["sync"]).code, 0);
    let db = blog.path().join(".tidings/tidings.db");
    install_write_counter(&db);
    let before = blog.snapshot();
    std::thread::sleep(Duration::from_millis(20));

    // All 304.
    let run = blog.run(&["sync"]);
    assert!(
        run.stdout.contains("posts: 0 new, 0 updated, 0 unchanged"),
        "{run:?}"
    );
    assert_eq!(article_writes(&db), 0, "a 304 run updated article rows");
    assert_eq!(blog.snapshot(), before, "a 304 run touched files");

    // New bytes, same articles: every feed is parsed again and every article is unchanged.
    for f in 0..FEEDS {
        let mut body = generated_feed(f);
        body.extend_from_slice(b"<!-- regenerated -->\n");
        server
            .server
            .set(&format!("/gen/{f}.xml"), "application/rss+xml", body);
    }
    let run = blog.run(&["sync"]);
    assert!(
        run.stdout.contains(&format!(
            "posts: 0 new, 0 updated, {} unchanged",
            FEEDS * ARTICLES
        )),
        "{run:?}"
    );
    assert_eq!(
        article_writes(&db),
        0,
        "unchanged articles were rewritten in the store"
    );
    assert_eq!(blog.snapshot(), before, "unchanged articles touched files");

    // The counter can fail: one changed article is one row write and one file write.
    let changed = String::from_utf8(generated_feed(0)).unwrap().replacen(
        "第0组第0篇，完。",
        "第0组第0篇，更正后完。",
        1,
    );
    server
        .server
        .set("/gen/0.xml", "application/rss+xml", changed);
    let run = blog.run(&["sync"]);
    assert!(run.stdout.contains("posts: 0 new, 1 updated"), "{run:?}");
    assert!(article_writes(&db) >= 1, "the write counter counts");
    let after = blog.snapshot();
    let touched: Vec<_> = after.iter().filter(|(k, v)| before[*k] != **v).collect();
    assert_eq!(touched.len(), 1);
}
