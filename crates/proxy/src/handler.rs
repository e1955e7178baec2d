//! Request entry point: route, method, rate limit, target, policy, then the image flow.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use tidings_net::{AddressPolicy, NetError, Resolve, SafeClient};
use tokio::sync::Semaphore;
use url::Url;

use crate::cache::Cache;
use crate::hosts::HostGlobs;
use crate::image::{self, Wanted};
use crate::limit::RateLimiter;
use crate::respond::{self, Refusal};
use crate::target::{self, Route};
use crate::{Options, ProxyError, Published};

/// Limits the image flow needs.
pub(crate) struct Limits {
    pub max_bytes: u64,
    pub timeout: Duration,
    pub queue_wait: Duration,
    pub default_ttl: u64,
    pub max_ttl: u64,
}

/// The proxy's shared state.
pub(crate) struct Proxy {
    keys: Vec<Vec<u8>>,
    pub client: SafeClient,
    allow_hosts: HostGlobs<()>,
    pub referers: HostGlobs<HeaderValue>,
    published: Published,
    pub cache: Cache,
    pub slots: Arc<Semaphore>,
    limiter: RateLimiter,
    pub limits: Limits,
}

impl Proxy {
    pub fn new(
        opts: Options,
        published: Published,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Proxy, ProxyError> {
        let policy = AddressPolicy::new(&opts.allow_private)?;
        let client = SafeClient::new(policy, resolver, &opts.user_agent, opts.timeout)?;
        let allow_hosts = HostGlobs::new(opts.allow_hosts.iter().map(|h| (h.clone(), ())))
            .map_err(|pattern| ProxyError::Glob {
                key: "allow_hosts",
                pattern,
            })?;
        let mut referers = Vec::new();
        for (pattern, value) in &opts.referer {
            let v = HeaderValue::from_str(value).map_err(|_| ProxyError::Referer {
                pattern: pattern.clone(),
                value: value.clone(),
            })?;
            referers.push((pattern.clone(), v));
        }
        let referers = HostGlobs::new(referers).map_err(|pattern| ProxyError::Glob {
            key: "referer",
            pattern,
        })?;
        let cache = Cache::open(&opts.cache_dir, opts.cache_size, opts.memory_cache_size).map_err(
            |source| ProxyError::Cache {
                dir: opts.cache_dir.clone(),
                source,
            },
        )?;
        let mut keys = vec![opts.key];
        keys.extend(opts.old_keys);
        Ok(Proxy {
            keys,
            client,
            allow_hosts,
            referers,
            published,
            cache,
            slots: Arc::new(Semaphore::new(opts.max_concurrent.max(1))),
            limiter: RateLimiter::new(opts.rate_limit),
            limits: Limits {
                max_bytes: opts.max_bytes,
                timeout: opts.timeout,
                queue_wait: opts.queue_wait,
                default_ttl: opts.default_ttl.as_secs(),
                max_ttl: opts.max_ttl.as_secs(),
            },
        })
    }

    /// The unsigned form serves published images and allowlisted hosts only.
    fn unsigned_allowed(&self, raw: &str, url: &Url) -> bool {
        let host_ok = url
            .host_str()
            .is_some_and(|h| self.allow_hosts.find(h).is_some());
        host_ok || (self.published)(raw) || (raw != url.as_str() && (self.published)(url.as_str()))
    }
}

/// The one handler: it sees every request to the router, so the security headers stamped
/// here are on every response.
pub(crate) async fn handle(State(proxy): State<Arc<Proxy>>, req: Request) -> Response {
    let mut response = match route(&proxy, req).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    };
    respond::secure(&mut response);
    response
}

async fn route(proxy: &Arc<Proxy>, req: Request) -> Result<Response, Refusal> {
    let (parts, _body) = req.into_parts();
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return Err(Refusal::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD",
        ));
    }
    let (target, unsigned) = match target::route(parts.uri.path(), parts.uri.query()) {
        Route::Health => return Ok(health()),
        Route::NotFound => return Err(Refusal::new(StatusCode::NOT_FOUND, "no such route")),
        Route::Unsigned(query) => (target::unsigned_target(query)?, true),
        Route::Signed { sig, b64 } => (target::signed_target(&proxy.keys, sig, b64)?, false),
    };
    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if client.is_some_and(|ip| !proxy.limiter.allow(ip)) {
        return Err(Refusal::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate limit exceeded",
        ));
    }
    let url = proxy
        .client
        .policy()
        .check_str(&target)
        .map_err(|e| from_net(&e))?;
    if unsigned && !proxy.unsigned_allowed(&target, &url) {
        return Err(Refusal::forbidden(
            "not an image Tidings published, and not an allowed host",
        ));
    }
    image::serve(
        proxy,
        url,
        Wanted::from_headers(&parts.method, &parts.headers),
    )
    .await
}

fn health() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        "ok\n",
    )
        .into_response()
}

/// Map a refusal or failure of the vetted client to the status a browser gets.
pub(crate) fn from_net(e: &NetError) -> Refusal {
    match e {
        NetError::Forbidden { reason, .. } => Refusal::forbidden(format!("refused: {reason}")),
        NetError::BadUrl { reason, .. } => Refusal::bad_request(format!("bad URL: {reason}")),
        NetError::TooManyRedirects { .. } | NetError::BadRedirect { .. } => {
            Refusal::new(StatusCode::NOT_FOUND, "unusable redirect upstream")
        }
        NetError::Timeout { .. } => Refusal::new(StatusCode::GATEWAY_TIMEOUT, "upstream timed out"),
        NetError::Dns { .. } | NetError::Http { .. } => {
            Refusal::bad_gateway("upstream unreachable")
        }
        NetError::BadException { .. } | NetError::Client(_) => {
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "proxy misconfigured")
        }
    }
}
