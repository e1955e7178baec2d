use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("/blog/tidings.toml"))
}

fn error(text: &str) -> String {
    parse(text)
        .expect_err("config should be rejected")
        .to_string()
}

#[test]
fn starter_config_is_valid_and_means_what_it_says() {
    let c = parse(STARTER).unwrap();
    assert_eq!(c.output.format, Format::Hexo);
    assert_eq!(c.output.dir, Path::new("/blog/source/_posts"));
    assert_eq!(c.state_dir, Path::new("/blog/.tidings"));
    assert_eq!(c.site.timezone_name, "Asia/Shanghai");
    assert_eq!(c.images, ImageRoute::Builtin);
    assert_eq!(c.proxy.key, KeySource::Generated);
    assert_eq!(c.feeds.len(), 1);
    assert_eq!(c.feeds[0].categories, ["新媒体", "ZAKER", "source"]);
    assert_eq!(c.feeds[0].author.as_deref(), Some("ZAKER"));
}

#[test]
fn defaults_when_keys_are_missing() {
    let c = parse("[[feed]]\nurl = \"http://localhost:1200/a\"\n").unwrap();
    assert_eq!(c.output.format, Format::Html);
    assert_eq!(c.output.date_format, DateFormat::Naive);
    assert_eq!(c.output.image_keys, ["headimg", "thumbnail"]);
    assert_eq!(c.fetch.timeout, Duration::from_secs(30));
    assert_eq!(c.fetch.max_bytes, 16 << 20);
    assert_eq!(c.feeds[0].name, "http://localhost:1200/a");
    assert_eq!(c.site.timezone, TimeZone::UTC);
}

#[test]
fn unknown_key_names_file_line_and_suggests() {
    let e = error(
        "[site]\ntitle = \"x\"\n\n[[feed]]\nurl = \"http://a.example/\"\ncategoris = [\"a\"]\n",
    );
    assert_eq!(
        e,
        "/blog/tidings.toml:6: feed.categoris: unknown key (did you mean `categories`?)"
    );
    let e = error("[sit]\ntitle = \"x\"\n");
    assert!(
        e.starts_with("/blog/tidings.toml:1: sit: unknown key (did you mean `site`?)"),
        "{e}"
    );
    let e = error("[output]\nzzz = 1\n");
    assert!(
        e.contains(":2: output.zzz: unknown key (known keys: format,"),
        "{e}"
    );
}

#[test]
fn type_errors_carry_a_line() {
    let e = error("[fetch]\nconcurrency = \"many\"\n");
    assert!(e.starts_with("/blog/tidings.toml:2:"), "{e}");
    let e = error("[site]\ntitle = \n");
    assert!(e.starts_with("/blog/tidings.toml:2:"), "{e}");
}

#[test]
fn bad_values_are_named() {
    let e = error("[site]\ntimezone = \"Mars/Olympus\"\n");
    assert!(
        e.contains(":2: site.timezone: unknown time zone \"Mars/Olympus\""),
        "{e}"
    );
    let e = error("[output]\nformat = \"wordpress\"\n");
    assert!(
        e.contains(":2: output.format: unknown format \"wordpress\""),
        "{e}"
    );
    let e = error("[[feed]]\nurl = \"ftp://x.example/feed\"\n");
    assert!(
        e.contains(":2: feed.url: \"ftp://x.example/feed\" is not an http(s) URL"),
        "{e}"
    );
    let e = error("[images]\nproxy = \"https://p.example/\"\n");
    assert!(
        e.contains("images.proxy: a proxy template needs {url}"),
        "{e}"
    );
    let e = error("[proxy]\nallow_private = [\"localhost\"]\n");
    assert!(
        e.contains(":2: proxy.allow_private: \"localhost\" is not \"host:port\""),
        "{e}"
    );
    let e = error("[fetch]\ntimeout = 0\n");
    assert!(e.contains(":2: fetch.timeout: must be at least 1"), "{e}");
}

#[test]
fn duplicate_feeds_are_refused_with_both_lines() {
    let e = error("[[feed]]\nurl = \"http://a.example/\"\n[[feed]]\nurl = \"http://a.example/\"\n");
    assert!(
        e.contains(":4: feed.url: the same URL is already configured on line 2"),
        "{e}"
    );
    let e = error(
        "[[feed]]\nurl = \"http://a.example/1\"\nname = \"x\"\n[[feed]]\nurl = \"http://a.example/2\"\nname = \"x\"\n",
    );
    assert!(
        e.contains("the name \"x\" is already used on line 2"),
        "{e}"
    );
}

#[test]
fn feed_timezone_overrides_site_zone() {
    let c = parse(
        "[site]\ntimezone = \"Asia/Shanghai\"\n[[feed]]\nurl = \"http://a.example/\"\ntimezone = \"Europe/Berlin\"\n[[feed]]\nurl = \"http://b.example/\"\n",
    )
    .unwrap();
    assert_eq!(c.feeds[0].timezone, TimeZone::get("Europe/Berlin").unwrap());
    assert_eq!(c.feeds[1].timezone, TimeZone::get("Asia/Shanghai").unwrap());
}

#[test]
fn key_sources_and_image_routes() {
    let c = parse("[proxy]\nkey = \"env:MY_KEY\"\n[images]\nproxy = \"https://cors.zfour.workers.dev/?{url}\"\n").unwrap();
    assert_eq!(c.proxy.key, KeySource::Env("MY_KEY".into()));
    assert_eq!(
        c.images,
        ImageRoute::Template("https://cors.zfour.workers.dev/?{url}".into())
    );
    let c = parse("[proxy]\nkey = \"s3cret\"\n[images]\nmode = \"direct\"\n").unwrap();
    assert_eq!(c.proxy.key, KeySource::Literal("s3cret".into()));
    assert_eq!(c.images, ImageRoute::Direct);
}

#[test]
fn state_path_and_relative_config_file() {
    let c = Config::parse("[state]\npath = \"var/state\"\n", Path::new("tidings.toml")).unwrap();
    assert_eq!(c.state_dir, Path::new("./var/state"));
}

#[test]
fn missing_file_is_named() {
    let e = Config::load(Path::new("/nonexistent/tidings.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("/nonexistent/tidings.toml: "), "{e}");
}

#[test]
fn proxy_defaults() {
    let c = parse("[[feed]]\nurl = \"http://localhost:1200/a\"\n").unwrap();
    assert_eq!(c.proxy.addr.to_string(), "127.0.0.1:8081");
    assert_eq!(c.proxy.cache_dir, None);
    assert_eq!(c.proxy.cache_size, 512 << 20);
    assert_eq!(c.proxy.max_bytes, 20 << 20);
    assert_eq!(c.proxy.timeout, Duration::from_secs(10));
    assert_eq!(c.proxy.max_concurrent, 64);
    assert_eq!(c.proxy.rate_limit, 1200);
    assert!(c.proxy.referer.is_empty() && c.proxy.old_keys.is_empty());
}

#[test]
fn proxy_keys_are_read() {
    let c = parse(
        "[proxy]\nkey = \"new\"\nold_keys = [\"old\", \"env:OLD_KEY\"]\naddr = \"0.0.0.0:9000\"\n\
         allow_hosts = [\"*.myzaker.com\"]\ncache_dir = \"cache\"\ncache_size = 1000\n\
         max_bytes = 10\ntimeout = 3\nmax_concurrent = 2\nrate_limit = 0\n\n\
         [proxy.referer]\n\"*.sinaimg.cn\" = \"https://weibo.com/\"\n",
    )
    .unwrap();
    let p = &c.proxy;
    assert_eq!(
        p.old_keys,
        [
            KeySource::Literal("old".into()),
            KeySource::Env("OLD_KEY".into())
        ]
    );
    assert_eq!(p.addr.to_string(), "0.0.0.0:9000");
    assert_eq!(p.allow_hosts, ["*.myzaker.com"]);
    assert_eq!(p.cache_dir.as_deref(), Some(Path::new("/blog/cache")));
    assert_eq!((p.cache_size, p.max_bytes, p.max_concurrent), (1000, 10, 2));
    assert_eq!(p.timeout, Duration::from_secs(3));
    assert_eq!(p.rate_limit, 0);
    assert_eq!(
        p.referer,
        [("*.sinaimg.cn".to_string(), "https://weibo.com/".to_string())]
    );
}

#[test]
fn proxy_bad_values_name_their_line() {
    let e = error("[proxy]\naddr = \"localhost\"\n");
    assert!(e.contains(":2: proxy.addr:"), "{e}");
    let e = error("[proxy]\nallow_hosts = [\"a.com/x\"]\n");
    assert!(e.contains(":2: proxy.allow_hosts:"), "{e}");
    let e = error("[proxy]\ntimeout = 0\n");
    assert!(e.contains(":2: proxy.timeout: must be at least 1"), "{e}");
    let e = error("[proxy.referer]\n\"*.a.com\" = \"weibo.com\"\n");
    assert!(e.contains(":2: proxy.referer:"), "{e}");
    let e = error("[proxy.referer]\n\"a*b.com\" = \"https://a/\"\n");
    assert!(e.contains(":2: proxy.referer:"), "{e}");
    let e = error("[proxy]\nrate_limt = 5\n");
    assert!(e.contains("did you mean `rate_limit`"), "{e}");
}
