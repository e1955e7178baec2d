//! The address policy: which URLs and resolved addresses a hostile link may reach.

use std::io;
use std::net::{IpAddr, SocketAddr};

use futures_util::future::BoxFuture;
use url::{Host, Url};

use crate::addr::forbidden_reason;
use crate::error::NetError;
use crate::literal::parse_ip_literal;

/// A name resolver, injectable so tests can answer with any address they like.
pub trait Resolve: Send + Sync {
    /// All addresses `host` resolves to (A and AAAA).
    fn lookup(&self, host: &str) -> BoxFuture<'_, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver, through `tokio::net::lookup_host`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup(&self, host: &str) -> BoxFuture<'_, io::Result<Vec<IpAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Refuses private and special addresses, except for explicit `host:port` exceptions.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    /// Canonical host (see [`host_key`]) and port pairs that may be private.
    allow_private: Vec<(String, u16)>,
}

impl AddressPolicy {
    /// A policy whose only exceptions are the given `host:port` entries (`[::1]:8080` for IPv6).
    pub fn new(allow_private: &[String]) -> Result<Self, NetError> {
        let allow_private = allow_private
            .iter()
            .map(|entry| parse_exception(entry))
            .collect::<Result<_, _>>()?;
        Ok(AddressPolicy { allow_private })
    }

    /// True when `host:port` is one of the configured exceptions.
    pub fn is_exempt(&self, host: &str, port: u16) -> bool {
        let key = host_key(host);
        self.allow_private
            .iter()
            .any(|(h, p)| *h == key && *p == port)
    }

    /// True when `host` is excepted on some port (the resolver does not know the port).
    pub(crate) fn names_exempt_host(&self, host: &str) -> bool {
        let key = host_key(host);
        self.allow_private.iter().any(|(h, _)| *h == key)
    }

    /// Parse a URL string and check it; the scheme is checked on the raw text first, because the
    /// URL parser reads the host of unknown schemes (`gopher://127.0.0.1`) as an opaque name.
    pub fn check_str(&self, raw: &str) -> Result<Url, NetError> {
        check_raw_scheme(raw)?;
        let url = Url::parse(raw).map_err(|e| bad_url(raw, e.to_string()))?;
        self.check_url(&url)?;
        Ok(url)
    }

    /// Check everything that can be checked without DNS: scheme, userinfo, local host names and
    /// IP-literal hosts in any spelling.
    pub fn check_url(&self, url: &Url) -> Result<(), NetError> {
        let shown = url.as_str();
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad_url(
                shown,
                format!("scheme {:?} is not http or https", url.scheme()),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad_url(
                shown,
                "credentials in the URL are not allowed".into(),
            ));
        }
        let host = url.host().ok_or_else(|| bad_url(shown, "no host".into()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| bad_url(shown, "no port".into()))?;
        let reason = match host {
            Host::Ipv4(ip) => forbidden_reason(ip.into()),
            Host::Ipv6(ip) => forbidden_reason(ip.into()),
            Host::Domain(name) => local_name_reason(name)
                .or_else(|| parse_ip_literal(name).and_then(forbidden_reason)),
        };
        match reason {
            Some(reason) if !self.is_exempt(&host.to_string(), port) => Err(NetError::Forbidden {
                url: shown.to_owned(),
                reason: reason.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Resolve `host` once and vet every answer: if any address is forbidden the whole name is
    /// refused (a mixed answer is how DNS rebinding hides a private address), unless `host:port`
    /// is an exception. IP-literal hosts are checked without a lookup.
    pub async fn resolve(
        &self,
        host: &str,
        port: u16,
        resolver: &dyn Resolve,
    ) -> Result<Vec<SocketAddr>, NetError> {
        let exempt = self.is_exempt(host, port);
        let ips = self.vet(host, exempt, resolver).await?;
        Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect())
    }

    /// The addresses `host` may be reached at; `exempt` lifts the private-address ban.
    pub(crate) async fn vet(
        &self,
        host: &str,
        exempt: bool,
        resolver: &dyn Resolve,
    ) -> Result<Vec<IpAddr>, NetError> {
        let refuse = |reason: String| NetError::Forbidden {
            url: host.to_owned(),
            reason,
        };
        if let Some(ip) = parse_ip_literal(host) {
            return match forbidden_reason(ip) {
                Some(reason) if !exempt => Err(refuse(reason.to_owned())),
                _ => Ok(vec![ip]),
            };
        }
        if let Some(reason) = local_name_reason(host).filter(|_| !exempt) {
            return Err(refuse(reason.to_owned()));
        }
        let ips = resolver
            .lookup(host)
            .await
            .map_err(|source| NetError::Dns {
                host: host.to_owned(),
                source,
            })?;
        if ips.is_empty() {
            return Err(NetError::Dns {
                host: host.to_owned(),
                source: io::Error::new(io::ErrorKind::NotFound, "no addresses"),
            });
        }
        if !exempt {
            for ip in &ips {
                if let Some(reason) = forbidden_reason(*ip) {
                    return Err(refuse(format!("{host} resolves to {ip}: {reason}")));
                }
            }
        }
        Ok(ips)
    }
}

/// The comparable form of a host: addresses in canonical text, names lower-case without the
/// trailing dot, IPv6 without brackets.
pub(crate) fn host_key(host: &str) -> String {
    match parse_ip_literal(host) {
        Some(ip) => ip.to_string(),
        None => host.trim_end_matches('.').to_ascii_lowercase(),
    }
}

fn parse_exception(entry: &str) -> Result<(String, u16), NetError> {
    let bad = |reason: &str| NetError::BadException {
        entry: entry.to_owned(),
        reason: reason.to_owned(),
    };
    let (host, port) = entry
        .rsplit_once(':')
        .ok_or_else(|| bad("expected host:port"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| bad("the port is not a number 1-65535"))?;
    if port == 0 {
        return Err(bad("the port is not a number 1-65535"));
    }
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) {
        return Err(bad(
            "expected host:port (IPv6 hosts in brackets: [::1]:8080)",
        ));
    }
    Ok((host_key(host), port))
}

/// Names that always mean this machine, whatever DNS says.
fn local_name_reason(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let local = ["localhost", "localdomain"]
        .iter()
        .any(|l| name == *l || name.ends_with(&format!(".{l}")));
    if name.is_empty() {
        Some("empty host name")
    } else if local {
        Some("local host name")
    } else {
        None
    }
}

fn check_raw_scheme(raw: &str) -> Result<(), NetError> {
    // The URL parser drops leading C0 controls and spaces; look at what it will see.
    let trimmed = raw.trim_start_matches(|c: char| c <= ' ');
    let scheme = trimmed.split_once(':').map(|(s, _)| s).unwrap_or("");
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        Ok(())
    } else {
        Err(bad_url(raw, "only http and https URLs are fetched".into()))
    }
}

fn bad_url(url: &str, reason: String) -> NetError {
    NetError::BadUrl {
        url: url.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> AddressPolicy {
        AddressPolicy::default()
    }

    #[test]
    fn refuses_every_loopback_spelling_in_urls() {
        let policy = strict();
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
            "１２７．０．０．１",
            "①②⑦.⓪.⓪.①",
            "0.0.0.0",
            "0",
            "10.1.2.3",
            "169.254.169.254",
            "100.64.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "224.0.0.1",
            "240.0.0.1",
            "255.255.255.255",
            "[::1]",
            "[::]",
            "[fe80::1]",
            "[fd00:ec2::254]",
            "[ff02::1]",
            "[::ffff:127.0.0.1]",
            "[::ffff:7f00:1]",
            "[::127.0.0.1]",
            "[2002:7f00:1::]",
            "[64:ff9b::a9fe:a9fe]",
            "[64:ff9b:1::a9fe:a9fe]",
            "[2001::80ff:fffe]",
            "[fe80::5efe:127.0.0.1]",
            "[2001:db8::5efe:7f00:1]",
            "localhost",
            "LOCALHOST.",
            "x.localhost",
            "a.b.LocalHost",
            "ｌｏｃａｌｈｏｓｔ",
            "xn--ls8h.localhost",
            "box.localdomain",
            "localdomain.",
        ] {
            for scheme in ["http", "https"] {
                let raw = format!("{scheme}://{host}/img.jpg");
                let err = policy.check_str(&raw).expect_err(&raw);
                assert!(err.is_forbidden(), "{raw}: {err}");
            }
        }
    }

    #[test]
    fn allows_public_addresses_and_names() {
        let policy = strict();
        for raw in [
            "http://8.8.8.8/",
            "http://[64:ff9b::8.8.8.8]/",
            "http://[2606:4700::1111]/",
            "https://example.com/a.jpg?x=1",
            "https://zkres1.myzaker.com/img/1.jpg",
            "http://localhost.example.com/",
            "http://mylocalhost/",
            "HTTP://Example.COM/",
        ] {
            assert!(policy.check_str(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn refuses_other_schemes_and_userinfo() {
        let policy = strict();
        for raw in [
            "gopher://127.0.0.1:70/_x",
            "gopher://example.com/",
            "file:///etc/passwd",
            "ftp://example.com/x",
            "data:image/png;base64,AAAA",
            "javascript:alert(1)",
            "ws://example.com/",
            "//example.com/x",
            "example.com/x",
            "http://user:pass@example.com/",
            "http://allowed.com@evil.com/",
            "http://:pass@example.com/",
            "http://",
            "",
        ] {
            let err = policy.check_str(raw).expect_err(raw);
            assert!(matches!(err, NetError::BadUrl { .. }), "{raw}: {err}");
        }
    }

    #[test]
    fn exceptions_are_exact_host_and_port() {
        let policy = AddressPolicy::new(&[
            "127.0.0.1:8080".into(),
            "LocalHost:9000".into(),
            "[::1]:7000".into(),
        ])
        .unwrap();
        assert!(policy.check_str("http://127.0.0.1:8080/x").is_ok());
        assert!(policy.check_str("http://2130706433:8080/x").is_ok());
        assert!(policy.check_str("http://localhost:9000/x").is_ok());
        assert!(policy.check_str("http://[::1]:7000/x").is_ok());
        for raw in [
            "http://127.0.0.1:8081/x",
            "http://127.0.0.1/x",
            "http://127.0.0.2:8080/x",
            "http://localhost:8080/x",
            "http://[::1]:8080/x",
            "http://x.localhost:9000/x",
        ] {
            assert!(policy.check_str(raw).unwrap_err().is_forbidden(), "{raw}");
        }
    }

    #[test]
    fn bad_exception_entries() {
        for entry in [
            "127.0.0.1",
            "host:",
            "host:http",
            ":80",
            "::1:80",
            "host:0",
            "host:70000",
        ] {
            let err = AddressPolicy::new(&[entry.to_owned()]).expect_err(entry);
            assert!(err.to_string().contains(entry), "{err}");
        }
    }

    #[test]
    fn error_messages_name_the_url() {
        let err = strict().check_str("http://127.0.0.1/secret").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("http://127.0.0.1/secret"), "{text}");
        assert!(text.contains("loopback"), "{text}");
    }
}
