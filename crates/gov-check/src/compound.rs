//! List and object fields: their auxiliary relations, and the rewrite of bodies that read
//! them into atoms of those relations (the Datalog way: the back ends and the analysis see
//! only relations).
//!
//! A field `argv: [Str]` of `tool_call` gets the auxiliary relation `tool_call.argv`
//! (an identifier of the list, an element); `arguments: {path: Str}` gets
//! `tool_call.arguments` (an identifier of the object, then its members). The field's own
//! column holds the identifier. In a body:
//!
//! - `tool_call(argv: a)` binds `a` to the list (its identifier); `x in a` becomes
//!   `` `tool_call.argv`(a, x) `` and `not x in a` its negation;
//! - `tool_call(arguments: {path: p})` becomes `tool_call(arguments: o)`,
//!   `` `tool_call.arguments`(o, p) `` with a variable `o` of its own;
//! - `not tool_call(arguments: {path: p})` becomes `0 = count(_ : tool_call(arguments:
//!   {path: p}))`, rewritten in turn: no fact has a matching object.
//!
//! A list or object value is nothing else: a variable bound to one may be bound once, by
//! a positive atom, and then only ranged over with `in` ([E0207](codes::COMPOUND_MISUSE)),
//! so the identifiers never reach a head, a comparison or a message, and the engine's
//! identifiers and the reference evaluator's values cannot disagree.

use crate::hash::{HashMap, HashSet};
use crate::program::ParsedPackage;
use crate::symbols::{CompoundInfo, FieldInfo, Fields, RelationInfo, RelationKind, Symbols, duplicate};
use crate::types::Ty;
use gov_diag::{Diagnostic, Span, codes};
use gov_syntax::ast::{
    Aggregate, AggregateFn, Arg, Atom, BodyItem, Collection, Comparison, Expr, FieldDecl, FieldType, Item, ItemKind,
    Lit, LitValue, Membership, Name, SmolStr,
};
use gov_syntax::suggest::closest;
use gov_value::CompareOp;
use std::borrow::Cow;
use std::sync::Arc;

/// The auxiliary relation of field `field` of `relation`.
pub fn aux_name(relation: &str, field: &str) -> String {
    format!("{relation}.{field}")
}

/// Declares the auxiliary relations of the list and object fields among `fields` of
/// `relation` (of `kind`), and theirs in turn. Their columns' types are resolved later,
/// with the declared relations' (`symbols::field_types`).
pub(crate) fn declare(
    symbols: &mut Symbols,
    relation: &str,
    kind: RelationKind,
    fields: &[FieldDecl],
    diagnostics: &mut Vec<Diagnostic>,
) {
    for field in fields {
        let members: &[FieldDecl] = match &field.ty {
            FieldType::Named(_) => continue,
            FieldType::List(..) => &[],
            FieldType::Object(members, _) => members,
        };
        let list = matches!(field.ty, FieldType::List(..));
        let name = aux_name(relation, &field.name.text);
        if let Some(first) = symbols.relation(&name) {
            diagnostics.push(duplicate("relation", &name, field.name.span, first.span));
            continue;
        }
        let compound = u32::try_from(symbols.compounds.len()).unwrap_or(u32::MAX);
        let mut columns: Fields = smallvec::smallvec![FieldInfo {
            name: None,
            ty: Some(Ty::Compound(compound)),
            span: Some(field.name.span)
        }];
        if list {
            columns.push(FieldInfo { name: None, ty: None, span: Some(field.ty.span()) });
        }
        let mut seen: HashMap<&str, Span> = HashMap::default();
        for member in members {
            if let Some(first) = seen.insert(&member.name.text, member.name.span) {
                diagnostics.push(duplicate("field", &member.name.text, member.name.span, Some(first)));
            }
            columns.push(FieldInfo { name: Some(member.name.text.clone()), ty: None, span: Some(member.name.span) });
        }
        let index = symbols.add_relation(RelationInfo {
            name: name.as_str().into(),
            kind,
            one: false,
            fields: columns,
            poisoned: false,
            span: Some(field.name.span),
            docs: Vec::new(),
            compound: Some(compound),
        });
        symbols.compounds.push(CompoundInfo { relation: index, list, display: display(&field.ty) });
        declare(symbols, &name, kind, members, diagnostics);
    }
}

/// A field type as written: `Str`, `[Str]`, `{path: Str, argv: [Str]}`.
pub fn display(ty: &FieldType) -> String {
    match ty {
        FieldType::Named(name) => name.text.to_string(),
        FieldType::List(name, _) => format!("[{}]", name.text),
        FieldType::Object(members, _) => {
            let members: Vec<String> = members.iter().map(|m| format!("{}: {}", m.name.text, display(&m.ty))).collect();
            format!("{{{}}}", members.join(", "))
        }
    }
}

/// `program` with every body that reads a list or object field rewritten into atoms of the
/// auxiliary relations (the files that have none are shared, not copied), with E0207 and
/// E0113 for what cannot be rewritten.
pub fn desugar<'p>(
    program: &'p ParsedPackage,
    symbols: &Symbols,
    diagnostics: &mut Vec<Diagnostic>,
) -> Cow<'p, ParsedPackage> {
    // The relations whose atoms the rewrite acts on: those with a list or object field, and
    // the auxiliary ones (refused in a body). An item reading none of them and writing no
    // list or object syntax (`Item::compound_syntax`) is left as it is, uncopied.
    let touched: HashSet<&str> = symbols
        .relations
        .iter()
        .filter(|r| r.compound.is_some() || r.fields.iter().any(|f| matches!(f.ty, Some(Ty::Compound(_)))))
        .map(|r| r.name.as_str())
        .collect();
    // Copied only when an item changes: the package, then the file, at their first change.
    let mut out: Option<ParsedPackage> = None;
    for (f, file) in program.files.iter().enumerate() {
        let mut parsed: Option<gov_syntax::Parsed> = None;
        for (i, item) in file.parsed.file.items.iter().enumerate() {
            // Which items to rewrite is a question of their shape: asked of the trees as
            // parsed, so that the items an edit moved are not copied (`ItemAt`).
            let tree = item.unmoved();
            let body = match &tree.kind {
                ItemKind::Rule(rule) => &rule.body,
                ItemKind::Decision(decision) => &decision.body,
                ItemKind::Invariant(invariant) => &invariant.body,
                _ => continue,
            };
            if !tree.compound_syntax && !reads_any(body, &touched) {
                continue;
            }
            let mut rewriter = Rewriter { symbols, diagnostics: &mut *diagnostics, changed: false };
            // Rewritten on a copy, kept only if the rewrite changed it: an item it leaves
            // alone stays the parse's own tree, which the per-item memo of the rule pass
            // recognises by its origin (`rules::ItemMemo`); a changed one gets a new origin.
            let mut copy = Item::clone(item);
            match &mut copy.kind {
                ItemKind::Rule(rule) => {
                    let env = rewriter.body(&mut rule.body, &HashMap::default(), &HashSet::default());
                    let head: Vec<&Expr> = rule.head.args.iter().map(|a| &a.value).collect();
                    rewriter.refuse_in(&head, &env, "a rule's head");
                }
                ItemKind::Decision(decision) => {
                    let env = rewriter.body(&mut decision.body, &HashMap::default(), &HashSet::default());
                    let points: Vec<&Expr> = decision.points.iter().collect();
                    rewriter.refuse_in(&points, &env, "risk points");
                    if let Some(gov_syntax::ast::Approver::Var(var)) = &decision.approver {
                        rewriter.refuse_name(var, &env, "an approver");
                    }
                    for part in decision.message.iter().flat_map(|m| m.parts.iter()) {
                        if let gov_syntax::ast::MessagePart::Var(var) = part {
                            rewriter.refuse_name(var, &env, "a message");
                        }
                    }
                }
                ItemKind::Invariant(invariant) => {
                    rewriter.body(&mut invariant.body, &HashMap::default(), &HashSet::default());
                }
                _ => {}
            }
            if rewriter.changed {
                // A changed tree, not a moved one (`gov_syntax::ast::Origin`).
                copy.origin = gov_syntax::ast::Origin::fresh();
                let parsed = parsed.get_or_insert_with(|| (*file.parsed).clone());
                if let Some(slot) = parsed.file.items.get_mut(i) {
                    *slot = gov_syntax::ast::ItemAt::new(copy);
                }
            }
        }
        if let Some(parsed) = parsed
            && let Some(file) = out.get_or_insert_with(|| program.clone()).files.get_mut(f)
        {
            file.parsed = Arc::new(parsed);
        }
    }
    out.map_or(Cow::Borrowed(program), Cow::Owned)
}

/// Whether `body` (its aggregates' included) has an atom of a relation of `touched`.
fn reads_any(body: &[BodyItem], touched: &HashSet<&str>) -> bool {
    !touched.is_empty()
        && gov_syntax::walk::bodies(body).any(|b| {
            b.iter().any(|item| {
                matches!(item, BodyItem::Atom(atom) | BodyItem::Not(atom, _) if touched.contains(atom.relation.text.as_str()))
            })
        })
}

/// The variables bound to list or object values in a body and its enclosing bodies, with
/// their compound type.
type Env = HashMap<SmolStr, u32>;

struct Rewriter<'s, 'd> {
    symbols: &'s Symbols,
    diagnostics: &'d mut Vec<Diagnostic>,
    changed: bool,
}

impl Rewriter<'_, '_> {
    /// Rewrites `body` (whose enclosing bodies bind `outer`, and name the variables
    /// `outer_names` outside it); returns what it binds too.
    fn body(&mut self, body: &mut Vec<BodyItem>, outer: &Env, outer_names: &HashSet<SmolStr>) -> Env {
        let mut env = outer.clone();
        let mut added: Vec<BodyItem> = Vec::new();
        // Where each variable occurs: a negated pattern's variables must occur elsewhere
        // (read before the patterns of positive atoms move into atoms of their own).
        let occurrences: Vec<Vec<SmolStr>> = body
            .iter()
            .map(|item| {
                gov_syntax::walk::body(std::slice::from_ref(item), gov_syntax::walk::Reach::Deep)
                    .vars()
                    .map(|v| v.text.clone())
                    .collect()
            })
            .collect();
        for item in body.iter() {
            if let BodyItem::Atom(atom) | BodyItem::Not(atom, _) = item {
                self.refuse_contents_relation(atom);
            }
        }
        // First the positive atoms: they bind the lists and unfold the object patterns.
        for item in body.iter_mut() {
            if let BodyItem::Atom(atom) = item {
                self.atom(atom, &mut env, &mut added);
            }
        }
        let mut index = 0;
        while let Some(atom) = added.get_mut(index) {
            if let BodyItem::Atom(atom) = atom {
                let mut more = Vec::new();
                self.atom(atom, &mut env, &mut more);
                added.extend(more);
            }
            index += 1;
        }
        for (index, item) in body.iter_mut().enumerate() {
            let others: HashSet<&str> = occurrences
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .flat_map(|(_, names)| names.iter().map(SmolStr::as_str))
                .chain(outer_names.iter().map(SmolStr::as_str))
                .collect();
            let others_owned: HashSet<SmolStr> = others.iter().map(SmolStr::new).collect();
            match item {
                BodyItem::Atom(_) => {}
                BodyItem::In(membership) => {
                    if let Some(atom) = self.membership(membership, &env) {
                        *item = atom;
                    }
                }
                BodyItem::Not(atom, span) => {
                    for arg in &atom.args {
                        self.refuse_pattern(&arg.value, "a negated atom");
                        self.refuse_in(&[&arg.value], &env, "a negated atom");
                    }
                    if atom.args.iter().any(|a| matches!(a.value, Expr::Object(_))) {
                        let mut comparison = self.negated_pattern(atom, *span, &others);
                        if let BodyItem::Compare(Comparison { right: Expr::Aggregate(aggregate), .. }) = &mut comparison
                        {
                            self.aggregate(aggregate, &env, &others_owned);
                        }
                        *item = comparison;
                        self.changed = true;
                    }
                }
                BodyItem::Compare(comparison) => {
                    let (left, right) = (&comparison.left, &comparison.right);
                    let mut names = others_owned.clone();
                    for side in [left, right].into_iter().filter(|e| !matches!(e, Expr::Aggregate(_))) {
                        names.extend(
                            gov_syntax::walk::expr(side, gov_syntax::walk::Reach::Shallow)
                                .vars()
                                .map(|v| v.text.clone()),
                        );
                    }
                    if let Expr::Aggregate(aggregate) = &mut comparison.right {
                        self.aggregate(aggregate, &env, &names);
                    }
                    if let Expr::Aggregate(aggregate) = &mut comparison.left {
                        self.aggregate(aggregate, &env, &names);
                    }
                    let sides = [&comparison.left, &comparison.right];
                    let shallow: Vec<&Expr> = sides.into_iter().filter(|e| !matches!(e, Expr::Aggregate(_))).collect();
                    self.refuse_in(&shallow, &env, "a comparison");
                    for side in [&comparison.left, &comparison.right] {
                        self.refuse_pattern(side, "a comparison");
                    }
                }
                BodyItem::Test(call) | BodyItem::NotTest(call, _) => {
                    let args: Vec<&Expr> = call.args.iter().collect();
                    self.refuse_in(&args, &env, "a built-in's argument");
                }
            }
        }
        if !added.is_empty() {
            self.changed = true;
            body.extend(added);
        }
        env
    }

    fn aggregate(&mut self, aggregate: &mut Aggregate, outer: &Env, outer_names: &HashSet<SmolStr>) {
        let mut names = outer_names.clone();
        names.extend(
            gov_syntax::walk::expr(&aggregate.target, gov_syntax::walk::Reach::Shallow).vars().map(|v| v.text.clone()),
        );
        let env = self.body(&mut aggregate.body, outer, &names);
        self.refuse_in(&[&aggregate.target], &env, "an aggregate's value");
    }

    /// Binds the list and object values of a positive atom and unfolds its object
    /// patterns into atoms appended to `added`.
    fn atom(&mut self, atom: &mut Atom, env: &mut Env, added: &mut Vec<BodyItem>) {
        let Some(info) = self.symbols.relation(&atom.relation.text) else { return };
        let relation = atom.relation.text.clone();
        for (position, arg) in atom.args.iter_mut().enumerate() {
            let column = match &arg.field {
                Some(field) => info.fields.iter().position(|f| f.name.as_deref() == Some(field.text.as_str())),
                None => Some(position),
            };
            if column == Some(0) && info.compound.is_some() {
                continue; // an auxiliary relation's identifier, written by the rewrite
            }
            let compound = column.and_then(|c| info.fields.get(c)).and_then(|f| f.ty).and_then(|ty| match ty {
                Ty::Compound(k) => Some(k),
                _ => None,
            });
            match (&arg.value, compound) {
                (Expr::Var(var), Some(k)) => {
                    if env.insert(var.text.clone(), k).is_some() {
                        self.misuse(
                            var.span,
                            format!("`{}` is bound to a list or object twice", var.text),
                            "bound again here",
                        );
                    }
                }
                (Expr::Wildcard(_), _) => {}
                (Expr::Object(pattern), Some(k)) => {
                    let Some(found) = self.symbols.compounds.get(k as usize).filter(|c| !c.list) else {
                        self.misuse(
                            pattern.span,
                            "a list is not an object: bind it to a variable and range over it with `in`".to_owned(),
                            "an object pattern",
                        );
                        continue;
                    };
                    let hidden =
                        Name { text: pattern_variable(&relation, pattern.span.start).into(), span: pattern.span };
                    let aux_atom = self.unfold(found, &hidden, &pattern.members, pattern.span);
                    arg.value = Expr::Var(hidden.clone());
                    env.insert(hidden.text, k);
                    added.push(BodyItem::Atom(aux_atom));
                    self.changed = true;
                }
                (value, Some(k)) => {
                    let what = self.symbols.compounds.get(k as usize).map_or("", |c| c.display.as_str());
                    self.misuse(
                        value.span(),
                        format!("this field holds a value of type `{what}`: bind it to a variable (or `_`)"),
                        "not a variable",
                    );
                }
                (Expr::Var(var), None) if env.contains_key(&var.text) => {
                    self.misuse(
                        var.span,
                        format!("`{}` is a list or object, not a column's value", var.text),
                        "used as a column's value",
                    );
                }
                (value, None) => self.refuse_pattern(value, "a field that is not an object or a list"),
            }
        }
    }

    /// The atom of the auxiliary relation of `compound` for an object pattern's members.
    fn unfold(&mut self, compound: &CompoundInfo, id: &Name, members: &[Arg], span: Span) -> Atom {
        let info = self.symbols.relations.get(compound.relation);
        let fields: &[FieldInfo] = info.map_or(&[], |r| r.fields.as_slice());
        let relation = Name { text: info.map_or_else(SmolStr::default, |r| r.name.clone()), span };
        let mut args: Vec<Arg> = fields.iter().map(|_| Arg { field: None, value: Expr::Wildcard(span) }).collect();
        if let Some(first) = args.first_mut() {
            first.value = Expr::Var(id.clone());
        }
        for member in members {
            let Some(name) = &member.field else { continue };
            let at = fields.iter().position(|f| f.name.as_deref() == Some(name.text.as_str())).filter(|&c| c > 0);
            match at.and_then(|c| args.get_mut(c)) {
                Some(slot) => slot.value = member.value.clone(),
                None => {
                    let known = fields.iter().filter_map(|f| f.name.as_deref());
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::UNKNOWN_MEMBER,
                            format!("`{}` has no member `{}`", compound.display, name.text),
                            name.span,
                        )
                        .with_primary_label("unknown member")
                        .with_did_you_mean(name.span, closest(&name.text, known)),
                    );
                }
            }
        }
        Atom { relation, args, span }
    }

    /// The atom `x in v` stands for, or `None` after reporting why it has none.
    fn membership(&mut self, membership: &Membership, env: &Env) -> Option<BodyItem> {
        let Collection::List(Expr::Var(var)) = &membership.collection else { return None };
        self.refuse_in(&[&membership.element], env, "an element");
        let Some(compound) = env.get(&var.text).and_then(|&k| self.symbols.compounds.get(k as usize)) else {
            self.misuse(
                var.span,
                format!("`{}` is not bound to a list", var.text),
                "`in` ranges over a list field's value",
            );
            return None;
        };
        if !compound.list {
            self.misuse(
                var.span,
                format!("`{}` is an object, not a list", var.text),
                "read an object with a pattern `{member: x}`",
            );
            return None;
        }
        let relation = self.symbols.relations.get(compound.relation)?;
        let atom = Atom {
            relation: Name { text: relation.name.clone(), span: var.span },
            args: vec![
                Arg { field: None, value: Expr::Var(var.clone()) },
                Arg { field: None, value: membership.element.clone() },
            ],
            span: membership.span,
        };
        self.changed = true;
        Some(match membership.negated {
            Some(_) => BodyItem::Not(atom, membership.span),
            None => BodyItem::Atom(atom),
        })
    }

    /// Reports an atom that names the relation of a list's or an object's contents
    /// (`` `call.argv` ``): only the rewrite writes those atoms, so that a list is read as
    /// a list (and its identifier, the engine's, never reaches a rule).
    fn refuse_contents_relation(&mut self, atom: &Atom) {
        let Some(relation) = self.symbols.relation(&atom.relation.text) else { return };
        let Some(compound) = relation.compound.and_then(|k| self.symbols.compounds.get(k as usize)) else { return };
        let (owner, field) = relation.name.rsplit_once('.').unwrap_or(("", relation.name.as_str()));
        let (what, how) = if compound.list {
            ("list", format!("bind the list and range over it: `{owner}({field}: v), x in v`"))
        } else {
            ("object", format!("match the object with a pattern: `{owner}({field}: {{member: x}})`"))
        };
        self.diagnostics.push(
            Diagnostic::new(
                codes::COMPOUND_MISUSE,
                format!(
                    "`{}` holds the contents of the {what} field `{field}` of `{owner}` (`{}`); a rule cannot name it",
                    relation.name, compound.display
                ),
                atom.relation.span,
            )
            .with_primary_label(if compound.list {
                "the contents of a list field"
            } else {
                "the contents of an object field"
            })
            .with_help(how),
        );
    }

    /// `not f(o: {k: v})`, which holds when no fact of `f` has an object matching the
    /// pattern, as `0 = count(_ : f(o: {k: v}))` (whose body the caller rewrites as any
    /// aggregate's): a negated atom negates one fact, and a pattern reads the fact and its
    /// object's members together. Like any variable under `not`, each variable of the
    /// atom must occur elsewhere (`others`, where it is bound or reported unbound): one
    /// that occurs only here is E0302, not a variable of the count.
    fn negated_pattern(&mut self, atom: &Atom, span: Span, others: &HashSet<&str>) -> BodyItem {
        let mut reported: HashSet<&str> = HashSet::default();
        for arg in &atom.args {
            for var in gov_syntax::walk::expr(&arg.value, gov_syntax::walk::Reach::Shallow).vars() {
                if !others.contains(var.text.as_str()) && reported.insert(&var.text) {
                    self.diagnostics.push(
                        Diagnostic::new(
                            codes::UNSAFE_NEGATION,
                            format!("variable `{}` in a negation is not bound", var.text),
                            var.span,
                        )
                        .with_primary_label("not bound by any positive atom")
                        .with_help(format!(
                            "bind `{}` with a positive atom in the body, or write `_` if any value will do",
                            var.text
                        )),
                    );
                }
            }
        }
        // A variable reported is `_` in the count, so it draws no other diagnostic.
        let mut atom = atom.clone();
        for arg in &mut atom.args {
            unbind(&mut arg.value, &reported);
        }
        let count = Aggregate {
            function: AggregateFn::Count,
            target: Expr::Wildcard(span),
            body: vec![BodyItem::Atom(atom)],
            span,
        };
        BodyItem::Compare(Comparison {
            left: Expr::Lit(Lit { value: LitValue::Int(0), raw: "0".to_owned(), span }),
            op: CompareOp::Eq,
            right: Expr::Aggregate(Box::new(count)),
            span,
        })
    }

    /// Reports each list or object variable of `exprs` (and their sub-expressions).
    fn refuse_in(&mut self, exprs: &[&Expr], env: &Env, place: &str) {
        for expr in exprs {
            let vars: Vec<Name> =
                gov_syntax::walk::expr(expr, gov_syntax::walk::Reach::Shallow).vars().cloned().collect();
            for var in vars {
                self.refuse_name(&var, env, place);
            }
        }
    }

    fn refuse_name(&mut self, var: &Name, env: &Env, place: &str) {
        if env.contains_key(&var.text) {
            self.misuse(
                var.span,
                format!("`{}` is a list or object and cannot be used in {place}", var.text),
                "a list or object here",
            );
        }
    }

    /// Reports a list value or an object pattern where none may stand.
    fn refuse_pattern(&mut self, expr: &Expr, place: &str) {
        match expr {
            Expr::List(list) => {
                self.misuse(list.span, "a list `[…]` is written only in a `given` fact".to_owned(), "a list here")
            }
            // Under `not`, a pattern is rewritten (`negated_pattern`).
            Expr::Object(_) if place == "a negated atom" => {}
            Expr::Object(object) => {
                self.misuse(object.span, format!("an object pattern cannot stand in {place}"), "an object pattern here")
            }
            _ => {}
        }
    }

    fn misuse(&mut self, span: Span, message: String, label: &str) {
        self.diagnostics.push(
            Diagnostic::new(codes::COMPOUND_MISUSE, message, span)
                .with_primary_label(label)
                .with_help("a list field is read with `x in v` after an atom binds `v` (`tool_call(argv: v), \"--force\" in v`); an object field with a pattern (`tool_call(arguments: {path: p})`)"),
        );
    }
}

/// `expr` with each variable named in `names` (at its top, or a pattern's member at any
/// depth) replaced by `_`.
fn unbind(expr: &mut Expr, names: &HashSet<&str>) {
    match expr {
        Expr::Var(var) if names.contains(var.text.as_str()) => *expr = Expr::Wildcard(var.span),
        Expr::Object(pattern) => {
            for member in &mut pattern.members {
                unbind(&mut member.value, names);
            }
        }
        _ => {}
    }
}

/// The name of the variable the rewrite reads the object an object pattern matches into:
/// `relation#offset`, which no author can write (`#` is not part of a name).
fn pattern_variable(relation: &str, at: u32) -> String {
    format!("{relation}#{at}")
}

/// Whether `name` is a variable the rewrite made for an object pattern
/// ([`pattern_variable`]) rather than one the author wrote.
pub fn is_pattern_variable(name: &str) -> bool {
    name.contains('#')
}
