//! One run at a time per state folder: two syncs interleaving would race on slugs and files.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::EngineError;

/// Holds `.tidings/lock` exclusively until dropped. The OS releases it if the process dies, so a
/// crash never leaves a stale lock behind.
pub struct StateLock {
    _lock: fd_lock::RwLockWriteGuard<'static, File>,
}

impl StateLock {
    /// Takes the lock, or fails at once with a clear message if another run holds it.
    pub fn acquire(state_dir: &Path) -> Result<StateLock, EngineError> {
        std::fs::create_dir_all(state_dir).map_err(|source| EngineError::Io {
            path: state_dir.to_path_buf(),
            source,
        })?;
        let path = state_dir.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| EngineError::Io {
                path: path.clone(),
                source,
            })?;
        // The guard borrows the RwLock; leaking one small allocation per run keeps it 'static
        // without self-referential structs.
        let lock: &'static mut fd_lock::RwLock<File> =
            Box::leak(Box::new(fd_lock::RwLock::new(file)));
        match lock.try_write() {
            Ok(guard) => Ok(StateLock { _lock: guard }),
            Err(_) => Err(EngineError::Locked(PathBuf::from(&path))),
        }
    }
}
