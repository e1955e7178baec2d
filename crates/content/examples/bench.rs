//! Throughput of `clean` and `route_images` on synthetic ZAKER-shaped articles of ~10 KB.
//! A benchmark, not a test: run `cargo run --release -p tidings-content --example bench [N]`.

use std::time::Instant;

use tidings_content::{clean, route_images};
use tidings_model::image::ImagePolicy;

fn article(i: usize) -> String {
    let mut html = String::from("<div>");
    for p in 0..36 {
        html.push_str(&format!(
            "<p>第{i}篇第{p}段：城市的清晨从菜市场开始，摊主们把新鲜的蔬菜码得整整齐齐，\
             <strong>价格</strong>比上周略有回落，<a href=\"/news/{i}/{p}.html\">详情</a>。</p>"
        ));
        if p % 4 == 1 {
            html.push_str(&format!(
                "<p></p><div class=\"img_box\" id=\"id_imagebox_{p}\" onclick><div class=\"content_img_div perview_img_div\">\
                 <img class=\"lazy opacity_0 \" id=\"img_{p}\" data-original=\"http://zkres1.myzaker.com/2024/{i}_{p}_1024.jpg\" \
                 data-height=\"520\" data-width=\"780\" src=\"https://placeholder\"></div></div>↑图片说明文字。<p></p>"
            ));
        }
    }
    html.push_str("<script>track()</script><div id=\"recommend_bottom\"></div><div id=\"article_bottom\"></div></div>");
    html
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let articles: Vec<String> = (0..n).map(article).collect();
    let bytes: usize = articles.iter().map(String::len).sum();

    let start = Instant::now();
    let cleaned: Vec<_> = articles
        .iter()
        .map(|a| clean(a, Some("https://rsshub.app/zaker/channel/13")))
        .collect();
    report("clean", n, bytes, start.elapsed().as_secs_f64());

    let policy = ImagePolicy::Template("https://cors.zfour.workers.dev/?{url}".into());
    let start = Instant::now();
    let routed: usize = cleaned
        .iter()
        .map(|c| route_images(&c.html, &policy).len())
        .sum();
    report("route_images", n, routed, start.elapsed().as_secs_f64());
}

fn report(what: &str, n: usize, bytes: usize, secs: f64) {
    println!(
        "{what}: {n} articles, {:.1} KB each, {secs:.3} s, {:.1} MB/s, {:.0} articles/s (one core)",
        bytes as f64 / n as f64 / 1024.0,
        bytes as f64 / secs / 1e6,
        n as f64 / secs
    );
}
