//! Versioned schema. `PRAGMA user_version` holds the number of migrations applied; each entry
//! of [`MIGRATIONS`] moves the schema one version up. Never edit a released migration: append.

use rusqlite::{Connection, TransactionBehavior};

use crate::StoreError;

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Version 1. Times are unix seconds; article dates add a nanosecond column so they read back
/// exactly. `slug_key` is the Unicode-lowercased slug: `COLLATE NOCASE` folds ASCII only, and
/// case-insensitive file systems fold more than that.
const V1: &str = "
CREATE TABLE feeds (
    url                  TEXT PRIMARY KEY NOT NULL,
    name                 TEXT NOT NULL,
    etag                 TEXT,
    last_modified        TEXT,
    last_status          TEXT,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    retry_after          INTEGER,
    last_ok              INTEGER,
    last_checked         INTEGER
) STRICT;

CREATE TABLE articles (
    id            TEXT PRIMARY KEY NOT NULL,
    feed_url      TEXT NOT NULL REFERENCES feeds(url),
    guid          TEXT,
    link          TEXT,
    title         TEXT NOT NULL,
    author        TEXT NOT NULL,
    categories    TEXT NOT NULL,          -- JSON array of strings
    published     INTEGER NOT NULL,
    published_ns  INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL,
    updated_ns    INTEGER NOT NULL DEFAULT 0,
    html          TEXT NOT NULL,
    lead_image    TEXT,
    images        TEXT NOT NULL,          -- JSON array of strings
    content_hash  TEXT NOT NULL,
    slug          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    slug_key      TEXT NOT NULL UNIQUE,
    path          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'published', 'tombstone')),
    first_seen    INTEGER NOT NULL
) STRICT;

CREATE INDEX articles_by_date ON articles (published DESC, published_ns DESC, id);
CREATE INDEX articles_by_feed ON articles (feed_url);
CREATE INDEX articles_pending ON articles (state) WHERE state = 'pending';

CREATE TABLE images (
    url        TEXT PRIMARY KEY NOT NULL,
    first_seen INTEGER NOT NULL
) STRICT;
";

/// Version 2: a covering index of every column but the bodies (`html`, `images`), in date
/// order. The site builder reads article heads on every build; without it, reading
/// `content_hash` or `slug` (stored after `html`) walks each row's overflow pages, which is
/// reading the whole 100 MB of bodies.
const V2: &str = "
CREATE INDEX articles_heads ON articles (
    published DESC, published_ns DESC, id, state, feed_url, guid, link, title, author,
    categories, updated, updated_ns, lead_image, content_hash, slug, path
);
";

/// Version 3: per-feed counts (`tidings status`, the start of every sync) filter on `state`,
/// which sits after `html` in the row; without an index that holds both, counting one feed's
/// articles reads all of their bodies. (feed_url, state) also serves every feed_url lookup, so
/// it replaces the V1 index on feed_url alone.
const V3: &str = "
CREATE INDEX articles_by_feed_state ON articles (feed_url, state);
DROP INDEX articles_by_feed;
";

/// Version 4: posts still to be written are listed in their own table. Publishing used to flip
/// `state` from 'pending' to 'published' in the article row, and SQLite rewrites a whole row
/// (ten kilobytes of html in overflow pages) and three index entries to change one column; now
/// it deletes one short row. `articles.state` only tells live ('published') from 'tombstone'.
/// `articles_by_date` goes too: `articles_heads` starts with the same columns, and every index
/// is written again on each insert.
const V4: &str = "
CREATE TABLE pending (
    id TEXT PRIMARY KEY NOT NULL REFERENCES articles(id)
) STRICT, WITHOUT ROWID;
INSERT INTO pending (id) SELECT id FROM articles WHERE state = 'pending';
UPDATE articles SET state = 'published' WHERE state = 'pending';
DROP INDEX articles_pending;
DROP INDEX articles_by_date;
";

/// Version 5: new bodies go lz4-compressed into `body` (see `PackedBody` in lib.rs) and `html`
/// is left empty; rows from before keep their text in `html` and are read from there.
const V5: &str = "
ALTER TABLE articles ADD COLUMN body BLOB;
";

/// Version 6: `images` becomes a table clustered on its URL. As a rowid table with a TEXT
/// primary key it was two B-trees, and recording an image inserted into both (a cold sync
/// records 50,000 of them, on the single writer).
const V6: &str = "
CREATE TABLE images_by_url (
    url        TEXT PRIMARY KEY NOT NULL,
    first_seen INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO images_by_url (url, first_seen) SELECT url, first_seen FROM images;
DROP TABLE images;
ALTER TABLE images_by_url RENAME TO images;
";

/// Bring `conn` up to [`SCHEMA_VERSION`] in one transaction; refuse a newer database rather
/// than corrupt it.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let migrate_err = |version: i64| {
        let path = path.to_string();
        move |e: rusqlite::Error| StoreError::Migrate {
            path,
            version,
            source: e.into(),
        }
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(migrate_err(SCHEMA_VERSION))?;
    let found: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(migrate_err(SCHEMA_VERSION))?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_string(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (version, sql) in (1..).zip(MIGRATIONS).skip(found.max(0) as usize) {
        tx.execute_batch(sql).map_err(migrate_err(version))?;
        tx.pragma_update(None, "user_version", version)
            .map_err(migrate_err(version))?;
    }
    tx.commit().map_err(migrate_err(SCHEMA_VERSION))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-3 store with one pending and one published article, as an older Tidings
    /// left it.
    fn version_3() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds (url, name) VALUES ('http://f/', 'f');
             INSERT INTO articles (id, feed_url, title, author, categories, published, updated,
                                   html, images, content_hash, slug, slug_key, path, state,
                                   first_seen)
             VALUES ('a', 'http://f/', 'A', 'x', '[]', 1, 1, '<p>a</p>', '[]', 'h', 'a', 'a',
                     'a.md', 'pending', 1),
                    ('b', 'http://f/', 'B', 'x', '[]', 2, 2, '<p>b</p>', '[]', 'h', 'b', 'b',
                     'b.md', 'published', 1),
                    ('c', 'http://f/', 'C', 'x', '[]', 3, 3, '', '[]', 'h', 'c', 'c',
                     'c.md', 'tombstone', 1);",
        )
        .unwrap();
        conn
    }

    #[test]
    fn version_4_moves_pending_articles_to_their_own_table() {
        let mut conn = version_3();
        migrate(&mut conn, "test.db").unwrap();
        let pending: Vec<String> = conn
            .prepare("SELECT id FROM pending")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(pending, ["a"]);
        let states: Vec<(String, String)> = conn
            .prepare("SELECT id, state FROM articles ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let states: Vec<(&str, &str)> = states
            .iter()
            .map(|(i, s)| (i.as_str(), s.as_str()))
            .collect();
        assert_eq!(
            states,
            [("a", "published"), ("b", "published"), ("c", "tombstone")]
        );
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        let dropped: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name IN \
                 ('articles_pending', 'articles_by_date')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(dropped, 0);
    }

    #[test]
    fn version_6_keeps_every_image_in_a_table_without_rowids() {
        let mut conn = version_3();
        conn.execute_batch(
            "INSERT INTO images (url, first_seen) VALUES ('https://i.example/1.jpg', 7),
                                                         ('https://i.example/2.jpg', 8);",
        )
        .unwrap();
        migrate(&mut conn, "test.db").unwrap();
        let images: Vec<(String, i64)> = conn
            .prepare("SELECT url, first_seen FROM images ORDER BY url")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            images,
            [
                ("https://i.example/1.jpg".to_string(), 7),
                ("https://i.example/2.jpg".to_string(), 8)
            ]
        );
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'images'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.contains("WITHOUT ROWID"), "{sql}");
        // One B-tree: no separate index for the primary key any more.
        let indexes: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'images'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(indexes, 0);
    }
}
