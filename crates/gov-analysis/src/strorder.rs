//! The order of strings as the engine compares them: by their bytes (`gov-vm`'s
//! `Strings::compare` is Rust's `str` order, which on UTF-8 is the order of the code points),
//! for the solver's string orders (`x < "m"`, `x <= y`).
//!
//! What the solver relies on, each exact in that order:
//! - `""` is the least string, and there is no greatest;
//! - the least string above `s` is `s` followed by `"\0"` ([`next`]), so `x > s` is
//!   `x >= next(s)` and lower bounds are kept inclusive;
//! - `x < t` where `t` ends in `"\0"` is `x <= t` without that `"\0"`; below any other `t`
//!   (not `""`), for every `a < t` some `b` lies strictly between (`t` is not `a` followed by
//!   `"\0"`), so such a strict upper bound leaves room for any chain below it;
//! - the strings that start with `p` are exactly those of `[p, after(p))` ([`after`]: `p`
//!   with its last character raised by one), so `str.starts_with` is an interval, and its
//!   negation excludes one.
//!
//! An [`Interval`] is the set of strings `lo <= x` and `x <= t` (`x < t` when strict),
//! normalised as above, so that it is empty exactly when [`Interval::is_empty`] says so and
//! holds exactly one string when [`Interval::fixed`] names it.

use std::cmp::Ordering;

/// The least string greater than `s`.
pub(crate) fn next(s: &str) -> String {
    format!("{s}\0")
}

/// The least string greater than every string that starts with `p`: `p` with its last
/// character that is not the greatest raised by one (and what follows it dropped); `None`
/// when there is none (`p` is empty or every character is the greatest).
pub(crate) fn after(p: &str) -> Option<String> {
    let mut chars: Vec<char> = p.chars().collect();
    while let Some(last) = chars.pop() {
        if let Some(up) = step(last, 1) {
            chars.push(up);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The character `by` (1 or -1) code points from `c`, skipping the surrogates; `None` past
/// either end.
fn step(c: char, by: i64) -> Option<char> {
    let mut code = i64::from(u32::from(c)) + by;
    if (0xD800..=0xDFFF).contains(&code) {
        code = if by > 0 { 0xE000 } else { 0xD7FF };
    }
    u32::try_from(code).ok().and_then(char::from_u32)
}

/// A set of strings `lo <= x <= t` (`x < t` when strict; no upper bound: `None`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Interval {
    /// The least string of the set (inclusive).
    pub(crate) lo: String,
    /// The upper bound and whether it is strict.
    // Invariant: a strict bound never ends in "\0" (it is made inclusive, one shorter).
    pub(crate) hi: Option<(String, bool)>,
}

impl Interval {
    /// The one string `value`.
    pub(crate) fn exactly(value: &str) -> Interval {
        Interval { lo: value.to_owned(), hi: Some((value.to_owned(), false)) }
    }

    /// Raises the lower bound to `s` (inclusive); whether it moved.
    pub(crate) fn at_least(&mut self, s: String) -> bool {
        if s > self.lo {
            self.lo = s;
            return true;
        }
        false
    }

    /// Lowers the upper bound to `t` (strict or not); whether it moved.
    pub(crate) fn at_most(&mut self, t: String, strict: bool) -> bool {
        let (t, strict) = match t.strip_suffix('\0') {
            Some(shorter) if strict => (shorter.to_owned(), false),
            _ => (t, strict),
        };
        let lower = match &self.hi {
            None => true,
            Some((old, old_strict)) => match t.cmp(old) {
                Ordering::Less => true,
                Ordering::Equal => strict && !old_strict,
                Ordering::Greater => false,
            },
        };
        if lower {
            self.hi = Some((t, strict));
        }
        lower
    }

    /// Whether no string is in the set.
    pub(crate) fn is_empty(&self) -> bool {
        match &self.hi {
            None => false,
            Some((t, true)) => self.lo >= *t,
            Some((t, false)) => self.lo > *t,
        }
    }

    /// The one string of the set, if it holds exactly one.
    pub(crate) fn fixed(&self) -> Option<&str> {
        match &self.hi {
            Some((t, false)) if *t == self.lo => Some(t),
            _ => None,
        }
    }

    /// Whether `value` is in the set.
    pub(crate) fn contains(&self, value: &str) -> bool {
        value >= self.lo.as_str()
            && match &self.hi {
                None => true,
                Some((t, true)) => value < t.as_str(),
                Some((t, false)) => value <= t.as_str(),
            }
    }

    /// Keeps the strings that start with `p`; whether a bound moved.
    pub(crate) fn starts_with(&mut self, p: &str) -> bool {
        let raised = self.at_least(p.to_owned());
        match after(p) {
            Some(end) => self.at_most(end, true) || raised,
            None => raised,
        }
    }

    /// Keeps the strings that do not start with `p` where that moves a bound: a lower bound
    /// that starts with `p` rises past every such string, an upper bound that does not pass
    /// them falls below `p`. Whether a bound moved.
    pub(crate) fn not_starts_with(&mut self, p: &str) -> bool {
        let Some(end) = after(p) else {
            // Every string starts with "" (an empty set); past the greatest characters,
            // nothing is concluded.
            return p.is_empty() && self.at_most(String::new(), true);
        };
        let mut moved = false;
        if self.lo.starts_with(p) {
            moved |= self.at_least(end.clone());
        }
        let within = match &self.hi {
            Some((t, true)) => *t <= end,
            Some((t, false)) => *t < end,
            None => false,
        };
        if within {
            moved |= self.at_most(p.to_owned(), true);
        }
        moved
    }

    /// Strings of the set to try as a value, smallest first: its least strings (`lo`, then
    /// with `"\0"` after it) and, after `lo`, just below the upper bound's characters, or
    /// alone, each of `shapes` (strings that pass a class's tests) appended; only those in the
    /// set.
    pub(crate) fn candidates(&self, shapes: &[String]) -> Vec<String> {
        let mut bases = vec![self.lo.clone(), String::new()];
        if let Some((t, _)) = &self.hi {
            let chars: Vec<char> = t.chars().collect();
            for at in 0..chars.len() {
                let (Some(head), Some(c)) = (chars.get(..at), chars.get(at)) else { continue };
                if let Some(down) = step(*c, -1) {
                    bases.push(head.iter().chain(std::iter::once(&down)).collect());
                }
            }
        }
        let mut out = Vec::new();
        for base in &bases {
            out.push(base.clone());
            out.push(next(base));
            out.push(next(&next(base)));
            out.extend(shapes.iter().map(|shape| format!("{base}{shape}")));
        }
        out.retain(|v| self.contains(v));
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn nothing_lies_between_a_string_and_the_string_with_a_nul_after_it() {
        // a < x < "a\0": empty; a < x < "a\0\0": exactly "a\0".
        let mut between = Interval::default();
        between.at_least(next("a"));
        between.at_most("a\0".to_owned(), true);
        assert!(between.is_empty());
        let mut one = Interval::default();
        one.at_least(next("a"));
        one.at_most("a\0\0".to_owned(), true);
        assert_eq!(one.fixed(), Some("a\0"));
        let mut below_empty = Interval::default();
        below_empty.at_most(String::new(), true);
        assert!(below_empty.is_empty());
    }

    #[test]
    fn a_prefix_is_an_interval_and_its_negation_moves_the_bounds() {
        assert_eq!(after("ab").as_deref(), Some("ac"));
        assert_eq!(after(""), None);
        let mut x = Interval::default();
        x.starts_with("ab");
        assert!(x.contains("ab") && x.contains("abzzz") && !x.contains("ac") && !x.contains("aa"));
        // "a" < x < "b", not starting with "a": nothing.
        let mut y = Interval::default();
        y.at_least(next("a"));
        y.at_most("b".to_owned(), true);
        y.not_starts_with("a");
        assert!(y.is_empty(), "{y:?}");
        let mut z = Interval::default();
        z.not_starts_with("");
        assert!(z.is_empty());
    }

    #[test]
    fn candidates_lie_in_the_set_smallest_first() {
        let mut x = Interval::default();
        x.at_most("b".to_owned(), true);
        let found = x.candidates(&["z".to_owned()]);
        assert_eq!(found.first().map(String::as_str), Some(""));
        assert!(found.contains(&"az".to_owned()), "{found:?}");
        assert!(found.iter().all(|v| v.as_str() < "b"));
    }
}
