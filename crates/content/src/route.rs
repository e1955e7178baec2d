//! Rendering-time image routing: canonical `src` → policy URL.

use std::borrow::Cow;
use std::sync::LazyLock;

use lol_html::errors::RewritingError;
use lol_html::html_content::Element;
use lol_html::{ElementContentHandlers, RewriteStrSettings, Selector};

use crate::rewrite::rewrite;
use tidings_model::image::ImagePolicy;

use crate::postpass::{decode_attribute, encode_attribute};

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
    route(clean_html, policy).unwrap_or_else(|_| clean_html.to_string())
}

fn route(clean_html: &str, policy: &ImagePolicy) -> Result<String, RewritingError> {
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
