//! Runs the pipeline. The only crate that knows every stage:
//!
//! ```text
//! config ─► fetch ─► feed (decode+parse) ─► content ─► store ─► publish
//! ```
//!
//! Fetches run concurrently on tokio; parsing and cleaning run on the blocking pool; one writer
//! thread owns the store and the output folder, so SQLite sees one writer and every feed is one
//! transaction.

mod build;
mod keys;
mod lock;
mod proxy;
mod render;
mod sync;

pub use build::{build_site, site_options, BuildError};
pub use keys::{image_policy, proxy_key};
pub use lock::StateLock;
pub use proxy::proxy_router;
pub use sync::{check, sync, FeedFailure, Progress, SyncOptions, SyncReport};

use std::path::PathBuf;

/// Errors that stop a whole run. A failing feed is not one of them: it is a [`FeedFailure`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] tidings_store::StoreError),
    #[error("another tidings run holds {0}; wait for it to finish")]
    Locked(PathBuf),
    #[error("no feed named {name:?} (configured: {known})")]
    NoSuchFeed { name: String, known: String },
    #[error("{0}")]
    Config(String),
    #[error("writing {path}: {source}")]
    Publish {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Opens the store of a config, creating the state folder.
pub fn open_store(
    config: &tidings_config::Config,
) -> Result<tidings_store::SqliteStore, EngineError> {
    std::fs::create_dir_all(&config.state_dir).map_err(|source| EngineError::Io {
        path: config.state_dir.clone(),
        source,
    })?;
    Ok(tidings_store::SqliteStore::open(
        &config.state_dir.join("tidings.db"),
    )?)
}
