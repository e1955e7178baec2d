//! Versioned schema. `PRAGMA user_version` holds the number of migrations applied; each entry
//! of [`MIGRATIONS`] moves the schema one version up. Never edit a released migration: append.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::StoreError;

/// Migrations in order; `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

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

/// Version 7: bodies (`html`, `body`, `images`) move to `bodies`, one row per article keyed by
/// the article's `seq`. Every index of `articles` was written again on each insert, and two of
/// them only existed because of the bodies: `articles_heads` copied every other column so that
/// reading heads skipped the bodies, and they were most of the single writer's index work in a
/// cold sync. `slug COLLATE NOCASE UNIQUE` goes too: `slug_key UNIQUE` (Unicode lowercase) is
/// the stricter rule, and it stays. Heads are read in date order from `articles_by_date`.
///
/// A table rebuild: it runs with foreign keys off (see [`migrate`]), since `pending` refers to
/// `articles` and the old table is dropped before the new one takes its name.
const V7: &str = "
CREATE TABLE articles_v7 (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
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
    lead_image    TEXT,
    content_hash  TEXT NOT NULL,
    slug          TEXT NOT NULL,
    slug_key      TEXT NOT NULL UNIQUE,
    path          TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('pending', 'published', 'tombstone')),
    first_seen    INTEGER NOT NULL
) STRICT;

CREATE TABLE bodies (
    seq     INTEGER PRIMARY KEY REFERENCES articles(seq),
    html    TEXT NOT NULL DEFAULT '',     -- bodies stored before version 5
    body    BLOB,                         -- lz4, see `PackedBody`
    images  TEXT NOT NULL                 -- JSON array of strings
) STRICT;

INSERT INTO articles_v7 (seq, id, feed_url, guid, link, title, author, categories, published,
                         published_ns, updated, updated_ns, lead_image, content_hash, slug,
                         slug_key, path, state, first_seen)
SELECT rowid, id, feed_url, guid, link, title, author, categories, published, published_ns,
       updated, updated_ns, lead_image, content_hash, slug, slug_key, path, state, first_seen
FROM articles;
INSERT INTO bodies (seq, html, body, images)
SELECT rowid, html, body, images FROM articles WHERE state != 'tombstone';
DROP TABLE articles;
ALTER TABLE articles_v7 RENAME TO articles;
CREATE INDEX articles_by_feed_state ON articles (feed_url, state);
CREATE INDEX articles_by_date ON articles (published DESC, published_ns DESC, id);
";

/// Bring `conn` up to [`SCHEMA_VERSION`] in one transaction; refuse a newer database rather
/// than corrupt it. Foreign keys are off meanwhile, as a table rebuild needs (SQLite ignores
/// the setting inside a transaction), and references are checked before the commit instead.
pub fn migrate(conn: &mut Connection, path: &str) -> Result<(), StoreError> {
    let err = |e: rusqlite::Error| StoreError::Migrate {
        path: path.to_string(),
        version: SCHEMA_VERSION,
        source: e.into(),
    };
    let enforced: bool = conn
        .pragma_query_value(None, "foreign_keys", |row| row.get(0))
        .and_then(|on| conn.pragma_update(None, "foreign_keys", false).map(|()| on))
        .map_err(err)?;
    let migrated = migrate_in_transaction(conn, path);
    let restored = conn.pragma_update(None, "foreign_keys", enforced);
    let found = migrated?;
    restored.map_err(err)?;
    if (1..REBUILT_BODIES).contains(&found) {
        // The rebuild left the old table's pages free inside the file, as big as all the
        // bodies: give them back once. Best effort: the data is committed, and SQLite reuses
        // free pages anyway, if a reader (`tidings serve`) keeps the file from being rewritten.
        let _ = conn.execute_batch("VACUUM");
    }
    Ok(())
}

/// The version whose migration copied every body to a new table.
const REBUILT_BODIES: i64 = 7;

/// Runs the missing migrations in one transaction; returns the version found.
fn migrate_in_transaction(conn: &mut Connection, path: &str) -> Result<i64, StoreError> {
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
    // Only after a migration: the check reads every row of every table with a reference,
    // bodies included, which doubled the time of a sync that finds nothing new.
    if found < SCHEMA_VERSION {
        check_references(&tx).map_err(migrate_err(SCHEMA_VERSION))?;
    }
    tx.commit().map_err(migrate_err(SCHEMA_VERSION))?;
    Ok(found)
}

/// Fails if any row refers to a row that does not exist. Migrations run with foreign keys off
/// (a table rebuild needs it), so nothing else would notice one that broke a reference.
fn check_references(conn: &Connection) -> rusqlite::Result<()> {
    let broken: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    match broken {
        None => Ok(()),
        Some(table) => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
            Some(format!("a row of {table} refers to a missing row")),
        )),
    }
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
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'articles_pending'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(dropped, 0);
    }

    #[test]
    fn version_7_moves_bodies_to_their_own_table_and_keeps_every_reference() {
        let mut conn = version_3();
        migrate(&mut conn, "test.db").unwrap();
        let rows: Vec<(String, String, Option<String>)> = conn
            .prepare(
                "SELECT a.id, a.state, b.html FROM articles a
                 LEFT JOIN bodies b ON b.seq = a.seq ORDER BY a.id",
            )
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let expected = [
            ("a", "published", Some("<p>a</p>")),
            ("b", "published", Some("<p>b</p>")),
            ("c", "tombstone", None),
        ];
        let rows: Vec<(&str, &str, Option<&str>)> = rows
            .iter()
            .map(|(i, s, h)| (i.as_str(), s.as_str(), h.as_deref()))
            .collect();
        assert_eq!(rows, expected);
        // `pending` still refers to a live article, and the schema enforces it again.
        let pending: String = conn
            .query_row("SELECT id FROM pending", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pending, "a");
        let on: bool = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert!(on, "foreign keys are enforced again after the migration");
        assert!(conn
            .execute("INSERT INTO pending (id) VALUES ('missing')", [])
            .is_err());
        assert!(conn
            .execute("INSERT INTO bodies (seq, images) VALUES (999, '[]')", [])
            .is_err());
        // Only the indexes a sync needs are left.
        let indexes: Vec<String> = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'articles'
                 AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(indexes, ["articles_by_date", "articles_by_feed_state"]);
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'articles'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!sql.contains("NOCASE") && !sql.contains("html"), "{sql}");
        // The old table's pages went back: the file is not left twice as big.
        let free: i64 = conn
            .pragma_query_value(None, "freelist_count", |r| r.get(0))
            .unwrap();
        assert_eq!(free, 0);
    }

    #[test]
    fn a_migration_that_would_break_a_reference_is_refused() {
        let mut conn = version_3();
        // Damage an old store could carry: an article of a feed that is gone.
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        conn.execute(
            "INSERT INTO articles (id, feed_url, title, author, categories, published, updated,
                                   html, images, content_hash, slug, slug_key, path, state,
                                   first_seen)
             VALUES ('g', 'http://gone/', 'G', 'x', '[]', 1, 1, '', '[]', 'h', 'g', 'g',
                     'g.md', 'pending', 1)",
            [],
        )
        .unwrap();
        let err = migrate(&mut conn, "test.db").unwrap_err().to_string();
        assert!(
            err.contains("test.db") && err.contains("refers to a missing row"),
            "{err}"
        );
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, 3, "nothing of the migration is kept");
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
