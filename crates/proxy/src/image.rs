//! The image flow: cache hit, collapsed miss, revalidation, stale-on-error.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use url::Url;

use crate::cache::{self, Begin, Cache, Key, Lead, Meta, Outcome};
use crate::handler::Proxy;
use crate::memory::Hot;
use crate::respond::Refusal;
use crate::upstream::{self, Fetched};

const CHUNK: usize = 64 << 10;
/// Rounds of waiting for another request's fetch before giving up.
const ROUNDS: usize = 4;

/// What the client asked for beyond the URL.
#[derive(Debug, Default)]
pub(crate) struct Wanted {
    pub head: bool,
    pub range: Option<String>,
    pub if_range: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<String>,
}

impl Wanted {
    pub fn from_headers(method: &Method, h: &HeaderMap) -> Wanted {
        let get = |name| {
            h.get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_owned)
        };
        Wanted {
            head: method == Method::HEAD,
            range: get(header::RANGE),
            if_range: get(header::IF_RANGE),
            if_none_match: get(header::IF_NONE_MATCH),
            if_modified_since: get(header::IF_MODIFIED_SINCE),
        }
    }

    /// True when the client's copy (by ETag, else by Last-Modified) is current.
    pub fn not_modified(&self, etag: Option<&str>, last_modified: Option<&str>) -> bool {
        if let Some(inm) = &self.if_none_match {
            let Some(etag) = etag else { return false };
            return inm
                .split(',')
                .map(str::trim)
                .any(|t| t == "*" || weak(t) == weak(etag));
        }
        // Browsers send back the exact Last-Modified they were given.
        matches!((&self.if_modified_since, last_modified), (Some(a), Some(b)) if a.trim() == b)
    }
}

fn weak(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

pub(crate) async fn serve(proxy: &Arc<Proxy>, url: Url, want: Wanted) -> Result<Response, Refusal> {
    let key = Cache::key(url.as_str());
    for _ in 0..ROUNDS {
        if let Some(hot) = proxy.cache.hot(&key).filter(|h| h.meta.is_fresh()) {
            return Ok(from_memory(&hot, &want));
        }
        let cached = proxy.cache.lookup(&key);
        if let Some(meta) = cached.as_ref().filter(|m| m.is_fresh()) {
            match from_cache(&proxy.cache, &key, meta, &want).await {
                Some(response) => return Ok(response),
                // The file went away under us (evicted, or deleted by hand): fetch again.
                None => proxy.cache.remove(&key),
            }
            continue;
        }
        match proxy.cache.begin(key) {
            Begin::Leader(lead) => return lead_fetch(proxy, &url, key, cached, lead, &want).await,
            Begin::Follower(rx) => match cache::wait(rx).await {
                Outcome::Done | Outcome::Aborted => continue,
                Outcome::Failed(status) => {
                    return Err(Refusal::new(status, "upstream error"));
                }
                Outcome::Stale => {
                    if let Some(meta) = proxy.cache.lookup(&key) {
                        if let Some(response) = from_cache(&proxy.cache, &key, &meta, &want).await {
                            return Ok(response);
                        }
                    }
                }
            },
        }
    }
    Err(Refusal::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy, try again",
    ))
}

/// This request fetches for everyone waiting on `key`.
async fn lead_fetch(
    proxy: &Arc<Proxy>,
    url: &Url,
    key: Key,
    stale: Option<Arc<Meta>>,
    lead: Lead,
    want: &Wanted,
) -> Result<Response, Refusal> {
    let fetched = upstream::fetch(proxy, url, key, stale.as_deref()).await;
    match fetched {
        Err(refusal) => failed(proxy, key, stale, lead, refusal, want).await,
        Ok(Fetched::NotModified(expires)) => {
            let Some(old) = stale else {
                lead.finish(Outcome::Failed(StatusCode::NOT_FOUND));
                return Err(Refusal::new(
                    StatusCode::NOT_FOUND,
                    "unexpected 304 upstream",
                ));
            };
            let meta = proxy.cache.refresh(key, &old, expires).await.unwrap_or(old);
            lead.finish(Outcome::Done);
            from_cache(&proxy.cache, &key, &meta, want)
                .await
                .ok_or_else(|| Refusal::bad_gateway("cache entry vanished"))
        }
        Ok(Fetched::Body(mut body)) => {
            body.lead = Some(lead);
            let meta = body.meta.clone();
            if want.not_modified(meta.etag.as_deref(), meta.last_modified.as_deref()) {
                return Ok(not_modified(&meta.etag, body.cache_control()));
            }
            if want.head {
                let mut response = body.headers_response();
                *response.body_mut() = Body::empty();
                return Ok(response);
            }
            if want.range.is_some() && body.cacheable() {
                // Fill the cache, then answer the range from the file.
                body.drain().await?;
                if let Some(meta) = proxy.cache.lookup(&key) {
                    if let Some(response) = from_cache(&proxy.cache, &key, &meta, want).await {
                        return Ok(response);
                    }
                }
                return Err(Refusal::bad_gateway("image could not be cached"));
            }
            Ok(body.into_response())
        }
    }
}

/// The upstream failed: serve the stale copy when the failure is the upstream's (5xx,
/// unreachable, timeout), else pass the error on to everyone waiting.
async fn failed(
    proxy: &Arc<Proxy>,
    key: Key,
    stale: Option<Arc<Meta>>,
    lead: Lead,
    refusal: Refusal,
    want: &Wanted,
) -> Result<Response, Refusal> {
    let upstream_trouble = matches!(
        refusal.status,
        StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
    );
    if let (true, Some(meta)) = (upstream_trouble, stale) {
        if let Some(response) = from_cache(&proxy.cache, &key, &meta, want).await {
            lead.finish(Outcome::Stale);
            return Ok(response);
        }
    }
    lead.finish(Outcome::Failed(refusal.status));
    Err(refusal)
}

fn not_modified(etag: &Option<String>, cache_control: String) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    let h = response.headers_mut();
    if let Some(v) = etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&cache_control) {
        h.insert(header::CACHE_CONTROL, v);
    }
    response
}

/// What a cached entry answers to a request, before any body is read.
enum Answer {
    /// A complete answer without a body (304, 416).
    Bodiless(Response),
    /// `len` bytes from `start`, with this status (200 or 206).
    Part {
        status: StatusCode,
        start: u64,
        len: u64,
    },
}

fn answer(meta: &Meta, etag: &str, want: &Wanted) -> Answer {
    if want.not_modified(Some(etag), meta.last_modified.as_deref()) {
        return Answer::Bodiless(not_modified(
            &Some(etag.to_owned()),
            cache_control(meta.max_age()),
        ));
    }
    let range = match (&want.range, &want.if_range) {
        (Some(r), None) => parse_range(r, meta.size),
        (Some(r), Some(tag)) if tag == etag => parse_range(r, meta.size),
        _ => None,
    };
    match range {
        None => Answer::Part {
            status: StatusCode::OK,
            start: 0,
            len: meta.size,
        },
        Some(Ok((a, b))) => Answer::Part {
            status: StatusCode::PARTIAL_CONTENT,
            start: a,
            len: b - a + 1,
        },
        Some(Err(())) => Answer::Bodiless(unsatisfiable(meta.size)),
    }
}

fn cache_control(max_age: u64) -> String {
    format!("public, max-age={max_age}")
}

/// Answer from the in-memory copy: no disk access, headers cloned from the prebuilt ones.
pub(crate) fn from_memory(hot: &Hot, want: &Wanted) -> Response {
    let (status, start, len) = match answer(&hot.meta, &hot.etag, want) {
        Answer::Bodiless(response) => return response,
        Answer::Part { status, start, len } => (status, start, len),
    };
    let body = match want.head {
        true => Body::empty(),
        // `answer` keeps the span inside the body, whose length is `meta.size`.
        false => Body::from(hot.body.slice(start as usize..(start + len) as usize)),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.clone_from(&hot.headers);
    if let Ok(v) = HeaderValue::from_str(&cache_control(hot.meta.max_age())) {
        h.insert(header::CACHE_CONTROL, v);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        partial_headers(h, start, len, hot.meta.size);
    }
    response
}

fn partial_headers(h: &mut HeaderMap, start: u64, len: u64, size: u64) {
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let end = start + len - 1;
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")) {
        h.insert(header::CONTENT_RANGE, v);
    }
}

/// Answer from a cached entry (304, HEAD, 206/416 or 200); `None` if its file is gone. A
/// small body read whole is also kept in memory for the next hits.
pub(crate) async fn from_cache(
    cache: &Cache,
    key: &Key,
    meta: &Arc<Meta>,
    want: &Wanted,
) -> Option<Response> {
    let etag = meta.etag();
    let (status, start, len) = match answer(meta, &etag, want) {
        Answer::Bodiless(response) => return Some(response),
        Answer::Part { status, start, len } => (status, start, len),
    };
    let path = cache.body_path(&meta.body);
    let body = if want.head {
        tokio::fs::metadata(&path).await.ok()?;
        Body::empty()
    } else if start == 0 && len == meta.size && cache.memory_takes(len) {
        // A small cached body is almost always in the page cache: reading it inline costs
        // microseconds, less than the hop to the blocking pool that tokio::fs would take.
        let bytes = Bytes::from(std::fs::read(&path).ok()?);
        if bytes.len() as u64 != len {
            return None;
        }
        cache.remember(key, meta, bytes.clone());
        Body::from(bytes)
    } else {
        Body::from_stream(cache.read_stream(path, start, len, CHUNK).await?)
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let h = response.headers_mut();
    let mut set = |name, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, &meta.content_type);
    set(header::CONTENT_LENGTH, &meta.size.to_string());
    set(header::ETAG, &etag);
    set(header::CACHE_CONTROL, &cache_control(meta.max_age()));
    set(header::ACCEPT_RANGES, "bytes");
    if let Some(lm) = &meta.last_modified {
        set(header::LAST_MODIFIED, lm);
    }
    if status == StatusCode::PARTIAL_CONTENT {
        partial_headers(h, start, len, meta.size);
    }
    Some(response)
}

fn unsatisfiable(size: u64) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
        response.headers_mut().insert(header::CONTENT_RANGE, v);
    }
    response
}

/// One `bytes=` range: `None` to ignore the header (malformed, several ranges), `Err` when it
/// cannot be satisfied, else the inclusive byte span.
fn parse_range(header: &str, size: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if size == 0 {
        return Some(Err(()));
    }
    match (a, b) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            if n == 0 {
                return Some(Err(()));
            }
            Some(Ok((size.saturating_sub(n), size - 1)))
        }
        (a, b) => {
            let a: u64 = a.parse().ok()?;
            let b: u64 = if b.is_empty() {
                size - 1
            } else {
                b.parse().ok()?
            };
            if a >= size {
                return Some(Err(()));
            }
            if a > b {
                return None;
            }
            Some(Ok((a, b.min(size - 1))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some(Ok((0, 9))));
        assert_eq!(parse_range("bytes=90-", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=-1000", 100), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=50-1000", 100), Some(Ok((50, 99))));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("bytes=9-1", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=x-", 100), None);
    }

    #[test]
    fn conditionals() {
        let w = Wanted {
            if_none_match: Some("\"a\", W/\"b\"".into()),
            ..Wanted::default()
        };
        assert!(w.not_modified(Some("\"b\""), None));
        assert!(!w.not_modified(Some("\"c\""), None));
        assert!(!w.not_modified(None, Some("x")));
        let w = Wanted {
            if_modified_since: Some("Sun, 23 Jan 2022 15:27:25 GMT".into()),
            ..Wanted::default()
        };
        assert!(w.not_modified(None, Some("Sun, 23 Jan 2022 15:27:25 GMT")));
        assert!(!w.not_modified(None, Some("Mon, 24 Jan 2022 15:27:25 GMT")));
    }
}
