//! A timing run, not a test: `cargo test --release -p tidings-site --test bench -- --ignored
//! --nocapture` builds 10,000 fabricated ten-kilobyte articles cold, again with nothing new,
//! and again after 20 more arrive, and prints the figures. Nothing here asserts on time.

use std::time::Instant;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use tidings_model::image::ImagePolicy;
use tidings_model::Article;
use tidings_site::{build, SiteArticle, SiteOptions};

const GROUPS: &[&str] = &["新媒体", "World", "Blogs", "地方"];

fn article(n: usize) -> SiteArticle {
    let published = Timestamp::from_second(1_795_350_000 - n as i64 * 1800).unwrap();
    let mut html = String::from("<div>");
    while html.len() < 10_000 {
        html.push_str(&format!(
            "<p>第{n}篇：江畔老街的夜市排起长队，摊主说热干面和烤红薯卖得最好，公交末班车延后到二十三点。\
             The evening ferry {n} now leaves at nine, said the harbour office.</p>"
        ));
        if html.len() % 3 == 0 {
            html.push_str(&format!(
                "<img src=\"http://img.example.cn/{n}/{}.jpg\" width=\"780\" height=\"520\" \
                 loading=\"lazy\" decoding=\"async\" referrerpolicy=\"no-referrer\">",
                html.len()
            ));
        }
    }
    html.push_str("</div>");
    let categories = vec![
        GROUPS[n % 4].to_string(),
        format!("site{}", n % 25),
        format!("channel{}", n % 5),
    ];
    let article = Article {
        id: format!("{n:08x}"),
        feed_url: format!("http://feeds.example/{}", n % 500),
        guid: None,
        link: Some(format!("http://news.example.cn/a/{n}")),
        title: format!("城市夜经济观察 第{n}期：老街区迎来新客流"),
        author: "ZAKER".into(),
        categories,
        published,
        updated: published,
        html,
        lead_image: Some(format!("http://img.example.cn/{n}/lead.jpg")),
        images: vec![],
    };
    SiteArticle {
        content_hash: article.content_hash(),
        slug: format!("城市夜经济观察-第{n}期"),
        article,
    }
}

/// User and system CPU seconds of this process so far (from /proc; zero elsewhere): on a
/// shared machine, CPU time says more than wall time.
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name and state.
    match (f.get(10), f.get(11)) {
        (Some(u), Some(s)) => (u / 100.0, s / 100.0),
        _ => (0.0, 0.0),
    }
}

fn peak_rss_kib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "VmHWM: unknown".into())
}

#[test]
#[ignore = "timing run; use --release --ignored --nocapture"]
fn ten_thousand_articles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("public");
    let options = SiteOptions {
        title: "新闻镜像".into(),
        base_url: "https://news.example.com/".into(),
        language: "zh-CN".into(),
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
        per_page: 20,
        templates_dir: None,
        policy: ImagePolicy::Builtin {
            public_url: "https://news.example.com/img".into(),
            key: b"bench key".to_vec(),
        },
    };
    for (label, first) in [("cold", 20), ("nothing new", 20), ("20 new", 0)] {
        // Made outside the timed part, and one set at a time, as the store would stream them.
        let set: Vec<SiteArticle> = (first..10_020).map(article).collect();
        let mb = set.iter().map(|a| a.article.html.len()).sum::<usize>() / 1_000_000;
        let (u0, s0) = cpu_seconds();
        let started = Instant::now();
        let report = build(&out, set, &options, &()).unwrap();
        let (u1, s1) = cpu_seconds();
        println!(
            "{label}: {} articles ({mb} MB of HTML): {report} in {:.2} s (cpu: {:.2} s user, {:.2} s system)",
            10_020 - first,
            started.elapsed().as_secs_f64(),
            u1 - u0,
            s1 - s0,
        );
    }
    println!("{}", peak_rss_kib());
}
