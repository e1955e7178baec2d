use super::*;
use proptest::prelude::*;

const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/seeds/000_8a871a9ee358b0ad.txt"
);
const LEAD: &str =
    "https://cors.zfour.workers.dev/?http://zkres1.myzaker.com/202201/61ede00cb15ec054991d5ac2_1024.jpg";

fn ts(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn article(title: &str, author: &str, categories: &[&str]) -> Article {
    Article {
        id: "3f2a9c0d1e4b5a6978c0".into(),
        feed_url: "https://rsshub.example/zaker/source/1".into(),
        guid: None,
        link: Some("https://news.example/a/1".into()),
        title: title.into(),
        author: author.into(),
        categories: categories.iter().map(|c| c.to_string()).collect(),
        published: ts("2022-01-23T15:27:25Z"),
        updated: ts("2022-01-24T01:02:03Z"),
        html: "<p>原文</p>".into(),
        lead_image: None,
        images: vec![],
    }
}

fn rfc2822() -> HexoOptions {
    HexoOptions {
        date_format: DateFormat::Rfc2822,
        ..HexoOptions::default()
    }
}

/// The lines between the first two `---` lines.
fn front_matter_lines(text: &str) -> Vec<&str> {
    text.lines()
        .skip_while(|l| *l != "---")
        .skip(1)
        .take_while(|l| *l != "---")
        .collect()
}

fn front_matter_text(post: &str) -> String {
    let mut s = front_matter_lines(post).join("\n");
    s.push('\n');
    s
}

fn parse(post: &str) -> serde_yaml::Mapping {
    let text = front_matter_text(post);
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("YAML error {e} in:\n{text}"))
}

fn get_str<'a>(map: &'a serde_yaml::Mapping, key: &str) -> &'a str {
    map.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_else(|| panic!("{key} is not a string: {:?}", map.get(key)))
}

fn get_list(map: &serde_yaml::Mapping, key: &str) -> Vec<String> {
    let seq = map
        .get(key)
        .and_then(|v| v.as_sequence())
        .unwrap_or_else(|| panic!("{key} is not a list: {:?}", map.get(key)));
    seq.iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("item is not a string: {v:?}"))
                .to_string()
        })
        .collect()
}

#[test]
fn matches_seed_front_matter() {
    let seed = std::fs::read_to_string(SEED).expect("seed file readable");
    let title = "美\"致命武器\"运抵乌克兰，美德已准备撤离在乌人员";
    let a = article(title, "ZAKER", &["新媒体", "ZAKER", "source"]);
    let post = hexo_post(&a, "<div>正文</div>", Some(LEAD), &rfc2822());

    let ours = front_matter_lines(&post);
    let theirs = front_matter_lines(&seed);
    assert!(
        theirs[0].starts_with("title: '美_致命武器_"),
        "{}",
        theirs[0]
    );
    assert_eq!(theirs.len(), 10, "seed layout changed?");
    assert_eq!(ours.len(), theirs.len() + 1);
    assert_eq!(ours[0], format!("title: '{title}'"));
    assert_eq!(&ours[1..theirs.len()], &theirs[1..]);
    assert_eq!(ours[theirs.len()], "updated: Mon, 24 Jan 2022 01:02:03 GMT");
}

#[test]
fn post_layout() {
    let a = article("t", "me", &["c"]);
    let post = hexo_post(&a, "<p>body</p>", None, &rfc2822());
    let expected = "---\n\
        title: 't'\n\
        categories: \n - c\n\
        author: me\n\
        comments: false\n\
        date: Sun, 23 Jan 2022 15:27:25 GMT\n\
        updated: Mon, 24 Jan 2022 01:02:03 GMT\n\
        ---\n\n<div>\n<p>body</p>\n</div>\n";
    assert_eq!(post, expected);
}

#[test]
fn naive_dates_in_site_zone() {
    let a = article("t", "me", &["c"]);
    let opts = HexoOptions {
        timezone: TimeZone::get("Asia/Shanghai").unwrap(),
        ..HexoOptions::default()
    };
    let post = hexo_post(&a, "", None, &opts);
    assert!(post.contains("\ndate: 2022-01-23 23:27:25\n"), "{post}");
    assert!(post.contains("\nupdated: 2022-01-24 09:02:03\n"), "{post}");
    assert_eq!(HexoOptions::default().date_format, DateFormat::Naive);
}

#[test]
fn custom_image_keys_first_after_categories_rest_after_date() {
    let a = article("t", "me", &["c"]);
    let opts = HexoOptions {
        image_keys: vec!["cover".into(), "top_img".into(), "banner_img".into()],
        ..rfc2822()
    };
    let post = hexo_post(&a, "", Some("https://img.example/x.jpg"), &opts);
    let keys: Vec<&str> = front_matter_lines(&post)
        .iter()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(
        keys,
        [
            "title",
            "categories",
            "cover",
            "author",
            "comments",
            "date",
            "top_img",
            "banner_img",
            "updated"
        ]
    );
    let map = parse(&post);
    for k in ["cover", "top_img", "banner_img"] {
        assert_eq!(get_str(&map, k), "https://img.example/x.jpg");
    }
}

#[test]
fn no_lead_image_omits_image_keys() {
    let a = article("t", "me", &["c"]);
    let post = hexo_post(&a, "", None, &rfc2822());
    assert!(!post.contains("headimg") && !post.contains("thumbnail"));
    let opts = HexoOptions {
        image_keys: vec![],
        ..rfc2822()
    };
    let post = hexo_post(&a, "", Some("https://x/y.jpg"), &opts);
    assert!(!post.contains("https://x/y.jpg"));
}

#[test]
fn empty_categories_is_an_empty_list() {
    let a = article("t", "me", &[]);
    let map = parse(&hexo_post(&a, "", None, &rfc2822()));
    assert_eq!(get_list(&map, "categories"), Vec::<String>::new());
}

const NASTY: &[&str] = &[
    "'",
    "''",
    "\"",
    "it's \"quoted\"",
    ": ",
    "a: b",
    "key:",
    "#",
    "a #b",
    "- x",
    "? x",
    "-",
    "yes",
    "No",
    "ON",
    "off",
    "y",
    "null",
    "~",
    "",
    "123",
    "-1",
    "0x1F",
    "0o17",
    "1e3",
    ".5",
    ".inf",
    "-.inf",
    ".nan",
    "1_000",
    "12:30:00",
    "2022-01-01",
    "2022-01-01 10:00:00",
    "a\tb",
    "\t",
    "a\u{85}b",
    "a\u{2028}b",
    "a\u{2029}b",
    "\0",
    "\u{1}\u{7}\u{8}\u{1b}\u{7f}",
    "\u{80}\u{9f}",
    "\u{feff}bom",
    "bom\u{feff}",
    "\u{a0}",
    "\u{fffe}\u{ffff}",
    "😀 emoji 🇨🇳",
    "\\",
    "\\n",
    " lead",
    "trail ",
    "  ",
    "|",
    ">",
    "%",
    "@",
    "`",
    "&a",
    "*a",
    "!tag",
    "[a, b]",
    "{a: b}",
    "line1\nline2",
    "line1\r\nline2\n",
    "\n",
    "---",
    "...",
    "<<",
    "=",
    "中文：标题",
    "标题 # 不是注释",
    "\u{3000}全角空格\u{3000}",
];

#[test]
fn nasty_values_round_trip_through_yaml() {
    for s in NASTY {
        let a = article(s, s, &[s, "ok", s]);
        let post = hexo_post(&a, "", Some(s), &rfc2822());
        let map = parse(&post);
        assert_eq!(get_str(&map, "title"), *s, "title {s:?}");
        assert_eq!(get_str(&map, "author"), *s, "author {s:?}");
        assert_eq!(
            get_list(&map, "categories"),
            [*s, "ok", *s],
            "category {s:?}"
        );
        assert_eq!(get_str(&map, "headimg"), *s, "headimg {s:?}");
        assert_eq!(get_str(&map, "thumbnail"), *s, "thumbnail {s:?}");
        assert_eq!(map.get("comments"), Some(&serde_yaml::Value::Bool(false)));
    }
}

#[test]
fn front_matter_never_leaks_lines() {
    // Whatever the values, the front matter has exactly one line per key and list item.
    let a = article("a\nb\r\u{2028}", "x\ny", &["p\nq"]);
    let post = hexo_post(&a, "", Some("u\nv"), &rfc2822());
    assert_eq!(front_matter_lines(&post).len(), 9);
}

fn nasty_char() -> impl Strategy<Value = char> {
    prop_oneof![
        any::<char>(),
        prop::sample::select(vec![
            '\'', '"', ':', '#', '-', '?', ' ', '\t', '\n', '\r', '\\', '|', '>', '%', '@', '`',
            '&', '*', '!', '[', ']', '{', '}', ',', '.', '~', '0', '1', '\u{85}', '\u{2028}',
            '\u{2029}', '\u{feff}', '\u{0}', '\u{a0}', '新', 'y', 'n',
        ]),
    ]
}

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(nasty_char(), 0..24).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_round_trip(
        title in nasty_string(),
        author in nasty_string(),
        category in nasty_string(),
    ) {
        let a = article(&title, &author, &[&category]);
        let post = hexo_post(&a, "", None, &rfc2822());
        let map = parse(&post);
        prop_assert_eq!(get_str(&map, "title"), title.as_str());
        prop_assert_eq!(get_str(&map, "author"), author.as_str());
        prop_assert_eq!(get_list(&map, "categories"), vec![category]);
    }

    #[test]
    fn slug_is_always_a_safe_file_name(title in nasty_string(), id in "[0-9a-f]{20}") {
        let s = slug_base(&title, &id);
        prop_assert!(!s.is_empty() && s.len() <= 125);
        prop_assert!(!s.contains('/') && !s.contains('\\') && !s.contains('?'));
        prop_assert!(!s.starts_with(['_', '.', '-']) && !s.ends_with(['.', '-']));
        prop_assert!(!s.chars().any(char::is_control));
    }
}

/// Cross-check against js-yaml (what Hexo uses), run by hand:
/// `TIDINGS_YAML_DUMP=/tmp/dump cargo test -p tidings-publish -- --ignored dump`, then read each
/// `N.md` front matter with js-yaml and compare `title` to the UTF-8 hex in `N.hex`.
#[test]
#[ignore]
fn dump_for_js_yaml() {
    let Ok(dir) = std::env::var("TIDINGS_YAML_DUMP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cases: Vec<String> = NASTY.iter().map(|s| s.to_string()).collect();
    let specials: Vec<char> =
        "'\":#-? \t\n\r\\|>%@`&*![]{},.~01yn\u{85}\u{2028}\u{2029}\u{feff}\0\u{a0}新"
            .chars()
            .collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3000 {
        let len = (next() % 12) as usize;
        let s: String = (0..len)
            .map(|_| {
                let r = next();
                if r % 3 == 0 {
                    char::from_u32((r >> 8) as u32 % 0x11_0000).unwrap_or('x')
                } else {
                    specials[(r >> 8) as usize % specials.len()]
                }
            })
            .collect();
        cases.push(s);
    }
    for (i, s) in cases.iter().enumerate() {
        let a = article(s, s, &[s]);
        std::fs::write(
            dir.join(format!("{i}.md")),
            hexo_post(&a, "", Some(s), &rfc2822()),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{i}.hex")),
            tidings_model::hex(s.as_bytes()),
        )
        .unwrap();
    }
}
