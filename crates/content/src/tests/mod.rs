//! Tests of the whole stage: fixtures, an XSS corpus and generated tag soup.

mod fast;
mod fixtures;
mod props;
mod xss;

use std::cell::RefCell;

use lol_html::html_content::Element;
use lol_html::{element, rewrite_str, RewriteStrSettings};

use tidings_model::image::ImagePolicy;

use crate::postpass::{self, decode_attribute};
use crate::rewrite::as_text;
use crate::{clean, prepass, route, sanitize, ALLOWED_TAGS};

/// `default` property-test cases, unless PROPTEST_CASES asks for more (or fewer) for a
/// longer hunt.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// One element of cleaned output: its name and decoded attributes, in document order.
#[derive(Debug)]
pub struct El {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

impl El {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Every element of `html`, found by an independent parser (lol_html, not html5ever).
pub fn elements(html: &str) -> Vec<El> {
    let found = RefCell::new(Vec::new());
    let settings = RewriteStrSettings::new()
        .with_strict(false)
        .append_element_content_handler(element!("*", |el: &mut Element| {
            found.borrow_mut().push(El {
                name: el.tag_name(),
                attrs: el
                    .attributes()
                    .iter()
                    .map(|a| (a.name(), decode_attribute(&a.value()).into_owned()))
                    .collect(),
            });
            Ok(())
        }));
    rewrite_str(html, settings).expect("output of clean parses");
    found.into_inner()
}

/// The image list `clean` should report for `html`: img srcs in order, deduplicated.
pub fn listed_images(html: &str) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for el in elements(html).into_iter().filter(|e| e.name == "img") {
        if let Some(src) = el.attr("src") {
            if !urls.iter().any(|u| u == src) {
                urls.push(src.to_string());
            }
        }
    }
    urls
}

/// Checks every safety invariant of `clean`'s output; returns a description of the first
/// violation.
pub fn violation(html: &str, base: Option<&str>) -> Option<String> {
    for el in elements(html) {
        if !ALLOWED_TAGS.contains(&el.name.as_str()) {
            return Some(format!("element <{}> outside the allowlist", el.name));
        }
        for (name, value) in &el.attrs {
            if name.starts_with("on") || name == "style" || name == "id" || name.contains("srcset")
            {
                return Some(format!("attribute {name} on <{}>", el.name));
            }
            if matches!(
                name.as_str(),
                "href" | "src" | "action" | "formaction" | "poster" | "xlink:href"
            ) {
                let scheme = value.split(':').next().unwrap_or("");
                let allowed: &[&str] = if name == "href" {
                    &["http", "https", "mailto"]
                } else {
                    &["http", "https"]
                };
                if !value.contains(':') || !allowed.contains(&scheme) {
                    return Some(format!("{name}={value:?} on <{}>", el.name));
                }
            }
        }
        if el.name == "img" {
            if el.attr("referrerpolicy") != Some("no-referrer") {
                return Some("img without referrerpolicy".into());
            }
            if el.attr("src").is_none() {
                return Some("img without src".into());
            }
        }
        if el.name == "a" && el.attr("rel") != Some("noopener noreferrer nofollow") {
            return Some("link without rel".into());
        }
    }
    for raw in [
        "<script", "<style", "<iframe", "<svg", "<math", "<object", "<embed", "<base", "<meta",
        "<form",
    ] {
        if html.to_ascii_lowercase().contains(raw) {
            return Some(format!("raw {raw} in output"));
        }
    }
    let again = clean(html, base);
    if again.html != html {
        return Some(format!(
            "not idempotent:\n first: {html:?}\nsecond: {:?}",
            again.html
        ));
    }
    None
}

/// Whether the post-pass done in the scan gives up on, or disagrees with, the lol_html post-pass
/// for `html` as it reaches the post-pass.
pub fn scan_differs(html: &str, base: Option<&str>) -> Option<String> {
    let pre = prepass::run(html).unwrap_or_else(|_| html.to_string());
    let sanitized = sanitize::sanitize(&pre, base.and_then(sanitize::parse_base));
    let sanitized = as_text(&sanitized);
    let slow = postpass::run_with_lol_html(&sanitized).expect("lol_html post-pass");
    match postpass::run_in_scan(&sanitized) {
        None => Some(format!("scan gave up on {sanitized:?}")),
        Some(fast) if fast.html != slow.html || fast.images != slow.images => Some(format!(
            "scan {:?} {:?}\nlol_html {:?} {:?}",
            fast.html, fast.images, slow.html, slow.images
        )),
        Some(_) => None,
    }
}

/// Whether routing `html` by a scan disagrees with routing it through lol_html (a scan that
/// gives up agrees: lol_html is what runs then). With `canonical`, giving up is a difference.
pub fn route_differs(html: &str, canonical: bool) -> Option<String> {
    let policies = [
        ImagePolicy::Template("https://p.example/?u={url_encoded}&x={url}".into()),
        ImagePolicy::Builtin {
            public_url: "https://img.example/".into(),
            key: b"k".to_vec(),
        },
    ];
    for policy in &policies {
        let slow = route::route_with_lol_html(html, policy).expect("lol_html routing");
        match route::route_in_scan(html, policy) {
            None if canonical => return Some(format!("scan gave up on {html:?}")),
            Some(fast) if fast != slow => {
                return Some(format!("scan {fast:?}\nlol_html {slow:?}"));
            }
            _ => {}
        }
    }
    None
}
