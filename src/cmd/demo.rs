//! `tidings demo`: the whole job on bundled sample feeds, with no config and no network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use tidings_demo::FixtureServer;
use tidings_engine::SyncOptions;

/// Run Tidings end to end on bundled sample feeds, served in-process: RSS, Atom, JSON Feed, a GBK
/// feed, lazy-loaded images, hostile HTML, and an image origin that refuses foreign Referers.
///
/// Writes DIR/tidings.toml, syncs it into DIR/source/_posts (Hexo layout), builds the built-in
/// site into DIR/public, then serves the site and the image proxy on ADDR until Ctrl-C. Images
/// load only through the proxy: the sample origin refuses the site's Referer. Run it twice: the
/// second run fetches with ETags and changes nothing.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo blog (created if missing).
    #[arg(long, default_value = "demo-site")]
    dir: PathBuf,
    /// Address to serve the site and the image proxy on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Stop after syncing and building instead of serving.
    #[arg(long)]
    no_serve: bool,
}

/// The fixture server's first choice of port on a fresh demo folder. Feed URLs, and therefore
/// article ids, include the port, so a later run prefers the port the folder already uses.
const FEED_PORT: u16 = 7491;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<ExitCode> {
    let port = previous_port(&args.dir).unwrap_or(FEED_PORT);
    let server = match FixtureServer::start(([127, 0, 0, 1], port).into()).await {
        Ok(s) => s,
        Err(_) => FixtureServer::start(([127, 0, 0, 1], 0).into())
            .await
            .context("starting the sample feed server")?,
    };
    // Bind first: signed image URLs must carry the address the site is really served on.
    let listener = match args.no_serve {
        true => None,
        false => Some(
            tokio::net::TcpListener::bind(args.addr)
                .await
                .with_context(|| {
                    format!("cannot listen on {} (try --addr 127.0.0.1:0)", args.addr)
                })?,
        ),
    };
    let public = match &listener {
        Some(l) => l.local_addr()?,
        None => args.addr,
    };
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let config_path = args.dir.join("tidings.toml");
    std::fs::write(&config_path, demo_config(&server, public))
        .with_context(|| format!("writing {}", config_path.display()))?;
    println!("sample feeds served at {}", server.origin());
    println!("wrote {}", config_path.display());

    let config = super::load_config(&config_path)?;
    let report = tidings_engine::sync(&config, &SyncOptions::default(), super::sync::bar()).await?;
    let code = super::sync::print_report(&report);
    // A previous demo may have served on another port: re-render posts whose image URLs moved.
    let rewrite = SyncOptions {
        rewrite: true,
        ..SyncOptions::default()
    };
    tidings_engine::sync(&config, &rewrite, std::sync::Arc::new(())).await?;
    print_posts(&config.output.dir);
    match listener {
        Some(listener) => super::serve::serve(&config, listener).await?,
        None => {
            let built = config.clone();
            let report =
                tokio::task::spawn_blocking(move || tidings_engine::build_site(&built, &()))
                    .await
                    .context("the site build stopped")??;
            println!("site: {report} in {}", config.site.out.display());
        }
    }
    Ok(code)
}

/// The sample-feed port a previous demo run in `dir` wrote into its config.
fn previous_port(dir: &Path) -> Option<u16> {
    let text = std::fs::read_to_string(dir.join("tidings.toml")).ok()?;
    let rest = text
        .split("[[feed]]")
        .nth(1)?
        .split("url = \"http://127.0.0.1:")
        .nth(1)?;
    rest.split('/').next()?.parse().ok()
}

fn demo_config(server: &FixtureServer, public: SocketAddr) -> String {
    let mut c = format!(
        r#"# Written by `tidings demo`. Feeds are served in-process by the demo itself.
[site]
title = "Tidings demo"
url = "http://{public}/"
timezone = "Asia/Shanghai"
out = "public"

[output]
format = "hexo"
dir = "source/_posts"

[images]
mode = "proxy"
proxy = "builtin"

[proxy]
public_url = "http://{public}/img"
key = "demo-key-not-secret"
allow_private = ["{origin_host}"]
"#,
        origin_host = server.addr(),
    );
    c.push_str(&server.feeds_toml());
    c
}

fn print_posts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    println!("{} posts in {}:", names.len(), dir.display());
    for n in names.iter().take(20) {
        println!("  {n}");
    }
}
