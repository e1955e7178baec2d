//! `tidings proxy`: Tidings' own image proxy.

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tidings_config::KeySource;
use tidings_store::Store;

/// Serve the image proxy: signed URLs (`/{sig}/{b64}`), the seed-compatible unsigned form
/// (`/?http://host/x.jpg`, only for images Tidings published or `[proxy] allow_hosts`), and
/// `/healthz`. Put a CDN or your web server in front of it.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on (default: `[proxy] addr`, else 127.0.0.1:8081).
    #[arg(long, value_name = "HOST:PORT")]
    addr: Option<std::net::SocketAddr>,
}

pub fn run(config: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    let p = &config.proxy;
    let key = tidings_engine::proxy_key(&config)?;
    let mut opts = tidings_proxy::Options::new(
        key,
        p.cache_dir
            .clone()
            .unwrap_or_else(|| config.state_dir.join("image-cache")),
    );
    opts.old_keys = p
        .old_keys
        .iter()
        .map(old_key)
        .collect::<anyhow::Result<_>>()?;
    opts.allow_private = p.allow_private.clone();
    opts.allow_hosts = p.allow_hosts.clone();
    opts.referer = p.referer.clone();
    opts.cache_size = p.cache_size;
    opts.max_bytes = p.max_bytes;
    opts.timeout = p.timeout;
    opts.max_concurrent = p.max_concurrent;
    opts.rate_limit = p.rate_limit;
    // SqliteStore is Send but not Sync: one connection behind a lock, one indexed lookup each.
    let store = Mutex::new(tidings_engine::open_store(&config)?);
    let published: tidings_proxy::Published = Arc::new(move |url: &str| {
        let store = store.lock().unwrap_or_else(|e| e.into_inner());
        store.is_published_image(url).unwrap_or(false)
    });
    let addr = args.addr.unwrap_or(p.addr);
    // Cache writes go through tokio's blocking pool; a small pool keeps thread count (and the
    // malloc arenas that come with threads) bounded when many large images stream at once.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let router =
            tidings_proxy::router(opts, published, Arc::new(tidings_proxy::SystemResolver))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        eprintln!(
            "image proxy listening on http://{addr} (public URL {})",
            config.proxy.public_url
        );
        tokio::select! {
            r = tidings_proxy::serve(listener, router, tidings_proxy::ServeOptions::default()) => {
                r.context("serving the image proxy")?;
            }
            _ = tokio::signal::ctrl_c() => {}
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn old_key(source: &KeySource) -> anyhow::Result<Vec<u8>> {
    match source {
        KeySource::Literal(k) => Ok(k.as_bytes().to_vec()),
        KeySource::Env(name) => std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(String::into_bytes)
            .with_context(|| format!("proxy.old_keys says env:{name}, but {name} is not set")),
        KeySource::Generated => anyhow::bail!("proxy.old_keys: an old key must be given"),
    }
}
