//! `tidings status`: a health table of every feed, from the store.

use std::path::Path;
use std::process::ExitCode;

/// Show each feed's last status, consecutive failures and last error.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(config: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    let store = tidings_engine::open_store(&config)?;
    let states: std::collections::HashMap<_, _> = tidings_store::Store::feeds(&store)?
        .into_iter()
        .map(|(url, _, s)| (url, s))
        .collect();
    println!(
        "{:<24} {:>6} {:>8} {:>5}  last error",
        "feed", "status", "articles", "fails"
    );
    for feed in &config.feeds {
        match states.get(&feed.url) {
            None => println!("{:<24} {:>6}", feed.name, "never"),
            Some(s) => println!(
                "{:<24} {:>6} {:>8} {:>5}  {}",
                feed.name,
                s.last_status.as_deref().unwrap_or("-"),
                s.articles,
                s.consecutive_failures,
                s.last_error.as_deref().unwrap_or("")
            ),
        }
    }
    Ok(ExitCode::SUCCESS)
}
