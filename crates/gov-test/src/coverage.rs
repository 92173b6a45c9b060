//! Which rules of a package its tests exercise.

use crate::run::{Evaluation, TestResult};
use gov_vm::program::{Instr, Program};
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};

/// What kind of rule a coverage item is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CoverageKind {
    /// A decision rule, with its effect (`deny`, …): covered when it fired.
    Decision(String),
    /// A derivation rule (`head :- body.`): covered when its body held, so that it derived
    /// a fact.
    Rule,
}

/// One rule of the package's own files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageItem {
    /// Decision or derivation rule.
    pub kind: CoverageKind,
    /// The decision rule's name, or the relation a derivation rule derives.
    pub name: String,
    /// The file, as the sources name it.
    pub file: String,
    /// 1-based line of the rule.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Whether some test exercised it.
    pub covered: bool,
}

impl CoverageItem {
    /// `file:line:col`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.column)
    }

    /// `deny too_large` or `rule manages`.
    pub fn describe(&self) -> String {
        match &self.kind {
            CoverageKind::Decision(effect) => format!("{effect} {}", self.name),
            CoverageKind::Rule => format!("rule {}", self.name),
        }
    }
}

/// A decision rule or a rule's code, found at a location of the package's files.
struct Found<'p> {
    /// (index in `meta.files`, line, column).
    key: (usize, u32, u32),
    kind: CoverageKind,
    name: &'p str,
    id: Id,
}

/// A decision id or a rule id.
enum Id {
    Decision(u32),
    Rule(u32),
}

/// Coverage of one package's rules by a set of test results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Coverage {
    /// The package's decision and derivation rules, in file and source order.
    pub items: Vec<CoverageItem>,
    by_decision: HashMap<u32, usize>,
    by_rule: HashMap<u32, usize>,
}

impl Coverage {
    /// Every rule of the package's own files (`program.meta.files`), none covered yet.
    /// The semi-naive variants of a recursive rule share its location and count once.
    pub fn new(program: &Program) -> Coverage {
        let rank = |file: &str| program.meta.files.iter().position(|f| f == file);
        // Every decision rule and derivation rule code, by (file rank, line, column).
        let mut found: Vec<Found> = Vec::new();
        for (id, meta) in program.decisions.iter().enumerate() {
            let (Ok(id), Some(file)) = (u32::try_from(id), rank(program.string(meta.source.file))) else { continue };
            let kind = CoverageKind::Decision(meta.effect.keyword().to_owned());
            found.push(Found {
                key: (file, meta.source.line, meta.source.column),
                kind,
                name: program.string(meta.name),
                id: Id::Decision(id),
            });
        }
        for (id, code) in program.rules.iter().enumerate() {
            let (Ok(id), Some(file)) = (u32::try_from(id), rank(program.string(code.source.file))) else { continue };
            let Some(Instr::Emit { rel, .. }) = code.code.last() else { continue };
            let name = program.relations.get(*rel as usize).map_or("", |r| program.string(r.name));
            found.push(Found {
                key: (file, code.source.line, code.source.column),
                kind: CoverageKind::Rule,
                name,
                id: Id::Rule(id),
            });
        }
        found.sort_by_key(|f| f.key);
        let mut coverage = Coverage::default();
        let mut last = None;
        for f in found {
            if last != Some(f.key) {
                let (file, line, column) = f.key;
                let file = program.meta.files.get(file).cloned().unwrap_or_default();
                coverage.items.push(CoverageItem {
                    kind: f.kind,
                    name: f.name.to_owned(),
                    file,
                    line,
                    column,
                    covered: false,
                });
                last = Some(f.key);
            }
            let index = coverage.items.len() - 1;
            match f.id {
                Id::Decision(id) => coverage.by_decision.insert(id, index),
                Id::Rule(id) => coverage.by_rule.insert(id, index),
            };
        }
        coverage
    }

    /// Marks what `result` exercised.
    pub fn record(&mut self, result: &TestResult) {
        let Some(Evaluation::Decided(observed)) = &result.evaluation else { return };
        let decisions = observed.decisions_fired.iter().filter_map(|d| self.by_decision.get(d));
        let rules = observed.rules_used.iter().filter_map(|r| self.by_rule.get(r));
        let hit: HashSet<usize> = decisions.chain(rules).copied().collect();
        for index in hit {
            if let Some(item) = self.items.get_mut(index) {
                item.covered = true;
            }
        }
    }

    /// How many rules some test exercised.
    pub fn covered(&self) -> usize {
        self.items.iter().filter(|i| i.covered).count()
    }

    /// How many rules there are.
    pub fn total(&self) -> usize {
        self.items.len()
    }

    /// The rules no test exercised.
    pub fn uncovered(&self) -> impl Iterator<Item = &CoverageItem> {
        self.items.iter().filter(|i| !i.covered)
    }

    /// Covered rules as a percentage of all rules; 100 when there are none.
    pub fn percent(&self) -> f64 {
        percent(self.covered(), self.total())
    }

    /// The coverage as JSON.
    pub fn to_json(&self) -> Json {
        json!({
            "covered": self.covered(),
            "total": self.total(),
            "percent": self.percent(),
            "uncovered": self.uncovered().map(|i| {
                let (kind, effect) = match &i.kind {
                    CoverageKind::Decision(effect) => ("decision", Some(effect.as_str())),
                    CoverageKind::Rule => ("rule", None),
                };
                json!({"kind": kind, "effect": effect, "name": i.name, "at": i.location()})
            }).collect::<Vec<_>>(),
        })
    }
}

/// `covered` of `total` as a percentage; 100 when `total` is 0.
pub fn percent(covered: usize, total: usize) -> f64 {
    if total == 0 { 100.0 } else { covered as f64 * 100.0 / total as f64 }
}
