//! Headless Chromium on the demo: `tidings demo` syncs, builds and serves; a real browser loads
//! the site, its images come through the proxy while the origin refuses foreign Referers, the
//! search page finds an article by a Chinese word, and nothing is logged to the console.
//!
//! Needs Debian's `chromium` (`.ci/run` installs it) and node; playwright-core is installed from
//! npm into `target/browser-npm/` once. Set TIDINGS_SKIP_BROWSER=1 to skip. The screenshot is
//! kept as `target/artifacts/demo-article.png`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn demo_site_renders_in_chromium_with_proxied_images_and_search() {
    if std::env::var_os("TIDINGS_SKIP_BROWSER").is_some() {
        eprintln!("TIDINGS_SKIP_BROWSER set: skipping the browser test");
        return;
    }
    let npm = install_playwright();
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tidings"))
        .args(["demo", "--dir", "site", "--addr", "127.0.0.1:0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _demo = Demo(child);
    let (mut origin, mut site) = (None, None);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(o) = line.strip_prefix("sample feeds served at ") {
            origin = Some(o.trim().to_string());
        }
        if line.starts_with("serving ") {
            let url = line
                .split(" on ")
                .nth(1)
                .unwrap()
                .split_whitespace()
                .next()
                .unwrap();
            site = Some(url.trim_end_matches('/').to_string());
            break;
        }
    }
    let (origin, site) = (origin.expect("origin line"), site.expect("serving line"));

    // The origin is hotlink-protected: the site's own Referer is refused there.
    let direct = status_of(
        &origin,
        "/img/night-market.png?w=780&h=520",
        Some(&format!("{site}/")),
    );
    assert_eq!(
        direct, 403,
        "the sample origin must refuse a foreign Referer"
    );

    let artifacts = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("demo-article.png");
    let out = Command::new("node")
        .arg(npm.join("check.mjs"))
        .args([site.as_str(), shot.to_str().unwrap(), "夜经济", "缆车"])
        .current_dir(&npm)
        .output()
        .expect("node runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check.mjs failed: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert!(report.get("error").is_none(), "browser error: {report:#}");

    let links: Vec<&str> = strings(&report["indexLinks"]);
    assert!(
        links.iter().any(|l| l.contains("城市\"夜经济\"升温")),
        "index lists the article: {links:?}"
    );
    assert_eq!(
        report["articleHeading"],
        "城市\"夜经济\"升温：老街区迎来新客流"
    );

    let images = report["images"].as_array().unwrap();
    assert!(!images.is_empty(), "the article has images: {report:#}");
    for img in images {
        let src = img["src"].as_str().unwrap();
        assert!(
            src.starts_with(&format!("{site}/img/")),
            "image not proxied: {src}"
        );
        assert!(
            img["naturalWidth"].as_u64().unwrap() > 0,
            "image did not load: {img}"
        );
        assert_eq!(img["referrerpolicy"], "no-referrer");
    }
    let results: Vec<&str> = strings(&report["searchResults"]);
    assert!(
        results.contains(&"缆车检修完毕，明日恢复运营"),
        "search by a Chinese word: {results:?}"
    );
    assert_eq!(
        report["consoleErrors"].as_array().unwrap().len(),
        0,
        "console errors: {report:#}"
    );
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "screenshot kept at {shot:?}"
    );
}

/// playwright-core (the driver only; the browser is Debian's chromium) in target/browser-npm.
fn install_playwright() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-npm");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/check.mjs"),
        dir.join("check.mjs"),
    )
    .unwrap();
    if !dir.join("node_modules/playwright-core").exists() {
        std::fs::write(
            dir.join("package.json"),
            "{\"name\":\"browser-npm\",\"private\":true,\"type\":\"module\"}\n",
        )
        .unwrap();
        let out = Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "playwright-core@1",
            ])
            .current_dir(&dir)
            .output()
            .expect("npm must be installed for the browser test (or set TIDINGS_SKIP_BROWSER=1)");
        assert!(
            out.status.success(),
            "npm install failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

/// The status code of a plain HTTP/1.1 GET, with an optional Referer.
fn status_of(origin: &str, path: &str, referer: Option<&str>) -> u16 {
    let host = origin.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    let referer = referer
        .map(|r| format!("Referer: {r}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{referer}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut head = String::new();
    let _ = s.read_to_string(&mut head);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// The strings of a JSON array in the browser's report.
fn strings(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .expect("an array in the report")
        .iter()
        .filter_map(|v| v.as_str())
        .collect()
}
