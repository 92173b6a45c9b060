//! `govc audit verify|show|search`: the auditor's commands over a log directory written
//! by `gov_audit::AuditLog` (docs/audit.md).

use crate::cli::{AuditArgs, AuditCommand, AuditFormat, AuditSearchArgs, AuditShowArgs, AuditVerifyArgs};
use crate::{Outcome, keys, load, output};
use gov_audit::{Found, Query, Search, Verified};
use serde_json::{Value, json};
use std::fmt::Write;
use std::path::Path;

/// Runs an audit subcommand.
pub fn run(args: &AuditArgs) -> Outcome {
    let result = match &args.command {
        AuditCommand::Verify(args) => verify(args),
        AuditCommand::Show(args) => show(args),
        AuditCommand::Search(args) => search(args),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        Outcome::UsageError
    })
}

/// A log file as the user would name it: the directory as given, and the file's name.
fn shown(dir: &Path, file: &Path) -> String {
    match file.file_name() {
        Some(name) => load::display(&dir.join(name)),
        None => load::display(dir),
    }
}

fn verify(args: &AuditVerifyArgs) -> Result<Outcome, String> {
    let key = args.public_key.as_deref().map(keys::read_public).transpose()?;
    let verified = gov_audit::verify(&args.dir, key.as_ref()).map_err(|e| e.to_string())?;
    let text = match args.format {
        AuditFormat::Human => verify_human(&args.dir, &verified),
        AuditFormat::Json => format!("{:#}\n", verify_json(&args.dir, &verified)),
    };
    output::emit(&text);
    Ok(if verified.problem.is_some() { Outcome::PolicyFailure } else { Outcome::Success })
}

fn signatures(verified: &Verified) -> &'static str {
    if verified.signatures_checked { "verified" } else { "not checked (pass --public-key)" }
}

fn verify_human(dir: &Path, verified: &Verified) -> String {
    if let Some(problem) = &verified.problem {
        let seq = problem.seq.map(|s| format!(" seq {s}:")).unwrap_or_default();
        return format!(
            "{}:{}:{seq} {}: {}\n",
            shown(dir, &problem.file),
            problem.line,
            problem.kind.as_str(),
            problem.message
        );
    }
    let head = verified.head_seq.unwrap_or_default();
    let mut text = format!(
        "ok: {} records in {} files, seq 1 to {}; head checkpoint seq {head}; signatures {}",
        verified.records,
        verified.files,
        verified.last_seq,
        signatures(verified)
    );
    let uncovered = verified.last_seq.saturating_sub(head);
    if uncovered > 0 {
        let _ = write!(text, "\nnote: the {uncovered} records after the head checkpoint are not covered by it yet");
    }
    text.push('\n');
    text
}

fn verify_json(dir: &Path, verified: &Verified) -> Value {
    json!({
        "ok": verified.problem.is_none(),
        "files": verified.files,
        "records": verified.records,
        "last_seq": verified.last_seq,
        "head_seq": verified.head_seq,
        "signatures": if verified.signatures_checked { "verified" } else { "not checked" },
        "problem": verified.problem.as_ref().map(|p| json!({
            "kind": p.kind.as_str(),
            "file": shown(dir, &p.file),
            "line": p.line,
            "seq": p.seq,
            "message": p.message,
        })),
    })
}

fn show(args: &AuditShowArgs) -> Result<Outcome, String> {
    let query = Query { id: Some(args.id.clone()), ..Query::default() };
    let result = gov_audit::search(&args.log, &query, None).map_err(|e| e.to_string())?;
    print_records(&args.log, &result, args.format);
    if result.found.is_empty() {
        eprintln!("error: no record with id `{}` in {}", args.id, load::display(&args.log));
        return Ok(Outcome::PolicyFailure);
    }
    Ok(Outcome::Success)
}

fn search(args: &AuditSearchArgs) -> Result<Outcome, String> {
    let query = Query {
        id: None,
        agent: args.agent.clone(),
        decision: args.decision.clone(),
        kind: args.kind.clone(),
        since: args.since.as_deref().map(|t| time_arg("--since", t)).transpose()?,
        until: args.until.as_deref().map(|t| time_arg("--until", t)).transpose()?,
    };
    let result = gov_audit::search(&args.log, &query, args.limit).map_err(|e| e.to_string())?;
    print_records(&args.log, &result, args.format);
    Ok(Outcome::Success)
}

/// A time argument: RFC 3339, or a duration before now.
fn time_arg(flag: &str, text: &str) -> Result<i64, String> {
    if let Ok(nanos) = gov_value::parse_time(text) {
        return Ok(nanos);
    }
    let ago = gov_value::parse_duration(text).map_err(|_| {
        format!("{flag} `{text}`: expected an RFC 3339 time (`2026-12-01T09:00:00Z`) or a duration ago (`24h`)")
    })?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    Ok(now.saturating_sub(ago))
}

fn print_records(dir: &Path, result: &Search, format: AuditFormat) {
    let text = match format {
        AuditFormat::Json => {
            let records: Vec<Value> = result
                .found
                .iter()
                .map(|f| json!({"file": shown(dir, &f.file), "line": f.line, "record": f.record}))
                .collect();
            format!("{:#}\n", json!({"records": records, "matched": result.matched, "skipped": result.skipped}))
        }
        AuditFormat::Human => {
            let mut text: String = result.found.iter().map(|f| record_human(dir, f)).collect::<Vec<_>>().join("\n");
            if result.found.is_empty() {
                text.push_str("no matching records\n");
            } else if (result.found.len() as u64) < result.matched {
                let _ = writeln!(text, "\n(the newest {} of {} matches)", result.found.len(), result.matched);
            }
            if result.skipped > 0 {
                let _ = writeln!(
                    text,
                    "note: {} lines are not records; run `govc audit verify {}`",
                    result.skipped,
                    load::display(dir)
                );
            }
            text
        }
    };
    output::emit(&text);
}

/// One record: a heading line, then its other fields, one a line, as compact JSON.
fn record_human(dir: &Path, found: &Found) -> String {
    let record = &found.record;
    let text = |field: &str| record.get(field).and_then(Value::as_str).unwrap_or("?");
    let seq = record.get("seq").and_then(Value::as_u64).unwrap_or_default();
    let mut out = format!("{}:{}  seq {seq}  {}  {}", shown(dir, &found.file), found.line, text("kind"), text("time"));
    if let Some(outcome) = gov_audit::outcome(record) {
        let _ = write!(out, "  {outcome}");
    }
    out.push('\n');
    if let Value::Object(fields) = record {
        for (name, value) in fields {
            if matches!(name.as_str(), "seq" | "prev" | "kind" | "time") || value.is_null() {
                continue;
            }
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = writeln!(out, "  {name:<12}{shown}");
        }
    }
    out
}
