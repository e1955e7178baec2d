//! Turning feed bytes of any encoding into UTF-8 text.
//!
//! The cascade, first match wins:
//! 1. a byte-order mark;
//! 2. bytes that are already valid UTF-8 (a UTF-8 feed that *declares* gbk is still UTF-8);
//! 3. the `charset` of the HTTP `Content-Type`;
//! 4. the `encoding` of the XML prolog;
//! 5. a chardetng guess, with no TLD hint (a hint would outweigh the bytes themselves).
//!
//! Decoding never fails: bad sequences become U+FFFD and the rest survives. The prolog of the
//! result is rewritten to declare UTF-8, so an XML parser reading it cannot re-decode it.

use std::borrow::Cow;

use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8};

/// Labels seen in the wild that encoding_rs (the WHATWG list) does not know, mapped to one it does.
const ALIASES: &[(&str, &str)] = &[
    ("cp936", "gbk"),
    ("ms936", "gbk"),
    ("windows-936", "gbk"),
    ("cp-936", "gbk"),
    ("gb-2312", "gbk"),
    ("gb2312-80", "gbk"),
    ("gb_2312-1980", "gbk"),
    ("euc-cn", "gbk"),
    ("x-euc-cn", "gbk"),
    ("gb-18030", "gb18030"),
    ("gb18030-2000", "gb18030"),
    ("gb18030-2005", "gb18030"),
    ("cp950", "big5"),
    ("ms950", "big5"),
    ("windows-950", "big5"),
    ("cp949", "euc-kr"),
    ("ms949", "euc-kr"),
    ("uhc", "euc-kr"),
    ("cp932", "shift_jis"),
    ("ms932", "shift_jis"),
    ("sjis", "shift_jis"),
    ("eucjp", "euc-jp"),
    ("utf-8n", "utf-8"),
    ("x-utf-8", "utf-8"),
];

/// Decodes `bytes` to UTF-8 (see the module docs for the cascade). Never fails.
pub fn to_utf8(bytes: &[u8], content_type: Option<&str>) -> String {
    decode(bytes, content_type).into_owned()
}

/// Like [`to_utf8`], but borrows when the input is already valid UTF-8 that needs no rewrite.
pub(crate) fn decode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let text = transcode(bytes, content_type);
    match rewrite_prolog(&text) {
        Some(fixed) => Cow::Owned(fixed),
        None => text,
    }
}

fn transcode<'a>(bytes: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_len..).unwrap_or_default();
        return encoding.decode_without_bom_handling(rest).0;
    }
    // Most feeds are UTF-8, and mostly CJK text, where std's validator crawls; this is the
    // one pass over every byte of a feed before it is parsed.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let declared = content_type
        .and_then(charset_param)
        .and_then(lookup)
        .or_else(|| prolog_encoding(bytes).and_then(lookup));
    let encoding = match declared {
        // The bytes are not valid UTF-8, so a UTF-8 label is only believed when most of the text
        // really is UTF-8 (a stray bad byte); a GBK page mislabelled UTF-8 goes to the detector.
        Some(e) if e == UTF_8 && !mostly_utf8(bytes) => guess(bytes),
        Some(e) => e,
        None => guess(bytes),
    };
    encoding.decode_without_bom_handling(bytes).0
}

/// Resolves an encoding label through the alias table; GB2312/GBK become GB18030 (a superset).
fn lookup(label: &str) -> Option<&'static Encoding> {
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'');
    let canonical = ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(label))
        .map_or(label, |(_, name)| name);
    let encoding = Encoding::for_label(canonical.as_bytes())?;
    Some(if encoding == GBK { GB18030 } else { encoding })
}

fn guess(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
    if encoding == GBK {
        GB18030
    } else {
        encoding
    }
}

/// True when valid multi-byte UTF-8 sequences outnumber the invalid ones.
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                good += text.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let valid = rest.get(..e.valid_up_to()).unwrap_or_default();
                good += valid.iter().filter(|b| (**b & 0xC0) == 0xC0).count();
                bad += 1;
                let skip = e.valid_up_to() + e.error_len().unwrap_or(rest.len() - e.valid_up_to());
                rest = rest.get(skip..).unwrap_or_default();
                if rest.is_empty() {
                    break;
                }
            }
        }
    }
    good > bad
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim())
            .filter(|v| !v.is_empty())
    })
}

/// The `encoding` label of an XML prolog at the start of `bytes` (after whitespace), if any.
fn prolog_encoding(bytes: &[u8]) -> Option<&str> {
    let (start, end) = prolog_span(bytes)?;
    let (value_start, value_end) = encoding_value(bytes.get(start..end)?)?;
    let label = std::str::from_utf8(bytes.get(start + value_start..start + value_end)?).ok()?;
    // An ASCII-readable prolog cannot really be UTF-16; browsers ignore that label too.
    match lookup(label) {
        Some(e) if e == UTF_16LE || e == UTF_16BE => None,
        _ => Some(label),
    }
}

/// Byte range of `<?xml ... ?>` when it is the first thing after leading whitespace.
fn prolog_span(bytes: &[u8]) -> Option<(usize, usize)> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let head = bytes.get(start..)?;
    if !head.starts_with(b"<?xml") {
        return None;
    }
    // Prologs are short; looking further would only find a later `?>` in the body.
    let window = head.get(..head.len().min(512))?;
    let end = window.windows(2).position(|w| w == b"?>")?;
    Some((start, start + end + 2))
}

/// Position of the quoted value of `encoding=` inside a prolog.
fn encoding_value(prolog: &[u8]) -> Option<(usize, usize)> {
    let key = prolog
        .windows(8)
        .position(|w| w.eq_ignore_ascii_case(b"encoding"))?;
    let mut i = key + 8;
    while prolog.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    if *prolog.get(i)? != b'=' {
        return None;
    }
    i += 1;
    while prolog.get(i)?.is_ascii_whitespace() {
        i += 1;
    }
    let quote = *prolog.get(i)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let len = prolog.get(i + 1..)?.iter().position(|b| *b == quote)?;
    Some((i + 1, i + 1 + len))
}

/// Makes the prolog of decoded text declare UTF-8; `None` when it already does or has none.
fn rewrite_prolog(text: &str) -> Option<String> {
    let (start, end) = prolog_span(text.as_bytes())?;
    let (value_start, value_end) = encoding_value(text.as_bytes().get(start..end)?)?;
    let label = text.get(start + value_start..start + value_end)?;
    if label.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str(text.get(..start + value_start)?);
    out.push_str("UTF-8");
    out.push_str(text.get(start + value_end..)?);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        GBK.encode(s).0.into_owned()
    }

    #[test]
    fn utf8_passes_through_borrowed() {
        let bytes = "<rss>新闻</rss>".as_bytes();
        assert!(matches!(decode(bytes, None), Cow::Borrowed(_)));
        assert_eq!(to_utf8(bytes, None), "<rss>新闻</rss>");
    }

    #[test]
    fn gbk_by_prolog_and_prolog_rewritten() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"gbk\"?>".to_vec();
        bytes.extend(gbk("<rss>春天的雨</rss>"));
        let text = to_utf8(&bytes, None);
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss>春天的雨</rss>"
        );
    }

    #[test]
    fn aliases_without_whatwg_names() {
        for label in [
            "cp936",
            "CP936",
            "ms936",
            "gb_2312-80",
            "gb2312",
            "GBK",
            "x-gbk",
        ] {
            assert_eq!(lookup(label), Some(GB18030), "{label}");
        }
        assert_eq!(lookup("cp950"), Some(encoding_rs::BIG5));
        assert_eq!(lookup("no-such-charset"), None);
    }

    #[test]
    fn http_charset_beats_prolog() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>".to_vec();
        bytes.extend(gbk("<rss>秋天</rss>"));
        let text = to_utf8(&bytes, Some("text/xml; Charset=\"cp936\""));
        assert!(text.ends_with("<rss>秋天</rss>"), "{text}");
    }

    #[test]
    fn valid_utf8_wins_over_declared_gbk() {
        let doc = "<?xml version='1.0' encoding='gbk'?><rss>早晨</rss>";
        let text = to_utf8(doc.as_bytes(), Some("text/xml; charset=gbk"));
        assert_eq!(
            text,
            "<?xml version='1.0' encoding='UTF-8'?><rss>早晨</rss>"
        );
    }

    #[test]
    fn bom_wins_over_wrong_declaration() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend(b"<?xml version=\"1.0\" encoding=\"gb2312\"?><a>\xE6\x97\xA9</a>");
        assert!(to_utf8(&bytes, Some("text/xml; charset=gbk")).ends_with("<a>早</a>"));
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "<a>夜</a>".encode_utf16() {
            utf16.extend(unit.to_le_bytes());
        }
        assert_eq!(to_utf8(&utf16, None), "<a>夜</a>");
    }

    #[test]
    fn one_bad_gbk_byte_is_replaced() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"gb2312\"?><a>".to_vec();
        bytes.extend(gbk("前文"));
        bytes.push(0xFF);
        bytes.extend(gbk("后文"));
        bytes.extend(b"</a>");
        let text = to_utf8(&bytes, None);
        assert!(text.contains("前文\u{FFFD}后文"), "{text}");
    }

    #[test]
    fn utf8_label_with_stray_byte_stays_utf8() {
        let mut bytes = "<a>一二三四".as_bytes().to_vec();
        bytes.push(0xC3);
        bytes.extend("五六</a>".as_bytes());
        let text = to_utf8(&bytes, Some("application/xml; charset=utf-8"));
        assert_eq!(text, "<a>一二三四\u{FFFD}五六</a>");
    }

    #[test]
    fn mislabelled_utf8_gbk_is_detected() {
        let mut bytes = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><a>".to_vec();
        bytes.extend(gbk("今天北京天气晴朗，气温适宜，适合外出散步和锻炼身体。"));
        bytes.extend(b"</a>");
        let text = to_utf8(&bytes, None);
        assert!(text.contains("今天北京天气晴朗"), "{text}");
    }

    #[test]
    fn unlabelled_gbk_is_guessed() {
        let bytes =
            gbk("<rss><title>这是一段没有声明编码的中文文字，用来测试编码猜测。</title></rss>");
        let text = to_utf8(&bytes, None);
        assert!(text.contains("没有声明编码"), "{text}");
    }

    #[test]
    fn charset_param_parsing() {
        assert_eq!(charset_param("text/xml;charset=GBK"), Some("GBK"));
        assert_eq!(
            charset_param("text/xml; q=1; charset = utf-8 "),
            Some("utf-8")
        );
        assert_eq!(charset_param("text/xml"), None);
        assert_eq!(charset_param("text/xml; charset="), None);
    }

    #[test]
    fn prolog_after_blank_lines_is_read() {
        let mut bytes = b"\n\n  <?xml version=\"1.0\" encoding=\"GB2312\"?>".to_vec();
        // (A lone 雪 would be D1 A9, which happens to be valid UTF-8 and would win.)
        bytes.extend(gbk("<a>下雪了</a>"));
        let text = to_utf8(&bytes, None);
        assert!(
            text.ends_with("encoding=\"UTF-8\"?><a>下雪了</a>"),
            "{text:?}"
        );
    }

    #[test]
    fn hostile_prologs_do_not_panic() {
        for doc in [
            &b"<?xml encoding"[..],
            b"<?xml encoding=",
            b"<?xml encoding=\"",
            b"<?xml encoding=\"\xff\xfe\"?>",
            b"<?xml?>",
            b"",
        ] {
            let _ = to_utf8(doc, Some(";;charset"));
        }
    }
}
