//! `govc diff`: the requests whose decision changes between two versions of a package, each
//! with a witness both versions' engines decided differently.
//!
//! `gov-analysis` ([`gov_analysis::diff::search`]) proposes candidate requests and, when it
//! can, proves that no request changes; here each candidate is decided by both versions'
//! real engines (the conflict check's [`Runner`], one mechanism for both), and a
//! [`Change`] is made only when the two decisions differ.

use crate::analysis::{Runner, data_facts, witness_json};
use gov_analysis::Data;
use gov_diag::Sources;
use gov_ir::Ir;
use gov_vm::json::Document;

/// One version of a package: its IR, sources and data documents.
#[derive(Clone, Copy)]
pub struct Version<'a> {
    /// The resolved IR.
    pub ir: &'a Ir,
    /// Its sources (for compiling).
    pub sources: &'a Sources,
    /// Its data documents.
    pub data: &'a [(String, Document)],
}

/// A decision as one version's engine made it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Decided {
    /// `allow`, `deny` or `escalate`.
    pub outcome: &'static str,
    /// The decision rules that fired, in rule order (empty: the default decided).
    pub rules: Vec<String>,
}

/// A class of requests whose decision changes (the same old and new outcomes and rules), with
/// one witness the engines ran. Rules that change while the outcome stays are not a change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    old: Decided,
    new: Decided,
    witness: gov_diag::Witness,
}

impl Change {
    /// The old version's decision on the witness.
    pub fn before(&self) -> &Decided {
        &self.old
    }

    /// The new version's decision on the witness.
    pub fn after(&self) -> &Decided {
        &self.new
    }

    /// The request and data both engines decided.
    pub fn witness(&self) -> &gov_diag::Witness {
        &self.witness
    }
}

/// What the diff found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The engines decided some witnesses differently: each class once, in the order found.
    Changed(Vec<Change>),
    /// No request changes decision: a proof within the analysed fragment.
    Same,
    /// No change was found, and none could be ruled out: why.
    Unknown(Vec<String>),
}

/// The decision rules added, removed and edited between the versions, by name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rules {
    /// In the new version only.
    pub added: Vec<String>,
    /// In the old version only.
    pub removed: Vec<String>,
    /// In both, with a different text (whitespace aside).
    pub edited: Vec<String>,
}

/// The diff of two versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// The decision changes, or the proof or doubt that there are none.
    pub verdict: Verdict,
    /// The decision rules added, removed and edited.
    pub rules: Rules,
    /// Why the changes listed may miss a class of change (a bound of the analysis reached):
    /// empty when they show every class the exact comparison found.
    pub incomplete: Vec<String>,
}

/// Compares two versions: every candidate the analysis proposes is decided by both engines
/// (each with its own data plus the witness's), and only differing decisions are reported.
/// Candidates are searched for any data first; when none changes and no proof says none
/// can, again with each version's data fixed to its own data files (the deployment
/// question: requests whose change today's data produces, with no data of their own), where
/// "no change" is a proof for those data files.
pub fn diff(old: Version<'_>, new: Version<'_>) -> Diff {
    let search = gov_analysis::diff::search(old.ir, new.ir, Data::Any);
    let old_runner = Runner::new(old.ir, old.sources, old.data);
    let new_runner = Runner::new(new.ir, new.sources, new.data);
    let mut changes: Vec<Change> = Vec::new();
    let mut failures = Vec::new();
    let mut run = |candidates: &[gov_analysis::Witness], changes: &mut Vec<Change>| {
        for candidate in candidates {
            // Invariant: candidates are over the old version's relations; the documents name
            // relations and fields, which the new version declares alike.
            let witness = witness_json(old.ir, candidate);
            match (decided(&old_runner, &witness), decided(&new_runner, &witness)) {
                (Ok(o), Ok(n)) => {
                    if o.outcome != n.outcome && !changes.iter().any(|c| c.old == o && c.new == n) {
                        changes.push(Change { old: o, new: n, witness });
                    }
                }
                (Err(e), _) | (_, Err(e)) => failures.push(format!("a candidate request could not be decided: {e}")),
            }
        }
    };
    run(&search.candidates, &mut changes);
    let proved_same = search.same && same_data(old, new);
    let mut reasons = search.reasons;
    let mut incomplete = search.incomplete;
    let mut deployed_same = false;
    if changes.is_empty() && !proved_same {
        match (old_runner.program(), new_runner.program()) {
            (Ok(old_program), Ok(new_program)) => {
                let (old_facts, new_facts) = (data_facts(old.ir, old_program), data_facts(new.ir, new_program));
                let deployed = gov_analysis::diff::search_deployed(old.ir, new.ir, &old_facts, &new_facts);
                run(&deployed.candidates, &mut changes);
                deployed_same = deployed.same;
                incomplete.extend(deployed.incomplete.into_iter().map(|r| format!("with the data files: {r}")));
                if !search.same {
                    let new_reasons: Vec<String> =
                        deployed.reasons.into_iter().filter(|r| !reasons.contains(r)).collect();
                    reasons.extend(new_reasons.into_iter().map(|r| format!("with the data files: {r}")));
                }
            }
            (Err(e), _) | (_, Err(e)) => failures.push(format!("a version does not compile with its data: {e}")),
        }
    }
    let verdict = if !changes.is_empty() {
        Verdict::Changed(changes)
    } else if proved_same || deployed_same {
        Verdict::Same
    } else if search.same {
        Verdict::Unknown(vec![
            "the rules decide alike on any data, but the data files differ, and no request they change was found"
                .to_owned(),
        ])
    } else {
        reasons.extend(failures.into_iter().take(1));
        Verdict::Unknown(reasons)
    };
    if !matches!(verdict, Verdict::Changed(_)) {
        incomplete.clear();
    }
    Diff { verdict, rules: rules(old, new), incomplete }
}

/// Whether the two versions' data documents are the same, in the same order (their file
/// names aside).
fn same_data(old: Version<'_>, new: Version<'_>) -> bool {
    old.data.len() == new.data.len() && old.data.iter().zip(new.data).all(|((_, a), (_, b))| a == b)
}

fn decided(runner: &Runner<'_>, witness: &gov_diag::Witness) -> Result<Decided, String> {
    let (outcome, rules) = runner.decide(witness)?;
    Ok(Decided { outcome: outcome.name(), rules })
}

/// The decision rules of the package's own files by name, with their text.
fn texts(version: Version<'_>) -> Vec<(String, String)> {
    let ir = version.ir;
    ir.decisions
        .iter()
        .zip(&ir.spans.decisions)
        .filter(|(_, span)| ir.files.contains(&span.file))
        .map(|(d, _)| {
            let text = ir
                .spans
                .rules
                .get(d.rule.index())
                .and_then(|span| {
                    let file = version.sources.get(span.file)?;
                    file.text.get(span.start as usize..span.end as usize)
                })
                .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            (d.name.clone(), text)
        })
        .collect()
}

fn rules(old: Version<'_>, new: Version<'_>) -> Rules {
    let (old, new) = (texts(old), texts(new));
    let find = |list: &[(String, String)], name: &str| list.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone());
    let mut rules = Rules::default();
    for (name, text) in &new {
        match find(&old, name) {
            None => rules.added.push(name.clone()),
            Some(before) if before != *text => rules.edited.push(name.clone()),
            Some(_) => {}
        }
    }
    rules.removed = old.iter().filter(|(n, _)| find(&new, n).is_none()).map(|(n, _)| n.clone()).collect();
    rules
}
