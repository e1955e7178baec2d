//! Fetcher against real servers on 127.0.0.1 (random ports).

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::stream;
use tidings_fetch::{FetchError, FetchOptions, FetchOutcome, Fetcher, Validators};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const FEED: &str =
    "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>晨报 Morning Notes</title>\
<item><title>山间小路的新桥通车了</title><link>http://example.com/1</link></item></channel></rss>";

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A raw server: reads the request head, sends `preamble` (maybe nothing), then holds the
/// connection open without another byte.
async fn raw_server(preamble: &'static [u8]) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = [0u8; 4096];
            let _ = socket.read(&mut head).await;
            let _ = socket.write_all(preamble).await;
            held.lock().unwrap().push(socket);
        }
    });
    addr
}

fn options() -> FetchOptions {
    FetchOptions {
        timeout: Duration::from_secs(5),
        ..FetchOptions::default()
    }
}

fn fetcher(opts: FetchOptions) -> Fetcher {
    Fetcher::new(opts).unwrap()
}

async fn fetch(url: &str) -> Result<FetchOutcome, FetchError> {
    fetcher(options()).fetch(url, &Validators::default()).await
}

fn body_of(outcome: FetchOutcome) -> (Bytes, Option<String>, Validators, String) {
    match outcome {
        FetchOutcome::Fetched {
            body,
            content_type,
            validators,
            final_url,
        } => (body, content_type, validators, final_url),
        FetchOutcome::NotModified => panic!("expected a body, got NotModified"),
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A valid brotli stream of uncompressed meta-blocks (RFC 7932 section 9.2), so the test needs
/// no brotli encoder.
fn brotli_stored(data: &[u8]) -> Vec<u8> {
    let mut bits = BitWriter::default();
    bits.put(0, 1); // WBITS = 16
    for block in data.chunks(1 << 16) {
        bits.put(0, 1); // ISLAST
        bits.put(0, 2); // MNIBBLES = 4
        bits.put(block.len() as u32 - 1, 16); // MLEN - 1
        bits.put(1, 1); // ISUNCOMPRESSED
        bits.align();
        bits.out.extend_from_slice(block);
    }
    bits.put(1, 1); // ISLAST
    bits.put(1, 1); // ISLASTEMPTY
    bits.align();
    bits.out
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u8,
    used: u32,
}

impl BitWriter {
    fn put(&mut self, value: u32, count: u32) {
        for i in 0..count {
            self.acc |= (((value >> i) & 1) as u8) << self.used;
            self.used += 1;
            if self.used == 8 {
                self.align();
            }
        }
    }
    fn align(&mut self) {
        if self.used > 0 {
            self.out.push(self.acc);
            self.acc = 0;
            self.used = 0;
        }
    }
}

fn rss(body: impl Into<Body>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")
        .body(body.into())
        .unwrap()
}

fn redirect(to: String) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
}

#[tokio::test]
async fn etag_then_not_modified() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/feed",
        get(move |h: HeaderMap| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if h.get(header::IF_NONE_MATCH).is_some_and(|v| v == "\"v1\"") {
                    return StatusCode::NOT_MODIFIED.into_response();
                }
                let mut resp = rss(FEED);
                resp.headers_mut()
                    .insert(header::ETAG, "\"v1\"".parse().unwrap());
                resp
            }
        }),
    );
    let url = format!("http://{}/feed", serve(router).await);
    let f = fetcher(options());
    let (body, content_type, validators, final_url) =
        body_of(f.fetch(&url, &Validators::default()).await.unwrap());
    assert_eq!(body, FEED.as_bytes());
    assert_eq!(
        content_type.as_deref(),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(final_url, url);
    assert_eq!(
        f.fetch(&url, &validators).await.unwrap(),
        FetchOutcome::NotModified
    );
    // A stale validator gets the full body again.
    let stale = Validators {
        etag: Some("\"v0\"".into()),
        last_modified: None,
    };
    assert!(matches!(
        f.fetch(&url, &stale).await.unwrap(),
        FetchOutcome::Fetched { .. }
    ));
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn last_modified_then_not_modified() {
    const STAMP: &str = "Tue, 07 May 2024 08:00:00 GMT";
    let router = Router::new().route(
        "/feed",
        get(|h: HeaderMap| async move {
            if h.get(header::IF_MODIFIED_SINCE).is_some_and(|v| v == STAMP) {
                return StatusCode::NOT_MODIFIED.into_response();
            }
            let mut resp = rss(FEED);
            resp.headers_mut()
                .insert(header::LAST_MODIFIED, STAMP.parse().unwrap());
            resp
        }),
    );
    let url = format!("http://{}/feed", serve(router).await);
    let f = fetcher(options());
    let (_, _, validators, _) = body_of(f.fetch(&url, &Validators::default()).await.unwrap());
    assert_eq!(validators.last_modified.as_deref(), Some(STAMP));
    assert_eq!(validators.etag, None);
    assert_eq!(
        f.fetch(&url, &validators).await.unwrap(),
        FetchOutcome::NotModified
    );
}

#[tokio::test]
async fn identifies_itself_and_prefers_feeds() {
    let router = Router::new().route(
        "/echo",
        get(|h: HeaderMap| async move {
            let get = |name| {
                h.get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            format!("{}\n{}", get(header::USER_AGENT), get(header::ACCEPT))
        }),
    );
    let url = format!("http://{}/echo", serve(router).await);
    let (body, ..) = body_of(fetch(&url).await.unwrap());
    let text = String::from_utf8(body.to_vec()).unwrap();
    let (ua, accept) = text.split_once('\n').unwrap();
    assert!(
        ua.starts_with(&format!("Tidings/{}", env!("CARGO_PKG_VERSION"))),
        "{ua}"
    );
    assert!(accept.starts_with("application/rss+xml"), "{accept}");
    assert!(accept.contains("application/atom+xml"), "{accept}");
}

#[tokio::test]
async fn gzip_and_brotli_bodies_are_decoded() {
    let router = Router::new()
        .route(
            "/gz",
            get(|| async {
                let mut resp = rss(gzip(FEED.as_bytes()));
                resp.headers_mut()
                    .insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
                resp
            }),
        )
        .route(
            "/br",
            get(|| async {
                let mut resp = rss(brotli_stored(FEED.as_bytes()));
                resp.headers_mut()
                    .insert(header::CONTENT_ENCODING, "br".parse().unwrap());
                resp
            }),
        );
    let addr = serve(router).await;
    for path in ["gz", "br"] {
        let (body, ..) = body_of(fetch(&format!("http://{addr}/{path}")).await.unwrap());
        assert_eq!(body, FEED.as_bytes(), "{path}");
    }
}

#[tokio::test]
async fn error_statuses() {
    let router = Router::new().route(
        "/status/{code}",
        get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).unwrap() }),
    );
    let addr = serve(router).await;
    for (code, reason) in [
        (404, "Not Found"),
        (410, "Gone"),
        (500, "Internal Server Error"),
        (503, "Service Unavailable"),
    ] {
        let url = format!("http://{addr}/status/{code}");
        let err = fetch(&url).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Status { status, .. } if status == code),
            "{err}"
        );
        assert_eq!(err.to_string(), format!("{url}: HTTP {code} {reason}"));
    }
}

#[tokio::test]
async fn rate_limited_carries_retry_after() {
    let router = Router::new()
        .route(
            "/secs",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "120")],
                )
            }),
        )
        .route(
            "/date",
            get(|| async {
                let date = "Wed, 21 Oct 2037 07:28:00 GMT";
                (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, date)])
            }),
        )
        .route("/none", get(|| async { StatusCode::TOO_MANY_REQUESTS }));
    let addr = serve(router).await;

    let before = jiff::Timestamp::now();
    let err = fetch(&format!("http://{addr}/secs")).await.unwrap_err();
    let after = jiff::Timestamp::now();
    let FetchError::RateLimited {
        retry_after: Some(at),
        ..
    } = err
    else {
        panic!("expected RateLimited with a time, got {err}");
    };
    let wait = jiff::SignedDuration::from_secs(120);
    // Whole seconds, rounded up: never earlier than asked, at most a second later.
    assert_eq!(at.subsec_nanosecond(), 0);
    let slack = jiff::SignedDuration::from_secs(121);
    assert!(at >= before.checked_add(wait).unwrap() && at <= after.checked_add(slack).unwrap());

    let err = fetch(&format!("http://{addr}/date")).await.unwrap_err();
    let expected: jiff::Timestamp = "2037-10-21T07:28:00Z".parse().unwrap();
    assert!(
        matches!(err, FetchError::RateLimited { retry_after: Some(t), .. } if t == expected),
        "{err}"
    );
    let err = fetch(&format!("http://{addr}/none")).await.unwrap_err();
    assert!(
        matches!(
            err,
            FetchError::RateLimited {
                retry_after: None,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn connection_refused_and_dns_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/feed");
    let err = fetch(&url).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err}");
    let text = err.to_string();
    assert!(text.starts_with(&url) && !text.contains('\n'), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");

    let url = "http://no-such-host.invalid/feed";
    let err = fetch(url).await.unwrap_err();
    assert!(matches!(err, FetchError::Connect { .. }), "{err}");
    assert!(err.to_string().starts_with(url), "{err}");
}

#[tokio::test]
async fn silent_server_and_drip_hit_the_deadline() {
    let silent = raw_server(b"").await;
    // Headers arrive at once, then the body trickles a byte at a time.
    let drip_router = Router::new().route(
        "/drip",
        get(|| async {
            let bytes = stream::unfold(0u32, |n| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                (n < 1000).then(|| (Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
            });
            rss(Body::from_stream(bytes))
        }),
    );
    let drip = serve(drip_router).await;
    let opts = FetchOptions {
        timeout: Duration::from_secs(1),
        ..FetchOptions::default()
    };
    let f = fetcher(opts);
    for url in [
        format!("http://{silent}/feed"),
        format!("http://{drip}/drip"),
    ] {
        let err = f.fetch(&url, &Validators::default()).await.unwrap_err();
        assert!(
            matches!(&err, FetchError::Timeout { after, .. } if *after == Duration::from_secs(1)),
            "{err}"
        );
        assert!(err.to_string().starts_with(&url), "{err}");
    }
}

#[tokio::test]
async fn size_cap_plain_chunked_and_exact() {
    let router = Router::new()
        .route("/exact", get(|| async { rss(vec![b'a'; 1000]) }))
        .route("/plain", get(|| async { rss(vec![b'a'; 1001]) }))
        .route(
            "/chunked",
            get(|| async {
                let chunks = (0..20).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 100])));
                rss(Body::from_stream(stream::iter(chunks)))
            }),
        );
    let addr = serve(router).await;
    // Claims 100 MB, sends 3 bytes, then stalls: only a pre-read check can answer TooLarge.
    let liar = raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\nabc").await;
    let f = fetcher(FetchOptions {
        max_bytes: 1000,
        timeout: Duration::from_secs(3),
        ..FetchOptions::default()
    });
    let none = Validators::default();
    let (body, ..) = body_of(
        f.fetch(&format!("http://{addr}/exact"), &none)
            .await
            .unwrap(),
    );
    assert_eq!(body.len(), 1000);
    for url in [
        format!("http://{addr}/plain"),
        format!("http://{addr}/chunked"),
        format!("http://{liar}/feed"),
    ] {
        let err = f.fetch(&url, &none).await.unwrap_err();
        assert!(
            matches!(err, FetchError::TooLarge { limit: 1000, .. }),
            "{url}: {err}"
        );
    }
}

/// Gzip members made of one independent 1 MiB block of zeros repeated: ~1 KiB on the wire per
/// MiB decoded, 4 GiB in total. The fetch must stop at the cap long before the end.
fn gzip_bomb_body() -> Body {
    let zeros = vec![0u8; 1 << 20];
    let mut deflate = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(1 << 16);
    deflate
        .compress_vec(&zeros, &mut block, flate2::FlushCompress::Full)
        .unwrap();
    assert!(block.len() < 8 * 1024, "block is {} bytes", block.len());
    let header = Bytes::from_static(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let block = Bytes::from(block);
    let parts = std::iter::once(header).chain(std::iter::repeat_n(block, 4096));
    Body::from_stream(stream::iter(parts.map(Ok::<_, std::io::Error>)))
}

#[tokio::test]
async fn gzip_bomb_stops_at_the_cap() {
    let router = Router::new().route(
        "/bomb",
        get(|| async {
            let mut resp = rss(gzip_bomb_body());
            resp.headers_mut()
                .insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
            resp
        }),
    );
    let addr = serve(router).await;
    let f = fetcher(FetchOptions {
        max_bytes: 4 << 20,
        timeout: Duration::from_secs(20),
        ..FetchOptions::default()
    });
    let err = f
        .fetch(&format!("http://{addr}/bomb"), &Validators::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, FetchError::TooLarge { limit, .. } if limit == 4 << 20),
        "{err}"
    );
}

#[tokio::test]
async fn redirects_are_limited() {
    let router = Router::new()
        .route("/loop", get(|| async { redirect("/loop".into()) }))
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                match n {
                    0 => rss(FEED),
                    n => redirect(format!("/chain/{}", n - 1)),
                }
            }),
        );
    let addr = serve(router).await;
    let f = fetcher(options());
    let none = Validators::default();
    let (body, _, _, final_url) = body_of(
        f.fetch(&format!("http://{addr}/chain/5"), &none)
            .await
            .unwrap(),
    );
    assert_eq!(body, FEED.as_bytes());
    assert_eq!(final_url, format!("http://{addr}/chain/0"));
    for url in [
        format!("http://{addr}/chain/6"),
        format!("http://{addr}/loop"),
    ] {
        let err = f.fetch(&url, &none).await.unwrap_err();
        assert!(
            matches!(err, FetchError::TooManyRedirects { .. }),
            "{url}: {err}"
        );
        assert!(err.to_string().starts_with(&url), "{err}");
    }
}

/// A route that records how many requests are inside it at once (shared across servers).
fn counting_router(now: Arc<AtomicUsize>, peak: Arc<AtomicUsize>) -> Router {
    Router::new().route(
        "/slow",
        get(move || {
            let (now, peak) = (now.clone(), peak.clone());
            async move {
                let inside = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(inside, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                rss(FEED)
            }
        }),
    )
}

#[tokio::test]
async fn per_host_concurrency_is_bounded() {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let addr = serve(counting_router(now, peak.clone())).await;
    let f = fetcher(FetchOptions {
        per_host: 2,
        ..options()
    });
    let url = format!("http://{addr}/slow");
    let none = Validators::default();
    let results = futures_util::future::join_all((0..8).map(|_| f.fetch(&url, &none))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=2).contains(&peak), "peak in-flight {peak}");
}

#[tokio::test]
async fn global_concurrency_is_bounded_across_hosts() {
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let a = serve(counting_router(now.clone(), peak.clone())).await;
    let b = serve(counting_router(now, peak.clone())).await;
    let f = fetcher(FetchOptions {
        concurrency: 3,
        per_host: 4,
        ..options()
    });
    let urls: Vec<String> = (0..12)
        .map(|i| format!("http://{}/slow", if i % 2 == 0 { a } else { b }))
        .collect();
    let none = Validators::default();
    let results = futures_util::future::join_all(urls.iter().map(|u| f.fetch(u, &none))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let peak = peak.load(Ordering::SeqCst);
    assert!((1..=3).contains(&peak), "peak in-flight {peak}");
}

#[tokio::test]
async fn invalid_urls_are_refused_before_any_request() {
    for url in ["not a url", "ftp://127.0.0.1/feed", "file:///etc/passwd"] {
        let err = fetch(url).await.unwrap_err();
        assert!(matches!(err, FetchError::InvalidUrl { .. }), "{url}: {err}");
        assert!(err.to_string().starts_with(url), "{err}");
    }
}
