//! Real-world shapes: the ZAKER article markup, lazy-loading variants, relative URLs, routing.

use tidings_model::image::ImagePolicy;

use super::{elements, violation};
use crate::{clean, route_images};

const IMG0: &str = "http://zkres1.myzaker.com/202403/65f0aa11b15ec0549a1b2c01_1024.jpg";
const IMG1: &str = "http://zkres1.myzaker.com/202403/65f0aa11b15ec0549a1b2c02_1024.jpg";

/// The markup shape of a ZAKER article as RSSHub delivers it, with invented text.
fn zaker_article() -> String {
    format!(
        r#"<div>
<p>春分前后，江南的油菜花次第开放，城郊的田埂上挤满了拍照的游人。</p><p>当地农业部门表示，今年的花期比往年提前了约一周。</p><p></p><div class="img_box" id="id_imagebox_0" onclick><div class="content_img_div perview_img_div"><img class="lazy opacity_0 " id="img_0" data-original="{IMG0}" data-height="520" data-width="780" src="https://placeholder"></div></div>↑一位摄影爱好者在花田边调整三脚架。<p></p><p><strong>花海背后的生意经</strong></p><p>附近村民把自家院子改成了茶座，周末的营业额能翻上两番。</p><p></p><div class="img_box" id="id_imagebox_1" onclick><div class="content_img_div perview_img_div"><img class="lazy opacity_0 " id="img_1" data-original="{IMG1}" data-height="454" data-width="680" src="https://placeholder"></div></div>↑村口新开的茶座坐满了客人。<p></p><p>同一天，气象台提醒游客注意早晚温差。</p><div id="recommend_bottom"></div><div id="article_bottom"></div>
</div>"#
    )
}

#[test]
fn zaker_images_become_canonical() {
    let out = clean(
        &zaker_article(),
        Some("https://rsshub.app/zaker/channel/13"),
    );
    assert_eq!(out.images, [IMG0, IMG1]);
    let imgs: Vec<_> = elements(&out.html)
        .into_iter()
        .filter(|e| e.name == "img")
        .collect();
    assert_eq!(imgs.len(), 2);
    for (img, (url, w, h)) in imgs
        .iter()
        .zip([(IMG0, "780", "520"), (IMG1, "680", "454")])
    {
        assert_eq!(img.attr("src"), Some(url));
        assert_eq!(img.attr("width"), Some(w));
        assert_eq!(img.attr("height"), Some(h));
        assert_eq!(img.attr("referrerpolicy"), Some("no-referrer"));
        assert_eq!(img.attr("loading"), Some("lazy"));
        assert_eq!(img.attr("decoding"), Some("async"));
        assert_eq!(img.attr("class"), Some("lazy opacity_0 "));
        for gone in [
            "id",
            "data-original",
            "data-width",
            "data-height",
            "onclick",
        ] {
            assert_eq!(img.attr(gone), None, "{gone}");
        }
    }
    assert!(!out.html.contains("onclick"), "{}", out.html);
    assert!(!out.html.contains("id="), "{}", out.html);
    assert!(!out.html.contains("placeholder"), "{}", out.html);
    assert!(out
        .html
        .contains(r#"<div class="img_box"><div class="content_img_div perview_img_div"><img "#));
    // The empty recommendation slots are gone, the text around them is not.
    assert!(
        out.html
            .contains("同一天，气象台提醒游客注意早晚温差。</p>\n</div>"),
        "{}",
        out.html
    );
    assert!(out.html.contains("↑一位摄影爱好者在花田边调整三脚架。"));
    assert!(out.html.contains("<strong>花海背后的生意经</strong>"));
    assert_eq!(violation(&out.html, None), None);
}

#[test]
fn zaker_routed_through_the_template_proxy_matches_the_seed_form() {
    let out = clean(&zaker_article(), None);
    let policy = ImagePolicy::Template("https://cors.zfour.workers.dev/?{url}".into());
    let routed = route_images(&out.html, &policy);
    let srcs: Vec<_> = elements(&routed)
        .into_iter()
        .filter_map(|e| e.attr("src").map(str::to_string))
        .collect();
    assert_eq!(
        srcs,
        [
            format!("https://cors.zfour.workers.dev/?{IMG0}"),
            format!("https://cors.zfour.workers.dev/?{IMG1}"),
        ]
    );
    assert!(routed.contains(&format!(r#"src="https://cors.zfour.workers.dev/?{IMG0}""#)));
    // Only src changes.
    assert_eq!(
        routed.replace("https://cors.zfour.workers.dev/?", ""),
        out.html
    );
}

#[test]
fn routing_escapes_and_unescapes_ampersands() {
    let out = clean(r#"<img src="http://i.example/a.jpg?w=1&amp;h=2">"#, None);
    assert_eq!(out.images, ["http://i.example/a.jpg?w=1&h=2"]);
    let enc = route_images(
        &out.html,
        &ImagePolicy::Template("https://p.example/?u={url_encoded}&x=1".into()),
    );
    assert!(
        enc.contains(
            r#"src="https://p.example/?u=http%3A%2F%2Fi.example%2Fa.jpg%3Fw%3D1%26h%3D2&amp;x=1""#
        ),
        "{enc}"
    );
    let direct = route_images(&out.html, &ImagePolicy::Direct);
    assert_eq!(direct, out.html);
    let builtin = ImagePolicy::Builtin {
        public_url: "https://img.example".into(),
        key: b"k".to_vec(),
    };
    let signed = route_images(&out.html, &builtin);
    let want = builtin.apply("http://i.example/a.jpg?w=1&h=2");
    assert_eq!(elements(&signed)[0].attr("src"), Some(want.as_str()));
}

#[test]
fn lazy_variants_are_promoted() {
    let attrs = [
        "data-original",
        "data-src",
        "data-lazy-src",
        "data-actualsrc",
        "data-echo",
        "data-url",
        "data-lazyload",
        "data-croporisrc",
    ];
    for attr in attrs {
        let html = format!(
            r#"<p><img {attr}="http://i.example/{attr}.jpg" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="></p>"#
        );
        let out = clean(&html, None);
        assert_eq!(
            out.images,
            [format!("http://i.example/{attr}.jpg")],
            "{attr}: {}",
            out.html
        );
    }
}

#[test]
fn noscript_fallbacks() {
    // A lazy image and its noscript twin: one image.
    let out = clean(
        r#"<img data-src="/a.jpg" src="/spacer.gif"><noscript><img src="/a.jpg"></noscript>"#,
        Some("https://site.example/post/1"),
    );
    assert_eq!(out.images, ["https://site.example/a.jpg"]);
    assert_eq!(out.html.matches("<img").count(), 1, "{}", out.html);
    // Only the noscript image is real: it is kept, resolved, and the text is not escaped markup.
    let out = clean(
        r#"<img class="lazyload" src="/blank.gif"><noscript><img src="b.jpg" alt="桥"></noscript>"#,
        Some("https://site.example/post/1"),
    );
    assert_eq!(out.images, ["https://site.example/post/b.jpg"]);
    assert!(!out.html.contains("&lt;"), "{}", out.html);
}

#[test]
fn relative_urls() {
    let base = Some("https://news.example.com/world/2024/story.html");
    let out = clean(
        r##"<p><a href="../index.html">up</a> <a href="//other.example/x">proto</a> <a href="#top">frag</a></p><img src="img/1.jpg"><img src="//cdn.example/2.jpg"><img src="/3.jpg?a=1&amp;b=2">"##,
        base,
    );
    assert_eq!(
        out.images,
        [
            "https://news.example.com/world/2024/img/1.jpg",
            "https://cdn.example/2.jpg",
            "https://news.example.com/3.jpg?a=1&b=2",
        ]
    );
    let hrefs: Vec<_> = elements(&out.html)
        .into_iter()
        .filter_map(|e| e.attr("href").map(str::to_string))
        .collect();
    assert_eq!(
        hrefs,
        [
            "https://news.example.com/world/index.html",
            "https://other.example/x",
            "https://news.example.com/world/2024/story.html#top",
        ]
    );
}

#[test]
fn without_base_relative_images_are_dropped_and_links_unlinked() {
    let out = clean(
        r#"<p><a href="/x">text stays</a><img src="rel.jpg"><img src="//cdn.example/k.jpg"></p>"#,
        None,
    );
    assert_eq!(out.images, ["http://cdn.example/k.jpg"]);
    assert!(out.html.contains("text stays"), "{}", out.html);
    assert!(!out.html.contains("href"), "{}", out.html);
    assert!(!out.html.contains("rel.jpg"), "{}", out.html);
}

#[test]
fn images_without_any_usable_source_are_removed_with_their_wrappers() {
    let out = clean(
        r#"<div class="pic"><img src="javascript:alert(1)"></div><div><img src="about:blank"></div><p>正文</p><span><img></span>"#,
        None,
    );
    assert!(out.images.is_empty());
    assert_eq!(out.html, "<p>正文</p>");
}

#[test]
fn images_are_listed_in_order_and_deduplicated() {
    let out = clean(
        r#"<img src="http://i.example/b.jpg"><img src="http://i.example/a.jpg"><img src="http://i.example/b.jpg">"#,
        None,
    );
    assert_eq!(
        out.images,
        ["http://i.example/b.jpg", "http://i.example/a.jpg"]
    );
    assert_eq!(out.html.matches("<img").count(), 3);
}

#[test]
fn links_get_rel_and_keep_titles() {
    let out = clean(
        r#"<a href="https://x.example/" title="t" target="_blank" rel="opener">x</a>"#,
        None,
    );
    assert_eq!(
        out.html,
        r#"<a href="https://x.example/" title="t" rel="noopener noreferrer nofollow">x</a>"#
    );
}

#[test]
fn plain_text_and_empty_input() {
    assert_eq!(clean("", None), Default::default());
    assert_eq!(
        clean("just words & more", None).html,
        "just words &amp; more"
    );
}

#[test]
fn pre_newlines_survive_repeated_cleaning() {
    let once = clean("<pre>\n\nline</pre>", None).html;
    assert_eq!(once, "<pre>\n\nline</pre>");
    assert_eq!(clean(&once, None).html, once);
}

#[test]
fn the_seed_article_shape_is_idempotent_under_both_bases() {
    for base in [None, Some("https://rsshub.app/zaker/channel/13")] {
        let once = clean(&zaker_article(), base);
        assert_eq!(clean(&once.html, base), once);
    }
}
