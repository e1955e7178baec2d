//! Cleans article HTML: lazy images, relative URLs, sanitizing, image routing.
//!
//! [`clean`] turns hostile article HTML into canonical clean HTML in three steps:
//!
//! 1. a lol_html pre-pass makes lazy-loaded images real (`data-original` & co. → `src`, drops
//!    placeholder `src`, unwraps or drops `<noscript>` twins, `data-width/height` → `width/height`);
//! 2. ammonia sanitizes with a news-article allowlist; its attribute filter resolves relative
//!    URLs against the base and admits only absolute `http`/`https` (and `mailto` links);
//! 3. a post-pass removes images left without a URL, lists image URLs, and drops empty
//!    `div`/`span` wrappers.
//!
//! Canonical means: every `<img>` has `src` = the original absolute http(s) URL plus
//! `referrerpolicy="no-referrer" loading="lazy" decoding="async"`; links carry
//! `rel="noopener noreferrer nofollow"`; no `style`, `id`, `on*`, `srcset` or `data-*`.
//! `clean` is idempotent: cleaning its output again (same base) changes nothing.
//!
//! Simple, well-formed HTML (most articles) takes a shortcut: [`fast`] does the three steps in
//! one pass, with the same bytes as result, and hands anything else to the steps above.
//! [`route_images`] applies the image policy at render time.

mod fast;
mod plain_url;
mod postpass;
mod prepass;
mod rewrite;
mod route;
mod sanitize;

#[cfg(test)]
mod tests;

use lol_html::errors::RewritingError;
use tidings_model::CleanHtml;

use crate::rewrite::as_text;

pub use postpass::IMG_FIXED_ATTRS;
pub use route::route_images;
pub use sanitize::ALLOWED_TAGS;

/// What can go wrong inside the content stage. [`clean`] never fails (it degrades safely);
/// [`try_clean`] reports these so a caller can log them.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("lazy-image pre-pass failed on article HTML (base {base}): {source}")]
    PrePass {
        base: String,
        #[source]
        source: RewritingError,
    },
    #[error("image post-pass failed on sanitized HTML (base {base}): {source}")]
    PostPass {
        base: String,
        #[source]
        source: RewritingError,
    },
}

/// Clean raw article HTML. `base` resolves relative URLs (entry xml:base / link / feed link,
/// decided by the caller).
///
/// Never fails and never returns unsanitized HTML: if the pre-pass fails the raw HTML is
/// sanitized without it (lazy images are then lost); if the post-pass fails the result is empty.
pub fn clean(raw_html: &str, base: Option<&str>) -> CleanHtml {
    match try_clean(raw_html, base) {
        Ok(clean) => clean,
        Err(ContentError::PrePass { .. }) => finish(raw_html, base).unwrap_or_default(),
        Err(ContentError::PostPass { .. }) => CleanHtml::default(),
    }
}

/// [`clean`] that reports a failure instead of degrading.
pub fn try_clean(raw_html: &str, base: Option<&str>) -> Result<CleanHtml, ContentError> {
    match fast::clean(raw_html, base) {
        Some(clean) => Ok(clean),
        None => try_clean_in_steps(raw_html, base),
    }
}

/// The three steps one by one: the way for HTML of any shape, and the reference that the
/// one-pass cleaner must agree with.
pub(crate) fn try_clean_in_steps(
    raw_html: &str,
    base: Option<&str>,
) -> Result<CleanHtml, ContentError> {
    let pre = prepass::run_if_needed(raw_html).map_err(|source| ContentError::PrePass {
        base: describe(base),
        source,
    })?;
    match pre {
        Some(pre) => finish(&as_text(&pre), base),
        None => finish(raw_html, base),
    }
}

fn finish(html: &str, base: Option<&str>) -> Result<CleanHtml, ContentError> {
    let once = sanitize::sanitize(html, base.and_then(sanitize::parse_base));
    let once = as_text(&once);
    if once.contains("<table") {
        // Foster parenting (content misplaced inside a table) builds trees that parse
        // differently once serialized, e.g. `<p><table><div>` gives a div inside a p. One more
        // parse settles them; only articles with tables pay for it. URLs are absolute by now;
        // tidy restores what html5ever's serializer loses (the newline after `<pre>`).
        let twice = sanitize::sanitize(&postpass::tidy(&once), None);
        return post(&as_text(&twice), base);
    }
    post(&once, base)
}

fn post(sanitized: &str, base: Option<&str>) -> Result<CleanHtml, ContentError> {
    postpass::run(sanitized).map_err(|source| ContentError::PostPass {
        base: describe(base),
        source,
    })
}

fn describe(base: Option<&str>) -> String {
    base.unwrap_or("none").to_string()
}
