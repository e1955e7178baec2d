//! Throughput of the content stage (`clean`, then `route_images`) on the articles of the sync
//! benchmark corpus: ~10 KB of Chinese HTML with 1–4 ZAKER-style lazy images each.
//!
//! ```text
//! cargo run --release -p tidings-bench --bin content-bench [-- ARTICLES [ROUNDS]]
//! ```
//!
//! Runs on one thread and reports the thread's CPU time as well as wall time, since the machine
//! may be shared; the summary takes each stage's best round. Outputs are dropped as they are
//! made, as in a sync, and produced once more untimed for the digest. Prints a digest of everything produced, so two builds can be checked for
//! byte-identical output.

use std::time::{Duration, Instant};

use tidings_bench::{feed, kind, Kind, Shape};
use tidings_content::{clean, route_images};
use tidings_model::image::ImagePolicy;
use tidings_model::CleanHtml;

/// The policy `bench/sync.sh` configures (a URL template).
const TEMPLATE: &str = "https://img.example.com/?{url}";
const IMAGE_ORIGIN: &str = "http://127.0.0.1:8080";

/// An article as the engine hands it to `clean`: HTML and the entry link as base.
struct Raw {
    html: String,
    base: String,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    let articles = articles(count);
    let bytes: usize = articles.iter().map(|a| a.html.len()).sum();
    println!(
        "{} articles, {:.1} KB each on average; load average {}",
        articles.len(),
        bytes as f64 / articles.len() as f64 / 1024.0,
        load_average()
    );
    let policies = [
        ("template", ImagePolicy::Template(TEMPLATE.into())),
        (
            "builtin",
            ImagePolicy::Builtin {
                public_url: "https://img.example.com".into(),
                key: b"bench key of thirty-two bytes!!!".to_vec(),
            },
        ),
    ];
    // Best CPU time per stage over the rounds: the least disturbed by other work on the machine.
    let mut best = [Duration::MAX; 3];
    for round in 1..=rounds {
        println!("round {round}:");
        // The engine stores each feed's few articles and drops them: outputs are dropped here
        // as they come (keeping all would mostly time the kernel handing out fresh pages).
        let (_, timing) = measure(|| {
            articles
                .iter()
                .map(|a| clean(&a.html, Some(&a.base)).html.len())
                .sum::<usize>()
        });
        best[0] = best[0].min(timing.cpu);
        report("clean", articles.len(), bytes, timing);
        let cleaned: Vec<CleanHtml> = articles
            .iter()
            .map(|a| clean(&a.html, Some(&a.base)))
            .collect();
        let mut digest = Fnv::new();
        for c in &cleaned {
            digest.add(c.html.as_bytes());
            for url in &c.images {
                digest.add(url.as_bytes());
            }
        }
        let clean_bytes: usize = cleaned.iter().map(|c| c.html.len()).sum();
        for (i, (name, policy)) in policies.iter().enumerate() {
            // Each routed post is written out and dropped by the publishers.
            let (_, timing) = measure(|| {
                cleaned
                    .iter()
                    .map(|c| route_images(&c.html, policy).len())
                    .sum::<usize>()
            });
            best[i + 1] = best[i + 1].min(timing.cpu);
            report(
                &format!("route_images ({name})"),
                cleaned.len(),
                clean_bytes,
                timing,
            );
            for c in &cleaned {
                digest.add(route_images(&c.html, policy).as_bytes());
            }
        }
        println!("  output digest {:016x}", digest.0);
    }
    println!("best of {rounds} rounds (cpu µs/article):");
    let names = ["clean", "route_images (template)", "route_images (builtin)"];
    for (name, cpu) in names.iter().zip(best) {
        println!(
            "  {name:<24} {:>6.1}",
            cpu.as_secs_f64() * 1e6 / articles.len() as f64
        );
    }
    println!("load average {}", load_average());
}

/// The articles of the UTF-8 RSS feeds of the corpus, taken from their CDATA descriptions.
fn articles(count: usize) -> Vec<Raw> {
    let shape = Shape::default();
    let mut out = Vec::with_capacity(count);
    for n in (0..).filter(|n| kind(*n) == Kind::Rss) {
        let body = feed(n, shape, IMAGE_ORIGIN).body;
        let text = String::from_utf8(body).expect("RSS feeds of the corpus are UTF-8");
        for item in text.split("<item>").skip(1) {
            if out.len() == count {
                return out;
            }
            let base = between(item, "<link>", "</link>");
            let html = between(item, "<description><![CDATA[", "]]></description>");
            out.push(Raw {
                html: html.to_string(),
                base: base.to_string(),
            });
        }
    }
    out
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).expect("generated item has the element") + open.len();
    let len = text[start..]
        .find(close)
        .expect("generated element is closed");
    &text[start..start + len]
}

struct Timing {
    wall: Duration,
    cpu: Duration,
}

fn measure<T>(work: impl FnOnce() -> T) -> (T, Timing) {
    let cpu = thread_cpu();
    let wall = Instant::now();
    let out = work();
    let timing = Timing {
        wall: wall.elapsed(),
        cpu: thread_cpu().saturating_sub(cpu),
    };
    (out, timing)
}

fn report(what: &str, n: usize, bytes: usize, t: Timing) {
    let cpu = t.cpu.as_secs_f64();
    println!(
        "  {what:<24} cpu {cpu:>6.3} s  wall {:>6.3} s  {:>7.0} articles/s  {:>6.1} MB/s  {:>6.1} µs/article (cpu)",
        t.wall.as_secs_f64(),
        n as f64 / cpu,
        bytes as f64 / cpu / 1e6,
        cpu * 1e6 / n as f64,
    );
}

/// CPU time of this thread so far (Linux schedstat, nanoseconds on the CPU).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .map(Duration::from_nanos)
        .unwrap_or_default()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// FNV-1a over everything produced, with a separator between pieces.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn add(&mut self, bytes: &[u8]) {
        for b in bytes.iter().chain([&0xff]) {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}
