//! The URL family: `url.*` and `host.in_domain`, on the `url` crate.
//!
//! URLs are parsed by the WHATWG URL Standard (what browsers and most HTTP clients do),
//! so a policy sees the host a request would reach: `https://api.github.com@evil.com/`
//! has host `evil.com` (what precedes `@` is userinfo), `HTTPS://API.GITHUB.COM/` has
//! host `api.github.com`, `http://0x0a.1/` has host `10.0.0.1`, and an international name
//! is in its ASCII (punycode) form. Only absolute URLs parse; text that does not yields
//! nothing, so every `url.*` condition on it is false.

use std::borrow::Cow;
use url::{Host, Url};

use crate::prepared::PreparedKind;
use crate::strings::text;
use crate::{Memo, Val, net, plain_url};

/// The URL argument, parsed (or remembered from the last call on the same text).
fn parse<'m>(args: &[Val<'_>], memo: &'m mut Memo) -> Option<&'m Url> {
    memo.url(text(args.first())?)
}

fn borrowed(text: &str) -> Val<'_> {
    Val::Str(Cow::Borrowed(text))
}

/// The URL argument's scheme, host and port (see [`Memo::head`]).
fn head<'m>(args: &[Val<'_>], memo: &'m mut Memo) -> Option<(&'m str, Option<&'m str>, Option<u16>)> {
    memo.head(text(args.first())?)
}

/// `url.valid(u)`
pub(crate) fn valid(args: &[Val<'_>], memo: &mut Memo) -> bool {
    head(args, memo).is_some()
}

/// `url.scheme(u)`: lower case, without the `:`.
pub(crate) fn scheme<'m>(args: &[Val<'_>], memo: &'m mut Memo) -> Option<Val<'m>> {
    head(args, memo).map(|(scheme, _, _)| borrowed(scheme))
}

/// `url.host(u)`: as the URL serialises it (an IPv6 address in brackets), lower-cased;
/// none for a URL without a host (`mailto:`, `file:///x`).
pub(crate) fn host<'m>(args: &[Val<'_>], memo: &'m mut Memo) -> Option<Val<'m>> {
    head(args, memo)?.1.map(borrowed)
}

/// `url.port(u)`: the explicit port, or the scheme's default (80 for http, 443 for https).
pub(crate) fn port(args: &[Val<'_>], memo: &mut Memo) -> Option<Val<'static>> {
    head(args, memo)?.2.map(|port| Val::Int(i64::from(port)))
}

/// `url.path(u)`: percent-encoded as the URL serialises it, with `.` and `..` segments
/// (also as `%2e`) already resolved.
pub(crate) fn path<'m>(args: &[Val<'_>], memo: &'m mut Memo) -> Option<Val<'m>> {
    parse(args, memo).map(|url| borrowed(url.path()))
}

/// `url.query(u, key)`: each value of the query parameter `key`, decoded (`%20` and `+`
/// are spaces), in order.
pub(crate) fn query(args: &[Val<'_>], memo: &mut Memo, each: &mut dyn FnMut(Val<'_>)) {
    let Some(key) = text(args.get(1)) else { return };
    let Some(url) = parse(args, memo) else { return };
    url.query_pairs().filter(|(k, _)| k == key).for_each(|(_, value)| each(Val::Str(value)));
}

/// `host.in_domain(h, domain)`: `h` is `domain` or a name inside it, label by label. Both
/// are read as a URL's host is (ASCII letters lower-cased, an international name in its
/// punycode form), ignoring one trailing `.` (the DNS root) on either and one leading `.`
/// on `domain`. An IP address, or text that is not a host, is in no domain. A constant
/// domain is read once, when the program loads.
pub(crate) fn in_domain(args: &[Val<'_>], prepared: Option<&PreparedKind>) -> bool {
    let Some(host) = text(args.first()).and_then(domain_name) else { return false };
    let domain = match prepared {
        Some(PreparedKind::Domain(domain)) => domain.as_deref().map(Cow::Borrowed),
        _ => text(args.get(1)).and_then(domain_of),
    };
    let Some(domain) = domain else { return false };
    host.strip_suffix(domain.as_ref()).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// The domain of `host.in_domain` as a URL's host reads it, once (`None`: no host is in
/// it, as for an IP address).
pub(crate) fn domain(domain: &Val<'_>) -> Result<Option<String>, String> {
    let Val::Str(domain) = domain else { return Err("a domain is a Str".to_owned()) };
    Ok(domain_of(domain).map(Cow::into_owned))
}

/// The second argument of `host.in_domain` as a domain name: one leading `.` ignored.
fn domain_of(text: &str) -> Option<Cow<'_, str>> {
    domain_name(text.strip_prefix('.').unwrap_or(text))
}

/// A domain name in the form a URL's host has, without a trailing `.`: `text` itself when
/// it is in that form already (as a URL's host is), else parsed by the WHATWG rules.
fn domain_name(text: &str) -> Option<Cow<'_, str>> {
    let text = text.strip_suffix('.').unwrap_or(text);
    if canonical(text) {
        return Some(Cow::Borrowed(text));
    }
    if net::parse_ip(text).is_some() {
        // An address written as usual (`10.0.0.1`, `[::1]`) is no domain name, as the
        // parser would find (without its IDNA pass).
        return None;
    }
    match Host::parse(text).ok()? {
        Host::Domain(name) if !name.is_empty() => Some(Cow::Owned(name)),
        _ => None,
    }
}

/// Whether parsing `text` as a host would give back the domain `text` unchanged: a plain
/// domain name ([`plain_url::plain_domain`]) in lower case. Anything else is left to the
/// parser.
fn canonical(text: &str) -> bool {
    plain_url::plain_domain(text) && !text.bytes().any(|b| b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn one(builtin: Builtin, url: &str) -> Option<Val<'static>> {
        match eval(builtin, &[s(url)], None) {
            Ok(Yield::One(value)) => value.map(Val::into_owned),
            _ => None,
        }
    }

    fn host(url: &str) -> Option<String> {
        match one(Builtin::UrlHost, url) {
            Some(Val::Str(text)) => Some(text.into_owned()),
            _ => None,
        }
    }

    fn in_domain(host: &str, domain: &str) -> bool {
        eval(Builtin::HostInDomain, &[s(host), s(domain)], None) == Ok(Yield::Test(true))
    }

    #[test]
    fn host_is_the_one_a_request_reaches() {
        assert_eq!(host("https://api.github.com@evil.com/").as_deref(), Some("evil.com"));
        assert_eq!(host("https://api.github.com:443@evil.com/repos").as_deref(), Some("evil.com"));
        assert_eq!(host("HTTPS://API.GITHUB.COM/").as_deref(), Some("api.github.com"));
        assert_eq!(host("https://api.github.com:8443/x").as_deref(), Some("api.github.com"));
        assert_eq!(host("https://api.github.com./").as_deref(), Some("api.github.com."));
        assert_eq!(host("http://0x0a.1/").as_deref(), Some("10.0.0.1"));
        assert_eq!(host("http://2130706433/").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("http://0177.0.0.1/").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("http://%31%30.0.0.1/").as_deref(), Some("10.0.0.1"));
        assert_eq!(host("http://[::ffff:10.0.0.1]/").as_deref(), Some("[::ffff:a00:1]"));
        assert_eq!(host("https://BÜCHER.de/").as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(host("ssh://Git.Example.COM/repo").as_deref(), Some("git.example.com"));
        assert_eq!(host("https://evil.com\\@api.github.com/").as_deref(), Some("evil.com"));
        assert_eq!(host("mailto:ops@example.com"), None);
        assert_eq!(host("file:///etc/passwd"), None);
        assert_eq!(host("api.github.com/x"), None, "not an absolute URL");
        assert_eq!(host(""), None);
    }

    #[test]
    fn valid_scheme_port_and_path() {
        assert_eq!(eval(Builtin::UrlValid, &[s("https://pypi.org/simple")], None), Ok(Yield::Test(true)));
        assert_eq!(eval(Builtin::UrlValid, &[s("pypi.org/simple")], None), Ok(Yield::Test(false)));
        assert_eq!(eval(Builtin::UrlValid, &[s("http://[::1/")], None), Ok(Yield::Test(false)));
        assert_eq!(one(Builtin::UrlScheme, "HTTPS://x/"), Some(s("https")));
        assert_eq!(one(Builtin::UrlPort, "https://x/"), Some(Val::Int(443)));
        assert_eq!(one(Builtin::UrlPort, "http://x/"), Some(Val::Int(80)));
        assert_eq!(one(Builtin::UrlPort, "http://x:8080/"), Some(Val::Int(8080)));
        assert_eq!(one(Builtin::UrlPort, "https://x:443/"), Some(Val::Int(443)));
        assert_eq!(one(Builtin::UrlPort, "git+ssh://x/"), None, "no known default");
        assert_eq!(one(Builtin::UrlPort, "http://x:99999/"), None, "not a URL");
        assert_eq!(one(Builtin::UrlPath, "https://x/a/%2e%2e/b/./c?q#f"), Some(s("/b/c")));
        assert_eq!(one(Builtin::UrlPath, "https://x"), Some(s("/")));
    }

    #[test]
    fn query_yields_each_decoded_value() {
        let url = "https://x/search?q=rm+-rf&page=2&q=a%20b&empty=";
        assert_eq!(eval(Builtin::UrlQuery, &[s(url), s("q")], None), Ok(Yield::Many(vec![s("rm -rf"), s("a b")])));
        assert_eq!(eval(Builtin::UrlQuery, &[s(url), s("empty")], None), Ok(Yield::Many(vec![s("")])));
        assert_eq!(eval(Builtin::UrlQuery, &[s(url), s("none")], None), Ok(Yield::Many(vec![])));
        assert_eq!(eval(Builtin::UrlQuery, &[s("not a url"), s("q")], None), Ok(Yield::Many(vec![])));
    }

    #[test]
    fn in_domain_is_the_domain_or_a_name_inside_it() {
        assert!(in_domain("internal.example.com", "internal.example.com"));
        assert!(in_domain("ci.internal.example.com", "internal.example.com"));
        assert!(in_domain("a.b.INTERNAL.example.com", "internal.Example.com"));
        assert!(in_domain("ci.internal.example.com.", "internal.example.com"));
        assert!(in_domain("ci.internal.example.com", ".internal.example.com"));
        assert!(!in_domain("evilinternal.example.com", "internal.example.com"));
        assert!(!in_domain("internal.example.com.evil.com", "internal.example.com"));
        assert!(!in_domain("example.com", "internal.example.com"));
        assert!(in_domain("api.bücher.de", "BÜCHER.de"));
        assert!(in_domain("api.xn--bcher-kva.de", "bücher.de"));
        assert!(!in_domain("10.0.0.1", "0.1"));
        assert!(!in_domain("0x0a.1", "1"), "an IPv4 address in a URL's shorthand");
        assert!(!in_domain("[::1]", "1]"));
        assert!(!in_domain("", ""));
        assert!(!in_domain("x.", "."));
        assert!(!in_domain("a b.example.com", "example.com"), "not a host");
        assert!(!in_domain("é.example.com", "xample.com"));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}", key in ".{0,4}") {
            for builtin in [Builtin::UrlValid, Builtin::UrlScheme, Builtin::UrlHost, Builtin::UrlPort, Builtin::UrlPath] {
                let _ = eval(builtin, &[s(&text)], None);
            }
            let _ = eval(Builtin::UrlQuery, &[s(&text), s(&key)], None);
            let _ = eval(Builtin::HostInDomain, &[s(&text), s(&key)], None);
        }

        #[test]
        fn a_host_taken_as_it_is_is_what_the_parser_makes_of_it(text in "(xn--|0x|[a-z0-9.-]|[A-Z%é_ ]){0,12}") {
            if canonical(&text) {
                prop_assert!(matches!(Host::parse(&text), Ok(Host::Domain(name)) if name == text), "{text}");
            }
        }

        #[test]
        fn an_address_taken_as_none_is_no_domain_for_the_parser(v4: u32, v6: u128) {
            for text in [std::net::Ipv4Addr::from(v4).to_string(), format!("[{}]", std::net::Ipv6Addr::from(v6))] {
                prop_assert_eq!(domain_name(&text), None);
                prop_assert!(!matches!(Host::parse(&text), Ok(Host::Domain(_))), "{text}");
            }
        }

        #[test]
        fn userinfo_never_changes_the_host(user in "[a-z.:]{1,20}", host in "[a-z]{1,10}\\.(com|org)") {
            prop_assert_eq!(super::tests::host(&format!("https://{user}@{host}/")), Some(host));
        }

        #[test]
        fn a_host_is_in_its_own_domain_and_each_parent(labels in proptest::collection::vec("[a-z][a-z0-9-]{0,7}", 1..5)) {
            // A label `xn--…` is punycode, which this generator does not make valid (`xn--`
            // alone is no host at all: drawn once in a few thousand cases).
            prop_assume!(labels.iter().all(|label| !label.starts_with("xn--")));
            let name = labels.join(".");
            for i in 0..labels.len() {
                let domain = labels.get(i..).unwrap_or_default().join(".");
                prop_assert!(in_domain(&name, &domain));
            }
            let outside = format!("x{name}");
            prop_assert!(!in_domain(&outside, &name));
        }
    }
}
