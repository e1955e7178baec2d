//! `tidings serve`: the built site and the image proxy on one port.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tidings_config::Config;

/// Serve the built-in site with the image proxy under `/img/` on one port, so `[proxy]
/// public_url` can be the site itself (`https://news.example.com/img`).
///
/// The site is built first, then rebuilt whenever the store changes (after a `tidings sync`
/// from cron, say). Pages get ETags (304 on revalidation) and gzip.
#[derive(clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
}

pub fn run(config: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    super::runtime()?.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        serve(&config, listener).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Builds the site, then serves it and the proxy on `listener` until Ctrl-C.
pub async fn serve(config: &Config, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    rebuild(config).await?;
    let router = tidings_site::serve::router(config.site.out.clone())
        .nest_service("/img", tidings_engine::proxy_router(config)?);
    let addr = listener.local_addr()?;
    println!(
        "serving {} on http://{addr}/ (images under /img/)",
        config.site.out.display()
    );
    let watcher = tokio::spawn(watch_store(config.clone()));
    let options = tidings_proxy::ServeOptions::default();
    tokio::select! {
        r = tidings_proxy::serve(listener, router, options) => r.context("serving the site")?,
        _ = tokio::signal::ctrl_c() => {}
    }
    watcher.abort();
    Ok(())
}

async fn rebuild(config: &Config) -> anyhow::Result<()> {
    let config = config.clone();
    let report = tokio::task::spawn_blocking(move || tidings_engine::build_site(&config, &()))
        .await
        .context("the site build stopped")??;
    println!("site: {report}");
    Ok(())
}

/// Rebuilds the site when the store's files change. Polling keeps this dependency-free and
/// works on every filesystem; a build that changes nothing writes nothing.
async fn watch_store(config: Config) {
    let db = config.state_dir.join("tidings.db");
    let mut seen = stamp(&db);
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = stamp(&db);
        if now != seen {
            seen = now;
            if let Err(e) = rebuild(&config).await {
                eprintln!("rebuild failed: {e:#}");
            }
        }
    }
}

/// Modification times of the database and its WAL: any commit changes one of them.
fn stamp(db: &Path) -> [Option<SystemTime>; 2] {
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    [db, wal.as_path()].map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
}
