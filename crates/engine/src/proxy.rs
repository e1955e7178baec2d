//! The image proxy as the config describes it, for `tidings proxy` and `tidings serve`.

use std::sync::{Arc, Mutex};

use tidings_config::{Config, KeySource};
use tidings_store::Store;

use crate::EngineError;

/// The proxy's router: options from `[proxy]`, the key from [`crate::proxy_key`], and the
/// unsigned form gated on the images the store says Tidings published.
pub fn proxy_router(config: &Config) -> Result<axum::Router, EngineError> {
    let p = &config.proxy;
    let cache_dir = p
        .cache_dir
        .clone()
        .unwrap_or_else(|| config.state_dir.join("image-cache"));
    let mut opts = tidings_proxy::Options::new(crate::proxy_key(config)?, cache_dir);
    opts.old_keys = p
        .old_keys
        .iter()
        .map(|k| old_key(config, k))
        .collect::<Result<_, _>>()?;
    opts.allow_private = p.allow_private.clone();
    opts.allow_hosts = p.allow_hosts.clone();
    opts.referer = p.referer.clone();
    opts.cache_size = p.cache_size;
    opts.max_bytes = p.max_bytes;
    opts.timeout = p.timeout;
    opts.max_concurrent = p.max_concurrent;
    opts.rate_limit = p.rate_limit;
    // SqliteStore is Send but not Sync: one connection behind a lock, one indexed lookup each.
    let store = Mutex::new(crate::open_store(config)?);
    let published: tidings_proxy::Published = Arc::new(move |url: &str| {
        let store = store.lock().unwrap_or_else(|e| e.into_inner());
        store.is_published_image(url).unwrap_or(false)
    });
    tidings_proxy::router(opts, published, Arc::new(tidings_proxy::SystemResolver))
        .map_err(|e| EngineError::Config(format!("{}: [proxy]: {e}", config.file.display())))
}

fn old_key(config: &Config, source: &KeySource) -> Result<Vec<u8>, EngineError> {
    let file = config.file.display();
    match source {
        KeySource::Literal(k) => Ok(k.as_bytes().to_vec()),
        KeySource::Env(name) => std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .map(String::into_bytes)
            .ok_or_else(|| {
                EngineError::Config(format!(
                    "{file}: proxy.old_keys says env:{name}, but {name} is not set"
                ))
            }),
        KeySource::Generated => Err(EngineError::Config(format!(
            "{file}: proxy.old_keys: an old key must be given"
        ))),
    }
}
