//! Stable entry ids: the same entry gets the same id on every parse.
//!
//! An id is 16 bytes of SHA-256 in hex over the feed URL and, in order of preference, the
//! guid, the link, or the title plus content. feed-rs would fall back to a random UUID; we
//! never do. A guid (or link) repeated within one feed still yields distinct ids: the first
//! occurrence keeps the plain hash, later ones add link and title, and, if that still
//! collides, an occurrence number.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

/// Hands out ids for the entries of one feed, in document order.
pub(crate) struct EntryIds<'a> {
    feed: &'a str,
    used: HashSet<String>,
}

impl<'a> EntryIds<'a> {
    pub(crate) fn new(feed: &'a str) -> Self {
        EntryIds {
            feed,
            used: HashSet::new(),
        }
    }

    /// The id of the next entry.
    pub(crate) fn next(
        &mut self,
        guid: Option<&str>,
        link: Option<&str>,
        title: &str,
        content: &str,
    ) -> String {
        let primary = match (guid, link) {
            (Some(guid), _) => hash(&[self.feed, "guid", guid]),
            (None, Some(link)) => hash(&[self.feed, "link", link]),
            (None, None) => hash(&[self.feed, "text", title, content]),
        };
        if self.used.insert(primary.clone()) {
            return primary;
        }
        let (guid, link) = (guid.unwrap_or(""), link.unwrap_or(""));
        let repeat = hash(&[self.feed, "repeat", guid, link, title]);
        if self.used.insert(repeat.clone()) {
            return repeat;
        }
        // Identical guid, link and title: only the position among the repeats tells them apart.
        let mut occurrence = 2u64;
        loop {
            let n = occurrence.to_string();
            let id = hash(&[self.feed, "repeat", guid, link, title, &n]);
            if self.used.insert(id.clone()) {
                return id;
            }
            occurrence += 1;
        }
    }
}

fn hash(fields: &[&str]) -> String {
    let mut h = Sha256::new();
    for field in fields {
        // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    tidings_model::hex(&h.finalize()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_deterministic() {
        let a = EntryIds::new("http://f/").next(Some("g1"), None, "t", "c");
        let b = EntryIds::new("http://f/").next(Some("g1"), Some("http://x/"), "u", "d");
        assert_eq!(a, b, "guid alone decides");
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }

    #[test]
    fn feed_url_is_part_of_identity() {
        let a = EntryIds::new("http://f/1").next(Some("g"), None, "", "");
        let b = EntryIds::new("http://f/2").next(Some("g"), None, "", "");
        assert_ne!(a, b);
    }

    #[test]
    fn fallbacks_link_then_text() {
        let mut ids = EntryIds::new("f");
        let by_link = ids.next(None, Some("http://x/1"), "t", "c");
        let by_text = ids.next(None, None, "t", "c");
        let other_text = ids.next(None, None, "t", "c2");
        assert_ne!(by_link, by_text);
        assert_ne!(by_text, other_text);
        assert_eq!(EntryIds::new("f").next(None, None, "t", "c"), by_text);
    }

    #[test]
    fn repeated_guids_get_distinct_stable_ids() {
        let run = || {
            let mut ids = EntryIds::new("f");
            vec![
                ids.next(Some("same"), Some("http://x/1"), "one", ""),
                ids.next(Some("same"), Some("http://x/2"), "two", ""),
                ids.next(Some("same"), Some("http://x/2"), "two", ""),
                ids.next(Some("same"), Some("http://x/2"), "two", ""),
            ]
        };
        let first = run();
        let unique: HashSet<_> = first.iter().collect();
        assert_eq!(unique.len(), 4);
        assert_eq!(first, run());
        assert_eq!(
            first[0],
            EntryIds::new("f").next(Some("same"), None, "", "")
        );
    }

    #[test]
    fn field_boundaries_matter() {
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
    }
}
