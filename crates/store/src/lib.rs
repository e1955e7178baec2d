//! The store: feeds, articles, published images. The source of truth; post files and HTML
//! pages are projections of it.
//!
//! [`Store`] is the interface the engine uses; [`SqliteStore`] implements it. The trait and its
//! types mention no SQLite type so that another backend (PostgreSQL, several fetchers sharing
//! one database) can implement it later.

mod schema;
mod sqlite;

use std::collections::HashMap;

use jiff::Timestamp;
use tidings_model::Article;

pub use schema::SCHEMA_VERSION;
pub use sqlite::{Checkpointer, SqliteStore};

/// Underlying backend error, boxed so the public API does not depend on the backend crate.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in the store. Messages name the feed / article concerned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open store {path}: {source}")]
    Open { path: String, source: BackendError },
    #[error(
        "store {path} has schema version {found}, newer than this tidings knows ({known}); \
         upgrade tidings or use another state directory"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("store {path}: migrating to schema version {version}: {source}")]
    Migrate {
        path: String,
        version: i64,
        source: BackendError,
    },
    #[error("store, feed {url}: {source}")]
    Feed { url: String, source: BackendError },
    #[error("store, article {id}: {source}")]
    Article { id: String, source: BackendError },
    /// `what` is `article <id>` or `feed <url>`.
    #[error("store, {what}: stored {field} is invalid: {detail}")]
    Corrupt {
        what: String,
        field: &'static str,
        detail: String,
    },
    #[error("store, {what}: {source}")]
    Query {
        what: &'static str,
        source: BackendError,
    },
}

/// Fetch bookkeeping for one feed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FeedState {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `"200"`, `"304"` or `"error"`.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    /// Do not fetch before this (Retry-After, back-off). Kept to the second.
    pub retry_after: Option<Timestamp>,
    /// Last successful fetch (200 or 304). Kept to the second.
    pub last_ok: Option<Timestamp>,
    /// Articles stored for this feed, tombstones excluded.
    pub articles: u64,
}

/// What sync needs to decide whether an entry is new, updated or unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct Known {
    pub content_hash: String,
    pub slug: String,
    pub published: Timestamp,
}

/// An article about to be written, as sync hands it to [`Store::stage`].
#[derive(Clone, Debug, PartialEq)]
pub struct Staged {
    pub article: Article,
    pub content_hash: String,
    /// `Some(existing)` for updates; `None` allocates one from `slug_base`. An article the
    /// store already knows always keeps its stored slug.
    pub slug: Option<String>,
    pub slug_base: String,
    /// Output path relative to the output directory, with a `{slug}` placeholder.
    pub path: String,
    /// `article.html` as stored: `PackedBody::of(&article.html)`.
    pub body: PackedBody,
}

/// An article body as the store keeps it, lz4-compressed. Packing is a tenth of the cost of
/// storing an article; a caller with idle cores packs while it prepares articles, so that the
/// single writer does not have to.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedBody(Vec<u8>);

impl PackedBody {
    pub fn of(html: &str) -> PackedBody {
        PackedBody(lz4_flex::block::compress_prepend_size(html.as_bytes()))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// An article as stored, with its final slug and output path.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredArticle {
    pub article: Article,
    pub content_hash: String,
    pub slug: String,
    pub path: String,
}

/// A successful fetch (200 or 304) of a feed.
#[derive(Clone, Debug, PartialEq)]
pub struct FeedOk {
    pub url: String,
    pub name: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// `"200"` or `"304"`.
    pub status: String,
}

/// The store as the pipeline sees it.
pub trait Store {
    /// Bookkeeping of one feed; `None` if it was never fetched.
    fn feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError>;

    /// Hash, slug and date of those `ids` the store has (tombstones included, so pruned
    /// articles are recognised and never come back).
    fn known(&self, ids: &[&str]) -> Result<HashMap<String, Known>, StoreError>;

    /// All or nothing (a transaction; when a batch is open, a failure rolls back the whole
    /// batch): record the feed's
    /// success (validators, status, failures reset to 0), insert/update the staged articles and
    /// list them as pending, allocate slugs for new ones
    /// (`slug_base`, then `slug_base-2`, `-3` …; unique case-insensitively against every
    /// article ever stored, tombstones included), record their image URLs as published.
    /// Returns the staged articles with final slug and path (`{slug}` substituted), in input
    /// order; tombstoned ids are skipped and not returned.
    fn stage(
        &mut self,
        feed: &FeedOk,
        articles: Vec<Staged>,
    ) -> Result<Vec<StoredArticle>, StoreError>;

    /// ONE transaction: mark these ids published. Unknown ids and tombstones are ignored.
    fn mark_published(&mut self, ids: &[&str]) -> Result<(), StoreError>;

    /// A 304: touch only the feed row. Validators the server did not resend are kept.
    fn record_not_modified(&mut self, feed: &FeedOk) -> Result<(), StoreError>;

    /// A failed fetch: failures += 1, `last_error`, status `"error"`; validators are kept.
    fn record_failure(
        &mut self,
        url: &str,
        name: &str,
        error: &str,
        retry_after: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Staged but not yet published (crash recovery), newest first.
    fn pending(&self) -> Result<Vec<StoredArticle>, StoreError>;

    /// Every live (pending or published) article, newest first, one at a time; an error from
    /// `f` stops the walk and is returned.
    fn for_each_article(
        &self,
        f: &mut dyn FnMut(StoredArticle) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// [`Store::for_each_article`] without the bodies: `article.html` is empty and
    /// `article.images` too. Reads an index, never the large rows, so it costs little however
    /// much text the store holds (the site builder decides from this which pages changed).
    fn for_each_article_head(
        &self,
        f: &mut dyn FnMut(StoredArticle) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;

    /// The cleaned HTML of the live article `id`; `None` if unknown or pruned.
    fn article_html(&self, id: &str) -> Result<Option<String>, StoreError>;

    /// Whether `url` is the original URL of an image in a staged article (the proxy's unsigned
    /// form only serves those).
    fn is_published_image(&self, url: &str) -> Result<bool, StoreError>;

    /// Every feed ever seen: (url, name, state), ordered by name.
    fn feeds(&self) -> Result<Vec<(String, String, FeedState)>, StoreError>;
}
