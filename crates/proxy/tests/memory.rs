//! The in-memory layer over the disk cache: what a memory hit answers (every header, HEAD,
//! ranges, conditionals), that it never mixes URLs up, and that it never outlives or shadows
//! the disk entry it copies (eviction, revalidation, a changed upstream).

mod common;

use std::sync::atomic::Ordering;

use common::*;

/// Request `url` until its body is in memory: the miss stores it on disk, the first disk hit
/// copies it into memory. Then delete the bodies on disk, so that only a memory hit can
/// answer the next request with the right bytes.
async fn warm_and_hide_disk(h: &Harness, url: &str) {
    for _ in 0..2 {
        let r = h.get(url).await;
        assert_eq!(r.status(), 200);
        r.bytes().await.unwrap();
    }
    std::fs::remove_dir_all(h.dir.path().join("cache/objects")).unwrap();
}

const SECURITY: [&str; 5] = [
    "x-content-type-options",
    "content-security-policy",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-resource-policy",
];

fn assert_security_headers(r: &reqwest::Response) {
    let h = r.headers();
    for name in SECURITY {
        assert!(h.contains_key(name), "{name} missing on {}", r.status());
    }
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], tidings_proxy::CSP);
    assert!(!h.contains_key("set-cookie"));
}

#[tokio::test]
async fn a_memory_hit_carries_every_header_and_its_own_body() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    warm_and_hide_disk(&h, &url).await;
    let r = h.get(&url).await;
    assert_eq!(r.status(), 200);
    assert_security_headers(&r);
    let hd = r.headers();
    assert_eq!(hd["content-type"], "image/jpeg");
    assert_eq!(hd["content-length"], "2000");
    assert_eq!(hd["etag"], "\"v1\"");
    assert_eq!(hd["accept-ranges"], "bytes");
    let cc = hd["cache-control"].to_str().unwrap().to_owned();
    assert!(cc.starts_with("public, max-age="), "{cc}");
    assert!(r.bytes().await.unwrap() == jpeg(2000), "body differs");
    assert_eq!(h.seen.hits("/img.jpg"), 1);
}

#[tokio::test]
async fn memory_hits_answer_head_ranges_and_conditionals() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    warm_and_hide_disk(&h, &url).await;

    let r = h.http.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-length"], "2000");
    assert_security_headers(&r);
    assert!(r.bytes().await.unwrap().is_empty());

    let r = h
        .http
        .get(&url)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 10-19/2000");
    assert_eq!(r.headers()["content-length"], "10");
    assert_security_headers(&r);
    assert_eq!(r.bytes().await.unwrap(), jpeg(2000)[10..20]);

    let r = h
        .http
        .get(&url)
        .header("range", "bytes=5000-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], "bytes */2000");

    let r = h
        .http
        .get(&url)
        .header("if-none-match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_security_headers(&r);
    assert_eq!(h.seen.hits("/img.jpg"), 1);
}

#[tokio::test]
async fn memory_hits_never_mix_urls_up() {
    let h = Harness::start().await;
    let urls: Vec<String> = (1..=24)
        .map(|n| h.signed(&h.origin_url(&format!("/a/{n}"))))
        .collect();
    // Three rounds, all URLs at once: misses, then disk hits, then memory hits.
    for _ in 0..3 {
        let requests = urls.iter().enumerate().map(|(i, url)| {
            let http = h.http.clone();
            let url = url.clone();
            async move {
                let body = http.get(&url).send().await.unwrap().bytes().await.unwrap();
                (i + 1, body)
            }
        });
        for (n, body) in futures_util::future::join_all(requests).await {
            assert_eq!(body.len(), 10_000);
            assert_eq!(body[20] as usize, n, "body of another URL");
        }
    }
    for n in 1..=24 {
        assert_eq!(h.seen.hits(&format!("/a/{n}")), 1);
    }
}

#[tokio::test]
async fn a_changed_upstream_is_served_after_revalidation() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/version.jpg"));
    let body = |b: bytes::Bytes| b[30];
    // Stale at once: every request revalidates; the 304s keep serving version 0.
    for _ in 0..3 {
        assert_eq!(body(h.get(&url).await.bytes().await.unwrap()), 0);
    }
    h.seen.version.store(7, Ordering::SeqCst);
    for _ in 0..3 {
        let r = h.get(&url).await;
        assert_eq!(r.headers()["etag"], "\"r7\"");
        assert_eq!(body(r.bytes().await.unwrap()), 7, "an old copy was served");
    }
    assert_eq!(h.seen.hits("/version.jpg"), 6);
}

#[tokio::test]
async fn disk_eviction_drops_the_memory_copy() {
    // Room for two 10 kB bodies on disk; memory has room for all of them.
    let h = Harness::with(|s, _| s.opts.cache_size = 25_000).await;
    let url = |n: u8| h.signed(&h.origin_url(&format!("/a/{n}")));
    let get = |n: u8| {
        let url = url(n);
        let h = &h;
        async move {
            let b = h.get(&url).await.bytes().await.unwrap();
            assert_eq!(b[20], n);
        }
    };
    get(1).await;
    get(1).await; // now in memory
    get(2).await;
    get(3).await; // evicts 1, the least recently used on disk
    get(1).await;
    assert_eq!(
        h.seen.hits("/a/1"),
        2,
        "memory kept an entry the disk dropped"
    );
}

#[tokio::test]
async fn memory_hits_keep_their_disk_entry_recent() {
    let h = Harness::with(|s, _| s.opts.cache_size = 25_000).await;
    let url = |n: u8| h.signed(&h.origin_url(&format!("/a/{n}")));
    for n in [1, 1, 2, 1, 3] {
        h.get(&url(n)).await.bytes().await.unwrap();
    }
    // 1 was last served from memory, after 2 was stored: 2 is the one evicted for 3.
    h.get(&url(1)).await.bytes().await.unwrap();
    assert_eq!(h.seen.hits("/a/1"), 1);
    h.get(&url(2)).await.bytes().await.unwrap();
    assert_eq!(h.seen.hits("/a/2"), 2);
}

#[tokio::test]
async fn without_a_memory_layer_the_disk_serves() {
    let h = Harness::with(|s, _| s.opts.memory_cache_size = 0).await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    for _ in 0..3 {
        let r = h.get(&url).await;
        assert_security_headers(&r);
        assert!(r.bytes().await.unwrap() == jpeg(2000), "body differs");
    }
    assert_eq!(h.seen.hits("/img.jpg"), 1);
    // With no copy in memory, a body gone from disk is fetched again.
    std::fs::remove_dir_all(h.dir.path().join("cache/objects")).unwrap();
    assert!(h.get(&url).await.bytes().await.unwrap() == jpeg(2000));
    assert_eq!(h.seen.hits("/img.jpg"), 2);
}
