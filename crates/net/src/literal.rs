//! Lenient reading of IP-literal host names, the way browsers and `inet_aton` read them.
//!
//! An attacker spells `127.0.0.1` as `2130706433`, `0x7f.1`, `0177.0.0.01`, `127。0。0。1` or with
//! circled digits; every one of them reaches loopback through some client, so every one must be
//! recognised as an address before a policy decides on it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The IP address a host name spells, or `None` when it is a name (or not a valid host at all).
///
/// Accepts bracketed and bare IPv6 (zone ids are refused), and IPv4 in any `inet_aton` form:
/// 1 to 4 parts, each decimal, `0x` hex or `0`-prefixed octal, with one trailing dot allowed.
/// Full-width and circled digits and the ideographic/full-width dots are normalised first, and
/// `%xx` escapes are decoded once.
pub fn parse_ip_literal(host: &str) -> Option<IpAddr> {
    let decoded = percent_decode(host)?;
    let host = normalise(&decoded);
    if let Some(inner) = host.strip_prefix('[') {
        let inner = inner.strip_suffix(']')?;
        return parse_v6(inner).map(IpAddr::V6);
    }
    if host.contains(':') {
        return parse_v6(&host).map(IpAddr::V6);
    }
    parse_v4(&host).map(IpAddr::V4)
}

fn parse_v6(text: &str) -> Option<Ipv6Addr> {
    // A zone id (`fe80::1%eth0`) names a local interface: never a valid remote host.
    if text.contains('%') {
        return None;
    }
    text.parse().ok()
}

/// The WHATWG / inet_aton IPv4 reading.
fn parse_v4(host: &str) -> Option<Ipv4Addr> {
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return None;
    }
    let parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let numbers: Vec<u64> = parts.iter().map(|p| parse_part(p)).collect::<Option<_>>()?;
    let (last, leading) = numbers.split_last()?;
    if leading.iter().any(|&n| n > 255) {
        return None;
    }
    // The last part fills all the bytes the leading parts left over.
    let free_bits = 8 * (4 - leading.len() as u32);
    if *last >= 1u64 << free_bits {
        return None;
    }
    let mut value = *last;
    for (i, n) in leading.iter().enumerate() {
        value |= n << (24 - 8 * i as u32);
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// One dotted part: `0x1f` hex (bare `0x` is 0), `017` octal, else decimal.
fn parse_part(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            if hex.is_empty() {
                return Some(0);
            }
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // Leading zeros cannot overflow anything; strip them so long zero runs still parse.
    let significant = digits.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(significant, radix)
        .ok()
        .filter(|&n| n <= u64::from(u32::MAX))
}

/// Decode `%xx` escapes once (a URL host is percent-decoded before it is read as an address).
fn percent_decode(text: &str) -> Option<String> {
    if !text.contains('%') {
        return Some(text.to_owned());
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The NFKC-style mapping for the characters that can spell an address: full-width ASCII,
/// ideographic and half-width dots, circled / super- / subscript / mathematical digits.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match map_char(c) {
            Mapped::Char(m) => out.push(m.to_ascii_lowercase()),
            Mapped::Number(n) => out.push_str(&n.to_string()),
        }
    }
    out
}

enum Mapped {
    Char(char),
    Number(u32),
}

fn map_char(c: char) -> Mapped {
    let code = c as u32;
    let digit = |base: u32| Mapped::Number(code - base);
    match code {
        // Full-width ASCII block: ！ .. ～ map to ! .. ~ (digits, letters for hex, ':', '[', ']').
        0xFF01..=0xFF5E => Mapped::Char(char::from_u32(code - 0xFF01 + 0x21).unwrap_or(c)),
        0x3002 | 0xFF61 => Mapped::Char('.'),
        0x24EA => Mapped::Number(0),          // ⓪
        0x2460..=0x2473 => digit(0x2460 - 1), // ① .. ⑳
        0x2070 => Mapped::Number(0),          // ⁰
        0x00B9 => Mapped::Number(1),          // ¹
        0x00B2 => Mapped::Number(2),          // ²
        0x00B3 => Mapped::Number(3),          // ³
        0x2074..=0x2079 => digit(0x2070),     // ⁴ .. ⁹
        0x2080..=0x2089 => digit(0x2080),     // ₀ .. ₉
        // Mathematical bold / double-struck / sans-serif / sans-serif bold / monospace digits.
        0x1D7CE..=0x1D7FF => Mapped::Number((code - 0x1D7CE) % 10),
        _ => Mapped::Char(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Option<IpAddr> {
        parse_ip_literal(s)
    }

    const LOOPBACK: Option<IpAddr> = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));

    #[test]
    fn loopback_spellings() {
        for s in [
            "127.0.0.1",
            "2130706433",
            "0x7f000001",
            "0X7F000001",
            "0x7f.1",
            "0x7f.0.0.1",
            "127.1",
            "127.0.1",
            "0177.0.0.01",
            "0177.0.0.1",
            "017700000001",
            "00000000000000177.0.0.1",
            "127.0.0.1.",
            "127.0.0.1%2e",
            "127%2e0%2e0%2e1",
            "127。0。0。1",
            "127．0．0．1",
            "127｡0｡0｡1",
            "１２７.０.０.１",
            "①②⑦.⓪.⓪.①",
            "⑫7.0.0.1",
            "𝟏𝟐𝟕.𝟎.𝟎.𝟏",
            "０ｘ７ｆ.１",
        ] {
            assert_eq!(v4(s), LOOPBACK, "{s}");
        }
    }

    #[test]
    fn other_ipv4_forms() {
        assert_eq!(v4("0"), Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        assert_eq!(v4("0x"), Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
        assert_eq!(
            v4("169.254.43518"),
            Some(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
        );
        assert_eq!(
            v4("0xa9fea9fe"),
            Some(IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))
        );
        assert_eq!(v4("4294967295"), Some(IpAddr::V4(Ipv4Addr::BROADCAST)));
        assert_eq!(
            v4("10.0xff.0377.1"),
            Some(IpAddr::V4(Ipv4Addr::new(10, 255, 255, 1)))
        );
    }

    #[test]
    fn names_and_invalid_numbers_are_not_addresses() {
        for s in [
            "",
            ".",
            "example.com",
            "127.0.0.1.example.com",
            "1.2.3.4.5",
            "256.0.0.1",
            "1.2.3.256",
            "4294967296",
            "08.0.0.1", // 8 is not an octal digit
            "0x7g.0.0.1",
            "127..0.1",
            "127.0.0.1..",
            "1.2.65536",
            "99999999999999999999999",
            "-1",
            "+1",
            "[::1",
            "[fe80::1%25eth0]",
            "fe80::1%eth0",
        ] {
            assert_eq!(v4(s), None, "{s:?}");
        }
    }

    #[test]
    fn ipv6_literals() {
        let one: IpAddr = "::1".parse().unwrap();
        assert_eq!(parse_ip_literal("[::1]"), Some(one));
        assert_eq!(parse_ip_literal("::1"), Some(one));
        assert_eq!(parse_ip_literal("［：：１］"), Some(one));
        assert_eq!(
            parse_ip_literal("[::FFFF:127.0.0.1]"),
            Some("::ffff:7f00:1".parse().unwrap())
        );
    }

    /// Our reading must agree with the URL parser reqwest uses, so a URL host the parser turns into
    /// an address is never one we took for a name.
    #[test]
    fn agrees_with_the_url_crate() {
        for s in [
            "2130706433",
            "0x7f.1",
            "0177.0.0.01",
            "017700000001",
            "127.0.0.1.",
            "127。0。0。1",
            "１２７.０.０.１",
            "①②⑦.⓪.⓪.①",
            "169.254.43518",
            "[::ffff:7f00:1]",
            "[::127.0.0.1]",
        ] {
            let url = url::Url::parse(&format!("http://{s}/")).unwrap();
            let from_url = match url.host() {
                Some(url::Host::Ipv4(a)) => Some(IpAddr::V4(a)),
                Some(url::Host::Ipv6(a)) => Some(IpAddr::V6(a)),
                _ => None,
            };
            assert_eq!(parse_ip_literal(s), from_url, "{s}");
        }
    }
}
