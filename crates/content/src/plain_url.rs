//! Recognising URLs that the URL parser would give back unchanged, without parsing them.
//!
//! Parsing every link and image URL was a quarter of the one-pass cleaner's time, and nearly
//! every one of them is a plain absolute `http(s)` URL already in the parser's own form. The
//! check is deliberately narrow: whatever it is unsure of (uppercase, ports, user info, IP
//! addresses, IDNA labels, dot segments, characters the parser escapes or drops) goes to the
//! parser. A property test holds it to the parser.

/// Whether `value` is an absolute `http`/`https` URL that `url::Url::parse` serializes back
/// to exactly `value`.
pub(crate) fn is_canonical_http(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
    else {
        return false;
    };
    // The parser adds the "/" of an empty path, so a canonical URL has one.
    let Some(slash) = rest.find('/') else {
        return false;
    };
    let (host, tail) = rest.split_at(slash);
    plain_host(host) && plain_tail(tail)
}

/// Lowercase DNS labels of letters, digits and '-': no port, user info, IDNA label, empty
/// label or trailing dot, and a last label that cannot be read as an IPv4 number.
fn plain_host(host: &str) -> bool {
    let labels_ok = host.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with("xn--")
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let last_ok = host
        .rsplit('.')
        .next()
        .and_then(|last| last.bytes().next())
        .is_some_and(|b| b.is_ascii_lowercase());
    labels_ok && last_ok
}

/// Path, query and fragment made only of characters that the parser copies as they are, with
/// no dot segment, no encoded dot, at most one '#', and no empty query or fragment at the end.
fn plain_tail(tail: &str) -> bool {
    let chars_ok = tail.bytes().all(|b| {
        b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
                    | b'%'
                    | b'#'
            )
    });
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    let no_dot_segments = path.split('/').all(|s| s != "." && s != "..");
    let encoded_dot = tail
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1] == b'2' && w[2].eq_ignore_ascii_case(&b'e'));
    chars_ok
        && no_dot_segments
        && !encoded_dot
        && tail.matches('#').count() <= 1
        && !tail.ends_with(['?', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use url::Url;

    #[test]
    fn plain_urls_pass() {
        for url in [
            "http://www.myzaker.example/tag/123",
            "https://img.example.cn/2024/a_b-c.jpg?w=780&h=520#top",
            "https://a.example/%E4%B8%AD%E6%96%87/x.html",
            "http://163.com/news/",
        ] {
            assert!(is_canonical_http(url), "{url}");
            assert_eq!(Url::parse(url).unwrap().as_str(), url);
        }
    }

    #[test]
    fn what_the_parser_rewrites_is_left_to_it() {
        for url in [
            "HTTP://a.example/",
            "http://A.example/",
            "http://a.example",
            "http://a.example:80/",
            "http://user@a.example/",
            "http://127.0.0.1/",
            "http://a.123/",
            "http://a.0x7f/",
            "http://xn--nxa.example/",
            "http://a..example/",
            "http://a.example./",
            "http://a.example/./b",
            "http://a.example/b/..",
            "http://a.example/%2e%2E/b",
            "http://a.example/a b",
            "http://a.example/a\tb",
            "http://a.example/a\\b",
            "http://a.example/中文",
            "http://a.example/a'b?c'd",
            "http://a.example/a?",
            "http://a.example/a#",
            "http://a.example/a#b#c",
            "http://a.example/{x}",
            "javascript://a.example/",
            "//a.example/",
        ] {
            assert!(!is_canonical_http(url), "{url}");
        }
    }

    /// Plain-looking URLs (mostly accepted) and junk around them (mostly not).
    fn urlish() -> impl Strategy<Value = String> {
        let scheme = prop::sample::select(vec!["http://", "https://", "HTTP://", "ftp://"]);
        let host = prop_oneof![
            "[a-z0-9-]{1,5}(\\.[a-z0-9-]{1,5}){0,2}\\.[a-z]{2,3}",
            "[a-zA-Z0-9.:@-]{0,6}(\\.[a-z0-9x-]{0,5}){0,3}",
        ];
        let tail = prop_oneof![
            "(/[a-zA-Z0-9._~%-]{0,8}){1,3}(\\?[a-z0-9=&%]{0,8})?(#[a-z0-9]{0,4})?",
            "/[/a-zA-Z0-9._~!$&()*+,;=:@?#%'\" \\\\{}<>\t中-]{0,24}",
        ];
        (scheme, host, tail).prop_map(|(scheme, host, tail)| format!("{scheme}{host}{tail}"))
    }

    /// The property below is not vacuous: about one generated URL in eight takes the shortcut.
    #[test]
    fn plain_urls_are_recognised_often_enough() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = urlish();
        let (mut accepted, total) = (0, 2000);
        for _ in 0..total {
            let url = strategy.new_tree(&mut runner).unwrap().current();
            accepted += usize::from(is_canonical_http(&url));
        }
        assert!(accepted > total / 20, "{accepted} of {total}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(crate::tests::cases(4000)))]

        /// Whatever the check accepts, the parser gives back byte for byte.
        #[test]
        fn accepted_urls_are_what_the_parser_writes(url in urlish()) {
            if is_canonical_http(&url) {
                let parsed = Url::parse(&url).map(String::from);
                prop_assert_eq!(parsed.as_deref(), Ok(url.as_str()));
            }
        }
    }
}
