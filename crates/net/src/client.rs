//! An HTTP client for hostile URLs: every hop vetted, connects only to vetted addresses.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, COOKIE, LOCATION, PROXY_AUTHORIZATION};
use reqwest::{Method, Response, StatusCode};
use url::Url;

use crate::error::NetError;
use crate::policy::{host_key, AddressPolicy, Resolve};

/// A reqwest client that enforces an [`AddressPolicy`].
///
/// reqwest's resolver never sees IP-literal hosts, so those are checked per request; names go
/// through a resolver that vets the answers and hands exactly those addresses to the connector,
/// so there is no second lookup to rebind. Redirects are followed by hand to re-vet every hop.
/// System proxies are ignored (a proxy would make the address checks meaningless).
#[derive(Clone, Debug)]
pub struct SafeClient {
    policy: Arc<AddressPolicy>,
    /// For all ordinary targets: private answers always refused.
    strict: reqwest::Client,
    /// Only for URLs whose `host:port` is an exception; its resolver accepts private answers
    /// for excepted names (the resolver is not told the port, hence two clients).
    exempt: reqwest::Client,
}

impl SafeClient {
    /// Build the client; `timeout` bounds each request from connect to the end of the body.
    pub fn new(
        policy: AddressPolicy,
        resolver: Arc<dyn Resolve>,
        user_agent: &str,
        timeout: Duration,
    ) -> Result<Self, NetError> {
        let policy = Arc::new(policy);
        let build = |exempt: bool| {
            let vetting = VettingResolver {
                policy: policy.clone(),
                resolver: resolver.clone(),
                exempt,
            };
            reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .dns_resolver(Arc::new(vetting))
                .user_agent(user_agent)
                .timeout(timeout)
                .connect_timeout(timeout)
                .build()
                .map_err(NetError::Client)
        };
        Ok(SafeClient {
            strict: build(false)?,
            exempt: build(true)?,
            policy,
        })
    }

    /// The policy this client enforces.
    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    /// GET `url`, following at most `max_redirects` redirects, each re-vetted. Returns the final
    /// response with its body unread (the caller streams and caps it).
    pub async fn get(
        &self,
        url: &str,
        headers: HeaderMap,
        max_redirects: usize,
    ) -> Result<Response, NetError> {
        self.request(Method::GET, url, headers, max_redirects).await
    }

    /// Like [`SafeClient::get`] for GET or HEAD (other methods are sent as given on each hop).
    pub async fn request(
        &self,
        method: Method,
        url: &str,
        mut headers: HeaderMap,
        max_redirects: usize,
    ) -> Result<Response, NetError> {
        let mut current = self.policy.check_str(url)?;
        let mut visited = HashSet::from([current.to_string()]);
        let mut hops = 0;
        loop {
            let response = self
                .send_once(method.clone(), &current, headers.clone())
                .await?;
            let Some(next) = redirect_target(&current, &response)? else {
                return Ok(response);
            };
            hops += 1;
            if hops > max_redirects || !visited.insert(next.to_string()) {
                return Err(NetError::TooManyRedirects {
                    url: url.to_owned(),
                });
            }
            self.policy.check_url(&next)?;
            if next.origin() != current.origin() {
                // Credentials meant for one site must not follow a redirect to another.
                for name in [AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION] {
                    headers.remove(name);
                }
            }
            current = next;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
    ) -> Result<Response, NetError> {
        // check_url ran on this URL already; pick the client its host:port is entitled to.
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or_default();
        let client = if self.policy.is_exempt(host, port) {
            &self.exempt
        } else {
            &self.strict
        };
        client
            .request(method, url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| send_error(url, e))
    }
}

/// The next URL when `response` is a redirect we follow, resolved against `current`.
fn redirect_target(current: &Url, response: &Response) -> Result<Option<Url>, NetError> {
    let status = response.status();
    let followed = [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ];
    if !followed.contains(&status) {
        return Ok(None);
    }
    let bad = || NetError::BadRedirect {
        url: current.to_string(),
        status: status.as_u16(),
    };
    let location = response.headers().get(LOCATION).ok_or_else(bad)?;
    // Some servers send raw UTF-8 in Location; the URL parser percent-encodes it.
    let location = std::str::from_utf8(location.as_bytes()).map_err(|_| bad())?;
    if location.trim().is_empty() {
        return Err(bad());
    }
    current.join(location).map(Some).map_err(|_| bad())
}

/// Turn a reqwest error into ours, surfacing a refusal made inside the resolver.
fn send_error(url: &Url, err: reqwest::Error) -> NetError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cause {
        match e.downcast_ref::<NetError>() {
            Some(NetError::Forbidden { reason, .. }) => {
                return NetError::Forbidden {
                    url: url.to_string(),
                    reason: reason.clone(),
                }
            }
            Some(NetError::Dns { host, source }) => {
                return NetError::Dns {
                    host: host.clone(),
                    source: std::io::Error::new(source.kind(), source.to_string()),
                }
            }
            _ => cause = e.source(),
        }
    }
    if err.is_timeout() {
        NetError::Timeout {
            url: url.to_string(),
        }
    } else {
        NetError::Http {
            url: url.to_string(),
            source: err,
        }
    }
}

/// reqwest's DNS hook: resolve once through the injected resolver and vet the answers.
struct VettingResolver {
    policy: Arc<AddressPolicy>,
    resolver: Arc<dyn Resolve>,
    exempt: bool,
}

impl reqwest::dns::Resolve for VettingResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy.clone();
        let resolver = self.resolver.clone();
        let host = name.as_str().to_owned();
        let exempt = self.exempt && policy.names_exempt_host(&host_key(&host));
        Box::pin(async move {
            let ips = policy.vet(&host, exempt, resolver.as_ref()).await?;
            // Port 0: the connector fills in the URL's port.
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
