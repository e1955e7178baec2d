//! The post body as Hexo needs it.
//!
//! Hexo does not treat a post body as HTML: it runs Nunjucks over it first (`{{`, `{%` and `{#`
//! open template tags, and an article that merely mentions `{{ name }}` fails to build), then
//! Markdown, where a blank line ends a raw-HTML block and whatever follows is read as Markdown
//! (`*` becomes emphasis, indented lines become code). So the body is wrapped in one `<div>`, has
//! no blank lines, and never contains a template opener. Browsers render the result the same.

/// Cleaned HTML → a body Hexo passes through untouched.
///
/// One pass over the bytes, copying the runs between the few bytes that matter (`<`, `{`, CR,
/// LF — all ASCII, so every cut is on a character boundary).
pub fn hexo_body(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 32);
    out.push_str("<div>\n");
    let mut pre_depth = 0usize;
    let mut line_start = out.len();
    let mut copied = 0;
    let mut next = 0;
    let has_cr = memchr::memchr(b'\r', bytes).is_some();
    while let Some(i) = next_stop(bytes, next, has_cr) {
        next = i + 1;
        match bytes[i] {
            b'<' if starts_tag(&html[i..], "<pre") => pre_depth += 1,
            b'<' if starts_tag(&html[i..], "</pre") => pre_depth = pre_depth.saturating_sub(1),
            b'{' if matches!(bytes.get(i + 1), Some(b'{' | b'%' | b'#')) => {
                out.push_str(&html[copied..i]);
                out.push_str("&#123;");
                copied = i + 1;
            }
            // CRLF → LF. A lone CR stays a line break (dropping it could join `{` and `%`).
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                out.push_str(&html[copied..i]);
                copied = i + 1;
            }
            b'\n' | b'\r' => {
                out.push_str(&html[copied..i]);
                copied = i + 1;
                if pre_depth > 0 {
                    // Inside <pre> a newline is content: keep it, as a character reference.
                    out.push_str("&#10;");
                } else if out[line_start..].trim().is_empty() {
                    out.truncate(line_start);
                } else {
                    out.push('\n');
                    line_start = out.len();
                }
            }
            _ => {}
        }
    }
    out.push_str(&html[copied..]);
    if out[line_start..].trim().is_empty() {
        out.truncate(line_start);
    } else {
        out.push('\n');
    }
    out.push_str("</div>");
    out
}

/// The next of the few bytes that matter (`<`, `{`, LF, and CR when the text has any) from
/// `from`; the text between them is skipped by a vectorised search.
fn next_stop(bytes: &[u8], from: usize, has_cr: bool) -> Option<usize> {
    let rest = &bytes[from..];
    let found = if has_cr {
        rest.iter()
            .position(|&b| matches!(b, b'<' | b'{' | b'\n' | b'\r'))
    } else {
        memchr::memchr3(b'<', b'{', b'\n', rest)
    };
    found.map(|k| from + k)
}

/// Whether `s` starts with the tag `name` (`<pre` but not `<prefix`).
fn starts_tag(s: &str, name: &str) -> bool {
    let (s, n) = (s.as_bytes(), name.len());
    s.len() > n
        && s[..n].eq_ignore_ascii_case(name.as_bytes())
        && matches!(s[n], b'>' | b' ' | b'\t' | b'\n' | b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_openers_are_neutralised() {
        let out = hexo_body("<p>{{ user.name }} {% if x %} {# c #} {{</p>");
        assert!(
            !out.contains("{{") && !out.contains("{%") && !out.contains("{#"),
            "{out}"
        );
        assert!(out.contains("&#123;{ user.name }}"), "{out}");
        assert_eq!(
            hexo_body("<p>a { b } c</p>"),
            "<div>\n<p>a { b } c</p>\n</div>"
        );
    }

    #[test]
    fn blank_lines_go_outside_pre_and_survive_inside() {
        let out = hexo_body("<p>one</p>\n\n   \n<p>*two*</p>\n<pre>x\n\ny</pre>\n");
        assert_eq!(
            out,
            "<div>\n<p>one</p>\n<p>*two*</p>\n<pre>x&#10;&#10;y</pre>\n</div>"
        );
        assert!(!out.contains("\n\n"));
    }

    #[test]
    fn prefix_tags_are_not_pre() {
        let out = hexo_body("<preview>a\n\nb</preview>");
        assert_eq!(out, "<div>\n<preview>a\nb</preview>\n</div>");
    }

    #[test]
    fn multibyte_text_next_to_tags() {
        let out = hexo_body("<p>经过</p><pre>经\n过</pre>经<");
        assert_eq!(out, "<div>\n<p>经过</p><pre>经&#10;过</pre>经<\n</div>");
    }

    proptest::proptest! {
        #[test]
        fn never_a_template_opener_or_a_blank_line(
            html in "(<pre>|</pre>|<p>|\\{|\\}|%|#|\n|\r| |经|a)*"
        ) {
            let out = hexo_body(&html);
            for opener in ["{{", "{%", "{#", "\n\n", "\r"] {
                proptest::prop_assert!(!out.contains(opener), "{opener:?} in {out:?}");
            }
            // Nothing but whitespace outside <pre> is lost.
            let shown = out.replace("&#123;", "{").replace("&#10;", "\n");
            let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            proptest::prop_assert_eq!(squeeze(&shown), format!("<div>{}</div>", squeeze(&html)));
        }
    }

    #[test]
    fn empty_and_crlf_bodies() {
        assert_eq!(hexo_body(""), "<div>\n</div>");
        assert_eq!(
            hexo_body("<p>a</p>\r\n\r\n<p>b</p>"),
            "<div>\n<p>a</p>\n<p>b</p>\n</div>"
        );
    }
}
