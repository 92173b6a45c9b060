//! `govc inspect`: what a bundle holds, readable (with the disassembly) or as JSON.

use crate::cli::{InspectArgs, InspectFormat};
use crate::{Outcome, keys, load, output};
use gov_vm::bundle::Bundle;
use gov_vm::disasm;
use gov_vm::program::{Approver, Instr, Phase, Program, RelationKind, RelationSchema};
use gov_vm::{Engine, Limits};
use serde_json::{Value as Json, json};
use std::fmt::Write;

/// What `inspect` reports about one bundle.
struct Report<'a> {
    path: String,
    size: usize,
    version: u16,
    bundle: &'a Bundle,
    /// Whether the signature was checked against a given public key.
    verified: bool,
    /// Facts per relation: the bundle's data, and what the load-time strata derive.
    facts: Vec<Option<usize>>,
    /// Why the load-time strata could not be evaluated, if they could not.
    static_error: Option<String>,
}

/// Prints a bundle's metadata, schemas, data counts, decision rules and code.
pub fn run(args: &InspectArgs) -> Outcome {
    let shown = load::display(&args.bundle);
    let bytes = match std::fs::read(&args.bundle) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot read `{shown}`: {e}");
            return Outcome::UsageError;
        }
    };
    let bundle = match gov_vm::bundle::read(&bytes) {
        Ok(bundle) => bundle,
        Err(e) => {
            eprintln!("error: `{shown}`: {e}");
            return Outcome::UsageError;
        }
    };
    if let Some(key_file) = &args.public_key {
        let checked = keys::read_public(key_file)
            .and_then(|key| gov_vm::bundle::verify(&bundle, &key).map_err(|e| format!("`{shown}`: {e}")));
        if let Err(message) = checked {
            eprintln!("error: {message}");
            return Outcome::UsageError;
        }
    }
    let version = bytes.get(4..6).and_then(|b| b.try_into().ok()).map_or(0, u16::from_le_bytes);
    let (facts, static_error) = fact_counts(&bundle);
    let report = Report {
        path: shown,
        size: bytes.len(),
        version,
        bundle: &bundle,
        verified: args.public_key.is_some(),
        facts,
        static_error,
    };
    match args.format {
        InspectFormat::Human => output::emit(&human(&report)),
        InspectFormat::Json => {
            output::emit(&format!("{}\n", serde_json::to_string_pretty(&report_json(&report)).unwrap_or_default()))
        }
    }
    Outcome::Success
}

/// Facts of data relations as the bundle carries them, and of static derived relations as
/// loading computes them.
fn fact_counts(bundle: &Bundle) -> (Vec<Option<usize>>, Option<String>) {
    let program = &bundle.program;
    let mut counts: Vec<Option<usize>> =
        program.relations.iter().map(|r| (r.kind == RelationKind::Data).then_some(0)).collect();
    for (rel, values) in &program.data {
        let arity = program.relations.get(*rel as usize).map_or(0, |r| r.columns.len());
        if let Some(Some(count)) = counts.get_mut(*rel as usize) {
            *count += gov_vm::program::data_rows(arity, values).count();
        }
    }
    let derives_at_load = program.relations.iter().any(|r| r.kind == RelationKind::Derived && r.phase == Phase::Static);
    if !derives_at_load {
        return (counts, None);
    }
    match Engine::from_program(program.clone(), bundle.hash.clone(), Limits::LOAD) {
        Ok(engine) => {
            let session = engine.session();
            for (i, (schema, count)) in program.relations.iter().zip(&mut counts).enumerate() {
                if schema.kind == RelationKind::Derived && schema.phase == Phase::Static {
                    *count = u32::try_from(i).ok().map(|rel| engine.facts(&session, rel).len());
                }
            }
            (counts, None)
        }
        Err(e) => (counts, Some(e.to_string())),
    }
}

fn kind_name(kind: RelationKind) -> &'static str {
    match kind {
        RelationKind::Input => "input",
        RelationKind::Data => "data",
        RelationKind::Derived => "derived",
        RelationKind::Builtin => "risk",
    }
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Static => "static",
        Phase::Request => "request",
    }
}

/// `transfer(agent: Agent, amount: Int, to: Account)`.
fn signature(program: &Program, schema: &RelationSchema) -> String {
    let columns: Vec<String> = schema
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{}: {}", disasm::column_name(program, Some(schema), i), program.string(c.type_name)))
        .collect();
    format!("{}({})", program.string(schema.name), columns.join(", "))
}

/// Each index as the list of its column names.
fn index_columns(program: &Program, schema: &RelationSchema) -> Vec<Vec<String>> {
    schema
        .indexes
        .iter()
        .map(|cols| cols.iter().map(|&c| disasm::column_name(program, Some(schema), usize::from(c))).collect())
        .collect()
}

/// The rules that fire decision `decision`.
fn firing_rules(program: &Program, decision: usize) -> Vec<usize> {
    program
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.code.last(), Some(Instr::Fire { decision: d, .. }) if *d as usize == decision))
        .map(|(i, _)| i)
        .collect()
}

fn signature_state(report: &Report<'_>) -> &'static str {
    match (report.bundle.signature.is_some(), report.verified) {
        (false, _) => "none",
        (true, true) => "ed25519, verified with the given public key",
        (true, false) => "ed25519, not verified (pass --public-key to check it)",
    }
}

fn default_name(program: &Program) -> &'static str {
    if program.default_allow { "allow" } else { "deny" }
}

fn human(report: &Report<'_>) -> String {
    let program = &report.bundle.program;
    let meta = &program.meta;
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<10}  {value}");
    };
    field("bundle", &format!("{} ({} bytes)", report.path, report.size));
    field("format", &format!("version {}", report.version));
    field("package", &meta.package);
    field("compiler", &meta.compiler);
    field("sources", &meta.source_hash);
    field("files", &meta.files.join("\n            "));
    field("hash", &report.bundle.hash);
    field("signature", signature_state(report));
    field("default", &format!("{} (when no rule decides)", default_name(program)));

    let _ = writeln!(out, "\nrelations ({})", program.relations.len());
    let width = program.relations.iter().map(|r| signature(program, r).chars().count()).max().unwrap_or(0);
    let counts: Vec<String> = program
        .relations
        .iter()
        .zip(&report.facts)
        .map(|(schema, facts)| match (facts, schema.kind) {
            (Some(n), RelationKind::Data) => format!("{n} fact{}", if *n == 1 { "" } else { "s" }),
            (Some(n), _) => format!("{n} fact{} at load", if *n == 1 { "" } else { "s" }),
            (None, _) => String::new(),
        })
        .collect();
    let count_width = counts.iter().map(String::len).max().unwrap_or(0);
    for (schema, count) in program.relations.iter().zip(&counts) {
        let mut line = format!(
            "  {:<8} {:<8} {:<width$}  {count:<count_width$}",
            kind_name(schema.kind),
            phase_name(schema.phase),
            signature(program, schema)
        );
        let indexes: Vec<String> =
            index_columns(program, schema).iter().map(|cols| format!("({})", cols.join(", "))).collect();
        if !indexes.is_empty() {
            line.push_str(&format!("  indexes {}", indexes.join(" ")));
        }
        if schema.one {
            line.push_str("  exactly one fact per request");
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if let Some(error) = &report.static_error {
        let _ = writeln!(out, "  (the load-time relations could not be computed: {error})");
    }

    let _ = writeln!(out, "\ndecision rules ({})", program.decisions.len());
    let name_width = program.decisions.iter().map(|d| program.string(d.name).chars().count()).max().unwrap_or(0);
    for (i, d) in program.decisions.iter().enumerate() {
        let mut line = format!("  {i:>3}  {:<10} {:<name_width$}", d.effect.keyword(), program.string(d.name));
        match d.approver {
            Some(Approver::Group(group)) => line.push_str(&format!("  to {:?}", program.string(group))),
            Some(Approver::Value) => line.push_str("  to the group the body binds"),
            None => {}
        }
        if !d.message.is_empty() {
            line.push_str(&format!("  {:?}", disasm::message_template(program, &d.message)));
        }
        if !d.overrides.is_empty() {
            let names: Vec<&str> = d
                .overrides
                .iter()
                .map(|&o| program.decisions.get(o as usize).map_or("?", |o| program.string(o.name)))
                .collect();
            line.push_str(&format!("  overrides {}", names.join(", ")));
        }
        let rules: Vec<String> = firing_rules(program, i).iter().map(usize::to_string).collect();
        let rules = match rules.len() {
            0 => "no rule".to_owned(),
            1 => format!("rule {}", rules.join("")),
            _ => format!("rules {}", rules.join(", ")),
        };
        let _ = writeln!(out, "{line}  at {}  ({rules})", disasm::location(program, d.source));
    }

    let _ = writeln!(out, "\ncode ({} rules, {} strata)", program.rules.len(), program.strata.len());
    out.push_str(&gov_vm::disassemble(program));
    out
}

fn report_json(report: &Report<'_>) -> Json {
    let program = &report.bundle.program;
    let meta = &program.meta;
    let relations: Vec<Json> = program
        .relations
        .iter()
        .zip(&report.facts)
        .map(|(schema, facts)| {
            let columns: Vec<Json> = schema
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| json!({ "name": c.name.map(|n| program.string(n)), "position": i, "type": program.string(c.type_name), "base": c.ty.name() }))
                .collect();
            json!({
                "name": program.string(schema.name),
                "kind": kind_name(schema.kind),
                "one": schema.one,
                "phase": phase_name(schema.phase),
                "columns": columns,
                "indexes": index_columns(program, schema),
                "facts": facts,
            })
        })
        .collect();
    let decisions: Vec<Json> = program
        .decisions
        .iter()
        .enumerate()
        .map(|(i, d)| {
            json!({
                "name": program.string(d.name),
                "effect": d.effect.keyword(),
                "approver": match d.approver {
                    Some(Approver::Group(group)) => json!(program.string(group)),
                    Some(Approver::Value) => json!({"bound_by_body": true}),
                    None => Json::Null,
                },
                "message": disasm::message_template(program, &d.message),
                "overrides": d.overrides.iter().map(|&o| program.decisions.get(o as usize).map_or("", |o| program.string(o.name))).collect::<Vec<_>>(),
                "at": disasm::location(program, d.source),
                "rules": firing_rules(program, i),
            })
        })
        .collect();
    json!({
        "bundle": report.path,
        "size": report.size,
        "format_version": report.version,
        "package": meta.package,
        "compiler": meta.compiler,
        "source_hash": meta.source_hash,
        "files": meta.files,
        "hash": report.bundle.hash,
        "signed": report.bundle.signature.is_some(),
        "verified": report.verified,
        "default": default_name(program),
        "relations": relations,
        "decisions": decisions,
        "rules": program.rules.len(),
        "strata": program.strata.len(),
        "static_error": report.static_error,
    })
}
