//! The bundled sample feeds. All prose is invented for Tidings.
//!
//! `{origin}` in a body is replaced by the fixture server's own `http://host:port` when served,
//! so image and article links point back at it.

/// One sample feed: where it is served, its media type, and its text (encoded on the way out).
pub struct SampleFeed {
    /// Path under the server, e.g. `/zaker/channel/13`.
    pub path: &'static str,
    /// Short name used in the demo config.
    pub name: &'static str,
    pub content_type: &'static str,
    /// Category path for the demo config.
    pub categories: &'static [&'static str],
    pub author: Option<&'static str>,
    /// Encoded as GBK when true (and the content type says so).
    pub gbk: bool,
    pub text: &'static str,
}

pub const FEEDS: &[SampleFeed] = &[
    SampleFeed {
        path: "/zaker/channel/13",
        name: "zaker-tech",
        content_type: "application/rss+xml; charset=utf-8",
        categories: &["新媒体", "ZAKER", "source"],
        author: Some("ZAKER"),
        gbk: false,
        text: ZAKER,
    },
    SampleFeed {
        path: "/atom/harbour.xml",
        name: "harbour-gazette",
        content_type: "application/atom+xml",
        categories: &["World", "Harbour Gazette"],
        author: None,
        gbk: false,
        text: ATOM,
    },
    SampleFeed {
        path: "/json/river.json",
        name: "river-notes",
        content_type: "application/feed+json",
        categories: &["Blogs", "River Notes"],
        author: Some("River Notes"),
        gbk: false,
        text: JSON_FEED,
    },
    SampleFeed {
        path: "/gbk/local.xml",
        name: "gbk-local",
        content_type: "text/xml; charset=gbk",
        categories: &["新媒体", "地方", "晚报"],
        author: Some("山城晚报"),
        gbk: true,
        text: GBK_FEED,
    },
    SampleFeed {
        path: "/lazy/photos.xml",
        name: "lazy-photos",
        content_type: "application/rss+xml",
        categories: &["新媒体", "图片"],
        author: None,
        gbk: false,
        text: LAZY,
    },
    SampleFeed {
        path: "/hostile/feed.xml",
        name: "hostile",
        content_type: "application/rss+xml",
        categories: &["Tests", "Hostile"],
        author: Some("Mallory"),
        gbk: false,
        text: HOSTILE,
    },
];

const ZAKER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>ZAKER 科技频道 - RSSHub</title>
<link>{origin}/zaker/channel/13</link>
<description>ZAKER 科技频道的最新文章</description>
<item>
<title><![CDATA[城市"夜经济"升温：老街区迎来新客流]]></title>
<description><![CDATA[<div>
<p>入冬以来，江畔老街的夜市每晚都排起长队。街道办负责人介绍，今年新增的四十个摊位里，一半由返乡青年经营。</p><p></p><div class="img_box" id="id_imagebox_0" onclick><div class="content_img_div perview_img_div"><img class="lazy opacity_0 " id="img_0" data-original="{origin}/img/night-market.png?w=780&amp;h=520" data-height="520" data-width="780" src="{origin}/static/placeholder.gif"></div></div>↑老街夜市的灯笼一直挂到巷口。<p></p><p>摊主小周说，热干面和烤红薯卖得最好，"晚上九点以后人最多"。</p><p><strong>交通与安全</strong></p><p>公交公司把两条线路的末班车延后到二十三点，并在路口增设了引导员。</p><div id="recommend_bottom"></div><div id="article_bottom"></div>
</div>]]></description>
<pubDate>Sun, 22 Nov 2026 12:30:00 GMT</pubDate>
<guid isPermaLink="false">zaker-6f1a2b3c4d5e</guid>
<link>{origin}/articles/night-market</link>
</item>
<item>
<title>国产开源数据库发布 3.0 版本，查询性能提升四成</title>
<description><![CDATA[<p>项目维护者在发布说明中写道，新版本重写了查询优化器，并默认开启了列式压缩。</p><div class="img_box" id="id_imagebox_1" onclick><div class="content_img_div perview_img_div"><img class="lazy opacity_0 " id="img_1" data-original="{origin}/img/database.png?w=680&amp;h=454" data-height="454" data-width="680" src="{origin}/static/placeholder.gif"></div></div>↑发布会现场。<p>社区贡献者数量在过去一年翻了一番。</p><div id="recommend_bottom"></div>]]></description>
<pubDate>Sat, 21 Nov 2026 02:05:00 GMT</pubDate>
<guid isPermaLink="false">zaker-7a8b9c0d1e2f</guid>
<link>{origin}/articles/database-3</link>
</item>
<item>
<title>气象台：本周末将迎来今冬首场寒潮</title>
<description><![CDATA[<p>市气象台预计，周六夜间起气温下降八到十度，部分山区可能出现降雪。</p><p>专家提醒市民提前做好防寒准备，出行注意路面结冰。</p>]]></description>
<pubDate>Fri, 20 Nov 2026 23:50:00 GMT</pubDate>
<guid isPermaLink="false">zaker-3c4d5e6f7a8b</guid>
<link>{origin}/articles/cold-wave</link>
</item>
</channel>
</rss>
"#;

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{origin}/atom/">
<title>The Harbour Gazette</title>
<link href="{origin}/atom/"/>
<id>urn:tidings:demo:harbour</id>
<updated>2026-11-24T09:00:00Z</updated>
<entry>
<title type="html">Ferry timetable &amp;amp; fares change on &lt;em&gt;Monday&lt;/em&gt;</title>
<id>urn:tidings:demo:harbour:ferry</id>
<link href="stories/ferry-timetable"/>
<published>2026-11-24T08:15:00+01:00</published>
<updated>2026-11-24T09:00:00+01:00</updated>
<author><name>Ines Moreau</name></author>
<content type="html">&lt;p&gt;The harbour authority will run the late ferry every forty minutes instead of every hour.&lt;/p&gt;&lt;p&gt;&lt;img src="../img/ferry.png?w=640&amp;amp;h=360" alt="The morning ferry"&gt;&lt;/p&gt;&lt;p&gt;Season tickets keep their price until spring.&lt;/p&gt;</content>
</entry>
<entry>
<title>Lighthouse keepers' cottage opens as a reading room</title>
<id>urn:tidings:demo:harbour:lighthouse</id>
<link href="stories/reading-room"/>
<published>2026-11-23T17:40:00Z</published>
<content type="html">&lt;p&gt;Volunteers spent two summers restoring the cottage. It now lends books on tides, knots and navigation.&lt;/p&gt;&lt;figure&gt;&lt;img src="/img/lighthouse.png?w=600&amp;amp;h=400"&gt;&lt;figcaption&gt;The reading room at dusk.&lt;/figcaption&gt;&lt;/figure&gt;</content>
</entry>
</feed>
"#;

const JSON_FEED: &str = r#"{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "River Notes",
  "home_page_url": "{origin}/json/",
  "feed_url": "{origin}/json/river.json",
  "items": [
    {
      "id": "river-2026-11-25",
      "url": "{origin}/json/posts/otters",
      "title": "Otters are back under the old stone bridge",
      "content_html": "<p>For the first time in a decade, a family of otters was seen fishing below the bridge at dawn.</p><p><img src=\"{origin}/img/otters.png?w=500&h=300\" alt=\"Ripples under the bridge\"></p>",
      "date_published": "2026-11-25T06:20:00Z",
      "authors": [{"name": "Tom Achterberg"}]
    },
    {
      "id": "river-2026-11-19",
      "url": "{origin}/json/posts/water-level",
      "title": "Water level: \"normal\" for the first time since June",
      "content_html": "<p>The gauge at the weir read 1.42 m this morning.</p>",
      "date_published": "2026-11-19T18:00:00+01:00"
    }
  ]
}
"#;

// Served as GBK: the Chinese text below is encoded on the way out. Dates are naive, as many
// Chinese CMSes write them, and must be read in the feed's zone (Asia/Shanghai).
const GBK_FEED: &str = r#"<?xml version="1.0" encoding="gbk"?>
<rss version="2.0">
<channel>
<title>山城晚报</title>
<link>{origin}/gbk/</link>
<item>
<title>缆车检修完毕，明日恢复运营</title>
<link>{origin}/gbk/cable-car</link>
<description><![CDATA[<p>经过为期三周的检修，跨江缆车将于明天早上七点恢复运营，票价不变。</p><p><img src="/img/cable-car.png?w=400&h=300"></p>]]></description>
<pubDate>2026-11-24 19:45:00</pubDate>
</item>
<item>
<title>社区图书角收到第一千本捐赠图书</title>
<link>{origin}/gbk/book-corner</link>
<description><![CDATA[<p>这本书来自一位退休教师，扉页上写着"愿每个孩子都有书读"。</p>]]></description>
<pubDate>2026年11月23日 08:10</pubDate>
</item>
</channel>
</rss>
"#;

const LAZY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
<title>光影周刊</title>
<link>{origin}/lazy/</link>
<item>
<title>一组照片：清晨的渔港</title>
<link>{origin}/lazy/fishing-port</link>
<guid>{origin}/lazy/fishing-port</guid>
<description><![CDATA[<p>摄影记者在凌晨四点登上渔船。</p><p><img data-src="{origin}/img/port-1.png?w=800&h=533" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="800" height="533"></p><p><img class="lazyload" data-lazy-src="/img/port-2.png?w=800&h=600" src="{origin}/static/blank.gif"></p><noscript><img src="{origin}/img/port-3.png?w=640&h=480"></noscript><p>返港的渔船在八点前卸完了货。</p>]]></description>
<pubDate>Tue, 24 Nov 2026 06:00:00 +0800</pubDate>
</item>
<item>
<title>秋天的最后一片银杏叶</title>
<link>{origin}/lazy/ginkgo</link>
<guid>{origin}/lazy/ginkgo</guid>
<description><![CDATA[<p><img data-original="{origin}/img/ginkgo.png?w=600&h=900" data-width="600" data-height="900"></p><p>校园里的银杏大道吸引了不少市民前来拍照。</p>]]></description>
<pubDate>Mon, 23 Nov 2026 10:00:00 CST</pubDate>
</item>
</channel>
</rss>
"#;

// Everything in here is an attack the pipeline must neutralise: script injection, hostile
// URLs, a title that tries path traversal, YAML-breaking punctuation.
const HOSTILE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
<title>Hostile Samples</title>
<link>{origin}/hostile/</link>
<item>
<title>../../etc/passwd: "quoted" 'single' #not-a-comment</title>
<link>{origin}/hostile/traversal</link>
<guid isPermaLink="false">hostile-1</guid>
<description><![CDATA[<p onclick="alert(1)">Harmless text.</p><script>alert("xss")</script><img src="/img/hostile.png?w=300&h=200" onerror="alert(2)"><a href="javascript:alert(3)">click</a><a href="jav&#x09;ascript:alert(4)">tab</a><iframe src="{origin}/evil"></iframe><svg onload="alert(5)"><circle r="1"/></svg><form action="{origin}/steal"><input name="pw"></form><p style="background:url(javascript:alert(6))">styled</p><img src="{origin}/img/safe.png?w=320&h=200" srcset="javascript:alert(7) 1x"><base href="http://attacker.invalid/"><meta http-equiv="refresh" content="0;url=http://attacker.invalid/"></p>]]></description>
<pubDate>Mon, 23 Nov 2026 12:00:00 GMT</pubDate>
</item>
<item>
<title>&lt;script&gt;alert('title')&lt;/script&gt;Plain title with &amp; ampersand</title>
<link>{origin}/hostile/title-markup</link>
<guid isPermaLink="false">hostile-2</guid>
<description><![CDATA[<p>Body of an entry whose title tried to carry markup.</p>]]></description>
<pubDate>Mon, 23 Nov 2026 11:00:00 GMT</pubDate>
</item>
</channel>
</rss>
"#;
