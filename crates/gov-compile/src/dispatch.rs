//! Rule dispatch: which rules a request's facts can select, planned from the IR.
//!
//! A rule whose body holds a positive atom of an input relation with literals in some
//! columns — `request(u, "read", d)` — derives nothing unless the request has a fact with
//! those values there: the atom is a scan at the rule's top level, and the rest of the
//! rule runs once per row it finds. Such a rule gets a [`RuleKey`] (the relation, the
//! columns, the literals), and the engine runs it only for a request with a matching fact,
//! one hash probe per group of keys on the same columns (OPA indexes its rule sets the
//! same way). Of a rule's atoms, the one with the most literals is its key (the first on a
//! tie). Only rules of non-recursive strata run per request are keyed: a recursive
//! stratum runs whole. The bundle carries the keys; its loader checks each against the
//! rule's code, so a forged key is a load error, never a rule skipped that would fire.

use crate::plan::constant;
use crate::pool::Pool;
use gov_ir::{Expr, Ir, Literal, Rule};
use gov_value::RelationKind;
use gov_vm::program::{RelationSchema, RuleKey};

/// The key of `rule` (compiled as rule `id` of the program), if it has one: its positive
/// atom of an input relation with the most literal arguments.
pub fn key(ir: &Ir, pool: &mut Pool, relations: &[RelationSchema], rule: &Rule, id: u32) -> Option<RuleKey> {
    let mut best: Option<(&gov_ir::Atom, usize)> = None;
    for literal in &rule.body {
        let Literal::Atom(atom) = literal else { continue };
        if ir.relation(atom.relation).is_none_or(|r| r.kind != RelationKind::Input) {
            continue;
        }
        let literals = atom.args.iter().filter(|a| matches!(a.value, Expr::Const(_))).count();
        if literals > best.map_or(0, |(_, n)| n) {
            best = Some((atom, literals));
        }
    }
    let (atom, _) = best?;
    let rel = atom.relation.0;
    let schema = relations.get(rel as usize)?;
    let mut tested: Vec<(u8, u32)> = Vec::new();
    for arg in &atom.args {
        let Expr::Const(literal) = &arg.value else { continue };
        let column = u8::try_from(arg.column).ok()?;
        let ty = schema.columns.get(arg.column as usize).map(|c| c.ty);
        let value = constant(pool, literal, ty);
        tested.push((column, pool.constant(value)));
    }
    tested.sort_unstable_by_key(|&(column, _)| column);
    Some(RuleKey {
        rule: id,
        rel,
        columns: tested.iter().map(|&(column, _)| column).collect(),
        constants: tested.iter().map(|&(_, constant)| constant).collect(),
    })
}
