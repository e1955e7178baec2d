//! Host globs for `allow_hosts` and `[proxy.referer]`: `example.com` (exactly that host) or
//! `*.example.com` (any subdomain, not the bare name).
//!
//! Matching is done on normalised host names only — never on URL text — so `allowed.com.evil.com`
//! and `evil.com/.allowed.com/x` cannot match `allowed.com` or `*.allowed.com`.

use url::Host;

/// One parsed host glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostGlob {
    /// The normalised name (lower-case, ASCII/punycode, no trailing dot).
    name: String,
    /// `*.name`: subdomains of `name`.
    wildcard: bool,
}

impl HostGlob {
    /// Parse `pattern`; `None` when it is not a host name or `*.` followed by one.
    pub fn parse(pattern: &str) -> Option<HostGlob> {
        let (wildcard, rest) = match pattern.trim().strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, pattern.trim()),
        };
        let name = normalise_host(rest)?;
        if name.contains('*') {
            return None;
        }
        Some(HostGlob { name, wildcard })
    }

    /// True when the (already normalised or raw) host `host` matches.
    pub fn matches(&self, host: &str) -> bool {
        let Some(host) = normalise_host(host) else {
            return false;
        };
        if self.wildcard {
            host.len() > self.name.len()
                && host.ends_with(&self.name)
                && host.as_bytes()[host.len() - self.name.len() - 1] == b'.'
        } else {
            host == self.name
        }
    }

    /// How specific the glob is: longer names win, exact names beat wildcards of equal length.
    pub fn specificity(&self) -> (usize, bool) {
        (self.name.len(), !self.wildcard)
    }
}

/// Lower-case, IDN to punycode, trailing dot removed; `None` for anything that is not a host
/// (slashes, spaces, `@`, ports, empty).
pub fn normalise_host(raw: &str) -> Option<String> {
    let trimmed = raw.strip_suffix('.').unwrap_or(raw);
    if trimmed.is_empty()
        || trimmed
            .chars()
            .any(|c| matches!(c, '/' | '\\' | '@' | ':' | '?' | '#' | ' ' | '%'))
    {
        return None;
    }
    // Wildcards are not valid host characters; keep them out of the IDN parser.
    if trimmed.contains('*') {
        return Some(trimmed.to_ascii_lowercase());
    }
    match Host::parse(trimmed).ok()? {
        Host::Domain(d) => Some(d.trim_end_matches('.').to_owned()),
        Host::Ipv4(ip) => Some(ip.to_string()),
        Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

/// A list of globs; the most specific match wins.
#[derive(Clone, Debug, Default)]
pub struct HostGlobs<T> {
    entries: Vec<(HostGlob, T)>,
}

impl<T> HostGlobs<T> {
    /// Build from (pattern, value) pairs; the first unparsable pattern is returned as the error.
    pub fn new(pairs: impl IntoIterator<Item = (String, T)>) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (pattern, value) in pairs {
            let glob = HostGlob::parse(&pattern).ok_or(pattern)?;
            entries.push((glob, value));
        }
        Ok(HostGlobs { entries })
    }

    /// The value of the most specific glob matching `host`.
    pub fn find(&self, host: &str) -> Option<&T> {
        self.entries
            .iter()
            .filter(|(g, _)| g.matches(host))
            .max_by_key(|(g, _)| g.specificity())
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, host: &str) -> bool {
        HostGlob::parse(pattern).unwrap().matches(host)
    }

    #[test]
    fn exact_and_wildcard() {
        assert!(m("allowed.com", "allowed.com"));
        assert!(m("allowed.com", "ALLOWED.com."));
        assert!(m("allowed.com.", "allowed.com"));
        assert!(!m("allowed.com", "allowed.com.evil.com"));
        assert!(!m("allowed.com", "evilallowed.com"));
        assert!(!m("allowed.com", "www.allowed.com"));
        assert!(m("*.myzaker.com", "zkres1.myzaker.com"));
        assert!(m("*.myzaker.com", "a.b.myzaker.com"));
        assert!(!m("*.myzaker.com", "myzaker.com"));
        assert!(!m("*.myzaker.com", "evilmyzaker.com"));
        assert!(!m("*.allowed.com", "allowed.com.evil.com"));
        assert!(!m("*.allowed.com", "evil.com/.allowed.com"));
    }

    #[test]
    fn idn_normalises_both_ways() {
        assert!(m("bücher.example", "xn--bcher-kva.example"));
        assert!(m("xn--bcher-kva.example", "BÜCHER.example"));
        let puny = normalise_host("img.图片.cn").unwrap();
        assert!(puny.starts_with("img.xn--"), "{puny}");
        assert!(m("*.图片.cn", &puny));
    }

    #[test]
    fn bad_patterns() {
        for p in [
            "",
            "*",
            "*.",
            "a*.com",
            "a.com/x",
            "user@a.com",
            "a.com:80",
            "*.*.a.com",
        ] {
            assert!(HostGlob::parse(p).is_none(), "{p}");
        }
    }

    #[test]
    fn most_specific_wins() {
        let g = HostGlobs::new([
            ("*.sinaimg.cn".to_string(), 1),
            ("wx1.sinaimg.cn".to_string(), 2),
        ])
        .unwrap();
        assert_eq!(g.find("wx1.sinaimg.cn"), Some(&2));
        assert_eq!(g.find("wx2.sinaimg.cn"), Some(&1));
        assert_eq!(g.find("sinaimg.cn"), None);
    }
}
