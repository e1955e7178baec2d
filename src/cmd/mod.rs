//! One file per command: arguments in, summary out. The work happens in the engine.

pub mod build;
pub mod check;
pub mod demo;
pub mod init;
pub mod proxy;
pub mod serve;
pub mod sign;
pub mod status;
pub mod sync;

use std::path::Path;

use anyhow::Context;
use tidings_config::Config;

/// Loads the config, with a hint when it does not exist yet.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    if !path.exists() {
        anyhow::bail!(
            "{}: no such config file (run `tidings init` to write one, or pass -c FILE)",
            path.display()
        );
    }
    Config::load(path).context("invalid config")
}

/// A multi-thread tokio runtime for commands that do network work.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        // Blocking jobs (parsing, file I/O, DNS) are bounded by the callers; this cap keeps a
        // burst from costing a thread and an allocator arena each, which is most of the image
        // proxy's memory under 1,000 concurrent misses.
        .max_blocking_threads(16)
        .enable_all()
        .build()
        .context("starting the async runtime")
}
