#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The lowering of a checked package to the IR: names become ids, types become base types,
//! and the graph and strata are computed once.

use gov_check::{Origin, PackageFile, ParsedPackage};
use gov_diag::FileId;
use gov_ir::{Arg, Atom, Const, DecisionId, Expr, Head, Ir, Literal, MessagePart, Node, RelationId, VarId};
use gov_value::{AggregateFn, BaseType, CompareOp, Effect, RelationKind};
use std::sync::Arc;

fn program(source: &str) -> ParsedPackage {
    let parsed = Arc::new(gov_syntax::parse(FileId(0), source));
    let files = vec![PackageFile { id: FileId(0), parsed, origin: Origin::Package }];
    ParsedPackage { files, available_modules: Vec::new() }
}

fn check(source: &str) -> gov_check::Checked {
    gov_check::check(&program(source))
}

fn lower(source: &str) -> Ir {
    let program = program(source);
    let checked = gov_check::check(&program);
    assert!(!checked.has_errors(), "{:?}", checked.diagnostics);
    gov_check::lower(&program, &checked).expect("a package without errors is lowered")
}

fn relation(ir: &Ir, name: &str) -> RelationId {
    RelationId(ir.relations.iter().position(|r| r.name == name).unwrap() as u32)
}

#[test]
fn names_become_ids_and_types_base_types() {
    let ir = lower(
        "package shop\n\ntype Money = Decimal\n\ninput order(customer: Str, total: Money)\n\n\
         big(c) :- order(total: t, customer: c), t > 100.\n\
         deny large \"{c} spends\" :- big(c), n = count(x : order(x, _)), n > 2.\n",
    );
    let order = relation(&ir, "order");
    let big = relation(&ir, "big");
    assert_eq!(ir.relations[order.index()].kind, RelationKind::Input);
    assert_eq!(ir.relations[order.index()].columns[1].ty, BaseType::Decimal);
    assert_eq!(ir.relations[order.index()].columns[1].type_name, "Money");
    assert_eq!(ir.relations[big.index()].columns[0].ty, BaseType::Str);

    // `big(c) :- order(total: t, customer: c), t > 100.`: named arguments are columns.
    let rule = &ir.rules[0];
    assert_eq!(rule.head, Head::Derive { relation: big, args: vec![Expr::Var(VarId(1))] });
    let names: Vec<(&str, BaseType)> = rule.vars.iter().map(|v| (v.name.as_str(), v.ty)).collect();
    assert_eq!(names, [("t", BaseType::Decimal), ("c", BaseType::Str)]);
    assert_eq!(
        rule.body,
        [
            Literal::Atom(Atom {
                relation: order,
                args: vec![
                    Arg { column: 1, value: Expr::Var(VarId(0)) },
                    Arg { column: 0, value: Expr::Var(VarId(1)) }
                ],
            }),
            Literal::Compare { left: Expr::Var(VarId(0)), op: CompareOp::Gt, right: Expr::Const(Const::Int(100)) },
        ]
    );

    // The decision rule: an aggregate with its own body, one id per variable name.
    let decision = &ir.decisions[0];
    assert_eq!((decision.name.as_str(), decision.effect), ("large", Effect::Deny));
    let rule = &ir.rules[decision.rule.index()];
    assert_eq!(rule.head, Head::Decide(DecisionId(0)));
    assert_eq!(decision.message, [MessagePart::Var(VarId(0)), MessagePart::Text(" spends".to_owned())]);
    let Literal::Aggregate { result, aggregate } = &rule.body[1] else { panic!("{:?}", rule.body[1]) };
    assert_eq!(*result, Expr::Var(VarId(1)));
    assert_eq!(aggregate.function, AggregateFn::Count);
    assert_eq!(rule.vars[1].ty, BaseType::Int);
    assert_eq!(rule.vars[2].name, "x");
}

#[test]
fn the_graph_and_strata_are_computed_once() {
    let ir = lower(
        "package net\n\ninput request(from: Str, to: Str)\ndata link(a: Str, b: Str)\n\n\
         reach(a, b) :- link(a, b).\nreach(a, c) :- reach(a, b), link(b, c).\n\
         deny unreachable :- request(f, t), not reach(f, t).\n\
         risk far 10 :- request(f, t), reach(f, t).\n\
         @overrides(ok)\ndeny loud :- risk_score(s), s > 5.\nallow ok :- request(_, _).\n",
    );
    let reach = relation(&ir, "reach");
    let risk = ir.relations.iter().position(|r| r.kind == RelationKind::Builtin).unwrap();
    let node = |n: Node| ir.graph.index(n);
    // Both rules of `reach` read `link`; the recursive one reads `reach` too.
    let reads = &ir.graph.reads[reach.index()];
    assert_eq!(reads.iter().filter(|&&r| r == reach.index()).count(), 1);
    // The `risk` rule feeds `risk_score`, which `loud` reads.
    assert!(ir.graph.readers[node(Node::Decision(DecisionId(1)))].contains(&risk));
    assert!(ir.graph.reads[node(Node::Decision(DecisionId(2)))].contains(&risk));
    assert_eq!(ir.decisions[2].overrides, [DecisionId(3)]);
    // `reach` is one recursive stratum, after `link` and before the rules reading it.
    let stratum_of = |index: usize| ir.strata.iter().position(|s| s.members.contains(&index)).unwrap();
    let reach_stratum = &ir.strata[stratum_of(reach.index())];
    assert!(reach_stratum.recursive);
    assert_eq!(reach_stratum.members, [reach.index()]);
    assert!(stratum_of(relation(&ir, "link").index()) < stratum_of(reach.index()));
    assert!(stratum_of(reach.index()) < stratum_of(node(Node::Decision(DecisionId(0)))));
    assert!(stratum_of(risk) < stratum_of(node(Node::Decision(DecisionId(2)))));
    assert!(ir.strata.iter().filter(|s| s.recursive).count() == 1);
}

#[test]
fn only_a_package_without_errors_is_lowered() {
    let source = "package p\n\ninput x(a: Int)\n\ndeny d :- x(a), y(a).\n";
    let broken = check(source);
    assert!(broken.has_errors());
    assert_eq!(gov_check::lower(&program(source), &broken), Err(gov_check::LowerError::HasErrors));
}

/// E0205 comes from the checker itself (lowering is not part of checking), at the first
/// untyped column, or else at the first untyped variable; the package is then not lowered.
#[test]
fn the_checker_reports_a_type_nothing_determines() {
    let uninferred = |source: &str| {
        let checked = check(source);
        let found: Vec<(&str, &str)> =
            checked.diagnostics.iter().map(|d| (d.code.id, d.message.as_str())).filter(|d| d.0 == "E0205").collect();
        assert_eq!(gov_check::lower(&program(source), &checked), Err(gov_check::LowerError::HasErrors));
        found.iter().map(|(_, message)| message.to_string()).collect::<Vec<_>>()
    };
    // A column no value of a known type reaches (its variable too: the column is reported).
    assert_eq!(
        uninferred("package p\n\ninput x(a: Int)\n\nq(v) :- q(v).\ndeny d :- x(_).\n"),
        ["the type of column 1 of `q` cannot be inferred"]
    );
    // A variable the solver never reaches: each `=` types the next only one round later,
    // and the rounds are bounded.
    let chain: Vec<String> = (1..=10).rev().map(|i| format!("w{i} = w{} + 1", i - 1)).collect();
    let source = format!("package p\n\ninput x(a: Int)\n\ndeny d :- x(w0), {}.\n", chain.join(", "));
    assert_eq!(uninferred(&source), ["the type of `w10` cannot be inferred"]);
}
