//! File-name stems for posts.

/// Longest stem in bytes; leaves room for a `-NN` suffix and an extension well under the
/// 255-byte limit of common file systems.
const MAX_BYTES: usize = 120;

/// Device names Windows refuses as file names, with or without an extension.
const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "conin$", "conout$", "com0", "com1", "com2", "com3", "com4",
    "com5", "com6", "com7", "com8", "com9", "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6",
    "lpt7", "lpt8", "lpt9", "com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³",
];

/// A file-stem candidate for a post titled `title`; falls back to the start of `id`.
///
/// Keeps letters of every script; drops characters that break Hexo (`?`, `#`, `%`), paths
/// (`/`, `\`) or Windows (`< > : " | *`, trailing dots); never starts with `_` or `.`, which
/// Hexo ignores. The result is never empty, never contains a path separator, and never is
/// `.` or `..`.
pub fn slug_base(title: &str, id: &str) -> String {
    let slug = clean(title);
    let slug = if slug.is_empty() { fallback(id) } else { slug };
    avoid_reserved(slug)
}

fn fallback(id: &str) -> String {
    let prefix: String = id.chars().take(12).collect();
    let slug = clean(&prefix);
    if slug.is_empty() {
        "post".to_string()
    } else {
        slug
    }
}

fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_BYTES * 2));
    for c in text.chars() {
        if c.is_whitespace() || c == '-' {
            // Whitespace runs and dash runs both become one dash.
            if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        } else if !is_dropped(c) {
            out.push(c);
        }
        if out.len() > MAX_BYTES * 2 {
            break; // enough material; the cut below bounds it precisely
        }
    }
    trim(truncate(&out, MAX_BYTES))
}

fn is_dropped(c: char) -> bool {
    c.is_control()
        || matches!(c, '?' | '#' | '%' | '/' | '\\' | '<' | '>' | ':' | '"' | '|' | '*')
        // Invisible format characters: zero-width, bidi controls, separators, BOM.
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}')
        || c == '\u{FEFF}'
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn trim(s: &str) -> String {
    s.trim_start_matches(['_', '.', '-'])
        .trim_end_matches(['.', '-'])
        .to_string()
}

/// Windows treats `con`, `con.md` and `con.anything` alike, so test the part before the first
/// dot and suffix that part.
fn avoid_reserved(slug: String) -> String {
    let (stem, rest) = match slug.find('.') {
        Some(i) => slug.split_at(i),
        None => (slug.as_str(), ""),
    };
    let lower = stem.to_lowercase();
    if WINDOWS_RESERVED.contains(&lower.trim_end()) {
        format!("{stem}-post{rest}")
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123";

    fn assert_safe(s: &str) {
        assert!(!s.is_empty());
        assert!(!s.contains('/') && !s.contains('\\'), "{s}");
        assert!(s != "." && s != "..", "{s}");
        assert!(!s.starts_with(['_', '.', '-']), "{s}");
        assert!(!s.ends_with(['.', '-']), "{s}");
        assert!(s.len() <= MAX_BYTES + "-post".len(), "{s}");
    }

    #[test]
    fn path_traversal_cannot_escape() {
        let s = slug_base("../../x", ID);
        assert_eq!(s, "x");
        assert_safe(&s);
        let s = slug_base("..\\..\\etc\\passwd", ID);
        assert_eq!(s, "etcpasswd");
        assert_eq!(slug_base("..", ID), "0123456789ab");
        assert_eq!(slug_base("a/../b", ID), "a..b");
    }

    #[test]
    fn hidden_and_draft_prefixes_are_stripped() {
        assert_eq!(slug_base("_x", ID), "x");
        assert_eq!(slug_base(".x", ID), "x");
        assert_eq!(slug_base("._-._x_", ID), "x_");
        assert_eq!(slug_base("trailing...", ID), "trailing");
    }

    #[test]
    fn special_characters_removed() {
        assert_eq!(slug_base("a?b#c%d", ID), "abcd");
        assert_eq!(slug_base("a/b\\c", ID), "abc");
        assert_eq!(slug_base("a<b>c:d\"e|f*g", ID), "abcdefg");
        assert_eq!(
            slug_base("a\u{0}b\u{7}c\u{9f}d\u{200B}e\u{FEFF}", ID),
            "abcde"
        );
        // NEL is whitespace as well as a control: it separates words.
        assert_eq!(slug_base("a\u{85}b", ID), "a-b");
    }

    #[test]
    fn whitespace_and_dashes_collapse() {
        assert_eq!(slug_base("  hello \t\n world  ", ID), "hello-world");
        assert_eq!(slug_base("a -- b", ID), "a-b");
        assert_eq!(slug_base("中文\u{3000}标题", ID), "中文-标题");
    }

    #[test]
    fn cjk_kept_and_bounded_on_char_boundary() {
        let title = "新".repeat(300);
        let s = slug_base(&title, ID);
        assert!(s.len() <= MAX_BYTES);
        assert_eq!(s, "新".repeat(40)); // 3 bytes each
        let mixed = format!("a{}", "闻".repeat(300));
        let s = slug_base(&mixed, ID);
        assert!(s.len() <= MAX_BYTES && s.starts_with('a'));
        assert_safe(&s);
    }

    #[test]
    fn cut_never_leaves_trailing_dash() {
        let title = format!("{} tail", "x".repeat(MAX_BYTES));
        let s = slug_base(&title, ID);
        assert_eq!(s, "x".repeat(MAX_BYTES));
        let title = format!("{} tail", "x".repeat(MAX_BYTES - 1));
        assert_eq!(slug_base(&title, ID), "x".repeat(MAX_BYTES - 1));
    }

    #[test]
    fn empty_title_falls_back_to_id() {
        assert_eq!(slug_base("", ID), "0123456789ab");
        assert_eq!(slug_base("?#%/\\ ...", ID), "0123456789ab");
        assert_eq!(slug_base("", "../"), "post");
    }

    #[test]
    fn windows_reserved_names_get_suffix() {
        assert_eq!(slug_base("con", ID), "con-post");
        assert_eq!(slug_base("NUL", ID), "NUL-post");
        assert_eq!(slug_base("com1", ID), "com1-post");
        assert_eq!(slug_base("aux.tar", ID), "aux-post.tar");
        assert_eq!(slug_base("console", ID), "console");
    }

    #[test]
    fn hostile_inputs_stay_safe() {
        for t in [
            "/", "\\", "../..", "-", "_", ".", " ", "\u{FEFF}", "a/./b", "::", "..a..",
        ] {
            assert_safe(&slug_base(t, ID));
        }
    }
}
