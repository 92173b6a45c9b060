//! The calendar family: `time.day`, `time.hour` and `time.weekday` in a named IANA time
//! zone, on the `jiff` crate.
//!
//! Why `jiff`: it implements the IANA rules (DST gaps and folds included) and bundles the
//! tz database in the binary (`tzdb-bundle-always`), so a decision depends on the policy
//! and the request only, never on the machine's `/usr/share/zoneinfo`, and the same bundle
//! decides the same way on every host. `chrono-tz` would do too but comes with a second
//! date library; `time` has no IANA zones.
//!
//! A zone is an IANA name (`Europe/Paris`, `America/New_York`, `UTC`); a constant one is
//! looked up once when the program loads, and an unknown constant zone is a check-time
//! error; a zone from data is looked up per call and an unknown one yields nothing.

use std::borrow::Cow;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

use crate::prepared::PreparedKind;
use crate::{Memo, Val};

/// Nanoseconds in a second.
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// A constant time zone, prepared for many conversions: the zone and, made when the
/// program loads (once per process for each zone name, [`crate::tables`]), the table of its offsets over every instant a `Time` can hold, so a conversion
/// is a binary search and an addition rather than the zone's rules evaluated anew (jiff's
/// bundled zones describe every year after their last listed change by a POSIX rule,
/// which it works out per call: ~1 000 instructions for a date in Paris this century).
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    /// The zone, as jiff reads it.
    tz: TimeZone,
    /// When each offset starts (a whole second since the epoch) and the offset, ordered by
    /// start (the checker, which only looks the zone up, never makes it).
    ///
    /// Invariant: the first entry starts at `i64::MIN`, and every change of the zone's
    /// offset up to the last instant a `Time` holds is an entry, so the entry starting at
    /// or last before an instant's second holds its offset.
    offsets: Box<[(i64, Offset)]>,
}

impl Zone {
    /// The local date and time of `instant` (`nanos` since the epoch) in this zone, as
    /// `TimeZone::to_datetime` gives it.
    fn to_datetime(&self, nanos: i64, instant: Timestamp) -> DateTime {
        let offsets = &self.offsets;
        // The second the instant is in (rounded down: jiff's `as_second` rounds toward 0).
        let second = nanos.div_euclid(NANOS_PER_SECOND);
        // The entry at `i64::MIN` comes first (the invariant), so there is an entry.
        let at = offsets.partition_point(|(start, _)| *start <= second).saturating_sub(1);
        match offsets.get(at) {
            Some((_, offset)) => offset.to_datetime(instant),
            None => self.tz.to_datetime(instant),
        }
    }
}

/// Every offset of `tz` and when it starts, from the first instant a `Time` holds to the
/// last (see [`Zone::offsets`]).
fn offsets(tz: &TimeZone) -> Box<[(i64, Offset)]> {
    let first = Timestamp::from_nanosecond(i128::from(i64::MIN)).unwrap_or(Timestamp::MIN);
    let last = Timestamp::from_nanosecond(i128::from(i64::MAX)).unwrap_or(Timestamp::MAX);
    let mut offsets = vec![(i64::MIN, tz.to_offset(first))];
    offsets.extend(
        tz.following(first)
            .take_while(|change| change.timestamp() <= last)
            .map(|change| (change.timestamp().as_second(), change.offset())),
    );
    offsets.into_boxed_slice()
}

/// Looks a time zone up by its IANA name in the bundled database.
pub(crate) fn time_zone(name: &Val<'_>) -> Result<TimeZone, String> {
    let Val::Str(name) = name else { return Err("a time zone is a Str".to_owned()) };
    jiff::tz::db()
        .get(name)
        .map_err(|_| format!("unknown time zone `{name}`: expected an IANA name such as `Europe/Paris` or `UTC`"))
}

/// The zones this process has prepared, by their IANA name.
static ZONES: crate::tables::Kept<Zone> = crate::tables::Kept::new();

/// Looks a constant time zone up by its IANA name, with its table of offsets (made now,
/// or already made by an earlier load naming the same zone), for [`crate::prepare`].
pub(crate) fn zone(name: &Val<'_>) -> Result<Arc<Zone>, String> {
    let Val::Str(text) = name else { return Err("a time zone is a Str".to_owned()) };
    ZONES.get_or_make(text, || time_zone(name).map(|tz| Zone { offsets: offsets(&tz), tz }))
}

/// The local date and time of the call's instant in the call's zone: the prepared one's
/// table, or a zone from data looked up and converted by jiff.
fn local(args: &[Val<'_>], prepared: Option<&PreparedKind>, memo: &mut Memo) -> Option<DateTime> {
    let Some(Val::Time(nanos)) = args.first() else { return None };
    // Every i64 of nanoseconds (years 1677 to 2262) is within jiff's range.
    let instant = Timestamp::from_nanosecond(i128::from(*nanos)).ok()?;
    match prepared {
        Some(PreparedKind::Zone(zone)) => Some(memo.local(*nanos, &zone.tz, || zone.to_datetime(*nanos, instant))),
        _ => {
            let tz = time_zone(args.get(1)?).ok()?;
            Some(memo.local(*nanos, &tz, || tz.to_datetime(instant)))
        }
    }
}

/// `time.day(t, zone)`: the local calendar day as `YYYY-MM-DD`.
///
/// A `Str`, not a `Time` at local midnight: a day is a date, not an instant (in some
/// zones some days have no midnight); a date compares directly with the dates a data file
/// holds (`"2026-12-25"`); and as text it orders chronologically.
pub(crate) fn day(args: &[Val<'_>], prepared: Option<&PreparedKind>, memo: &mut Memo, each: &mut dyn FnMut(Val<'_>)) {
    let Some(date) = local(args, prepared, memo).map(|at| at.date()) else { return };
    let mut buffer = [0u8; 10];
    match iso_date(date, &mut buffer) {
        Some(text) => each(Val::Str(Cow::Borrowed(text))),
        None => each(Val::Str(Cow::Owned(date.to_string()))),
    }
}

/// `date` as `YYYY-MM-DD` in `buffer`, as its `Display` writes it, for the years 0 to 9999
/// (every `Time`: an i64 of nanoseconds spans 1677 to 2262); `None` for others.
fn iso_date(date: jiff::civil::Date, buffer: &mut [u8; 10]) -> Option<&str> {
    let (year, month, day) = (u16::try_from(date.year()).ok()?, date.month().unsigned_abs(), date.day().unsigned_abs());
    if year > 9999 {
        return None;
    }
    let digit = |n: u16| b'0' + u8::try_from(n % 10).unwrap_or(0);
    *buffer = [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(u16::from(month) / 10),
        digit(u16::from(month)),
        b'-',
        digit(u16::from(day) / 10),
        digit(u16::from(day)),
    ];
    std::str::from_utf8(buffer).ok()
}

/// `time.hour(t, zone)`: the local hour, 0 to 23.
pub(crate) fn hour(args: &[Val<'_>], prepared: Option<&PreparedKind>, memo: &mut Memo) -> Option<Val<'static>> {
    local(args, prepared, memo).map(|at| Val::Int(i64::from(at.hour())))
}

/// `time.weekday(t, zone)`: the local ISO 8601 weekday, 1 (Monday) to 7 (Sunday), so
/// working days are `time.weekday(t, zone) <= 5`.
pub(crate) fn weekday(args: &[Val<'_>], prepared: Option<&PreparedKind>, memo: &mut Memo) -> Option<Val<'static>> {
    local(args, prepared, memo).map(|at| Val::Int(i64::from(at.weekday().to_monday_one_offset())))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Prepared, Yield, eval, prepare};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn at(text: &str) -> Val<'static> {
        Val::Time(gov_value::parse_time(text).unwrap_or(i64::MIN))
    }

    fn paris() -> Prepared {
        match prepare(Builtin::TimeDay, &[None, Some(s("Europe/Paris"))]) {
            Ok(Some(prepared)) => prepared,
            other => unreachable!("Europe/Paris is bundled: {other:?}"),
        }
    }

    /// The built-in at `time` in Paris, with the zone prepared and per call (which agree).
    fn in_paris(builtin: Builtin, time: &str) -> Option<Val<'static>> {
        let args = [at(time), s("Europe/Paris")];
        let once = eval(builtin, &args, Some(&paris()));
        assert_eq!(once, eval(builtin, &args, None));
        match once {
            Ok(Yield::One(Some(Val::Str(text)))) => Some(Val::Str(Cow::Owned(text.into_owned()))),
            Ok(Yield::One(Some(Val::Int(i)))) => Some(Val::Int(i)),
            _ => None,
        }
    }

    #[test]
    fn day_hour_and_weekday_across_the_spring_transition() {
        // 2026-03-29, last Sunday of March: 02:00 CET becomes 03:00 CEST (01:00Z).
        assert_eq!(in_paris(Builtin::TimeHour, "2026-03-29T00:59:59Z"), Some(Val::Int(1)));
        assert_eq!(in_paris(Builtin::TimeHour, "2026-03-29T01:00:00Z"), Some(Val::Int(3)));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-03-28T22:59:59Z"), Some(s("2026-03-28")));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-03-28T23:00:00Z"), Some(s("2026-03-29")));
        // The day after starts at 22:00Z, an hour earlier in UTC than the day before did.
        assert_eq!(in_paris(Builtin::TimeDay, "2026-03-29T21:59:59Z"), Some(s("2026-03-29")));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-03-29T22:00:00Z"), Some(s("2026-03-30")));
        assert_eq!(in_paris(Builtin::TimeWeekday, "2026-03-29T12:00:00Z"), Some(Val::Int(7)));
        assert_eq!(in_paris(Builtin::TimeWeekday, "2026-03-29T22:00:00Z"), Some(Val::Int(1)));
    }

    #[test]
    fn day_hour_and_weekday_across_the_autumn_transition() {
        // 2026-10-25, last Sunday of October: 03:00 CEST becomes 02:00 CET (01:00Z), so
        // the local hour 2 happens twice and the day lasts 25 hours.
        assert_eq!(in_paris(Builtin::TimeHour, "2026-10-25T00:30:00Z"), Some(Val::Int(2)));
        assert_eq!(in_paris(Builtin::TimeHour, "2026-10-25T01:30:00Z"), Some(Val::Int(2)));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-10-24T21:59:59Z"), Some(s("2026-10-24")));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-10-24T22:00:00Z"), Some(s("2026-10-25")));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-10-25T22:59:59Z"), Some(s("2026-10-25")));
        assert_eq!(in_paris(Builtin::TimeDay, "2026-10-25T23:00:00Z"), Some(s("2026-10-26")));
        assert_eq!(in_paris(Builtin::TimeWeekday, "2026-10-25T22:59:59Z"), Some(Val::Int(7)));
    }

    #[test]
    fn working_hours_in_paris() {
        // Monday 2026-06-01: 09:00 CEST is 07:00Z, 17:00 CEST is 15:00Z.
        assert_eq!(in_paris(Builtin::TimeHour, "2026-06-01T06:59:59Z"), Some(Val::Int(8)));
        assert_eq!(in_paris(Builtin::TimeHour, "2026-06-01T07:00:00Z"), Some(Val::Int(9)));
        assert_eq!(in_paris(Builtin::TimeHour, "2026-06-01T15:00:00Z"), Some(Val::Int(17)));
        assert_eq!(in_paris(Builtin::TimeWeekday, "2026-06-01T07:00:00Z"), Some(Val::Int(1)));
        // In winter (CET) the same local hours are an hour later in UTC.
        assert_eq!(in_paris(Builtin::TimeHour, "2026-12-01T08:00:00Z"), Some(Val::Int(9)));
    }

    #[test]
    fn other_zones_and_the_range_ends() {
        let utc = eval(Builtin::TimeDay, &[at("2026-03-29T23:30:00Z"), s("UTC")], None);
        assert_eq!(utc, Ok(Yield::One(Some(s("2026-03-29")))));
        let tokyo = eval(Builtin::TimeDay, &[at("2026-03-29T23:30:00Z"), s("Asia/Tokyo")], None);
        assert_eq!(tokyo, Ok(Yield::One(Some(s("2026-03-30")))));
        let kolkata = eval(Builtin::TimeHour, &[at("2026-01-01T00:00:00Z"), s("Asia/Kolkata")], None);
        assert_eq!(kolkata, Ok(Yield::One(Some(Val::Int(5)))));
        let first = eval(Builtin::TimeDay, &[Val::Time(i64::MIN), s("UTC")], None);
        assert_eq!(first, Ok(Yield::One(Some(s("1677-09-21")))));
        let last = eval(Builtin::TimeDay, &[Val::Time(i64::MAX), s("Pacific/Kiritimati")], None);
        assert_eq!(last, Ok(Yield::One(Some(s("2262-04-12")))));
    }

    #[test]
    fn an_unknown_zone_is_a_prepare_error_and_yields_nothing_per_call() {
        for name in ["Europe/Pariss", "CET+1", "", "/etc/passwd", "../../etc/localtime"] {
            let error = prepare(Builtin::TimeHour, &[None, Some(s(name))]);
            assert!(matches!(&error, Err(e) if e.param == 1 && e.message.contains("unknown time zone")), "{error:?}");
            let call = eval(Builtin::TimeHour, &[at("2026-01-01T00:00:00Z"), s(name)], None);
            assert_eq!(call, Ok(Yield::One(None)));
        }
        assert!(matches!(prepare(Builtin::TimeWeekday, &[None, None]), Ok(None)));
    }

    /// Around each change of offset from 1900 to 2100 (a nanosecond before, at and after
    /// it), the prepared zone's table converts as jiff's rules do, before 1970 too (where
    /// an instant's second is rounded down, not toward zero).
    #[test]
    fn the_offset_table_agrees_at_every_change() {
        for name in ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "UTC"] {
            let Ok(zone) = zone(&s(name)) else { unreachable!("{name} is bundled") };
            // 1900-01-01T00:00:00Z and 2100-01-01T00:00:00Z.
            let (from, to) = (Timestamp::from_second(-2_208_988_800), Timestamp::from_second(4_102_444_800));
            let (Ok(from), Ok(to)) = (from, to) else { unreachable!("in range") };
            let mut changes = 0;
            for change in zone.tz.following(from).take_while(|c| c.timestamp() < to) {
                let at = i64::try_from(change.timestamp().as_nanosecond()).unwrap_or(0);
                for nanos in [at - 1, at, at + 1, at - NANOS_PER_SECOND / 2] {
                    let Ok(instant) = Timestamp::from_nanosecond(i128::from(nanos)) else { continue };
                    assert_eq!(zone.to_datetime(nanos, instant), zone.tz.to_datetime(instant), "{name} at {nanos}");
                }
                changes += 1;
            }
            assert!(changes > 0 || name == "UTC", "{name} has changes");
        }
    }

    proptest! {
        #[test]
        fn any_instant_in_any_zone_text_never_panics(nanos: i64, zone in ".{0,24}") {
            for builtin in [Builtin::TimeDay, Builtin::TimeHour, Builtin::TimeWeekday] {
                let _ = eval(builtin, &[Val::Time(nanos), s(&zone)], None);
            }
        }

        #[test]
        fn fields_are_in_range_and_agree_with_utc(nanos: i64) {
            // An independent UTC calendar: gov-value's formatter, on the `time` crate.
            let utc = |builtin| eval(builtin, &[Val::Time(nanos), s("UTC")], None);
            let text = gov_value::format_time(nanos);
            let (date, hour) = (text.get(..10).unwrap_or_default(), text.get(11..13).and_then(|h| h.parse().ok()));
            prop_assert_eq!(utc(Builtin::TimeDay), Ok(Yield::One(Some(s(date)))));
            prop_assert_eq!(utc(Builtin::TimeHour), Ok(Yield::One(hour.map(Val::Int))));
            let weekday = eval(Builtin::TimeWeekday, &[Val::Time(nanos), s("Europe/Paris")], None);
            prop_assert!(matches!(weekday, Ok(Yield::One(Some(Val::Int(1..=7))))));
        }

        /// The prepared zone's table converts every instant as jiff's rules do, in zones
        /// with and without summer time, with half-hour and changed rules, around the
        /// transitions and at the ends of the range.
        #[test]
        fn the_offset_table_converts_as_the_zones_rules_do(nanos: i64, near in -4_000_000_000_000i64..4_000_000_000_000, which in 0usize..8) {
            let names = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC", "America/Sao_Paulo", "Africa/Casablanca", "Pacific/Apia"];
            let name = names.get(which).copied().unwrap_or("UTC");
            let Ok(zone) = zone(&s(name)) else { return Err(TestCaseError::fail(format!("{name} is bundled"))) };
            // 2026-03-29T01:00:00Z, Paris's spring change, give or take about 46 days.
            let change = 1_774_746_000 * NANOS_PER_SECOND;
            for nanos in [nanos, change.saturating_add(near), change.saturating_add(near / 1_000_000), i64::MIN, i64::MAX] {
                let Ok(instant) = Timestamp::from_nanosecond(i128::from(nanos)) else { continue };
                prop_assert_eq!(zone.to_datetime(nanos, instant), zone.tz.to_datetime(instant), "{} at {}", name, nanos);
            }
        }

        #[test]
        fn a_date_is_written_as_its_display_writes_it(year in -9999i16..=9999, month in 1i8..=12, day in 1i8..=28) {
            let date = jiff::civil::date(year, month, day);
            let mut buffer = [0u8; 10];
            let expected = (0..=9999).contains(&year).then(|| date.to_string());
            prop_assert_eq!(iso_date(date, &mut buffer).map(str::to_owned), expected);
        }
    }
}
