//! Hand-written YAML scalars for front matter.
//!
//! Hexo skips a post whose front matter fails to parse and still exits 0, so every value we
//! write must read back as exactly the string we meant, under YAML 1.1 (js-yaml's heritage,
//! older tools) and YAML 1.2 alike. The rules below are deliberately conservative: when in
//! doubt, quote.

/// `s` as a plain scalar when that is unambiguous, else single-quoted, else double-quoted.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// `s` always quoted: single quotes unless it holds a character single quotes cannot keep.
pub fn quoted(s: &str) -> String {
    if s.chars().any(needs_double) {
        double_quoted(s)
    } else {
        single_quoted(s)
    }
}

/// Characters that single quotes cannot carry faithfully: line breaks fold, control and
/// non-printable characters are rejected by parsers, NEL/LS/PS are line breaks in YAML 1.1,
/// a BOM is stripped or rejected. Tabs go too: some parsers fold or reject them.
fn needs_double(c: char) -> bool {
    c.is_control() // C0, DEL, C1 (NEL is U+0085)
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}')
        // js-yaml's printable set starts at U+00A1; NBSP is safest escaped.
        || c == '\u{A0}'
}

fn single_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs_double(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `\xHH`, `\uHHHH` or `\UHHHHHHHH`: understood by js-yaml, libyaml and every YAML 1.1/1.2
/// parser.
fn push_escape(out: &mut String, c: char) {
    let n = c as u32;
    let text = if n <= 0xFF {
        format!("\\x{n:02X}")
    } else if n <= 0xFFFF {
        format!("\\u{n:04X}")
    } else {
        format!("\\U{n:08X}")
    };
    out.push_str(&text);
}

/// Words YAML 1.1 or 1.2 resolve to booleans or null, compared case-insensitively.
const RESERVED_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "true", "false", "on", "off", "null", "nil", "none", "~", "<<", "=",
];

/// Whether `s` may be written unquoted and read back as the same string.
fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false; // empty reads as null
    };
    let last = s.chars().next_back().unwrap_or(first);
    if first.is_whitespace() || last.is_whitespace() {
        return false;
    }
    if is_indicator(first) || looks_numeric_start(first) || last == ':' {
        return false;
    }
    if RESERVED_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s)) {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains(":\t") {
        return false;
    }
    s.chars().all(|c| !needs_double(c))
}

/// YAML indicator characters that change meaning at the start of a plain scalar.
fn is_indicator(c: char) -> bool {
    matches!(
        c,
        '-' | '?'
            | ':'
            | ','
            | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    )
}

/// Every YAML 1.1/1.2 number, timestamp, `.inf` and `.nan` starts with one of these; quoting
/// them all is simpler and safer than matching each grammar (sexagesimal `1:30`, `0x1F`,
/// `1_000`, `2022-01-01` …).
fn looks_numeric_start(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '+' | '.' | '~' | '=' | '<')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_for_ordinary_text() {
        assert_eq!(scalar("ZAKER"), "ZAKER");
        assert_eq!(scalar("新媒体"), "新媒体");
        assert_eq!(scalar("a:b#c"), "a:b#c");
        assert_eq!(scalar("hello world"), "hello world");
    }

    #[test]
    fn never_plain_for_yaml11_booleans_nulls_and_numbers() {
        let words = [
            "y",
            "Y",
            "n",
            "N",
            "yes",
            "Yes",
            "YES",
            "no",
            "No",
            "NO",
            "true",
            "True",
            "TRUE",
            "false",
            "False",
            "FALSE",
            "on",
            "On",
            "ON",
            "off",
            "Off",
            "OFF",
            "null",
            "Null",
            "NULL",
            "~",
            "",
            "123",
            "-1",
            "+1",
            "0x1F",
            "0o17",
            "0b101",
            "017",
            "1e3",
            "1.5",
            ".5",
            "1_000",
            "190:20:30",
            ".inf",
            "-.inf",
            ".NaN",
            "2022-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "<<",
            "=",
        ];
        for w in words {
            let out = scalar(w);
            assert!(
                out.starts_with('\'') || out.starts_with('"'),
                "{w:?} -> {out}"
            );
        }
    }

    #[test]
    fn never_plain_for_indicators_and_comments() {
        for s in [
            "- x", "? x", ": x", "-x", "#tag", "a #b", "a: b", "key:", "|", ">", "%d", "@me",
            "`cmd`", "'q", "\"q", "[a]", "{a}", "&a", "*a", "!t", ",x", " lead", "trail ",
        ] {
            let out = scalar(s);
            assert!(
                out.starts_with('\'') || out.starts_with('"'),
                "{s:?} -> {out}"
            );
        }
    }

    #[test]
    fn single_quotes_double_the_quote() {
        assert_eq!(quoted("it's"), "'it''s'");
        assert_eq!(quoted("美\"致命\""), "'美\"致命\"'");
    }

    #[test]
    fn double_quotes_for_controls_and_line_separators() {
        assert_eq!(quoted("a\tb"), "\"a\\tb\"");
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert_eq!(quoted("a\u{85}b"), "\"a\\x85b\"");
        assert_eq!(quoted("a\u{2028}b"), "\"a\\u2028b\"");
        assert_eq!(quoted("\u{FEFF}x"), "\"\\uFEFFx\"");
        assert_eq!(quoted("\0\\\""), "\"\\x00\\\\\\\"\"");
        assert_eq!(scalar("x\u{7}"), "\"x\\x07\"");
    }

    #[test]
    fn escape_output_is_one_line() {
        let out = quoted("a\r\nb\u{2029}c");
        assert!(!out.contains('\n') && !out.contains('\r') && !out.contains('\u{2029}'));
    }
}
