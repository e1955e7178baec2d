//! `tidings init [DIR]`: write a commented starter config.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

/// Write a commented starter tidings.toml.
#[derive(clap::Args)]
pub struct Args {
    /// Folder to write tidings.toml into (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let path = args.dir.join("tidings.toml");
    if path.exists() {
        anyhow::bail!("{}: already exists; not overwriting it", path.display());
    }
    std::fs::write(&path, tidings_config::STARTER)
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {}: edit the [[feed]] entries, then run `tidings sync`",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
