//! SafeClient against real servers on 127.0.0.1, with a canary that must never be reached.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::future::BoxFuture;
use tidings_net::{AddressPolicy, NetError, Resolve, SafeClient, SystemResolver};

/// Answers from a fixed table and counts lookups.
#[derive(Default)]
struct FakeResolver {
    answers: HashMap<String, Vec<IpAddr>>,
    lookups: AtomicUsize,
}

impl FakeResolver {
    fn with(entries: &[(&str, &[&str])]) -> Self {
        let answers = entries
            .iter()
            .map(|(name, ips)| {
                (
                    name.to_string(),
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
        let answer =
            self.answers.get(host).cloned().ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no such name {host}"))
            });
        Box::pin(async move { answer })
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A server that counts every request it receives and answers "canary".
async fn canary() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "canary"
        }
    });
    (serve(router).await, hits)
}

fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location.to_owned())]).into_response()
}

/// The server the tests are allowed to reach.
async fn origin() -> SocketAddr {
    let router = Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route(
            "/ua",
            get(|h: HeaderMap| async move {
                let ua = h.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
                ua.unwrap_or("none").to_owned()
            }),
        )
        .route(
            "/auth",
            get(|h: HeaderMap| async move {
                let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                auth.unwrap_or("none").to_owned()
            }),
        )
        .route(
            "/redirect",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                redirect(q.get("to").map(String::as_str).unwrap_or("/ok"))
            }),
        )
        .route("/rel", get(|| async { redirect("ok") }))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route("/noloc", get(|| async { StatusCode::FOUND }))
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                match n {
                    0 => "end".into_response(),
                    n => redirect(&format!("/chain/{}", n - 1)),
                }
            }),
        );
    serve(router).await
}

fn client(allow: &[String], resolver: Arc<dyn Resolve>) -> SafeClient {
    let policy = AddressPolicy::new(allow).unwrap();
    SafeClient::new(policy, resolver, "tidings-test/1", Duration::from_secs(5)).unwrap()
}

fn allowing(addr: SocketAddr) -> SafeClient {
    client(&[addr.to_string()], Arc::new(SystemResolver))
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn allowed_server_is_fetched() {
    let addr = origin().await;
    let client = allowing(addr);
    let resp = client
        .get(&format!("http://{addr}/ok"), HeaderMap::new(), 3)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "hello");
    let resp = client
        .get(&format!("http://{addr}/ua"), HeaderMap::new(), 3)
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "tidings-test/1");
    let resp = client
        .get(&format!("http://{addr}/rel"), HeaderMap::new(), 3)
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello", "relative Location");
}

#[tokio::test]
async fn loopback_without_exception_is_refused() {
    let (canary, hits) = canary().await;
    let strict = client(&[], Arc::new(SystemResolver));
    for raw in [
        format!("http://{canary}/"),
        format!("http://2130706433:{}/", canary.port()),
        format!("http://localhost:{}/", canary.port()),
    ] {
        let err = strict.get(&raw, HeaderMap::new(), 3).await.unwrap_err();
        assert!(matches!(err, NetError::Forbidden { .. }), "{raw}: {err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn literal_spellings_of_the_canary_are_refused() {
    let (canary, hits) = canary().await;
    let addr = origin().await;
    let client = allowing(addr);
    let port = canary.port();
    for host in [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "127.1",
        "0177.0.0.01",
        "017700000001",
        "127.0.0.1.",
        "127.0.0.1%2e",
        "127。0。0。1",
        "１２７.０.０.１",
        "①②⑦.⓪.⓪.①",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::1]",
        "localhost",
        "LOCALHOST.",
        "x.localhost",
    ] {
        let raw = format!("http://{host}:{port}/");
        let err = client.get(&raw, HeaderMap::new(), 3).await.expect_err(&raw);
        assert!(err.is_forbidden(), "{raw}: {err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn every_redirect_hop_is_vetted() {
    let (canary, hits) = canary().await;
    let addr = origin().await;
    let port = canary.port();
    let resolver = FakeResolver::with(&[
        ("canary.test", &["127.0.0.1"]),
        ("mixed.test", &["8.8.8.8", "127.0.0.1"]),
        ("six.test", &["::1"]),
    ]);
    let client = client(&[addr.to_string()], Arc::new(resolver));
    for location in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://2130706433:{port}/"),
        format!("http://0x7f.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://localhost:{port}/"),
        format!("http://canary.test:{port}/"),
        format!("http://mixed.test:{port}/"),
        format!("http://six.test:{port}/"),
        format!("//127.0.0.1:{port}/"),
        format!("gopher://127.0.0.1:{port}/"),
        format!("http://user:pw@127.0.0.1:{port}/"),
    ] {
        let raw = format!("http://{addr}/redirect?to={}", encode(&location));
        let err = client
            .get(&raw, HeaderMap::new(), 3)
            .await
            .expect_err(&location);
        assert!(err.is_forbidden(), "{location}: {err}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn names_resolve_once_and_exceptions_are_per_port() {
    let (canary, hits) = canary().await;
    let addr = origin().await;
    let resolver = Arc::new(FakeResolver::with(&[("feed.test", &["127.0.0.1"])]));
    let client = client(&[format!("feed.test:{}", addr.port())], resolver.clone());

    let url = format!("http://feed.test:{}/ok", addr.port());
    let resp = client.get(&url, HeaderMap::new(), 3).await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello");
    assert_eq!(
        resolver.lookups.load(Ordering::SeqCst),
        1,
        "vetted once, no second lookup"
    );

    // The same name on another port is not an exception.
    let url = format!("http://feed.test:{}/", canary.port());
    let err = client.get(&url, HeaderMap::new(), 3).await.unwrap_err();
    assert!(matches!(err, NetError::Forbidden { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn redirect_limits() {
    let addr = origin().await;
    let client = allowing(addr);
    let ok = client
        .get(&format!("http://{addr}/chain/3"), HeaderMap::new(), 3)
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "end");

    let chain = format!("http://{addr}/chain/4");
    let err = client.get(&chain, HeaderMap::new(), 3).await.unwrap_err();
    assert!(matches!(err, NetError::TooManyRedirects { .. }), "{err}");
    assert!(err.to_string().contains(&chain), "{err}");

    let err = client
        .get(&format!("http://{addr}/loop"), HeaderMap::new(), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::TooManyRedirects { .. }), "{err}");

    let err = client
        .get(&format!("http://{addr}/noloc"), HeaderMap::new(), 3)
        .await
        .unwrap_err();
    assert!(
        matches!(err, NetError::BadRedirect { status: 302, .. }),
        "{err}"
    );

    let err = client
        .get(&format!("http://{addr}/chain/1"), HeaderMap::new(), 0)
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::TooManyRedirects { .. }), "{err}");
}

#[tokio::test]
async fn credentials_do_not_follow_a_cross_origin_redirect() {
    let first = origin().await;
    let second = origin().await;
    let client = client(
        &[first.to_string(), second.to_string()],
        Arc::new(SystemResolver),
    );
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, "Bearer secret".parse().unwrap());

    let same = format!("http://{first}/redirect?to=%2Fauth");
    let resp = client.get(&same, headers.clone(), 3).await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "Bearer secret");

    let cross = format!(
        "http://{first}/redirect?to={}",
        encode(&format!("http://{second}/auth"))
    );
    let resp = client.get(&cross, headers, 3).await.unwrap();
    assert_eq!(resp.text().await.unwrap(), "none");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            keep.lock().unwrap().push(socket);
        }
    });
    let policy = AddressPolicy::new(&[addr.to_string()]).unwrap();
    let client = SafeClient::new(
        policy,
        Arc::new(SystemResolver),
        "t",
        Duration::from_millis(300),
    )
    .unwrap();
    let err = client
        .get(&format!("http://{addr}/"), HeaderMap::new(), 3)
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn resolve_vets_every_answer() {
    let resolver = FakeResolver::with(&[
        ("loop.test", &["127.0.0.1"]),
        ("mixed.test", &["8.8.8.8", "10.0.0.1"]),
        (
            "mixed-late.test",
            &["2606:4700::1111", "8.8.4.4", "::ffff:169.254.169.254"],
        ),
        ("aaaa.test", &["fd00::1"]),
        ("public.test", &["8.8.8.8", "2606:4700::1111"]),
        ("empty.test", &[]),
    ]);
    let policy = AddressPolicy::new(&["loop.test:8080".to_owned()]).unwrap();
    for name in [
        "mixed.test",
        "mixed-late.test",
        "aaaa.test",
        "localhost",
        "x.localdomain",
    ] {
        let err = policy.resolve(name, 80, &resolver).await.unwrap_err();
        assert!(matches!(err, NetError::Forbidden { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let err = policy
        .resolve("loop.test", 80, &resolver)
        .await
        .unwrap_err();
    assert!(matches!(err, NetError::Forbidden { .. }), "{err}");
    let ok = policy.resolve("loop.test", 8080, &resolver).await.unwrap();
    assert_eq!(ok, vec!["127.0.0.1:8080".parse::<SocketAddr>().unwrap()]);

    let ok = policy.resolve("public.test", 443, &resolver).await.unwrap();
    assert_eq!(ok.len(), 2);
    assert!(ok.iter().all(|a| a.port() == 443));

    for name in ["empty.test", "missing.test"] {
        let err = policy.resolve(name, 80, &resolver).await.unwrap_err();
        assert!(matches!(err, NetError::Dns { .. }), "{name}: {err}");
    }
    // Literals are judged without a lookup.
    let before = resolver.lookups.load(Ordering::SeqCst);
    assert!(policy.resolve("0x7f.1", 80, &resolver).await.is_err());
    assert!(policy.resolve("[::1]", 80, &resolver).await.is_err());
    assert!(policy.resolve("8.8.8.8", 80, &resolver).await.is_ok());
    assert_eq!(resolver.lookups.load(Ordering::SeqCst), before);
}
