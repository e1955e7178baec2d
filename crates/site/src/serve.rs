//! Serves the built site: content types, ETag / 304, gzip, the site's own 404 page.
//!
//! Paths are percent-decoded once and resolved under the site folder; anything that would
//! leave it (`..`, absolute components, NUL) or names a dot-file is a 404, never a read outside.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::Router;
use flate2::write::GzEncoder;
use flate2::Compression;

/// A router that serves the files under `root`.
pub fn router(root: PathBuf) -> Router {
    let root = Arc::new(root);
    Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
        let root = root.clone();
        async move {
            let root = root.clone();
            tokio::task::spawn_blocking(move || respond(&root, &method, &uri, &headers))
                .await
                .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
        }
    })
}

fn respond(root: &Path, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED);
    }
    let Some(path) = resolve(root, uri.path()) else {
        return not_found(root, method, headers);
    };
    match std::fs::read(&path) {
        Ok(bytes) => file(&path, bytes, StatusCode::OK, method, headers),
        Err(_) => not_found(root, method, headers),
    }
}

/// The file a URL path names: `dir/` → `dir/index.html`; `dir` (no slash) → `dir/index.html` too.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut path = root.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            // Dot-files (the build manifest, editor leftovers) are not part of the site.
            Component::Normal(part) if part.to_string_lossy().starts_with('.') => return None,
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    path.is_file().then_some(path)
}

fn not_found(root: &Path, method: &Method, headers: &HeaderMap) -> Response {
    let page = root.join("404.html");
    match std::fs::read(&page) {
        Ok(bytes) => file(&page, bytes, StatusCode::NOT_FOUND, method, headers),
        Err(_) => status(StatusCode::NOT_FOUND),
    }
}

fn file(
    path: &Path,
    bytes: Vec<u8>,
    code: StatusCode,
    method: &Method,
    headers: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", &tidings_model::hex(&sha256(&bytes))[..32]);
    let builder = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::VARY, "Accept-Encoding");
    if code == StatusCode::OK && if_none_match(headers, &etag) {
        return builder
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .expect("valid");
    }
    let mime = content_type(path);
    let builder = builder.status(code).header(header::CONTENT_TYPE, mime);
    let gzip = compressible(mime) && bytes.len() > 512 && accepts_gzip(headers);
    let (builder, body) = if gzip {
        (
            builder.header(header::CONTENT_ENCODING, "gzip"),
            gzip_bytes(&bytes),
        )
    } else {
        (builder, bytes)
    };
    let builder = builder.header(header::CONTENT_LENGTH, body.len());
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(body)
    };
    builder.body(body).expect("valid")
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').any(|e| {
                let mut parts = e.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused =
                    parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
                name.eq_ignore_ascii_case("gzip") && !refused
            })
        })
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "atom" => "application/atom+xml",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn compressible(mime: &str) -> bool {
    mime.starts_with("text/")
        || mime.starts_with("application/") && mime != "application/octet-stream"
        || mime == "image/svg+xml"
}

fn gzip_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut z = GzEncoder::new(Vec::with_capacity(bytes.len() / 3), Compression::fast());
    z.write_all(bytes).expect("writing to a Vec cannot fail");
    z.finish().expect("writing to a Vec cannot fail")
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).to_vec()
}

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::empty())
        .expect("valid")
}

/// Decodes `%XX` escapes once; `None` if the result is not UTF-8 or holds a NUL.
fn percent_decode(path: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .ok()?;
    (!decoded.contains('\0')).then(|| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("categories/新媒体")).unwrap();
        std::fs::write(dir.path().join("index.html"), "<h1>home</h1>".repeat(100)).unwrap();
        std::fs::write(dir.path().join("categories/新媒体/index.html"), "cat").unwrap();
        std::fs::write(dir.path().join("404.html"), "gone").unwrap();
        std::fs::write(dir.path().join("style.css"), "body{}").unwrap();
        dir
    }

    fn get(root: &Path, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.insert(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        respond(root, &Method::GET, &path.parse().unwrap(), &h)
    }

    #[test]
    fn serves_index_cjk_paths_and_content_types() {
        let dir = site();
        let r = get(dir.path(), "/", &[]);
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let r = get(dir.path(), "/categories/%E6%96%B0%E5%AA%92%E4%BD%93/", &[]);
        assert_eq!(r.status(), 200);
        let r = get(dir.path(), "/style.css", &[]);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/css; charset=utf-8");
    }

    #[test]
    fn etag_gives_304_and_gzip_is_negotiated() {
        let dir = site();
        let r = get(dir.path(), "/", &[("accept-encoding", "br, gzip")]);
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_string();
        let r = get(dir.path(), "/", &[("if-none-match", &etag)]);
        assert_eq!(r.status(), 304);
        let r = get(dir.path(), "/", &[("accept-encoding", "gzip;q=0")]);
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
    }

    #[test]
    fn traversal_and_missing_files_get_the_404_page() {
        let dir = site();
        let outside = dir.path().parent().unwrap().join("secret.txt");
        std::fs::write(&outside, "secret").ok();
        for path in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/a/%2E%2E/%2E%2E/secret.txt",
            "/nope",
            "/%00",
        ] {
            let r = get(dir.path(), path, &[]);
            assert_eq!(r.status(), 404, "{path}");
        }
        let r = respond(
            dir.path(),
            &Method::POST,
            &"/".parse().unwrap(),
            &HeaderMap::new(),
        );
        assert_eq!(r.status(), 405);
    }
}
