//! The scheme, host and port of a URL in the plain form most requests carry
//! (`https://api.github.com/repos/x`, `HTTP://10.1.2.3:8080/metrics`), read without the
//! URL parser: the `url` crate's parse of such a URL (IDNA pass and serialisation
//! included) costs ~5 000 instructions and three allocations, this reading ~100 and none.
//!
//! Invariant: [`read`] answers only where the WHATWG parser would give the same scheme,
//! host and port (a property test below checks it against the `url` crate); any other
//! text (a backslash, percent-encoding, an IPv6 or shorthand IPv4 host,
//! punycode, empty labels, a non-http(s) scheme, white space) gets `None` and goes to
//! the parser, so what a policy sees never depends on which route was taken.

use std::net::Ipv4Addr;

/// What [`read`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plain<'t> {
    /// `http` or `https`.
    pub(crate) scheme: &'static str,
    /// The host as written: a domain name of ASCII letters, digits and `-` (not yet
    /// lower-cased), or a dotted-decimal IPv4 address.
    pub(crate) host: &'t str,
    /// The explicit port, or the scheme's default.
    pub(crate) port: u16,
}

/// The scheme, host and port of `text` when it is an `http` or `https` URL of the form
/// `scheme://[userinfo@]host[:port][/…|?…|#…]`, every byte printable ASCII, the userinfo
/// (if any) of letters, digits and `-._~!$&'()*+,;=:` (no `@`, `\`, `%`: the text up to
/// the one `@` is all userinfo, so `https://api.github.com@evil.com/` reaches `evil.com`),
/// the host a domain name that the parser keeps as it is but for case, or an IPv4 address
/// in dotted decimal.
pub(crate) fn read(text: &str) -> Option<Plain<'_>> {
    // Byte scans throughout: these texts are short, and `str`'s searchers cost more to set
    // up than to run on them.
    let bytes = text.as_bytes();
    if !bytes.iter().all(u8::is_ascii_graphic) {
        return None;
    }
    let (scheme, rest) = split_at_byte(text, |b| b == b':')?;
    let (scheme, default) = if scheme.eq_ignore_ascii_case("https") {
        ("https", 443)
    } else if scheme.eq_ignore_ascii_case("http") {
        ("http", 80)
    } else {
        return None;
    };
    let rest = rest.strip_prefix("//")?;
    let end = rest.bytes().position(|b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let mut authority = rest.get(..end)?;
    if let Some((userinfo, after)) = split_at_byte(authority, |b| b == b'@') {
        if !userinfo.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:".contains(&b)) {
            return None;
        }
        authority = after;
    }
    let (host, port) = split_at_byte(authority, |b| b == b':').unwrap_or((authority, ""));
    let port = match port {
        "" => default,
        // Up to five digits: longer ones (leading zeros) are left to the parser.
        digits if digits.len() <= 5 && digits.bytes().all(|b| b.is_ascii_digit()) => digits.parse().ok()?,
        _ => return None,
    };
    (plain_domain(host) || is_dotted_ipv4(host)).then_some(Plain { scheme, host, port })
}

/// `text` before and after the first byte that `at` picks (an ASCII one), if any.
fn split_at_byte(text: &str, at: impl Fn(u8) -> bool) -> Option<(&str, &str)> {
    let i = text.bytes().position(at)?;
    Some((text.get(..i)?, text.get(i + 1..)?))
}

/// Whether the parser keeps the host `text` as it is but for ASCII case: non-empty labels
/// of ASCII letters, digits and `-`, none in punycode (`xn--`, which it decodes and
/// checks), and a last label that does not start with a digit (which may make it an IPv4
/// address: `10.0.0.1`, `0x0a.1`).
pub(crate) fn plain_domain(text: &str) -> bool {
    // One pass over the bytes, each label judged at the `.` (or the end) that closes it.
    let bytes = text.as_bytes();
    let label_is_plain = |label: Option<&[u8]>| {
        label.is_some_and(|label| {
            !label.is_empty() && !label.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"xn--"))
        })
    };
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'.' {
            if !label_is_plain(bytes.get(start..i)) {
                return false;
            }
            start = i + 1;
        } else if !(b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
    }
    let last = bytes.get(start..);
    label_is_plain(last) && !last.and_then(<[u8]>::first).is_some_and(u8::is_ascii_digit)
}

/// Whether `text` is an IPv4 address written as the parser writes it back: four decimal
/// numbers of 0 to 255 without leading zeros (std's parser is that strict).
fn is_dotted_ipv4(text: &str) -> bool {
    text.parse::<Ipv4Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use proptest::prelude::*;
    use url::Url;

    use super::*;
    use crate::{Builtin, Called, Memo, Val, call};

    #[test]
    fn plain_urls_are_read_and_others_left_to_the_parser() {
        let plain = |scheme, host, port| Some(Plain { scheme, host, port });
        assert_eq!(read("HTTPS://API.GITHUB.COM/repos/x/y"), plain("https", "API.GITHUB.COM", 443));
        assert_eq!(read("https://ci.internal.example.com:8443/api"), plain("https", "ci.internal.example.com", 8443));
        assert_eq!(read("http://10.1.2.3/metrics"), plain("http", "10.1.2.3", 80));
        assert_eq!(read("http://x.example:/?q#f"), plain("http", "x.example", 80));
        assert_eq!(read("http://x.example#f"), plain("http", "x.example", 80));
        assert_eq!(read("https://api.github.com@evil.com/"), plain("https", "evil.com", 443));
        assert_eq!(read("https://u:p@10.0.0.1:8080/x"), plain("https", "10.0.0.1", 8080));
        assert_eq!(read("http://@x.example"), plain("http", "x.example", 80));
        for other in [
            "https://evil.com\\@api.github.com/",
            "https://a@b@evil.com/",
            "https://a%40b@evil.com/",
            "https://user@/",
            "https://user@:80/",
            "http://0x0a.1/",
            "http://010.0.0.1/",
            "http://2130706433/",
            "http://[::1]/",
            "https://xn--bcher-kva.de/",
            "https://BÜCHER.de/",
            "https://api.github.com./",
            "http://a..b/",
            "http://%31%30.0.0.1/",
            "http:example.com",
            "http:/example.com",
            "http://",
            "http://x:99999/",
            "http://x:000080/",
            "http://x:8o/",
            "ssh://git.example.com/",
            " https://x/",
            "https://x/a b",
            "mailto:ops@example.com",
        ] {
            assert_eq!(read(other), None, "{other}");
        }
    }

    /// URL-like text: the schemes, separators, userinfo, hosts, ports and rests that
    /// matter to a URL's authority, in any combination.
    fn url_like() -> impl Strategy<Value = String> {
        let scheme = prop_oneof!["https?", "HTTPS?", "hTtP", "ftp", "wss?", "file", "[a-z]{0,3}"];
        let separator = prop_oneof![Just("://"), Just(":/"), Just(":"), Just(":\\\\"), Just("://\\"), Just(":///")];
        let userinfo = prop_oneof![
            Just(String::new()),
            Just(String::new()),
            "[a-z]{1,3}@",
            "[a-z]{1,2}:[a-z0-9]{0,2}@",
            "[a-z.:!$;=%@\\/~'()*+,&_-]{0,5}@",
        ];
        let host = prop_oneof![
            "[a-zA-Z0-9-]{1,6}(\\.[a-zA-Z0-9-]{0,6}){0,3}",
            "[0-9]{1,4}(\\.[0-9]{1,4}){0,4}",
            "(0x|0X)[0-9a-f]{1,4}(\\.[0-9]{1,3}){0,3}",
            "(xn--|XN--)[a-z0-9-]{0,8}\\.com",
            "\\[[0-9a-f:.]{0,12}\\]",
            "[a-z%0-9._~!$&'()*+,;=éÄ \\t]{0,10}",
        ];
        let port = prop_oneof![Just(String::new()), Just(String::new()), ":[0-9]{0,7}", ":[a-z0-9]{1,3}"];
        let rest = prop_oneof![Just(String::new()), "[/?#\\\\][ -~]{0,10}", "[/?#][a-z@:./]{0,10}"];
        (scheme, separator, userinfo, host, port, rest)
            .prop_map(|(scheme, sep, user, host, port, rest)| format!("{scheme}{sep}{user}{host}{port}{rest}"))
    }

    proptest! {
        /// Where the plain reading answers, the URL parser gives the same scheme, host (but
        /// for case) and port.
        #[test]
        fn a_plain_reading_is_the_parsers(text in url_like()) {
            if let Some(plain) = read(&text) {
                let url = Url::parse(&text);
                prop_assert!(url.is_ok(), "{text}: read as {plain:?}, the parser fails: {url:?}");
                let Ok(url) = url else { return Ok(()) };
                prop_assert_eq!(url.scheme(), plain.scheme, "{}", text);
                prop_assert_eq!(url.host_str().map(str::to_owned), Some(plain.host.to_ascii_lowercase()), "{}", text);
                prop_assert_eq!(url.port_or_known_default(), Some(plain.port), "{}", text);
            }
        }

        /// Plain URLs are read (not left to the parser), as the parser reads them.
        #[test]
        fn plain_urls_are_read_as_the_parser_reads_them(
            scheme in "[hH][tT][tT][pP][sS]?",
            user in "([a-zA-Z0-9._~!$&'()*+,;=:-]{0,6}@)?",
            host in prop_oneof!["[a-zA-Z][a-zA-Z0-9-]{0,6}(\\.[a-zA-Z0-9-]{1,6}){0,3}\\.[a-zA-Z][a-z0-9]{0,3}", any::<u32>().prop_map(|ip| Ipv4Addr::from(ip).to_string())],
            port in proptest::option::of(any::<u16>()),
            rest in "([/?#][!-~]{0,12})?",
        ) {
            // A punycode label (`xn--`, which the generator can spell) is the parser's to
            // decode and check: not plain.
            prop_assume!(!host.split('.').any(|label| label.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("xn--"))));
            let port_text = port.map(|p| format!(":{p}")).unwrap_or_default();
            let text = format!("{scheme}://{user}{host}{port_text}{rest}");
            let plain = read(&text);
            prop_assert!(plain.is_some(), "{} is plain", text);
            let url = Url::parse(&text);
            prop_assert!(url.is_ok(), "{}: {:?}", text, url);
            if let (Some(plain), Ok(url)) = (plain, url) {
                prop_assert_eq!(url.scheme(), plain.scheme);
                prop_assert_eq!(url.host_str().map(str::to_owned), Some(plain.host.to_ascii_lowercase()));
                prop_assert_eq!(url.port_or_known_default(), Some(plain.port));
            }
        }

        /// Through one memo, as a session calls them, `url.*` answer as the parser's URL
        /// does (the straightforward implementation), whichever route the memo took, and
        /// for a second text after a first.
        #[test]
        fn the_url_built_ins_answer_as_the_parser_does(first in url_like(), second in url_like()) {
            let mut memo = Memo::default();
            for text in [&first, &second, &first] {
                let url = Url::parse(text).ok();
                let host = url.as_ref().and_then(Url::host_str).filter(|h| !h.is_empty()).map(str::to_ascii_lowercase);
                let expected = [
                    Some(Val::Bool(url.is_some())),
                    host.map(|h| Val::Str(Cow::Owned(h))),
                    url.as_ref().map(|u| Val::Str(Cow::Owned(u.scheme().to_owned()))),
                    url.as_ref().and_then(Url::port_or_known_default).map(|p| Val::Int(i64::from(p))),
                    url.as_ref().map(|u| Val::Str(Cow::Owned(u.path().to_owned()))),
                ];
                let builtins = [Builtin::UrlValid, Builtin::UrlHost, Builtin::UrlScheme, Builtin::UrlPort, Builtin::UrlPath];
                for (builtin, expected) in builtins.into_iter().zip(expected) {
                    let mut got = None;
                    let called = call(builtin, &[Val::Str(Cow::Borrowed(text))], None, &mut memo, &mut |v| got = Some(v.into_owned()));
                    if let Ok(Called::Test(held)) = called {
                        got = Some(Val::Bool(held));
                    }
                    prop_assert_eq!(got, expected, "{} of {}", builtin.name(), text);
                }
            }
        }

        #[test]
        fn arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = read(&text);
        }
    }
}
