//! Names: the relation an atom names, the decision rule a reference names, and each
//! argument's column (arity, named fields, mixing and repeating them).

use super::summary::ColumnRef;
use super::{Cx, a_rule};
use crate::hash::HashMap;
use crate::symbols::RelationKind;
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{Atom, Effect, Name};
use gov_syntax::suggest::closest;
use smallvec::SmallVec;

impl<'a> Cx<'a, '_> {
    /// Checks a reference to a decision rule (in `@overrides` or `expect`), optionally of a
    /// given effect.
    pub(super) fn rule_reference(&mut self, name: &Name, effect: Option<Effect>) {
        if self.symbols.poisoned_rules.contains(&name.text) {
            return;
        }
        match self.symbols.decision(&name.text) {
            Some(found) => {
                if let Some(effect) = effect.filter(|e| *e != found.effect) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::UNKNOWN_RULE,
                            format!("`{}` is {}, not {}", name.text, a_rule(found.effect), a_rule(effect)),
                            name.span,
                        )
                        .with_primary_label(format!("expected {}", a_rule(effect)))
                        .with_label(found.span, "defined here"),
                    );
                }
            }
            None => {
                let names = self
                    .symbols
                    .decisions
                    .iter()
                    .filter(|d| effect.is_none_or(|e| e == d.effect))
                    .map(|d| d.name.as_str());
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::UNKNOWN_RULE,
                        format!("no decision rule is named `{}`", name.text),
                        name.span,
                    )
                    .with_primary_label("unknown rule")
                    .with_did_you_mean(name.span, closest(&name.text, names)),
                );
            }
        }
    }

    /// The relation an atom names, reporting unknown names (once: poisoned relations are
    /// silently skipped).
    pub(super) fn resolve(&mut self, atom: &Atom) -> Option<usize> {
        match self.symbols.relation_id(&atom.relation.text) {
            Some(index) if self.symbols.relations.get(index).is_some_and(|r| r.poisoned) => None,
            Some(index) => Some(index),
            None => {
                let name = &atom.relation;
                let candidates = self.symbols.relations.len();
                let guess = if self.suggestion_budget >= candidates {
                    self.suggestion_budget -= candidates;
                    closest(&name.text, self.symbols.relation_names())
                } else {
                    None
                };
                self.facts.guessed_refs.extend(guess.and_then(|g| self.symbols.relation_id(g)));
                self.unknown.push((self.diagnostics.len(), atom.clone()));
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_RELATION, format!("unknown relation `{}`", name.text), name.span)
                        .with_primary_label("no relation has this name")
                        .with_did_you_mean(name.span, guess)
                        .or_help(format!("declare it, e.g. `data {}(…)`, or derive it with a rule", name.text)),
                );
                None
            }
        }
    }

    pub(super) fn arity_error(&self, relation: &Name, expected: usize, found: usize, at: Span) -> Diagnostic {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        Diagnostic::new(
            codes::ARITY,
            format!(
                "`{}` takes {expected} {}, but {found} {} given",
                relation.text,
                plural(expected),
                if found == 1 { "was" } else { "were" }
            ),
            at,
        )
        .with_primary_label(format!("{found} {}", plural(found)))
    }

    /// Pairs each argument of `atom` (by its index) with its column, reporting arity and
    /// field errors (most atoms have a few arguments: up to four need no allocation).
    pub(super) fn columns_of(&mut self, atom: &Atom, relation: usize) -> Option<SmallVec<[(usize, ColumnRef); 4]>> {
        let info = self.symbols.relations.get(relation)?;
        let column = |i: usize| ColumnRef::new(relation, i, false);
        let named = atom.args.iter().filter(|a| a.field.is_some()).count();
        if named == 0 {
            if atom.args.len() != info.fields.len() {
                let mut diagnostic = self.arity_error(&atom.relation, info.fields.len(), atom.args.len(), atom.span);
                if let Some(span) = info.span {
                    diagnostic = diagnostic.with_label(span, "declared here");
                }
                let names: Vec<&str> = info.fields.iter().filter_map(|f| f.name.as_deref()).collect();
                if names.len() == info.fields.len() && !names.is_empty() {
                    diagnostic =
                        diagnostic.with_help(format!("`{}` has fields: {}", atom.relation.text, names.join(", ")));
                }
                self.diagnostics.push(diagnostic);
                return None;
            }
            return Some((0..atom.args.len()).map(|i| (i, column(i))).collect());
        }
        if named != atom.args.len() {
            let positional = atom.args.iter().find(|a| a.field.is_none()).map_or(atom.span, |a| a.value.span());
            self.diagnostics.push(
                Diagnostic::new(codes::DUPLICATE_FIELD, "positional and named arguments cannot be mixed", positional)
                    .with_primary_label("positional argument among named ones")
                    .with_help("name every argument (`field: value`) or none"),
            );
            return None;
        }
        if info.kind == RelationKind::Derived {
            self.diagnostics.push(
                Diagnostic::new(
                    codes::UNKNOWN_FIELD,
                    format!("`{}` is derived and has no field names", atom.relation.text),
                    atom.span,
                )
                .with_primary_label("named arguments need a declared relation")
                .with_help("pass the arguments in order"),
            );
            return None;
        }
        let mut seen: HashMap<&str, Span> = HashMap::default();
        let mut out = SmallVec::new();
        for (index, arg) in atom.args.iter().enumerate() {
            let Some(field) = &arg.field else { continue };
            if let Some(first) = seen.insert(&field.text, field.span) {
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::DUPLICATE_FIELD,
                        format!("field `{}` is given twice", field.text),
                        field.span,
                    )
                    .with_primary_label("given again here")
                    .with_label(first, "first given here"),
                );
                continue;
            }
            match info.fields.iter().position(|f| f.name.as_deref() == Some(field.text.as_str())) {
                Some(i) => out.push((index, column(i))),
                None => {
                    let names = info.fields.iter().filter_map(|f| f.name.as_deref());
                    let mut diagnostic = Diagnostic::new(
                        codes::UNKNOWN_FIELD,
                        format!("`{}` has no field `{}`", atom.relation.text, field.text),
                        field.span,
                    )
                    .with_primary_label("unknown field")
                    .with_did_you_mean(field.span, closest(&field.text, names));
                    if let Some(span) = info.span {
                        diagnostic = diagnostic.with_label(span, "declared here");
                    }
                    self.diagnostics.push(diagnostic);
                }
            }
        }
        Some(out)
    }
}
