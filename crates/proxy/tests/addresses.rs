//! The address battery: every spelling of a private address, DNS answers, redirects. Every
//! vector points at the canary's port, and the canary must never be reached.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::*;

/// Hosts that all mean a private or special address; `{p}` is the canary's port.
fn literal_vectors(port: u16) -> Vec<String> {
    let hosts = [
        "127.0.0.1",
        "127.0.0.2",
        "0.0.0.0",
        "0",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "2130706433",
        "0x7f000001",
        "0x7f.1",
        "127.1",
        "0177.0.0.01",
        "017700000001",
        "127.0.0.1%2e",
        "127。0。0。1",
        "１２７．０．０．１",
        "①②⑦.⓪.⓪.①",
        "[::1]",
        "[::]",
        "[fe80::1]",
        "[fc00::1]",
        "[fd00:ec2::254]",
        "[ff02::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[2002:7f00:1::]",
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::7f00:1]",
        "[2001::80ff:fffe]",
        "[fe80::5efe:127.0.0.1]",
        "[2001:db8::5efe:7f00:1]",
        "localhost",
        "LOCALHOST.",
        "x.localhost",
        "box.localdomain",
    ];
    hosts
        .iter()
        .map(|h| format!("http://{h}:{port}/x.jpg"))
        .collect()
}

#[tokio::test]
async fn literal_addresses_in_every_spelling_are_refused() {
    let h = Harness::start().await;
    for target in literal_vectors(h.canary.port()) {
        for url in [h.signed(&target), h.unsigned(&target)] {
            let r = h.get(&url).await;
            assert!(
                matches!(r.status().as_u16(), 400 | 403),
                "{target}: {}",
                r.status()
            );
        }
    }
    assert_eq!(h.canary_hits(), 0);
}

#[tokio::test]
async fn embedded_public_addresses_are_not_refused_by_policy() {
    // 64:ff9b::8.8.8.8 is a public address: the policy lets it through (the connection then
    // fails or is slow on a test machine; it must not be a 400/403).
    let h = Harness::with(|s, _| s.opts.timeout = std::time::Duration::from_millis(200)).await;
    let r = h.get(&h.signed("http://[64:ff9b::8.8.8.8]:9/x.jpg")).await;
    assert!(!matches!(r.status().as_u16(), 400 | 403), "{}", r.status());
}

#[tokio::test]
async fn dns_answers_are_vetted_once() {
    let resolver = Arc::new(FakeResolver::with(&[
        ("loop.test", &["127.0.0.1"]),
        ("mixed.test", &["93.184.216.34", "127.0.0.1"]),
        ("private-second.test", &["8.8.8.8", "10.0.0.1"]),
        ("aaaa.test", &["::1"]),
        ("meta.test", &["169.254.169.254"]),
        ("mapped.test", &["::ffff:127.0.0.1"]),
    ]));
    let r2 = resolver.clone();
    let h = Harness::with(|s, _| s.resolver = Some(r2)).await;
    let port = h.canary.port();
    for name in [
        "loop.test",
        "mixed.test",
        "private-second.test",
        "aaaa.test",
        "meta.test",
        "mapped.test",
    ] {
        let target = format!("http://{name}:{port}/x.jpg");
        let r = h.get(&h.signed(&target)).await;
        assert_eq!(r.status(), 403, "{name}");
    }
    assert_eq!(
        resolver.lookups.load(Ordering::SeqCst),
        6,
        "one lookup per name, no second one"
    );
    assert_eq!(h.canary_hits(), 0);
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused_at_every_hop() {
    let resolver = Arc::new(FakeResolver::with(&[("loop.test", &["127.0.0.1"])]));
    let h = Harness::with(|s, _| s.resolver = Some(resolver)).await;
    let port = h.canary.port();
    let mut locations = literal_vectors(port);
    locations.push(format!("http://loop.test:{port}/x.jpg"));
    // Relative (scheme-relative) Location pointing elsewhere.
    locations.push(format!("//127.0.0.1:{port}/x.jpg"));
    locations.push(format!("//[::ffff:7f00:1]:{port}/x.jpg"));
    locations.push(format!("gopher://127.0.0.1:{port}/_x"));
    for loc in &locations {
        let enc: String = url::form_urlencoded::byte_serialize(loc.as_bytes()).collect();
        let target = h.origin_url(&format!("/redirect?to={enc}"));
        let r = h.get(&h.signed(&target)).await;
        assert!(
            matches!(r.status().as_u16(), 400 | 403 | 404),
            "{loc}: {}",
            r.status()
        );
        // Two hops: origin → origin → private.
        let inner = h.origin_url(&format!("/redirect?to={enc}"));
        let enc2: String = url::form_urlencoded::byte_serialize(inner.as_bytes()).collect();
        let r = h
            .get(&h.signed(&h.origin_url(&format!("/redirect?to={enc2}"))))
            .await;
        assert!(
            matches!(r.status().as_u16(), 400 | 403 | 404),
            "2 hops {loc}: {}",
            r.status()
        );
    }
    assert_eq!(h.canary_hits(), 0);
}

#[tokio::test]
async fn redirect_chains_loops_and_missing_location() {
    let h = Harness::start().await;
    assert_eq!(
        h.get(&h.signed(&h.origin_url("/chain/3"))).await.status(),
        200
    );
    assert_eq!(
        h.get(&h.signed(&h.origin_url("/chain/4"))).await.status(),
        404
    );
    assert_eq!(h.get(&h.signed(&h.origin_url("/loop"))).await.status(), 404);
    assert_eq!(
        h.get(&h.signed(&h.origin_url("/noloc"))).await.status(),
        404
    );
    // A relative redirect on the allowed origin is followed.
    let r = h
        .get(&h.signed(&h.origin_url("/redirect?to=/img.jpg")))
        .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn allow_private_is_exact_host_and_port() {
    let h = Harness::start().await;
    let origin_port = h.origin.port();
    // Same port, other spellings or loopback addresses: not the exception.
    for host in ["127.0.0.2", "localhost"] {
        let target = format!("http://{host}:{origin_port}/img.jpg");
        let r = h.get(&h.signed(&target)).await;
        assert_eq!(r.status(), 403, "{target}");
    }
    // A numeric spelling of the excepted address is the same address.
    let r = h
        .get(&h.signed(&format!("http://2130706433:{origin_port}/img.jpg")))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(h.canary_hits(), 0);
}
