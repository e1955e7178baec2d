//! `tidings build`: the store rendered as the built-in site.

use std::path::PathBuf;

use tidings_config::Config;
use tidings_site::{BuildReport, LoadError, Progress, SiteArticle, SiteError, SiteOptions};
use tidings_store::Store;

use crate::EngineError;

/// Why a site build stopped.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] tidings_store::StoreError),
    #[error("building the site into {out}: {source}")]
    Site { out: PathBuf, source: SiteError },
}

/// The site options a config asks for: `[site]`, the image policy, and the `templates/`
/// folder beside the config when there is one.
pub fn site_options(config: &Config) -> Result<SiteOptions, EngineError> {
    let templates = config
        .file
        .parent()
        .map(|dir| dir.join("templates"))
        .filter(|dir| dir.is_dir());
    Ok(SiteOptions {
        title: config.site.title.clone(),
        base_url: config.site.url.clone(),
        language: config.site.language.clone(),
        timezone: config.site.timezone.clone(),
        per_page: config.site.per_page,
        templates_dir: templates,
        policy: crate::image_policy(config)?,
    })
}

/// Renders every live article of the store into `[site] out`; unchanged files are not touched.
///
/// Only the articles' heads are read up front (the bodies are a table of their own); a body is
/// read when its page, or the feed it is in, must be rendered.
pub fn build_site(config: &Config, progress: &dyn Progress) -> Result<BuildReport, BuildError> {
    let options = site_options(config)?;
    let store = crate::open_store(config)?;
    let mut heads = Vec::new();
    store.for_each_article_head(&mut |s| {
        heads.push(SiteArticle {
            article: s.article,
            slug: s.slug,
            content_hash: s.content_hash,
        });
        Ok(())
    })?;
    let mut body = |id: &str| -> Result<Option<String>, LoadError> { Ok(store.article_html(id)?) };
    tidings_site::build_from_heads(&config.site.out, heads, &mut body, &options, progress).map_err(
        |source| BuildError::Site {
            out: config.site.out.clone(),
            source,
        },
    )
}
