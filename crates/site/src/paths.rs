//! Output paths and the links that point at them.
//!
//! Files use the raw UTF-8 names (`categories/新媒体/index.html`); links percent-encode every
//! segment (`categories/%E6%96%B0%E5%AA%92%E4%BD%93/`) so that both agree on any server. Links
//! are relative to the site root and every page gets a `root` prefix (`../../`), which keeps the
//! site working under any path prefix.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters left alone in a link segment: RFC 3986 unreserved.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Longest category segment, in bytes (file systems stop at 255).
const MAX_SEGMENT: usize = 120;

/// Percent-encodes one path segment for a link.
pub fn encode_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// A page: its file relative to the output folder and its link relative to the site root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// `posts/夜市/index.html`
    pub file: String,
    /// `posts/%E5%A4%9C%E5%B8%82/`
    pub url: String,
}

impl Location {
    /// The directory page made of these raw `segments`, e.g. `["categories", "新媒体"]`.
    pub fn dir(segments: &[&str]) -> Location {
        let mut file = String::new();
        let mut url = String::new();
        for s in segments {
            file.push_str(s);
            file.push('/');
            url.push_str(&encode_segment(s));
            url.push('/');
        }
        file.push_str("index.html");
        Location { file, url }
    }

    /// Numbered page `page` of a list rooted at `segments`: `…/page/N/`. Pages are counted
    /// from the oldest article, so a full page keeps its number and its content for good; the
    /// list's own folder is the front page, with the newest articles.
    pub fn numbered(segments: &[&str], page: usize) -> Location {
        let n = page.to_string();
        let mut all: Vec<&str> = segments.to_vec();
        all.push("page");
        all.push(&n);
        Location::dir(&all)
    }
}

/// The prefix that leads from the page stored at `file` back to the site root.
pub fn root_of(file: &str) -> String {
    let depth = file.matches('/').count();
    if depth == 0 {
        "./".to_string()
    } else {
        "../".repeat(depth)
    }
}

/// Whether a stored slug can be used as one folder name: no separators, no dot names, no
/// control characters. The store already makes slugs safe; this is the last line of defence.
pub fn slug_is_safe(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 255
        && !slug.starts_with('.')
        && !slug.contains(['/', '\\'])
        && !slug.chars().any(char::is_control)
}

/// The folder name for a category. Categories come from the config, but are still kept inside
/// their folder: separators and controls become `-`, dot names and the pagination folder name
/// `page` get a `_` prefix, and long names are cut on a character boundary.
pub fn category_segment(name: &str) -> String {
    let mut s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    if s.len() > MAX_SEGMENT {
        let mut end = MAX_SEGMENT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    if s.is_empty() || s.starts_with('.') || s == "page" {
        s.insert(0, '_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_raw_and_links_are_encoded() {
        let loc = Location::dir(&["categories", "新媒体", "ZAKER"]);
        assert_eq!(loc.file, "categories/新媒体/ZAKER/index.html");
        assert_eq!(loc.url, "categories/%E6%96%B0%E5%AA%92%E4%BD%93/ZAKER/");
        let p = Location::numbered(&["categories", "新媒体"], 3);
        assert_eq!(p.file, "categories/新媒体/page/3/index.html");
        assert_eq!(Location::dir(&[]).file, "index.html");
        assert_eq!(Location::dir(&[]).url, "");
        assert_eq!(Location::numbered(&[], 1).url, "page/1/");
    }

    #[test]
    fn reserved_characters_are_encoded_in_links() {
        assert_eq!(encode_segment("a b?c#d%e&f'g"), "a%20b%3Fc%23d%25e%26f%27g");
        assert_eq!(encode_segment("x-y_z.w~"), "x-y_z.w~");
    }

    #[test]
    fn root_prefix_matches_depth() {
        assert_eq!(root_of("index.html"), "./");
        assert_eq!(root_of("posts/a/index.html"), "../../");
        assert_eq!(root_of("categories/a/page/2/index.html"), "../../../../");
    }

    #[test]
    fn hostile_slugs_are_refused() {
        for bad in ["", "..", ".hidden", "a/b", "a\\b", "x\ny"] {
            assert!(!slug_is_safe(bad), "{bad:?}");
        }
        assert!(slug_is_safe("城市夜经济升温-老街区"));
        assert!(slug_is_safe("a..b"));
    }

    #[test]
    fn category_segments_stay_inside_their_folder() {
        assert_eq!(category_segment("../etc"), "_..-etc");
        assert_eq!(category_segment(".."), "_..");
        assert_eq!(category_segment("a/b\\c"), "a-b-c");
        assert_eq!(category_segment("  "), "_");
        assert_eq!(category_segment("page"), "_page");
        assert_eq!(category_segment("新媒体"), "新媒体");
        let long = "长".repeat(100);
        let seg = category_segment(&long);
        assert!(seg.len() <= MAX_SEGMENT && seg.chars().all(|c| c == '长'));
    }
}
