//! Safety: every variable is bound by a positive atom (or by `=` from bound values), in its
//! own conjunction or one enclosing it; variables used once are reported too.

use super::memo::Safety;
use super::{Cx, Place, Scope};
use crate::hash::{HashMap, HashSet};
use gov_diag::{Applicability, Code, Diagnostic, Fix, Span, codes};
use gov_syntax::ast::{AggregateFn, BodyItem, Collection, Comparison, Expr, Item, Membership, Rule};
use gov_syntax::suggest::closest;
use gov_syntax::walk::{self, Reach};
use gov_value::CompareOp;

/// The variables bound at the top level of a body (`None`) and inside each aggregate
/// (`Some(k)`), by name.
type Bound<'b> = HashMap<Option<usize>, HashSet<&'b str>>;

/// The code and wording for an unbound variable at `place`; `None` where occurring is
/// what binds a variable.
fn unsafe_code(place: Place) -> Option<(Code, &'static str)> {
    match place {
        Place::Positive => None,
        Place::Head => Some((codes::UNSAFE_HEAD, "in the head")),
        Place::Points => Some((codes::UNSAFE_HEAD, "in the risk points")),
        Place::Approver => Some((codes::UNSAFE_HEAD, "as the approver group")),
        Place::Negative => Some((codes::UNSAFE_NEGATION, "in a negation")),
        Place::Compare => Some((codes::UNSAFE_COMPARISON, "in a comparison")),
        Place::Arithmetic => Some((codes::UNSAFE_COMPARISON, "in an arithmetic argument")),
        Place::Message => Some((codes::UNSAFE_MESSAGE, "in the message")),
        Place::Argument => Some((codes::UNSAFE_BUILTIN_ARGUMENT, "in an argument of a built-in")),
    }
}

/// The aggregate each aggregate is nested in (`None`: the top level of the body), by the
/// aggregates' keys (`Some(k)` as in [`Bound`]).
type Parents = HashMap<usize, Option<usize>>;

/// Whether `name` is bound inside `aggregate`: by it, or by any conjunction enclosing it
/// (an enclosing aggregate's local variables are group variables of a nested one).
fn visible(bound: &Bound<'_>, parents: &Parents, aggregate: Option<usize>, name: &str) -> bool {
    let mut at = aggregate;
    // Invariant: `parents` is a forest (each aggregate lies inside the span of its
    // parent), so the walk ends at the top level; the depth bound is a second guard.
    for _ in 0..=parents.len() {
        if bound.get(&at).is_some_and(|b| b.contains(name)) {
            return true;
        }
        match at {
            Some(k) => at = parents.get(&k).copied().flatten(),
            None => return false,
        }
    }
    false
}

/// The variables bound at the top level of a body (`None`) and inside each aggregate
/// (`Some(k)`, in addition to those of the conjunctions enclosing it): those of positive
/// atoms, then those that `=` binds from bound values, to a fixpoint. Also where each
/// aggregate is nested, and the `=` that binds each variable of the top level that no
/// positive atom binds.
fn bound_variables<'b>(
    scope: &'b Scope,
    body: &'b [BodyItem],
) -> (Bound<'b>, Parents, HashMap<&'b str, &'b Comparison>) {
    let mut bound: Bound<'b> = HashMap::default();
    for (name, var) in scope.iter() {
        for &(_, place, aggregate) in &var.occurrences {
            if place == Place::Positive {
                let names = bound.entry(aggregate).or_default();
                names.insert(name);
            }
        }
    }
    let mut bindings: HashMap<&'b str, &'b Comparison> = HashMap::default();
    let mut equalities: Vec<(Option<usize>, Binder<'b>)> = Vec::new();
    let mut parents = Parents::default();
    collect_equalities(body, None, &mut equalities, &mut parents);
    loop {
        let mut changed = false;
        for (aggregate, binder) in &equalities {
            let known = |name: &str| visible(&bound, &parents, *aggregate, name);
            let is_bound = |e: &Expr| {
                if matches!(e, Expr::Aggregate(_)) {
                    return true;
                }
                !matches!(e, Expr::Wildcard(_)) && walk::expr(e, Reach::Shallow).vars().all(|n| known(&n.text))
            };
            let newly = match binder {
                Binder::Eq(comparison) => match (&comparison.left, &comparison.right) {
                    (Expr::Var(v), other) if !known(&v.text) && is_bound(other) => Some(v.text.as_str()),
                    (other, Expr::Var(v)) if !known(&v.text) && is_bound(other) => Some(v.text.as_str()),
                    _ => None,
                },
                Binder::In(membership) => match (&membership.element, &membership.collection) {
                    (Expr::Var(v), Collection::Call(call)) if !known(&v.text) && call.args.iter().all(is_bound) => {
                        Some(v.text.as_str())
                    }
                    (Expr::Var(v), Collection::Set(_)) if !known(&v.text) => Some(v.text.as_str()),
                    _ => None,
                },
            };
            if let Some(name) = newly {
                if let (None, Binder::Eq(comparison)) = (aggregate, binder) {
                    bindings.insert(name, comparison);
                }
                bound.entry(*aggregate).or_default().insert(name);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    (bound, parents, bindings)
}

/// A condition that binds a variable from bound values: `v = expr`, or `v in collection`.
#[derive(Debug, Clone, Copy)]
enum Binder<'b> {
    Eq(&'b Comparison),
    In(&'b Membership),
}

/// The `=` comparisons and the `in` conditions of a body and of its aggregates, each with the aggregate it is in;
/// records where each aggregate is nested into `parents`.
fn collect_equalities<'b>(
    body: &'b [BodyItem],
    aggregate: Option<usize>,
    out: &mut Vec<(Option<usize>, Binder<'b>)>,
    parents: &mut Parents,
) {
    for item in body {
        if let BodyItem::In(membership) = item
            && membership.negated.is_none()
        {
            out.push((aggregate, Binder::In(membership)));
        }
        if let BodyItem::Compare(comparison) = item {
            if comparison.op == CompareOp::Eq {
                out.push((aggregate, Binder::Eq(comparison)));
            }
            for side in [&comparison.left, &comparison.right] {
                if let Expr::Aggregate(agg) = side {
                    let key = agg.span.start as usize;
                    parents.insert(key, aggregate);
                    collect_equalities(&agg.body, Some(key), out, parents);
                }
            }
        }
    }
}

impl Cx<'_, '_> {
    /// Reports the safety diagnostics of `item` (a rule, decision rule or invariant, whose
    /// walk gave `scope`) and returns, for a rule (`rule`), where its `=` bindings invent
    /// values that reach the head: from the memo if this tree, or the tree it was moved from,
    /// was checked before.
    pub(super) fn safety<'b>(
        &mut self,
        item: &Item,
        scope: &'b Scope,
        body: &'b [BodyItem],
        rule: Option<&'b Rule>,
    ) -> Vec<(Span, bool)> {
        let found = self.memo.get_or(item, || {
            let (diagnostics, bindings) = unsafe_and_singletons(scope, body);
            let inventing = rule.map(|rule| inventing_arithmetic(rule, &bindings)).unwrap_or_default();
            Safety { diagnostics, inventing }
        });
        self.diagnostics.extend(found.diagnostics);
        found.inventing
    }
}

/// Variables that no positive atom binds, and variables used once. Returns their
/// diagnostics and the `=` that binds each variable of the body's top level that no
/// positive atom binds.
fn unsafe_and_singletons<'b>(
    scope: &'b Scope,
    body: &'b [BodyItem],
) -> (Vec<Diagnostic>, HashMap<&'b str, &'b Comparison>) {
    let mut diagnostics = Vec::new();
    let (bound, parents, bindings) = bound_variables(scope, body);
    let is_bound = |name: &str, aggregate: Option<usize>| visible(&bound, &parents, aggregate, name);
    // Unbound variables first: one that looks like a misspelt bound variable gets a
    // did-you-mean, and that variable is then not also reported as used once.
    let mut reported: HashSet<&str> = HashSet::default();
    let mut guessed: HashSet<&str> = HashSet::default();
    for (name, var) in scope.iter() {
        for &(span, place, aggregate) in &var.occurrences {
            let Some((code, what)) = unsafe_code(place) else { continue };
            if is_bound(name, aggregate) || reported.contains(name) {
                continue;
            }
            reported.insert(name);
            let guess = closest(name, scope.iter().map(|(other, _)| other).filter(|other| is_bound(other, aggregate)));
            guessed.extend(guess);
            let mut diagnostic = Diagnostic::new(code, format!("variable `{name}` {what} is not bound"), span)
                .with_primary_label("not bound by any positive atom")
                .with_did_you_mean(span, guess)
                .or_help(format!("bind `{name}` with a positive atom in the body, e.g. `relation(…, {name}, …)`"));
            if place == Place::Argument {
                diagnostic = diagnostic.with_note(
                    "a built-in only reads its arguments, it never binds them: only what a value or generator \
                     built-in yields binds a variable (`y = str.lower(x)`, `part in str.split(x, \" \")`)",
                );
            }
            diagnostics.push(diagnostic);
        }
    }
    for (name, var) in scope.iter() {
        if var.occurrences.len() == 1
            && !name.starts_with('_')
            && !reported.contains(name)
            && !guessed.contains(name)
            && let Some((span, _, _)) = var.occurrences.first()
        {
            diagnostics.push(
                Diagnostic::new(codes::SINGLETON_VARIABLE, format!("variable `{name}` is used only once"), *span)
                    .with_primary_label("used once")
                    .with_help(format!("write `_` if any value will do, or `_{name}` to keep the name"))
                    .with_fix(Fix::replace(
                        format!("Rename to `_{name}`"),
                        Applicability::Safe,
                        *span,
                        format!("_{name}"),
                    )),
            );
        }
    }
    (diagnostics, bindings)
}

/// Where `expr`, bound to a variable by `=`, computes a value no fact holds: arithmetic,
/// or an aggregate that adds (`sum`) or aggregates arithmetic (`max(x + 1 : …)`); `true`
/// for an aggregate. `count`, `min` and `max` of plain values only pick from finite sets.
fn invents_value(expr: &Expr) -> Option<(Span, bool)> {
    match expr {
        Expr::Binary(binary) => Some((binary.span, false)),
        // A built-in's value is new too (`str.concat` grows a string without bound).
        Expr::Call(call) => Some((call.span, false)),
        Expr::Aggregate(aggregate)
            if aggregate.function == AggregateFn::Sum || matches!(aggregate.target, Expr::Binary(_)) =>
        {
            Some((aggregate.span, true))
        }
        _ => None,
    }
}

/// The arithmetic (and the `sum`s, see [`invents_value`]) of `=` bindings whose
/// value reaches the head: the variable it binds is in the head, or binds (through
/// further `=`) a variable in the head. Such arithmetic produces values of the head;
/// arithmetic whose variables are all bound by atoms only filters. (Arithmetic written
/// in the head itself is recorded by `Cx::head`.)
fn inventing_arithmetic<'r>(rule: &'r Rule, bindings: &HashMap<&'r str, &'r Comparison>) -> Vec<(Span, bool)> {
    let mut inventing = Vec::new();
    let mut queue: Vec<&'r str> = rule
        .head
        .args
        .iter()
        .flat_map(|arg| walk::expr(&arg.value, Reach::Shallow).vars())
        .map(|n| n.text.as_str())
        .collect();
    let mut seen: HashSet<&'r str> = HashSet::default();
    while let Some(name) = queue.pop() {
        if !seen.insert(name) {
            continue;
        }
        let Some(comparison) = bindings.get(name) else { continue };
        let value = if matches!(&comparison.left, Expr::Var(v) if v.text == name) {
            &comparison.right
        } else {
            &comparison.left
        };
        if let Some((at, aggregate)) = invents_value(value) {
            inventing.push((at, aggregate));
        }
        queue.extend(walk::expr(value, Reach::Shallow).vars().map(|n| n.text.as_str()));
    }
    inventing
}
