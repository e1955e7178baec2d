//! From a request to the target URL: the signed form `/{sig}/{b64}` and the seed-compatible
//! unsigned form `/?http://host/path.jpg`.

use percent_encoding::percent_decode_str;

use crate::respond::Refusal;

/// What the request path asks for.
pub(crate) enum Route<'a> {
    Health,
    /// `/?target`: the raw query.
    Unsigned(&'a str),
    /// `/{sig}/{b64}`.
    Signed {
        sig: &'a str,
        b64: &'a str,
    },
    NotFound,
}

/// Split the path (relative to where the router is mounted) into a route.
pub(crate) fn route<'a>(path: &'a str, query: Option<&'a str>) -> Route<'a> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Route::Unsigned(query.unwrap_or(""));
    }
    if rest == "healthz" {
        return Route::Health;
    }
    match rest.split_once('/') {
        Some((sig, b64)) if !b64.contains('/') => Route::Signed { sig, b64 },
        _ => Route::NotFound,
    }
}

/// The target of the unsigned form. The raw query is the URL; a query that is itself
/// percent-encoded (`http%3A%2F%2F…`) is decoded exactly once. A target's own `?a=b&c=d`
/// stays part of it.
pub(crate) fn unsigned_target(query: &str) -> Result<String, Refusal> {
    if query.is_empty() {
        return Err(Refusal::bad_request(
            "no target URL: use /?http://host/image.jpg",
        ));
    }
    let target = if has_http_scheme(query, ':') {
        query.to_owned()
    } else if has_http_scheme(query, '%') {
        let decoded = percent_decode_str(query)
            .decode_utf8()
            .map_err(|_| Refusal::bad_request("the encoded target is not UTF-8"))?;
        decoded.into_owned()
    } else {
        return Err(Refusal::bad_request(
            "only http and https targets are proxied",
        ));
    };
    if !has_http_scheme(&target, ':') {
        return Err(Refusal::bad_request(
            "only http and https targets are proxied",
        ));
    }
    Ok(repair_slashes(&target))
}

/// The target of the signed form, when `sig` is valid under one of `keys` (current first).
pub(crate) fn signed_target(keys: &[Vec<u8>], sig: &str, b64: &str) -> Result<String, Refusal> {
    if sig.is_empty() || b64.is_empty() {
        return Err(Refusal::forbidden("missing signature"));
    }
    keys.iter()
        .find_map(|key| tidings_model::image::verify(key, sig, b64))
        .ok_or_else(|| Refusal::forbidden("bad signature"))
}

/// `http:` or `https:` (case-insensitive), followed by `sep` (`:` raw, `%` for `%3A`).
fn has_http_scheme(s: &str, sep: char) -> bool {
    let lower: String = s.chars().take(6).collect::<String>().to_ascii_lowercase();
    let colon = match sep {
        ':' => ":",
        _ => "%",
    };
    lower.starts_with(&format!("http{colon}")) || lower.starts_with(&format!("https{colon}"))
}

/// `http:/host/x` (one slash, as some CDNs and path normalisers leave it) → `http://host/x`.
fn repair_slashes(target: &str) -> String {
    let Some((scheme, rest)) = target.split_once(':') else {
        return target.to_owned();
    };
    if rest.starts_with('/') && !rest.starts_with("//") {
        format!("{scheme}:/{rest}")
    } else {
        target.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_and_encoded_queries() {
        let raw = "http://zkres1.myzaker.com/a.jpg?x=1&y=%2F";
        assert_eq!(unsigned_target(raw).unwrap(), raw);
        assert_eq!(
            unsigned_target("http%3A%2F%2Fa.example%2Fb.jpg%3Fq%3D1%26r%3D2").unwrap(),
            "http://a.example/b.jpg?q=1&r=2"
        );
        // Decoded once: a doubly encoded target keeps its inner encoding.
        assert_eq!(
            unsigned_target("https%3A%2F%2Fa.example%2Fx%2520y.jpg").unwrap(),
            "https://a.example/x%20y.jpg"
        );
        assert_eq!(
            unsigned_target("HTTPS://A.example/x").unwrap(),
            "HTTPS://A.example/x"
        );
    }

    #[test]
    fn one_slash_is_repaired() {
        assert_eq!(
            unsigned_target("http:/a.example/x.jpg").unwrap(),
            "http://a.example/x.jpg"
        );
    }

    #[test]
    fn other_schemes_are_refused_before_parsing() {
        for q in [
            "",
            "gopher://127.0.0.1/",
            "file:///etc/passwd",
            "ftp%3A%2F%2Fx",
            "//a/b",
            "%ff",
        ] {
            assert!(unsigned_target(q).is_err(), "{q}");
        }
    }

    #[test]
    fn routes() {
        assert!(matches!(
            route("/", Some("http://a/")),
            Route::Unsigned("http://a/")
        ));
        assert!(matches!(route("/healthz", None), Route::Health));
        assert!(matches!(
            route("/s/b", None),
            Route::Signed { sig: "s", b64: "b" }
        ));
        assert!(matches!(
            route("//b", None),
            Route::Signed { sig: "", b64: "b" }
        ));
        assert!(matches!(route("/a/b/c", None), Route::NotFound));
        assert!(matches!(route("/abc", None), Route::NotFound));
    }
}
