//! The declarations kept from one check to the next: a keystroke inside a rule's body, or
//! one that moves every item after it, declares what the last check's items declared, each
//! moved by its item's distance. So the last check's symbol table is taken again with its
//! spans moved, rather than collected from every item of the package (issue 10 item 7:
//! about a fifth of a keystroke in a 10 000-rule package).
//!
//! An item declares the same as the last check's item at its place when it is the same
//! tree, moved or not (the same [`Origin`](gov_syntax::ast::Origin)); or when it is a new
//! tree of a rule, decision rule, test or fixture whose declaring part is unchanged: the
//! head's relation and arity, the rule's name, effect and approver, the test's or
//! fixture's name, and the doc comment. Every other new tree (a declaration, a `use`, an
//! item that failed to parse…) collects the package again, as does any change to the
//! files or to the modules available.

use super::{Symbols, collect};
use crate::{Origin, ParsedPackage};
use gov_diag::{Diagnostic, FileId, Span};
use gov_syntax::ast::{Approver, Item, ItemAt, ItemKind};

/// The last check's declarations, and the items they were collected from.
// Invariant: `symbols` is `collect(program)` for a program whose files are `files`, whose
// items (all files', in order) are `items` and whose available modules are `modules`; and
// collecting reported nothing (only a table without diagnostics is kept, so none has to be
// moved or told apart).
#[derive(Debug, Default)]
pub(crate) struct KeptSymbols {
    files: Vec<(FileId, Origin)>,
    modules: Vec<String>,
    items: Vec<ItemAt>,
    symbols: Symbols,
}

impl KeptSymbols {
    /// The symbol table of `program`: the kept one, its spans moved, if `program` declares
    /// what the kept items declared; else collected afresh (and kept, if it reports
    /// nothing). Either way it is what [`collect`] returns for `program`; and whether it
    /// was collected.
    pub(crate) fn collect(
        kept: &mut Option<KeptSymbols>,
        program: &ParsedPackage,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> (Symbols, bool) {
        if let Some(found) = kept.as_mut().filter(|k| k.same_files(program)).and_then(|k| k.moved_to(program)) {
            return (found, false);
        }
        let mut reported = Vec::new();
        let symbols = collect(program, &mut reported);
        *kept = reported.is_empty().then(|| KeptSymbols {
            files: program.files.iter().map(|f| (f.id, f.origin.clone())).collect(),
            modules: program.available_modules.clone(),
            items: items(program).cloned().collect(),
            symbols: symbols.clone(),
        });
        diagnostics.extend(reported);
        (symbols, true)
    }

    fn same_files(&self, program: &ParsedPackage) -> bool {
        self.modules == program.available_modules
            && self.files.len() == program.files.len()
            && self.files.iter().zip(&program.files).all(|((id, origin), f)| *id == f.id && *origin == f.origin)
    }

    /// Moves the kept table to `program`'s items and returns a copy, if every item declares
    /// what the kept item at its place declared; `None` (and nothing changed) if one does not.
    fn moved_to(&mut self, program: &ParsedPackage) -> Option<Symbols> {
        let mut moves = Moves::default();
        // The spans of the decision rules whose tree changed: a rule's whole span is part of
        // its declaration, and it does not move with its name.
        let mut decision_spans: Vec<(usize, Span)> = Vec::new();
        let mut decisions = 0;
        if self.items.len() != program.files.iter().map(|f| f.parsed.file.items.len()).sum::<usize>() {
            return None;
        }
        for (old, new) in self.items.iter().zip(items(program)) {
            let by = declares_the_same(old, new)?;
            let (old_span, new_span) = (old.span(), new.span());
            moves.push(old_span, by);
            if let ItemKind::Decision(_) = new.unmoved().kind {
                if old_span.shifted(by) != new_span {
                    decision_spans.push((decisions, new_span));
                }
                decisions += 1;
            }
        }
        if decisions != self.symbols.decisions.len() {
            return None;
        }
        if moves.moved {
            moves.runs.sort_unstable_by_key(|run| (run.file, run.start));
            self.symbols.move_spans(|span| moves.apply(span));
        }
        for (index, span) in decision_spans {
            if let Some(decision) = self.symbols.decisions.get_mut(index) {
                decision.item_span = span;
            }
        }
        self.items.clear();
        self.items.extend(items(program).cloned());
        Some(self.symbols.clone())
    }
}

/// Every item of `program`'s files, in order.
fn items(program: &ParsedPackage) -> impl Iterator<Item = &ItemAt> {
    program.files.iter().flat_map(|f| f.parsed.file.items.iter())
}

/// How far the spans `old` declares moved in `new`, if `new` declares the same (modulo
/// 2³², as [`Span::shifted`] moves).
fn declares_the_same(old: &ItemAt, new: &ItemAt) -> Option<u32> {
    let moved = new.span().start.wrapping_sub(old.span().start);
    if old.span().file != new.span().file {
        return None;
    }
    if old.same(new) || old.origin().id().is_some() && old.origin().id() == new.origin().id() {
        return Some(moved);
    }
    // Trees parsed apart: compared where they stand (a rare edit, not every keystroke).
    let (old, new): (&Item, &Item) = (old, new);
    if old.docs != new.docs {
        return None;
    }
    match (&old.kind, &new.kind) {
        (ItemKind::Rule(a), ItemKind::Rule(b)) => {
            let (a, b) = (&a.head, &b.head);
            (a.relation.text == b.relation.text && a.args.len() == b.args.len())
                .then_some(())
                .and_then(|()| moved_whole(a.relation.span, b.relation.span))
        }
        (ItemKind::Decision(a), ItemKind::Decision(b)) => {
            let by = moved_whole(a.name.span, b.name.span)?;
            let same_approver = match (&a.approver, &b.approver) {
                (None, None) => true,
                (Some(Approver::Group(x)), Some(Approver::Group(y))) => {
                    x.value == y.value && x.span.shifted(by) == y.span
                }
                (Some(Approver::Var(x)), Some(Approver::Var(y))) => x.text == y.text && x.span.shifted(by) == y.span,
                _ => false,
            };
            (a.name.text == b.name.text && a.effect == b.effect && same_approver).then_some(by)
        }
        (ItemKind::Test(a), ItemKind::Test(b)) => {
            (a.name.value == b.name.value).then_some(()).and_then(|()| moved_whole(a.name.span, b.name.span))
        }
        (ItemKind::Fixture(a), ItemKind::Fixture(b)) => {
            (a.name.text == b.name.text).then_some(()).and_then(|()| moved_whole(a.name.span, b.name.span))
        }
        // An invariant declares nothing.
        (ItemKind::Invariant(_), ItemKind::Invariant(_)) => Some(moved),
        _ => None,
    }
}

/// How far `old` moved to `new`, if `new` is `old` moved as a whole. A name's text may be
/// the same in a span of another length (a test's name without its closing quote, a
/// quoted name), which moving cannot give.
fn moved_whole(old: Span, new: Span) -> Option<u32> {
    let by = new.start.wrapping_sub(old.start);
    (old.shifted(by) == new).then_some(by)
}

/// How far each kept item's spans move: runs of neighbouring items of one file that move
/// the same distance, in the kept items' order.
// Invariant: runs do not overlap (items do not), and every span the symbol table holds lies
// within one item's span. `apply` needs them sorted by file and start.
#[derive(Debug, Default)]
struct Moves {
    runs: Vec<Run>,
    moved: bool,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    file: FileId,
    start: u32,
    end: u32,
    by: u32,
}

impl Moves {
    fn push(&mut self, item: Span, by: u32) {
        self.moved |= by != 0;
        match self.runs.last_mut() {
            Some(run) if run.file == item.file && run.by == by && run.end <= item.start => run.end = item.end,
            _ => self.runs.push(Run { file: item.file, start: item.start, end: item.end, by }),
        }
    }

    /// `span` (a kept item's) where its item now stands.
    fn apply(&self, span: Span) -> Span {
        let after = self.runs.partition_point(|r| (r.file, r.start) <= (span.file, span.start));
        match after.checked_sub(1).and_then(|at| self.runs.get(at)) {
            Some(run) if run.file == span.file && span.start <= run.end => span.shifted(run.by),
            _ => span,
        }
    }
}
