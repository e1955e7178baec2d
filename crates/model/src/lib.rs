//! Plain data that flows between the pipeline stages.
//!
//! Nothing here does I/O. The stages (`feed`, `content`, `store`, `publish`, …) take and return
//! these types, which is what lets each stage be tested on its own.

pub mod image;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// A feed as the user configured it, with defaults already applied.
#[derive(Clone, Debug)]
pub struct FeedSource {
    /// Unique, human-readable name (`--feed NAME`, log lines). Defaults to the URL.
    pub name: String,
    /// Where to fetch it. The feed's identity in the store: article ids derive from it.
    pub url: String,
    /// Category path, outermost first: `["新媒体", "ZAKER", "source"]`.
    pub categories: Vec<String>,
    /// Author written on every post; `None` means "the feed's own title".
    pub author: Option<String>,
    /// Zone in which naive feed dates are read (the feed's `timezone`, else `[site] timezone`).
    pub timezone: TimeZone,
}

/// A parsed feed: its own metadata and its entries in document order.
#[derive(Clone, Debug, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    pub link: Option<String>,
    pub entries: Vec<Entry>,
}

/// One entry as the feed stated it. Text fields are plain text; `content` is raw, hostile HTML.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Stable id (hex), the same on every parse of the same entry.
    pub id: String,
    pub guid: Option<String>,
    /// Absolute article link, if the feed gave one.
    pub link: Option<String>,
    pub title: String,
    pub author: Option<String>,
    pub published: Option<Timestamp>,
    pub updated: Option<Timestamp>,
    /// Raw HTML of the article body (content, else summary). Untrusted.
    pub content: String,
    /// Base URL for relative references in `content`: xml:base, else the entry link, else the
    /// feed link.
    pub base: Option<String>,
    /// Image from an enclosure or `media:content`, the lead-image fallback.
    pub media_image: Option<String>,
}

/// Output of the content stage: sanitized HTML in canonical form.
///
/// Canonical means every `<img src>` holds the original absolute image URL; the image policy
/// (proxy, direct) is applied only when a post is rendered, so changing the proxy never needs a
/// re-fetch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CleanHtml {
    pub html: String,
    /// Every image URL in document order, deduplicated.
    pub images: Vec<String>,
}

/// An article as the store keeps it and publishers render it.
#[derive(Clone, Debug, PartialEq)]
pub struct Article {
    pub id: String,
    /// URL of the feed it came from.
    pub feed_url: String,
    pub guid: Option<String>,
    pub link: Option<String>,
    pub title: String,
    pub author: String,
    pub categories: Vec<String>,
    pub published: Timestamp,
    pub updated: Timestamp,
    /// Canonical cleaned HTML (see [`CleanHtml`]).
    pub html: String,
    /// Original URL of the lead image: first content image, else the enclosure.
    pub lead_image: Option<String>,
    /// Original URLs of every image in `html`.
    pub images: Vec<String>,
}

impl Article {
    /// Hash over everything a rendered post depends on. Equal hashes mean the post file need
    /// not be touched.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        let mut field = |s: &str| {
            // Length-prefix every field so ("ab","c") and ("a","bc") differ.
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        field(&self.title);
        field(&self.author);
        for c in &self.categories {
            field(c);
        }
        field("\u{0}categories-end");
        field(self.link.as_deref().unwrap_or(""));
        field(&self.published.as_second().to_string());
        field(&self.updated.as_second().to_string());
        field(self.lead_image.as_deref().unwrap_or(""));
        field(&self.html);
        hex(&h.finalize()[..16])
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article() -> Article {
        Article {
            id: "a".into(),
            feed_url: "http://f".into(),
            guid: None,
            link: Some("http://f/1".into()),
            title: "t".into(),
            author: "x".into(),
            categories: vec!["a".into(), "b".into()],
            published: Timestamp::UNIX_EPOCH,
            updated: Timestamp::UNIX_EPOCH,
            html: "<p>x</p>".into(),
            lead_image: None,
            images: vec![],
        }
    }

    #[test]
    fn hash_changes_with_any_rendered_field() {
        let base = article().content_hash();
        let mut a = article();
        a.title = "u".into();
        assert_ne!(a.content_hash(), base);
        let mut a = article();
        a.categories = vec!["ab".into()];
        assert_ne!(a.content_hash(), base);
        let mut a = article();
        a.html.push(' ');
        assert_ne!(a.content_hash(), base);
        assert_eq!(article().content_hash(), base);
    }
}
