//! The network family: `net.ip_valid` and `net.cidr_contains`, for IPv4 and IPv6, on
//! `std::net` and the `ipnet` crate.
//!
//! Addresses are written as usual (`10.0.0.1`, `2001:db8::1`), or as a URL's host writes
//! an IPv6 address, in brackets (`[::1]`), so `url.host` feeds these directly. Parsing is
//! strict: no leading zeros (`010.0.0.1`), no shortened forms (`10.1`), no zone (`%eth0`);
//! a URL's host has already been put in the standard form by `url.host`.
//!
//! An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it maps (a
//! dual-stack socket connects to that address), so it is in an IPv4 network exactly when
//! its IPv4 address is; and an IPv4 address is in an IPv6 network exactly when its mapped
//! form is. A deny rule on `10.0.0.0/8` therefore also catches `[::ffff:10.0.0.1]`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::Val;
use crate::prepared::{PreparedKind, prepared_or_parse};
use crate::strings::text;

/// An IP address, as written alone or as a URL's host.
pub(crate) fn parse_ip(text: &str) -> Option<IpAddr> {
    match text.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().ok().map(IpAddr::V6),
        None => text.parse().ok(),
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or a single address (a
/// network of that one address). Bits set after the prefix are ignored: `10.1.2.3/8` is
/// `10.0.0.0/8`.
pub(crate) fn parse_network(network: &Val<'_>) -> Result<IpNet, String> {
    let Val::Str(network) = network else { return Err("a network is a Str".to_owned()) };
    if let Some(address) = parse_ip(network) {
        return Ok(IpNet::from(address));
    }
    network.parse::<IpNet>().map_err(|_| {
        format!(
            "`{network}` is not a network: expected an address and a prefix length, as in `10.0.0.0/8` or `fd00::/8`"
        )
    })
}

/// `net.ip_valid(s)`
pub(crate) fn ip_valid(args: &[Val<'_>]) -> bool {
    text(args.first()).and_then(parse_ip).is_some()
}

/// `net.cidr_contains(cidr, ip)`
pub(crate) fn cidr_contains(args: &[Val<'_>], prepared: Option<&PreparedKind>) -> bool {
    let constant = match prepared {
        Some(PreparedKind::Network(network)) => Some(network),
        _ => None,
    };
    let Some(address) = text(args.get(1)).and_then(parse_ip) else { return false };
    prepared_or_parse(constant, args.first(), parse_network).is_some_and(|network| contains(&network, address))
}

/// Whether `network` contains `address`, an IPv4-mapped IPv6 address being its IPv4 one.
fn contains(network: &IpNet, address: IpAddr) -> bool {
    match network {
        IpNet::V4(network) => as_v4(address).is_some_and(|address| network.contains(&address)),
        IpNet::V6(network) => network.contains(&as_v6(address)),
    }
}

fn as_v4(address: IpAddr) -> Option<Ipv4Addr> {
    match address {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    }
}

fn as_v6(address: IpAddr) -> Ipv6Addr {
    match address {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval, prepare};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn valid(text: &str) -> bool {
        eval(Builtin::NetIpValid, &[s(text)], None) == Ok(Yield::Test(true))
    }

    /// Whether `cidr` contains `ip`, with the network prepared and per call (which agree).
    fn within(cidr: &str, ip: &str) -> bool {
        let prepared = prepare(Builtin::NetCidrContains, &[Some(s(cidr)), None]);
        let Ok(Some(prepared)) = prepared else { return false };
        let once = eval(Builtin::NetCidrContains, &[s(cidr), s(ip)], Some(&prepared));
        assert_eq!(once, eval(Builtin::NetCidrContains, &[s(cidr), s(ip)], None), "{ip} in {cidr}");
        once == Ok(Yield::Test(true))
    }

    #[test]
    fn addresses_are_parsed_strictly() {
        for ip in ["10.0.0.1", "255.255.255.255", "::1", "2001:db8::1", "::ffff:10.0.0.1", "[::1]", "[::ffff:a00:1]"] {
            assert!(valid(ip), "{ip}");
        }
        for ip in
            ["10.1", "010.0.0.1", "256.0.0.1", "0x0a.0.0.1", "[10.0.0.1]", "fe80::1%eth0", "::1]", "", "localhost"]
        {
            assert!(!valid(ip), "{ip}");
        }
    }

    #[test]
    fn ipv4_and_ipv6_membership() {
        assert!(within("10.0.0.0/8", "10.255.0.1"));
        assert!(!within("10.0.0.0/8", "11.0.0.1"));
        assert!(within("10.1.2.3/8", "10.9.9.9"), "host bits are ignored");
        assert!(within("192.168.1.7", "192.168.1.7"));
        assert!(!within("192.168.1.7", "192.168.1.8"));
        assert!(within("0.0.0.0/0", "8.8.8.8"));
        assert!(within("2001:db8::/32", "2001:db8:ffff::1"));
        assert!(!within("2001:db8::/32", "2001:db9::1"));
        assert!(within("fd00::/8", "[fd12::1]"));
        assert!(!within("10.0.0.0/8", "not an ip"));
    }

    #[test]
    fn ipv4_mapped_ipv6_is_its_ipv4_address() {
        assert!(within("10.0.0.0/8", "::ffff:10.0.0.1"));
        assert!(within("10.0.0.0/8", "[::ffff:a00:1]"));
        assert!(!within("10.0.0.0/8", "::ffff:11.0.0.1"));
        assert!(within("::ffff:0:0/96", "10.0.0.1"));
        assert!(within("::ffff:10.0.0.0/104", "10.0.0.1"));
        // Only mapped addresses: the deprecated IPv4-compatible `::10.0.0.1` is IPv6.
        assert!(!within("10.0.0.0/8", "::10.0.0.1"));
        assert!(!within("2001:db8::/32", "10.0.0.1"));
    }

    #[test]
    fn an_invalid_network_is_a_prepare_error_and_yields_nothing_per_call() {
        for cidr in ["10.0.0.0/33", "10.0.0/8", "fd00::/129", "", "10.0.0.0/"] {
            let error = prepare(Builtin::NetCidrContains, &[Some(s(cidr)), None]);
            assert!(matches!(&error, Err(e) if e.param == 0), "{cidr}: {error:?}");
            assert_eq!(eval(Builtin::NetCidrContains, &[s(cidr), s("10.0.0.1")], None), Ok(Yield::Test(false)));
        }
        assert!(matches!(prepare(Builtin::NetCidrContains, &[None, Some(s("10.0.0.1"))]), Ok(None)));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(cidr in ".{0,24}", ip in ".{0,24}") {
            let _ = prepare(Builtin::NetCidrContains, &[Some(s(&cidr)), None]);
            let _ = eval(Builtin::NetCidrContains, &[s(&cidr), s(&ip)], None);
            let _ = eval(Builtin::NetIpValid, &[s(&ip)], None);
        }

        #[test]
        fn membership_agrees_with_masking(address: u32, network: u32, prefix in 0u8..=32) {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let (address, network) = (Ipv4Addr::from(address), Ipv4Addr::from(network));
            let cidr = format!("{network}/{prefix}");
            let expected = u32::from(address) & mask == u32::from(network) & mask;
            prop_assert_eq!(within(&cidr, &address.to_string()), expected);
            prop_assert_eq!(within(&cidr, &address.to_ipv6_mapped().to_string()), expected);
        }
    }
}
