//! What the proxy sends upstream, and how upstream statuses map to ours.

mod common;

use std::sync::Arc;

use common::*;

#[tokio::test]
async fn status_mapping() {
    let h = Harness::start().await;
    for (upstream, ours) in [
        (404, 404),
        (410, 404),
        (403, 404),
        (500, 502),
        (503, 502),
        (300, 404),
        (304, 404),
        (206, 404),
    ] {
        let r = h
            .get(&h.signed(&h.origin_url(&format!("/status/{upstream}"))))
            .await;
        assert_eq!(r.status().as_u16(), ours, "upstream {upstream}");
    }
    assert_eq!(h.get(&h.signed(&h.origin_url("/hang"))).await.status(), 504);
}

#[tokio::test]
async fn not_modified_passes_through_with_its_etag() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/etag.jpg"));
    let r = h
        .http
        .get(&url)
        .header("if-none-match", "\"e1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
    assert_eq!(r.headers()["etag"], "\"e1\"");
    let r = h
        .http
        .get(&url)
        .header("if-none-match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["etag"], "\"e1\"");
    let r = h
        .http
        .get(&url)
        .header("if-modified-since", "Sun, 23 Jan 2022 15:27:25 GMT")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 304);
}

#[tokio::test]
async fn range_requests_get_206() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/a/1"));
    let r = h
        .http
        .get(&url)
        .header("range", "bytes=0-9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 0-9/10000");
    let mut expected = jpeg(10_000);
    expected[20] = 1;
    assert!(
        r.bytes().await.unwrap() == expected[..10].to_vec(),
        "body differs"
    );
    let r = h
        .http
        .get(&url)
        .header("range", "bytes=9990-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert!(
        r.bytes().await.unwrap() == expected[9990..].to_vec(),
        "body differs"
    );
    let r = h
        .http
        .get(&url)
        .header("range", "bytes=20000-")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(h.seen.hits("/a/1"), 1);
}

#[tokio::test]
async fn upstream_headers_are_ours_not_the_clients() {
    let h = Harness::start().await;
    let r = h
        .http
        .get(h.signed(&h.origin_url("/img.jpg")))
        .header("referer", "https://blog.example/post/1")
        .header("cookie", "session=secret")
        .header("x-forwarded-for", "203.0.113.9")
        .header("accept-encoding", "x-client-encoding")
        .header("authorization", "Bearer secret")
        .header("user-agent", "client-browser/1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen = h.seen.headers("/img.jpg");
    assert!(seen.get("referer").is_none());
    assert!(seen.get("cookie").is_none());
    assert!(seen.get("x-forwarded-for").is_none());
    assert!(seen.get("authorization").is_none());
    assert_eq!(seen["accept"], "image/*");
    assert!(seen["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("Tidings-Proxy/"));
    let ae = seen
        .get("accept-encoding")
        .map(|v| v.to_str().unwrap().to_owned());
    assert!(!ae.unwrap_or_default().contains("x-client-encoding"));
}

#[tokio::test]
async fn hotlink_protected_origin_serves_200_through_the_proxy() {
    let h = Harness::start().await;
    let target = h.origin_url("/hotlink.jpg");
    // A browser on the blog would send the blog as Referer and be refused…
    let direct = h
        .http
        .get(&target)
        .header("referer", "https://blog.example/")
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), 403);
    // …through the proxy the same request succeeds.
    let r = h
        .http
        .get(h.signed(&target))
        .header("referer", "https://blog.example/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap() == jpeg(300), "body differs");
}

#[tokio::test]
async fn per_host_referer_is_sent_only_to_matching_hosts() {
    let resolver = Arc::new(FakeResolver::with(&[
        ("wx1.sinaimg.test", &["127.0.0.1"]),
        ("other.test", &["127.0.0.1"]),
    ]));
    let h = Harness::with(|s, origin| {
        let port = origin.port();
        s.opts.referer = vec![("*.sinaimg.test".into(), "https://weibo.com/".into())];
        s.opts.allow_private = vec![
            format!("wx1.sinaimg.test:{port}"),
            format!("other.test:{port}"),
        ];
        s.resolver = Some(resolver);
    })
    .await;
    let port = h.origin.port();
    let r = h
        .get(&h.signed(&format!("http://wx1.sinaimg.test:{port}/needs-referer.jpg")))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        h.seen.headers("/needs-referer.jpg")["referer"],
        "https://weibo.com/"
    );
    let r = h
        .get(&h.signed(&format!("http://other.test:{port}/hotlink.jpg")))
        .await;
    assert_eq!(r.status(), 200);
    assert!(h.seen.headers("/hotlink.jpg").get("referer").is_none());
}
