//! The commented starter config that `tidings init` writes.

/// A starter `tidings.toml`: valid as written, every key explained.
pub const STARTER: &str = r#"# tidings.toml — what to mirror and where to publish it.
# Paths are relative to this file. State (the SQLite store, the proxy key) lives in .tidings/.

[site]
title = "My News Mirror"
url = "https://news.example.com/"
# Naive feed dates ("2022-01-23 23:27:25") are read in this zone, and post dates are written in it.
timezone = "Asia/Shanghai"
# Where `tidings build` writes the built-in site.
out = "public"
# Articles per list page of the built-in site, and the language its pages declare.
# per_page = 20
# language = "zh-CN"

[output]
# html (the built-in site, `tidings build`) or hexo: posts written into `dir` for `hexo generate`.
format = "hexo"
dir = "source/_posts"
# "naive" writes 2022-01-23 23:27:25 in the site zone (always right in Hexo);
# "rfc2822" writes Sun, 23 Jan 2022 15:27:25 GMT.
date_format = "naive"
# Front-matter keys that receive the lead image: headimg/thumbnail (Volantis), cover (Icarus,
# Butterfly), top_img (Butterfly), index_img/banner_img (Fluid).
image_keys = ["headimg", "thumbnail"]

[images]
# proxy: every image goes through an image proxy (so hotlink-protected CDNs still load); direct: untouched.
mode = "proxy"
# "builtin" signs URLs for Tidings' own proxy (`tidings proxy`), or give a template:
# "https://proxy.example.com/?{url}" ({url} raw, {url_encoded} percent-encoded).
proxy = "builtin"

[proxy]
# Where browsers reach `tidings proxy`; builtin image URLs start with this.
public_url = "http://127.0.0.1:8081"
# HMAC key for signed URLs: a literal, or env:NAME. Leave it out and Tidings generates one
# into .tidings/proxy.key on first use and keeps it.
# key = "env:TIDINGS_PROXY_KEY"
# Rotating the key: move the old one here for a while so already published URLs keep working.
# old_keys = ["env:TIDINGS_OLD_PROXY_KEY"]
# Where `tidings proxy` listens (put a CDN or your web server in front of it).
addr = "127.0.0.1:8081"
# The unsigned form /?http://host/x.jpg (for posts written with the old Worker prefix) serves
# images Tidings published, plus any image on these hosts:
# allow_hosts = ["*.myzaker.com"]
# cache_dir = ".tidings/image-cache"   # default: image-cache in the state folder
cache_size = 536870912   # bytes of cached images (LRU beyond that)
max_bytes = 20971520     # largest image served
timeout = 10             # seconds per upstream fetch, body included
max_concurrent = 64      # upstream fetches at once
rate_limit = 1200        # requests per client per minute; 0 = off (behind a CDN)

# Some CDNs refuse an empty Referer: send them the one they expect (host globs).
# [proxy.referer]
# "*.sinaimg.cn" = "https://weibo.com/"

[fetch]
concurrency = 32      # feeds fetched at once
per_host = 8          # at once from one host (a self-hosted RSSHub is one host)
timeout = 30          # seconds, total per feed
max_bytes = 16777216  # decoded bytes per feed

# One [[feed]] per subscription. categories is the category path, outermost first.
[[feed]]
name = "zaker-military"
url = "http://localhost:1200/zaker/channel/3"
categories = ["新媒体", "ZAKER", "source"]
author = "ZAKER"            # default: the feed's own title
# timezone = "Asia/Shanghai"  # for this feed's naive dates; default: [site] timezone
"#;
