//! The network guard: the crawl reaches only public addresses unless told otherwise.
//!
//! A page can link (or redirect) anywhere, including to the crawler's own machine, its
//! private network or a cloud metadata endpoint (`169.254.169.254`). The guard refuses those
//! by the **resolved address** of every connection: a resolver that drops non-public
//! addresses from every lookup (so a public-looking name that resolves to `127.0.0.1`, or
//! rebinds between lookups, is still refused: the connection uses exactly the addresses the
//! guard saw), plus a check of literal-IP URLs, which never reach a resolver. Hosts pinned by
//! the resolve override are exempt (the operator named their address), and so is everything
//! when `crawl.allow_private = true`.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use thiserror::Error;
use url::{Host, Url};

/// A connection the guard refused.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("refused to connect to {host} ({addr}, a {kind} address); set crawl.allow_private = true or pin the host with --resolve to allow it")]
pub struct BlockedAddress {
    /// The host as the URL named it.
    pub host: String,
    /// The (first) address it resolved to.
    pub addr: IpAddr,
    /// Why the address is not public (`loopback`, `private`, `link-local`, …).
    pub kind: &'static str,
}

/// Why `ip` is not a public unicast address, or `None` when it is one.
///
/// Covers loopback, RFC 1918 and shared (CGNAT) space, link-local (incl. the metadata
/// endpoint 169.254.169.254), multicast, unspecified, broadcast, documentation, benchmarking
/// and reserved ranges, IPv6 unique-local and site-local, and every IPv6 form that embeds an
/// IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) by the address it embeds.
pub fn non_public(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_public_v4(v4),
        IpAddr::V6(v6) => non_public_v6(v6),
    }
}

fn non_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let kind = match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) => "private",
        (172, 16..=31, _) => "private",
        (192, 168, _) => "private",
        (100, 64..=127, _) => "shared (CGNAT)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "reserved",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        _ if ip.is_broadcast() => "broadcast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(kind)
}

fn non_public_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return non_public_v4(v4);
    }
    // ::a.b.c.d, the deprecated IPv4-compatible form: never routed on the internet.
    if s[..6] == [0; 6] {
        return Some(non_public_v4(ip.to_ipv4()?).unwrap_or("IPv4-compatible"));
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    match s[0] {
        // NAT64 well-known prefix 64:ff9b::/96 embeds the IPv4 target in the last 32 bits.
        0x0064 if s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] => non_public_v4(embedded(s[6], s[7])),
        // 64:ff9b:1::/48 is for local NAT64 deployments.
        0x0064 if s[1] == 0xff9b && s[2] == 1 => Some("private"),
        // Teredo 2001:0::/32: the client's address is the last 32 bits, inverted.
        0x2001 if s[1] == 0 => non_public_v4(embedded(!s[6], !s[7])),
        0x2001 if s[1] == 0x0db8 => Some("documentation"),
        // 6to4 2002::/16 embeds the IPv4 address in bits 16..48.
        0x2002 => non_public_v4(embedded(s[1], s[2])),
        0x0100 if s[1..4] == [0, 0, 0] => Some("discard-only"),
        x if x & 0xfe00 == 0xfc00 => Some("unique-local (private)"),
        x if x & 0xffc0 == 0xfe80 => Some("link-local"),
        x if x & 0xffc0 == 0xfec0 => Some("site-local (private)"),
        x if x & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
}

/// Which connections the client may make.
#[derive(Clone, Debug, Default)]
pub struct Guard {
    /// `crawl.allow_private`: every address is allowed.
    pub allow_private: bool,
    /// Hosts pinned by the resolve override (lower case): their address was named by the
    /// operator, so it is trusted whatever it is.
    pub pinned: HashSet<String>,
}

impl Guard {
    /// Refuses a URL whose host is a literal non-public IP (literal IPs bypass the resolver,
    /// so this is the only check they get). Names are checked when they resolve.
    pub fn check_literal(&self, url: &Url) -> Result<(), BlockedAddress> {
        if self.allow_private {
            return Ok(());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        let host = url.host_str().unwrap_or_default();
        if self.pinned.contains(&host.to_ascii_lowercase()) {
            return Ok(());
        }
        match non_public(ip) {
            Some(kind) => Err(BlockedAddress {
                host: host.to_string(),
                addr: ip,
                kind,
            }),
            None => Ok(()),
        }
    }
}

/// Keeps the public addresses of a lookup; refuses the name when none is left.
pub fn filter_resolved(
    host: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, BlockedAddress> {
    let mut first_blocked = None;
    let mut kept = Vec::new();
    for a in addrs {
        match non_public(a.ip()) {
            None => kept.push(a),
            Some(kind) => {
                first_blocked.get_or_insert((a.ip(), kind));
            }
        }
    }
    match (kept.is_empty(), first_blocked) {
        (true, Some((addr, kind))) => Err(BlockedAddress {
            host: host.to_string(),
            addr,
            kind,
        }),
        _ => Ok(kept),
    }
}

/// A DNS resolver that only returns public addresses. reqwest applies its resolve overrides
/// (`--resolve` pins) before calling it, so pinned hosts never reach it.
#[derive(Clone, Debug, Default)]
pub struct PublicResolver;

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's (or the scheme's) port in afterwards.
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let kept = filter_resolved(&host, found)?;
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The [`BlockedAddress`] somewhere in an error's source chain, if the guard caused it.
pub fn blocked_in(e: &(dyn std::error::Error + 'static)) -> Option<BlockedAddress> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(b) = c.downcast_ref::<BlockedAddress>() {
            return Some(b.clone());
        }
        cur = c.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> Option<&'static str> {
        non_public(s.parse().unwrap())
    }

    #[test]
    fn ipv4_ranges() {
        for (ip, k) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "unspecified"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("192.0.2.1", "documentation"),
            ("198.18.0.1", "benchmarking"),
        ] {
            assert_eq!(kind(ip), Some(k), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "172.15.0.1",
            "100.128.0.1",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn ipv6_ranges_and_embedded_ipv4() {
        for (ip, k) in [
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "unique-local (private)"),
            ("fdab:cdef::1", "unique-local (private)"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "site-local (private)"),
            ("ff02::1", "multicast"),
            ("2001:db8::1", "documentation"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("2002:7f00:1::", "loopback"),
            ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"),
        ] {
            assert_eq!(kind(ip), Some(k), "{ip}");
        }
        for ip in [
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::",
        ] {
            assert_eq!(kind(ip), None, "{ip}");
        }
    }

    #[test]
    fn literal_urls_are_checked_unless_pinned_or_allowed() {
        let g = Guard::default();
        let u = |s: &str| Url::parse(s).unwrap();
        let b = g.check_literal(&u("http://127.0.0.1:8080/")).unwrap_err();
        assert_eq!((b.kind, b.host.as_str()), ("loopback", "127.0.0.1"));
        assert!(g.check_literal(&u("http://[::1]/")).is_err());
        assert!(g.check_literal(&u("http://[::ffff:a9fe:a9fe]/")).is_err());
        // The URL parser reads the numeric forms of an IPv4 address too.
        assert!(g.check_literal(&u("http://2130706433/")).is_err());
        assert!(g.check_literal(&u("http://0x7f.1/")).is_err());
        assert!(g.check_literal(&u("http://8.8.8.8/")).is_ok());
        assert!(g.check_literal(&u("http://news.test/")).is_ok());
        let pinned = Guard {
            allow_private: false,
            pinned: ["127.0.0.1".to_string()].into_iter().collect(),
        };
        assert!(pinned.check_literal(&u("http://127.0.0.1/")).is_ok());
        let open = Guard {
            allow_private: true,
            ..Guard::default()
        };
        assert!(open.check_literal(&u("http://169.254.169.254/")).is_ok());
    }

    #[test]
    fn resolved_addresses_are_filtered() {
        let a = |s: &str| -> SocketAddr { s.parse().unwrap() };
        let kept = filter_resolved("mixed.test", [a("10.0.0.1:0"), a("93.184.216.34:0")]).unwrap();
        assert_eq!(kept, vec![a("93.184.216.34:0")]);
        let e = filter_resolved("evil.test", [a("127.0.0.1:0"), a("[::1]:0")]).unwrap_err();
        assert_eq!((e.host.as_str(), e.kind), ("evil.test", "loopback"));
        assert!(e.to_string().contains("allow_private"));
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_of_local_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let err = match PublicResolver.resolve(name).await {
            Ok(_) => panic!("localhost must be refused"),
            Err(e) => e,
        };
        let blocked = blocked_in(&*err as &(dyn std::error::Error + 'static))
            .expect("the cause is the guard");
        assert_eq!(blocked.kind, "loopback");
    }
}
