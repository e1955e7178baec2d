//! The proxy's HMAC key and the image policy derived from the config.

use std::io::Write;
use std::path::Path;

use tidings_config::{Config, ImageRoute, KeySource};
use tidings_model::image::ImagePolicy;

use crate::EngineError;

/// The HMAC key of the builtin proxy: a literal, an environment variable, or a key generated once
/// into `<state>/proxy.key` (mode 0600) and reused on every later run, so published URLs stay valid.
pub fn proxy_key(config: &Config) -> Result<Vec<u8>, EngineError> {
    match &config.proxy.key {
        KeySource::Literal(k) => Ok(k.as_bytes().to_vec()),
        KeySource::Env(name) => match std::env::var(name) {
            Ok(v) if !v.is_empty() => Ok(v.into_bytes()),
            _ => Err(EngineError::Config(format!(
                "{}: proxy.key says env:{name}, but {name} is not set",
                config.file.display()
            ))),
        },
        KeySource::Generated => generated_key(&config.state_dir),
    }
}

fn generated_key(state_dir: &Path) -> Result<Vec<u8>, EngineError> {
    let path = state_dir.join("proxy.key");
    let io = |source| EngineError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    std::fs::create_dir_all(state_dir).map_err(io)?;
    let mut raw = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut raw))
        .map_err(io)?;
    let key = tidings_model::hex(&raw);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut f) => {
            f.write_all(key.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(io)?;
            Ok(key.into_bytes())
        }
        // Another process created it between our read and our create: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)
                .map_err(io)?
                .trim()
                .as_bytes()
                .to_vec())
        }
        Err(e) => Err(io(e)),
    }
}

/// The image policy the config asks for.
pub fn image_policy(config: &Config) -> Result<ImagePolicy, EngineError> {
    Ok(match &config.images {
        ImageRoute::Direct => ImagePolicy::Direct,
        ImageRoute::Template(t) => ImagePolicy::Template(t.clone()),
        ImageRoute::Builtin => ImagePolicy::Builtin {
            public_url: config.proxy.public_url.clone(),
            key: proxy_key(config)?,
        },
    })
}
