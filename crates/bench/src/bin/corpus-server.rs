//! Serves the benchmark corpus on loopback with ETags (304 on a match), and writes a
//! `tidings.toml` that subscribes to every feed.
//!
//! ```text
//! corpus-server --feeds 1000 --config /tmp/bench/tidings.toml [--port 0]
//! ```
//!
//! Prints `ready http://127.0.0.1:PORT <bytes>` once serving, then runs until killed.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use tidings_bench::{corpus, FeedFile, Shape};

#[derive(Debug, thiserror::Error)]
enum ServerError {
    #[error(
        "usage: corpus-server --feeds N --config PATH [--port P] [--articles N] [--bytes N] ({0})"
    )]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

struct Args {
    shape: Shape,
    port: u16,
    config: PathBuf,
}

fn args() -> Result<Args, ServerError> {
    let mut shape = Shape::default();
    let (mut port, mut config) = (0u16, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| ServerError::Usage(format!("{flag} needs a value")))?;
        let number = || {
            value
                .parse::<usize>()
                .map_err(|_| ServerError::Usage(format!("{flag} {value:?} is not a number")))
        };
        match flag.as_str() {
            "--feeds" => shape.feeds = number()?,
            "--articles" => shape.articles = number()?,
            "--bytes" => shape.article_bytes = number()?,
            "--port" => {
                port = u16::try_from(number()?)
                    .map_err(|_| ServerError::Usage(format!("bad port {value}")))?
            }
            "--config" => config = Some(PathBuf::from(value)),
            other => return Err(ServerError::Usage(format!("unknown flag {other}"))),
        }
    }
    let config = config.ok_or_else(|| ServerError::Usage("--config is required".into()))?;
    Ok(Args {
        shape,
        port,
        config,
    })
}

/// The config `bench/sync.sh` runs: every feed on one host, so `per_host` is raised to the
/// global limit.
fn config_text(origin: &str, feeds: &[FeedFile]) -> String {
    let mut c = String::from(
        "[site]\ntimezone = \"Asia/Shanghai\"\n\n[output]\nformat = \"hexo\"\ndir = \"source/_posts\"\n\n\
         [images]\nproxy = \"https://img.example.com/?{url}\"\n\n[fetch]\nconcurrency = 32\nper_host = 32\n",
    );
    for (n, f) in feeds.iter().enumerate() {
        let _ = write!(
            c,
            "\n[[feed]]\nname = \"bench-{n}\"\nurl = \"{origin}{}\"\ncategories = [\"基准\", \"频道{}\"]\n",
            f.path,
            n % 50
        );
    }
    c
}

async fn feed(
    State(feeds): State<Arc<Vec<FeedFile>>>,
    Path(n): Path<usize>,
    headers: HeaderMap,
) -> Response {
    let Some(f) = feeds.get(n) else {
        return status(StatusCode::NOT_FOUND);
    };
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == f.etag));
    let builder = Response::builder().header(header::ETAG, &f.etag);
    let response = if matches {
        builder.status(StatusCode::NOT_MODIFIED).body(Body::empty())
    } else {
        builder
            .header(header::CONTENT_TYPE, f.content_type)
            .body(Body::from(f.body.clone()))
    };
    response.unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = code;
    r
}

#[tokio::main]
async fn main() -> Result<(), ServerError> {
    let args = args()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|source| ServerError::Io {
            path: format!("127.0.0.1:{}", args.port),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Io {
        path: "listener".into(),
        source,
    })?;
    let origin = format!("http://{addr}");
    let feeds = corpus(args.shape, &origin);
    let bytes: usize = feeds.iter().map(|f| f.body.len()).sum();
    std::fs::write(&args.config, config_text(&origin, &feeds)).map_err(|source| {
        ServerError::Io {
            path: args.config.display().to_string(),
            source,
        }
    })?;
    let app = axum::Router::new()
        .route("/feed/{n}", axum::routing::get(feed))
        .with_state(Arc::new(feeds));
    println!("ready {origin} {bytes}");
    axum::serve(listener, app)
        .await
        .map_err(|source| ServerError::Io {
            path: origin,
            source,
        })
}
