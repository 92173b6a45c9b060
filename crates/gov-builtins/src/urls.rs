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

use crate::Val;
use crate::strings::{text, two};

fn parse(args: &[Val<'_>]) -> Option<Url> {
    Url::parse(text(args.first())?).ok()
}

fn owned<'a>(text: &str) -> Val<'a> {
    Val::Str(Cow::Owned(text.to_owned()))
}

/// `url.valid(u)`
pub(crate) fn valid(args: &[Val<'_>]) -> bool {
    parse(args).is_some()
}

/// `url.scheme(u)`: lower case, without the `:`.
pub(crate) fn scheme<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    parse(args).map(|url| owned(url.scheme()))
}

/// `url.host(u)`: as the URL serialises it (an IPv6 address in brackets), lower-cased;
/// none for a URL without a host (`mailto:`, `file:///x`).
pub(crate) fn host<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    // The standard lower-cases the hosts of http(s), ws(s), ftp and file URLs; other
    // schemes keep an opaque host as written, lower-cased here so one comparison fits all.
    let url = parse(args)?;
    let host = url.host_str().filter(|host| !host.is_empty())?;
    Some(Val::Str(Cow::Owned(host.to_ascii_lowercase())))
}

/// `url.port(u)`: the explicit port, or the scheme's default (80 for http, 443 for https).
pub(crate) fn port<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    parse(args)?.port_or_known_default().map(|port| Val::Int(i64::from(port)))
}

/// `url.path(u)`: percent-encoded as the URL serialises it, with `.` and `..` segments
/// (also as `%2e`) already resolved.
pub(crate) fn path<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    parse(args).map(|url| owned(url.path()))
}

/// `url.query(u, key)`: each value of the query parameter `key`, decoded (`%20` and `+`
/// are spaces), in order.
pub(crate) fn query<'a>(args: &[Val<'a>]) -> Vec<Val<'a>> {
    let (Some(url), Some(key)) = (parse(args), text(args.get(1))) else { return Vec::new() };
    url.query_pairs().filter(|(k, _)| k == key).map(|(_, value)| Val::Str(Cow::Owned(value.into_owned()))).collect()
}

/// `host.in_domain(h, domain)`: `h` is `domain` or a name inside it, label by label. Both
/// are read as a URL's host is (ASCII letters lower-cased, an international name in its
/// punycode form), ignoring one trailing `.` (the DNS root) on either and one leading `.`
/// on `domain`. An IP address, or text that is not a host, is in no domain.
pub(crate) fn in_domain(args: &[Val<'_>]) -> bool {
    let Some((host, domain)) = two(args) else { return false };
    let (Some(host), Some(domain)) = (domain_name(host), domain_name(domain.strip_prefix('.').unwrap_or(domain)))
    else {
        return false;
    };
    host.strip_suffix(&domain).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// A domain name in the form a URL's host has, without a trailing `.`.
fn domain_name(text: &str) -> Option<String> {
    match Host::parse(text.strip_suffix('.').unwrap_or(text)).ok()? {
        Host::Domain(name) if !name.is_empty() => Some(name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn to_static(value: Val<'_>) -> Val<'static> {
        match value {
            Val::Str(text) => Val::Str(Cow::Owned(text.into_owned())),
            Val::Int(i) => Val::Int(i),
            Val::Decimal(d) => Val::Decimal(d),
            Val::Bool(b) => Val::Bool(b),
            Val::Time(t) => Val::Time(t),
            Val::Duration(d) => Val::Duration(d),
        }
    }

    fn one(builtin: Builtin, url: &str) -> Option<Val<'static>> {
        match eval(builtin, &[s(url)], None) {
            Ok(Yield::One(value)) => value.map(to_static),
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
        fn userinfo_never_changes_the_host(user in "[a-z.:]{1,20}", host in "[a-z]{1,10}\\.(com|org)") {
            prop_assert_eq!(super::tests::host(&format!("https://{user}@{host}/")), Some(host));
        }

        #[test]
        fn a_host_is_in_its_own_domain_and_each_parent(labels in proptest::collection::vec("[a-z][a-z0-9-]{0,7}", 1..5)) {
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
