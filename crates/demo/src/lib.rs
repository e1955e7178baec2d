//! Bundled sample feeds and the in-process fixture server behind `tidings demo` and the tests.
//!
//! The server plays three parts: a feed host (ETag / 304 like a real RSSHub), a
//! hotlink-protected image origin (403 to any foreign Referer, like zkres1.myzaker.com), and a
//! site for article links. Tests can replace or add bodies while it runs.

mod feeds;
mod png;

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use feeds::{SampleFeed, FEEDS};
pub use png::png;

/// A body the server answers for one path.
#[derive(Clone, Debug)]
pub struct Fixture {
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct State {
    fixtures: HashMap<String, Fixture>,
    hits: HashMap<String, usize>,
}

/// The running fixture server. Dropping it stops the server.
pub struct FixtureServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    _stop: oneshot::Sender<()>,
}

impl FixtureServer {
    /// Starts on `addr` (port 0 picks a free port) with the bundled sample feeds.
    pub async fn start(addr: SocketAddr) -> std::io::Result<FixtureServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let origin = format!("http://{addr}");
        let mut state = State::default();
        for f in FEEDS {
            state
                .fixtures
                .insert(f.path.to_string(), sample(f, &origin));
        }
        let state = Arc::new(Mutex::new(state));
        let (stop, stopped) = oneshot::channel::<()>();
        let shared = state.clone();
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let state = shared.clone();
                async move { answer(&state, &method, &uri, &headers) }
            });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(FixtureServer {
            addr,
            state,
            _stop: stop,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port`, what `{origin}` in the sample feeds becomes.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Absolute URL of a path on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.origin(), path)
    }

    /// Serves `body` at `path` from now on (replacing what was there).
    pub fn set(&self, path: &str, content_type: &str, body: impl Into<Vec<u8>>) {
        let fixture = Fixture {
            content_type: content_type.into(),
            body: body.into(),
        };
        self.lock().fixtures.insert(path.to_string(), fixture);
    }

    /// Stops serving `path` (it answers 404 from now on).
    pub fn remove(&self, path: &str) {
        self.lock().fixtures.remove(path);
    }

    /// `[[feed]]` entries for every bundled sample feed on this server, ready to append to a
    /// `tidings.toml`.
    pub fn feeds_toml(&self) -> String {
        let mut c = String::new();
        for f in FEEDS {
            let cats: Vec<String> = f.categories.iter().map(|c| toml_string(c)).collect();
            c.push_str(&format!(
                "\n[[feed]]\nname = {}\nurl = {}\ncategories = [{}]\n",
                toml_string(f.name),
                toml_string(&self.url(f.path)),
                cats.join(", ")
            ));
            if let Some(a) = f.author {
                c.push_str(&format!("author = {}\n", toml_string(a)));
            }
        }
        c
    }

    /// How many requests `path` has received.
    pub fn hits(&self, path: &str) -> usize {
        self.lock().hits.get(path).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A sample feed as served: `{origin}` filled in, GBK-encoded where it says so.
pub fn sample(f: &SampleFeed, origin: &str) -> Fixture {
    let text = f.text.replace("{origin}", origin);
    let body = if f.gbk {
        encoding_rs::GBK.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    };
    Fixture {
        content_type: f.content_type.into(),
        body,
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn answer(state: &Mutex<State>, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path();
    let fixture = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        *s.hits.entry(path.to_string()).or_default() += 1;
        s.fixtures.get(path).cloned()
    };
    if method != Method::GET && method != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    if let Some(f) = fixture {
        return with_etag(f, headers);
    }
    if let Some(name) = path.strip_prefix("/img/") {
        return image(name, uri.query().unwrap_or(""), headers);
    }
    if path.starts_with("/static/") {
        return ok("image/gif", png::PIXEL_GIF.to_vec());
    }
    if path.contains("/articles/") || path.contains("/stories/") || path.contains("/posts/") {
        let page = format!("<!doctype html><title>{path}</title><p>Original article page.</p>");
        return ok("text/html; charset=utf-8", page.into_bytes());
    }
    status(StatusCode::NOT_FOUND)
}

fn with_etag(f: Fixture, headers: &HeaderMap) -> Response {
    let mut h = DefaultHasher::new();
    f.body.hash(&mut h);
    let etag = format!("\"{:016x}\"", h.finish());
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let builder = Response::builder().header(header::ETAG, &etag);
    let response = if matches {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, f.content_type)
            .body(Body::from(f.body))
    };
    response.expect("static headers are valid")
}

/// The hotlink-protected origin: any Referer from another site gets 403, as ZAKER's CDN does.
fn image(name: &str, query: &str, headers: &HeaderMap) -> Response {
    if foreign_referer(headers) {
        return status(StatusCode::FORBIDDEN);
    }
    let param = |key: &str, default: u32| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse::<u32>().ok())
            .unwrap_or(default)
            .clamp(1, 2000)
    };
    let seed = name
        .bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    let mut r = ok(
        "image/png",
        png::png(param("w", 320), param("h", 200), seed),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        "public, max-age=86400".parse().expect("valid"),
    );
    r
}

fn foreign_referer(headers: &HeaderMap) -> bool {
    let Some(referer) = headers.get(header::REFERER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let referer_host = referer
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .unwrap_or("");
    referer_host != host
}

fn ok(content_type: &str, body: Vec<u8>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("static headers are valid")
}

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .body(Body::empty())
        .expect("static headers are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn server() -> FixtureServer {
        FixtureServer::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn serves_feeds_with_etag_and_304() {
        let s = server().await;
        let c = reqwest::Client::new();
        let r = c.get(s.url("/zaker/channel/13")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let etag = r.headers()[header::ETAG].clone();
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("{}/img/night-market.png", s.origin())));
        let r = c
            .get(s.url("/zaker/channel/13"))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 304);
        assert_eq!(s.hits("/zaker/channel/13"), 2);
    }

    #[test]
    fn toml_strings_escape_what_toml_needs() {
        assert_eq!(toml_string("新媒体"), "\"新媒体\"");
        assert_eq!(toml_string("a\"b\\c\u{1}"), "\"a\\\"b\\\\c\\u0001\"");
    }

    #[tokio::test]
    async fn gbk_feed_is_served_as_gbk() {
        let s = server().await;
        let bytes = reqwest::get(s.url("/gbk/local.xml"))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "GBK bytes are not UTF-8"
        );
        let (text, _, bad) = encoding_rs::GBK.decode(&bytes);
        assert!(!bad && text.contains("缆车检修完毕"));
    }

    #[tokio::test]
    async fn image_origin_rejects_foreign_referers_only() {
        let s = server().await;
        let c = reqwest::Client::new();
        let url = s.url("/img/a.png?w=10&h=10");
        let plain = c.get(&url).send().await.unwrap();
        assert_eq!(plain.status(), 200);
        assert_eq!(&plain.bytes().await.unwrap()[1..4], b"PNG");
        let foreign = c
            .get(&url)
            .header(header::REFERER, "https://blog.example/post")
            .send()
            .await
            .unwrap();
        assert_eq!(foreign.status(), 403);
        let own = c
            .get(&url)
            .header(header::REFERER, s.url("/articles/x"))
            .send()
            .await
            .unwrap();
        assert_eq!(own.status(), 200);
    }

    #[tokio::test]
    async fn fixtures_can_be_replaced_and_removed() {
        let s = server().await;
        s.set("/x.xml", "text/xml", "<rss/>");
        assert_eq!(
            reqwest::get(s.url("/x.xml"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
            "<rss/>"
        );
        s.remove("/x.xml");
        assert_eq!(reqwest::get(s.url("/x.xml")).await.unwrap().status(), 404);
    }
}
