//! One pass over plain Atom 1.0, giving exactly the [`ParsedFeed`] of the feed-rs route.
//!
//! The same bargain as [`crate::rss`]: read with the shared [`crate::reader`], finish with
//! the same helpers as the feed-rs route, and return `None` (feed-rs then runs) at anything
//! whose feed-rs treatment is not mirrored here. The rules mirrored, from feed-rs 3's
//! `parser/atom`:
//!
//! - Text constructs (`title`, `summary`, and `content` typed `text`, `html`, `text/html` or
//!   untyped) are the element's text, trimmed, and `""` when it has none; the last element
//!   wins. `xhtml`, `src=`, other media types, or an unknown `type` (an error in feed-rs)
//!   are declined, as is markup nested in a text.
//! - `id`, `updated`, `published` / `pubDate`: the last one with text wins.
//! - A `link` needs an `href` (kept as feed-rs's `Link::new` writes it); `rel` defaults to
//!   `alternate`; its `type` is kept for the image-link fallback.
//! - An `author` is a person when it has a `name` with text or its last `email` has text;
//!   the entry's author is the first person's name (its last `name` with text), read by
//!   local name whatever the child's namespace.
//! - `media:content` and `media:thumbnail` without children, as in RSS.
//!
//! Accepted: an `<?xml?>` prolog declaring UTF-8 (or nothing), comments and processing
//! instructions before the root; `<feed>` whose default namespace, if declared, is Atom, with
//! prefixed declarations; in the feed `title`, `link`, `entry`, `subtitle` and `rights` (known
//! types only) and any other element, skipped after a strict well-formedness check; in an
//! entry the elements above plus `rights`, `category`, `contributor` and unknown elements
//! (skipped likewise). Declined besides: `xml:base` anywhere, iTunes / Podcast /
//! Well-Formed Web elements, other MediaRSS elements.

use std::borrow::Cow;

use tidings_model::ParsedFeed;
use url::Url;

use crate::ids::EntryIds;
use crate::reader::{media, trim_cow, Media, Ns, Reader, Start, Text};
use crate::{
    build_entry, dates, feed_title, link_href, main_link, media_image, Bases, EntryParts,
    FeedContext, LinkRef,
};

const ATOM_URI: &str = "http://www.w3.org/2005/Atom";

/// Parses `doc` (repaired XML) if it is plain Atom 1.0; `None` means "ask feed-rs".
pub(crate) fn parse(doc: &str, cx: &FeedContext) -> Option<ParsedFeed> {
    // feed-rs reads unprefixed names in an Atom root as Atom, declared or not.
    let mut reader = Reader::new(doc, Ns::Atom, Some(ATOM_URI));
    reader.prolog()?;
    let root = reader.start_tag(true)?;
    if root.qname() != "feed" || root.empty {
        return None;
    }
    let feed = reader.feed(&root)?;
    finish(feed, cx)
}

/// What the feed element holds, as read.
#[derive(Default)]
struct Feed<'a> {
    /// The last `<title>` (trimmed; feed-rs assigns every one).
    title: Option<Text<'a>>,
    links: Vec<Link<'a>>,
    entries: Vec<Entry<'a>>,
}

/// A `<link>` as feed-rs's `Link` holds it.
struct Link<'a> {
    href: String,
    rel: Cow<'a, str>,
    kind: Option<Cow<'a, str>>,
}

/// One entry, as read.
#[derive(Default)]
struct Entry<'a> {
    /// Last `<id>` with text.
    id: Option<Text<'a>>,
    /// Last `<title>`, trimmed.
    title: Option<Text<'a>>,
    /// Text of the last `<updated>` / `<published>` with text.
    updated: Option<Text<'a>>,
    published: Option<Text<'a>>,
    /// The first person's name, once there is a first person.
    author: Option<Option<Text<'a>>>,
    /// Last `<content>`, trimmed.
    content: Option<Text<'a>>,
    /// Last `<summary>`, trimmed.
    summary: Option<Text<'a>>,
    links: Vec<Link<'a>>,
    media_contents: Vec<Media<'a>>,
    thumbnails: Vec<Cow<'a, str>>,
}

impl<'a> Reader<'a> {
    fn feed(&mut self, root: &Start<'a>) -> Option<Feed<'a>> {
        let mut feed = Feed::default();
        while let Some(child) = self.next_child(root)? {
            match (child.ns, child.local) {
                (Ns::Atom, "title") => feed.title = Some(self.text_construct(&child)?),
                (Ns::Atom, "link") => feed.links.extend(self.link(&child)?),
                (Ns::Atom, "entry") => feed.entries.push(self.entry(&child)?),
                // Read as text constructs: an unknown type is an error in feed-rs.
                (Ns::Atom, "subtitle" | "rights") => {
                    known_text_type(&child)?;
                    self.skip_content(&child, 1)?;
                }
                (Ns::Unhandled, _) => return None,
                // feed-rs reads the rest into fields we do not use, or ignores it.
                _ => self.skip_content(&child, 1)?,
            }
        }
        self.after_end()?;
        Some(feed)
    }

    fn entry(&mut self, start: &Start<'a>) -> Option<Entry<'a>> {
        let mut entry = Entry::default();
        while let Some(child) = self.next_child(start)? {
            match (child.ns, child.local) {
                (Ns::Atom, "id") => keep_text(&mut entry.id, self.text(&child)?),
                (Ns::Atom, "title") => entry.title = Some(self.text_construct(&child)?),
                (Ns::Atom, "updated") => keep_text(&mut entry.updated, self.text(&child)?),
                (Ns::Atom, "published" | "pubDate") => {
                    keep_text(&mut entry.published, self.text(&child)?);
                }
                (Ns::Atom, "author") => {
                    let person = self.atom_person(&child)?;
                    if entry.author.is_none() {
                        entry.author = person;
                    }
                }
                (Ns::Atom, "content") => entry.content = Some(self.content(&child)?),
                (Ns::Atom, "link") => entry.links.extend(self.link(&child)?),
                (Ns::Atom, "summary") => entry.summary = Some(self.text_construct(&child)?),
                (Ns::Atom, "rights") => {
                    known_text_type(&child)?;
                    self.skip_content(&child, 1)?;
                }
                (Ns::Media, "content") => {
                    self.no_content(&child)?;
                    entry.media_contents.extend(media(&child)?);
                }
                (Ns::Media, "thumbnail") => {
                    self.no_content(&child)?;
                    // feed-rs parses `time` with an unwrap that panics on long numbers.
                    if child.attr("time").is_some() {
                        return None;
                    }
                    entry.thumbnails.extend(child.attr("url"));
                }
                (Ns::Media | Ns::Unhandled, _) => return None,
                // Categories, contributors, unknown elements: nothing we use.
                _ => self.skip_content(&child, 1)?,
            }
        }
        Some(entry)
    }

    /// A text construct as feed-rs's `handle_text` reads it for `text` and `html`: the text,
    /// trimmed, or `""` when there is none.
    fn text_construct(&mut self, start: &Start<'a>) -> Option<Text<'a>> {
        known_text_type(start)?;
        let text = self.text(start)?;
        Some(text.map(trim_cow).unwrap_or_default())
    }

    /// `<content>`: inline text or HTML only (no `src`, no other media type).
    fn content(&mut self, start: &Start<'a>) -> Option<Text<'a>> {
        if start.attr("src").is_some() {
            return None;
        }
        self.text_construct(start)
    }

    /// A link, when it has an `href`; its children (none expected) are left to feed-rs.
    fn link(&mut self, start: &Start<'a>) -> Option<Option<Link<'a>>> {
        self.no_content(start)?;
        let Some(href) = start.attr("href") else {
            return Some(None);
        };
        Some(Some(Link {
            href: link_href(&href),
            rel: start.attr("rel").unwrap_or(Cow::Borrowed("alternate")),
            kind: start.attr("type"),
        }))
    }

    /// A person (`author`): `Some(name)` when feed-rs makes one, the name being the last
    /// `name` with text; feed-rs matches children by local name, whatever the namespace.
    fn atom_person(&mut self, start: &Start<'a>) -> Option<Option<Option<Text<'a>>>> {
        if start.empty {
            return Some(None);
        }
        let mut name = None;
        let mut email = None;
        while let Some(child) = self.next_child(start)? {
            match child.local {
                "name" => keep_text(&mut name, self.text(&child)?),
                "email" => email = self.text(&child)?,
                "uri" => {
                    self.text(&child)?;
                }
                _ => self.skip_content(&child, 2)?,
            }
        }
        Some((name.is_some() || email.is_some()).then_some(name))
    }
}

/// feed-rs assigns these only when the element has text.
fn keep_text<'a>(slot: &mut Option<Text<'a>>, text: Option<Text<'a>>) {
    if text.is_some() {
        *slot = text;
    }
}

/// `type` of a text construct read as text: absent, `text`, `html` or `text/html`.
fn known_text_type(start: &Start) -> Option<()> {
    match start.attr("type").as_deref() {
        None | Some("text" | "html" | "text/html") => Some(()),
        _ => None,
    }
}

/// Turns what was read into the feed, through the same helpers as the feed-rs route.
fn finish(feed: Feed, cx: &FeedContext) -> Option<ParsedFeed> {
    let bases = Bases::new(main_link(link_refs(&feed.links)), cx);
    let mut ids = EntryIds::new(cx.url);
    let entries = feed
        .entries
        .into_iter()
        .map(|e| entry(e, &bases, cx, &mut ids))
        .collect();
    Some(ParsedFeed {
        title: feed_title(feed.title.as_deref()),
        link: bases.feed_link.map(String::from),
        entries,
    })
}

fn link_refs<'l>(links: &'l [Link]) -> impl Iterator<Item = LinkRef<'l>> + Clone {
    links.iter().map(|l| LinkRef {
        href: &l.href,
        rel: Some(&l.rel),
        plain: true,
    })
}

fn entry(e: Entry, bases: &Bases, cx: &FeedContext, ids: &mut EntryIds) -> tidings_model::Entry {
    let date = |d: &Option<Text>| d.as_deref().and_then(|d| dates::parse_date(d, cx.timezone));
    let parts = EntryParts {
        link: main_link(link_refs(&e.links)),
        content_base: None,
        guid: e.id.as_deref().unwrap_or_default(),
        title: e.title.as_deref(),
        author: e.author.as_ref().and_then(|a| a.as_deref()),
        body: e.content.as_deref().map(Cow::Borrowed),
        summary: e.summary.as_deref().map(Cow::Borrowed),
        published: date(&e.published),
        updated: date(&e.updated),
    };
    // feed-rs's MediaRSS object exists only with some media:content; thumbnails ride on it.
    let thumbnails: &[Cow<str>] = if e.media_contents.is_empty() {
        &[]
    } else {
        &e.thumbnails
    };
    let media = |base: Option<&Url>, bases: &Bases| {
        let image_links = e
            .links
            .iter()
            .filter(|l| l.kind.as_deref().is_some_and(|t| t.starts_with("image/")));
        media_image(
            e.media_contents.iter().map(|m| (&m.url, m.kind.clone())),
            image_links.map(|l| l.href.as_str()),
            thumbnails.iter().map(|t| t.as_ref()),
            base,
            bases,
        )
    };
    build_entry(parts, media, None, bases, false, ids)
}
