//! JSON Feed 1.0 / 1.1 read straight from the `&str`, giving exactly the [`ParsedFeed`] of
//! the feed-rs route.
//!
//! feed-rs deserialises JSON Feed with `serde_json::from_reader`, byte by byte through
//! `IoRead`, into owned strings. Here the same schema (the same fields, types and field
//! order, so that serde accepts and rejects exactly the same documents, the array form of a
//! struct included) is read with `serde_json::from_str` into strings borrowed from the
//! document where they have no escapes. Whatever serde rejects, or feed-rs would reject
//! (an unsupported `version`) or panic on (an author name feed-rs slices inside a
//! character), is declined: feed-rs then runs and produces its own error.
//!
//! The rules mirrored, from feed-rs 3's `parser/json`:
//! - `version` must start with `https://jsonfeed.org/version/1`; `title` and `items` are
//!   required; unknown fields (`image`, `banner_image`, …) are ignored.
//! - Feed links: `home_page_url`, then `feed_url`; entry links: `url`, `external_url`, then
//!   each attachment's `url` (typed by its `mime_type`), all as `Link::new` writes them.
//! - Content: `content_html`, else `content_text`, trimmed; summary: `summary`, else
//!   `content_text` when `content_html` took the content; titles trimmed.
//! - Authors: `author` then `authors`, each with a name, parsed as `Person::parse` does,
//!   skipping a name equal to one already kept; an entry without any takes the feed's.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::de::{Deserializer, Unexpected, Visitor};
use serde::Deserialize;
use tidings_model::ParsedFeed;
use url::Url;

use crate::ids::EntryIds;
use crate::{
    build_entry, dates, feed_title, link_href, main_link, media_image, person_name, Bases,
    EntryParts, FeedContext, LinkRef,
};

/// Parses `doc` (a JSON document) if feed-rs would read it as a JSON Feed without error or
/// panic; `None` means "ask feed-rs".
pub(crate) fn parse(doc: &str, cx: &FeedContext) -> Option<ParsedFeed> {
    let feed: JsonFeed = serde_json::from_str(doc).ok()?;
    if !feed.version.0.starts_with("https://jsonfeed.org/version/1") {
        return None;
    }
    let feed_authors = authors(&feed.author, &feed.authors)?;
    let links: Vec<String> = [&feed.home_page_url, &feed.feed_url]
        .into_iter()
        .flatten()
        .map(|u| link_href(&u.0))
        .collect();
    let bases = Bases::new(main_link(plain_links(&links)), cx);
    let mut ids = EntryIds::new(cx.url);
    let mut entries = Vec::with_capacity(feed.items.len());
    for item in &feed.items {
        entries.push(entry(item, &feed_authors, &bases, cx, &mut ids)?);
    }
    Some(ParsedFeed {
        title: feed_title(Some(feed.title.0.trim())),
        link: bases.feed_link.map(String::from),
        entries,
    })
}

/// A JSON string, borrowed from the document when it has no escapes. It accepts exactly
/// what serde's `String` accepts from serde_json.
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_string(StrVisitor(PhantomData))
    }
}

struct StrVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
    type Value = Str<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: serde::de::Error>(self, s: &'de str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Borrowed(s)))
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(s.to_string())))
    }

    fn visit_string<E: serde::de::Error>(self, s: String) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(s)))
    }

    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Str<'a>, E> {
        // As `String` does: bytes are a string when they are UTF-8.
        match std::str::from_utf8(b) {
            Ok(s) => Ok(Str(Cow::Owned(s.to_string()))),
            Err(_) => Err(E::invalid_value(Unexpected::Bytes(b), &self)),
        }
    }
}

// The schema below is feed-rs's, field for field and in its order (serde also reads a struct
// from an array, by position). Fields we do not use are still typed, so that a wrong type
// fails here as it fails there.

#[derive(Deserialize)]
struct JsonFeed<'a> {
    #[serde(borrow)]
    version: Str<'a>,
    #[serde(borrow)]
    title: Str<'a>,
    #[serde(borrow)]
    home_page_url: Option<Str<'a>>,
    #[serde(borrow)]
    feed_url: Option<Str<'a>>,
    #[serde(borrow, rename = "language")]
    _language: Option<Str<'a>>,
    #[serde(borrow, rename = "description")]
    _description: Option<Str<'a>>,
    #[serde(borrow, rename = "icon")]
    _icon: Option<Str<'a>>,
    #[serde(borrow, rename = "favicon")]
    _favicon: Option<Str<'a>>,
    #[serde(borrow)]
    author: Option<JsonAuthor<'a>>,
    #[serde(borrow)]
    authors: Option<Vec<JsonAuthor<'a>>>,
    #[serde(borrow)]
    items: Vec<JsonItem<'a>>,
}

#[derive(Deserialize)]
struct JsonAttachment<'a> {
    #[serde(borrow)]
    url: Str<'a>,
    #[serde(borrow)]
    mime_type: Str<'a>,
    #[serde(borrow, rename = "title")]
    _title: Option<Str<'a>>,
    #[serde(rename = "size_in_bytes")]
    _size_in_bytes: Option<u64>,
}

#[derive(Deserialize)]
struct JsonAuthor<'a> {
    #[serde(borrow)]
    name: Option<Str<'a>>,
    #[serde(borrow, rename = "url")]
    _url: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct JsonItem<'a> {
    #[serde(borrow)]
    id: Option<Str<'a>>,
    #[serde(borrow)]
    url: Option<Str<'a>>,
    #[serde(borrow)]
    external_url: Option<Str<'a>>,
    #[serde(borrow)]
    title: Option<Str<'a>>,
    #[serde(borrow)]
    content_html: Option<Str<'a>>,
    #[serde(borrow)]
    content_text: Option<Str<'a>>,
    #[serde(borrow)]
    summary: Option<Str<'a>>,
    #[serde(borrow)]
    date_published: Option<Str<'a>>,
    #[serde(borrow)]
    date_modified: Option<Str<'a>>,
    #[serde(borrow)]
    author: Option<JsonAuthor<'a>>,
    #[serde(borrow)]
    authors: Option<Vec<JsonAuthor<'a>>>,
    #[serde(borrow, rename = "tags")]
    _tags: Option<Vec<Str<'a>>>,
    #[serde(borrow)]
    attachments: Option<Vec<JsonAttachment<'a>>>,
}

/// The people feed-rs keeps from `author` and `authors`, as their parsed names (`None`: a
/// person whose text was only an email). `None` (the outer one) where feed-rs would panic.
fn authors<'j>(
    author: &'j Option<JsonAuthor>,
    authors: &'j Option<Vec<JsonAuthor>>,
) -> Option<Vec<Option<&'j str>>> {
    let mut kept: Vec<Option<&str>> = Vec::new();
    let all = author.iter().chain(authors.iter().flatten());
    for raw in all.filter_map(|a| a.name.as_ref()) {
        let raw = raw.0.as_ref();
        // feed-rs compares the raw name with the names it kept (parsed, so trimmed).
        if kept.contains(&Some(raw)) {
            continue;
        }
        kept.push(person_name(raw)?);
    }
    Some(kept)
}

fn plain_links(hrefs: &[String]) -> impl Iterator<Item = LinkRef<'_>> + Clone {
    hrefs.iter().map(|href| LinkRef {
        href,
        rel: None,
        plain: true,
    })
}

fn entry(
    item: &JsonItem,
    feed_authors: &[Option<&str>],
    bases: &Bases,
    cx: &FeedContext,
    ids: &mut EntryIds,
) -> Option<tidings_model::Entry> {
    let attachments = item.attachments.as_deref().unwrap_or_default();
    let links: Vec<String> = [&item.url, &item.external_url]
        .into_iter()
        .flatten()
        .chain(attachments.iter().map(|a| &a.url))
        .map(|u| link_href(&u.0))
        .collect();
    let own_authors = authors(&item.author, &item.authors)?;
    let author = if own_authors.is_empty() {
        feed_authors.first()
    } else {
        own_authors.first()
    };
    let html = item.content_html.as_ref().map(|c| c.0.trim());
    let text = item.content_text.as_ref().map(|c| c.0.trim());
    let date = |d: &Option<Str>| {
        d.as_ref()
            .and_then(|d| dates::parse_date(&d.0, cx.timezone))
    };
    let parts = EntryParts {
        link: main_link(plain_links(&links)),
        content_base: None,
        guid: item.id.as_ref().map_or("", |i| &i.0),
        title: item.title.as_ref().map(|t| t.0.trim()),
        author: author.copied().flatten(),
        body: html.or(text).map(Cow::Borrowed),
        summary: match &item.summary {
            Some(s) => Some(Cow::Borrowed(s.0.trim())),
            None => html.and(text).map(Cow::Borrowed),
        },
        published: date(&item.date_published),
        updated: date(&item.date_modified),
    };
    // Attachment links sit after `url` and `external_url` in `links`.
    let first_attachment = links.len() - attachments.len();
    let media = |base: Option<&Url>, bases: &Bases| {
        let image_links = links[first_attachment..]
            .iter()
            .zip(attachments)
            .filter(|(_, a)| a.mime_type.0.starts_with("image/"))
            .map(|(href, _)| href.as_str());
        media_image(
            std::iter::empty(),
            image_links,
            std::iter::empty(),
            base,
            bases,
        )
    };
    Some(build_entry(parts, media, None, bases, true, ids))
}
