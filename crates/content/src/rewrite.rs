//! lol_html over a `&str`, returning a `String`, with one UTF-8 check at the end.
//!
//! `lol_html::rewrite_str` validates every output chunk as it arrives (one per tag and text
//! run, so thousands per article); that was the largest single cost of the content stage. Here
//! the chunks are gathered as bytes and checked once.

use std::borrow::Cow;

use lol_html::errors::RewritingError;
use lol_html::{HtmlRewriter, RewriteStrSettings, Settings};

/// Rewrites UTF-8 `html` with `settings` (UTF-8 in and out, no charset switching on `<meta>`).
pub(crate) fn rewrite(html: &str, settings: RewriteStrSettings) -> Result<String, RewritingError> {
    Ok(into_string(&rewrite_to_bytes(html, settings)?))
}

/// [`rewrite`], leaving the output as bytes for [`as_text`] to read without a copy.
pub(crate) fn rewrite_to_bytes(
    html: &str,
    settings: RewriteStrSettings,
) -> Result<Vec<u8>, RewritingError> {
    let mut out = Vec::with_capacity(html.len() + html.len() / 8);
    let mut rewriter = HtmlRewriter::new(Settings::from(settings), |chunk: &[u8]| {
        out.extend_from_slice(chunk);
    });
    rewriter.write(html.as_bytes())?;
    rewriter.end()?;
    Ok(out)
}

/// `bytes` as text. They are UTF-8 whenever the input and every inserted string are, which
/// they are; a broken sequence would come out as U+FFFD, as `rewrite_str` does it.
///
/// simdutf8 checks Chinese text many times faster than `std::str::from_utf8`, whose fast path
/// is for ASCII.
pub(crate) fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// [`as_text`], owned: copying the checked bytes costs less than checking them again in
/// `String::from_utf8`.
pub(crate) fn into_string(bytes: &[u8]) -> String {
    as_text(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_text_comes_through_and_broken_bytes_become_replacement_characters() {
        assert_eq!(into_string("新闻 <p>a</p>".as_bytes()), "新闻 <p>a</p>");
        let mut broken = "新".as_bytes()[..2].to_vec();
        broken.extend_from_slice(b"<p>");
        assert_eq!(into_string(&broken), "\u{fffd}<p>");
    }

    #[test]
    fn rewriting_without_handlers_changes_nothing() {
        let html = "<div class=\"x\">城市的清晨<img src=\"http://a.example/1.jpg\">&amp;</div>";
        let out = rewrite(html, RewriteStrSettings::new().with_strict(false));
        assert_eq!(out.expect("rewrites"), html);
    }
}
