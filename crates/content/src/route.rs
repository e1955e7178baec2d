//! Rendering-time image routing: canonical `src` → policy URL.
//!
//! Canonical clean HTML is ammonia's serialization after the post-pass, so its tags can be
//! read by a plain scan (see [`crate::postpass`]): routing splices the new value into each
//! `<img>`'s `src` and copies everything else. HTML that is not of that shape (a tag outside
//! the allowlist, an odd attribute, a stray `<`) goes through lol_html instead, which gives
//! the same bytes on canonical HTML (a property test compares them).

use std::borrow::Cow;
use std::sync::LazyLock;

use lol_html::errors::RewritingError;
use lol_html::html_content::Element;
use lol_html::{ElementContentHandlers, RewriteStrSettings, Selector};
use memchr::memchr;
use tidings_model::image::ImagePolicy;

use crate::postpass::{decode_attribute, encode_attribute, read_start_tag};
use crate::rewrite::rewrite;
use crate::sanitize::ALLOWED_TAGS;

static IMG_WITH_SRC: LazyLock<Selector> =
    LazyLock::new(|| "img[src]".parse().expect("constant selector"));

/// Rewrites every `<img src>` of canonical clean HTML through `policy`; nothing else changes.
///
/// Should the rewriter fail, the input comes back unchanged: it is already sanitized, its
/// images merely point at their origin.
pub fn route_images(clean_html: &str, policy: &ImagePolicy) -> String {
    if *policy == ImagePolicy::Direct {
        return clean_html.to_string();
    }
    if let Some(routed) = route_in_scan(clean_html, policy) {
        return routed;
    }
    route_with_lol_html(clean_html, policy).unwrap_or_else(|_| clean_html.to_string())
}

/// Routing by a scan of the tags; `None` if a tag is not of canonical shape. Text is copied
/// in runs, from one routed `src` to the next, not tag by tag.
pub(crate) fn route_in_scan(clean_html: &str, policy: &ImagePolicy) -> Option<String> {
    let bytes = clean_html.as_bytes();
    let mut out = String::with_capacity(clean_html.len() + clean_html.len() / 8);
    let mut attrs = Vec::new();
    // `clean_html[..copied]` is in `out`; the scan resumes at `at`.
    let (mut copied, mut at) = (0, 0);
    while let Some(lt) = memchr(b'<', &bytes[at..]).map(|i| at + i) {
        let gt = lt + memchr(b'>', &bytes[lt..])?;
        // '<' and '>' are ASCII, so both ends are character boundaries.
        let tag = &clean_html[lt..=gt];
        at = gt + 1;
        if let Some(name) = tag.strip_prefix("</") {
            allowed(name.strip_suffix('>')?)?;
            continue;
        }
        let name = read_start_tag(tag, &mut attrs)?;
        allowed(name)?;
        if name != "img" {
            continue;
        }
        if let Some((_, src)) = attrs.iter().find(|(n, _)| *n == "src") {
            // The value is a slice of the input: copy up to it, then the routed value.
            let src_at = src.as_ptr() as usize - clean_html.as_ptr() as usize;
            out.push_str(&clean_html[copied..src_at]);
            out.push_str(&encode_attribute(&policy.apply(&decode_attribute(src))));
            copied = src_at + src.len();
        }
    }
    out.push_str(&clean_html[copied..]);
    Some(out)
}

/// Whether `name` is of the allowlist: none of those is parsed as raw text or foreign content,
/// so a scan reads its tags as any HTML parser does.
fn allowed(name: &str) -> Option<()> {
    SORTED_TAGS.binary_search(&packed(name)?).ok().map(|_| ())
}

/// [`ALLOWED_TAGS`] packed and sorted: searching integers, not strings, since every tag of
/// every post is looked up here when it is rendered.
static SORTED_TAGS: LazyLock<Vec<u128>> = LazyLock::new(|| {
    let mut tags: Vec<u128> = ALLOWED_TAGS.iter().filter_map(|t| packed(t)).collect();
    tags.sort_unstable();
    tags
});

/// A name of up to 15 bytes as one integer: its bytes, then its length (so that a trailing
/// NUL does not make "p\0" equal "p"). Longer names are no tag of the allowlist.
fn packed(name: &str) -> Option<u128> {
    let bytes = name.as_bytes();
    let mut key = [0; 16];
    key.get_mut(..bytes.len())?.copy_from_slice(bytes);
    key[15] = u8::try_from(bytes.len()).ok().filter(|&n| n < 16)?;
    Some(u128::from_be_bytes(key))
}

pub(crate) fn route_with_lol_html(
    clean_html: &str,
    policy: &ImagePolicy,
) -> Result<String, RewritingError> {
    let handler = ElementContentHandlers::default().element(|el: &mut Element| {
        if let Some(src) = el.get_attribute("src") {
            let routed = policy.apply(&decode_attribute(&src));
            // The name is a constant, so set_attribute cannot fail.
            let _ = el.set_attribute("src", &encode_attribute(&routed));
        }
        Ok(())
    });
    let settings = RewriteStrSettings::new()
        .with_strict(false)
        .append_element_content_handler((Cow::Borrowed(&*IMG_WITH_SRC), handler));
    rewrite(clean_html, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_packed_allowlist_is_the_allowlist() {
        assert_eq!(
            SORTED_TAGS.len(),
            ALLOWED_TAGS.len(),
            "a name over 15 bytes"
        );
        for tag in ALLOWED_TAGS {
            assert!(allowed(tag).is_some(), "{tag}");
        }
        for other in [
            "script",
            "style",
            "P",
            "p\0",
            "\0p",
            "",
            "pp",
            "figcaptionfigcap",
            "a b",
        ] {
            assert!(allowed(other).is_none(), "{other:?}");
        }
    }
}
