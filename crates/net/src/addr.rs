//! Which IP addresses a hostile URL may reach.
//!
//! IPv6 addresses that carry an IPv4 address inside them (mapped, compatible, 6to4, NAT64, Teredo,
//! ISATAP) are unwrapped and the inner address is judged too: std's `is_loopback()` is false for
//! `::ffff:127.0.0.1`, and a NAT64 or 6to4 gateway would forward to the inner address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Why `ip` must not be contacted, or `None` when it is an ordinary public address.
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

/// IPv4 special-purpose blocks (RFC 6890 and friends): (network, prefix length, reason).
const V4_BLOCKS: &[([u8; 4], u8, &str)] = &[
    ([0, 0, 0, 0], 8, "\"this network\" address (0.0.0.0/8)"),
    ([10, 0, 0, 0], 8, "private network (10.0.0.0/8)"),
    ([100, 64, 0, 0], 10, "carrier-grade NAT (100.64.0.0/10)"),
    ([127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"),
    (
        [169, 254, 0, 0],
        16,
        "link-local / cloud metadata (169.254.0.0/16)",
    ),
    ([172, 16, 0, 0], 12, "private network (172.16.0.0/12)"),
    (
        [192, 0, 0, 0],
        24,
        "IETF protocol assignments (192.0.0.0/24)",
    ),
    ([192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"),
    ([192, 168, 0, 0], 16, "private network (192.168.0.0/16)"),
    ([198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"),
    ([198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"),
    ([203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"),
    ([224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"),
    ([240, 0, 0, 0], 4, "reserved (240.0.0.0/4)"),
];

/// IPv6 special-purpose blocks: (network, prefix length, reason).
const V6_BLOCKS: &[(u128, u8, &str)] = &[
    (0, 128, "unspecified address (::)"),
    (1, 128, "loopback (::1)"),
    (0x0100 << 112, 64, "discard-only (100::/64)"),
    (0x2001_0db8 << 96, 32, "documentation (2001:db8::/32)"),
    (0x3fff << 112, 20, "documentation (3fff::/20)"),
    (0xfc00 << 112, 7, "unique local (fc00::/7)"),
    (0xfe80 << 112, 10, "link-local (fe80::/10)"),
    (0xfec0 << 112, 10, "site-local (fec0::/10)"),
    (0xff00 << 112, 8, "multicast (ff00::/8)"),
];

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    if ip == Ipv4Addr::BROADCAST {
        return Some("broadcast (255.255.255.255)");
    }
    let bits = u32::from(ip);
    V4_BLOCKS
        .iter()
        .find(|(net, len, _)| in_prefix_v4(bits, u32::from_be_bytes(*net), *len))
        .map(|(_, _, reason)| *reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let bits = u128::from(ip);
    let own = V6_BLOCKS
        .iter()
        .find(|(net, len, _)| in_prefix_v6(bits, *net, *len))
        .map(|(_, _, reason)| *reason);
    if own.is_some() {
        return own;
    }
    embedded_v4(ip).into_iter().find_map(v4_reason)
}

/// Every IPv4 address this IPv6 address may stand for.
fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let bits = u128::from(ip);
    let seg = ip.segments();
    let low32 = Ipv4Addr::from(bits as u32);
    let mut found = Vec::new();
    // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (SIIT translated).
    let high96 = bits >> 32;
    if high96 == 0 || high96 == 0xffff || high96 == 0xffff_0000 {
        found.push(low32);
    }
    // 6to4: 2002:AABB:CCDD::/48 carries the IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        found.push(Ipv4Addr::from((bits >> 80) as u32));
    }
    // NAT64: well-known 64:ff9b::/96 and local-use 64:ff9b:1::/48, address in the low 32 bits.
    if in_prefix_v6(bits, 0x0064_ff9b << 96, 96) || in_prefix_v6(bits, 0x0064_ff9b_0001 << 80, 48) {
        found.push(low32);
    }
    // Teredo 2001:0::/32: server in bits 32..64, client is the inverted low 32 bits.
    if in_prefix_v6(bits, 0x2001_0000 << 96, 32) {
        found.push(Ipv4Addr::from((bits >> 64) as u32));
        found.push(Ipv4Addr::from(!(bits as u32)));
    }
    // ISATAP interface identifier ::0:5efe:a.b.c.d (or 200:5efe with the u/g bits), any prefix.
    if seg[4] & !0x0300 == 0 && seg[5] == 0x5efe {
        found.push(low32);
    }
    found
}

fn in_prefix_v4(bits: u32, net: u32, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    };
    bits & mask == net & mask
}

fn in_prefix_v6(bits: u128, net: u128, len: u8) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    bits & mask == net & mask
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        let ip: IpAddr = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        forbidden_reason(ip)
    }

    #[test]
    fn forbidden_ipv4() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.254",
            "255.255.255.255",
        ] {
            assert!(reason(s).is_some(), "{s} should be forbidden");
        }
    }

    #[test]
    fn public_ipv4_allowed_including_block_neighbours() {
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(reason(s), None, "{s} should be allowed");
        }
    }

    #[test]
    fn forbidden_ipv6_and_embeddings() {
        for s in [
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "100::1",
            "3fff::1",
            // IPv4-mapped, -compatible and SIIT-translated
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            // 6to4 of 127.0.0.1 and of 192.168.0.1
            "2002:7f00:1::",
            "2002:c0a8:1::1",
            // NAT64 of 169.254.169.254 and of 127.0.0.1
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::127.0.0.1",
            "64:ff9b:1::a9fe:a9fe",
            // Teredo whose client is 127.0.0.1 (inverted: 80ff:fffe)
            "2001::80ff:fffe",
            "2001:0:4136:e378:8000:63bf:80ff:fffe",
            // ISATAP carrying 127.0.0.1 under various prefixes
            "fe80::5efe:127.0.0.1",
            "2001:db8::5efe:7f00:1",
            "2606:4700::5efe:7f00:1",
            "2606:4700::200:5efe:a00:1",
        ] {
            assert!(reason(s).is_some(), "{s} should be forbidden");
        }
    }

    #[test]
    fn public_ipv6_allowed() {
        for s in [
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "64:ff9b::8.8.8.8",
            "64:ff9b:1::8.8.8.8",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
            "2001:0:4136:e378:8000:63bf:f7f7:f7f7", // Teredo of 8.8.8.8
            "2606:4700::5efe:808:808",
            "fe00::1", // outside fe80::/10 and fec0::/10
        ] {
            assert_eq!(reason(s), None, "{s} should be allowed");
        }
    }

    #[test]
    fn embedded_reason_names_the_inner_block() {
        assert_eq!(reason("::ffff:7f00:1"), reason("127.0.0.1"));
        assert_eq!(reason("64:ff9b::a9fe:a9fe"), reason("169.254.169.254"));
    }
}
