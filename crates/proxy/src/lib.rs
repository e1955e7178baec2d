//! Tidings' own image proxy, safe enough to face the internet.
//!
//! Two URL forms: the signed `/{sig}/{b64}` (see `tidings_model::image`) and the seed-compatible
//! unsigned `/?http://host/path.jpg`, which only serves images Tidings published (the
//! `published` predicate) or hosts on `allow_hosts`. Upstream requests go through
//! `tidings_net::SafeClient` (no private addresses in any spelling, redirects re-vetted), carry no
//! cookies and no Referer unless one is configured for the host, and are capped in size and time.
//! Bodies must be images by header and by magic bytes. Responses stream and are cached on disk
//! (see `cache`); every response carries `nosniff` and a sandboxing CSP.
//!
//! [`router`] builds an axum router that works at the root or nested under a prefix (`/img/`);
//! [`serve`] runs it with timeouts for slow clients.

mod cache;
mod content;
mod handler;
mod hosts;
mod image;
mod limit;
mod memory;
mod respond;
mod serve;
mod target;
mod upstream;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use hosts::{normalise_host, HostGlob};
pub use respond::CSP;
pub use serve::{serve, ServeOptions};
pub use tidings_net::{Resolve, SystemResolver};

/// "Did Tidings publish this image URL?" — the gate of the unsigned form. Called once per
/// unsigned request, so it must be quick (an indexed lookup).
pub type Published = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Everything the proxy can be told. [`Options::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct Options {
    /// HMAC key for signed URLs.
    pub key: Vec<u8>,
    /// Previous keys, still accepted while old URLs are around (key rotation).
    pub old_keys: Vec<Vec<u8>>,
    /// `host:port` pairs that may be private addresses (tests, the demo).
    pub allow_private: Vec<String>,
    /// Host globs (`*.myzaker.com`) the unsigned form may fetch from, published or not.
    pub allow_hosts: Vec<String>,
    /// Host glob → the Referer to send to that host (some CDNs refuse an empty one).
    pub referer: Vec<(String, String)>,
    pub cache_dir: PathBuf,
    /// Total bytes of cached bodies.
    pub cache_size: u64,
    /// Bytes of small cached bodies (up to 256 KiB each) also kept in memory, with their
    /// headers prebuilt, so the hottest images are served without touching the disk.
    pub memory_cache_size: u64,
    /// Largest image served.
    pub max_bytes: u64,
    /// Total time for one upstream fetch, headers and body.
    pub timeout: Duration,
    /// Upstream fetches at once, over all clients.
    pub max_concurrent: usize,
    /// How long a request may wait for a free fetch slot before it gets 429.
    pub queue_wait: Duration,
    /// Requests per client address per minute (also the burst); 0 turns the limit off.
    pub rate_limit: u32,
    /// Freshness when the upstream gives no max-age.
    pub default_ttl: Duration,
    /// Upper bound on any upstream max-age.
    pub max_ttl: Duration,
    pub user_agent: String,
}

impl Options {
    /// Defaults: 512 MiB cache (64 MiB of it also in memory), 20 MiB images, 10 s per fetch, 64 fetches at once, 1200
    /// requests per client per minute, one day's freshness by default.
    pub fn new(key: Vec<u8>, cache_dir: PathBuf) -> Options {
        Options {
            key,
            old_keys: Vec::new(),
            allow_private: Vec::new(),
            allow_hosts: Vec::new(),
            referer: Vec::new(),
            cache_dir,
            cache_size: 512 << 20,
            memory_cache_size: 64 << 20,
            max_bytes: 20 << 20,
            timeout: Duration::from_secs(10),
            max_concurrent: 64,
            queue_wait: Duration::from_secs(2),
            rate_limit: 1200,
            default_ttl: Duration::from_secs(86_400),
            max_ttl: Duration::from_secs(30 * 86_400),
            user_agent: format!("Tidings-Proxy/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Why the proxy could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("image proxy: {0}")]
    Net(#[from] tidings_net::NetError),
    #[error("image cache {dir}: {source}")]
    Cache {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("proxy.{key}: {pattern:?} is not a host or *.host pattern")]
    Glob { key: &'static str, pattern: String },
    #[error("proxy.referer: {value:?} (for {pattern:?}) is not a valid header value")]
    Referer { pattern: String, value: String },
}

/// The proxy's routes: `/` (unsigned form), `/healthz`, `/{sig}/{b64}`, anything else 404.
/// Paths are read relative
/// to the mount point: mount it with `Router::new().nest_service("/img", router)` (plain `nest`
/// would not route `/img/?http://…` to it).
pub fn router(
    opts: Options,
    published: Published,
    resolver: Arc<dyn Resolve>,
) -> Result<Router, ProxyError> {
    let proxy = Arc::new(handler::Proxy::new(opts, published, resolver)?);
    // One fallback and no middleware: `handle` does its own routing (`target::route`) and
    // stamps the security headers, which saves a route match and a boxed future per request.
    Ok(Router::new().fallback(handler::handle).with_state(proxy))
}
