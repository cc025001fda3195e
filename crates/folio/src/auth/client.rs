//! Who is on the other end: the client IP and whether the request came over HTTPS. Proxy
//! headers (`X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `X-Forwarded-Proto`) count only
//! when the socket peer is listed in the `folio.trustedProxies` option.

use axum::http::HeaderMap;
use std::net::IpAddr;

pub use crate::app::settings::Net;

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn trusted(peer: IpAddr, proxies: &[Net]) -> bool {
    proxies.iter().any(|n| n.contains(peer))
}

/// The client IP: the socket peer, or — only when the peer is a trusted proxy — the nearest
/// untrusted address in `X-Forwarded-For` (then `Forwarded: for=`, then `X-Real-IP`).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, proxies: &[Net]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted(peer, proxies) {
        return peer;
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        if let Ok(s) = v.to_str() {
            chain.extend(s.split(',').filter_map(|x| x.trim().parse::<IpAddr>().ok()));
        }
    }
    if chain.is_empty() {
        for v in headers.get_all("forwarded") {
            if let Ok(s) = v.to_str() {
                for part in s.split([',', ';']) {
                    if let Some(val) = part
                        .trim()
                        .strip_prefix("for=")
                        .or_else(|| part.trim().strip_prefix("For="))
                    {
                        let val = val.trim_matches('"');
                        let val = val
                            .strip_prefix('[')
                            .and_then(|x| x.split(']').next())
                            .unwrap_or(val);
                        let val = if val.matches(':').count() == 1 {
                            val.split(':').next().unwrap_or(val)
                        } else {
                            val
                        };
                        if let Ok(ip) = val.parse() {
                            chain.push(ip);
                        }
                    }
                }
            }
        }
    }
    if chain.is_empty()
        && let Some(ip) = headers
            .get("x-real-ip")
            .and_then(|v| v.to_str().ok())
            .and_then(|s| s.trim().parse::<IpAddr>().ok())
    {
        chain.push(ip);
    }
    // Walk from the nearest hop outwards, skipping our own proxies.
    for ip in chain.iter().rev() {
        let ip = canonical(*ip);
        if !trusted(ip, proxies) {
            return ip;
        }
    }
    chain.first().map(|ip| canonical(*ip)).unwrap_or(peer)
}

/// Whether the request is HTTPS: a TLS connection, or a trusted proxy saying so.
pub fn is_https(tls: bool, peer: IpAddr, headers: &HeaderMap, proxies: &[Net]) -> bool {
    if tls {
        return true;
    }
    if !trusted(canonical(peer), proxies) {
        return false;
    }
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .map(|s| {
            s.split(',')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("https")
        });
    if let Some(p) = proto {
        return p;
    }
    headers
        .get("forwarded")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s.to_ascii_lowercase().contains("proto=https"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    #[test]
    fn spoofed_headers_are_ignored_without_trust() {
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let headers = h(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        assert_eq!(client_ip(peer, &headers, &[]), peer);
        assert!(!is_https(false, peer, &headers, &[]));
    }

    #[test]
    fn trusted_proxy_chain() {
        let proxies = [
            Net::parse("10.0.0.0/8").unwrap(),
            Net::parse("127.0.0.1").unwrap(),
        ];
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let headers = h(&[
            ("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.2.3"),
            ("x-forwarded-proto", "https"),
        ]);
        // The spoofable left-most entry is not used: the nearest untrusted hop is.
        assert_eq!(
            client_ip(peer, &headers, &proxies),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert!(is_https(false, peer, &headers, &proxies));
        let fwd = h(&[("forwarded", "for=\"[2001:db8::1]:4711\";proto=https")]);
        assert_eq!(
            client_ip(peer, &fwd, &proxies),
            "2001:db8::1".parse::<IpAddr>().unwrap()
        );
        let real = h(&[("x-real-ip", "192.0.2.1")]);
        assert_eq!(
            client_ip(peer, &real, &proxies),
            "192.0.2.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn nets() {
        assert!(
            Net::parse("192.168.0.0/16")
                .unwrap()
                .contains("192.168.4.5".parse().unwrap())
        );
        assert!(
            !Net::parse("192.168.0.0/16")
                .unwrap()
                .contains("192.169.0.1".parse().unwrap())
        );
        assert!(Net::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(
            Net::parse("127.0.0.1")
                .unwrap()
                .contains("::ffff:127.0.0.1".parse().unwrap())
        );
        assert!(Net::parse("nonsense").is_none());
        assert!(Net::parse("10.0.0.0/33").is_none());
    }
}
