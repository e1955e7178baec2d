//! `tidings proxy`: Tidings' own image proxy.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

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
    let addr = args.addr.unwrap_or(config.proxy.addr);
    super::runtime()?.block_on(async {
        let router = tidings_engine::proxy_router(&config)?;
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
