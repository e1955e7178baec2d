//! The SQLite store: feeds, articles, published images.
