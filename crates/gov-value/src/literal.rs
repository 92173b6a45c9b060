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

/// Parses a `Time` literal into nanoseconds since the Unix epoch: exactly
/// `YYYY-MM-DD`, `T`, `HH:MM:SS`, an optional `.` and fraction digits, and `Z` or
/// `±HH:MM` (`T` and `Z` may be lower case). This is the RFC 3339 profile the reference
/// documents, narrower than what RFC 3339 parsers accept: no space for `T`, no leap second
/// (`:60`), no fraction finer than a nanosecond (zeros after the ninth digit are exact, so
/// they are accepted). Errors say what is wrong in words fit for a diagnostic.
pub fn parse_time(text: &str) -> Result<i64, String> {
    time_shape(text.as_bytes()).map_err(|what| format!("`{text}` is not a time: {what}"))?;
    let at = OffsetDateTime::parse(text, &Rfc3339).map_err(|e| format!("`{text}` is not a valid time: {e}"))?;
    i64::try_from(at.unix_timestamp_nanos())
        .map_err(|_| format!("`{text}` is outside the supported time range (years 1678 to 2261)"))
}

/// Checks the characters of a time literal, leaving the calendar (days in a month, offset
/// ranges) to the RFC 3339 parser that computes the value.
fn time_shape(bytes: &[u8]) -> Result<(), &'static str> {
    const EXPECTED: &str = "expected `YYYY-MM-DDTHH:MM:SS`, an optional fraction, and `Z` or `±HH:MM`";
    // `d` a digit; any other byte must be itself (`T` and `t` both match `T`).
    const PATTERN: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let (head, mut rest) = bytes.split_at_checked(PATTERN.len()).ok_or(EXPECTED)?;
    for (&b, &p) in head.iter().zip(PATTERN) {
        let fits = match p {
            b'd' => b.is_ascii_digit(),
            b'T' => b == b'T' || b == b't',
            _ => b == p,
        };
        if !fits {
            return Err(EXPECTED);
        }
    }
    if head.get(17..19) == Some(b"60") {
        return Err("leap seconds (`:60`) are not accepted");
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 {
            return Err(EXPECTED);
        }
        // A time holds whole nanoseconds and a literal is never rounded (the RFC 3339
        // parser would drop digits after the ninth): only zeros may follow the ninth.
        if fraction.get(9..digits).is_some_and(|finer| finer.iter().any(|&b| b != b'0')) {
            return Err("the fraction is finer than a nanosecond (digits after the ninth must be zeros)");
        }
        rest = fraction.get(digits..).unwrap_or_default();
    }
    let offset_ok = match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|b| b.is_ascii_digit()),
        _ => false,
    };
    if offset_ok { Ok(()) } else { Err(EXPECTED) }
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

/// Checks the characters of an `Int` (`fraction` false) or `Decimal` (`fraction` true)
/// literal: an optional `-`, then `0` or digits not starting with `0`, and for a
/// `Decimal` optionally `.` and one or more digits. No `+`, no digit separators, no
/// exponent, no leading zeros: the syntax of a JSON number without exponent.
fn number_shape(text: &str, fraction: bool) -> Result<(), String> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let whole = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    let rest = unsigned.get(whole..).unwrap_or_default();
    let rest = match rest.strip_prefix('.') {
        Some(digits) if fraction && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => "",
        _ => rest,
    };
    let (what, form) = if fraction {
        ("decimal", "digits with an optional `-` and an optional `.` and digits, as in `12.50`")
    } else {
        ("integer", "digits with an optional `-`, as in `-42`")
    };
    if whole == 0 || !rest.is_empty() {
        return Err(format!("`{text}` is not a valid {what}: expected {form}"));
    }
    if whole > 1 && unsigned.starts_with('0') {
        return Err(format!("`{text}` is not a valid {what}: leading zeros are not allowed"));
    }
    Ok(())
}

/// Parses an `Int` literal such as `42` or `-7` (see [`number_shape`]) into a signed
/// 64-bit integer.
pub fn parse_int(text: &str) -> Result<i64, String> {
    number_shape(text, false)?;
    text.parse().map_err(|_| format!("integer `{text}` does not fit in 64 bits"))
}

/// Parses an exact `Decimal` such as `12.50`, `-0.001` or `7` (see [`number_shape`]).
/// A value that a Decimal cannot hold exactly (more than 28 digits after the point, even
/// zeros, or digits that read as one integer exceed 96 bits) is an error, never rounded.
pub fn parse_decimal(text: &str) -> Result<Decimal, String> {
    number_shape(text, true)?;
    Decimal::from_str_exact(text).map_err(|_| {
        format!(
            "decimal `{text}` cannot be held exactly: a Decimal has at most 28 digits after the point, and its \
             digits read as one integer are at most 79228162514264337593543950335"
        )
    })
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

    /// The documented forms of a time literal (docs/reference.md, Literals).
    #[test]
    fn documented_times_are_accepted() {
        let nine = 1_769_850_000 * NANOS_PER_S;
        for (text, nanos) in [
            ("2026-01-31T09:00:00Z", nine),
            ("2026-01-31t09:00:00z", nine),
            ("2026-01-31T10:00:00+01:00", nine),
            ("2026-01-31T08:00:00-01:00", nine),
            ("2026-01-31T10:00:00.5+01:00", nine + 500 * NANOS_PER_MS),
            ("2026-01-31T09:00:00.000000001Z", nine + 1),
            ("2026-01-31T09:00:00.123456789Z", nine + 123_456_789),
            // Zeros after the ninth digit do not change the instant, so it is held exactly.
            ("2026-01-31T09:00:00.0000000010Z", nine + 1),
            ("2026-01-31T09:00:00.5000000000000Z", nine + 500 * NANOS_PER_MS),
        ] {
            assert_eq!(parse_time(text), Ok(nanos), "{text}");
        }
        let long = format!("2026-01-31T09:00:00.000000001{}Z", "0".repeat(10_000));
        assert_eq!(parse_time(&long), Ok(nine + 1));
    }

    /// A time holds whole nanoseconds and a literal is never rounded: a fraction finer
    /// than that is refused, not truncated (`.0000000019` used to read as 1 ns).
    #[test]
    fn a_fraction_finer_than_a_nanosecond_is_refused() {
        for text in [
            "2026-01-31T09:00:00.0000000019Z",
            "2026-01-31T09:00:00.0000000001Z",
            "2026-01-31T09:00:00.9999999999Z",
            "2026-01-31T09:00:00.12345678900000000001+01:00",
        ] {
            assert_eq!(
                parse_time(text),
                Err(format!(
                    "`{text}` is not a time: the fraction is finer than a nanosecond (digits after the ninth must be zeros)"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn other_time_forms_are_rejected() {
        for text in [
            "2026-03-03 15:10:00Z",
            "2026-12-31T23:59:60Z",
            "2026-01-31T09:00Z",
            "2026-01-31T09:00:00",
            "2026-01-31T09:00:00.Z",
            "2026-01-31T09:00:00+0100",
            "2026-01-31T09:00:00+01",
            "2026-1-31T09:00:00Z",
            "+2026-01-31T09:00:00Z",
            "2026-01-31T09:00:00Z ",
            " 2026-01-31T09:00:00Z",
            "2026-01-31",
            "2026-02-30T00:00:00Z",
            "2026-01-31T24:00:00Z",
            "2026-01-31T09:00:00+24:00",
            "",
        ] {
            assert!(parse_time(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_time("2026-12-31T23:59:60Z"),
            Err("`2026-12-31T23:59:60Z` is not a time: leap seconds (`:60`) are not accepted".to_owned())
        );
    }

    #[test]
    fn documented_numbers_are_accepted() {
        for (text, value) in [("0", 0), ("42", 42), ("-3", -3), ("-0", 0), ("-9223372036854775808", i64::MIN)] {
            assert_eq!(parse_int(text), Ok(value), "{text}");
        }
        for (text, value) in [
            ("12.50", "12.50"),
            ("-0.001", "-0.001"),
            ("3.0", "3.0"),
            ("7", "7"),
            ("0.5", "0.5"),
            ("20000.0000000000001", "20000.0000000000001"),
            ("0.0000000000000000000000000001", "0.0000000000000000000000000001"),
            ("79228162514264337593543950335", "79228162514264337593543950335"),
        ] {
            assert_eq!(parse_decimal(text).map(|d| d.to_string()), Ok(value.to_owned()), "{text}");
        }
    }

    #[test]
    fn other_number_forms_are_rejected() {
        for text in [
            "1_200", "+1200", ".5", "5.", "1._5", "1__", "00", "007", "-01", "1e3", "1E3", "0x10", " 1", "1 ", "", "-",
            "--1", "1.2.3", "Infinity", "NaN", "1.5", "٣",
        ] {
            assert!(parse_int(text).is_err(), "Int {text}");
            if text != "1.5" {
                assert!(parse_decimal(text).is_err(), "Decimal {text}");
            }
        }
        assert_eq!(parse_decimal("00"), Err("`00` is not a valid decimal: leading zeros are not allowed".to_owned()));
        assert_eq!(
            parse_int("9223372036854775808"),
            Err("integer `9223372036854775808` does not fit in 64 bits".to_owned())
        );
    }

    /// docs/reference.md: more than 28 digits after the point is an error, not a rounding.
    #[test]
    fn decimals_that_cannot_be_held_exactly_are_errors() {
        for text in [
            "0.00000000000000000000000000001",
            "1.00000000000000000000000000000",
            "12345.1234567890123456789012345678",
            "79228162514264337593543950336",
        ] {
            let error = parse_decimal(text).unwrap_err();
            assert!(error.contains("cannot be held exactly"), "{text}: {error}");
        }
    }

    proptest::proptest! {
        #[test]
        fn duration_format_parses_back(nanos in (i64::MIN / 2)..(i64::MAX / 2)) {
            let ms = nanos / NANOS_PER_MS * NANOS_PER_MS;
            proptest::prop_assert_eq!(parse_duration(&format_duration(ms)), Ok(ms));
        }
    }
}
