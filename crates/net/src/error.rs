//! Errors of the address policy and the vetted client; each names the URL or host it is about.

/// Why a URL was not (or could not be) fetched.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The URL or one of its resolved addresses is on the private/special list.
    #[error("{url}: refused: {reason}")]
    Forbidden { url: String, reason: String },
    /// The URL is malformed or uses something we never fetch (scheme, userinfo).
    #[error("{url}: bad URL: {reason}")]
    BadUrl { url: String, reason: String },
    /// A redirect chain went past the limit or came back to a URL already visited.
    #[error("{url}: too many redirects")]
    TooManyRedirects { url: String },
    /// A 3xx redirect status came without a usable `Location` header.
    #[error("{url}: HTTP {status} redirect without a valid Location")]
    BadRedirect { url: String, status: u16 },
    /// The name did not resolve.
    #[error("{host}: DNS lookup failed: {source}")]
    Dns {
        host: String,
        #[source]
        source: std::io::Error,
    },
    /// The request did not finish in the client's time limit.
    #[error("{url}: timed out")]
    Timeout { url: String },
    /// Connecting, sending or receiving failed.
    #[error("{url}: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// An `allow_private` entry is not `host:port`.
    #[error("allow_private entry {entry:?}: {reason}")]
    BadException { entry: String, reason: String },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl NetError {
    /// True when the policy refused the target (as opposed to a network failure).
    pub fn is_forbidden(&self) -> bool {
        matches!(self, NetError::Forbidden { .. } | NetError::BadUrl { .. })
    }
}
