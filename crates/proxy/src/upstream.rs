//! One upstream fetch: vetted request, status mapping, type checks, and the body stream that
//! is capped, deadlined and written to the cache as it goes to the client.

use std::pin::Pin;
use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http::header::{self, HeaderMap, HeaderValue};
use http::StatusCode;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{timeout, timeout_at, Instant};
use url::Url;

use crate::cache::{now, Key, Lead, Meta, Outcome, Writer};
use crate::content::{self, SNIFF_LEN};
use crate::handler::{from_net, Proxy};
use crate::respond::Refusal;

/// Largest piece of body passed to the client and the disk (see [`Streaming::pull`]).
const PIECE: usize = 64 << 10;

/// Redirect hops followed upstream (each re-vetted by the client).
const MAX_REDIRECTS: usize = 3;

type Chunks = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

pub(crate) enum Fetched {
    /// 304 to our revalidation: the cached body is fresh until this Unix time.
    NotModified(u64),
    Body(Box<Streaming>),
}

/// GET `url` upstream (conditionally when a stale copy exists), up to the point where the
/// body is known to be an image of acceptable size.
pub(crate) async fn fetch(
    proxy: &Arc<Proxy>,
    url: &Url,
    key: Key,
    stale: Option<&Meta>,
) -> Result<Fetched, Refusal> {
    let limits = &proxy.limits;
    let permit = timeout(limits.queue_wait, proxy.slots.clone().acquire_owned())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| Refusal::new(StatusCode::TOO_MANY_REQUESTS, "too many fetches at once"))?;
    let deadline = Instant::now() + limits.timeout;
    let headers = request_headers(proxy, url, stale);
    let response = timeout_at(
        deadline,
        proxy.client.get(url.as_str(), headers, MAX_REDIRECTS),
    )
    .await
    .map_err(|_| timed_out())?
    .map_err(|e| from_net(&e))?;
    let status = response.status();
    let h = response.headers().clone();
    let ttl = ttl(&h, limits.default_ttl, limits.max_ttl);
    match status {
        StatusCode::OK => {}
        StatusCode::NOT_MODIFIED if stale.is_some() => {
            return Ok(Fetched::NotModified(now() + ttl.unwrap_or(0)));
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            proxy.cache.remove(&key);
            return Err(Refusal::new(StatusCode::NOT_FOUND, "not found upstream"));
        }
        s if s.is_server_error() => return Err(Refusal::bad_gateway(format!("upstream {s}"))),
        // Leftover redirects, other client errors and odd 2xx: nothing to show.
        s => return Err(Refusal::new(StatusCode::NOT_FOUND, format!("upstream {s}"))),
    }
    let length = response.content_length();
    if length.is_some_and(|n| n > limits.max_bytes) {
        return Err(Refusal::bad_gateway("image larger than the size cap"));
    }
    let declared = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let mut chunks: Chunks = Box::pin(response.bytes_stream());
    let head = read_head(&mut chunks, deadline, limits.max_bytes).await?;
    if head.is_empty() {
        return Err(Refusal::bad_gateway("empty body upstream"));
    }
    let content_type = content::decide(declared, &head).map_err(Refusal::bad_gateway)?;
    let writer = match ttl {
        Some(_) => proxy.cache.writer().ok(),
        None => None,
    };
    let text = |name| {
        h.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let stored = now();
    let meta = Meta {
        url: url.to_string(),
        body: String::new(),
        size: 0,
        content_type: content_type.to_owned(),
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
        stored,
        expires: stored + ttl.unwrap_or(0),
    };
    Ok(Fetched::Body(Box::new(Streaming {
        proxy: proxy.clone(),
        key,
        meta,
        ttl,
        length,
        seen: head.len() as u64,
        head: Some(head),
        chunks,
        rest: Bytes::new(),
        deadline,
        writer,
        lead: None,
        permit: Some(permit),
        done: false,
    })))
}

/// What goes upstream: `Accept: image/*`, the configured Referer if any, validators when
/// revalidating. Nothing from the client (no cookies, no X-Forwarded-For, no Accept-Encoding);
/// the User-Agent is the client's fixed one.
fn request_headers(proxy: &Proxy, url: &Url, stale: Option<&Meta>) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::ACCEPT, HeaderValue::from_static("image/*"));
    if let Some(referer) = url.host_str().and_then(|host| proxy.referers.find(host)) {
        h.insert(header::REFERER, referer.clone());
    }
    if let Some(old) = stale {
        let validators = [
            (header::IF_NONE_MATCH, &old.etag),
            (header::IF_MODIFIED_SINCE, &old.last_modified),
        ];
        for (name, value) in validators {
            if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                h.insert(name, v);
            }
        }
    }
    h
}

/// Freshness in seconds from the upstream's Cache-Control; `None` when it must not be stored.
fn ttl(h: &HeaderMap, default: u64, max: u64) -> Option<u64> {
    let cc = h
        .get_all(header::CACHE_CONTROL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_ascii_lowercase();
    let mut max_age = None;
    for d in cc.split(',').map(str::trim) {
        match d {
            "no-store" | "private" => return None,
            "no-cache" => max_age = Some(0),
            _ => {
                if let Some(n) = d
                    .strip_prefix("max-age=")
                    .or_else(|| d.strip_prefix("s-maxage="))
                {
                    if let Ok(n) = n.trim_matches('"').parse::<u64>() {
                        max_age = Some(max_age.map_or(n, |m: u64| m.min(n)));
                    }
                }
            }
        }
    }
    Some(max_age.unwrap_or(default).min(max))
}

fn timed_out() -> Refusal {
    Refusal::new(StatusCode::GATEWAY_TIMEOUT, "upstream timed out")
}

/// The first bytes, enough to sniff (or the whole body when shorter), within the deadline.
async fn read_head(chunks: &mut Chunks, deadline: Instant, max: u64) -> Result<Bytes, Refusal> {
    let mut head = BytesMut::new();
    while head.len() < SNIFF_LEN {
        match timeout_at(deadline, chunks.next()).await {
            Err(_) => return Err(timed_out()),
            Ok(None) => break,
            Ok(Some(Err(e))) if e.is_timeout() => return Err(timed_out()),
            Ok(Some(Err(_))) => return Err(Refusal::bad_gateway("upstream body failed")),
            Ok(Some(Ok(b))) => head.extend_from_slice(&b),
        }
        if head.len() as u64 > max {
            return Err(Refusal::bad_gateway("image larger than the size cap"));
        }
    }
    Ok(head.freeze())
}

/// An upstream body on its way to the client and into the cache.
pub(crate) struct Streaming {
    proxy: Arc<Proxy>,
    key: Key,
    pub meta: Meta,
    ttl: Option<u64>,
    length: Option<u64>,
    head: Option<Bytes>,
    chunks: Chunks,
    /// What is left of the last upstream chunk (see [`Streaming::pull`]).
    rest: Bytes,
    deadline: Instant,
    seen: u64,
    writer: Option<Writer>,
    /// Set by the caller: the collapsed-fetch slot to release when the body ends.
    pub lead: Option<Lead>,
    permit: Option<OwnedSemaphorePermit>,
    done: bool,
}

impl Streaming {
    pub fn cacheable(&self) -> bool {
        self.writer.is_some()
    }

    pub fn cache_control(&self) -> String {
        match self.ttl {
            Some(t) => format!("public, max-age={t}"),
            None => "no-store".into(),
        }
    }

    /// A 200 with the image's headers and an empty body.
    pub fn headers_response(&self) -> Response {
        let mut response = Response::new(Body::empty());
        let h = response.headers_mut();
        let mut set = |name, value: &str| {
            if let Ok(v) = HeaderValue::from_str(value) {
                h.insert(name, v);
            }
        };
        set(header::CONTENT_TYPE, &self.meta.content_type);
        set(header::CACHE_CONTROL, &self.cache_control());
        if let Some(n) = self.length {
            set(header::CONTENT_LENGTH, &n.to_string());
        }
        if let Some(etag) = &self.meta.etag {
            set(header::ETAG, etag);
        }
        if let Some(lm) = &self.meta.last_modified {
            set(header::LAST_MODIFIED, lm);
        }
        response
    }

    /// The streaming 200 response.
    pub fn into_response(self) -> Response {
        let mut response = self.headers_response();
        let stream = futures_util::stream::unfold(self, |mut s| async move {
            s.next().await.map(|item| (item, s))
        });
        *response.body_mut() = Body::from_stream(stream);
        response
    }

    /// Read the whole body into the cache without a client.
    pub async fn drain(mut self) -> Result<(), Refusal> {
        while let Some(item) = self.next().await {
            if item.is_err() {
                return Err(Refusal::bad_gateway("upstream body failed"));
            }
        }
        Ok(())
    }

    async fn next(&mut self) -> Option<std::io::Result<Bytes>> {
        if self.done {
            return None;
        }
        let chunk = match self.head.take() {
            Some(head) => Ok(Some(head)),
            None => self.pull().await,
        };
        match chunk {
            Ok(Some(bytes)) => {
                // With a Content-Length the client side stops polling after the last byte, so
                // the end of the body is seen here rather than as the end of the stream. The
                // last chunk is written by `complete`, which a client hanging up cannot cancel.
                if self.length.is_some_and(|n| self.seen >= n) {
                    self.done = true;
                    self.complete(Some(bytes.clone())).await;
                } else if let Some(w) = self.writer.as_mut() {
                    if w.write(&bytes).await.is_err() {
                        // A full disk must not break the response: just stop caching it.
                        self.writer = None;
                    }
                }
                Some(Ok(bytes))
            }
            Ok(None) => {
                self.done = true;
                self.complete(None).await;
                None
            }
            Err((status, why)) => {
                self.done = true;
                self.writer = None;
                self.permit = None;
                if let Some(lead) = self.lead.take() {
                    lead.finish(Outcome::Failed(status));
                }
                Some(Err(std::io::Error::other(why)))
            }
        }
    }

    /// The next piece of the upstream body, with the cap and the deadline applied.
    ///
    /// Pieces are copies of at most [`PIECE`] bytes. An upstream chunk is a slice of the HTTP
    /// client's read buffer (up to ~400 kB): handed on as is, it pins that whole buffer while
    /// it waits in the client's write queue or for the disk, and the next read needs a new
    /// buffer. Copied in small pieces, the read buffer is free again as soon as the chunk has
    /// been handed out, and each fetch holds about one buffer.
    async fn pull(&mut self) -> Result<Option<Bytes>, (StatusCode, &'static str)> {
        while self.rest.is_empty() {
            match timeout_at(self.deadline, self.chunks.next()).await {
                Err(_) => return Err((StatusCode::GATEWAY_TIMEOUT, "upstream deadline passed")),
                Ok(None) => return Ok(None),
                Ok(Some(Err(_))) => return Err((StatusCode::BAD_GATEWAY, "upstream body failed")),
                Ok(Some(Ok(bytes))) => {
                    if self.seen + bytes.len() as u64 > self.proxy.limits.max_bytes {
                        return Err((StatusCode::BAD_GATEWAY, "image larger than the size cap"));
                    }
                    self.rest = bytes;
                }
            }
        }
        let n = self.rest.len().min(PIECE);
        let piece = Bytes::copy_from_slice(&self.rest[..n]);
        // An empty slice is a fresh `Bytes`: the read buffer is released here.
        self.rest = self.rest.slice(n..);
        self.seen += n as u64;
        Ok(Some(piece))
    }

    /// The body ended cleanly (`tail` is its last chunk, not yet written): store it and release
    /// the waiters. This runs as its own task so that a client hanging up right after the last
    /// byte cannot cancel it halfway.
    async fn complete(&mut self, tail: Option<Bytes>) {
        self.permit = None;
        let writer = self.writer.take();
        let lead = self.lead.take();
        let proxy = self.proxy.clone();
        let (key, meta) = (self.key, self.meta.clone());
        let task = tokio::spawn(async move {
            let outcome = match writer {
                Some(writer) => store(&proxy, key, writer, meta, tail).await,
                None => Outcome::Aborted,
            };
            if let Some(lead) = lead {
                lead.finish(outcome);
            }
        });
        let _ = task.await;
    }
}

async fn store(
    proxy: &Proxy,
    key: Key,
    mut writer: Writer,
    meta: Meta,
    tail: Option<Bytes>,
) -> Outcome {
    if let Some(tail) = tail {
        if writer.write(&tail).await.is_err() {
            return Outcome::Aborted;
        }
    }
    match proxy.cache.commit(key, writer, meta).await {
        Ok(Some(_)) => Outcome::Done,
        _ => Outcome::Aborted,
    }
}
