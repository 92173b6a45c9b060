//! `govc diff`.

use crate::cli::{DiffArgs, DiffFormat};
use crate::{Outcome, git, package};
use gov_driver::diff::{Change, Decided, Diff, Rules, Verdict, Version};
use serde_json::json;
use std::path::PathBuf;

/// Compares the two versions (the second, with `--git`, the working tree's and the first
/// the same path at the revision, written to a temporary directory) and prints the requests whose decision changes: exit 1 if
/// any does, 0 if none was found, 2 if a version cannot be loaded or does not check (its
/// problems are printed): there is nothing to compare.
pub fn run(args: &DiffArgs) -> Outcome {
    let (old_path, new_path, _checkout) = match (&args.git, &args.old, &args.new) {
        (Some(rev), path, None) => {
            let path = path.clone().unwrap_or_else(|| PathBuf::from("."));
            match git::checkout(rev, &path) {
                Ok(checkout) => (checkout.package.clone(), path, Some(checkout)),
                Err(message) => {
                    eprintln!("error: {message}");
                    return Outcome::UsageError;
                }
            }
        }
        (None, Some(old), Some(new)) => (old.clone(), new.clone(), None),
        _ => {
            eprintln!("error: give two versions (OLD NEW), or --git REV and at most one PATH");
            return Outcome::UsageError;
        }
    };
    let old = match package::ready(&old_path, &[], args.color) {
        Ok(ready) => ready,
        Err(_) => return Outcome::UsageError,
    };
    let new = match package::ready(&new_path, &[], args.color) {
        Ok(ready) => ready,
        Err(_) => return Outcome::UsageError,
    };
    let (old_sources, new_sources) = (old.package.sources(), new.package.sources());
    let (old_ir, new_ir) = match (old.package.ir(), new.package.ir()) {
        (Ok(old_ir), Ok(new_ir)) => (old_ir, new_ir),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: {error}");
            return Outcome::UsageError;
        }
    };
    let diff = gov_driver::diff::diff(
        Version { ir: &old_ir, sources: &old_sources, data: &old.data },
        Version { ir: &new_ir, sources: &new_sources, data: &new.data },
    );
    let text = match args.format {
        DiffFormat::Human => human(&diff),
        DiffFormat::Json => format!("{:#}\n", json(&diff)),
        DiffFormat::Markdown => markdown(&diff),
    };
    print!("{text}");
    // Invariant: without `--exit-code` the exit code says only whether the comparison ran.
    if args.exit_code && !matches!(diff.verdict, Verdict::Same) { Outcome::PolicyFailure } else { Outcome::Success }
}

fn decided(d: &Decided) -> String {
    if d.rules.is_empty() {
        format!("{} (no rule fired: the default)", d.outcome)
    } else {
        let rules: Vec<String> = d.rules.iter().map(|r| format!("`{r}`")).collect();
        format!("{} ({})", d.outcome, rules.join(", "))
    }
}

fn has_data(change: &Change) -> bool {
    change.witness().data.as_object().is_some_and(|o| !o.is_empty())
}

fn rule_lines(rules: &Rules, bullet: &str) -> String {
    let mut out = String::new();
    for (what, names) in [("added", &rules.added), ("removed", &rules.removed), ("edited", &rules.edited)] {
        if !names.is_empty() {
            let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            out.push_str(&format!("{bullet}rules {what}: {}\n", names.join(", ")));
        }
    }
    out
}

fn human(diff: &Diff) -> String {
    let mut out = String::new();
    match &diff.verdict {
        Verdict::Changed(changes) => {
            for change in changes {
                out.push_str(&format!("change: {} -> {}\n", decided(change.before()), decided(change.after())));
                out.push_str(&format!("  for example, the request {}\n", change.witness().input));
                if has_data(change) {
                    out.push_str(&format!("  with the data {} added to each version's\n", change.witness().data));
                }
            }
            let plural = if changes.len() == 1 { "" } else { "s" };
            out.push_str(&format!("{} decision change{plural} found\n", changes.len()));
            for why in &diff.incomplete {
                out.push_str(&format!("  the list may miss a class of change: {why}\n"));
            }
        }
        Verdict::Same => out.push_str("no change: both versions decide every request alike\n"),
        Verdict::Unknown(reasons) => {
            out.push_str("unknown: no change found, but the analysis cannot rule one out\n");
            for reason in reasons {
                out.push_str(&format!("  {reason}\n"));
            }
        }
    }
    out.push_str(&rule_lines(&diff.rules, ""));
    out
}

fn markdown(diff: &Diff) -> String {
    let mut out = String::from("### Policy decision changes\n\n");
    match &diff.verdict {
        Verdict::Changed(changes) => {
            out.push_str("| Old decision | New decision | Witness request |\n|---|---|---|\n");
            for change in changes {
                out.push_str(&format!(
                    "| {} | {} | `{}`{} |\n",
                    decided(change.before()),
                    decided(change.after()),
                    change.witness().input,
                    if has_data(change) { format!(" with data `{}`", change.witness().data) } else { String::new() }
                ));
            }
            for why in &diff.incomplete {
                out.push_str(&format!("\nThe list may miss a class of change: {why}\n"));
            }
        }
        Verdict::Same => out.push_str("No change: both versions decide every request alike.\n"),
        Verdict::Unknown(reasons) => {
            out.push_str("Unknown: no change found, but the analysis cannot rule one out:\n\n");
            for reason in reasons {
                out.push_str(&format!("- {reason}\n"));
            }
        }
    }
    let rules = rule_lines(&diff.rules, "- ");
    if !rules.is_empty() {
        out.push('\n');
        out.push_str(&rules);
    }
    out
}

fn json(diff: &Diff) -> serde_json::Value {
    let side = |d: &Decided| json!({"decision": d.outcome, "rules": d.rules});
    let (verdict, changes, reasons) = match &diff.verdict {
        Verdict::Changed(changes) => ("changed", changes.as_slice(), diff.incomplete.as_slice()),
        Verdict::Same => ("same", &[][..], &[][..]),
        Verdict::Unknown(reasons) => ("unknown", &[][..], reasons.as_slice()),
    };
    let changes: Vec<serde_json::Value> = changes
        .iter()
        .map(|c| {
            json!({
                "old": side(c.before()),
                "new": side(c.after()),
                "witness": {"input": c.witness().input, "data": c.witness().data},
            })
        })
        .collect();
    json!({
        "verdict": verdict,
        "changes": changes,
        "reasons": reasons,
        "rules": {"added": diff.rules.added, "removed": diff.rules.removed, "edited": diff.rules.edited},
    })
}
