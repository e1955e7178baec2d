//! `tidings check`: validate the config and probe every feed, changing nothing.

use std::path::Path;
use std::process::ExitCode;

/// Validate tidings.toml and fetch every feed once, without storing or publishing anything.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(config: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    println!(
        "{}: config ok, {} feeds",
        config.file.display(),
        config.feeds.len()
    );
    let results = super::runtime()?.block_on(tidings_engine::check(&config))?;
    let mut failed = 0;
    for (feed, result) in &results {
        match result {
            Ok(n) => println!("ok      {} ({n} entries)", feed.name),
            Err(e) => {
                failed += 1;
                println!("FAILED  {}: {e}", feed.name);
            }
        }
    }
    println!("{} ok, {failed} failed", results.len() - failed);
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
