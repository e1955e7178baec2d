//! `tidings demo`: the whole job on bundled sample feeds, with no config and no network.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use tidings_demo::{FixtureServer, FEEDS};
use tidings_engine::SyncOptions;

/// Run Tidings end to end on bundled sample feeds, served in-process: RSS, Atom, JSON Feed, a GBK
/// feed, lazy-loaded images, hostile HTML, and an image origin that refuses foreign Referers.
///
/// Writes DIR/tidings.toml, syncs it into DIR/source/_posts (Hexo layout), and prints what it did.
/// Run it twice: the second run fetches with ETags and changes nothing.
#[derive(clap::Args)]
pub struct Args {
    /// Folder for the demo blog (created if missing).
    #[arg(long, default_value = "demo-site")]
    dir: PathBuf,
    /// Address where the image proxy will be reachable; signed image URLs point here.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Do not serve after syncing. (Serving arrives with `tidings serve`; today the demo always
    /// stops after the sync.)
    #[arg(long)]
    no_serve: bool,
}

/// The fixture server prefers this port so feed URLs, and therefore article ids, stay the same
/// from one demo run to the next.
const FEED_PORT: u16 = 7491;

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(demo(args))
}

async fn demo(args: Args) -> anyhow::Result<ExitCode> {
    let server = match FixtureServer::start(([127, 0, 0, 1], FEED_PORT).into()).await {
        Ok(s) => s,
        Err(_) => FixtureServer::start(([127, 0, 0, 1], 0).into())
            .await
            .context("starting the sample feed server")?,
    };
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let config_path = args.dir.join("tidings.toml");
    std::fs::write(&config_path, demo_config(&server, args.addr))
        .with_context(|| format!("writing {}", config_path.display()))?;
    println!("sample feeds served at {}", server.origin());
    println!("wrote {}", config_path.display());

    let config = super::load_config(&config_path)?;
    let report = tidings_engine::sync(&config, &SyncOptions::default(), super::sync::bar()).await?;
    let code = super::sync::print_report(&report);
    print_posts(&config.output.dir);
    Ok(code)
}

fn demo_config(server: &FixtureServer, public: SocketAddr) -> String {
    let mut c = format!(
        r#"# Written by `tidings demo`. Feeds are served in-process by the demo itself.
[site]
title = "Tidings demo"
url = "http://{public}/"
timezone = "Asia/Shanghai"

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
    for f in FEEDS {
        let cats: Vec<String> = f.categories.iter().map(|c| format!("{c:?}")).collect();
        let _ = write!(
            c,
            "\n[[feed]]\nname = {:?}\nurl = {:?}\ncategories = [{}]\n",
            f.name,
            server.url(f.path),
            cats.join(", ")
        );
        if let Some(a) = f.author {
            let _ = writeln!(c, "author = {a:?}");
        }
    }
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
