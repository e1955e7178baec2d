//! Response helpers: refusals, and the security headers every response carries.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::header::{self, HeaderName, HeaderValue};
use http::StatusCode;

/// The CSP on every response. It is the one SVG needs (no scripts, no loads, sandboxed), and
/// harmless on raster images and error pages.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// A request the proxy answers with an error status and a short plain-text reason.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub reason: String,
}

impl Refusal {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Refusal {
            status,
            reason: reason.into(),
        }
    }
    pub fn bad_request(reason: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, reason)
    }
    pub fn forbidden(reason: impl Into<String>) -> Self {
        Refusal::new(StatusCode::FORBIDDEN, reason)
    }
    pub fn bad_gateway(reason: impl Into<String>) -> Self {
        Refusal::new(StatusCode::BAD_GATEWAY, reason)
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        // Client errors may be cached briefly by a CDN in front; overload and upstream
        // trouble must not be.
        let cache = match self.status {
            StatusCode::BAD_REQUEST | StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => {
                "public, max-age=60"
            }
            _ => "no-store",
        };
        let mut response = Response::new(Body::from(format!(
            "{} {}\n",
            self.status.as_u16(),
            self.reason
        )));
        *response.status_mut() = self.status;
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            h.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        }
        response
    }
}

/// The headers every response carries, whatever its status.
pub(crate) fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "deny"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "cross-origin",
        ),
    ]
    .map(|(name, value)| (name, HeaderValue::from_static(value)))
}

/// Stamp the security headers on a response, and make sure no cookie leaves. Every response
/// of the proxy goes through here (see `handler::handle`).
pub(crate) fn secure(response: &mut Response) {
    let h = response.headers_mut();
    h.remove(header::SET_COOKIE);
    for (name, value) in security_headers() {
        h.insert(name, value);
    }
}
