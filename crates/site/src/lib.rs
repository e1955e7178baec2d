//! Tidings' built-in static site: articles in, a finished site out.
//!
//! [`build`] renders a paginated front page, one page per article, one paginated page per
//! category at every level of the hierarchy, a category index, monthly archives, an Atom feed,
//! a sitemap, a 404 page and a client-side search (a JSON index and a small script) into a
//! folder. The search index and the sitemap are split into shards of a thousand articles
//! counted from the oldest, so that new articles change only the newest shard. Every page is
//! rendered to memory and written only when its bytes change; a manifest
//! (`.tidings-build.json`) remembers what each file was made from, so pages whose inputs did
//! not change are not even rendered, and pages that no longer exist are removed. The start of
//! each article's text is kept per shard in `.tidings-texts/`, so that list excerpts and search
//! rows need no body read.
//!
//! This crate knows nothing of the store or the config: the engine feeds it articles and
//! options.

mod cache;
mod pages;
mod paths;
pub mod serve;
mod text;
mod theme;
mod write;

use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use tidings_model::image::ImagePolicy;
use tidings_model::Article;

pub use paths::{category_segment, encode_segment};
pub use theme::overridable;
pub use write::MANIFEST;

/// How the site looks and where it lives.
#[derive(Clone, Debug)]
pub struct SiteOptions {
    pub title: String,
    /// Absolute URL of the site (`https://news.example.com/`), used where links must be
    /// absolute: the feed, the sitemap, the 404 page. Empty means "served from `/`".
    pub base_url: String,
    /// `lang` of every page, e.g. `zh-CN`.
    pub language: String,
    /// Dates are shown in this zone.
    pub timezone: TimeZone,
    /// Articles per list page (front page, categories, archives).
    pub per_page: usize,
    /// Folder whose files replace the built-in templates of the same name.
    pub templates_dir: Option<PathBuf>,
    /// Where `<img src>` point: every article body goes through it.
    pub policy: ImagePolicy,
}

/// One article to publish, with what the store knows of it.
#[derive(Clone, Debug)]
pub struct SiteArticle {
    pub article: Article,
    /// Folder name of the article page: `posts/<slug>/`. Must be one safe path segment.
    pub slug: String,
    /// [`Article::content_hash`] as stored; the article page is re-rendered when it changes.
    pub content_hash: String,
}

/// What a build did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Files written because they were new or their bytes changed.
    pub written: usize,
    /// Files left untouched.
    pub unchanged: usize,
    /// Files of the previous build that no longer exist in this one.
    pub removed: usize,
    /// Articles left out, each with the reason.
    pub skipped: Vec<String>,
}

impl std::fmt::Display for BuildReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pages written, {} unchanged, {} removed",
            self.written, self.unchanged, self.removed
        )
    }
}

/// Reports progress while pages render; `()` reports nothing.
pub trait Progress: Sync {
    fn begin(&self, _pages: usize) {}
    fn advance(&self, _pages: usize) {}
    fn end(&self) {}
}

impl Progress for () {}

/// Everything that can stop a build. Messages name the file or template concerned.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("template {name}: {source:#}")]
    Template {
        name: String,
        source: Box<minijinja::Error>,
    },
    #[error("reading the body of article {id}: {source}")]
    Body { id: String, source: LoadError },
    #[error("rendering {page}: {source:#}")]
    Render {
        page: String,
        source: Box<minijinja::Error>,
    },
}

/// Why a body could not be loaded, as the caller's loader says.
pub type LoadError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the site into `out` (created if missing) and returns what changed.
///
/// Articles may come in any order; list pages show them newest first. Articles whose slug is
/// not a safe folder name, or repeats another's, are skipped and named in the report.
pub fn build(
    out: &Path,
    articles: impl IntoIterator<Item = SiteArticle>,
    options: &SiteOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, SiteError> {
    run(out, articles.into_iter().collect(), None, options, progress)
}

/// [`build`] from articles without their bodies (`article.html` empty): `body(id)` is asked
/// only for the articles whose pages must be rendered, those in a feed that must be rendered,
/// and those whose text the last build did not record. A build with nothing new reads no body.
/// `Ok(None)` (the article vanished) stops the build.
pub fn build_from_heads(
    out: &Path,
    heads: Vec<SiteArticle>,
    body: &mut dyn FnMut(&str) -> Result<Option<String>, LoadError>,
    options: &SiteOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, SiteError> {
    run(out, heads, Some(body), options, progress)
}

fn run(
    out: &Path,
    articles: Vec<SiteArticle>,
    loader: Option<write::Loader>,
    options: &SiteOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, SiteError> {
    // The last build's manifest is read on another core while this one plans.
    let (old, planned) = std::thread::scope(|s| {
        let reading = s.spawn(|| write::read_manifest(out));
        let planned = theme::Theme::load(options.templates_dir.as_deref()).map(|theme| {
            let (articles, skipped) = pages::accept(articles);
            let plan = pages::plan(&articles, options, &theme);
            (theme, articles, skipped, plan)
        });
        let old = reading
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (old, planned)
    });
    let (theme, mut articles, skipped, mut plan) = planned?;
    let mut report = write::execute(
        out,
        old,
        &mut plan,
        &mut articles,
        loader,
        options,
        &theme,
        progress,
    )?;
    report.skipped = skipped;
    Ok(report)
}
