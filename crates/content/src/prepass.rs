//! Pre-pass over raw article HTML (lol_html, streaming): make lazy-loaded images real.
//!
//! The pre-pass only moves attribute values around; it never decides what is safe. Everything
//! it emits goes through ammonia afterwards, so a mistake here can lose an image but cannot let
//! script through. Attribute values are copied raw (entities intact) so that html5ever decodes
//! them exactly once, by the rules of the HTML spec. Relative URLs are resolved later, in the
//! sanitizer's attribute filter, where values are already decoded.
//!
//! `<noscript>`: lol_html (like a browser with scripting on) sees its content as text. Lazy
//! loaders put a plain `<img>` in a `<noscript>` right after the lazy image. A `<noscript>` that
//! follows a lazy image whose `src` we promoted is that image's twin and is dropped whole.
//! Any other `<noscript>` is unwrapped: its text is run through this pre-pass (bounded depth)
//! and emitted as markup, so an image that exists only there survives.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::LazyLock;

use lol_html::errors::RewritingError;
use lol_html::html_content::{ContentType, Element, EndTag, TextChunk};
use lol_html::{ElementContentHandlers, RewriteStrSettings, Selector};

use crate::rewrite::{as_text, rewrite_to_bytes};

/// Lazy-loading attributes that hold the real image URL, in order of preference.
pub(crate) const LAZY_ATTRS: [&str; 8] = [
    "data-original",
    "data-src",
    "data-lazy-src",
    "data-actualsrc",
    "data-echo",
    "data-url",
    "data-lazyload",
    "data-croporisrc",
];

/// `<noscript>` inside `<noscript>` text deeper than this is dropped rather than unwrapped.
const MAX_NOSCRIPT_DEPTH: u8 = 2;

/// Longest width/height we carry over; anything longer is not a pixel size.
const MAX_DIMENSION_DIGITS: usize = 5;

struct Selectors {
    img: Selector,
    noscript: Selector,
}

// Parsing selectors costs more than rewriting a short article, so it happens once.
static SELECTORS: LazyLock<Selectors> = LazyLock::new(|| Selectors {
    // html5ever turns `<image>` into `<img>`, so the pre-pass must see it as one too.
    img: parse_selector("img, image"),
    noscript: parse_selector("noscript"),
});

fn parse_selector(s: &str) -> Selector {
    // The selector strings are constants of this file; a failure is a bug caught by every test.
    s.parse().expect("constant selector parses")
}

/// Runs the pre-pass over `html`, whatever it holds.
#[cfg(test)]
pub fn run(html: &str) -> Result<String, RewritingError> {
    Ok(crate::rewrite::into_string(&run_at_depth(html, 0)?))
}

/// Runs the pre-pass over `html` if it has a tag the pre-pass acts on; `None` means `html`
/// would come out unchanged, as lol_html copies what no handler touches.
pub fn run_if_needed(html: &str) -> Result<Option<Vec<u8>>, RewritingError> {
    if !has_candidate_tags(html) {
        return Ok(None);
    }
    run_at_depth(html, 0).map(Some)
}

/// Whether some `<` is followed by `im` (`img`, `image`) or `noscript`, in any case: a
/// superset of the tags the selectors match, found without parsing.
fn has_candidate_tags(html: &str) -> bool {
    let bytes = html.as_bytes();
    let mut from = 0;
    while let Some(i) = html[from..].find('<') {
        let after = &bytes[from + i + 1..];
        let starts = |word: &[u8]| {
            after
                .get(..word.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(word))
        };
        if starts(b"im") || starts(b"noscript") {
            return true;
        }
        from += i + 1;
    }
    false
}

fn run_at_depth(html: &str, depth: u8) -> Result<Vec<u8>, RewritingError> {
    // Lazy images seen since the last plain image whose `<noscript>` twin may still follow.
    let pending_twins = Cell::new(0usize);
    let noscript_text = Rc::new(RefCell::new(String::new()));
    let collecting = Cell::new(false);

    let img_handler = ElementContentHandlers::default().element(|el: &mut Element| {
        if promote_lazy_image(el) {
            pending_twins.set(pending_twins.get() + 1);
        } else {
            pending_twins.set(0);
        }
        Ok(())
    });
    let noscript_handler = ElementContentHandlers::default()
        .element(|el: &mut Element| {
            noscript_text.borrow_mut().clear();
            if pending_twins.get() > 0 || depth >= MAX_NOSCRIPT_DEPTH {
                pending_twins.set(pending_twins.get().saturating_sub(1));
                collecting.set(false);
                el.remove();
                return Ok(());
            }
            collecting.set(true);
            el.remove_and_keep_content();
            let text = Rc::clone(&noscript_text);
            el.on_end_tag(Box::new(move |end: &mut EndTag<'_>| {
                let inner = std::mem::take(&mut *text.borrow_mut());
                // A failure inside drops the fallback content; the outer document goes on.
                if let Ok(markup) = run_at_depth(&inner, depth + 1) {
                    end.before(&as_text(&markup), ContentType::Html);
                }
                Ok(())
            }))
        })
        .text(|chunk: &mut TextChunk<'_>| {
            if collecting.get() {
                noscript_text.borrow_mut().push_str(chunk.as_str());
                chunk.remove();
            }
            Ok(())
        });

    let settings = RewriteStrSettings::new()
        .with_strict(false)
        .append_element_content_handler((Cow::Borrowed(&SELECTORS.img), img_handler))
        .append_element_content_handler((Cow::Borrowed(&SELECTORS.noscript), noscript_handler));
    rewrite_to_bytes(html, settings)
}

/// Gives `img` its real `src`; returns whether the URL came from a lazy-loading attribute.
fn promote_lazy_image(el: &mut Element) -> bool {
    if el.tag_name() == "image" {
        // A constant, valid name: cannot fail.
        let _ = el.set_tag_name("img");
    }
    let lazy = LAZY_ATTRS
        .iter()
        .filter_map(|name| el.get_attribute(name))
        .find(|value| !is_placeholder(value));
    let promoted = lazy.is_some();
    let src = match lazy {
        Some(url) => Some(url),
        None => el
            .get_attribute("src")
            .filter(|src| !is_placeholder(src))
            .or_else(|| first_srcset_url(el)),
    };
    match src {
        // The value is raw source text: set_attribute keeps entities as they are.
        Some(url) => set(el, "src", url.trim()),
        None => el.remove_attribute("src"),
    }
    carry_dimension(el, "data-width", "width");
    carry_dimension(el, "data-height", "height");
    promoted
}

/// The first candidate URL of `srcset` (or `data-srcset`), used only when nothing better exists.
/// It still passes the sanitizer's URL check, because it lands in `src`.
fn first_srcset_url(el: &Element) -> Option<String> {
    let set = el
        .get_attribute("data-srcset")
        .or_else(|| el.get_attribute("srcset"))?;
    first_candidate(&set).map(str::to_string)
}

/// The first URL of a srcset value, unless it is a placeholder.
pub(crate) fn first_candidate(set: &str) -> Option<&str> {
    let first = set.split(',').next()?.split_ascii_whitespace().next()?;
    (!first.is_empty() && !is_placeholder(first)).then_some(first)
}

fn carry_dimension(el: &mut Element, from: &str, to: &str) {
    if let Some(value) = el.get_attribute(from) {
        let value = value.trim();
        if is_pixel_size(value) {
            set(el, to, value);
        }
    }
}

pub(crate) fn is_pixel_size(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_DIMENSION_DIGITS
        && value.bytes().all(|b| b.is_ascii_digit())
}

fn set(el: &mut Element, name: &str, value: &str) {
    // Names are constants of this file and always valid, so the error cannot happen.
    let _ = el.set_attribute(name, value);
}

/// Whether `src` is a stand-in a lazy loader swaps out: empty, inline data, `about:blank`, or a
/// spacer/placeholder/loading image.
pub(crate) fn is_placeholder(src: &str) -> bool {
    let src = src.trim().to_ascii_lowercase();
    if src.is_empty() || src.starts_with("data:") || src.starts_with("about:") {
        return true;
    }
    let path = src.split(['?', '#']).next().unwrap_or("");
    let name = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    const MARKERS: [&str; 8] = [
        "spacer",
        "placeholder",
        "blank.gif",
        "blank.png",
        "1x1",
        "pixel.gif",
        "transparent.gif",
        "transparent.png",
    ];
    let stand_in_name = (name.starts_with("loading") || name.starts_with("lazy"))
        && [".gif", ".png", ".svg"]
            .iter()
            .any(|ext| name.ends_with(ext));
    MARKERS.iter().any(|m| name.contains(m)) || stand_in_name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pre(html: &str) -> String {
        run(html).expect("pre-pass succeeds")
    }

    #[test]
    fn only_html_with_a_candidate_tag_is_rewritten() {
        for html in [
            "<p>a</p><IMG src=x>",
            "<image data-src=/a.jpg>",
            "<p><NoScript><img src=/a.jpg></noscript>",
            "<!-- <img src=x> -->",
        ] {
            assert!(has_candidate_tags(html), "{html}");
        }
        for html in ["<p>图</p>", "a < img", "<i>m</i>", "<nos>", "<", ""] {
            assert!(!has_candidate_tags(html), "{html}");
            assert_eq!(run_if_needed(html).expect("pre-pass"), None);
        }
    }

    #[test]
    fn lazy_attribute_wins_over_placeholder_src() {
        let out = pre(r#"<img data-original="http://a.example/x.jpg" src="https://placeholder">"#);
        assert!(out.contains(r#"src="http://a.example/x.jpg""#), "{out}");
        assert!(!out.contains("placeholder\""), "{out}");
    }

    #[test]
    fn first_non_empty_lazy_attribute_is_taken() {
        let out = pre(r#"<img data-original=" " data-src="/b.jpg" data-url="/c.jpg">"#);
        assert!(out.contains(r#"src="/b.jpg""#), "{out}");
    }

    #[test]
    fn entities_in_lazy_values_stay_raw() {
        let out = pre(r#"<img data-src="/x.jpg?a=1&amp;b=2">"#);
        assert!(out.contains(r#"src="/x.jpg?a=1&amp;b=2""#), "{out}");
    }

    #[test]
    fn placeholder_src_without_lazy_attribute_is_removed() {
        for src in [
            "",
            "data:image/gif;base64,R0lGOD",
            "about:blank",
            "/img/spacer.gif",
            "/s/loading.gif?v=2",
            "//cdn.example/1x1.png",
            "BLANK.GIF",
        ] {
            let out = pre(&format!(r#"<img src="{src}" alt="a">"#));
            assert!(!out.contains("src="), "{src}: {out}");
        }
    }

    #[test]
    fn image_is_an_img() {
        let out = pre(r#"<image data-src="/a.jpg" src="blank.gif">"#);
        assert!(
            out.starts_with(r#"<img "#) && out.contains(r#"src="/a.jpg""#),
            "{out}"
        );
    }

    #[test]
    fn real_images_are_not_placeholders() {
        for src in [
            "http://a.example/photo.jpg",
            "/uploads/loading-dock.jpg",
            "x/blanket.jpg",
        ] {
            assert!(!is_placeholder(src), "{src}");
        }
    }

    #[test]
    fn data_dimensions_become_width_and_height_digits_only() {
        let out = pre(r#"<img src="/a.jpg" data-width="780" data-height="52x">"#);
        assert!(out.contains(r#" width="780""#), "{out}");
        assert!(!out.contains(" height="), "{out}");
    }

    #[test]
    fn noscript_twin_of_lazy_image_is_dropped() {
        let out = pre(
            r#"<img data-src="/a.jpg" src="spacer.gif"><noscript><img src="/a.jpg"></noscript><p>t</p>"#,
        );
        assert_eq!(out.matches("<img").count(), 1, "{out}");
        assert!(!out.contains("noscript"), "{out}");
        assert!(out.contains("<p>t</p>"), "{out}");
    }

    #[test]
    fn lone_noscript_image_is_unwrapped_and_processed() {
        let out = pre(r#"<noscript><img data-src="/real.jpg" src="blank.gif"></noscript>"#);
        assert!(out.contains(r#"src="/real.jpg""#), "{out}");
        assert!(!out.contains("noscript"), "{out}");
    }

    #[test]
    fn placeholder_image_with_noscript_fallback_keeps_fallback() {
        let out = pre(
            r#"<img class="lazy" src="grey-placeholder.png"><noscript><img src="/r.jpg"></noscript>"#,
        );
        assert!(out.contains(r#"<img src="/r.jpg">"#), "{out}");
    }

    #[test]
    fn two_lazy_images_then_two_twins() {
        let out = pre(
            r#"<img data-src="/a.jpg"><img data-src="/b.jpg"><noscript><img src="/a.jpg"></noscript><noscript><img src="/b.jpg"></noscript>"#,
        );
        assert_eq!(out.matches("<img").count(), 2, "{out}");
    }

    #[test]
    fn srcset_supplies_src_only_as_a_last_resort() {
        let out = pre(r#"<img srcset="/s.jpg 1x, /l.jpg 2x">"#);
        assert!(out.contains(r#"src="/s.jpg""#), "{out}");
        let out = pre(r#"<img src="/main.jpg" srcset="/s.jpg 1x">"#);
        assert!(out.contains(r#"src="/main.jpg""#), "{out}");
    }
}
