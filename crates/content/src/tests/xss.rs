//! Hand-written attack corpus. Every vector is cleaned with and without a base, and the output
//! is parsed back and checked by `violation` (allowlist, no on*/style/id/srcset, URL schemes,
//! image attributes, idempotence).

use super::{elements, listed_images, route_differs, scan_differs, violation};
use crate::clean;

const VECTORS: &[&str] = &[
    // Event handlers.
    r#"<img src=x onerror=alert(1)>"#,
    r#"<img src="http://i.example/a.jpg" onerror="alert(1)" onload=alert(2)>"#,
    r#"<p onclick="steal()">click</p>"#,
    r#"<div onmouseover=alert(1)>hover</div>"#,
    r#"<body onload=alert(1)>text</body>"#,
    r#"<a href="https://ok.example/" onfocus=alert(1) autofocus>x</a>"#,
    r#"<img/src="http://i.example/a.jpg"/onerror=alert(1)>"#,
    r#"<img src="http://i.example/a.jpg"onerror=alert(1)>"#,
    r#"<IMG SRC="http://i.example/a.jpg" ONERROR="alert(1)">"#,
    r#"<details open ontoggle=alert(1)>x</details>"#,
    r#"<span onpointerenter=alert(1) class=c>s</span>"#,
    // javascript:, vbscript:, data: with entity, whitespace and case tricks.
    r#"<a href="javascript:alert(1)">a</a>"#,
    r#"<a href="JAVASCRIPT:alert(1)">a</a>"#,
    r#"<a href="  javascript:alert(1)">a</a>"#,
    r#"<a href="jav&#x09;ascript:alert(1)">a</a>"#,
    r#"<a href="jav&#9;ascript:alert(1)">a</a>"#,
    r#"<a href="&#106;avascript:alert(1)">a</a>"#,
    r#"<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">a</a>"#,
    r#"<a href="java&NewLine;script:alert(1)">a</a>"#,
    r#"<a href="javascript&colon;alert(1)">a</a>"#,
    "<a href=\"java\nscript:alert(1)\">a</a>",
    "<a href=\"\u{1}javascript:alert(1)\">a</a>",
    r#"<a href="vbscript:msgbox(1)">a</a>"#,
    r#"<a href="VbScRiPt:msgbox(1)">a</a>"#,
    r#"<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>"#,
    r#"<img src="data:image/svg+xml,<svg onload=alert(1)>">"#,
    r#"<img src="javascript:alert(1)">"#,
    r#"<img data-original="javascript:alert(1)" src="https://placeholder">"#,
    r#"<img data-src="  JaVaScRiPt:alert(1)">"#,
    r#"<img data-src="data:text/html,<script>alert(1)</script>">"#,
    r#"<a href="file:///etc/passwd">f</a>"#,
    r#"<a href="mailto:x@example.com?body=hi">mail</a>"#,
    // Dangerous elements.
    r#"<script>alert(1)</script>after"#,
    r#"<SCRIPT SRC=//evil.example/x.js></SCRIPT>"#,
    r#"<scr<script>ipt>alert(1)</script>"#,
    r#"<style>body{background:url(javascript:alert(1))}</style>"#,
    r#"<p style="background:url('javascript:alert(1)')">s</p>"#,
    r#"<div style="width: expression(alert(1))">e</div>"#,
    r#"<span style="behavior:url(x.htc)">b</span>"#,
    r#"<svg onload=alert(1)><circle r=5 /></svg>"#,
    r#"<svg><script>alert(1)</script></svg>"#,
    r#"<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>"#,
    r#"<svg><animate attributeName=href values=javascript:alert(1) /></svg>"#,
    r#"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>"#,
    r#"<math href="javascript:alert(1)">m</math>"#,
    r#"<base href="javascript:alert(1)//"><a href="x">rel</a>"#,
    r#"<base href="https://evil.example/"><img src="a.jpg">"#,
    r#"<meta http-equiv="refresh" content="0;url=javascript:alert(1)">"#,
    r#"<link rel=stylesheet href="https://evil.example/x.css">"#,
    r#"<form action="javascript:alert(1)"><input type=submit formaction="javascript:alert(2)"><button>go</button></form>"#,
    r#"<object data="javascript:alert(1)"></object>"#,
    r#"<embed src="javascript:alert(1)">"#,
    r#"<iframe srcdoc="<script>alert(1)</script>"></iframe>"#,
    r#"<iframe src="https://evil.example/"></iframe>text"#,
    r#"<video poster="javascript:alert(1)" src="x.mp4"><source src="javascript:alert(2)"></video>"#,
    r#"<audio src=x onerror=alert(1)>"#,
    r#"<template><img src=x onerror=alert(1)></template>"#,
    r#"<marquee onstart=alert(1)>m</marquee>"#,
    r#"<isindex action="javascript:alert(1)" type=image>"#,
    r#"<picture><source srcset="javascript:alert(1)"><img src="http://i.example/p.jpg"></picture>"#,
    r#"<img srcset="javascript:alert(1) 1x, http://i.example/a.jpg 2x">"#,
    r#"<img src="http://i.example/a.jpg" srcset="javascript:alert(1)">"#,
    r#"<textarea><img src=x onerror=alert(1)></textarea>"#,
    r#"<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>"#,
    r#"<noscript><style></noscript><img src=x onerror=alert(1)></style></noscript>"#,
    r#"<xmp><img src=x onerror=alert(1)></xmp>"#,
    r#"<plaintext><script>alert(1)</script>"#,
    r#"<title><img src=x onerror=alert(1)></title>"#,
    r#"<select><option><img src=x onerror=alert(1)></option></select>"#,
    // Comments, CDATA, broken markup.
    r#"<!--<img src=x onerror=alert(1)>-->"#,
    r#"<!-- --!><img src=x onerror=alert(1)> -->"#,
    r#"<![CDATA[<img src=x onerror=alert(1)>]]>"#,
    r#"<!--[if IE]><script>alert(1)</script><![endif]-->"#,
    r#"<p>unclosed <b>bold <i>italic <a href="javascript:x">link"#,
    r#"<div><div><div><span><img src=x onerror=alert(1)"#,
    r#"<a href="https://ok.example/"<img src=x onerror=alert(1)>"#,
    r#"<img """><script>alert(1)</script>">"#,
    r#"<img src=`x` onerror=alert(1)>"#,
    r#"<<script>alert(1);//<</script>"#,
    r#"<a href="https://ok.example/" id="location">clobber</a><form id=x name=y></form>"#,
    r#"<img id="cookie" name="cookie" src="http://i.example/a.jpg">"#,
    r#"<table background="javascript:alert(1)"><tr><td onclick=x>c</td></tr></table>"#,
    r#"<p><button><p>nested in button</p></button></p>"#,
    r#"<ul><li><nav><li>nested li</li></nav></li></ul>"#,
    r#"<h1><nav><h2>heads</h2></nav></h1>"#,
    r#"<a href="https://a.example/"><div><a href="https://b.example/">inner</a></div></a>"#,
    r#"<pre><div></div>
kept line</pre>"#,
    r#"<img width="100 onerror=alert(1)" height="50%" src="http://i.example/a.jpg">"#,
    // Shapes the tag-soup property found unstable under re-cleaning (kept as regressions).
    r#"<h1><foreignobject><h1>heading in heading</h1></foreignobject></h1>"#,
    r#"<dd><table><dd>fostered</dd></table></dd>"#,
    r#"<p><table><div>block fostered into a paragraph</div></table></p>"#,
    r#"<li><table><li>x</li></table></li>"#,
    r#"<image src="spacer.gif"><image src="http://i.example/i.jpg" onerror=x>"#,
    r#"<ruby>漢<rt>a<font><rp>(</rp></font></rt></ruby>"#,
    r#"<img data-src="spacer.gif"><img data-original="https://placeholder">"#,
];

#[test]
fn corpus_is_big_enough() {
    assert!(VECTORS.len() >= 60, "{}", VECTORS.len());
}

#[test]
fn every_vector_comes_out_safe_and_stable() {
    for base in [None, Some("https://news.example.com/a/page.html")] {
        for v in VECTORS {
            let out = clean(v, base);
            if let Some(why) = violation(&out.html, base) {
                panic!("vector {v:?} (base {base:?}) → {:?}: {why}", out.html);
            }
            for url in &out.images {
                assert!(
                    url.starts_with("http://") || url.starts_with("https://"),
                    "{v}: {url}"
                );
            }
            assert_eq!(out.images, listed_images(&out.html), "{v}");
        }
    }
}

#[test]
fn every_vector_takes_the_scans_with_the_lol_html_results() {
    for base in [None, Some("https://news.example.com/a/page.html")] {
        for v in VECTORS {
            if let Some(why) = scan_differs(v, base) {
                panic!("vector {v:?} (base {base:?}): {why}");
            }
            let clean = clean(v, base);
            if let Some(why) = route_differs(&clean.html, true) {
                panic!("vector {v:?} (base {base:?}) routed: {why}");
            }
            if let Some(why) = route_differs(v, false) {
                panic!("raw vector {v:?} routed: {why}");
            }
        }
    }
}

#[test]
fn script_text_is_removed_not_escaped() {
    for v in [
        r#"<script>alert(1)</script>after"#,
        r#"<style>p{}</style>after"#,
    ] {
        assert_eq!(clean(v, None).html, "after");
    }
}

#[test]
fn a_base_element_does_not_change_resolution() {
    let out = clean(
        r#"<base href="https://evil.example/"><img src="a.jpg">"#,
        Some("https://good.example/d/"),
    );
    assert_eq!(out.images, ["https://good.example/d/a.jpg"]);
}

#[test]
fn safe_content_around_attacks_survives() {
    let out = clean(
        r#"<p>前言<script>x()</script>正文<img src="http://i.example/a.jpg" onerror=x>结尾</p>"#,
        None,
    );
    assert_eq!(
        out.html,
        r#"<p>前言正文<img src="http://i.example/a.jpg" referrerpolicy="no-referrer" loading="lazy" decoding="async">结尾</p>"#
    );
}

#[test]
fn obfuscated_javascript_links_lose_their_href() {
    for v in VECTORS
        .iter()
        .filter(|v| v.starts_with("<a href=") && v.contains("script"))
    {
        let out = clean(v, None);
        assert!(
            elements(&out.html).iter().all(|e| e.attr("href").is_none()),
            "{v} → {}",
            out.html
        );
    }
}
