//! Moving a syntax tree's spans: an item whose text did not change since the last parse
//! keeps its tree, moved to where its text now stands (`parser::reparse`); the first reader
//! of a moved tree gets a copy with the distance added to every span
//! ([`crate::ast::ItemAt`]).
//!
//! Every node is destructured without `..`, so a new field that holds a span cannot be
//! forgotten here: the match stops compiling.

use crate::ast::{
    Aggregate, Annotation, Approver, Arg, Atom, Binary, BodyItem, Call, Collection, Comparison, DecisionRule,
    ErrorItem, ExpectKind, Expectation, Expr, FieldDecl, FieldType, Fixture, Invariant, Item, ItemKind, Lit,
    Membership, Message, MessagePart, Name, ObjectPattern, Path, RelationDecl, Rule, Salvaged, SetLit, StrLit,
    TestBlock, TestStatement, TypeAlias,
};
use gov_diag::Span;

/// Adds `by` to every span of `item` (modulo 2³², so a move back is a wrapping add).
pub(crate) fn item(item: &mut Item, by: u32) {
    let Item { docs: _, annotations, kind, span, origin: _, compound_syntax: _ } = item;
    shift(span, by);
    for Annotation { name: annotation, args, span } in annotations {
        self::name(annotation, by);
        args.iter_mut().for_each(|arg| self::name(arg, by));
        shift(span, by);
    }
    match kind {
        ItemKind::Package(p) | ItemKind::Use(p) => path(p, by),
        ItemKind::Default(_) => {}
        ItemKind::TypeAlias(TypeAlias { name: alias, target }) => {
            name(alias, by);
            name(target, by);
        }
        ItemKind::Relation(RelationDecl { kind: _, one, name: relation, fields }) => {
            if let Some(one) = one {
                shift(one, by);
            }
            name(relation, by);
            fields.iter_mut().for_each(|field| field_decl(field, by));
        }
        ItemKind::Rule(Rule { head, body: items }) => {
            atom(head, by);
            body(items, by);
        }
        ItemKind::Decision(DecisionRule { effect: _, name: rule, approver, points, message, body: items }) => {
            name(rule, by);
            match approver {
                Some(Approver::Group(group)) => str_lit(group, by),
                Some(Approver::Var(var)) => name(var, by),
                None => {}
            }
            if let Some(points) = points {
                expr(points, by);
            }
            if let Some(Message { parts, span }) = message {
                for part in parts {
                    match part {
                        MessagePart::Text(_) => {}
                        MessagePart::Var(var) => name(var, by),
                    }
                }
                shift(span, by);
            }
            body(items, by);
        }
        ItemKind::Test(TestBlock { name: test, uses, statements: list }) => {
            str_lit(test, by);
            uses.iter_mut().for_each(|fixture| name(fixture, by));
            statements(list, by);
        }
        ItemKind::Invariant(Invariant { name: invariant, always: _, quantifier, effect: _, body: items }) => {
            name(invariant, by);
            shift(quantifier, by);
            body(items, by);
        }
        ItemKind::Fixture(Fixture { name: fixture, statements: list }) => {
            name(fixture, by);
            statements(list, by);
        }
        ItemKind::Error(ErrorItem { salvaged }) => match salvaged {
            Some(Salvaged::Relation(n) | Salvaged::Rule(n) | Salvaged::Type(n)) => name(n, by),
            Some(Salvaged::Test(_)) | None => {}
        },
    }
}

fn field_decl(field: &mut FieldDecl, by: u32) {
    let FieldDecl { name: field, ty } = field;
    name(field, by);
    // Invariant: an object type nests at most `split::MAX_NESTING` deep, so this recursion
    // is shallow.
    match ty {
        FieldType::Named(n) => name(n, by),
        FieldType::List(n, span) => {
            name(n, by);
            shift(span, by);
        }
        FieldType::Object(fields, span) => {
            fields.iter_mut().for_each(|field| field_decl(field, by));
            shift(span, by);
        }
    }
}

fn set_lit(set: &mut SetLit, by: u32) {
    let SetLit { items, span } = set;
    items.iter_mut().for_each(|item| lit(item, by));
    shift(span, by);
}

fn arg(arg: &mut Arg, by: u32) {
    let Arg { field, value } = arg;
    if let Some(field) = field {
        name(field, by);
    }
    expr(value, by);
}

fn shift(span: &mut Span, by: u32) {
    *span = span.shifted(by);
}

fn name(name: &mut Name, by: u32) {
    let Name { text: _, span } = name;
    shift(span, by);
}

fn path(path: &mut Path, by: u32) {
    let Path { segments, span } = path;
    segments.iter_mut().for_each(|segment| name(segment, by));
    shift(span, by);
}

fn str_lit(lit: &mut StrLit, by: u32) {
    let StrLit { value: _, span } = lit;
    shift(span, by);
}

fn lit(lit: &mut Lit, by: u32) {
    let Lit { value: _, raw: _, span } = lit;
    shift(span, by);
}

fn atom(atom: &mut Atom, by: u32) {
    let Atom { relation, args, span } = atom;
    name(relation, by);
    args.iter_mut().for_each(|a| arg(a, by));
    shift(span, by);
}

fn call(call: &mut Call, by: u32) {
    let Call { name: function, args, span } = call;
    name(function, by);
    args.iter_mut().for_each(|arg| expr(arg, by));
    shift(span, by);
}

fn body(items: &mut [BodyItem], by: u32) {
    for item in items {
        match item {
            BodyItem::Atom(a) => atom(a, by),
            BodyItem::Not(a, span) => {
                atom(a, by);
                shift(span, by);
            }
            BodyItem::Compare(Comparison { left, op: _, right, span }) => {
                expr(left, by);
                expr(right, by);
                shift(span, by);
            }
            BodyItem::Test(c) => call(c, by),
            BodyItem::NotTest(c, span) => {
                call(c, by);
                shift(span, by);
            }
            BodyItem::In(membership) => {
                let Membership { negated, element, collection, span } = &mut **membership;
                if let Some(negated) = negated {
                    shift(negated, by);
                }
                expr(element, by);
                match collection {
                    Collection::Call(c) => call(c, by),
                    Collection::Set(set) => set_lit(set, by),
                    Collection::List(list) => expr(list, by),
                }
                shift(span, by);
            }
        }
    }
}

// Invariant: the tree is at most `split::MAX_NESTING` deep (the splitter rejects deeper
// items before they are parsed), so this recursion is shallow.
fn expr(expr: &mut Expr, by: u32) {
    match expr {
        Expr::Var(var) => name(var, by),
        Expr::Wildcard(span) => shift(span, by),
        Expr::Lit(l) => lit(l, by),
        Expr::Binary(binary) => {
            let Binary { left, op: _, right, span } = &mut **binary;
            self::expr(left, by);
            self::expr(right, by);
            shift(span, by);
        }
        Expr::Aggregate(aggregate) => {
            let Aggregate { function: _, target, body: items, span } = &mut **aggregate;
            self::expr(target, by);
            body(items, by);
            shift(span, by);
        }
        Expr::Call(c) => call(c, by),
        Expr::List(list) => set_lit(list, by),
        Expr::Object(object) => {
            let ObjectPattern { members, span } = &mut **object;
            members.iter_mut().for_each(|member| arg(member, by));
            shift(span, by);
        }
    }
}

fn statements(statements: &mut [TestStatement], by: u32) {
    for statement in statements {
        match statement {
            TestStatement::WithData(file) => str_lit(file, by),
            TestStatement::Given(atoms) => atoms.iter_mut().for_each(|a| atom(a, by)),
            TestStatement::Expect(Expectation { kind, span }) => {
                match kind {
                    ExpectKind::Effect { negated: _, effect: _, rules, approvers, messages } => {
                        rules.iter_mut().for_each(|rule| name(rule, by));
                        approvers.iter_mut().chain(messages).for_each(|s| str_lit(s, by));
                    }
                    ExpectKind::Message { negated: _, messages } => messages.iter_mut().for_each(|s| str_lit(s, by)),
                    ExpectKind::Risk(l) => lit(l, by),
                    ExpectKind::Error => {}
                }
                shift(span, by);
            }
        }
    }
}
