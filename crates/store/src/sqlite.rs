//! [`Store`] on SQLite (WAL, one file).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use tidings_model::Article;

use crate::{FeedOk, FeedState, Known, Staged, Store, StoreError, StoredArticle};

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// Columns of `articles a JOIN bodies b` read into a [`StoredArticle`], in the order
/// [`RawArticle::read`] expects.
const ARTICLE_COLUMNS: &str = "a.id, a.feed_url, a.guid, a.link, a.title, a.author, \
     a.categories, a.published, a.published_ns, a.updated, a.updated_ns, b.html, \
     a.lead_image, b.images, a.content_hash, a.slug, a.path, b.body";

/// [`ARTICLE_COLUMNS`] with the bodies left empty: `articles` alone, in date order.
const HEAD_QUERY: &str = "SELECT id, feed_url, guid, link, title, author, categories, \
     published, published_ns, updated, updated_ns, '', lead_image, '[]', \
     content_hash, slug, path, NULL FROM articles \
     WHERE state != 'tombstone' ORDER BY published DESC, published_ns DESC, id";

/// A new article's head. Plain INSERT, not an upsert: SQLite opens a statement journal for an
/// upsert (it may abort halfway through its two writes) and copies every page the statement
/// touches into it, which cost the single writer 3% of a cold sync's CPU. ?1-?14 are
/// [`UPDATE_ARTICLE`]'s parameters.
const INSERT_ARTICLE: &str = "
INSERT INTO articles (id, feed_url, guid, link, title, author, categories,
                      published, published_ns, updated, updated_ns, lead_image, content_hash,
                      path, slug, slug_key, state, first_seen)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, 'published',
        ?17)";

/// The body of the article just inserted.
const INSERT_BODY: &str = "
INSERT INTO bodies (seq, body, images) VALUES (last_insert_rowid(), ?1, ?2)";

/// A changed article's head: everything but its identity, its slug and when it was first seen.
const UPDATE_ARTICLE: &str = "
UPDATE articles SET
    feed_url = ?2, guid = ?3, link = ?4, title = ?5, author = ?6, categories = ?7,
    published = ?8, published_ns = ?9, updated = ?10, updated_ns = ?11, lead_image = ?12,
    content_hash = ?13, path = ?14
WHERE id = ?1";

/// A changed article's body (rare: an upsert's statement journal costs nothing here).
const UPDATE_BODY: &str = "
INSERT INTO bodies (seq, body, images)
VALUES ((SELECT seq FROM articles WHERE id = ?1), ?2, ?3)
ON CONFLICT (seq) DO UPDATE SET html = '', body = excluded.body, images = excluded.images";

/// A 200: the server's validators replace ours, even when absent.
const FEED_OK: &str = "
INSERT INTO feeds (url, name, etag, last_modified, last_status, last_error,
                   consecutive_failures, retry_after, last_ok, last_checked)
VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, NULL, ?6, ?6)
ON CONFLICT (url) DO UPDATE SET
    name = excluded.name, etag = excluded.etag, last_modified = excluded.last_modified,
    last_status = excluded.last_status, last_error = NULL, consecutive_failures = 0,
    retry_after = NULL, last_ok = excluded.last_ok, last_checked = excluded.last_checked";

/// A 304: servers often omit validators on 304, so keep ours unless new ones came.
const FEED_NOT_MODIFIED: &str = "
INSERT INTO feeds (url, name, etag, last_modified, last_status, last_error,
                   consecutive_failures, retry_after, last_ok, last_checked)
VALUES (?1, ?2, ?3, ?4, ?5, NULL, 0, NULL, ?6, ?6)
ON CONFLICT (url) DO UPDATE SET
    name = excluded.name,
    etag = COALESCE(excluded.etag, feeds.etag),
    last_modified = COALESCE(excluded.last_modified, feeds.last_modified),
    last_status = excluded.last_status, last_error = NULL, consecutive_failures = 0,
    retry_after = NULL, last_ok = excluded.last_ok, last_checked = excluded.last_checked";

const FEED_FAILED: &str = "
INSERT INTO feeds (url, name, last_status, last_error, consecutive_failures, retry_after,
                   last_checked)
VALUES (?1, ?2, 'error', ?3, 1, ?4, ?5)
ON CONFLICT (url) DO UPDATE SET
    name = excluded.name, last_status = 'error', last_error = excluded.last_error,
    consecutive_failures = feeds.consecutive_failures + 1,
    retry_after = excluded.retry_after, last_checked = excluded.last_checked";

const FEED_STATE_COLUMNS: &str = "url, name, etag, last_modified, last_status, last_error, \
     consecutive_failures, retry_after, last_ok, \
     (SELECT COUNT(*) FROM articles a WHERE a.feed_url = feeds.url AND a.state != 'tombstone')";

/// How often the background checkpointer runs.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// Runs WAL checkpoints on a thread while it lives; see
/// [`SqliteStore::checkpoint_in_background`].
#[derive(Default)]
pub struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Asks for the last checkpoint now, without waiting for it: the caller's own final work
    /// (flushing files) overlaps with it. Dropping the checkpointer still waits.
    pub fn finish(&mut self) {
        drop(self.stop.take());
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    conn: Connection,
    /// For error messages.
    name: String,
    /// The file, for a second connection; `None` in memory.
    path: Option<PathBuf>,
}

impl SqliteStore {
    /// Open (creating if needed) and migrate the database at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open(path).map_err(open_err(&name))?;
        let mut store = Self::setup(conn, name)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// A private database that lives as long as the value; for tests and dry runs.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let name = ":memory:".to_string();
        let conn = Connection::open_in_memory().map_err(open_err(&name))?;
        Self::setup(conn, name)
    }

    fn setup(mut conn: Connection, name: String) -> Result<Self, StoreError> {
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err(&name))?;
        // WAL: readers (the site server) never block the writer. NORMAL is durable across
        // application crashes and only risks the last transactions on power loss, which a
        // re-run repeats. Checkpoints are where WAL mode fsyncs: one per 32 MB of log instead
        // of SQLite's default 4 MB keeps a cold sync of 200 MB of articles from stalling on them.
        // Statement journals (an upsert into a table with UNIQUE columns opens one) go to
        // memory: on disk they were a third of all bytes a cold sync wrote. A 16 MB page cache
        // holds a whole batch of feeds: with the default 2 MB, SQLite spilled dirty pages to
        // the log mid-transaction and wrote many of them again at the commit (twice the log
        // writes of the single writer).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA temp_store = MEMORY;
             PRAGMA wal_autocheckpoint = 8192;
             PRAGMA cache_size = -16384;
             PRAGMA foreign_keys = ON;",
        )
        .map_err(open_err(&name))?;
        conn.set_prepared_statement_cache_capacity(64);
        crate::schema::migrate(&mut conn, &name)?;
        Ok(SqliteStore {
            conn,
            name,
            path: None,
        })
    }

    /// Moves WAL checkpoints off this connection onto a thread of their own, for as long as
    /// the returned value lives. A checkpoint fsyncs the log and the database; done by the
    /// connection that commits, those waits stalled a cold sync's single writer for about two
    /// seconds. The thread checkpoints what it can without waiting for readers or writers, a
    /// few times a second, and once more when dropped. This connection no longer checkpoints
    /// on its own afterwards: drop the store with the checkpointer, as a sync does.
    pub fn checkpoint_in_background(&mut self) -> Result<Checkpointer, StoreError> {
        let Some(path) = self.path.clone() else {
            return Ok(Checkpointer::default());
        };
        let conn = Connection::open(&path).map_err(open_err(&self.name))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(open_err(&self.name))?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(open_err(&self.name))?;
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || loop {
            let last = !matches!(
                stopped.recv_timeout(CHECKPOINT_EVERY),
                Err(mpsc::RecvTimeoutError::Timeout)
            );
            // A failed checkpoint leaves the log longer, nothing worse; the next one retries.
            let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            if last {
                break;
            }
        });
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Mark `ids` as pruned: they keep their slug forever and are never staged again.
    pub fn tombstone(&mut self, ids: &[&str]) -> Result<(), StoreError> {
        self.for_each_id(
            ids,
            &[
                "UPDATE articles SET state = 'tombstone' WHERE id = ?1",
                "DELETE FROM bodies WHERE seq = (SELECT seq FROM articles WHERE id = ?1)",
                "DELETE FROM pending WHERE id = ?1",
            ],
        )
    }

    /// Runs each statement of `sqls` for every id, all or nothing.
    fn for_each_id(&mut self, ids: &[&str], sqls: &[&str]) -> Result<(), StoreError> {
        self.in_unit(
            |e| query_err("updating article states")(e),
            |conn| {
                for id in ids {
                    for sql in sqls {
                        conn.prepare_cached(sql)
                            .and_then(|mut stmt| stmt.execute([id]))
                            .map_err(article_err(id))?;
                    }
                }
                Ok(())
            },
        )
    }

    /// Runs `f` all or nothing: in a transaction of its own or, when a batch is open, as part
    /// of the batch, which a failure rolls back whole. IMMEDIATE takes the write lock up front,
    /// so two writers queue on busy_timeout instead of failing when a read transaction tries
    /// to upgrade.
    ///
    /// A savepoint per unit would confine a failure to its unit, but SQLite copies every page
    /// a savepoint touches into a statement journal: 5% of a cold sync's CPU, all of it on the
    /// single writer, to guard against errors that end the run anyway.
    fn in_unit<T>(
        &mut self,
        err: impl Fn(rusqlite::Error) -> StoreError,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.conn.is_autocommit() {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(&err)?;
            let out = f(&tx)?;
            tx.commit().map_err(&err)?;
            Ok(out)
        } else {
            let out = f(&self.conn);
            if out.is_err() {
                // Nothing of the batch is committed, and nothing outside the store is written
                // before its commit: dropping all of it loses nothing the next run won't redo.
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            out
        }
    }

    /// Opens a batch: every write until [`SqliteStore::commit_batch`] joins one transaction.
    /// A cold sync stores thousands of feeds; committing each on its own wrote the index
    /// pages they share again and again. Nothing in a batch is durable, or visible to other
    /// connections, before the commit, and a failing write rolls back the whole batch.
    pub fn begin_batch(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(query_err("opening a batch"))?;
        }
        Ok(())
    }

    /// Commits the open batch, if any.
    pub fn commit_batch(&mut self) -> Result<(), StoreError> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(query_err("committing a batch"))?;
        }
        Ok(())
    }

    fn upsert_feed(&mut self, sql: &str, feed: &FeedOk) -> Result<(), StoreError> {
        write_feed_ok(&self.conn, sql, feed, now())
    }

    fn query_articles(
        &self,
        filter: &str,
        what: &'static str,
        f: &mut dyn FnMut(StoredArticle) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN bodies b ON b.seq = a.seq \
             WHERE {filter} ORDER BY a.published DESC, a.published_ns DESC, a.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(query_err(what))?;
        let mut rows = stmt.query([]).map_err(query_err(what))?;
        while let Some(row) = rows.next().map_err(query_err(what))? {
            let raw = RawArticle::read(row).map_err(query_err(what))?;
            f(raw.into_stored()?)?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.name)
            .finish()
    }
}

impl Store for SqliteStore {
    fn feed_state(&self, url: &str) -> Result<Option<FeedState>, StoreError> {
        let sql = format!("SELECT {FEED_STATE_COLUMNS} FROM feeds WHERE url = ?1");
        let raw = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| stmt.query_row([url], RawFeed::read).optional())
            .map_err(feed_err(url))?;
        raw.map(|r| r.into_state()).transpose()
    }

    fn known(&self, ids: &[&str]) -> Result<HashMap<String, Known>, StoreError> {
        const WHAT: &str = "looking up known articles";
        // One statement for any number of ids: pass them as a JSON array.
        let json = serde_json::to_string(ids).map_err(query_err(WHAT))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, content_hash, slug, published, published_ns FROM articles
                 WHERE id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(query_err(WHAT))?;
        let rows = stmt
            .query_map([json], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, i64>(3)?,
                    row.get::<_, i64>(4)?,
                ))
            })
            .map_err(query_err(WHAT))?;
        let mut known = HashMap::new();
        for row in rows {
            let (id, content_hash, slug, secs, nanos) = row.map_err(query_err(WHAT))?;
            let published = timestamp(secs, nanos, || format!("article {id}"), "published")?;
            known.insert(
                id,
                Known {
                    content_hash,
                    slug,
                    published,
                },
            );
        }
        Ok(known)
    }

    fn stage(
        &mut self,
        feed: &FeedOk,
        articles: Vec<Staged>,
    ) -> Result<Vec<StoredArticle>, StoreError> {
        let now = now();
        self.in_unit(
            |e| feed_err(&feed.url)(e),
            |conn| {
                write_feed_ok(conn, FEED_OK, feed, now)?;
                let mut stored = Vec::with_capacity(articles.len());
                for staged in articles {
                    if let Some(s) = stage_one(conn, staged, now)? {
                        stored.push(s);
                    }
                }
                Ok(stored)
            },
        )
    }

    fn mark_published(&mut self, ids: &[&str]) -> Result<(), StoreError> {
        self.for_each_id(ids, &["DELETE FROM pending WHERE id = ?1"])
    }

    fn record_not_modified(&mut self, feed: &FeedOk) -> Result<(), StoreError> {
        self.upsert_feed(FEED_NOT_MODIFIED, feed)
    }

    fn record_failure(
        &mut self,
        url: &str,
        name: &str,
        error: &str,
        retry_after: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let retry = retry_after.map(|t| t.as_second());
        self.conn
            .prepare_cached(FEED_FAILED)
            .and_then(|mut stmt| stmt.execute(params![url, name, error, retry, now()]))
            .map_err(feed_err(url))?;
        Ok(())
    }

    fn pending(&self) -> Result<Vec<StoredArticle>, StoreError> {
        let mut out = Vec::new();
        self.query_articles(
            "a.id IN (SELECT id FROM pending)",
            "listing pending articles",
            &mut |a| {
                out.push(a);
                Ok(())
            },
        )?;
        Ok(out)
    }

    fn for_each_article(
        &self,
        f: &mut dyn FnMut(StoredArticle) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        self.query_articles("a.state != 'tombstone'", "reading articles", f)
    }

    fn for_each_article_head(
        &self,
        f: &mut dyn FnMut(StoredArticle) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        const WHAT: &str = "reading article heads";
        let mut stmt = self
            .conn
            .prepare_cached(HEAD_QUERY)
            .map_err(query_err(WHAT))?;
        let mut rows = stmt.query([]).map_err(query_err(WHAT))?;
        while let Some(row) = rows.next().map_err(query_err(WHAT))? {
            let raw = RawArticle::read(row).map_err(query_err(WHAT))?;
            f(raw.into_stored()?)?;
        }
        Ok(())
    }

    fn article_html(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT b.html, b.body FROM articles a JOIN bodies b ON b.seq = a.seq
                 WHERE a.id = ?1 AND a.state != 'tombstone'",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(article_err(id))?
            .map(|(html, body)| body_text(id, html, body))
            .transpose()
    }

    fn is_published_image(&self, url: &str) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached("SELECT 1 FROM images WHERE url = ?1")
            .and_then(|mut stmt| stmt.exists([url]))
            .map_err(query_err("looking up an image"))
    }

    fn feeds(&self) -> Result<Vec<(String, String, FeedState)>, StoreError> {
        const WHAT: &str = "listing feeds";
        let sql = format!("SELECT {FEED_STATE_COLUMNS} FROM feeds ORDER BY name, url");
        let mut stmt = self.conn.prepare_cached(&sql).map_err(query_err(WHAT))?;
        let rows = stmt.query_map([], RawFeed::read).map_err(query_err(WHAT))?;
        let mut out = Vec::new();
        for row in rows {
            let raw = row.map_err(query_err(WHAT))?;
            let (url, name) = (raw.url.clone(), raw.name.clone());
            out.push((url, name, raw.into_state()?));
        }
        Ok(out)
    }
}

fn write_feed_ok(conn: &Connection, sql: &str, feed: &FeedOk, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| {
            stmt.execute(params![
                feed.url,
                feed.name,
                feed.etag,
                feed.last_modified,
                feed.status,
                now
            ])
        })
        .map_err(feed_err(&feed.url))?;
    Ok(())
}

/// Insert or update one article inside the caller's transaction; `None` for a tombstone.
fn stage_one(
    conn: &Connection,
    staged: Staged,
    now: i64,
) -> Result<Option<StoredArticle>, StoreError> {
    let id = staged.article.id.clone();
    let existing: Option<(String, String)> = conn
        .prepare_cached("SELECT slug, state FROM articles WHERE id = ?1")
        .and_then(|mut stmt| {
            stmt.query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(article_err(&id))?;
    let (slug, new) = match existing {
        Some((_, state)) if state == "tombstone" => return Ok(None),
        // A stored slug never changes: links and file names stay stable.
        Some((slug, _)) => (slug, false),
        None => match &staged.slug {
            Some(slug) => (slug.clone(), true),
            None => (allocate_slug(conn, &id, &staged.slug_base)?, true),
        },
    };
    let path = staged.path.replace("{slug}", &slug);
    write_article(conn, &staged, new.then_some(slug.as_str()), &path, now)?;
    conn.prepare_cached("INSERT OR IGNORE INTO pending (id) VALUES (?1)")
        .and_then(|mut stmt| stmt.execute([&id]))
        .map_err(article_err(&id))?;
    record_images(conn, &staged.article, now)?;
    Ok(Some(StoredArticle {
        article: staged.article,
        content_hash: staged.content_hash,
        slug,
        path,
    }))
}

/// `base`, else `base-2`, `base-3` …: the first whose lowercase form no article ever had.
fn allocate_slug(conn: &Connection, id: &str, base: &str) -> Result<String, StoreError> {
    let base = if base.is_empty() {
        id.chars().take(12).collect()
    } else {
        base.to_string()
    };
    let key = base.to_lowercase();
    // Every key equal to `key` or starting with `key-` ('-' + 1 == '.'): one range scan.
    let taken: HashSet<String> = conn
        .prepare_cached(
            "SELECT slug_key FROM articles
             WHERE slug_key = ?1 OR (slug_key >= ?2 AND slug_key < ?3)",
        )
        .and_then(|mut stmt| {
            stmt.query_map(params![key, format!("{key}-"), format!("{key}.")], |r| {
                r.get(0)
            })?
            .collect()
        })
        .map_err(article_err(id))?;
    if !taken.contains(&key) {
        return Ok(base);
    }
    // `taken` is finite, so some n ≤ taken.len() + 1 is free.
    let free = (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|slug| !taken.contains(&slug.to_lowercase()));
    Ok(free.unwrap_or(base))
}

/// Inserts the article under `slug` when it is new (`Some`), else updates its rows.
fn write_article(
    conn: &Connection,
    staged: &Staged,
    slug: Option<&str>,
    path: &str,
    now: i64,
) -> Result<(), StoreError> {
    let a = &staged.article;
    let categories = serde_json::to_string(&a.categories).map_err(article_err(&a.id))?;
    let images = serde_json::to_string(&a.images).map_err(article_err(&a.id))?;
    let published = (a.published.as_second(), a.published.subsec_nanosecond());
    let updated = (a.updated.as_second(), a.updated.subsec_nanosecond());
    let head = params![
        a.id,
        a.feed_url,
        a.guid,
        a.link,
        a.title,
        a.author,
        categories,
        published.0,
        published.1,
        updated.0,
        updated.1,
        a.lead_image,
        staged.content_hash,
        path,
    ];
    let body = staged.body.bytes();
    let execute = |sql: &str, params: &[&dyn rusqlite::ToSql]| {
        conn.prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map_err(article_err(&a.id))
    };
    match slug {
        Some(slug) => {
            let key = slug.to_lowercase();
            let mut all = head.to_vec();
            all.extend_from_slice(params![slug, key, now]);
            execute(INSERT_ARTICLE, &all)?;
            execute(INSERT_BODY, params![body, images])?;
        }
        None => {
            execute(UPDATE_ARTICLE, head)?;
            execute(UPDATE_BODY, params![a.id, body, images])?;
        }
    }
    Ok(())
}

/// The lead image may be an enclosure that is not in `images`; both are served.
fn record_images(conn: &Connection, a: &Article, now: i64) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached("INSERT OR IGNORE INTO images (url, first_seen) VALUES (?1, ?2)")
        .map_err(article_err(&a.id))?;
    for url in a.images.iter().chain(a.lead_image.as_ref()) {
        stmt.execute(params![url, now])
            .map_err(article_err(&a.id))?;
    }
    Ok(())
}

/// An `articles` row before validation.
struct RawArticle {
    id: String,
    feed_url: String,
    guid: Option<String>,
    link: Option<String>,
    title: String,
    author: String,
    categories: String,
    published: (i64, i64),
    updated: (i64, i64),
    /// Rows written before schema version 5 keep their body here, as text.
    html: String,
    body: Option<Vec<u8>>,
    lead_image: Option<String>,
    images: String,
    content_hash: String,
    slug: String,
    path: String,
}

impl RawArticle {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawArticle {
            id: row.get(0)?,
            feed_url: row.get(1)?,
            guid: row.get(2)?,
            link: row.get(3)?,
            title: row.get(4)?,
            author: row.get(5)?,
            categories: row.get(6)?,
            published: (row.get(7)?, row.get(8)?),
            updated: (row.get(9)?, row.get(10)?),
            html: row.get(11)?,
            lead_image: row.get(12)?,
            images: row.get(13)?,
            content_hash: row.get(14)?,
            slug: row.get(15)?,
            path: row.get(16)?,
            body: row.get(17)?,
        })
    }

    fn into_stored(self) -> Result<StoredArticle, StoreError> {
        let what = || format!("article {}", self.id);
        let list = |text: &str, field: &'static str| {
            serde_json::from_str::<Vec<String>>(text).map_err(|e| StoreError::Corrupt {
                what: what(),
                field,
                detail: e.to_string(),
            })
        };
        let categories = list(&self.categories, "categories")?;
        let images = list(&self.images, "images")?;
        let published = timestamp(self.published.0, self.published.1, what, "published")?;
        let updated = timestamp(self.updated.0, self.updated.1, what, "updated")?;
        let html = body_text(&self.id, self.html, self.body)?;
        Ok(StoredArticle {
            article: Article {
                id: self.id,
                feed_url: self.feed_url,
                guid: self.guid,
                link: self.link,
                title: self.title,
                author: self.author,
                categories,
                published,
                updated,
                html,
                lead_image: self.lead_image,
                images,
            },
            content_hash: self.content_hash,
            slug: self.slug,
            path: self.path,
        })
    }
}

/// No body is this large (feeds are capped far below); a size field claiming more is damage,
/// and must not become an allocation.
const MAX_BODY: usize = 256 << 20;

/// The text of a body: `body` when the row has one, else the pre-version-5 `html` column.
fn body_text(id: &str, html: String, body: Option<Vec<u8>>) -> Result<String, StoreError> {
    let Some(packed) = body else {
        return Ok(html);
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        what: format!("article {id}"),
        field: "body",
        detail,
    };
    let (size, _) =
        lz4_flex::block::uncompressed_size(&packed).map_err(|e| corrupt(e.to_string()))?;
    if size > MAX_BODY {
        return Err(corrupt(format!("claims {size} bytes")));
    }
    let bytes =
        lz4_flex::block::decompress_size_prepended(&packed).map_err(|e| corrupt(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| corrupt(e.to_string()))
}

/// A `feeds` row (plus its article count) before validation.
struct RawFeed {
    url: String,
    name: String,
    etag: Option<String>,
    last_modified: Option<String>,
    last_status: Option<String>,
    last_error: Option<String>,
    consecutive_failures: i64,
    retry_after: Option<i64>,
    last_ok: Option<i64>,
    articles: i64,
}

impl RawFeed {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawFeed {
            url: row.get(0)?,
            name: row.get(1)?,
            etag: row.get(2)?,
            last_modified: row.get(3)?,
            last_status: row.get(4)?,
            last_error: row.get(5)?,
            consecutive_failures: row.get(6)?,
            retry_after: row.get(7)?,
            last_ok: row.get(8)?,
            articles: row.get(9)?,
        })
    }

    fn into_state(self) -> Result<FeedState, StoreError> {
        let what = || format!("feed {}", self.url);
        let opt_ts =
            |secs: Option<i64>, field| secs.map(|s| timestamp(s, 0, what, field)).transpose();
        Ok(FeedState {
            retry_after: opt_ts(self.retry_after, "retry_after")?,
            last_ok: opt_ts(self.last_ok, "last_ok")?,
            etag: self.etag,
            last_modified: self.last_modified,
            last_status: self.last_status,
            last_error: self.last_error,
            consecutive_failures: u32::try_from(self.consecutive_failures.max(0))
                .unwrap_or(u32::MAX),
            articles: u64::try_from(self.articles).unwrap_or(0),
        })
    }
}

fn timestamp(
    secs: i64,
    nanos: i64,
    what: impl Fn() -> String,
    field: &'static str,
) -> Result<Timestamp, StoreError> {
    let nanos = i32::try_from(nanos).unwrap_or(i32::MAX);
    Timestamp::new(secs, nanos).map_err(|e| StoreError::Corrupt {
        what: what(),
        field,
        detail: e.to_string(),
    })
}

fn now() -> i64 {
    Timestamp::now().as_second()
}

fn open_err(path: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Open {
        path: path.to_string(),
        source: e.into(),
    }
}

fn feed_err(url: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Feed {
        url: url.to_string(),
        source: e.into(),
    }
}

fn article_err<E>(id: &str) -> impl FnOnce(E) -> StoreError + '_
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| StoreError::Article {
        id: id.to_string(),
        source: e.into(),
    }
}

fn query_err<E>(what: &'static str) -> impl FnOnce(E) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    move |e| StoreError::Query {
        what,
        source: e.into(),
    }
}
