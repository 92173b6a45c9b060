//! Test blocks and fixtures: `given` facts are whole facts of input or data relations with
//! literal values; `expect` lines name decision rules of the expected effect and approver
//! groups some `escalate` rule has; `uses` names fixtures of the package.

use super::infer::lit_shape;
use super::{Column, Cx};
use crate::symbols::{DecisionInfo, RelationKind};
use gov_diag::{Applicability, Diagnostic, Fix, Span, codes};
use gov_syntax::ast::{Approver, Atom, Effect, ExpectKind, Expr, Name, StrLit, TestBlock, TestStatement};
use gov_syntax::suggest::closest;

impl<'a> Cx<'a, '_> {
    pub(super) fn test(&mut self, test: &'a TestBlock) {
        for fixture in &test.uses {
            self.fixture_reference(fixture);
        }
        self.statements(&test.statements);
    }

    /// Checks the statements of a test or a fixture.
    pub(super) fn statements(&mut self, statements: &'a [TestStatement]) {
        for statement in statements {
            match statement {
                TestStatement::WithData(_) => {}
                TestStatement::Given(facts) => {
                    for fact in facts {
                        self.given(fact);
                    }
                }
                TestStatement::Expect(expectation) => {
                    if let ExpectKind::Effect { negated, effect, rules, approvers, .. } = &expectation.kind {
                        for rule in rules {
                            self.rule_reference(rule, Some(*effect));
                        }
                        self.expected_groups(*negated, *effect, rules, approvers);
                    }
                }
            }
        }
    }

    /// E0504 for a `uses` name that is no fixture of the package.
    fn fixture_reference(&mut self, name: &Name) {
        if self.symbols.fixture(&name.text).is_some() {
            return;
        }
        let guess = closest(&name.text, self.symbols.fixtures.iter().map(|(n, _)| n.as_str()));
        let diagnostic =
            Diagnostic::new(codes::UNKNOWN_FIXTURE, format!("no fixture is named `{}`", name.text), name.span)
                .with_primary_label("unknown fixture");
        let diagnostic = match guess {
            Some(_) => diagnostic.with_did_you_mean(name.span, guess),
            None => diagnostic.with_help(format!("declare it in the package: `fixture {} {{ given … }}`", name.text)),
        };
        self.diagnostics.push(diagnostic);
    }

    /// Checks the approver groups of an `expect` line: only `expect escalate` has them, and
    /// each must be the group of some `escalate` rule, or the test could never pass (with
    /// `not`, any group may be named: that it never approves is what the test says).
    fn expected_groups(&mut self, negated: bool, effect: Effect, rules: &[Name], approvers: &[StrLit]) {
        let (Some(first), Some(last)) = (approvers.first(), approvers.last()) else { return };
        if effect != Effect::Escalate {
            let groups: Vec<String> = approvers.iter().map(|g| format!("to \"{}\"", g.value)).collect();
            // The groups follow the last rule name (`expect deny big to "g"`): delete from
            // there. Without a rule name the `to` keyword's start is not known: no fix.
            let remove = rules.last().map(|rule| {
                Fix::replace(
                    "Remove the approver groups",
                    Applicability::Safe,
                    Span::new(rule.span.file, rule.span.end, last.span.end),
                    "",
                )
            });
            self.diagnostics.push(
                Diagnostic::new(
                    codes::INVALID_EXPECTATION,
                    format!("`expect {}` takes no approver groups", effect.keyword()),
                    first.span.to(last.span),
                )
                .with_primary_label(format!("a `{}` decision has no approvers", effect.keyword()))
                .with_help(format!("only `expect escalate` checks approver groups: remove `{}`", groups.join(" ")))
                .with_fixes(remove),
            );
            return;
        }
        let escalations: Vec<&DecisionInfo> =
            self.symbols.decisions.iter().filter(|d| d.effect == Effect::Escalate).collect();
        // A rule that failed to parse may have been the one escalating to a group; a rule
        // whose group the body binds (`to g`) may escalate to any.
        let any_group = escalations.iter().any(|d| matches!(d.approver, Some(Approver::Var(_))));
        if negated || any_group || !self.symbols.poisoned_rules.is_empty() {
            return;
        }
        let literal = |d: &DecisionInfo| match &d.approver {
            Some(Approver::Group(group)) => Some(group.clone()),
            _ => None,
        };
        for group in approvers {
            if escalations.iter().any(|d| literal(d).is_some_and(|a| a.value == group.value)) {
                continue;
            }
            let known: Vec<String> = escalations.iter().filter_map(|d| literal(d).map(|a| a.value)).collect();
            let mut diagnostic = Diagnostic::new(
                codes::INVALID_EXPECTATION,
                format!("no `escalate` rule escalates to \"{}\"", group.value),
                group.span,
            )
            .with_primary_label("not the group of any escalate rule");
            diagnostic = match closest(&group.value, known.iter().map(String::as_str)) {
                Some(guess) => diagnostic.with_help(format!("did you mean \"{guess}\"?")).with_fix(Fix::replace(
                    format!("Change to \"{guess}\""),
                    Applicability::NeedsReview,
                    group.span,
                    gov_syntax::format::quote(guess),
                )),
                None => diagnostic.with_help("the approvers of a decision are the groups of the escalate rules that fired: this test can never pass"),
            };
            for rule in rules {
                if let Some(approver) =
                    self.symbols.decision(&rule.text).filter(|d| d.effect == Effect::Escalate).and_then(literal)
                {
                    diagnostic = diagnostic
                        .with_label(approver.span, format!("`{}` escalates to \"{}\"", rule.text, approver.value));
                }
            }
            self.diagnostics.push(diagnostic);
        }
    }

    fn given(&mut self, fact: &'a Atom) {
        let Some(relation) = self.resolve(fact) else { return };
        self.facts.body_refs.push((relation, fact.relation.span, None));
        let kind = self.symbols.relations.get(relation).map(|r| r.kind);
        if !matches!(kind, Some(RelationKind::Input | RelationKind::Data)) {
            self.diagnostics.push(
                Diagnostic::new(
                    codes::TEST_NOT_A_FACT,
                    format!("`{}` is not an input or data relation", fact.relation.text),
                    fact.relation.span,
                )
                .with_primary_label("derived relations are computed, not given")
                .with_help("give the input or data facts it is derived from"),
            );
            return;
        }
        if self.symbols.relations.get(relation).is_some_and(|r| r.compound.is_some()) {
            self.diagnostics.push(
                Diagnostic::new(
                    codes::TEST_NOT_A_FACT,
                    format!("`{}` holds the contents of a list or object field", fact.relation.text),
                    fact.relation.span,
                )
                .with_primary_label("filled from the field's value")
                .with_help("give the fact that holds the field, with the list `[…]` or the object `{…}` as its value"),
            );
            return;
        }
        let Some(columns) = self.columns_of(fact, relation) else { return };
        // Named arguments may leave fields out in a body, not in a given fact: it states one
        // whole fact. (When a named argument failed to resolve, that is the one report.)
        if columns.len() == fact.args.len()
            && fact.args.iter().any(|a| a.field.is_some())
            && let Some(info) = self.symbols.relations.get(relation)
        {
            let missing: Vec<&str> = info
                .fields
                .iter()
                .filter_map(|f| f.name.as_deref())
                .filter(|name| !fact.args.iter().any(|a| a.field.as_ref().is_some_and(|f| f.text == *name)))
                .collect();
            if !missing.is_empty() {
                let listed: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                let (noun, listed) = match listed.split_last() {
                    Some((last, rest)) if !rest.is_empty() => ("fields", format!("{} and {last}", rest.join(", "))),
                    _ => ("field", listed.concat()),
                };
                let mut diagnostic = Diagnostic::new(
                    codes::TEST_NOT_A_FACT,
                    format!("the given fact of `{}` leaves out {noun} {listed}", fact.relation.text),
                    fact.span,
                )
                .with_primary_label(format!("no value for {listed}"))
                .with_help("a given fact states one whole fact: give every field a value");
                if let Some(span) = info.span {
                    diagnostic = diagnostic.with_label(span, "declared here");
                }
                self.diagnostics.push(diagnostic);
            }
        }
        for (arg, column) in columns {
            if let Some(arg) = fact.args.get(arg) {
                self.given_value(&arg.value, self.column(column));
            }
        }
    }

    /// Checks one value of a given fact: a literal of the column's type, or for a list
    /// field a list of literals of its element type, for an object field an object giving
    /// every member.
    fn given_value(&mut self, expr: &Expr, column: Column) {
        let compound = match column {
            Column::Declared(Some(ty), _) => self.symbols.compound(ty).cloned(),
            _ => None,
        };
        let aux = compound.as_ref().and_then(|c| self.symbols.relations.get(c.relation)).cloned();
        let declared = |i: usize| {
            aux.as_ref()
                .and_then(|r| r.fields.get(i))
                .map_or(Column::Declared(None, None), |f| Column::Declared(f.ty, f.span))
        };
        match (expr, &compound) {
            (Expr::Lit(lit), None) => self.unify_lit(lit_shape(&lit.value), lit.span, column),
            (Expr::List(list), Some(c)) if c.list => {
                for item in &list.items {
                    self.unify_lit(lit_shape(&item.value), item.span, declared(1));
                }
            }
            (Expr::Object(object), Some(c)) if !c.list => {
                let fields = aux.as_ref().map_or(&[][..], |r| r.fields.as_slice());
                for member in &object.members {
                    let Some(name) = &member.field else { continue };
                    match fields.iter().position(|f| f.name.as_deref() == Some(name.text.as_str())) {
                        Some(at) => self.given_value(&member.value, declared(at)),
                        None => self.diagnostics.push(
                            Diagnostic::new(
                                codes::UNKNOWN_MEMBER,
                                format!("`{}` has no member `{}`", c.display, name.text),
                                name.span,
                            )
                            .with_primary_label("unknown member")
                            .with_did_you_mean(
                                name.span,
                                closest(&name.text, fields.iter().filter_map(|f| f.name.as_deref())),
                            ),
                        ),
                    }
                }
                let missing: Vec<&str> = fields
                    .iter()
                    .filter_map(|f| f.name.as_deref())
                    .filter(|n| !object.members.iter().any(|m| m.field.as_ref().is_some_and(|f| f.text == *n)))
                    .collect();
                if !missing.is_empty() {
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::TEST_NOT_A_FACT,
                            format!(
                                "the given object leaves out {}",
                                missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                            ),
                            object.span,
                        )
                        .with_primary_label("not every member has a value")
                        .with_help("a given fact states one whole fact: give every member a value"),
                    );
                }
            }
            (other, Some(c)) => self.diagnostics.push(
                Diagnostic::new(codes::COMPOUND_MISUSE, format!("this field is a `{}`", c.display), other.span())
                    .with_primary_label(if c.list { "not a list `[…]`" } else { "not an object `{…}`" })
                    .with_help(if c.list {
                        "write the list's values: `[\"a\", \"b\"]`"
                    } else {
                        "write the object's members: `{member: value, …}`"
                    }),
            ),
            (other, None) => self.diagnostics.push(
                Diagnostic::new(codes::TEST_NOT_A_FACT, "a given fact holds only literal values", other.span())
                    .with_primary_label("not a literal")
                    .with_help("write the value itself, e.g. `\"bot-1\"` or `5000`"),
            ),
        }
    }
}
