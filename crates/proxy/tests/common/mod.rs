//! Test harness: a local origin (axum), a canary that must never be reached, a fake resolver,
//! and the proxy itself served on 127.0.0.1 with short limits.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use tidings_proxy::{Options, Published, Resolve, ServeOptions};

pub const KEY: &[u8] = b"test-key";

/// A small JPEG-looking body: the magic bytes, then filler.
pub fn jpeg(len: usize) -> Vec<u8> {
    let mut v = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00".to_vec();
    v.resize(len.max(v.len()), 0x42);
    v
}

/// Answers from a fixed table.
#[derive(Default)]
pub struct FakeResolver {
    answers: HashMap<String, Vec<IpAddr>>,
    pub lookups: AtomicUsize,
}

impl FakeResolver {
    pub fn with(entries: &[(&str, &[&str])]) -> Self {
        let answers = entries
            .iter()
            .map(|(n, ips)| {
                (
                    n.to_string(),
                    ips.iter().map(|s| s.parse().unwrap()).collect(),
                )
            })
            .collect();
        FakeResolver {
            answers,
            lookups: AtomicUsize::new(0),
        }
    }
}

impl Resolve for FakeResolver {
    fn lookup(&self, host: &str) -> BoxFuture<'_, io::Result<Vec<IpAddr>>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .answers
            .get(host.trim_end_matches('.'))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no such name {host}")));
        Box::pin(async move { answer })
    }
}

pub async fn listen(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// What the origin saw.
#[derive(Default)]
pub struct Seen {
    /// Requests per path (with query).
    pub hits: Mutex<HashMap<String, usize>>,
    /// Request headers per path, last request wins.
    pub headers: Mutex<HashMap<String, HeaderMap>>,
    /// Bodies of /endless still being streamed.
    pub live_streams: AtomicUsize,
    /// What /version.jpg currently serves (its ETag and one byte of its body).
    pub version: AtomicUsize,
}

impl Seen {
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
    pub fn headers(&self, path: &str) -> HeaderMap {
        self.headers
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or_default()
    }
}

fn image(ct: &'static str, body: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, ct)], body).into_response()
}

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// Counts streams alive: decremented when the proxy drops the upstream body.
struct Live(Arc<Seen>);
impl Drop for Live {
    fn drop(&mut self) {
        self.0.live_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

fn origin_router(seen: Arc<Seen>) -> Router {
    Router::new()
        .route(
            "/img.jpg",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::ETAG, "\"v1\""),
                        (header::CACHE_CONTROL, "max-age=60"),
                    ],
                    jpeg(2000),
                )
                    .into_response()
            }),
        )
        .route(
            "/a/{n}",
            get(|Path(n): Path<u8>| async move {
                let mut body = jpeg(10_000);
                body[20] = n;
                image("image/jpeg", body)
            }),
        )
        .route(
            "/ct",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let body = match q.get("body").map(String::as_str) {
                    Some("html") => b"<!DOCTYPE html><html><script>alert(1)</script>".to_vec(),
                    Some("svg") => {
                        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"
                            .to_vec()
                    }
                    Some("png") => b"\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR\x00\x00".to_vec(),
                    _ => jpeg(500),
                };
                let mut r = Response::new(Body::from(body));
                if let Some(ct) = q.get("t") {
                    r.headers_mut()
                        .insert(header::CONTENT_TYPE, ct.parse().unwrap());
                }
                r
            }),
        )
        .route(
            "/cookie.jpg",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::SET_COOKIE, "track=1"),
                    ],
                    jpeg(100),
                )
                    .into_response()
            }),
        )
        .route(
            "/sized/{n}",
            get(|Path(n): Path<usize>| async move { image("image/jpeg", jpeg(n)) }),
        )
        .route(
            "/chunked/{n}",
            get(|Path(n): Path<usize>| async move {
                let chunks = (0..n / 1000).map(|i| {
                    Ok::<_, io::Error>(Bytes::from(if i == 0 { jpeg(1000) } else { vec![7; 1000] }))
                });
                let mut r = Response::new(Body::from_stream(futures_util::stream::iter(chunks)));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, "image/jpeg".parse().unwrap());
                r
            }),
        )
        .route(
            "/gzip/{n}",
            get(|Path(n): Path<usize>| async move {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
                gz.write_all(&jpeg(n)).unwrap();
                let body = gz.finish().unwrap();
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::CONTENT_ENCODING, "gzip"),
                    ],
                    body,
                )
                    .into_response()
            }),
        )
        .route(
            "/drip",
            get(|| async {
                let s = futures_util::stream::unfold(0u32, |i| async move {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    Some((Ok::<_, io::Error>(Bytes::from_static(b"\xFF")), i + 1))
                });
                let mut r = Response::new(Body::from_stream(s));
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, "image/jpeg".parse().unwrap());
                r
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        )
        .route(
            "/endless",
            get({
                let seen = seen.clone();
                move || {
                    let seen = seen.clone();
                    async move {
                        seen.live_streams.fetch_add(1, Ordering::SeqCst);
                        let live = Arc::new(Live(seen));
                        let s =
                            futures_util::stream::unfold((0u32, live), |(i, live)| async move {
                                if i > 0 {
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                }
                                let chunk = if i == 0 { jpeg(1000) } else { vec![1; 1000] };
                                Some((Ok::<_, io::Error>(Bytes::from(chunk)), (i + 1, live)))
                            });
                        let mut r = Response::new(Body::from_stream(s));
                        r.headers_mut()
                            .insert(header::CONTENT_TYPE, "image/jpeg".parse().unwrap());
                        r
                    }
                }
            }),
        )
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>| async move {
                let status = StatusCode::from_u16(code).unwrap();
                (
                    status,
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::ETAG, "\"s\""),
                    ],
                    jpeg(100),
                )
                    .into_response()
            }),
        )
        .route(
            "/redirect",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                redirect(q.get("to").map(String::as_str).unwrap_or("/img.jpg"))
            }),
        )
        .route("/noloc", get(|| async { StatusCode::FOUND }))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                match n {
                    0 => image("image/jpeg", jpeg(100)),
                    n => redirect(&format!("/chain/{}", n - 1)),
                }
            }),
        )
        .route(
            "/hotlink.jpg",
            get(|h: HeaderMap| async move {
                // Like many Chinese CDNs: any foreign Referer is refused.
                match h.get(header::REFERER) {
                    Some(_) => StatusCode::FORBIDDEN.into_response(),
                    None => image("image/jpeg", jpeg(300)),
                }
            }),
        )
        .route(
            "/needs-referer.jpg",
            get(|h: HeaderMap| async move {
                match h.get(header::REFERER).and_then(|v| v.to_str().ok()) {
                    Some("https://weibo.com/") => image("image/jpeg", jpeg(300)),
                    _ => StatusCode::FORBIDDEN.into_response(),
                }
            }),
        )
        .route(
            "/etag.jpg",
            get(|h: HeaderMap| async move {
                let tag = "\"e1\"";
                if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag) {
                    return (
                        StatusCode::NOT_MODIFIED,
                        [(header::ETAG, tag), (header::CACHE_CONTROL, "no-cache")],
                    )
                        .into_response();
                }
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::ETAG, tag),
                        (header::CACHE_CONTROL, "no-cache"),
                        (header::LAST_MODIFIED, "Sun, 23 Jan 2022 15:27:25 GMT"),
                    ],
                    jpeg(700),
                )
                    .into_response()
            }),
        )
        .route(
            "/flaky.jpg",
            get({
                let seen = seen.clone();
                move || {
                    let seen = seen.clone();
                    async move {
                        // First answer is fresh for 0 s, then the origin breaks.
                        if seen.hits("/flaky.jpg") <= 1 {
                            (
                                [
                                    (header::CONTENT_TYPE, "image/jpeg"),
                                    (header::CACHE_CONTROL, "max-age=0"),
                                ],
                                jpeg(600),
                            )
                                .into_response()
                        } else {
                            StatusCode::INTERNAL_SERVER_ERROR.into_response()
                        }
                    }
                }
            }),
        )
        .route(
            "/fail-once.jpg",
            get({
                let seen = seen.clone();
                move || {
                    let seen = seen.clone();
                    async move {
                        if seen.hits("/fail-once.jpg") <= 1 {
                            StatusCode::SERVICE_UNAVAILABLE.into_response()
                        } else {
                            image("image/jpeg", jpeg(400))
                        }
                    }
                }
            }),
        )
        .route(
            "/slow.jpg",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                image("image/jpeg", jpeg(5000))
            }),
        )
        .route(
            "/version.jpg",
            get({
                let seen = seen.clone();
                move |h: HeaderMap| {
                    let n = seen.version.load(Ordering::SeqCst);
                    async move { versioned(n, &h) }
                }
            }),
        )
        .route(
            "/nostore.jpg",
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "image/jpeg"),
                        (header::CACHE_CONTROL, "no-store"),
                    ],
                    jpeg(100),
                )
                    .into_response()
            }),
        )
        .layer(axum::middleware::from_fn_with_state(seen, record))
}

/// Version `n` of an image that is stale at once (`no-cache`), answering revalidations.
fn versioned(n: usize, h: &HeaderMap) -> Response {
    let tag = format!("\"r{n}\"");
    let headers = [
        (header::ETAG, tag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    if h.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(tag.as_str()) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let mut body = jpeg(3000);
    body[30] = n as u8;
    (
        headers,
        [(header::CONTENT_TYPE, "image/jpeg".to_owned())],
        body,
    )
        .into_response()
}

async fn record(
    State(seen): State<Arc<Seen>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let key = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    *seen.hits.lock().unwrap().entry(key.clone()).or_default() += 1;
    let path = req.uri().path().to_owned();
    seen.headers
        .lock()
        .unwrap()
        .insert(key.clone(), req.headers().clone());
    if path != key {
        *seen.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
        seen.headers
            .lock()
            .unwrap()
            .insert(path, req.headers().clone());
    }
    next.run(req).await
}

/// A server that counts every request it receives.
pub async fn canary() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            ([(header::CONTENT_TYPE, "image/jpeg")], jpeg(100))
        }
    });
    (listen(router).await, hits)
}

pub struct Harness {
    pub proxy: SocketAddr,
    pub origin: SocketAddr,
    pub canary: SocketAddr,
    pub canary_hits: Arc<AtomicUsize>,
    pub seen: Arc<Seen>,
    pub dir: tempfile::TempDir,
    pub http: reqwest::Client,
}

pub struct Setup {
    pub opts: Options,
    pub published: Vec<String>,
    pub resolver: Option<Arc<dyn Resolve>>,
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(|_, _| {}).await
    }

    /// Start with the defaults of the tests, adjusted by `f(setup, origin)`.
    pub async fn with(f: impl FnOnce(&mut Setup, SocketAddr)) -> Harness {
        let seen = Arc::new(Seen::default());
        let origin = listen(origin_router(seen.clone())).await;
        let (canary, canary_hits) = canary().await;
        let dir = tempfile::tempdir().unwrap();
        let mut opts = Options::new(KEY.to_vec(), dir.path().join("cache"));
        opts.allow_private = vec![origin.to_string()];
        opts.timeout = Duration::from_secs(1);
        opts.max_bytes = 64 << 10;
        opts.queue_wait = Duration::from_millis(100);
        opts.rate_limit = 0;
        let mut setup = Setup {
            opts,
            published: Vec::new(),
            resolver: None,
        };
        f(&mut setup, origin);
        let published: Vec<String> = setup.published;
        let predicate: Published = Arc::new(move |url: &str| published.iter().any(|p| p == url));
        let resolver = setup
            .resolver
            .unwrap_or_else(|| Arc::new(FakeResolver::default()));
        let router = tidings_proxy::router(setup.opts, predicate, resolver).unwrap();
        let proxy = serve_proxy(router).await;
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Harness {
            proxy,
            origin,
            canary,
            canary_hits,
            seen,
            dir,
            http,
        }
    }

    /// `http://127.0.0.1:{origin}{path}`.
    pub fn origin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.origin)
    }

    /// Proxy URL of the signed form for `target`.
    pub fn signed(&self, target: &str) -> String {
        format!(
            "http://{}/{}",
            self.proxy,
            tidings_model::image::sign_path(KEY, target)
        )
    }

    /// Proxy URL of the unsigned form with the raw `query`.
    pub fn unsigned(&self, query: &str) -> String {
        format!("http://{}/?{query}", self.proxy)
    }

    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    pub fn canary_hits(&self) -> usize {
        self.canary_hits.load(Ordering::SeqCst)
    }
}

pub async fn serve_proxy(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let opts = ServeOptions {
        header_timeout: Duration::from_millis(500),
        write_timeout: Duration::from_secs(2),
    };
    tokio::spawn(tidings_proxy::serve(listener, router, opts));
    addr
}

/// Poll `cond` for up to five seconds (a liveness bound, not a timing assertion).
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..250 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}
