//! Size and time: caps while streaming, deadlines, early EOF, client abort, slow clients,
//! concurrency cap and rate limit.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Read a body to the end, or to its first error; (bytes read, ended cleanly). A connection
/// closed before the head, or an error status, count as not clean.
async fn read_all(r: Result<reqwest::Response, reqwest::Error>) -> (usize, bool) {
    let Ok(r) = r else { return (0, false) };
    if r.status() != 200 {
        return (0, false);
    }
    let mut stream = r.bytes_stream();
    let mut n = 0;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => n += b.len(),
            Err(_) => return (n, false),
        }
    }
    (n, true)
}

#[tokio::test]
async fn content_length_over_the_cap_is_refused_before_reading() {
    let h = Harness::with(|s, _| s.opts.max_bytes = 5000).await;
    let r = h.get(&h.signed(&h.origin_url("/sized/6000"))).await;
    assert_eq!(r.status(), 502);
    assert_eq!(
        h.get(&h.signed(&h.origin_url("/sized/5000")))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn chunked_body_over_the_cap_is_cut_and_not_cached() {
    let h = Harness::with(|s, _| s.opts.max_bytes = 5000).await;
    let url = h.signed(&h.origin_url("/chunked/20000"));
    let (n, clean) = read_all(h.http.get(&url).send().await).await;
    assert!(!clean, "a cut body must not look complete");
    assert!(n <= 5000, "{n} bytes passed the cap");
    let _ = read_all(h.http.get(&url).send().await).await;
    assert_eq!(h.seen.hits("/chunked/20000"), 2, "a cut body is not cached");
}

#[tokio::test]
async fn gzip_is_capped_on_decoded_bytes() {
    let h = Harness::with(|s, _| s.opts.max_bytes = 5000).await;
    // 50 kB of image compresses to a few hundred bytes: the cap applies to what it decodes to.
    let (n, clean) = read_all(
        h.http
            .get(h.signed(&h.origin_url("/gzip/50000")))
            .send()
            .await,
    )
    .await;
    assert!(!clean && n <= 5000, "{n} {clean}");
    let r = h.get(&h.signed(&h.origin_url("/gzip/3000"))).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("content-encoding").is_none());
    assert!(r.bytes().await.unwrap() == jpeg(3000), "body differs");
}

#[tokio::test]
async fn slow_drip_and_hanging_upstream_hit_the_deadline() {
    let h = Harness::start().await;
    assert_eq!(h.get(&h.signed(&h.origin_url("/drip"))).await.status(), 504);
    assert_eq!(h.get(&h.signed(&h.origin_url("/hang"))).await.status(), 504);
}

/// An upstream that promises 1000 bytes and closes after 600.
async fn liar() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf).await;
                let mut out =
                    b"HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: 1000\r\n\r\n"
                        .to_vec();
                out.extend(jpeg(600));
                let _ = s.write_all(&out).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn early_eof_upstream_is_an_error_not_a_panic() {
    let liar = liar().await;
    let h = Harness::with(|s, _| s.opts.allow_private.push(liar.to_string())).await;
    let url = h.signed(&format!("http://{liar}/x.jpg"));
    for _ in 0..2 {
        let (n, clean) = read_all(h.http.get(&url).send().await).await;
        assert!(!clean || n < 1000, "{n} {clean}");
    }
    assert_eq!(
        h.get(&format!("http://{}/healthz", h.proxy)).await.status(),
        200
    );
}

#[tokio::test]
async fn client_abort_drops_the_upstream_request() {
    let h = Harness::with(|s, _| s.opts.timeout = Duration::from_secs(30)).await;
    let r = h.get(&h.signed(&h.origin_url("/endless"))).await;
    assert_eq!(r.status(), 200);
    let mut stream = r.bytes_stream();
    assert!(stream.next().await.is_some());
    assert_eq!(h.seen.live_streams.load(Ordering::SeqCst), 1);
    drop(stream);
    let seen = h.seen.clone();
    assert!(
        eventually(|| seen.live_streams.load(Ordering::SeqCst) == 0).await,
        "the upstream body is still being read after the client left"
    );
}

#[tokio::test]
async fn slow_header_clients_are_cut_off() {
    let h = Harness::start().await;
    let mut s = tokio::net::TcpStream::connect(h.proxy).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the head: the server must close within its header timeout (500 ms here).
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection still open");
}

#[tokio::test]
async fn global_concurrency_cap_answers_429() {
    let h = Harness::with(|s, _| {
        s.opts.max_concurrent = 1;
        s.opts.timeout = Duration::from_secs(30);
    })
    .await;
    let r = h.get(&h.signed(&h.origin_url("/endless"))).await;
    assert_eq!(r.status(), 200);
    // The one fetch slot is busy streaming; another URL must wait, then get 429.
    let r2 = h.get(&h.signed(&h.origin_url("/img.jpg"))).await;
    assert_eq!(r2.status(), 429);
    drop(r);
    let seen = h.seen.clone();
    assert!(eventually(|| seen.live_streams.load(Ordering::SeqCst) == 0).await);
    let mut ok = false;
    for _ in 0..50 {
        if h.get(&h.signed(&h.origin_url("/img.jpg"))).await.status() == 200 {
            ok = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ok, "the slot was not released");
}

#[tokio::test]
async fn per_client_rate_limit_answers_429() {
    let h = Harness::with(|s, _| s.opts.rate_limit = 5).await;
    let url = h.signed(&h.origin_url("/img.jpg"));
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(h.get(&url).await.status().as_u16());
    }
    assert_eq!(&statuses[..5], &[200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // Health checks are not rate limited.
    assert_eq!(
        h.get(&format!("http://{}/healthz", h.proxy)).await.status(),
        200
    );
}
