//! Turns a stored article into the bytes of its post file.

use std::path::{Path, PathBuf};

use tidings_config::{Config, DateFormat, Format};
use tidings_model::image::ImagePolicy;
use tidings_model::Article;
use tidings_publish::HexoOptions;

use crate::EngineError;

/// What sync writes besides the store.
pub(crate) enum Target {
    /// `format = "html"`: the store is the output; `tidings build` renders the site.
    StoreOnly,
    Hexo {
        dir: PathBuf,
        options: HexoOptions,
        policy: ImagePolicy,
    },
}

impl Target {
    pub(crate) fn from_config(config: &Config) -> Result<Target, EngineError> {
        match config.output.format {
            Format::Html => Ok(Target::StoreOnly),
            Format::Hexo => Ok(Target::Hexo {
                dir: config.output.dir.clone(),
                options: HexoOptions {
                    date_format: match config.output.date_format {
                        DateFormat::Naive => tidings_publish::DateFormat::Naive,
                        DateFormat::Rfc2822 => tidings_publish::DateFormat::Rfc2822,
                    },
                    image_keys: config.output.image_keys.clone(),
                    timezone: config.site.timezone.clone(),
                },
                policy: crate::image_policy(config)?,
            }),
            other => Err(EngineError::Config(format!(
                "{}: output.format = {:?} is not supported yet (use \"hexo\" or \"html\")",
                config.file.display(),
                format!("{other:?}").to_lowercase()
            ))),
        }
    }

    /// Output path template for new articles; `{slug}` is filled in by the store.
    pub(crate) fn path_template(&self) -> &'static str {
        match self {
            Target::StoreOnly => "",
            Target::Hexo { .. } => "{slug}.md",
        }
    }

    /// Writes the post for `article` at `rel` under the output folder, atomically (readers see
    /// the old file or the new one), but not yet durably: call [`Target::flush`] before
    /// recording it as published. With `only_if_changed`, an identical file is left alone
    /// (mtime included).
    pub(crate) fn write(
        &self,
        article: &Article,
        rel: &str,
        only_if_changed: bool,
    ) -> Result<bool, EngineError> {
        let Target::Hexo {
            dir,
            options,
            policy,
        } = self
        else {
            return Ok(false);
        };
        let path = safe_join(dir, rel)?;
        let body = tidings_content::route_images(&article.html, policy);
        let lead = article.lead_image.as_deref().map(|u| policy.apply(u));
        let text = tidings_publish::hexo_post(article, &body, lead.as_deref(), options);
        if only_if_changed && std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(false);
        }
        // The folder is made when the first post finds it missing, not checked for every post
        // (a stat per post was 1.5% of a cold sync's CPU).
        let written = match tidings_publish::replace_file(&path, text.as_bytes()) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir).map_err(|source| EngineError::Publish {
                    path: dir.clone(),
                    source,
                })?;
                tidings_publish::replace_file(&path, text.as_bytes())
            }
            written => written,
        };
        written.map_err(|source| EngineError::Publish { path, source })?;
        Ok(true)
    }

    /// Makes every file written so far durable. One `syncfs` for the whole batch instead of two
    /// fsyncs per post: per-post fsyncs were most of a cold run's time (see the README).
    pub(crate) fn flush(&self) -> Result<(), EngineError> {
        match self {
            Target::Hexo { dir, .. } if dir.exists() => {
                tidings_publish::sync_tree(dir).map_err(|source| EngineError::Publish {
                    path: dir.clone(),
                    source,
                })
            }
            _ => Ok(()),
        }
    }

    /// Removes the folder of temp files once the run is done with it (it is empty then).
    pub(crate) fn tidy(&self) -> Result<(), EngineError> {
        match self {
            Target::Hexo { dir, .. } => {
                tidings_publish::remove_temp_dir(dir).map_err(|source| EngineError::Io {
                    path: dir.clone(),
                    source,
                })
            }
            Target::StoreOnly => Ok(()),
        }
    }

    /// Removes temp files a crashed run left in the output folder.
    pub(crate) fn sweep(&self) -> Result<usize, EngineError> {
        match self {
            Target::Hexo { dir, .. } if dir.exists() => tidings_publish::remove_temp_files(dir)
                .map_err(|source| EngineError::Io {
                    path: dir.clone(),
                    source,
                }),
            _ => Ok(0),
        }
    }
}

/// `dir/rel`, refusing anything that could leave `dir`. Slugs are already safe; this is the
/// second lock on the door, since the path comes back from the database.
fn safe_join(dir: &Path, rel: &str) -> Result<PathBuf, EngineError> {
    let ok = !rel.is_empty()
        && !rel.contains(['/', '\\', '\0'])
        && rel != "."
        && rel != ".."
        && !rel.starts_with('.');
    if ok {
        Ok(dir.join(rel))
    } else {
        Err(EngineError::Publish {
            path: dir.join(rel),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "unsafe post path"),
        })
    }
}
