//! Builders of `Scan` instructions for the unit tests of the engine and of the kernels
//! (one set of builders, so that both build programs the same way).

use crate::program::{Instr, Operand, Source};

/// A scan of `rel`: every row or the previous round's (`source`), through index `index`
/// with the values of `key` when given, each column of `binds` bound to its register, with
/// the `checks` (column, operand) a row must pass.
fn instr(
    rel: u32,
    source: Source,
    index: Option<(u16, &[Operand])>,
    binds: &[(u8, u16)],
    checks: &[(u8, Operand)],
) -> Instr {
    Instr::Scan {
        rel,
        source,
        index: index.map(|(index, _)| index),
        key: index.map(|(_, key)| key.to_vec()).unwrap_or_default(),
        binds: binds.to_vec(),
        checks: checks.to_vec(),
    }
}

/// A scan of every row of `rel` with `checks`.
pub(crate) fn scan_checked(rel: u32, binds: &[(u8, u16)], checks: &[(u8, Operand)]) -> Instr {
    instr(rel, Source::Full, None, binds, checks)
}

/// A scan of every row of `rel` with no checks.
pub(crate) fn scan(rel: u32, binds: &[(u8, u16)]) -> Instr {
    scan_checked(rel, binds, &[])
}

/// A scan of the previous round's rows of `rel` (Δ, in a recursive stratum).
pub(crate) fn delta(rel: u32, binds: &[(u8, u16)], checks: &[(u8, Operand)]) -> Instr {
    instr(rel, Source::Delta, None, binds, checks)
}

/// A probe of index `index` of `rel` with the values of `key`.
pub(crate) fn probe(rel: u32, index: u16, key: &[Operand], binds: &[(u8, u16)], checks: &[(u8, Operand)]) -> Instr {
    instr(rel, Source::Full, Some((index, key)), binds, checks)
}
