//! A tolerant pass that turns common feed breakage into well-formed XML before feed-rs sees it.
//!
//! One linear scan; the text is copied only from the first spot that needs a change. It:
//! - drops leading whitespace, so a prolog after blank lines sits at byte 0;
//! - removes characters XML 1.0 forbids (NUL and other C0 controls, U+FFFE, U+FFFF);
//! - escapes a bare `&` that does not start a reference, and turns HTML named entities
//!   (`&nbsp;`, `&mdash;`, …) into numeric references, which need no DTD;
//! - escapes a `<` that cannot start markup (`a < b`);
//! - gives an `<rss>` root without a usable `version` the value `2.0`.
//!
//! CDATA sections, comments, processing instructions and the DOCTYPE are copied untouched
//! (apart from forbidden characters, which are invalid there too).

use std::borrow::Cow;

/// Repairs `text` (see module docs). Borrows when nothing needed fixing.
pub fn repair(text: &str) -> Cow<'_, str> {
    let trimmed = text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    let mut fixer = Fixer::new(trimmed);
    fixer.run();
    fixer.finish()
}

struct Fixer<'a> {
    src: &'a str,
    /// Output, created lazily on the first change.
    out: Option<String>,
    /// Bytes of `src` before this index are already in `out` (or need no copy yet).
    copied: usize,
    seen_root: bool,
}

impl<'a> Fixer<'a> {
    fn new(src: &'a str) -> Self {
        Fixer {
            src,
            out: None,
            copied: 0,
            seen_root: false,
        }
    }

    fn finish(mut self) -> Cow<'a, str> {
        match self.out.take() {
            None => Cow::Borrowed(self.src),
            Some(mut out) => {
                out.push_str(self.src.get(self.copied..).unwrap_or_default());
                Cow::Owned(out)
            }
        }
    }

    /// Replaces `src[at..at + len]` with `with`.
    fn replace(&mut self, at: usize, len: usize, with: &str) {
        let src = self.src;
        let out = self
            .out
            .get_or_insert_with(|| String::with_capacity(src.len() + 64));
        out.push_str(src.get(self.copied..at).unwrap_or_default());
        out.push_str(with);
        self.copied = at + len;
    }

    fn run(&mut self) {
        let bytes = self.src.as_bytes();
        let mut i = 0;
        while let Some(at) = next_special(bytes, i, bytes.len(), true) {
            i = match bytes[at] {
                b'&' => self.ampersand(at),
                b'<' => self.markup(at),
                _ => self.plain(at),
            };
        }
    }

    /// Handles a byte that is neither `&` nor `<`; returns the next index.
    fn plain(&mut self, i: usize) -> usize {
        let bytes = self.src.as_bytes();
        let b = bytes[i];
        if is_forbidden_control(b) {
            self.replace(i, 1, "");
        } else if b == 0xEF && matches!(bytes.get(i + 1..i + 3), Some([0xBF, 0xBE | 0xBF])) {
            // U+FFFE / U+FFFF
            self.replace(i, 3, "");
            return i + 3;
        }
        i + 1
    }

    /// Copies the section `[i, end)` untouched except for forbidden characters.
    fn verbatim(&mut self, i: usize, end: usize) -> usize {
        let mut j = i;
        while let Some(at) = next_special(self.src.as_bytes(), j, end, false) {
            j = self.plain(at);
        }
        end
    }

    /// Skips to just after `terminator`, or to the end of the text if it never comes.
    fn section_end(&self, from: usize, terminator: &str) -> usize {
        self.src
            .get(from..)
            .and_then(|rest| rest.find(terminator))
            .map_or(self.src.len(), |pos| from + pos + terminator.len())
    }

    fn markup(&mut self, i: usize) -> usize {
        let rest = self.src.get(i..).unwrap_or_default();
        if rest.starts_with("<![CDATA[") {
            let end = self.section_end(i + 9, "]]>");
            return self.verbatim(i, end);
        }
        if rest.starts_with("<!--") {
            let end = self.section_end(i + 4, "-->");
            return self.verbatim(i, end);
        }
        if rest.starts_with("<?") {
            let end = self.section_end(i + 2, "?>");
            return self.verbatim(i, end);
        }
        if rest.starts_with("<!") {
            let end = self.doctype_end(i);
            return self.verbatim(i, end);
        }
        let next = rest.chars().nth(1);
        match next {
            Some(c) if c == '/' || c == '_' || c == ':' || c.is_alphabetic() => {
                if !self.seen_root && c != '/' {
                    self.seen_root = true;
                    self.fix_rss_version(i);
                }
                i + 1
            }
            // Cannot start markup: it is text.
            _ => {
                self.replace(i, 1, "&lt;");
                i + 1
            }
        }
    }

    /// End of `<!DOCTYPE ...>`, allowing an internal subset in brackets.
    fn doctype_end(&self, i: usize) -> usize {
        let mut depth = 0i32;
        for (k, b) in self.src.bytes().enumerate().skip(i) {
            match b {
                b'[' => depth += 1,
                b']' => depth -= 1,
                b'>' if depth <= 0 => return k + 1,
                _ => {}
            }
        }
        self.src.len()
    }

    fn ampersand(&mut self, i: usize) -> usize {
        let rest = self.src.get(i + 1..).unwrap_or_default();
        match classify_reference(rest) {
            Reference::Valid(len) => i + 1 + len,
            Reference::Replace(len, with) => {
                self.replace(i, len + 1, &with);
                i + 1 + len
            }
            Reference::Bare => {
                self.replace(i, 1, "&amp;");
                i + 1
            }
        }
    }

    /// Gives `<rss ...>` at `i` a `version` feed-rs understands.
    fn fix_rss_version(&mut self, i: usize) {
        let rest = self.src.get(i..).unwrap_or_default();
        let Some(after_name) = rest.strip_prefix("<rss") else {
            return;
        };
        if !after_name.starts_with(|c: char| c.is_whitespace() || c == '>' || c == '/') {
            return;
        }
        let tag_len = after_name.find('>').unwrap_or(after_name.len());
        let attrs = after_name.get(..tag_len).unwrap_or_default();
        match version_value(attrs) {
            Some((start, end)) => {
                let value = attrs.get(start..end).unwrap_or_default().trim();
                if !matches!(value, "2.0" | "0.91" | "0.92") {
                    let at = i + 4 + start;
                    self.replace(at, end - start, "2.0");
                }
            }
            None => self.replace(i + 4, 0, " version=\"2.0\""),
        }
    }
}

/// The first index in `[from, end)` of a byte the scan must look at: a C0 control or 0xEF (the
/// lead byte of U+FFFE and U+FFFF), and with `markup` also `&` and `<`. Feeds are mostly
/// text that needs nothing, and skipping it in a tight loop is most of the pass's speed.
fn next_special(bytes: &[u8], from: usize, end: usize, markup: bool) -> Option<usize> {
    let end = end.min(bytes.len());
    let rest = bytes.get(from..end)?;
    rest.iter()
        .position(|&b| b < 0x20 || b == 0xEF || (markup && (b == b'&' || b == b'<')))
        .map(|k| from + k)
}

/// C0 controls other than tab, newline and carriage return are not allowed anywhere in XML 1.0.
fn is_forbidden_control(b: u8) -> bool {
    b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')
}

/// Byte range of the value of a `version="..."` attribute within a tag's attribute text.
fn version_value(attrs: &str) -> Option<(usize, usize)> {
    let mut search = 0;
    while let Some(pos) = attrs.get(search..)?.find("version") {
        let key = search + pos;
        search = key + 7;
        let before_ok = key == 0 || attrs[..key].ends_with(char::is_whitespace);
        let after = attrs.get(key + 7..)?.trim_start();
        let Some(after_eq) = after.strip_prefix('=') else {
            continue;
        };
        if !before_ok {
            continue;
        }
        let value = after_eq.trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let start = attrs.len() - value.len() + 1;
        let len = attrs.get(start..)?.find(quote)?;
        return Some((start, start + len));
    }
    None
}

enum Reference {
    /// A well-formed reference of this many bytes after the `&`: keep it.
    Valid(usize),
    /// A reference of this many bytes to replace (HTML entity, invalid code point).
    Replace(usize, String),
    /// Not a reference: escape the `&`.
    Bare,
}

/// Longest entity name worth looking at; real names are short.
const MAX_REF_LEN: usize = 40;

/// Classifies what follows an `&` (`rest` starts right after it).
fn classify_reference(rest: &str) -> Reference {
    let mut end = rest.len().min(MAX_REF_LEN);
    while !rest.is_char_boundary(end) {
        end -= 1;
    }
    let window = rest.get(..end).unwrap_or_default();
    let Some(semi) = window.find(';') else {
        return Reference::Bare;
    };
    let body = &window[..semi];
    if let Some(num) = body.strip_prefix('#') {
        return numeric_reference(num, semi);
    }
    if body.is_empty() || !is_xml_name(body) {
        return Reference::Bare;
    }
    if matches!(body, "amp" | "lt" | "gt" | "quot" | "apos") {
        return Reference::Valid(semi + 1);
    }
    match html_entity(body) {
        Some(c) => Reference::Replace(semi + 1, format!("&#{};", c as u32)),
        // An entity nobody defined: show it literally rather than fail the feed.
        None => Reference::Bare,
    }
}

fn numeric_reference(num: &str, semi: usize) -> Reference {
    let value = match num.strip_prefix(['x', 'X']) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            u32::from_str_radix(hex, 16).ok()
        }
        Some(_) => return Reference::Bare,
        None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse().ok(),
        None => return Reference::Bare,
    };
    match value.and_then(char::from_u32) {
        Some(c) if is_xml_char(c) => Reference::Valid(semi + 1),
        _ => Reference::Replace(semi + 1, "&#xFFFD;".to_string()),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn is_xml_name(s: &str) -> bool {
    let mut chars = s.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':');
    first_ok && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
}

/// HTML named entities common in feeds. Anything else is rare enough to show literally.
fn html_entity(name: &str) -> Option<char> {
    let c = match name {
        "nbsp" => '\u{A0}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "thinsp" => '\u{2009}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "shy" => '\u{AD}',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "laquo" => '«',
        "raquo" => '»',
        "lsaquo" => '‹',
        "rsaquo" => '›',
        "hellip" => '…',
        "middot" => '·',
        "bull" => '•',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "plusmn" => '±',
        "times" => '×',
        "divide" => '÷',
        "micro" => 'µ',
        "para" => '¶',
        "sect" => '§',
        "cent" => '¢',
        "pound" => '£',
        "yen" => '¥',
        "euro" => '€',
        "iexcl" => '¡',
        "iquest" => '¿',
        "frac12" => '½',
        "frac14" => '¼',
        "frac34" => '¾',
        "sup2" => '²',
        "sup3" => '³',
        "larr" => '←',
        "rarr" => '→',
        "uarr" => '↑',
        "darr" => '↓',
        "prime" => '′',
        "Prime" => '″',
        "dagger" => '†',
        "Dagger" => '‡',
        "permil" => '‰',
        "acute" => '´',
        "uml" => '¨',
        "ordf" => 'ª',
        "ordm" => 'º',
        "not" => '¬',
        "macr" => '¯',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "auml" => 'ä',
        "aring" => 'å',
        "ccedil" => 'ç',
        "egrave" => 'è',
        "eacute" => 'é',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "iacute" => 'í',
        "iuml" => 'ï',
        "ntilde" => 'ñ',
        "oacute" => 'ó',
        "ocirc" => 'ô',
        "ouml" => 'ö',
        "oslash" => 'ø',
        "uacute" => 'ú',
        "uuml" => 'ü',
        "szlig" => 'ß',
        "Auml" => 'Ä',
        "Eacute" => 'É',
        "Ouml" => 'Ö',
        "Uuml" => 'Ü',
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_input_is_borrowed() {
        let doc = "<rss version=\"2.0\"><a href=\"x?a=1&amp;b=2\">&#20013;&#x1F600;</a></rss>";
        assert!(matches!(repair(doc), Cow::Borrowed(_)));
    }

    #[test]
    fn bare_ampersand_is_escaped_valid_refs_kept() {
        let doc = "<t>A & B &amp; C &#123; &#x1F; &lt; &nbsp; &foo; R&D</t>";
        assert_eq!(
            repair(doc),
            "<t>A &amp; B &amp; C &#123; &#xFFFD; &lt; &#160; &amp;foo; R&amp;D</t>"
        );
    }

    #[test]
    fn ampersand_in_attribute_and_at_end() {
        assert_eq!(
            repair("<a href='?x=1&y=2'>&"),
            "<a href='?x=1&amp;y=2'>&amp;"
        );
    }

    #[test]
    fn cdata_comments_and_pis_untouched() {
        let doc = "<t><![CDATA[a & b < c &nbsp;]]>&<!-- x & y --><?pi & ?></t>";
        assert_eq!(
            repair(doc),
            "<t><![CDATA[a & b < c &nbsp;]]>&amp;<!-- x & y --><?pi & ?></t>"
        );
    }

    #[test]
    fn unterminated_cdata_is_copied_verbatim() {
        assert_eq!(repair("<t><![CDATA[a & b"), "<t><![CDATA[a & b");
    }

    #[test]
    fn controls_removed_everywhere() {
        let doc =
            "<t>a\u{0}b\u{1}\u{8}c\u{B}\u{C}\u{1F}\t\n\r<![CDATA[x\u{0}y]]>\u{FFFE}\u{FFFF}</t>";
        assert_eq!(repair(doc), "<t>abc\t\n\r<![CDATA[xy]]></t>");
    }

    #[test]
    fn leading_blank_lines_removed() {
        assert_eq!(
            repair("\n\n \u{FEFF}<?xml version=\"1.0\"?><a/>"),
            "<?xml version=\"1.0\"?><a/>"
        );
    }

    #[test]
    fn rss_without_version_gets_one() {
        assert_eq!(
            repair("<rss><channel/></rss>"),
            "<rss version=\"2.0\"><channel/></rss>"
        );
        assert_eq!(
            repair("<?xml version=\"1.0\"?>\n<rss xmlns:dc=\"x\">"),
            "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" xmlns:dc=\"x\">"
        );
        assert_eq!(repair("<rss version='2.01'>"), "<rss version='2.0'>");
        assert_eq!(repair("<rss version=\"0.91\">"), "<rss version=\"0.91\">");
        // Only the root element is touched, and only when it is rss.
        assert_eq!(
            repair("<feed><rss></rss></feed>"),
            "<feed><rss></rss></feed>"
        );
        assert_eq!(repair("<rssx>"), "<rssx>");
        assert_eq!(
            repair("<rss xversion=\"1\">"),
            "<rss version=\"2.0\" xversion=\"1\">"
        );
    }

    #[test]
    fn lone_less_than_is_escaped() {
        assert_eq!(repair("<t>1 < 2 <3</t>"), "<t>1 &lt; 2 &lt;3</t>");
        assert_eq!(repair("<标题>x</标题>"), "<标题>x</标题>");
    }

    #[test]
    fn references_near_multibyte_text_do_not_panic() {
        let long = format!("<t>&{}</t>", "中".repeat(50));
        assert!(repair(&long).starts_with("<t>&amp;中"));
        assert_eq!(repair("&中文;"), "&amp;中文;");
        assert_eq!(repair("&#;&#x;&#99999999999;"), "&amp;#;&amp;#x;&#xFFFD;");
    }

    #[test]
    fn doctype_with_subset_is_skipped() {
        let doc = "<!DOCTYPE rss [<!ENTITY a \"&\">]><rss version=\"2.0\">&</rss>";
        assert_eq!(
            repair(doc),
            "<!DOCTYPE rss [<!ENTITY a \"&\">]><rss version=\"2.0\">&amp;</rss>"
        );
    }
}
