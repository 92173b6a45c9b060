//! Calls of built-ins: each name resolved against the catalogue (`gov_builtins`), its
//! arity, what it yields against where it stands, its constant arguments validated (so
//! an invalid one is reported at its span), and, when the constraints are solved, its
//! arguments' types and the type of what it yields.

use super::{Cx, Vars};
use crate::Ty;
use crate::types::{Shape, merge};
use gov_builtins::{Builtin, Output, Param, Val};
use gov_diag::{Diagnostic, codes};
use gov_syntax::ast::{Call, Expr, LitValue};
use gov_syntax::suggest::closest;
use gov_value::BaseType;
use std::borrow::Cow;

/// Where a call stands, and so what it must yield.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    /// In an expression: one value (`Output::Value`).
    Value,
    /// A condition of a body: a test (`Output::Test`).
    Test,
    /// After `in`: a generator (`Output::Values`).
    Generator,
}

/// The built-in a call names, if the catalogue has it.
pub(super) fn builtin(call: &Call) -> Option<Builtin> {
    Builtin::from_name(&call.name.text)
}

/// How a built-in's output is described to the author.
fn yields(output: Output) -> &'static str {
    match output {
        Output::Test => "is a test (a condition), not a value",
        Output::Value(_) => "yields one value",
        Output::Values(_) => "yields any number of values",
    }
}

/// The base type a parameter or output of a fixed type has (`None` for `Numeric`).
fn param_base(param: Param) -> Option<BaseType> {
    match param {
        Param::Base(base) => Some(base),
        Param::Pattern => Some(BaseType::Str),
        Param::Numeric => None,
    }
}

/// A literal as the value a built-in reads (`None` for an invalid one).
fn literal_val(value: &LitValue) -> Option<Val<'_>> {
    Some(match value {
        LitValue::Int(i) => Val::Int(*i),
        LitValue::Decimal(d) => Val::Decimal(*d),
        LitValue::Str(s) => Val::Str(Cow::Borrowed(s)),
        LitValue::Bool(b) => Val::Bool(*b),
        LitValue::Time(t) => Val::Time(*t),
        LitValue::Duration(d) => Val::Duration(*d),
        LitValue::Invalid => return None,
    })
}

impl Cx<'_, '_> {
    /// Checks everything about a call that does not need types: its name (E0112), its
    /// arity (E0201), what it yields against `position` (E0206), that each pattern is a
    /// literal and parses (E0004, as for any invalid literal). Returns the built-in if the call is usable.
    pub(super) fn call_site(&mut self, call: &Call, position: Position) -> Option<Builtin> {
        let Some(builtin) = builtin(call) else {
            self.unknown_builtin(call);
            return None;
        };
        let signature = builtin.signature();
        let name = builtin.name();
        let wanted = match (position, signature.output) {
            (Position::Value, Output::Value(_))
            | (Position::Test, Output::Test)
            | (Position::Generator, Output::Values(_)) => None,
            (_, Output::Test) => Some(format!("write it as a condition of the body: `{name}(…)`")),
            (_, Output::Value(_)) => Some(format!("bind its value (`x = {name}(…)`) or compare it (`{name}(…) = y`)")),
            (_, Output::Values(_)) => Some(format!("bind each of its values with `x in {name}(…)`")),
        };
        if let Some(help) = wanted {
            let place = match position {
                Position::Value => "used as a value",
                Position::Test => "used as a condition",
                Position::Generator => "used as a generator after `in`",
            };
            self.diagnostics.push(
                Diagnostic::new(
                    codes::BUILTIN_OUTPUT,
                    format!("`{name}` {}, but it is {place}", yields(signature.output)),
                    call.name.span,
                )
                .with_primary_label(format!("`{name}` {}", yields(signature.output)))
                .with_help(help),
            );
            return None;
        }
        if call.args.len() != signature.params.len() {
            let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
            let (expected, found) = (signature.params.len(), call.args.len());
            self.diagnostics.push(
                Diagnostic::new(
                    codes::ARITY,
                    format!(
                        "`{name}` takes {expected} {}, but {found} {} given",
                        plural(expected),
                        if found == 1 { "was" } else { "were" }
                    ),
                    call.span,
                )
                .with_primary_label(format!("{found} {}", plural(found)))
                .with_help(format!("see `{name}` in docs/reference.md, \"Built-in functions\"")),
            );
            return None;
        }
        let mut constants = Vec::with_capacity(call.args.len());
        let mut usable = true;
        for (param, arg) in signature.params.iter().zip(&call.args) {
            let literal = match arg {
                Expr::Lit(lit) => literal_val(&lit.value),
                _ => None,
            };
            if *param == Param::Pattern && !matches!(arg, Expr::Lit(lit) if matches!(lit.value, LitValue::Str(_))) {
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::INVALID_LITERAL,
                        format!("the pattern of `{name}` must be a string literal"),
                        arg.span(),
                    )
                    .with_primary_label("not a literal")
                    .with_help("write the pattern in the call (`\"…\"`): it is checked and compiled once, when the policy loads"),
                );
                usable = false;
            }
            constants.push(literal);
        }
        if !usable {
            return None;
        }
        if let Err(error) = gov_builtins::check(builtin, &constants) {
            let at = call.args.get(error.param).map_or(call.span, Expr::span);
            self.diagnostics.push(
                Diagnostic::new(codes::INVALID_LITERAL, format!("invalid argument of `{name}`: {}", error.message), at)
                    .with_primary_label("this does not parse"),
            );
            return None;
        }
        Some(builtin)
    }

    /// E0112 for a call of a name the catalogue does not have.
    fn unknown_builtin(&mut self, call: &Call) {
        let text = &call.name.text;
        let relation = text.split('.').find(|segment| self.symbols.relation_id(segment).is_some());
        let guess = closest(text, Builtin::ALL.iter().map(|b| b.name()));
        let mut diagnostic =
            Diagnostic::new(codes::UNKNOWN_BUILTIN, format!("unknown built-in `{text}`"), call.name.span)
                .with_primary_label("no built-in has this name")
                .with_did_you_mean(call.name.span, guess);
        if let Some(relation) = relation {
            diagnostic = diagnostic.with_help(format!(
                "`{relation}` is a relation, not a built-in: match it as an atom, `{relation}(…)`, and name its values with variables"
            ));
        } else if guess.is_none() {
            diagnostic = diagnostic.with_help("the built-ins are listed in docs/reference.md, \"Built-in functions\"");
        }
        self.diagnostics.push(diagnostic);
    }

    /// Types a call's arguments and returns the shape of what it yields (`Poison` when the
    /// call is unusable, already reported by [`Cx::call_site`]); with `report`, an argument
    /// of the wrong type is reported (E0202). An argument that is a variable of no type yet
    /// gets its parameter's type.
    pub(super) fn call_shape(&mut self, scope: Vars<'_>, call: &Call, report: bool) -> Shape {
        let Some(builtin) = builtin(call) else { return Shape::Poison };
        let signature = builtin.signature();
        if call.args.len() != signature.params.len() {
            return Shape::Poison;
        }
        let mut numeric = Shape::Unknown;
        let mut ok = true;
        for (index, (param, arg)) in signature.params.iter().zip(&call.args).enumerate() {
            let found = self.shape_of(scope, arg, report);
            let fits = match *param {
                Param::Base(_) | Param::Pattern => {
                    let base = param_base(*param).unwrap_or(BaseType::Str);
                    if let (Expr::Var(name), Shape::Unknown) = (arg, found)
                        && let Some(node) = scope.node(name.text.as_str())
                    {
                        let _ = self.inference.absorb(node, Shape::Lit(base), name.span, self.symbols);
                    }
                    found.base(self.symbols).is_none_or(|b| b == base)
                }
                Param::Numeric => {
                    let numeric_base = found
                        .base(self.symbols)
                        .is_none_or(|b| matches!(b, BaseType::Int | BaseType::Decimal | BaseType::Duration));
                    match merge(numeric, found, self.symbols) {
                        Some(merged) if numeric_base => {
                            numeric = merged;
                            true
                        }
                        _ => false,
                    }
                }
            };
            if !fits {
                ok = false;
                if self.reports(report) {
                    let expected = match param_base(*param) {
                        Some(base) => format!("`{base}`"),
                        None if numeric == Shape::Unknown || numeric == found => {
                            "a number (`Int`, `Decimal` or `Duration`)".to_owned()
                        }
                        None => format!("{}, as the other numbers of this call", numeric.describe(self.symbols)),
                    };
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::TYPE_MISMATCH,
                            format!(
                                "type mismatch: argument {} of `{}` is {}, expected {expected}",
                                index + 1,
                                builtin.name(),
                                found.describe(self.symbols)
                            ),
                            arg.span(),
                        )
                        .with_primary_label(format!("this is {}", found.describe(self.symbols)))
                        .with_help(format!("see `{}` in docs/reference.md, \"Built-in functions\"", builtin.name())),
                    );
                }
            }
        }
        if !ok {
            return Shape::Poison;
        }
        match signature.output {
            Output::Test => Shape::Exact(Ty::Base(BaseType::Bool)),
            Output::Value(param) | Output::Values(param) => match param_base(param) {
                Some(base) => Shape::Lit(base),
                None => numeric,
            },
        }
    }
}
