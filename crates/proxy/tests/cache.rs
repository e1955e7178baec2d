//! The disk cache through the proxy: hits, collapsed misses, eviction, freshness, revalidation,
//! stale-on-error, errors not cached, and the key that ignores the signature.

mod common;

use common::*;

#[tokio::test]
async fn a_hit_needs_no_upstream_call_and_carries_etag_and_cache_control() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    let first = h.get(&url).await;
    assert_eq!(first.headers()["cache-control"], "public, max-age=60");
    assert!(first.bytes().await.unwrap() == jpeg(2000), "body differs");
    let second = h.get(&url).await;
    assert_eq!(second.status(), 200);
    assert_eq!(second.headers()["etag"], "\"v1\"");
    let cc = second.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cc.starts_with("public, max-age="), "{cc}");
    assert!(second.bytes().await.unwrap() == jpeg(2000), "body differs");
    assert_eq!(h.seen.hits("/img.jpg"), 1);
    // The client's conditional request is answered from the cache.
    let r = h
        .http
        .get(&url)
        .header("if-none-match", "\"v1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(h.seen.hits("/img.jpg"), 1);
}

#[tokio::test]
async fn etag_without_upstream_validator_comes_from_the_content() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/sized/1234"));
    h.get(&url).await.bytes().await.unwrap();
    let r = h.get(&url).await;
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.len() > 10, "{etag}");
}

#[tokio::test]
async fn concurrent_misses_make_one_upstream_fetch() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/slow.jpg"));
    let requests = (0..8).map(|_| {
        let http = h.http.clone();
        let url = url.clone();
        tokio::spawn(async move { http.get(&url).send().await.unwrap().bytes().await.unwrap() })
    });
    for r in futures_util::future::join_all(requests).await {
        assert!(r.unwrap() == jpeg(5000), "body differs");
    }
    assert_eq!(h.seen.hits("/slow.jpg"), 1);
}

#[tokio::test]
async fn cache_key_excludes_the_signature_and_the_form() {
    let h = Harness::with(|s, origin| {
        s.opts.old_keys = vec![b"retired".to_vec()];
        s.published = vec![format!("http://{origin}/img.jpg")];
    })
    .await;
    let target = h.origin_url("/img.jpg");
    assert_eq!(h.get(&h.signed(&target)).await.status(), 200);
    let old = format!(
        "http://{}/{}",
        h.proxy,
        tidings_model::image::sign_path(b"retired", &target)
    );
    assert_eq!(h.get(&old).await.status(), 200);
    assert_eq!(h.get(&h.unsigned(&target)).await.status(), 200);
    assert_eq!(h.seen.hits("/img.jpg"), 1);
}

#[tokio::test]
async fn bounded_size_evicts_least_recently_used() {
    let h = Harness::with(|s, _| s.opts.cache_size = 25_000).await;
    let url = |n: u8| h.signed(&h.origin_url(&format!("/a/{n}")));
    for n in 1..=2 {
        h.get(&url(n)).await.bytes().await.unwrap();
    }
    h.get(&url(1)).await.bytes().await.unwrap(); // 1 is now more recent than 2
    h.get(&url(3)).await.bytes().await.unwrap(); // evicts 2
    h.get(&url(1)).await.bytes().await.unwrap();
    assert_eq!(h.seen.hits("/a/1"), 1, "recently used entry was kept");
    h.get(&url(2)).await.bytes().await.unwrap();
    assert_eq!(
        h.seen.hits("/a/2"),
        2,
        "least recently used entry was evicted"
    );
    let objects: u64 = walk(&h.dir.path().join("cache/objects"));
    assert!(objects <= 25_000, "{objects} bytes on disk");
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => walk(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn stale_entries_are_revalidated_with_validators() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/etag.jpg"));
    assert!(
        h.get(&url).await.bytes().await.unwrap() == jpeg(700),
        "body differs"
    );
    // no-cache: stale at once, so the next request revalidates and gets a 304 upstream.
    let r = h.get(&url).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap() == jpeg(700), "body differs");
    assert_eq!(h.seen.hits("/etag.jpg"), 2);
    let sent = h.seen.headers("/etag.jpg");
    assert_eq!(sent["if-none-match"], "\"e1\"");
    assert_eq!(sent["if-modified-since"], "Sun, 23 Jan 2022 15:27:25 GMT");
}

#[tokio::test]
async fn default_ttl_applies_when_upstream_gives_no_max_age() {
    let h = Harness::start().await;
    let r = h.get(&h.signed(&h.origin_url("/sized/100"))).await;
    assert_eq!(r.headers()["cache-control"], "public, max-age=86400");
}

#[tokio::test]
async fn stale_is_served_when_the_upstream_fails() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/flaky.jpg"));
    assert!(
        h.get(&url).await.bytes().await.unwrap() == jpeg(600),
        "body differs"
    );
    let r = h.get(&url).await;
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap() == jpeg(600), "body differs");
    assert_eq!(h.seen.hits("/flaky.jpg"), 2, "it did try upstream");
}

#[tokio::test]
async fn errors_are_not_cached() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/fail-once.jpg"));
    let r = h.get(&url).await;
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(h.get(&url).await.status(), 200);
    assert_eq!(h.seen.hits("/fail-once.jpg"), 2);
}

#[tokio::test]
async fn no_store_is_not_cached() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/nostore.jpg"));
    for _ in 0..2 {
        let r = h.get(&url).await;
        assert_eq!(r.headers()["cache-control"], "no-store");
        r.bytes().await.unwrap();
    }
    assert_eq!(h.seen.hits("/nostore.jpg"), 2);
}
