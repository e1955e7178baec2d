//! URL forms: unsigned (seed-compatible) and signed, schemes, userinfo, allowlists, methods.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;

#[tokio::test]
async fn unsigned_raw_query_serves_a_published_image() {
    let h = Harness::with(|s, origin| s.published = vec![format!("http://{origin}/img.jpg")]).await;
    let r = h.get(&h.unsigned(&h.origin_url("/img.jpg"))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert!(r.bytes().await.unwrap() == jpeg(2000), "body differs");
    assert_eq!(h.seen.hits("/img.jpg"), 1);
}

#[tokio::test]
async fn unsigned_target_keeps_its_own_query_and_encoded_form_decodes_once() {
    let h = Harness::with(|s, origin| {
        s.published = vec![
            format!("http://{origin}/sized/300?a=b&c=d"),
            format!("http://{origin}/sized/301?x=%2F"),
        ]
    })
    .await;
    let r = h
        .get(&h.unsigned(&h.origin_url("/sized/300?a=b&c=d")))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(h.seen.hits("/sized/300?a=b&c=d"), 1);
    // Percent-encoded whole target: decoded once, so the inner %2F survives as %2F.
    let encoded = format!("http%3A%2F%2F{}%2Fsized%2F301%3Fx%3D%252F", h.origin);
    let r = h.get(&h.unsigned(&encoded)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(h.seen.hits("/sized/301?x=%2F"), 1);
}

#[tokio::test]
async fn unsigned_refuses_what_tidings_did_not_publish() {
    let h = Harness::start().await;
    let r = h.get(&h.unsigned(&h.origin_url("/img.jpg"))).await;
    assert_eq!(r.status(), 403);
    assert_eq!(h.seen.hits("/img.jpg"), 0);
}

#[tokio::test]
async fn unsigned_allow_hosts_globs_and_their_edge_cases() {
    let resolver = FakeResolver::with(&[
        ("img.allowed.test", &["127.0.0.1"]),
        ("allowed.test.evil.test", &["127.0.0.1"]),
        ("evil.test", &["127.0.0.1"]),
    ]);
    let h = Harness::with(|s, origin| {
        let port = origin.port();
        s.opts.allow_hosts = vec!["*.allowed.test".into(), "ALLOWED.test.".into()];
        s.opts.allow_private = vec![
            format!("img.allowed.test:{port}"),
            format!("allowed.test.evil.test:{port}"),
            format!("evil.test:{port}"),
        ];
        s.resolver = Some(Arc::new(resolver));
    })
    .await;
    let port = h.origin.port();
    let ok = h
        .get(&h.unsigned(&format!("http://img.allowed.test:{port}/img.jpg")))
        .await;
    assert_eq!(ok.status(), 200);
    let ok = h
        .get(&h.unsigned(&format!("http://IMG.Allowed.Test.:{port}/img.jpg")))
        .await;
    assert_eq!(ok.status(), 200, "case and trailing dot normalise");
    for target in [
        format!("http://allowed.test.evil.test:{port}/img.jpg"),
        format!("http://evil.test:{port}/.allowed.test/x.jpg"),
        format!("http://evil.test:{port}/?.allowed.test"),
        format!("http://img.allowed.test@evil.test:{port}/img.jpg"),
    ] {
        let r = h.get(&h.unsigned(&target)).await;
        assert!(
            matches!(r.status().as_u16(), 400 | 403),
            "{target}: {}",
            r.status()
        );
    }
    assert_eq!(
        h.seen.hits("/x.jpg") + h.seen.hits("/.allowed.test/x.jpg"),
        0
    );
}

#[tokio::test]
async fn signed_form_and_bad_signatures() {
    let h = Harness::start().await;
    let target = h.origin_url("/img.jpg");
    assert_eq!(h.get(&h.signed(&target)).await.status(), 200);
    let path = tidings_model::image::sign_path(KEY, &target);
    let (sig, b64) = path.split_once('/').unwrap();
    let other_sig = tidings_model::image::sign_path(b"other-key", &target);
    let evil_b64 = URL_SAFE_NO_PAD.encode(format!("http://{}/x", h.canary));
    for bad in [
        format!("{}/{b64}", other_sig.split_once('/').unwrap().0),
        format!("{}/{b64}", &sig[..sig.len() - 3]),
        format!("/{b64}"),
        format!("{sig}/{evil_b64}"),
        format!("{sig}/"),
        format!("{sig}/{b64}x"),
        "!!!/???".to_string(),
    ] {
        let r = h.get(&format!("http://{}/{bad}", h.proxy)).await;
        assert_eq!(r.status(), 403, "{bad}");
    }
    assert_eq!(h.seen.hits("/img.jpg"), 1);
    assert_eq!(h.canary_hits(), 0);
}

#[tokio::test]
async fn old_keys_still_verify() {
    let h = Harness::with(|s, _| s.opts.old_keys = vec![b"retired".to_vec()]).await;
    let target = h.origin_url("/img.jpg");
    let url = format!(
        "http://{}/{}",
        h.proxy,
        tidings_model::image::sign_path(b"retired", &target)
    );
    assert_eq!(h.get(&url).await.status(), 200);
}

#[tokio::test]
async fn one_slash_form_is_repaired() {
    let h = Harness::with(|s, origin| s.published = vec![format!("http://{origin}/img.jpg")]).await;
    let r = h
        .get(&h.unsigned(&format!("http:/{}/img.jpg", h.origin)))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn only_http_and_https_and_no_userinfo() {
    let h = Harness::start().await;
    let c = h.canary;
    for target in [
        format!("gopher://{c}/_GET"),
        format!("ftp://{c}/x"),
        "file:///etc/passwd".to_string(),
        format!("//{c}/x"),
        format!("http://user:pass@{c}/x"),
        format!("http://{}@{c}/x", h.origin),
    ] {
        let r = h.get(&h.signed(&target)).await;
        assert!(
            matches!(r.status().as_u16(), 400 | 403),
            "{target}: {}",
            r.status()
        );
        let r = h.get(&h.unsigned(&target)).await;
        assert!(
            matches!(r.status().as_u16(), 400 | 403),
            "{target}: {}",
            r.status()
        );
    }
    // Userinfo on an otherwise allowed origin is refused as well.
    let r = h
        .get(&h.signed(&format!("http://u:p@{}/img.jpg", h.origin)))
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(h.seen.hits("/img.jpg"), 0);
    assert_eq!(h.canary_hits(), 0);
}

#[tokio::test]
async fn methods_other_than_get_and_head_are_405() {
    let h = Harness::start().await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let r = h
            .http
            .request(m.parse().unwrap(), &url)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{m}");
        assert_eq!(r.headers()["allow"], "GET, HEAD");
    }
    let r = h.http.head(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
}

#[tokio::test]
async fn healthz_answers_and_proxies_nothing() {
    let h = Harness::start().await;
    let r = h
        .get(&format!("http://{}/healthz?http://{}/x", h.proxy, h.canary))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok\n");
    assert_eq!(h.canary_hits(), 0);
    let r = h
        .get(&format!("http://{}/nothing/here/at/all", h.proxy))
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn works_nested_under_a_prefix() {
    let seen_origin = Harness::start().await;
    let target = seen_origin.origin_url("/img.jpg");
    let dir = tempfile::tempdir().unwrap();
    let mut opts = tidings_proxy::Options::new(KEY.to_vec(), dir.path().to_path_buf());
    opts.allow_private = vec![seen_origin.origin.to_string()];
    let published = target.clone();
    let router = tidings_proxy::router(
        opts,
        Arc::new(move |u: &str| u == published),
        Arc::new(FakeResolver::default()),
    )
    .unwrap();
    // nest_service hands `/img/` to the proxy as `/` (plain `nest` does not route `/img/`).
    let site = axum::Router::new().nest_service("/img", router);
    let addr = serve_proxy(site).await;
    let signed = tidings_model::image::sign_path(KEY, &target);
    let r = seen_origin
        .get(&format!("http://{addr}/img/{signed}"))
        .await;
    assert_eq!(r.status(), 200);
    let r = seen_origin
        .get(&format!("http://{addr}/img/?{target}"))
        .await;
    assert_eq!(r.status(), 200);
    let r = seen_origin.get(&format!("http://{addr}/img/healthz")).await;
    assert_eq!(r.status(), 200);
}
