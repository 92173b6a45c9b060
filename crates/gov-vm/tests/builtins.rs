#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Calls of built-ins in the engine: what they yield drives the rule (a test, a value, each
//! value, a set literal), strings they make are the session's and read back as text, and a
//! bundle stores them by name: an unknown name or the wrong number of arguments is a load
//! error at the name's offset.

use gov_builtins::Builtin;
use gov_value::BaseType;
use gov_vm::bundle::{self, HEADER_LEN};
use gov_vm::program::*;
use gov_vm::{Engine, LoadErrorKind, Outcome, Value};
use sha2::{Digest, Sha256};

const T: u32 = 0;
const ETC: Operand = Operand::Const(0);
const SPACE: Operand = Operand::Const(1);
const RM: Operand = Operand::Const(2);

/// `input t(s: Str)`, a deny rule `d "{v}"` per entry of `rules` (each its own stratum),
/// and the constants `"/etc/"`, `" "`, `"rm"`.
fn program(rules: Vec<Vec<Instr>>) -> Program {
    let strings = ["t", "s", "Str", "d", "f.gov", "/etc/", " ", "rm"].map(str::to_owned).to_vec();
    let relations = vec![RelationSchema {
        name: 0,
        kind: RelationKind::Input,
        one: false,
        phase: Phase::Request,
        columns: vec![ColumnSchema { name: Some(1), ty: BaseType::Str, type_name: 2, contents: None }],
        indexes: Vec::new(),
    }];
    let source = SourceRef { file: 4, line: 1, column: 1 };
    let decision = |_| DecisionMeta {
        name: 3,
        effect: Effect::Deny,
        approver: None,
        message: vec![MessagePart::Value(0)],
        overrides: Vec::new(),
        source,
    };
    let decisions = (0..rules.len()).map(decision).collect();
    let strata = (0..rules.len())
        .map(|i| Stratum::Rules { phase: Phase::Request, rules: vec![i as u32], delta_rules: Vec::new() })
        .collect();
    let rules = rules.into_iter().map(|code| RuleCode { registers: 3, code, source }).collect();
    let constants = vec![Value::Str(5), Value::Str(6), Value::Str(7)];
    Program { strings, constants, relations, decisions, rules, strata, ..Program::default() }
}

fn scan() -> Instr {
    Instr::Scan { rel: T, source: Source::Full, index: None, key: Vec::new(), binds: vec![(0, 0)], checks: Vec::new() }
}

fn call(builtin: Builtin, args: &[Operand], out: CallOut) -> Instr {
    Instr::Call { builtin, args: args.to_vec(), out }
}

fn fire(value: Operand) -> Instr {
    Instr::Fire { decision: 0, values: vec![value] }
}

/// The messages of the deny rules that fire for `t(s)`.
fn messages(engine: &Engine, s: &str) -> Vec<String> {
    let request = engine.request_from_json(&format!(r#"{{"t": [{{"s": "{s}"}}]}}"#)).unwrap();
    let decision = engine.decide(&request).unwrap();
    if decision.fired.is_empty() {
        assert_eq!(decision.outcome, Outcome::Deny, "the default");
    }
    engine.report(&request, &decision).unwrap().reasons.into_iter().map(|r| r.message).collect()
}

/// `d "{low}" :- t(s), low = str.lower(s), str.starts_with(low, "/etc/").`: the lower-cased
/// text is a string neither the program nor the request has; the report reads it back.
#[test]
fn a_value_and_a_test_decide_and_a_made_string_reads_back() {
    let rule = vec![
        scan(),
        call(Builtin::StrLower, &[Operand::Reg(0)], CallOut::Value(1)),
        call(Builtin::StrStartsWith, &[Operand::Reg(1), ETC], CallOut::Test { negated: false }),
        fire(Operand::Reg(1)),
    ];
    let engine = Engine::load(&bundle::write(&program(vec![rule])).unwrap()).unwrap();
    assert_eq!(messages(&engine, "/ETC/Passwd"), ["/etc/passwd"]);
    assert_eq!(messages(&engine, "/etc/x"), ["/etc/x"]);
    assert_eq!(messages(&engine, "/home/x"), Vec::<String>::new());
    // The session's strings start again with each request.
    assert_eq!(messages(&engine, "/ETC/SHADOW"), ["/etc/shadow"]);
}

/// `each str.split(s, " ")`, and a bound value `in` / `not in` a generator or a set.
#[test]
fn generators_and_sets_bind_and_test() {
    let words =
        vec![scan(), call(Builtin::StrSplit, &[Operand::Reg(0), SPACE], CallOut::Each(1)), fire(Operand::Reg(1))];
    let has_rm = vec![scan(), call(Builtin::StrSplit, &[Operand::Reg(0), SPACE], CallOut::Has(RM)), fire(RM)];
    let lacks_rm = vec![scan(), call(Builtin::StrSplit, &[Operand::Reg(0), SPACE], CallOut::Lacks(RM)), fire(SPACE)];
    let in_set = vec![scan(), Instr::Set { values: vec![ETC, RM], out: CallOut::Has(Operand::Reg(0)) }, fire(ETC)];
    let engine = Engine::load(&bundle::write(&program(vec![words, has_rm, lacks_rm, in_set])).unwrap()).unwrap();
    // One decision rule fires for them all, each distinct value once.
    let mut fired = messages(&engine, "rm -rf /");
    fired.sort();
    assert_eq!(fired, ["-rf", "/", "rm"]);
    assert_eq!(messages(&engine, "ls"), ["ls", " "]);
    let mut fired = messages(&engine, "rm");
    fired.sort();
    assert_eq!(fired, ["/etc/", "rm"]);
}

/// The bytes of a bundle whose one rule calls `str.lower`, and the offset of that name's
/// length prefix.
fn bundle_with_a_call() -> (Vec<u8>, usize) {
    let rule = vec![scan(), call(Builtin::StrLower, &[Operand::Reg(0)], CallOut::Value(1)), fire(Operand::Reg(1))];
    let bytes = bundle::write(&program(vec![rule])).unwrap();
    let name = b"str.lower";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap();
    (bytes, at - 4)
}

/// Recomputes the content hash of an unsigned bundle after its payload was changed.
fn rehash(mut bytes: Vec<u8>) -> Vec<u8> {
    let end = bytes.len() - 32;
    let digest = Sha256::digest(&bytes[HEADER_LEN..end]);
    bytes[end..].copy_from_slice(&digest);
    bytes
}

#[test]
fn a_bundle_naming_an_unknown_builtin_is_malformed_at_the_name() {
    let (mut bytes, at) = bundle_with_a_call();
    bytes[at + 4 + 8] = b'x'; // str.lowex
    let error = Engine::load(&rehash(bytes)).unwrap_err();
    assert_eq!(error.kind, LoadErrorKind::Malformed, "{error}");
    assert_eq!(error.offset, at, "{error}");
    assert!(error.to_string().contains("unknown built-in `str.lowex`"), "{error}");
}

#[test]
fn a_bundle_calling_a_builtin_with_the_wrong_arity_is_malformed_at_the_name() {
    let rule = vec![scan(), call(Builtin::StrLower, &[Operand::Reg(0), ETC], CallOut::Value(1)), fire(Operand::Reg(1))];
    let bytes = bundle::write(&program(vec![rule])).unwrap();
    let name = b"str.lower";
    let at = bytes.windows(name.len()).position(|w| w == name).unwrap() - 4;
    let error = Engine::load(&bytes).unwrap_err();
    assert_eq!(error.kind, LoadErrorKind::Malformed, "{error}");
    assert_eq!(error.offset, at, "{error}");
    assert!(error.to_string().contains("takes 1 argument, the bundle gives 2"), "{error}");
}

/// What a call yields must be used as its kind allows: a value as a test is invalid.
#[test]
fn a_call_used_against_its_kind_is_invalid() {
    let rule = vec![
        scan(),
        call(Builtin::StrLower, &[Operand::Reg(0)], CallOut::Test { negated: false }),
        fire(Operand::Reg(0)),
    ];
    let error = Engine::from_program(program(vec![rule]), String::new(), gov_vm::Limits::LOAD).unwrap_err();
    assert!(error.to_string().contains("str.lower"), "{error}");
    let set = vec![scan(), Instr::Set { values: vec![ETC], out: CallOut::Value(1) }, fire(Operand::Reg(0))];
    assert!(Engine::from_program(program(vec![set]), String::new(), gov_vm::Limits::LOAD).is_err());
}
