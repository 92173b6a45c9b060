#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The bundle loader against damaged, truncated, forged and random input: every problem is
//! a `LoadError` naming a byte offset, or (for a forged bundle whose hash was recomputed)
//! a program that the engine evaluates within its limits, never a panic, a hang or a huge
//! allocation. The program is built by hand, so these tests do not depend on the compiler:
//! it has a recursive stratum with a semi-naive variant, a negation, `count`, `sum` and
//! `max` aggregates, a nullary relation, the risk score and every decision effect.

use gov_value::{ArithOp, BaseType, CompareOp, Decimal};
use gov_vm::bundle::{self, HEADER_LEN, MAX_RULE_LENGTH};
use gov_vm::program::*;
use gov_vm::{Engine, Limits, Outcome, Value};
use proptest::prelude::*;
use sha2::{Digest, Sha256};
/// No test here holds more than this at once (counted per thread by `allocation_counter`,
/// whose global allocator this test binary links, so tests running alongside do not count).
const ALLOCATION_BOUND: u64 = 64 << 20;

const SECRET: [u8; 32] = [7; 32];

/// Small limits, so a forged program cannot keep a test busy.
const SMALL: Limits = Limits {
    max_facts: 2_000,
    max_fact_bytes: 1 << 20,
    max_steps: 200_000,
    max_rounds: 50,
    max_request_bytes: gov_vm::MAX_REQUEST_BYTES,
};

/// Builds programs with an interned string table.
#[derive(Default)]
struct Builder {
    program: Program,
}

impl Builder {
    fn sym(&mut self, text: &str) -> Sym {
        if let Some(i) = self.program.strings.iter().position(|s| s == text) {
            return i as Sym;
        }
        self.program.strings.push(text.to_owned());
        (self.program.strings.len() - 1) as Sym
    }
    fn constant(&mut self, value: Value) -> Operand {
        self.program.constants.push(value);
        Operand::Const((self.program.constants.len() - 1) as u32)
    }
    fn int(&mut self, i: i64) -> Operand {
        self.constant(Value::Int(i))
    }
    fn at(&mut self, line: u32) -> SourceRef {
        SourceRef { file: self.sym("fuzz.gov"), line, column: 1 }
    }
    /// A relation with named columns (`None` names for derived ones).
    fn relation(
        &mut self,
        name: &str,
        kind: RelationKind,
        phase: Phase,
        columns: &[(Option<&str>, BaseType)],
        indexes: &[&[u8]],
    ) -> u32 {
        let name = self.sym(name);
        let columns = columns
            .iter()
            .map(|(n, ty)| ColumnSchema {
                name: n.map(|n| self.sym(n)),
                ty: *ty,
                type_name: self.sym(ty.name()),
                contents: None,
            })
            .collect();
        let indexes = indexes.iter().map(|i| i.to_vec()).collect();
        self.program.relations.push(RelationSchema { name, kind, one: false, phase, columns, indexes });
        (self.program.relations.len() - 1) as u32
    }
    fn decision(
        &mut self,
        name: &str,
        effect: Effect,
        approver: Option<&str>,
        message: &[Result<&str, u16>],
        line: u32,
    ) -> u32 {
        let name = self.sym(name);
        let approver = approver.map(|a| Approver::Group(self.sym(a)));
        let message = message
            .iter()
            .map(|part| match part {
                Ok(text) => MessagePart::Text(self.sym(text)),
                Err(i) => MessagePart::Value(*i),
            })
            .collect();
        let source = self.at(line);
        self.program.decisions.push(DecisionMeta { name, effect, approver, message, overrides: Vec::new(), source });
        (self.program.decisions.len() - 1) as u32
    }
    fn rule(&mut self, registers: u16, line: u32, code: Vec<Instr>) -> u32 {
        let source = self.at(line);
        self.program.rules.push(RuleCode { registers, code, source });
        (self.program.rules.len() - 1) as u32
    }
}

fn scan(rel: u32, binds: &[(u8, u16)]) -> Instr {
    Instr::Scan { rel, source: Source::Full, index: None, key: Vec::new(), binds: binds.to_vec(), checks: Vec::new() }
}

fn lookup(rel: u32, source: Source, key: Operand, binds: &[(u8, u16)]) -> Instr {
    Instr::Scan { rel, source, index: Some(0), key: vec![key], binds: binds.to_vec(), checks: Vec::new() }
}

const R0: Operand = Operand::Reg(0);
const R1: Operand = Operand::Reg(1);
const R2: Operand = Operand::Reg(2);

/// A small but complete policy:
///
/// ```text
/// input req(agent: Agent, amount: Int)           data edge(from: Str, to: Str)
/// data blocked(agent: Agent)
/// path(a, b) :- edge(a, b).                      path(a, c) :- edge(a, b), path(b, c).
/// reach(a, n) :- req(a, _), n = count(b : path(a, b)).
/// spent(a, s) :- req(a, _), s = sum(x : req(a, x)).
/// alarm() :- spent(_, s), s >= 1000.
/// deny too_large "amount {amt} is over the limit" :- req(_, amt), amt > 100.
/// allow ok :- req(a, _), not blocked(a).
/// risk far (n * 20) "reaches {n} accounts" :- reach(_, n), n > 1.
/// escalate risky to "fraud-desk" "risk {s}" :- risk_score(s), s >= 50.
/// deny alarmed "alarm" :- alarm().
/// obligation largest "largest amount {m}" :- req(_, _), m = max(x : req(_, x)).
/// deny frozen "frozen" :- req("z", _).            (keyed: runs only for a request of "z")
/// ```
fn sample() -> Program {
    let mut b = Builder::default();
    use BaseType::{Int, Str};
    use RelationKind::{Data, Derived, Input};
    let req = b.relation("req", Input, Phase::Request, &[(Some("agent"), Str), (Some("amount"), Int)], &[&[0]]);
    let edge = b.relation("edge", Data, Phase::Static, &[(Some("from"), Str), (Some("to"), Str)], &[&[0]]);
    let blocked = b.relation("blocked", Data, Phase::Static, &[(Some("agent"), Str)], &[&[0]]);
    let path = b.relation("path", Derived, Phase::Static, &[(None, Str), (None, Str)], &[&[0]]);
    let reach = b.relation("reach", Derived, Phase::Request, &[(None, Str), (None, Int)], &[]);
    let risk_score = b.relation("risk_score", RelationKind::Builtin, Phase::Request, &[(Some("score"), Int)], &[]);
    let alarm = b.relation("alarm", Derived, Phase::Request, &[], &[]);
    let spent = b.relation("spent", Derived, Phase::Request, &[(None, Str), (None, Int)], &[]);
    // The type names the column types refer to (`Agent` is an alias).
    let agent = b.sym("Agent");
    b.program.relations[req as usize].columns[0].type_name = agent;

    let too_large = b.decision("too_large", Effect::Deny, None, &[Ok("amount "), Err(0), Ok(" is over the limit")], 20);
    let ok = b.decision("ok", Effect::Allow, None, &[], 21);
    let far = b.decision("far", Effect::Risk, None, &[Ok("reaches "), Err(0), Ok(" accounts")], 22);
    let risky = b.decision("risky", Effect::Escalate, Some("fraud-desk"), &[Ok("risk "), Err(0)], 23);
    let alarmed = b.decision("alarmed", Effect::Deny, None, &[Ok("alarm")], 24);
    let largest = b.decision("largest", Effect::Obligation, None, &[Ok("largest amount {"), Err(0), Ok("}")], 25);
    let frozen = b.decision("frozen", Effect::Deny, None, &[Ok("frozen")], 26);

    let (c100, c1, c20, c50, c1000) = (b.int(100), b.int(1), b.int(20), b.int(50), b.int(1000));
    // Constants of every type, for the round trip (the code uses only some).
    b.constant(Value::Decimal(Decimal::new(-12_345, 2)));
    let s = b.sym("a \"quoted\" string");
    b.constant(Value::Str(s));
    b.constant(Value::Bool(true));
    b.constant(Value::Time(1_769_850_000_000_000_000));
    b.constant(Value::Duration(-90_000_000_000));

    let base = b.rule(2, 10, vec![scan(edge, &[(0, 0), (1, 1)]), Instr::Emit { rel: path, values: vec![R0, R1] }]);
    let step = |source| {
        vec![
            scan(edge, &[(0, 0), (1, 1)]),
            lookup(path, source, R1, &[(1, 2)]),
            Instr::Emit { rel: path, values: vec![R0, R2] },
        ]
    };
    let recursive = b.rule(3, 11, step(Source::Full));
    let delta = b.rule(3, 11, step(Source::Delta));
    let count = Instr::Aggregate { function: AggregateFn::Count, ty: Int, dst: 1, target: R2, locals: vec![2], len: 1 };
    let reach_rule = b.rule(
        3,
        12,
        vec![
            scan(req, &[(0, 0)]),
            count,
            lookup(path, Source::Full, R0, &[(1, 2)]),
            Instr::Emit { rel: reach, values: vec![R0, R1] },
        ],
    );
    let sum = Instr::Aggregate { function: AggregateFn::Sum, ty: Int, dst: 1, target: R2, locals: vec![2], len: 1 };
    let spent_rule = b.rule(
        3,
        13,
        vec![
            scan(req, &[(0, 0)]),
            sum,
            lookup(req, Source::Full, R0, &[(1, 2)]),
            Instr::Emit { rel: spent, values: vec![R0, R1] },
        ],
    );
    let alarm_rule = b.rule(
        1,
        14,
        vec![
            scan(spent, &[(1, 0)]),
            Instr::Compare { op: CompareOp::Ge, left: R0, right: c1000 },
            Instr::Emit { rel: alarm, values: vec![] },
        ],
    );
    let too_large_rule = b.rule(
        2,
        20,
        vec![
            scan(req, &[(0, 0), (1, 1)]),
            Instr::Compare { op: CompareOp::Gt, left: R1, right: c100 },
            Instr::Fire { decision: too_large, values: vec![R1] },
        ],
    );
    let ok_rule = b.rule(
        1,
        21,
        vec![
            scan(req, &[(0, 0)]),
            Instr::Absent { rel: blocked, index: Some(0), key: vec![R0] },
            Instr::Fire { decision: ok, values: vec![] },
        ],
    );
    let far_rule = b.rule(
        3,
        22,
        vec![
            scan(reach, &[(0, 0), (1, 1)]),
            Instr::Compare { op: CompareOp::Gt, left: R1, right: c1 },
            Instr::Arith { op: ArithOp::Mul, dst: 2, left: R1, right: c20 },
            Instr::Fire { decision: far, values: vec![R2, R1] },
        ],
    );
    let risky_rule = b.rule(
        1,
        23,
        vec![
            scan(risk_score, &[(0, 0)]),
            Instr::Compare { op: CompareOp::Ge, left: R0, right: c50 },
            Instr::Fire { decision: risky, values: vec![R0] },
        ],
    );
    let alarmed_rule = b.rule(0, 24, vec![scan(alarm, &[]), Instr::Fire { decision: alarmed, values: vec![] }]);
    let max = Instr::Aggregate { function: AggregateFn::Max, ty: Int, dst: 1, target: R2, locals: vec![3, 2], len: 1 };
    let largest_rule = b.rule(
        5,
        25,
        vec![
            scan(req, &[]),
            max,
            scan(req, &[(0, 3), (1, 2)]),
            Instr::Move { dst: 4, src: R1 },
            Instr::Fire { decision: largest, values: vec![Operand::Reg(4)] },
        ],
    );

    let z = b.sym("z");
    let cz = b.constant(Value::Str(z));
    let frozen_rule =
        b.rule(0, 26, vec![lookup(req, Source::Full, cz, &[]), Instr::Fire { decision: frozen, values: vec![] }]);
    let Operand::Const(cz) = cz else { unreachable!() };
    b.program.dispatch = vec![RuleKey { rule: frozen_rule, rel: req, columns: vec![0], constants: vec![cz] }];

    b.program.strata = vec![
        Stratum::Rules { phase: Phase::Static, rules: vec![base, recursive], delta_rules: vec![delta] },
        Stratum::Rules {
            phase: Phase::Request,
            rules: vec![reach_rule, spent_rule, too_large_rule, ok_rule, largest_rule, frozen_rule],
            delta_rules: vec![],
        },
        Stratum::Rules { phase: Phase::Request, rules: vec![far_rule, alarm_rule], delta_rules: vec![] },
        Stratum::RiskScore { rel: risk_score },
        Stratum::Rules { phase: Phase::Request, rules: vec![risky_rule, alarmed_rule], delta_rules: vec![] },
    ];
    let text = |b: &mut Builder, s: &str| Value::Str(b.sym(s));
    let mut edges = Vec::new();
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")] {
        edges.push(text(&mut b, from));
        edges.push(text(&mut b, to));
    }
    let x = text(&mut b, "x");
    b.program.data = vec![(edge, edges), (blocked, vec![x])];
    b.program.meta = Meta {
        package: "fuzz".to_owned(),
        compiler: "by hand".to_owned(),
        source_hash: "sha256:00".to_owned(),
        files: vec!["fuzz.gov".to_owned()],
    };
    b.program
}

const REQUESTS: [&str; 6] = [
    r#"{"req": [{"agent": "a", "amount": 500}]}"#,
    r#"{"req": [{"agent": "a", "amount": 600}, {"agent": "a", "amount": 500}]}"#,
    r#"{"req": [{"agent": "d", "amount": 5}]}"#,
    r#"{"req": [{"agent": "x", "amount": 5}, {"agent": "new", "amount": 7}]}"#,
    r#"{}"#,
    r#"{"req": [{"agent": "a", "amount": 5}, {"agent": "z", "amount": 5}]}"#,
];

/// The names of the rules that fired, in rule order.
fn fired(engine: &Engine, request: &str) -> (Outcome, Vec<String>) {
    let request = engine.request_from_json(request).unwrap();
    let decision = engine.decide(&request).unwrap();
    let program = engine.program();
    let mut names: Vec<String> =
        decision.fired.iter().map(|f| program.string(program.decisions[f.decision as usize].name).to_owned()).collect();
    names.dedup();
    (decision.outcome, names)
}

#[test]
fn the_sample_decides_as_written() {
    let program = sample();
    bundle::validate(&program).unwrap();
    let engine = Engine::load(&bundle::write(&program).unwrap()).unwrap();
    // a reaches b, c and d: 3 accounts, 60 risk points.
    assert_eq!(
        fired(&engine, REQUESTS[0]),
        (Outcome::Deny, vec!["too_large", "ok", "far", "risky", "largest"].into_iter().map(String::from).collect())
    );
    let request = engine.request_from_json(REQUESTS[0]).unwrap();
    let decision = engine.decide(&request).unwrap();
    assert_eq!(engine.risk(&decision).unwrap().0, 60);
    let json = engine.decision_json(&request, &decision).unwrap();
    assert_eq!(json["reasons"][0]["message"], "amount 500 is over the limit");
    assert_eq!(json["approvers"][0], "fraud-desk");
    assert_eq!(json["obligations"][0]["message"], "largest amount {500}");
    // 1100 spent: the nullary `alarm()` is derived and `alarmed` fires.
    let (outcome, names) = fired(&engine, REQUESTS[1]);
    assert_eq!(outcome, Outcome::Deny);
    assert!(names.contains(&"alarmed".to_owned()), "{names:?}");
    // d reaches b, c and (through the cycle) itself: 60 points again, so a human decides.
    assert_eq!(
        fired(&engine, REQUESTS[2]),
        (Outcome::Escalate, vec!["ok", "far", "risky", "largest"].into_iter().map(String::from).collect())
    );
    // x is blocked; `new` is a string the program does not know.
    assert_eq!(fired(&engine, REQUESTS[3]), (Outcome::Allow, vec!["ok".to_owned(), "largest".to_owned()]));
    assert_eq!(fired(&engine, REQUESTS[4]), (Outcome::Deny, vec![]));
    // The keyed rule runs for the request with a fact of "z" (and only there).
    assert_eq!(
        fired(&engine, REQUESTS[5]),
        (Outcome::Deny, vec!["ok", "far", "risky", "largest", "frozen"].into_iter().map(String::from).collect())
    );
}

/// Loads `program` as a forger who recomputed the hash would ship it, and as an embedder
/// would hand it over; both must refuse it, and the message must contain `wanted`.
fn refused(program: &Program, wanted: &str) {
    let error = bundle::read(&bundle::write(program).unwrap()).unwrap_err();
    assert_eq!(error.offset, HEADER_LEN, "{error}");
    assert!(error.message.contains(wanted), "{error}");
    match Engine::from_program(program.clone(), String::new(), SMALL) {
        Err(gov_vm::EvalError::Invalid(message)) => assert!(message.contains(wanted), "{message}"),
        other => panic!("expected an invalid program, got {other:?}"),
    }
}

/// Stored facts compare strings by id, `=` and `<` by text: with two equal strings in the
/// table, a join and `=` would disagree. Here `blocked` holds the first "x" and a request's
/// "x" would be read as the second, so `not blocked(a)` would hold for the blocked agent
/// and `ok` would allow it: a wrong decision. The loader refuses the table instead.
#[test]
fn duplicate_strings_are_refused() {
    let mut program = sample();
    let first = program.strings.iter().position(|s| s == "x").unwrap();
    program.strings.push("x".to_owned());
    refused(&program, &format!("string {} repeats string {first} (\"x\")", program.strings.len() - 1));
}

/// Requests name relations by name, so two relations of one name are refused.
#[test]
fn duplicate_relation_names_are_refused() {
    let mut program = sample();
    program.relations[2].name = program.relations[1].name;
    refused(&program, "relation name 2 repeats relation name 1 (\"edge\")");
}

/// Data a compiler never writes is a load error, never a decision: a fact stated twice
/// (in one group or two; stored once it would hide the forgery, stored twice it would count
/// twice in an aggregate) and a value of another type than its column.
#[test]
fn forged_data_is_refused() {
    let repeated = |split: bool| {
        let mut program = sample();
        let (edge, edges) = program.data[0].clone();
        let again = edges[2..4].to_vec();
        if split {
            program.data.push((edge, again));
        } else {
            program.data[0].1.extend(again);
        }
        program
    };
    for program in [repeated(false), repeated(true)] {
        let error = Engine::load(&bundle::write(&program).unwrap()).unwrap_err();
        assert_eq!((&error.kind, error.offset), (&gov_vm::LoadErrorKind::Invalid, HEADER_LEN), "{error}");
        assert_eq!(error.message, "invalid program: data for relation `edge` states a fact twice (facts 1 and 4)");
        let Err(gov_vm::EvalError::Invalid(message)) = Engine::from_program(program, String::new(), SMALL) else {
            panic!("a repeated fact loaded")
        };
        assert_eq!(message, "data for relation `edge` states a fact twice (facts 1 and 4)");
    }
    let mut ill_typed = sample();
    ill_typed.data[0].1[3] = Value::Int(3);
    refused(&ill_typed, "data for relation 1 has a value of the wrong type");
}

/// The engine keeps static relations (computed at load) apart from a request's: each
/// state in which a fact would land where no rule reads it, or a rule at load would read
/// the request, is refused.
#[test]
fn relations_in_the_wrong_phase_are_refused() {
    fn static_stratum(program: &mut Program) -> &mut Vec<u32> {
        match &mut program.strata[0] {
            Stratum::Rules { rules, .. } => rules,
            Stratum::RiskScore { .. } => unreachable!(),
        }
    }
    // Data is stored with the static relations; a request-phase data relation is empty.
    let mut program = sample();
    program.relations[1].phase = Phase::Request;
    refused(&program, "data relation 1 is not static");
    // The risk score is computed into the request's relations.
    let mut program = sample();
    program.relations[5].phase = Phase::Static;
    refused(&program, "relation 5: the risk score is computed per request");
    // A rule at load reads an input.
    let mut program = sample();
    program.rules[0].code.insert(0, scan(0, &[]));
    refused(&program, "stratum 0 runs rule 0, which reads relation 0, which is not static");
    // A request rule derives into a static relation, which scans read from the load's store.
    let mut program = sample();
    let base = static_stratum(&mut program).remove(0);
    let Stratum::Rules { rules, .. } = &mut program.strata[1] else { unreachable!() };
    rules.push(base);
    refused(&program, "stratum 1 runs rule 0, which derives a static relation");
    // A decision rule at load.
    let mut program = sample();
    let source = program.rules[0].source;
    program.rules.push(RuleCode {
        registers: 0,
        code: vec![scan(1, &[]), Instr::Fire { decision: 1, values: vec![] }],
        source,
    });
    let fire = program.rules.len() as u32 - 1;
    static_stratum(&mut program).push(fire);
    refused(&program, &format!("stratum 0 runs rule {fire}, which does not derive a static relation"));
}

/// The engine runs each stratum once, in order: a relation read before its stratum ran, or
/// by its own stratum where that is not a fixpoint, would be silently incomplete, and so
/// would a risk score computed before a `risk` rule fires. Each such order is refused.
/// A rule key the rule's code does not imply could skip a rule that would fire: the key of
/// `frozen` (`req("z", _)`) forged to "a" would let a request of "z" through (allow, not
/// deny). Every such key is refused at load, as are keys of rules the engine does not run
/// one by one, of relations that are not a request's input, and malformed ones.
#[test]
fn forged_rule_keys_are_refused() {
    let forged = |change: &dyn Fn(&mut Program)| {
        let mut program = sample();
        change(&mut program);
        program
    };
    fn key(p: &mut Program) -> &mut RuleKey {
        &mut p.dispatch[0]
    }
    let cases: Vec<(Program, &str)> = vec![
        (
            forged(&|p| {
                let s = p.strings.iter().position(|s| s == "a").unwrap() as u32;
                p.constants.push(Value::Str(s));
                key(p).constants = vec![p.constants.len() as u32 - 1];
            }),
            "no scan of the rule tests those constants",
        ),
        (forged(&|p| key(p).columns = vec![1]), "column 1 cannot hold constant"),
        (forged(&|p| key(p).rule = 0), "does not run alone in a non-recursive request stratum"),
        (forged(&|p| key(p).rule = 1), "does not run alone in a non-recursive request stratum"),
        (forged(&|p| key(p).rule = 4), "no scan of the rule tests those constants"),
        (forged(&|p| key(p).rel = 1), "is not a request's input"),
        (forged(&|p| key(p).rel = 99), "missing relation 99"),
        (forged(&|p| key(p).constants.push(0)), "one constant for each"),
        (forged(&|p| key(p).constants = vec![]), "one constant for each"),
        (forged(&|p| key(p).constants = vec![9_999]), "missing constant 9999"),
        (
            forged(&|p| {
                key(p).columns = vec![0, 0];
                let first = key(p).constants[0];
                key(p).constants.push(first);
            }),
            "do not ascend",
        ),
        (
            forged(&|p| {
                let again = p.dispatch[0].clone();
                p.dispatch.push(again);
            }),
            "has another key",
        ),
    ];
    for (program, wanted) in &cases {
        refused(program, wanted);
    }
}

#[test]
fn strata_out_of_order_are_refused() {
    fn rules_of(program: &mut Program, stratum: usize) -> &mut Vec<u32> {
        match &mut program.strata[stratum] {
            Stratum::Rules { rules, .. } => rules,
            Stratum::RiskScore { .. } => unreachable!(),
        }
    }
    // `far` reads `reach` before the stratum deriving it.
    let mut program = sample();
    program.strata.swap(1, 2);
    refused(&program, "stratum 1 runs rule 8, which reads relation 4, which stratum 2 derives later");
    // `alarm` reads `spent` in the stratum deriving it, which runs each rule once.
    let mut program = sample();
    rules_of(&mut program, 2).retain(|&r| r != 5);
    rules_of(&mut program, 1).push(5);
    refused(&program, "stratum 1 runs rule 5, which reads relation 7 of its own stratum, which is not recursive");
    // A recursive rule that negates its own relation.
    let mut program = sample();
    program.rules[1].code.insert(1, Instr::Absent { rel: 3, index: Some(0), key: vec![R0] });
    refused(
        &program,
        "stratum 0 runs rule 1, which reads relation 3 of its own stratum under negation or an aggregate",
    );
    // `far` fires its risk points after the score was summed.
    let mut program = sample();
    rules_of(&mut program, 2).retain(|&r| r != 8);
    rules_of(&mut program, 4).push(8);
    refused(&program, "stratum 4 runs rule 8, which fires a risk decision after stratum 3 computed the risk score");
    // Two risk scores.
    let mut program = sample();
    program.strata.push(Stratum::RiskScore { rel: 5 });
    refused(&program, "strata 3 and 5 both compute the risk score");
}

/// The format writes "no index" as index 65535 (and "no name" as string 2³² − 1): a
/// program using that id is an error to write, not a bundle that reads back different.
#[test]
fn ids_the_format_reserves_are_not_written() {
    let mut program = sample();
    let Instr::Scan { index, .. } = &mut program.rules[2].code[1] else { unreachable!() };
    *index = Some(u16::MAX);
    assert_eq!(bundle::write(&program).unwrap_err(), gov_vm::WriteError::ReservedId { id: 65535 });
    let mut program = sample();
    program.relations[3].columns[0].name = Some(u32::MAX);
    let error = bundle::write_signed(&program, &SECRET).unwrap_err();
    assert_eq!(error.to_string(), "cannot write the bundle: id 4294967295 is the value its format uses for none");
}

/// What an engine says of a request another engine read.
const READ_BY_ANOTHER: &str = "invalid request: the request was read by another engine, whose strings are numbered \
                               differently; read it with this engine's `request_from_json`";

/// A request read by one engine and decided by another, whose input has another shape, or
/// that knows fewer or more strings, is a request error: never a fact silently dropped, or
/// joined by symbols that mean other strings there. The same program loaded twice is two
/// engines too.
#[test]
fn a_request_read_for_another_policy_is_refused() {
    let engine = Engine::load(&bundle::write(&sample()).unwrap()).unwrap();
    let decided_by = |other: Program, request: &str| {
        let other = Engine::from_program(other, String::new(), SMALL).unwrap();
        match other.decide(&engine.request_from_json(request).unwrap()) {
            Err(error @ gov_vm::EvalError::Request(_)) => error.to_string(),
            result => panic!("expected a request error, got {result:?}"),
        }
    };
    // Another width.
    let mut narrow = sample();
    narrow.relations[0].columns.pop();
    narrow.relations[0].indexes.clear();
    // `frozen`'s scan loses its test of "z" below, and so its key.
    narrow.dispatch.clear();
    for rule in &mut narrow.rules {
        for instr in &mut rule.code {
            if let Instr::Scan { rel: 0, binds, index, key, .. } = instr {
                binds.retain(|(c, _)| *c == 0);
                *index = None;
                key.clear();
            }
        }
    }
    assert_eq!(decided_by(narrow, REQUESTS[0]), READ_BY_ANOTHER);
    // Another type.
    let mut retyped = sample();
    retyped.relations[0].columns[1].ty = BaseType::Decimal;
    assert_eq!(decided_by(retyped, REQUESTS[0]), READ_BY_ANOTHER);
    // The same program.
    assert_eq!(decided_by(sample(), REQUESTS[0]), READ_BY_ANOTHER);
    // A string the request brought, numbered past the first engine's table: in a
    // program with fewer strings, its symbol means nothing (or another string).
    let big = Engine::load(
        &bundle::write(&{
            let mut program = sample();
            program.strings.extend((0..50).map(|i| format!("filler {i}")));
            program
        })
        .unwrap(),
    )
    .unwrap();
    let request = big.request_from_json(r#"{"req": [{"agent": "new", "amount": 5}]}"#).unwrap();
    match engine.decide(&request) {
        Err(error @ gov_vm::EvalError::Request(_)) => assert_eq!(error.to_string(), READ_BY_ANOTHER),
        result => panic!("expected a request error, got {result:?}"),
    }
}

#[test]
fn round_trip_unsigned_and_signed() {
    let program = sample();
    let read = bundle::read(&bundle::write(&program).unwrap()).unwrap();
    assert_eq!(read.program, program);
    assert!(read.signature.is_none());
    let signed = bundle::read(&bundle::write_signed(&program, &SECRET).unwrap()).unwrap();
    assert_eq!(signed.program, program);
    assert_eq!(signed.hash, read.hash, "the hash covers the payload, signed or not");
    bundle::verify(&signed, &bundle::public_key(&SECRET)).unwrap();
    assert!(bundle::verify(&read, &bundle::public_key(&SECRET)).is_err());
    assert!(bundle::verify(&signed, &bundle::public_key(&[8; 32])).is_err());
}

/// The encoding of the identity point of edwards25519 (y = 1): a key and a signature's R
/// of order 1.
const IDENTITY: [u8; 32] = {
    let mut bytes = [0u8; 32];
    bytes[0] = 1;
    bytes
};

/// An unsigned bundle dressed as signed: flag bit 0 set and the "signature" R = identity,
/// S = 0, which the non-strict ed25519 equation accepts for the identity public key and any
/// message. No secret key is involved, so it must never verify.
#[test]
fn forged_signature_for_the_identity_key_is_refused() {
    let mut bytes = bundle::write(&sample()).unwrap();
    bytes[6] |= 1;
    bytes.extend_from_slice(&IDENTITY);
    bytes.extend_from_slice(&[0u8; 32]);
    let read = bundle::read(&bytes).unwrap();
    let error = bundle::verify(&read, &IDENTITY).unwrap_err();
    assert!(error.to_string().contains("weak public key"), "{error}");
    let error = Engine::load_verified(&bytes, &IDENTITY).unwrap_err();
    assert!(error.to_string().contains("weak public key"), "{error}");
}

/// Every small-order point (the eight-torsion subgroup) is refused as a key, whatever it
/// is asked to verify; an ordinary key is accepted.
#[test]
fn small_order_public_keys_are_refused_at_load() {
    let small_order = [
        IDENTITY,
        // The point of order 2, (0, -1).
        {
            let mut bytes = [0u8; 32];
            bytes[0] = 0xec;
            bytes[1..31].fill(0xff);
            bytes[31] = 0x7f;
            bytes
        },
        // Points of order 4 ((±1, 0) up to sign, y = 0) and 8.
        [0; 32],
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
            0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
    ];
    let signed = bundle::read(&bundle::write_signed(&sample(), &SECRET).unwrap()).unwrap();
    for key in small_order {
        let error = bundle::check_public_key(&key).unwrap_err();
        assert!(error.contains("weak public key"), "{error}");
        assert!(bundle::verify(&signed, &key).is_err());
    }
    bundle::check_public_key(&bundle::public_key(&SECRET)).unwrap();
}

fn arb_value(strings: usize) -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Value::Decimal(Decimal::new(m, s))),
        (0..strings as u32).prop_map(Value::Str),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Time),
        any::<i64>().prop_map(Value::Duration),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    /// (a) Whatever the strings, constants and data, reading what was written gives the
    /// same program.
    #[test]
    fn round_trip_of_varied_programs(
        extra in proptest::collection::vec(".{0,12}", 0..8),
        constants in proptest::collection::vec(arb_value(40), 0..16),
        edges in proptest::collection::btree_set((0u32..40, 0u32..40), 0..20),
        package in ".{0,20}",
        default_allow in any::<bool>(),
    ) {
        let mut program = sample();
        for s in extra {
            if !program.strings.contains(&s) {
                program.strings.push(s);
            }
        }
        while program.strings.len() < 40 {
            let filler = format!("s{}", program.strings.len());
            program.strings.push(if program.strings.contains(&filler) { format!("{filler}'") } else { filler });
        }
        program.constants.extend(constants);
        program.data[0].1 = edges.iter().flat_map(|(a, b)| [Value::Str(*a), Value::Str(*b)]).collect();
        program.meta.package = package;
        program.default_allow = default_allow;
        let bytes = bundle::write(&program).unwrap();
        let read = bundle::read(&bytes).unwrap();
        prop_assert_eq!(&read.program, &program);
        let engine = Engine::from_program(read.program, read.hash, SMALL).unwrap().with_limits(SMALL);
        for request in REQUESTS {
            engine.decide(&engine.request_from_json(request).unwrap()).unwrap();
        }
    }

    /// (a) A rule key of any rule, relation, columns and constants, added or in place of
    /// the sample's: the loader refuses it, or the engine decides every request exactly as
    /// the sample does (a key the code implies skips only rules that cannot fire).
    #[test]
    fn forged_rule_keys_never_change_a_decision(
        rule in 0u32..16,
        rel in 0u32..10,
        columns in proptest::collection::vec(0u8..3, 0..3),
        constants in proptest::collection::vec(0u32..16, 0..3),
        replace in any::<bool>(),
    ) {
        let mut program = sample();
        let key = RuleKey { rule, rel, columns, constants };
        if replace { program.dispatch = vec![key] } else { program.dispatch.push(key) }
        let Ok(read) = bundle::read(&bundle::write(&program).unwrap()) else { return Ok(()) };
        let forged = Engine::from_program(read.program, read.hash, SMALL).unwrap();
        let engine = Engine::load(&bundle::write(&sample()).unwrap()).unwrap();
        for request in REQUESTS.iter().chain([&r#"{"req": [{"agent": "z", "amount": 500}]}"#]) {
            prop_assert_eq!(fired(&forged, request), fired(&engine, request));
        }
    }

    /// (c) Any single bit flipped anywhere: the load fails (content hash, header checks or
    /// length), and a signed bundle fails verification.
    #[test]
    fn bit_flips_are_rejected(at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = bundle::write(&sample()).unwrap();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        let error = bundle::read(&bytes).unwrap_err();
        prop_assert!(error.offset <= bytes.len());
        let mut signed = bundle::write_signed(&sample(), &SECRET).unwrap();
        let i = at.index(signed.len());
        signed[i] ^= 1 << bit;
        prop_assert!(Engine::load_verified(&signed, &bundle::public_key(&SECRET)).is_err());
    }

    /// (c) Random bytes written over random places: rejected.
    #[test]
    fn overwrites_are_rejected(writes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let original = bundle::write(&sample()).unwrap();
        let mut bytes = original.clone();
        for (at, byte) in &writes {
            let i = at.index(bytes.len());
            bytes[i] = *byte;
        }
        if bytes != original {
            prop_assert!(bundle::read(&bytes).is_err());
        }
    }

    /// (c) A forged bundle: payload bytes overwritten and the content hash recomputed, as
    /// an attacker without the signing key would. Loading either fails or gives an engine
    /// that decides within its limits.
    #[test]
    fn forged_payloads_never_panic(writes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)) {
        let mut bytes = bundle::write(&sample()).unwrap();
        let payload = bytes.len() - HEADER_LEN - 32;
        for (at, byte) in &writes {
            bytes[HEADER_LEN + at.index(payload)] = *byte;
        }
        exercise(&rehash(bytes));
    }

    /// (d) Random bytes, alone or as the payload of a well-formed header and trailer.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(bundle::read(&bytes).is_err());
        exercise(&framed(&bytes));
    }
}

/// Recomputes the content hash of an unsigned bundle after its payload was changed.
fn rehash(mut bytes: Vec<u8>) -> Vec<u8> {
    let end = bytes.len() - 32;
    let digest = Sha256::digest(&bytes[HEADER_LEN..end]);
    bytes[end..].copy_from_slice(&digest);
    bytes
}

/// An unsigned bundle around an arbitrary payload.
fn framed(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(bundle::MAGIC);
    bytes.extend_from_slice(&bundle::VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(&Sha256::digest(payload));
    bytes
}

/// Loads `bytes` with small limits and, if that works, decides, explains and disassembles;
/// any outcome but a panic is fine.
fn exercise(bytes: &[u8]) {
    let Ok(read) = bundle::read(bytes) else { return };
    gov_vm::disassemble(&read.program);
    let Ok(engine) = Engine::from_program(read.program, read.hash, SMALL) else { return };
    let engine = engine.with_limits(SMALL);
    for request in REQUESTS {
        let Ok(request) = engine.request_from_json(request) else { continue };
        if let Ok(decision) = engine.decide(&request) {
            let _ = engine.decision_json(&request, &decision);
        }
        let _ = engine.explain(&request);
    }
}

/// Every single byte of the payload set to a few telling values, hash recomputed: the
/// exhaustive version of `forged_payloads_never_panic`, and (with 0xFF in the high byte
/// of every count) the proof that huge counts are refused before they are allocated.
#[test]
fn every_forged_byte_is_handled() {
    let original = bundle::write(&sample()).unwrap();
    let mut loaded = 0;
    let held = allocation_counter::measure(|| loaded = forge_every_byte(&original)).bytes_max;
    // Changed constants, data, names and registers still load: the sweep reached the
    // evaluator, not only the decoder.
    assert!(loaded > 100, "only {loaded} forged bundles loaded");
    assert!(held < ALLOCATION_BOUND, "{held} bytes held at once");
}

/// Sets every byte of `original`'s payload to a few values, recomputing the hash, and
/// exercises each result; returns how many loaded.
fn forge_every_byte(original: &[u8]) -> usize {
    let payload = original.len() - HEADER_LEN - 32;
    let mut loaded = 0;
    for i in HEADER_LEN..HEADER_LEN + payload {
        let byte = original[i];
        for value in [0x00, 0xFF, 0x7F, byte ^ 0x01, byte.wrapping_add(1), byte.wrapping_sub(1)] {
            if value == byte {
                continue;
            }
            let mut bytes = original.to_vec();
            bytes[i] = value;
            let bytes = rehash(bytes);
            if bundle::read(&bytes).is_ok() {
                loaded += 1;
            }
            exercise(&bytes);
        }
    }
    loaded
}

/// (b) Every proper prefix is an error whose offset lies within the prefix.
#[test]
fn every_truncation_is_an_error() {
    for bytes in [bundle::write(&sample()).unwrap(), bundle::write_signed(&sample(), &SECRET).unwrap()] {
        for len in 0..bytes.len() {
            let error = bundle::read(&bytes[..len]).expect_err("a truncated bundle loaded");
            assert!(error.offset <= len, "offset {} past the end ({len}): {error}", error.offset);
        }
        bundle::read(&bytes).unwrap();
    }
}

/// (e) A bundle from a future (or past) format version names byte 4.
#[test]
fn other_versions_are_refused_at_byte_4() {
    // Version 1 is the format before relations carried their multiplicity (`input one`).
    for version in [0u16, 1, bundle::VERSION - 1, bundle::VERSION + 1, u16::MAX] {
        let mut bytes = bundle::write(&sample()).unwrap();
        bytes[4..6].copy_from_slice(&version.to_le_bytes());
        let error = bundle::read(&bytes).unwrap_err();
        assert_eq!(error.offset, 4);
        assert!(error.to_string().contains(&format!("version {version}")), "{error}");
        assert!(error.to_string().contains("rebuild the bundle"), "{error}");
    }
}

#[test]
fn bad_magic_and_flags_are_refused() {
    let mut bytes = bundle::write(&sample()).unwrap();
    bytes[0] = b'X';
    assert_eq!(bundle::read(&bytes).unwrap_err().offset, 0);
    let mut bytes = bundle::write(&sample()).unwrap();
    bytes[6] = 0x02;
    assert_eq!(bundle::read(&bytes).unwrap_err().offset, 6);
    assert_eq!(bundle::read(b"").unwrap_err().offset, 0);
}

/// Each way a bundle fails to load has its own kind, so callers need not read messages;
/// the message (and so the Display text) is unchanged by the kind.
#[test]
fn load_errors_say_their_kind() {
    use gov_vm::LoadErrorKind as Kind;
    let unsigned = bundle::write(&sample()).unwrap();
    let signed = bundle::write_signed(&sample(), &SECRET).unwrap();
    let kind = |bytes: &[u8]| bundle::read(bytes).unwrap_err().kind;
    assert_eq!(kind(&unsigned[..10]), Kind::Truncated);
    assert_eq!(kind(&unsigned[..unsigned.len() - 1]), Kind::Truncated);
    let mut longer = unsigned.clone();
    longer.push(0);
    assert_eq!(kind(&longer), Kind::Malformed);
    let changed = |at: usize, byte: u8| {
        let mut bytes = unsigned.clone();
        bytes[at] = byte;
        bytes
    };
    assert_eq!(kind(&changed(0, b'X')), Kind::BadMagic);
    assert_eq!(kind(&changed(4, 0)), Kind::UnsupportedVersion);
    assert_eq!(kind(&changed(6, 2)), Kind::BadHeader);
    assert_eq!(kind(&changed(12, 1)), Kind::BadHeader);
    assert_eq!(kind(&changed(HEADER_LEN + 3, 0xff)), Kind::HashMismatch);
    let error = bundle::read(&framed(&[1, 0xff, 0xff, 0xff, 0xff])).unwrap_err();
    assert_eq!((&error.kind, error.offset), (&Kind::Malformed, HEADER_LEN + 5));
    assert_eq!(error.to_string(), format!("invalid bundle at byte {}: {}", error.offset, error.message));

    // A data fact for a relation the program does not have: decoded, then refused.
    let mut invalid = sample();
    invalid.data.push((999, vec![Value::Int(1)]));
    assert_eq!(kind(&bundle::write(&invalid).unwrap()), Kind::Invalid);

    let key = |bytes: &[u8], public_key: &[u8; 32]| Engine::load_verified(bytes, public_key).unwrap_err().kind;
    assert_eq!(key(&unsigned, &bundle::public_key(&SECRET)), Kind::Unsigned);
    assert_eq!(key(&signed, &IDENTITY), Kind::BadPublicKey);
    assert_eq!(key(&signed, &bundle::public_key(&[8; 32])), Kind::BadSignature);

    // `data d(x: Int)` holding the largest Int and `q(y) :- d(x), y = x + 1.` at load.
    let mut b = Builder::default();
    let d = b.relation("d", RelationKind::Data, Phase::Static, &[(Some("x"), BaseType::Int)], &[]);
    let q = b.relation("q", RelationKind::Derived, Phase::Static, &[(None, BaseType::Int)], &[]);
    let one = b.int(1);
    let rule = b.rule(
        2,
        1,
        vec![
            scan(d, &[(0, 0)]),
            Instr::Arith { op: ArithOp::Add, dst: 1, left: R0, right: one },
            Instr::Emit { rel: q, values: vec![R1] },
        ],
    );
    b.program.strata.push(Stratum::Rules { phase: Phase::Static, rules: vec![rule], delta_rules: Vec::new() });
    b.program.data.push((d, vec![Value::Int(i64::MAX)]));
    let error = Engine::load(&bundle::write(&b.program).unwrap()).unwrap_err();
    let overflow = gov_vm::EvalError::Arithmetic(gov_value::ArithError::Overflow);
    assert_eq!(error.kind, Kind::Evaluation(overflow), "{error}");
    assert_eq!(
        error.to_string(),
        "invalid bundle at byte 0: evaluating the bundle's data failed: arithmetic overflow during evaluation"
    );
}

/// A count of 2³² − 1 strings in a tiny section is refused where it stands.
#[test]
fn huge_counts_are_refused_before_allocating() {
    let held = allocation_counter::measure(refuse_huge_counts).bytes_max;
    assert!(held < ALLOCATION_BOUND, "{held} bytes held at once");
}

fn refuse_huge_counts() {
    let mut payload = Vec::new();
    let mut meta = Vec::new();
    for text in ["p", "c", "h"] {
        meta.extend_from_slice(&1u32.to_le_bytes());
        meta.extend_from_slice(text.as_bytes());
    }
    meta.extend_from_slice(&0u32.to_le_bytes());
    meta.push(0);
    payload.push(1);
    payload.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    payload.extend_from_slice(&meta);
    payload.push(2);
    payload.extend_from_slice(&8u32.to_le_bytes());
    payload.extend_from_slice(&u32::MAX.to_le_bytes());
    payload.extend_from_slice(&[0; 4]);
    let error = bundle::read(&framed(&payload)).unwrap_err();
    let count_at = HEADER_LEN + 5 + meta.len() + 5;
    assert_eq!(error.offset, count_at + 4, "{error}");
    assert!(error.message.contains("count 4294967295 cannot fit"), "{error}");
    // A section length past the payload.
    let mut payload = vec![1];
    payload.extend_from_slice(&u32::MAX.to_le_bytes());
    let error = bundle::read(&framed(&payload)).unwrap_err();
    assert!(error.message.contains("cannot fit"), "{error}");
}

/// A package whose decisions all lack a message and overrides: 29 bytes each, the least
/// a decision takes. (The decoder once demanded 30.)
#[test]
fn decisions_of_minimal_size_load() {
    let mut program = sample();
    for decision in &mut program.decisions {
        decision.message.clear();
    }
    let bytes = bundle::write(&program).unwrap();
    assert_eq!(bundle::read(&bytes).unwrap().program, program);
}

/// The interpreter recurses once per instruction (each scan runs the rest of the rule per
/// row). A rule of `MAX_RULE_LENGTH` instructions must run in a thread with a 2 MiB stack
/// (the default for spawned threads, and for the tests themselves), nested scans or nested
/// aggregates alike.
fn deep_program(aggregates: bool) -> Program {
    deep_program_of(aggregates, MAX_RULE_LENGTH)
}

fn deep_program_of(aggregates: bool, length: usize) -> Program {
    let mut b = Builder::default();
    let one = b.relation("one", RelationKind::Data, Phase::Static, &[(Some("n"), BaseType::Int)], &[&[0]]);
    let input = b.relation("go", RelationKind::Input, Phase::Request, &[(Some("n"), BaseType::Int)], &[&[0]]);
    let out = b.relation("out", RelationKind::Derived, Phase::Request, &[(None, BaseType::Int)], &[]);
    let mut code = Vec::new();
    code.push(scan(input, &[(0, 0)]));
    let body = length - 2;
    for i in 1..body {
        if aggregates {
            // Each aggregate's body is everything up to the emit.
            code.push(Instr::Aggregate {
                function: AggregateFn::Sum,
                ty: BaseType::Int,
                dst: 1,
                target: R0,
                locals: vec![0],
                len: (body - i) as u32,
            });
        } else {
            code.push(lookup(one, Source::Full, R0, &[(0, 0)]));
        }
    }
    code.push(lookup(one, Source::Full, R0, &[(0, 0)]));
    code.push(Instr::Emit { rel: out, values: vec![R0] });
    assert_eq!(code.len(), length);
    let rule = b.rule(2, 1, code);
    b.program.strata = vec![Stratum::Rules { phase: Phase::Request, rules: vec![rule], delta_rules: vec![] }];
    b.program.data = vec![(one, vec![Value::Int(1)])];
    b.program
}

fn run_deep(aggregates: bool, stack: usize) {
    run_deep_of(aggregates, stack, MAX_RULE_LENGTH);
}

fn run_deep_of(aggregates: bool, stack: usize, length: usize) {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let program = deep_program_of(aggregates, length);
            let read = bundle::read(&bundle::write(&program).unwrap()).unwrap();
            let engine = Engine::from_program(read.program, read.hash, Limits::LOAD).unwrap();
            let request = engine.request_from_json(r#"{"go": [{"n": 1}]}"#).unwrap();
            // A full session: nothing reads `out`.
            let mut session = engine.full_session();
            engine.decide_in(&mut session, &request).unwrap();
            let out = engine.relation_id("out").unwrap();
            assert_eq!(engine.facts(&session, out).len(), 1);
            let (_, explanation) = engine.explain(&request).unwrap();
            assert!(gov_vm::json::explanation(&engine, &request, &explanation).unwrap().is_array());
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn longest_rule_of_nested_scans_fits_a_2_mib_stack() {
    run_deep(false, 2 << 20);
}

#[test]
fn longest_rule_of_nested_aggregates_fits_a_2_mib_stack() {
    run_deep(true, 2 << 20);
}

#[test]
fn longer_rules_and_improper_nesting_are_refused() {
    let mut program = deep_program(false);
    program.rules[0].code.insert(1, Instr::Move { dst: 1, src: R0 });
    assert!(bundle::validate(&program).unwrap_err().contains("instructions"));
    // An aggregate whose body runs past the end of its enclosing aggregate's.
    let mut program = deep_program(true);
    if let Instr::Aggregate { len, .. } = &mut program.rules[0].code[2] {
        *len += 1;
    }
    assert!(bundle::validate(&program).unwrap_err().contains("runs past"));
}

/// One structural change to a program, chosen by `kind`, applied where `at` and `to` say.
/// Unlike byte mutations, these keep the program decodable, so many survive validation
/// and reach the evaluator.
fn mutate(program: &mut Program, kind: u8, at: usize, other: usize, to: u32) {
    let rules = program.rules.len();
    let relations = program.relations.len() as u32;
    let constants = program.constants.len() as u32;
    let operand = |to: u32| {
        if to.is_multiple_of(2) { Operand::Reg((to / 2 % 6) as u16) } else { Operand::Const(to / 2 % (constants + 1)) }
    };
    let rule = &mut program.rules[at % rules];
    let len = rule.code.len();
    let pc = other % len;
    match kind % 16 {
        0 => match &mut rule.code[pc] {
            Instr::Scan { rel, .. } | Instr::Absent { rel, .. } | Instr::Emit { rel, .. } => {
                *rel = to % (relations + 1)
            }
            Instr::Fire { decision, .. } => *decision = to % 8,
            _ => {}
        },
        1 => match &mut rule.code[pc] {
            Instr::Scan { key, checks, .. } => {
                if let Some(k) = key.first_mut() {
                    *k = operand(to);
                } else {
                    checks.push(((to % 3) as u8, operand(to / 3)));
                }
            }
            Instr::Absent { key: values, .. }
            | Instr::Emit { values, .. }
            | Instr::Fire { values, .. }
            | Instr::Call { args: values, .. }
            | Instr::Set { values, .. } => match values.first_mut() {
                Some(v) if !to.is_multiple_of(3) => *v = operand(to),
                _ => values.push(operand(to)),
            },
            Instr::Compare { left, right, .. } | Instr::Arith { left, right, .. } => {
                *(if to.is_multiple_of(2) { left } else { right }) = operand(to / 2)
            }
            Instr::Move { src, dst } => {
                *src = operand(to);
                *dst = (to % 6) as u16;
            }
            Instr::Aggregate { target, locals, .. } => {
                *target = operand(to);
                locals.push((to % 6) as u16);
            }
        },
        2 => match &mut rule.code[pc] {
            Instr::Aggregate { len, function, ty, .. } => {
                *len = to % 5;
                *function =
                    [AggregateFn::Count, AggregateFn::Sum, AggregateFn::Min, AggregateFn::Max][(to / 5 % 4) as usize];
                *ty = BaseType::ALL[(to / 20 % 6) as usize];
            }
            Instr::Compare { op, .. } => {
                *op = [CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge]
                    [(to % 6) as usize]
            }
            Instr::Arith { op, dst, .. } => {
                *op = [ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div][(to % 4) as usize];
                *dst = (to / 4 % 6) as u16;
            }
            Instr::Scan { binds, .. } => binds.push(((to % 3) as u8, (to / 3 % 6) as u16)),
            _ => {}
        },
        3 if len > 1 => {
            rule.code.remove(pc);
        }
        4 => {
            let copy = rule.code[pc].clone();
            rule.code.insert(to as usize % len, copy);
        }
        5 => rule.code.swap(pc, to as usize % len),
        6 => {
            let r = &mut program.relations[to as usize % relations as usize];
            if other.is_multiple_of(2) {
                r.phase = if r.phase == Phase::Static { Phase::Request } else { Phase::Static };
            } else {
                r.kind = [RelationKind::Input, RelationKind::Data, RelationKind::Derived, RelationKind::Builtin]
                    [other / 2 % 4];
            }
        }
        7 => {
            let strata = program.strata.len();
            if let Stratum::Rules { rules: list, delta_rules, phase } = &mut program.strata[to as usize % strata] {
                match other % 4 {
                    0 => list.push((at % rules) as u32),
                    1 => delta_rules.push((at % rules) as u32),
                    2 => *phase = if *phase == Phase::Static { Phase::Request } else { Phase::Static },
                    _ => {
                        list.pop();
                    }
                }
            }
        }
        8 => rule.registers = (to % 6) as u16,
        9 => {
            if let Instr::Scan { source, .. } = &mut rule.code[pc] {
                *source = if *source == Source::Full { Source::Delta } else { Source::Full };
            }
        }
        10 => match &mut rule.code[pc] {
            Instr::Scan { index, key, .. } | Instr::Absent { index, key, .. } => {
                if index.is_some() {
                    *index = None;
                    key.clear();
                } else {
                    *index = Some((to % 2) as u16);
                    key.push(operand(to / 2));
                }
            }
            _ => {}
        },
        11 => {
            if let Some((_, values)) = program.data.get_mut(at % 2)
                && !values.is_empty()
            {
                let i = other % values.len();
                values[i] = match to % 4 {
                    0 => Value::Int(i64::from(to)),
                    1 => Value::Str(to % program.strings.len() as u32),
                    2 => Value::Int(i64::MAX),
                    _ => Value::Bool(true),
                };
            }
        }
        12 => {
            let decisions = program.decisions.len();
            program.decisions[other % decisions].effect =
                [Effect::Deny, Effect::Escalate, Effect::Allow, Effect::Obligation, Effect::Risk][(to % 5) as usize];
        }
        13 => {
            let c = &mut program.constants[(to % constants) as usize];
            *c = match other % 5 {
                0 => Value::Int(0),
                1 => Value::Int(i64::MIN),
                2 => Value::Decimal(Decimal::MAX),
                3 => Value::Duration(i64::MAX),
                _ => Value::Str(0),
            };
        }
        14 => {
            let strata = program.strata.len();
            program.strata.swap(other % strata, to as usize % strata);
        }
        _ => {
            let r = &mut program.relations[to as usize % relations as usize];
            if let Some(c) = r.columns.get_mut(other % 3) {
                c.ty = BaseType::ALL[(to / 7 % 6) as usize];
            } else if other.is_multiple_of(2) {
                r.indexes.push(vec![0]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// (c) Forged programs that pass validation (as a forger who recomputed the hash
    /// could write them) are evaluated within the limits: `Ok` or `Err`, never a panic.
    #[test]
    fn structurally_mutated_programs_never_panic(changes in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>(), any::<u32>()), 1..5)) {
        let mut program = sample();
        for (kind, at, other, to) in changes {
            mutate(&mut program, kind, at, other, to);
        }
        exercise(&bundle::write(&program).unwrap());
    }
}
