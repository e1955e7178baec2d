//! Why a feed fetch failed; every message is one line naming the feed URL.

use std::time::Duration;

/// A failed feed fetch. `Display` is one line: `<url>: <cause>`.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with an error status (or a 3xx we do not follow).
    #[error("{url}: HTTP {status}{}", reason_suffix(*.status))]
    Status { url: String, status: u16 },
    /// 429 Too Many Requests; `retry_after` is when the server asked us to come back.
    #[error("{url}: HTTP 429 Too Many Requests{}", retry_suffix(.retry_after))]
    RateLimited {
        url: String,
        retry_after: Option<jiff::Timestamp>,
    },
    /// The body (after gzip/brotli decoding) is larger than the cap.
    #[error("{url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
    /// Connect, headers and body together took longer than the deadline.
    #[error("{url}: no complete response within {after:?}")]
    Timeout { url: String, after: Duration },
    /// More redirects than allowed, or a redirect loop.
    #[error("{url}: too many redirects (or a redirect loop)")]
    TooManyRedirects { url: String },
    /// DNS failure, refused connection, TLS failure.
    #[error("{url}: cannot connect: {cause}")]
    Connect { url: String, cause: String },
    /// The connection broke or the body could not be decoded mid-way.
    #[error("{url}: reading the response failed: {cause}")]
    Body { url: String, cause: String },
    /// Any other failure while sending the request.
    #[error("{url}: request failed: {cause}")]
    Request { url: String, cause: String },
    /// The feed URL is not an absolute http(s) URL.
    #[error("{url}: invalid feed URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    /// The HTTP client could not be built (bad user agent, TLS setup).
    #[error("cannot build the HTTP client: {cause}")]
    Client { cause: String },
}

impl FetchError {
    /// The feed URL the error is about (empty for client setup errors).
    pub fn url(&self) -> &str {
        match self {
            FetchError::Status { url, .. }
            | FetchError::RateLimited { url, .. }
            | FetchError::TooLarge { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::TooManyRedirects { url }
            | FetchError::Connect { url, .. }
            | FetchError::Body { url, .. }
            | FetchError::Request { url, .. }
            | FetchError::InvalidUrl { url, .. } => url,
            FetchError::Client { .. } => "",
        }
    }
}

fn reason_suffix(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

fn retry_suffix(retry_after: &Option<jiff::Timestamp>) -> String {
    retry_after
        .map(|t| format!(" (retry after {t})"))
        .unwrap_or_default()
}

/// The useful part of a reqwest error: its causes, without reqwest's and hyper's wrappers that
/// only repeat the URL or say "client error".
pub(crate) fn cause_text(err: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = std::error::Error::source(err);
    while let Some(e) = cause {
        let text = e.to_string();
        if !text.starts_with("client error (") && !parts.contains(&text) {
            parts.push(text);
        }
        cause = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}
