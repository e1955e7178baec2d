//! Plain text out of clean HTML, and escaping for the XML and JSON files.

/// The first `max_chars` characters of the text of clean (sanitized) HTML, whitespace
/// collapsed, entities decoded. Stops reading early: only the start of the body is needed.
pub fn excerpt(html: &str, max_chars: usize) -> String {
    let mut raw = String::new();
    let mut in_tag = false;
    let mut count = 0;
    // Entities are decoded after the cut, so read a little more than asked.
    let budget = max_chars + 16;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                push_space(&mut raw);
            }
            _ if in_tag => {}
            c if c.is_whitespace() => push_space(&mut raw),
            c => {
                raw.push(c);
                count += 1;
                if count >= budget {
                    break;
                }
            }
        }
    }
    let decoded = html_escape::decode_html_entities(raw.trim());
    let mut out = String::new();
    for c in decoded.chars().take(max_chars) {
        if c.is_whitespace() {
            push_space(&mut out);
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out.trim_end().to_string()
}

fn push_space(s: &mut String) {
    if !s.is_empty() && !s.ends_with(' ') {
        s.push(' ');
    }
}

/// Escapes text for XML content and attribute values, dropping characters XML 1.0 forbids
/// (a hostile title can hold any control character, and one would make the feed unreadable).
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// JSON text that is also safe to inline in HTML: `<`, `>` and `&` only ever occur inside
/// JSON strings, where their `\u` forms mean the same.
pub fn html_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 64);
    let mut rest = json;
    while let Some(i) = rest.find(['<', '>', '&']) {
        out.push_str(&rest[..i]);
        out.push_str(match rest.as_bytes()[i] {
            b'<' => "\\u003c",
            b'>' => "\\u003e",
            _ => "\\u0026",
        });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_strips_tags_and_decodes_entities() {
        let html = "<div><p>夜市&amp;老街</p><p>第二段\n  文字</p><img src=\"x\"></div>";
        assert_eq!(excerpt(html, 100), "夜市&老街 第二段 文字");
        assert_eq!(excerpt(html, 3), "夜市&");
        assert_eq!(excerpt("", 10), "");
    }

    #[test]
    fn excerpt_keeps_escaped_markup_as_text() {
        // An escaped tag in the body is text; it stays text (the template escapes it again).
        assert_eq!(excerpt("<p>&lt;script&gt;x</p>", 50), "<script>x");
    }

    #[test]
    fn xml_escape_escapes_and_drops_forbidden_characters() {
        assert_eq!(
            xml_escape("<a href=\"x\">&'\u{1}\u{b}\tz"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\tz"
        );
    }

    #[test]
    fn json_is_inert_in_html() {
        let j = serde_json::to_string("</script><b>&").unwrap();
        let safe = html_safe_json(&j);
        assert!(!safe.contains('<') && !safe.contains('&'));
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><b>&");
    }
}
