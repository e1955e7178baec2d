//! Fetches feeds politely: concurrency limits, conditional GET, size and time caps.
//!
//! Feed URLs come from the user's own config, so they may point anywhere (loopback included) and
//! the address policy of `tidings-net` is deliberately not applied here.

mod error;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED, RETRY_AFTER,
};
use reqwest::StatusCode;
use tokio::sync::Semaphore;
use url::Url;

pub use error::FetchError;

/// What feeds we prefer, most specific first; anything else is still accepted.
const FEED_ACCEPT: &str = "application/rss+xml, application/atom+xml, application/feed+json, \
     application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, \
     */*;q=0.5";

/// `Tidings/<version> (+https://github.com/tidings)`.
pub fn default_user_agent() -> String {
    format!(
        "Tidings/{} (+https://github.com/tidings)",
        env!("CARGO_PKG_VERSION")
    )
}

/// Limits and identity for feed fetching.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Feeds fetched at once, across all hosts.
    pub concurrency: usize,
    /// Feeds fetched at once from one `host:port`.
    pub per_host: usize,
    /// Deadline per feed covering connect, headers and body (queueing time not included).
    pub timeout: Duration,
    /// Largest body accepted, counted after gzip/brotli decoding.
    pub max_bytes: u64,
    /// Redirects followed per feed.
    pub max_redirects: usize,
    pub user_agent: String,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            concurrency: 16,
            per_host: 4,
            timeout: Duration::from_secs(30),
            max_bytes: 16 * 1024 * 1024,
            max_redirects: 5,
            user_agent: default_user_agent(),
        }
    }
}

/// The cache validators of a fetched feed, sent back on the next fetch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The result of a successful fetch.
#[derive(Clone, Debug, PartialEq)]
pub enum FetchOutcome {
    /// 304: the feed has not changed since the validators were issued.
    NotModified,
    Fetched {
        /// The decoded body (gzip/brotli already undone), at most `max_bytes` long.
        body: Bytes,
        content_type: Option<String>,
        validators: Validators,
        /// Where the feed was found after redirects.
        final_url: String,
    },
}

/// Fetches feeds; cheap to clone, all clones share the limits and the connection pool.
#[derive(Clone, Debug)]
pub struct Fetcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    opts: FetchOptions,
    global: Arc<Semaphore>,
    /// One semaphore per `host:port`, created on first use.
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Fetcher {
    pub fn new(opts: FetchOptions) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            // Feeds go where the user said; a system proxy would be a surprise.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::limited(opts.max_redirects))
            .user_agent(opts.user_agent.as_str())
            .gzip(true)
            .brotli(true)
            .build()
            .map_err(|e| FetchError::Client {
                cause: e.to_string(),
            })?;
        Ok(Fetcher {
            inner: Arc::new(Inner {
                client,
                global: Arc::new(Semaphore::new(opts.concurrency.max(1))),
                hosts: Mutex::new(HashMap::new()),
                opts,
            }),
        })
    }

    /// The options this fetcher was built with.
    pub fn options(&self) -> &FetchOptions {
        &self.inner.opts
    }

    /// Fetch one feed, conditionally when `validators` hold anything.
    pub async fn fetch(
        &self,
        url: &str,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let parsed = parse_feed_url(url)?;
        let closed = || FetchError::Request {
            url: url.to_owned(),
            cause: "the fetcher is shutting down".into(),
        };
        // Host first, then global: a queue for one busy host must not hold global slots.
        let host_slot = self.host_semaphore(&parsed);
        let _host_permit = host_slot.acquire_owned().await.map_err(|_| closed())?;
        let _global_permit = self.inner.global.acquire().await.map_err(|_| closed())?;

        let after = self.inner.opts.timeout;
        match tokio::time::timeout(after, self.fetch_now(url, parsed, validators)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                url: url.to_owned(),
                after,
            }),
        }
    }

    fn host_semaphore(&self, url: &Url) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or_default()
        );
        // A poisoned lock only means another fetch panicked; the map itself is still sound.
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.inner.opts.per_host.max(1))))
            .clone()
    }

    async fn fetch_now(
        &self,
        url: &str,
        parsed: Url,
        validators: &Validators,
    ) -> Result<FetchOutcome, FetchError> {
        let response = self
            .inner
            .client
            .get(parsed)
            .headers(request_headers(validators))
            .send()
            .await
            .map_err(|e| send_error(url, e))?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(FetchOutcome::NotModified);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
            return Err(FetchError::RateLimited {
                url: url.to_owned(),
                retry_after,
            });
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let limit = self.inner.opts.max_bytes;
        // Known only for undecoded bodies; a compressed one is capped while streaming.
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
        let headers = response.headers();
        let content_type = header_text(headers, CONTENT_TYPE);
        let validators = Validators {
            etag: header_text(headers, ETAG),
            last_modified: header_text(headers, LAST_MODIFIED),
        };
        let final_url = response.url().to_string();
        let body = read_capped(url, response, limit).await?;
        Ok(FetchOutcome::Fetched {
            body,
            content_type,
            validators,
            final_url,
        })
    }
}

fn parse_feed_url(url: &str) -> Result<Url, FetchError> {
    let invalid = |reason: String| FetchError::InvalidUrl {
        url: url.to_owned(),
        reason,
    };
    let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme {:?} is not http or https",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".into()));
    }
    Ok(parsed)
}

fn request_headers(validators: &Validators) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(FEED_ACCEPT));
    // Validators echo what a server sent; one we cannot send back is simply not sent.
    let etag = validators
        .etag
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok());
    if let Some(etag) = etag {
        headers.insert(IF_NONE_MATCH, etag);
    }
    let modified = validators
        .last_modified
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok());
    if let Some(modified) = modified {
        headers.insert(IF_MODIFIED_SINCE, modified);
    }
    headers
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Read the (decoded) body, giving up as soon as it passes `limit`: a gzip bomb stops here.
async fn read_capped(
    url: &str,
    response: reqwest::Response,
    limit: u64,
) -> Result<Bytes, FetchError> {
    let hint = response.content_length().unwrap_or(0).min(limit);
    let mut body = BytesMut::with_capacity(usize::try_from(hint).unwrap_or(0));
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| FetchError::Body {
            url: url.to_owned(),
            cause: error::cause_text(&e),
        })?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

fn send_error(url: &str, err: reqwest::Error) -> FetchError {
    let url = url.to_owned();
    if err.is_redirect() {
        FetchError::TooManyRedirects { url }
    } else if err.is_connect() {
        FetchError::Connect {
            url,
            cause: error::cause_text(&err),
        }
    } else {
        FetchError::Request {
            url,
            cause: error::cause_text(&err),
        }
    }
}

/// `Retry-After` as a point in time: delay-seconds from `now`, or an HTTP-date. Whole seconds:
/// the header has no finer grain, and the time is printed and stored. Rounded up, so we never
/// come back early.
fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let whole = now.as_second() + i64::from(now.subsec_nanosecond() > 0);
    let now = jiff::Timestamp::from_second(whole).unwrap_or(now);
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        let seconds = i64::try_from(seconds).ok()?;
        return now
            .checked_add(jiff::SignedDuration::from_secs(seconds))
            .ok();
    }
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let now: jiff::Timestamp = "2024-05-01T00:00:00Z".parse().unwrap();
        let at = |s: &str| parse_retry_after(s, now).map(|t| t.to_string());
        assert_eq!(at("120").as_deref(), Some("2024-05-01T00:02:00Z"));
        let fractional: jiff::Timestamp = "2024-05-01T00:00:00.75Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("1", fractional)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2024-05-01T00:00:02Z")
        );
        assert_eq!(at(" 0 ").as_deref(), Some("2024-05-01T00:00:00Z"));
        assert_eq!(
            at("Wed, 21 Oct 2015 07:28:00 GMT").as_deref(),
            Some("2015-10-21T07:28:00Z")
        );
        for junk in [
            "",
            "-5",
            "soon",
            "1.5",
            "99999999999999999999",
            "9223372036854775807",
        ] {
            assert_eq!(at(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn user_agent_names_tidings_and_version() {
        let ua = default_user_agent();
        assert!(
            ua.starts_with(&format!("Tidings/{} ", env!("CARGO_PKG_VERSION"))),
            "{ua}"
        );
        assert_eq!(FetchOptions::default().user_agent, ua);
    }

    #[test]
    fn validators_become_conditional_headers() {
        let v = Validators {
            etag: Some("\"abc\"".into()),
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        };
        let h = request_headers(&v);
        assert_eq!(h[IF_NONE_MATCH], "\"abc\"");
        assert_eq!(h[IF_MODIFIED_SINCE], "Wed, 21 Oct 2015 07:28:00 GMT");
        // A validator with a newline cannot be sent; it must not break the request.
        let bad = Validators {
            etag: Some("x\r\nInjected: 1".into()),
            last_modified: None,
        };
        let h = request_headers(&bad);
        assert!(h.get(IF_NONE_MATCH).is_none());
        assert!(h.get("injected").is_none());
        assert!(request_headers(&Validators::default())
            .get(IF_NONE_MATCH)
            .is_none());
    }

    #[test]
    fn error_display_is_one_line_naming_the_url() {
        let e = FetchError::Status {
            url: "http://x/feed".into(),
            status: 404,
        };
        assert_eq!(e.to_string(), "http://x/feed: HTTP 404 Not Found");
        let e = FetchError::RateLimited {
            url: "http://x/feed".into(),
            retry_after: Some("2024-05-01T00:02:00Z".parse().unwrap()),
        };
        assert_eq!(
            e.to_string(),
            "http://x/feed: HTTP 429 Too Many Requests (retry after 2024-05-01T00:02:00Z)"
        );
        let e = FetchError::Status {
            url: "http://x/feed".into(),
            status: 599,
        };
        assert_eq!(e.to_string(), "http://x/feed: HTTP 599");
    }

    #[test]
    fn bad_feed_urls() {
        for url in [
            "",
            "not a url",
            "ftp://example.com/feed",
            "file:///etc/passwd",
            "/feed.xml",
        ] {
            assert!(
                matches!(parse_feed_url(url), Err(FetchError::InvalidUrl { .. })),
                "{url}"
            );
        }
        assert!(parse_feed_url("http://127.0.0.1:1200/zaker/channel/13").is_ok());
    }
}
