//! Parsing and printing of literal forms that are not plain integers or strings.

use rust_decimal::Decimal;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const NANOS_PER_MS: i64 = 1_000_000;
const NANOS_PER_S: i64 = 1_000 * NANOS_PER_MS;
const NANOS_PER_M: i64 = 60 * NANOS_PER_S;
const NANOS_PER_H: i64 = 60 * NANOS_PER_M;
const NANOS_PER_D: i64 = 24 * NANOS_PER_H;

/// Duration units, longest suffix first so that `ms` is not read as `m`.
const UNITS: [(&str, i64); 6] =
    [("ms", NANOS_PER_MS), ("ns", 1), ("d", NANOS_PER_D), ("h", NANOS_PER_H), ("m", NANOS_PER_M), ("s", NANOS_PER_S)];

/// Parses an RFC 3339 timestamp (`2026-01-31T09:00:00Z`) into nanoseconds since the Unix
/// epoch. Errors say what is wrong in words fit for a diagnostic.
pub fn parse_time(text: &str) -> Result<i64, String> {
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("`{text}` is not an RFC 3339 time: {e}"))?;
    i64::try_from(at.unix_timestamp_nanos())
        .map_err(|_| format!("`{text}` is outside the supported time range (years 1678 to 2261)"))
}

/// Formats nanoseconds since the Unix epoch as an RFC 3339 timestamp in UTC.
pub fn format_time(nanos: i64) -> String {
    match OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos)).ok().and_then(|t| t.format(&Rfc3339).ok()) {
        Some(text) => text,
        // Every i64 of nanoseconds lies within time's supported range, so this arm is only
        // reached if that crate narrows its range; print the raw value rather than fail.
        None => format!("@{nanos}ns"),
    }
}

/// Parses a duration such as `15m`, `2h`, `1h30m`, `500ms` or `7d` into nanoseconds.
/// A leading `-` is accepted for negative durations.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let (negative, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if rest.is_empty() {
        return Err(format!("`{text}` is not a duration: expected digits and a unit"));
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // PANIC SAFETY: `digits` counts ASCII bytes from the start, so it is a char boundary.
        let (number, after) = rest.split_at(digits);
        if number.is_empty() {
            return Err(format!("`{text}` is not a duration: expected digits before `{after}`"));
        }
        let Some((scale, tail)) =
            UNITS.iter().find_map(|(unit, scale)| after.strip_prefix(unit).map(|tail| (*scale, tail)))
        else {
            return Err(format!("`{text}` is not a duration: expected a unit (ns, ms, s, m, h, d) after `{number}`"));
        };
        let value: i64 = number.parse().map_err(|_| format!("`{text}` is too large for a duration"))?;
        total = value
            .checked_mul(scale)
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| format!("`{text}` is too large for a duration"))?;
        rest = tail;
    }
    Ok(if negative { -total } else { total })
}

/// Formats nanoseconds as the canonical duration literal (`1h30m`, `0s`, `-15m`).
pub fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    if nanos < 0 {
        out.push('-');
    }
    let mut rest = nanos.unsigned_abs();
    for (unit, scale) in
        [("d", NANOS_PER_D), ("h", NANOS_PER_H), ("m", NANOS_PER_M), ("s", NANOS_PER_S), ("ms", NANOS_PER_MS)]
    {
        let scale = scale.unsigned_abs();
        if rest >= scale {
            out.push_str(&format!("{}{unit}", rest / scale));
            rest %= scale;
        }
    }
    if rest > 0 {
        out.push_str(&format!("{rest}ns"));
    }
    out
}

/// Parses an exact decimal such as `12.50` or `-0.001`.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(text).map_err(|e| format!("`{text}` is not an exact decimal: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        for (text, nanos) in [
            ("15m", 15 * NANOS_PER_M),
            ("1h30m", 90 * NANOS_PER_M),
            ("500ms", 500 * NANOS_PER_MS),
            ("2d", 2 * NANOS_PER_D),
            ("-15m", -15 * NANOS_PER_M),
        ] {
            assert_eq!(parse_duration(text), Ok(nanos), "{text}");
            assert_eq!(format_duration(nanos), text);
        }
    }

    #[test]
    fn bad_durations_are_errors() {
        for text in ["", "-", "15", "m", "15x", "99999999999999999999h", "9999999999999d"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
    }

    #[test]
    fn times_round_trip() {
        let nanos = parse_time("2026-11-28T09:30:00Z");
        assert_eq!(nanos, Ok(1_795_858_200 * NANOS_PER_S));
        assert_eq!(format_time(1_795_858_200 * NANOS_PER_S), "2026-11-28T09:30:00Z");
        assert_eq!(parse_time("2026-11-28T10:30:00+01:00"), nanos);
        assert!(parse_time("2026-13-01T00:00:00Z").is_err());
        assert!(parse_time("9999-01-01T00:00:00Z").is_err());
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("0.1").map(|d| d.to_string()), Ok("0.1".to_owned()));
        assert!(parse_decimal("1.2.3").is_err());
    }

    proptest::proptest! {
        #[test]
        fn duration_format_parses_back(nanos in (i64::MIN / 2)..(i64::MAX / 2)) {
            let ms = nanos / NANOS_PER_MS * NANOS_PER_MS;
            proptest::prop_assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }
}
