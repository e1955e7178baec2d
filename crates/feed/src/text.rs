//! Plain text for titles and author names.

/// Turns a feed's title-ish text into plain text: tags stripped, entities decoded, whitespace
/// collapsed and trimmed, control characters dropped. Everything else (quotes, punctuation)
/// is kept exactly.
///
/// Tags are stripped *before* entities are decoded, so an escaped `&lt;b&gt;` stays visible
/// as the text `<b>` instead of vanishing as a tag.
pub fn plain(s: &str) -> String {
    let stripped = strip_tags(s);
    let decoded = html_escape::decode_html_entities(&stripped);
    collapse(&decoded)
}

/// Removes `<tag …>`, `</tag>`, `<!-- … -->`; a `<` that starts no tag is kept.
///
/// Linear: once a search for `>` or `-->` fails, no later search can succeed, so it is not
/// repeated (a 200 KB title of `<a<a<a…` would otherwise be quadratic).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut closers = Closers {
        gt: true,
        comment: true,
    };
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt..];
        match tag_len(after, &mut closers) {
            Some((len, spacer)) => {
                if spacer {
                    out.push(' ');
                }
                rest = &after[len..];
            }
            None => {
                out.push('<');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a `>` / `-->` may still occur further on.
struct Closers {
    gt: bool,
    comment: bool,
}

/// Length of the tag at the start of `s` and whether it separates words (`<br>`, `</p>`).
fn tag_len(s: &str, closers: &mut Closers) -> Option<(usize, bool)> {
    if let Some(comment) = s.strip_prefix("<!--") {
        if !closers.comment {
            return None;
        }
        let Some(end) = comment.find("-->") else {
            closers.comment = false;
            return None;
        };
        return Some((4 + end + 3, false));
    }
    let body = s.strip_prefix("</").or_else(|| s.strip_prefix('<'))?;
    if !closers.gt || !body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '!') {
        return None;
    }
    let Some(end) = s.find('>') else {
        closers.gt = false;
        return None;
    };
    let name: String = body
        .chars()
        .take(8)
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let spacer = matches!(
        name.as_str(),
        "br" | "p" | "div" | "li" | "tr" | "td" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
    );
    Some((end + 1, spacer))
}

/// Collapses whitespace runs to one space, drops other control characters, trims.
fn collapse(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') {
            continue;
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn decodes_entities() {
        assert_eq!(plain("&quot;致命武器&quot;"), "\"致命武器\"");
        assert_eq!(plain("Tom &amp; Jerry&#39;s &lt;3"), "Tom & Jerry's <3");
        assert_eq!(plain("a&nbsp;b"), "a b");
    }

    #[test]
    fn strips_tags() {
        assert_eq!(plain("<b>Bold</b> &amp; co"), "Bold & co");
        assert_eq!(plain("line<br/>break"), "line break");
        assert_eq!(plain("<p>one</p><p>two</p>"), "one two");
        assert_eq!(plain("x<!-- hidden -->y"), "xy");
        assert_eq!(plain("<span class=\"a\">标题</span>"), "标题");
    }

    #[test]
    fn keeps_text_that_only_looks_like_markup() {
        assert_eq!(plain("1 < 2 > 0"), "1 < 2 > 0");
        assert_eq!(plain("&lt;b&gt;not bold&lt;/b&gt;"), "<b>not bold</b>");
        assert_eq!(plain("a <b"), "a <b");
        assert_eq!(plain("x <!-- open"), "x <!-- open");
    }

    #[test]
    fn exact_otherwise() {
        let s = "“美”‘致命武器’运抵——「乌克兰」!? 'single' \"double\" 100% #1 ~";
        assert_eq!(plain(s), s);
    }

    #[test]
    fn unclosed_markup_in_huge_title_is_kept() {
        let s = "<a".repeat(100_000);
        assert_eq!(plain(&s), s);
        let s = "<!--".repeat(50_000);
        assert_eq!(plain(&s), s);
    }

    #[test]
    fn whitespace_and_controls() {
        assert_eq!(plain("  a \n\t b\u{0}c\u{7}  "), "a bc");
        assert_eq!(plain("\u{3000}全角空格\u{3000}"), "全角空格");
        assert_eq!(plain(""), "");
        assert_eq!(plain("<b></b>"), "");
    }
}
