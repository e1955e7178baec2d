//! A synthetic corpus shaped like the feeds Tidings mirrors: RSSHub-style RSS of Chinese news
//! with lazy-loaded images, some GBK, some Atom, some JSON Feed. Deterministic: the same
//! arguments always give the same bytes, so a warm run sees every ETag again.
//!
//! All prose is assembled from invented phrases.

use std::fmt::Write as _;

/// One feed as served.
#[derive(Clone, Debug)]
pub struct FeedFile {
    /// `/feed/<n>`.
    pub path: String,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// A strong validator derived from the body.
    pub etag: String,
}

/// Shape of the corpus.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub feeds: usize,
    pub articles: usize,
    /// Approximate bytes of article HTML (UTF-8).
    pub article_bytes: usize,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            feeds: 1000,
            articles: 20,
            article_bytes: 10 * 1024,
        }
    }
}

/// The format of feed `n`: 8% GBK RSS, 8% Atom, 4% JSON Feed, the rest UTF-8 RSS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Rss,
    GbkRss,
    Atom,
    Json,
}

pub fn kind(n: usize) -> Kind {
    match n % 25 {
        0 | 1 => Kind::GbkRss,
        2 | 3 => Kind::Atom,
        4 => Kind::Json,
        _ => Kind::Rss,
    }
}

/// Every feed of the corpus. `image_origin` is where image URLs point (never fetched by sync).
pub fn corpus(shape: Shape, image_origin: &str) -> Vec<FeedFile> {
    (0..shape.feeds)
        .map(|n| feed(n, shape, image_origin))
        .collect()
}

pub fn feed(n: usize, shape: Shape, image_origin: &str) -> FeedFile {
    let mut rng = Rng::new(n as u64 + 1);
    let articles: Vec<Article> = (0..shape.articles)
        .map(|a| article(&mut rng, n, a, shape.article_bytes, image_origin))
        .collect();
    let (content_type, body) = match kind(n) {
        Kind::Rss => (
            "application/rss+xml; charset=utf-8",
            rss(n, &articles, "UTF-8").into_bytes(),
        ),
        Kind::GbkRss => {
            let text = rss(n, &articles, "gbk");
            (
                "application/rss+xml; charset=gbk",
                encoding_rs::GBK.encode(&text).0.into_owned(),
            )
        }
        Kind::Atom => (
            "application/atom+xml; charset=utf-8",
            atom(n, &articles).into_bytes(),
        ),
        Kind::Json => ("application/feed+json", json(n, &articles).into_bytes()),
    };
    let etag = format!("\"{:016x}\"", fnv(&body));
    FeedFile {
        path: format!("/feed/{n}"),
        content_type,
        body,
        etag,
    }
}

struct Article {
    title: String,
    link: String,
    guid: String,
    /// Seconds since the epoch.
    date: i64,
    html: String,
}

const SUBJECTS: &[&str] = &[
    "市交通委",
    "气象台",
    "老街区的商户",
    "江边社区",
    "高新区",
    "一家老字号茶馆",
    "图书馆",
    "地铁三号线",
    "港口管理局",
    "农贸市场",
    "青年志愿者",
    "本地球队",
    "博物馆",
    "夜校",
    "山区小学",
    "新能源车企",
];
const VERBS: &[&str] = &[
    "宣布",
    "正式启动",
    "悄悄调整了",
    "首次公开",
    "迎来了",
    "完成了",
    "推迟了",
    "重新开放了",
];
const OBJECTS: &[&str] = &[
    "周末夜市",
    "跨江缆车",
    "社区食堂",
    "老旧小区改造",
    "冬季供暖方案",
    "公交夜班线路",
    "旧书交换活动",
    "河道清淤工程",
    "城市绿道",
    "春季招聘会",
    "非遗手工展",
    "无人机灯光秀",
];
const CLAUSES: &[&str] = &[
    "据现场工作人员介绍，",
    "不少市民一早就赶来排队，",
    "记者在现场看到，",
    "相关负责人表示，",
    "这一消息在社交平台上引发热议，",
    "与去年同期相比，",
    "附近的居民告诉记者，",
    "按照此前公布的计划，",
];
const PHRASES: &[&str] = &[
    "整个过程比预想中顺利得多",
    "下一步将根据反馈继续优化",
    "周边道路的通行秩序总体良好",
    "现场还设置了临时休息区和饮水点",
    "参与人数比去年多了将近三成",
    "部分路段在高峰时段仍有拥堵",
    "工作人员提醒大家提前规划出行路线",
    "活动将持续到本月底",
    "老人和孩子是最主要的受益人群",
    "不少摊主说生意比平时好了一倍",
];

fn article(rng: &mut Rng, n: usize, a: usize, bytes: usize, image_origin: &str) -> Article {
    let title = format!(
        "{}{}{}（第{}期·{}）",
        rng.pick(SUBJECTS),
        rng.pick(VERBS),
        rng.pick(OBJECTS),
        a + 1,
        n
    );
    let images = 1 + rng.below(4);
    let mut html = String::with_capacity(bytes + 2048);
    html.push_str("<div class=\"article_content\" style=\"font-size:16px\">");
    let mut placed = 0;
    while html.len() < bytes {
        paragraph(rng, &mut html);
        if placed < images && rng.below(3) == 0 {
            image(rng, &mut html, image_origin, n, a, placed);
            placed += 1;
        }
    }
    while placed < images {
        image(rng, &mut html, image_origin, n, a, placed);
        placed += 1;
    }
    html.push_str("<p><span style=\"color:#999\">（本文来源：生成语料）</span></p></div>");
    Article {
        title,
        link: format!("http://www.myzaker.example/article/{n:04}{a:03}"),
        guid: format!("bench-{n}-{a}"),
        date: 1_790_000_000 - (n as i64 * 20 + a as i64) * 600,
        html,
    }
}

fn paragraph(rng: &mut Rng, out: &mut String) {
    out.push_str("<p>");
    for s in 0..4 + rng.below(4) {
        out.push_str(rng.pick(CLAUSES));
        out.push_str(rng.pick(SUBJECTS));
        out.push_str(rng.pick(VERBS));
        out.push_str(rng.pick(OBJECTS));
        out.push('，');
        if s == 1 {
            let _ = write!(out, "<strong>{}</strong>", rng.pick(PHRASES));
        } else if s == 2 && rng.below(4) == 0 {
            let _ = write!(
                out,
                "<a href=\"http://www.myzaker.example/tag/{}\" target=\"_blank\">{}</a>",
                rng.below(1000),
                rng.pick(OBJECTS)
            );
        } else {
            out.push_str(rng.pick(PHRASES));
        }
        out.push('。');
    }
    out.push_str("</p>\n");
}

/// A ZAKER-style lazy image: a placeholder `src`, the real URL in `data-original`.
fn image(rng: &mut Rng, out: &mut String, origin: &str, n: usize, a: usize, i: usize) {
    let (w, h) = (400 + 40 * rng.below(16), 300 + 30 * rng.below(16));
    let _ = writeln!(
        out,
        "<p style=\"text-align:center\"><img class=\"lazy\" src=\"{origin}/static/blank.gif\" \
         data-original=\"{origin}/img/{n}/{a}/{i}.jpg\" data-width=\"{w}\" data-height=\"{h}\" \
         alt=\"图{i}\"></p>"
    );
}

fn rss(n: usize, articles: &[Article], encoding: &str) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"{encoding}\"?>\n<rss version=\"2.0\"><channel>\
         <title>基准频道 {n}</title><link>http://www.myzaker.example/channel/{n}</link>\
         <description>生成的基准语料</description>\n"
    );
    for a in articles {
        let _ = writeln!(
            out,
            "<item><title><![CDATA[{}]]></title><link>{}</link><guid isPermaLink=\"false\">{}</guid>\
             <pubDate>{}</pubDate><description><![CDATA[{}]]></description></item>",
            a.title,
            a.link,
            a.guid,
            rfc2822(a.date),
            a.html
        );
    }
    out.push_str("</channel></rss>\n");
    out
}

fn atom(n: usize, articles: &[Article]) -> String {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\
         <title>基准频道 {n}</title><id>urn:bench:{n}</id><updated>{}</updated>\n",
        rfc3339(articles.first().map_or(0, |a| a.date))
    );
    for a in articles {
        let _ = writeln!(
            out,
            "<entry><title>{}</title><id>urn:{}</id><link href=\"{}\"/><updated>{}</updated>\
             <content type=\"html\">{}</content></entry>",
            escape(&a.title),
            a.guid,
            a.link,
            rfc3339(a.date),
            escape(&a.html)
        );
    }
    out.push_str("</feed>\n");
    out
}

fn json(n: usize, articles: &[Article]) -> String {
    let items: Vec<serde_json::Value> = articles
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.guid, "url": a.link, "title": a.title,
                "date_published": rfc3339(a.date), "content_html": a.html,
            })
        })
        .collect();
    serde_json::json!({
        "version": "https://jsonfeed.org/version/1.1",
        "title": format!("基准频道 {n}"),
        "items": items,
    })
    .to_string()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Civil date from days since the epoch (Howard Hinnant's algorithm).
fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60, weekday)
}

fn rfc2822(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, m, d, hh, mm, ss, wd) = civil(secs);
    format!(
        "{}, {d:02} {} {y} {hh:02}:{mm:02}:{ss:02} GMT",
        DAYS[wd as usize],
        MONTHS[(m - 1) as usize]
    )
}

fn rfc3339(secs: i64) -> String {
    let (y, m, d, hh, mm, ss, _) = civil(secs);
    format!("{y}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// xorshift64*: small, seedable, good enough for filler text.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_right() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(rfc3339(1_790_000_000), "2026-09-21T14:13:20Z");
        assert_eq!(rfc2822(1_790_000_000), "Mon, 21 Sep 2026 14:13:20 GMT");
    }

    #[test]
    fn corpus_has_the_promised_shape() {
        let shape = Shape {
            feeds: 25,
            ..Shape::default()
        };
        let feeds = corpus(shape, "http://127.0.0.1:1");
        let kinds: Vec<Kind> = (0..25).map(kind).collect();
        assert_eq!(kinds.iter().filter(|k| **k == Kind::GbkRss).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Atom).count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == Kind::Json).count(), 1);
        let total: usize = feeds.iter().map(|f| f.body.len()).sum();
        // ~200 KB per feed, so ~200 MB for 1,000 feeds.
        assert!((150_000 * 25..300_000 * 25).contains(&total), "{total}");
        assert!(
            std::str::from_utf8(&feeds[0].body).is_err(),
            "feed 0 is GBK"
        );
        let again = feed(7, shape, "http://127.0.0.1:1");
        assert_eq!(again.body, feeds[7].body, "deterministic");
        let text = String::from_utf8(feeds[7].body.clone()).unwrap();
        assert!(text.matches("data-original=").count() >= 20);
    }
}
