//! Content-Type and magic-byte rules, SVG, and the headers every response carries.

mod common;

use common::*;
use tidings_proxy::CSP;

fn ct_url(h: &Harness, t: Option<&str>, body: &str) -> String {
    let q = match t {
        Some(t) => {
            let enc: String = url::form_urlencoded::byte_serialize(t.as_bytes()).collect();
            format!("/ct?t={enc}&body={body}")
        }
        None => format!("/ct?body={body}"),
    };
    h.signed(&h.origin_url(&q))
}

#[tokio::test]
async fn non_images_and_smuggled_types_are_refused() {
    let h = Harness::start().await;
    for t in [
        None,
        Some("text/html"),
        Some("nonsense"),
        Some("image/png, text/html"),
        Some("image/png;text/html"),
        Some("application/json"),
    ] {
        let r = h.get(&ct_url(&h, t, "jpeg")).await;
        assert_eq!(r.status(), 502, "{t:?}");
        assert_ne!(r.headers()["content-type"], "text/html");
    }
}

#[tokio::test]
async fn the_type_sent_is_the_normalised_one() {
    let h = Harness::start().await;
    let r = h
        .get(&ct_url(&h, Some("IMAGE/JPEG; charset=x"), "jpeg"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let r = h.get(&ct_url(&h, Some("image/jpeg"), "png")).await;
    assert_eq!(
        r.headers()["content-type"],
        "image/png",
        "the bytes win over the label"
    );
}

#[tokio::test]
async fn magic_bytes_decide() {
    let h = Harness::start().await;
    let r = h.get(&ct_url(&h, Some("image/png"), "html")).await;
    assert_eq!(r.status(), 502, "HTML labelled image/png");
    let r = h
        .get(&ct_url(&h, Some("application/octet-stream"), "jpeg"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let r = h
        .get(&ct_url(&h, Some("application/octet-stream"), "html"))
        .await;
    assert_eq!(r.status(), 502);
}

#[tokio::test]
async fn svg_is_served_only_sandboxed() {
    let h = Harness::start().await;
    let r = h.get(&ct_url(&h, Some("image/svg+xml"), "svg")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/svg+xml");
    assert_eq!(r.headers()["content-security-policy"], CSP);
    assert!(CSP.contains("sandbox") && CSP.contains("default-src 'none'"));
    // SVG under a raster label is refused rather than guessed.
    let r = h.get(&ct_url(&h, Some("image/png"), "svg")).await;
    assert_eq!(r.status(), 502);
}

#[tokio::test]
async fn security_headers_on_every_response_and_no_upstream_cookie() {
    let h = Harness::start().await;
    let urls = [
        h.signed(&h.origin_url("/cookie.jpg")),      // 200
        h.signed(&h.origin_url("/status/404")),      // 404
        h.signed(&h.origin_url("/status/500")),      // 502
        h.signed(&format!("http://{}/x", h.canary)), // 403
        h.unsigned("gopher://x/"),                   // 400
        format!("http://{}/healthz", h.proxy),       // 200
        format!("http://{}/a/b/c", h.proxy),         // 404
        format!("http://{}/bad/sig", h.proxy),       // 403
    ];
    for url in &urls {
        let r = h.get(url).await;
        let hd = r.headers();
        assert_eq!(hd["x-content-type-options"], "nosniff", "{url}");
        assert_eq!(hd["content-security-policy"], CSP, "{url}");
        assert!(hd.get("set-cookie").is_none(), "{url}");
    }
    let r = h.http.post(&urls[0]).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(h.canary_hits(), 0);
}
