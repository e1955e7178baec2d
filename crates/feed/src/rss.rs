//! One pass over plain RSS 2.0, giving exactly the [`ParsedFeed`] of the feed-rs route.
//!
//! Most feeds are RSS 2.0 of one plain shape: a channel with a title and a link, and items of
//! title, link, guid, date, description and maybe `content:encoded`, author and enclosure.
//! feed-rs reads such a feed through a `BufRead`, so quick-xml validates every byte as UTF-8
//! again, and every text is copied a few times on its way into feed-rs's model. Here the
//! repaired document is already a `&str`: [`parse`] walks it once, takes text as slices of it,
//! and returns `None` at the first thing whose outcome it would have to work out the way
//! feed-rs does — an element outside the small set below, `xml:base`, a default namespace, a
//! DOCTYPE, a nested element inside a text element, an odd reference, an unusual media type,
//! markup it does not recognise. The caller then runs feed-rs, which handles anything.
//!
//! Reading is done by the shared [`crate::reader`] (quick-xml's own pieces for tags,
//! attributes and references), and everything after reading (ids, bases, dates, plain text,
//! main link, lead image) by the same functions the feed-rs route calls. Where this module
//! mirrors a feed-rs rule (which of two titles wins, what is trimmed), the comment says so,
//! and a differential property test holds it to feed-rs's output.
//!
//! Accepted: an `<?xml?>` prolog declaring UTF-8 (or nothing), comments and processing
//! instructions before the root; `<rss version="2.0">` (or `version=""`) whose only
//! namespace declarations are prefixed; its `<channel>`; in the channel `title`, `link`,
//! `atom:link`, `item`, and any other element that feed-rs reads only into fields we do not
//! use (description, language, image, …) or ignores (unknown namespaces), skipped after a
//! strict well-formedness check; in an item `title`, `link`, `guid`, `pubDate`, `dc:date`,
//! `description`, `content:encoded`, `author`, `dc:creator`, `category`, `comments`,
//! `enclosure`, `media:content` and `media:thumbnail` (both without children). What follows
//! `</channel>` is not read (nor is it by feed-rs), apart from the stretch up to the next tag,
//! which feed-rs's reader has already fetched (see `Reader::after_end`).

use std::borrow::Cow;

use tidings_model::ParsedFeed;
use url::Url;

use crate::ids::EntryIds;
use crate::reader::{media, trim_cow, Media, Ns, Reader, Start, Text};
use crate::{
    build_entry, dates, feed_title, link_href, main_link, media_image, person_name, Bases,
    EntryParts, FeedContext, LinkRef,
};

/// Parses `doc` (repaired XML) if it is plain RSS 2.0; `None` means "ask feed-rs".
pub(crate) fn parse(doc: &str, cx: &FeedContext) -> Option<ParsedFeed> {
    // Unprefixed names are RSS, and a default namespace is left to feed-rs.
    let mut reader = Reader::new(doc, Ns::Rss, None);
    reader.prolog()?;
    reader.root()?;
    let channel = reader.channel()?;
    finish(channel, cx)
}

/// What the channel holds, as read.
#[derive(Default)]
struct Channel<'a> {
    /// The last `<title>`'s text (feed-rs assigns, so the last one wins, empty or not).
    title: Option<Text<'a>>,
    /// `<link>` and `atom:link` as feed-rs's `Link` would hold them: href and rel.
    links: Vec<(String, Option<Cow<'a, str>>)>,
    items: Vec<Item<'a>>,
}

/// One item, as read.
#[derive(Default)]
struct Item<'a> {
    /// Last `<title>` wins.
    title: Option<Text<'a>>,
    /// First `<link>` with text: feed-rs pushes every link, and the first plain one wins.
    link: Option<Text<'a>>,
    /// Last `<guid>` with text (feed-rs assigns only when there is text).
    guid: Option<Text<'a>>,
    /// Text of the last `<pubDate>` / `<dc:date>` (feed-rs assigns, so an empty one clears).
    date: Option<Text<'a>>,
    /// Last `<description>` wins.
    summary: Option<Text<'a>>,
    /// Last `<content:encoded>` wins.
    encoded: Option<Text<'a>>,
    /// The first `<author>` / `<dc:creator>` with text: feed-rs pushes them in order and we
    /// take the first person's name.
    author: Option<Text<'a>>,
    enclosures: Vec<Media<'a>>,
    media_contents: Vec<Media<'a>>,
    thumbnails: Vec<Cow<'a, str>>,
}

impl<'a> Reader<'a> {
    /// `<rss version="2.0">` and its namespace declarations.
    fn root(&mut self) -> Option<()> {
        let start = self.start_tag(true)?;
        if start.qname() != "rss" || start.empty {
            return None;
        }
        // feed-rs dispatches on the first `version` attribute.
        let version = start.attr("version")?;
        if !matches!(version.as_ref(), "2.0" | "") {
            return None;
        }
        Some(())
    }

    /// The channel: the first element of the root, which must be `<channel>`.
    fn channel(&mut self) -> Option<Channel<'a>> {
        self.skip_space_and_comments()?;
        let start = self.start_tag(false)?;
        if start.qname() != "channel" || start.empty {
            return None;
        }
        let mut channel = Channel::default();
        while let Some(child) = self.next_child(&start)? {
            match (child.ns, child.local) {
                (Ns::Rss, "title") => channel.title = self.text(&child)?,
                (Ns::Rss, "link") => {
                    if let Some(text) = self.text(&child)? {
                        channel.links.push((link_href(&text), None));
                    }
                }
                (Ns::Atom, "link") => {
                    self.no_content(&child)?;
                    if let Some(href) = child.attr("href") {
                        // feed-rs defaults an Atom link's rel to "alternate".
                        let rel = child.attr("rel").unwrap_or(Cow::Borrowed("alternate"));
                        channel.links.push((link_href(&href), Some(rel)));
                    }
                }
                (Ns::Rss, "item") => channel.items.push(self.item(&child)?),
                (Ns::Rss, "managingEditor" | "webMaster") => {
                    self.person(&child)?;
                }
                (Ns::Unhandled, _) => return None,
                // Everything else feed-rs reads into fields we do not use, or ignores.
                _ => self.skip_content(&child, 1)?,
            }
        }
        self.after_end()?;
        Some(channel)
    }

    fn item(&mut self, start: &Start<'a>) -> Option<Item<'a>> {
        let mut item = Item::default();
        while let Some(child) = self.next_child(start)? {
            match (child.ns, child.local) {
                (Ns::Rss, "title") => item.title = self.text(&child)?,
                (Ns::Rss, "link") => {
                    let text = self.text(&child)?;
                    if item.link.is_none() {
                        item.link = text;
                    }
                }
                (Ns::Rss, "guid") => {
                    if let Some(text) = self.text(&child)? {
                        item.guid = Some(text);
                    }
                }
                (Ns::Rss, "pubDate") | (Ns::Dc, "date") => item.date = self.text(&child)?,
                (Ns::Rss, "description") => item.summary = self.text(&child)?,
                (Ns::Content, "encoded") => item.encoded = self.text(&child)?,
                (Ns::Rss, "author") | (Ns::Dc, "creator") => {
                    let text = self.person(&child)?;
                    if item.author.is_none() {
                        item.author = text;
                    }
                }
                // Read by feed-rs into categories and comment links, which decide nothing
                // here (comment links are never the main link and carry no media type).
                (Ns::Rss, "category" | "comments") => {
                    self.text(&child)?;
                }
                (Ns::Rss, "enclosure") => {
                    self.no_content(&child)?;
                    if let Some(media) = media(&child)? {
                        item.enclosures.push(media);
                    }
                }
                (Ns::Media, "content") => {
                    self.no_content(&child)?;
                    if let Some(media) = media(&child)? {
                        item.media_contents.push(media);
                    }
                }
                (Ns::Media, "thumbnail") => {
                    self.no_content(&child)?;
                    // feed-rs parses `time` with an unwrap that panics on long numbers.
                    if child.attr("time").is_some() {
                        return None;
                    }
                    if let Some(url) = child.attr("url") {
                        item.thumbnails.push(url);
                    }
                }
                _ => return None,
            }
        }
        Some(item)
    }

    /// The text of an element feed-rs reads as a person; `None` (the outer one) when
    /// feed-rs would panic on it, whichever person it is.
    fn person(&mut self, start: &Start<'a>) -> Option<Option<Text<'a>>> {
        let text = self.text(start)?;
        if let Some(raw) = &text {
            person_name(raw)?;
        }
        Some(text)
    }
}

/// Turns what was read into the feed, through the same helpers as the feed-rs route.
fn finish(channel: Channel, cx: &FeedContext) -> Option<ParsedFeed> {
    let links = channel.links.iter().map(|(href, rel)| LinkRef {
        href,
        rel: rel.as_deref(),
        plain: true,
    });
    let bases = Bases::new(main_link(links), cx);
    let mut ids = EntryIds::new(cx.url);
    let mut entries = Vec::with_capacity(channel.items.len());
    for item in channel.items {
        entries.push(entry(item, &bases, cx, &mut ids)?);
    }
    Some(ParsedFeed {
        title: feed_title(channel.title.as_deref().map(str::trim)),
        link: bases.feed_link.map(String::from),
        entries,
    })
}

fn entry(
    item: Item,
    bases: &Bases,
    cx: &FeedContext,
    ids: &mut EntryIds,
) -> Option<tidings_model::Entry> {
    let link = item.link.as_deref().map(link_href);
    let author = match item.author.as_deref() {
        Some(raw) => person_name(raw)?,
        None => None,
    };
    // feed-rs copies the published date into `updated` when there is no other.
    let published = item
        .date
        .as_deref()
        .and_then(|d| dates::parse_date(d, cx.timezone));
    let parts = EntryParts {
        link: link.as_deref(),
        content_base: None,
        guid: item.guid.as_deref().map_or("", str::trim),
        // feed-rs trims titles and descriptions (its `Text`), not `content:encoded`.
        title: item.title.as_deref().map(str::trim),
        author,
        body: item.encoded.filter(|b| !b.is_empty()),
        summary: item.summary.map(trim_cow),
        published,
        updated: published,
    };
    // With any media:content, feed-rs's MediaRSS object takes over: its contents replace
    // the enclosures, and only then do thumbnails count.
    let (contents, thumbnails) = if item.media_contents.is_empty() {
        (&item.enclosures, &[][..])
    } else {
        (&item.media_contents, &item.thumbnails[..])
    };
    let media = |base: Option<&Url>, bases: &Bases| {
        media_image(
            contents.iter().map(|m| (&m.url, m.kind.clone())),
            std::iter::empty(),
            thumbnails.iter().map(|t| t.as_ref()),
            base,
            bases,
        )
    };
    Some(build_entry(parts, media, None, bases, false, ids))
}
