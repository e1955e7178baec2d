//! `tidings sign URL`: the builtin proxy URL for an image.

use std::path::Path;
use std::process::ExitCode;

use tidings_model::image::ImagePolicy;

/// Print the signed URL of Tidings' own image proxy for URL.
#[derive(clap::Args)]
pub struct Args {
    /// The image URL to sign.
    url: String,
}

pub fn run(config: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    let url = url::Url::parse(&args.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| anyhow::anyhow!("{:?} is not an http(s) URL", args.url))?;
    let policy = ImagePolicy::Builtin {
        public_url: config.proxy.public_url.clone(),
        key: tidings_engine::proxy_key(&config)?,
    };
    println!("{}", policy.apply(url.as_str()));
    Ok(ExitCode::SUCCESS)
}
