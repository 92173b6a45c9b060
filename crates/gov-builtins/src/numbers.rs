//! The number family: `num.abs`, `num.min`, `num.max` over `Int`, `Decimal` and
//! `Duration`, and `num.round` of a `Decimal`.

use std::cmp::Ordering;

use rust_decimal::RoundingStrategy;

use crate::Val;

/// The most places a `Decimal` can have.
const MAX_PLACES: i64 = 28;

/// `num.abs(x)`; the absolute value of the smallest `Int` or `Duration` does not fit, and
/// is an error (as arithmetic overflow is).
pub(crate) fn abs<'a>(args: &[Val<'a>]) -> Result<Option<Val<'a>>, String> {
    let overflow = |value: i64| format!("the absolute value of {value} does not fit in 64 bits");
    Ok(match args.first() {
        Some(Val::Int(i)) => Some(Val::Int(i.checked_abs().ok_or_else(|| overflow(*i))?)),
        Some(Val::Duration(d)) => Some(Val::Duration(d.checked_abs().ok_or_else(|| overflow(*d))?)),
        Some(Val::Decimal(d)) => Some(Val::Decimal(d.abs())),
        _ => None,
    })
}

/// The smaller (`Less`) or larger (`Greater`) of two numbers of the same type; the first
/// of two equal ones.
fn pick<'a>(args: &[Val<'a>], keep: Ordering) -> Option<Val<'a>> {
    fn choose<T: Ord>(a: T, b: T, keep: Ordering) -> T {
        if b.cmp(&a) == keep { b } else { a }
    }
    match (args.first()?, args.get(1)?) {
        (Val::Int(a), Val::Int(b)) => Some(Val::Int(choose(*a, *b, keep))),
        (Val::Duration(a), Val::Duration(b)) => Some(Val::Duration(choose(*a, *b, keep))),
        (Val::Decimal(a), Val::Decimal(b)) => Some(Val::Decimal(choose(*a, *b, keep))),
        _ => None,
    }
}

/// `num.min(a, b)`
pub(crate) fn min<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    pick(args, Ordering::Less)
}

/// `num.max(a, b)`
pub(crate) fn max<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    pick(args, Ordering::Greater)
}

/// The places of a rounding: 0 to 28 (a `Decimal` has at most 28).
pub(crate) fn places(places: &Val<'_>) -> Result<u32, String> {
    match places {
        Val::Int(n) if (0..=MAX_PLACES).contains(n) => u32::try_from(*n).map_err(|e| e.to_string()),
        Val::Int(n) => Err(format!("cannot round to {n} places: the places are 0 to {MAX_PLACES}")),
        _ => Err("the places of a rounding are an Int".to_owned()),
    }
}

/// `num.round(d, places)`: half away from zero (`2.5` is `3`, `-2.5` is `-3`), the rule
/// of school arithmetic and of most invoices; banker's rounding (half to even) removes a
/// bias only over many sums, which a policy does not make. Places outside 0 to 28 yield
/// nothing (a constant one is a check-time error).
pub(crate) fn round<'a>(args: &[Val<'a>]) -> Option<Val<'a>> {
    let (Some(Val::Decimal(d)), Some(places)) = (args.first(), args.get(1).and_then(|p| places(p).ok())) else {
        return None;
    };
    Some(Val::Decimal(d.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero)))
}

#[cfg(test)]
mod tests {
    use gov_value::Decimal;
    use proptest::prelude::*;

    use crate::{Builtin, EvalError, Yield, eval, prepare};

    use super::*;

    fn dec(text: &str) -> Val<'static> {
        Val::Decimal(gov_value::parse_decimal(text).unwrap_or(Decimal::MAX))
    }

    fn one(builtin: Builtin, args: &[Val<'static>]) -> Option<Val<'static>> {
        match eval(builtin, args, None) {
            Ok(Yield::One(value)) => value,
            _ => None,
        }
    }

    #[test]
    fn abs_of_each_numeric_type() {
        assert_eq!(one(Builtin::NumAbs, &[Val::Int(-5)]), Some(Val::Int(5)));
        assert_eq!(one(Builtin::NumAbs, &[Val::Int(i64::MAX)]), Some(Val::Int(i64::MAX)));
        assert_eq!(one(Builtin::NumAbs, &[dec("-2.50")]), Some(dec("2.50")));
        assert_eq!(one(Builtin::NumAbs, &[Val::Duration(-60)]), Some(Val::Duration(60)));
        assert_eq!(one(Builtin::NumAbs, &[Val::Str("x".into())]), None);
    }

    #[test]
    fn abs_overflow_is_an_error() {
        for value in [Val::Int(i64::MIN), Val::Duration(i64::MIN)] {
            let result = eval(Builtin::NumAbs, &[value], None);
            assert!(
                matches!(&result, Err(EvalError { builtin: Builtin::NumAbs, message }) if message.contains("does not fit")),
                "{result:?}"
            );
        }
    }

    #[test]
    fn min_and_max_of_the_same_type() {
        assert_eq!(one(Builtin::NumMin, &[Val::Int(3), Val::Int(-4)]), Some(Val::Int(-4)));
        assert_eq!(one(Builtin::NumMax, &[Val::Int(3), Val::Int(-4)]), Some(Val::Int(3)));
        assert_eq!(one(Builtin::NumMax, &[dec("1.5"), dec("1.50")]), Some(dec("1.5")));
        assert_eq!(one(Builtin::NumMin, &[dec("-0.1"), dec("0")]), Some(dec("-0.1")));
        assert_eq!(one(Builtin::NumMax, &[Val::Duration(60), Val::Duration(5)]), Some(Val::Duration(60)));
        assert_eq!(one(Builtin::NumMin, &[Val::Int(1), dec("0")]), None, "mixed types yield nothing");
        assert_eq!(one(Builtin::NumMin, &[Val::Int(1)]), None);
    }

    #[test]
    fn round_is_half_away_from_zero() {
        let round = |d: &str, places: i64| one(Builtin::NumRound, &[dec(d), Val::Int(places)]);
        assert_eq!(round("2.5", 0), Some(dec("3")));
        assert_eq!(round("-2.5", 0), Some(dec("-3")));
        assert_eq!(round("3.5", 0), Some(dec("4")));
        assert_eq!(round("1.005", 2), Some(dec("1.01")));
        assert_eq!(round("1.004", 2), Some(dec("1.00")));
        assert_eq!(round("12.3", 5), Some(dec("12.3")));
        assert_eq!(round("79228162514264337593543950335", 0), Some(dec("79228162514264337593543950335")));
        assert_eq!(round("7922816251426433759354395033.5", 0), Some(dec("7922816251426433759354395034")));
        assert_eq!(round("1.5", -1), None);
        assert_eq!(round("1.5", 29), None);
    }

    #[test]
    fn constant_places_outside_the_range_are_prepare_errors() {
        let error = prepare(Builtin::NumRound, &[None, Some(Val::Int(-1))]);
        assert!(matches!(&error, Err(e) if e.param == 1 && e.message.contains("-1 places")), "{error:?}");
        assert!(prepare(Builtin::NumRound, &[None, Some(Val::Int(29))]).is_err());
        assert!(matches!(prepare(Builtin::NumRound, &[None, Some(Val::Int(2))]), Ok(None)));
    }

    proptest! {
        #[test]
        fn min_max_and_abs_agree_with_std(a: i64, b: i64) {
            prop_assert_eq!(one(Builtin::NumMin, &[Val::Int(a), Val::Int(b)]), Some(Val::Int(a.min(b))));
            prop_assert_eq!(one(Builtin::NumMax, &[Val::Duration(a), Val::Duration(b)]), Some(Val::Duration(a.max(b))));
            match a.checked_abs() {
                Some(abs) => prop_assert_eq!(eval(Builtin::NumAbs, &[Val::Int(a)], None), Ok(Yield::One(Some(Val::Int(abs))))),
                None => prop_assert!(eval(Builtin::NumAbs, &[Val::Int(a)], None).is_err()),
            }
        }

        #[test]
        fn rounding_is_within_half_a_unit_and_idempotent(mantissa: i64, scale in 0u32..=28, places in 0i64..=28) {
            let d = Decimal::new(mantissa, scale);
            let Some(Val::Decimal(rounded)) = one(Builtin::NumRound, &[Val::Decimal(d), Val::Int(places)]) else {
                return Err(TestCaseError::fail("rounding yields a Decimal"));
            };
            prop_assert!(rounded.scale() <= u32::try_from(places).unwrap_or(28).max(d.scale()));
            let unit = Decimal::new(1, u32::try_from(places).unwrap_or(0));
            prop_assert!((rounded - d).abs() * Decimal::TWO <= unit);
            prop_assert_eq!(one(Builtin::NumRound, &[Val::Decimal(rounded), Val::Int(places)]), Some(Val::Decimal(rounded)));
        }
    }
}
