//! What one call parsed, kept for the next: the last URL, so that `url.host(u)` and
//! `url.scheme(u)` on one request read `u` once, and the last instant's local time, so
//! that `time.weekday(t, zone)` and `time.hour(t, zone)` convert `t` once.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use url::Url;

use crate::plain_url;

/// What calls of built-ins parsed, kept for the calls after them: one per session of the
/// engine (it is not shared between threads), or a fresh one per call.
///
/// Invariant: an entry is keyed by the whole text it parsed and used only for that text,
/// so a memo never changes what a call yields; forgetting it ([`Memo::clear`]) only costs
/// the next call a parse.
#[derive(Debug, Default)]
pub struct Memo {
    /// The text `url.*` parsed last (its buffer kept when cleared).
    url_text: String,
    /// What it parsed to: `None` when nothing is remembered, `Some(None)` when the text is
    /// not a URL.
    url: Option<Option<Url>>,
    /// Whether its scheme, host and port below were read: `None` when not yet, `Some(false)`
    /// when the text is not a URL (the buffers kept when cleared).
    head: Option<bool>,
    /// The scheme of `head`.
    scheme: String,
    /// The host of `head`, lower-cased; empty for a URL without one.
    host: String,
    /// The port of `head`: explicit or the scheme's default.
    port: Option<u16>,
    /// The IANA name of the zone `time.*` used last (its buffer kept when cleared).
    zone: String,
    /// The instant converted last, in that zone, and its local date and time.
    local: Option<(i64, DateTime)>,
}

impl Memo {
    /// Forgets what was parsed (an engine does before each decision, so a decision's cost
    /// does not depend on the one before).
    pub fn clear(&mut self) {
        self.url = None;
        self.head = None;
        self.local = None;
    }

    /// Makes `text` the remembered URL text, forgetting what was read of another.
    fn remember(&mut self, text: &str) {
        if (self.url.is_some() || self.head.is_some()) && self.url_text == text {
            return;
        }
        self.url_text.clear();
        self.url_text.push_str(text);
        self.url = None;
        self.head = None;
    }

    /// `text` parsed as an absolute URL by the WHATWG rules, or `None`.
    pub(crate) fn url(&mut self, text: &str) -> Option<&Url> {
        self.remember(text);
        self.url.get_or_insert_with(|| Url::parse(text).ok()).as_ref()
    }

    /// The scheme, host (lower-cased, `None` for a URL without one) and port (explicit or
    /// the scheme's default, `None` for a scheme without one) of `text` as an absolute URL
    /// by the WHATWG rules, or `None` when it is not one: read without the parser when the
    /// URL is plain ([`plain_url`]), else from its parse.
    pub(crate) fn head(&mut self, text: &str) -> Option<(&str, Option<&str>, Option<u16>)> {
        self.remember(text);
        if self.head.is_none() {
            let (scheme, host, port) = (&mut self.scheme, &mut self.host, &mut self.port);
            scheme.clear();
            host.clear();
            let found = match plain_url::read(text) {
                Some(plain) => {
                    scheme.push_str(plain.scheme);
                    host.push_str(plain.host);
                    host.make_ascii_lowercase();
                    *port = Some(plain.port);
                    true
                }
                None => self
                    .url
                    .get_or_insert_with(|| Url::parse(text).ok())
                    .as_ref()
                    .map(|url| {
                        scheme.push_str(url.scheme());
                        // The standard lower-cases the hosts of http(s), ws(s), ftp and file
                        // URLs; other schemes keep an opaque host as written, lower-cased here
                        // so one comparison fits all.
                        host.push_str(url.host_str().unwrap_or_default());
                        host.make_ascii_lowercase();
                        *port = url.port_or_known_default();
                    })
                    .is_some(),
            };
            self.head = Some(found);
        }
        if self.head != Some(true) {
            return None;
        }
        Some((&self.scheme, Some(self.host.as_str()).filter(|host| !host.is_empty()), self.port))
    }

    /// The local date and time of the instant `nanos` in `zone`: `convert`'s, remembered by
    /// the instant and the zone's IANA name (a zone without one is converted each time).
    pub(crate) fn local(&mut self, nanos: i64, zone: &TimeZone, convert: impl FnOnce() -> DateTime) -> DateTime {
        let Some(name) = zone.iana_name() else { return convert() };
        match self.local {
            Some((at, local)) if at == nanos && self.zone == name => local,
            _ => {
                let local = convert();
                self.zone.clear();
                self.zone.push_str(name);
                self.local = Some((nanos, local));
                local
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_parsed_again_only_for_another_text() {
        let mut memo = Memo::default();
        assert_eq!(memo.url("https://a.example/").and_then(Url::host_str), Some("a.example"));
        assert_eq!(memo.url("https://b.example/").and_then(Url::host_str), Some("b.example"));
        assert_eq!(memo.url("not a url"), None);
        memo.clear();
        assert_eq!(memo.url(""), None, "a cleared memo remembers no text, not even the empty one");
        assert_eq!(memo.url("https://b.example/").and_then(Url::host_str), Some("b.example"));
    }

    #[test]
    fn a_local_time_is_converted_again_for_another_instant_or_zone() {
        let mut memo = Memo::default();
        let zone = |name: &str| jiff::tz::db().get(name).unwrap_or(TimeZone::UTC);
        let (paris, tokyo) = (zone("Europe/Paris"), zone("Asia/Tokyo"));
        let noon = jiff::civil::date(2026, 3, 3).at(12, 0, 0, 0);
        let mut converted = 0;
        let mut local = |memo: &mut Memo, nanos: i64, zone: &TimeZone| {
            memo.local(nanos, zone, || {
                converted += 1;
                noon
            })
        };
        local(&mut memo, 1, &paris);
        local(&mut memo, 1, &paris);
        local(&mut memo, 2, &paris);
        local(&mut memo, 2, &tokyo);
        memo.clear();
        local(&mut memo, 2, &tokyo);
        assert_eq!(converted, 4);
    }
}
