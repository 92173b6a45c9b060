//! The canonical formatter behind `govc fmt`: one layout for every file, every comment kept.
//!
//! # Layout
//!
//! - Every item starts in column 1. Items are separated by one blank line, except inside a
//!   group of consecutive `use` items, `type` aliases, `input`/`data` declarations, or rules
//!   deriving the same relation: there a blank line is kept where the author wrote one and
//!   none is added. Nowhere are there two blank lines in a row, nor blank lines inside an item.
//! - An item's doc comment (`/// text`) comes first, then each annotation on its own line
//!   (`@overrides(a, b)`), then the item.
//! - `package a.b`, `use a.b`, `default deny`, `type Agent = Str` and
//!   `input transfer(agent: Agent, amount: Int)` have no final `.`. It is kept only where the
//!   next line would otherwise be read as part of the item: after `type A = to`, and before a
//!   rule deriving a relation called `to`.
//! - A rule or decision stays on one line when it fits in 100 columns and no comment sits inside
//!   it: `head(x) :- a(x), b(x).` Otherwise its head (for a decision: effect, name,
//!   `to "group"`, points and message) is the first line and each condition follows on its own
//!   line, the first after `    :- `, the others aligned under it:
//!
//!   ```text
//!   escalate big_transfer to "finance-approvers" "transfers above 10000 need a human"
//!       :- transfer(_, amt, _),
//!          amt > 10000.
//!   ```
//! - A relation declaration that does not fit, or has a comment inside, lists its fields one per
//!   line, indented four spaces and each followed by `,`, with `)` in column 1.
//! - A test block is `test "name" {`, then one statement per line indented four spaces, then
//!   `}` in column 1 (an empty block is `test "name" {}`). Each `given` fact has its own line,
//!   the second and later ones aligned under the first.
//! - Tokens are separated by single spaces: `a, b`, `field: x`, `a + b`, `sum(x : p(x))`.
//!   Arithmetic gets the fewest parentheses that keep its tree: `a - b - c`, `a - (b - c)`,
//!   `(a + b) * c`.
//! - Literals, strings and messages are printed exactly as written, escapes included.
//!
//! # Comments
//!
//! Every comment is kept, and keeps its kind. A comment on its own line stays on its own line,
//! before the next line of code and indented like it; a comment after code stays at the end of
//! that line. Between items, a blank line before or after a comment is kept (one at most). A
//! comment inside a rule, decision or declaration forces the multi-line layout when the
//! one-line layout would have no place for it.
//!
//! Output lines are the finest grain: a comment written in the middle of something printed on
//! one line (an atom, an annotation, an `expect`) moves to just before that line (an own-line
//! comment) or to its end (a trailing comment). When two trailing comments land on one line, the
//! second goes on its own line after it. A `///` comment inside an item is never moved in front
//! of the item, where it would become the item's doc comment; the one exception is an item that
//! prints as a single line (a fact, a declaration), which has no inside to keep it in.

use crate::Parsed;
use crate::ast::{
    Annotation, Approver, Arg, Atom, BodyItem, Call, Collection, DecisionRule, DefaultDecision, ExpectKind, Expr,
    FieldDecl, FieldType, Item, ItemAt, ItemKind, Message, MessagePart, RelationDecl, StrLit, TestBlock, TestStatement,
};
use crate::lexer::{Comment, to_u32};
use gov_diag::{Severity, Span};
use gov_value::ArithOp;

/// The widest a rule, decision or relation declaration may be to stay on one line.
const MAX_WIDTH: usize = 100;

/// The indentation of test statements, relation fields and the `:-` of a multi-line rule.
const INDENT: usize = 4;

/// Where the second and later conditions of a multi-line rule start: under the first, after `:- `.
const BODY_INDENT: usize = INDENT + 3;

/// Where the second and later facts of a `given` start: under the first, after `given `.
const GIVEN_INDENT: usize = INDENT + 6;

/// Formats a parsed file. Returns None if the file has syntax errors (parsed.diagnostics
/// contains any Error severity diagnostic), since a broken tree cannot be printed faithfully.
///
/// `text` must be the source `parsed` was read from: comments and blank lines are found in it,
/// and strings and messages are copied from it.
pub fn format_source(text: &str, parsed: &Parsed) -> Option<String> {
    if parsed.diagnostics.iter().any(|d| d.severity() == Severity::Error) {
        return None;
    }
    let mut formatter = Formatter { printer: Printer { text }, lines: Vec::new() };
    formatter.file(&parsed.file.items, &parsed.comments);
    Some(formatter.finish())
}

// ---- comments between and inside items ------------------------------------------------------

/// An own-line comment between items.
struct Lead<'c> {
    /// The comment.
    comment: &'c Comment,
    /// Whether the source has a blank line before it.
    blank_before: bool,
}

/// The comments that belong to one item.
#[derive(Default)]
struct ItemComments<'c> {
    /// Own-line comments between the previous item and this one.
    lead: Vec<Lead<'c>>,
    /// Whether the source has a blank line between the last of `lead` (or the previous item)
    /// and this item's doc comment or first token.
    blank_before: bool,
    /// Comments inside the item, then the one at the end of its last line.
    inner: Vec<&'c Comment>,
}

/// Assigns every comment to the item it belongs to; returns those after the last item apart.
fn distribute<'c>(
    printer: Printer<'_>,
    items: &[ItemAt],
    comments: &'c [Comment],
) -> (Vec<ItemComments<'c>>, Vec<Lead<'c>>) {
    let mut placed: Vec<ItemComments<'c>> = Vec::with_capacity(items.len());
    let mut pending = comments.iter().peekable();
    let mut cursor = 0;
    for item in items {
        let mut own = ItemComments::default();
        while let Some(comment) = pending.next_if(|c| c.span.start < item.span.start) {
            cursor = printer.place_between(comment, cursor, placed.last_mut(), &mut own.lead);
        }
        own.blank_before = printer.blank_between(cursor, item.span.start);
        while let Some(comment) = pending.next_if(|c| c.span.start < item.span.end) {
            own.inner.push(comment);
        }
        cursor = item.span.end;
        placed.push(own);
    }
    let mut tail = Vec::new();
    for comment in pending {
        cursor = printer.place_between(comment, cursor, placed.last_mut(), &mut tail);
    }
    (placed, tail)
}

/// The comments printed around one output line.
#[derive(Default)]
struct Attached<'c> {
    /// Own-line comments before the line.
    before: Vec<&'c Comment>,
    /// The comment at the end of the line.
    trailing: Option<&'c Comment>,
}

/// Where a comment goes relative to an item's lines.
enum Slot {
    /// On its own line before line `n`.
    Before(usize),
    /// At the end of line `n`.
    After(usize),
}

/// Attaches an item's comments to its lines. `end` is where the item ends in the source.
fn attach<'c>(printer: Printer<'_>, units: &[Unit], comments: &[&'c Comment], end: u32) -> Vec<Attached<'c>> {
    let mut attached: Vec<Attached<'c>> = units.iter().map(|_| Attached::default()).collect();
    for &comment in comments {
        match slot(printer, units, comment, end) {
            Slot::Before(index) => {
                if let Some(line) = attached.get_mut(index) {
                    line.before.push(comment);
                }
            }
            Slot::After(index) => place_trailing(&mut attached, index, comment),
        }
    }
    attached
}

/// The line a comment goes with: a trailing comment ends the line whose code precedes it, an
/// own-line comment precedes the line whose code it precedes or sits in.
fn slot(printer: Printer<'_>, units: &[Unit], comment: &Comment, end: u32) -> Slot {
    let at = comment.span.start;
    let last = units.len().saturating_sub(1);
    let slot = if printer.is_trailing(comment) {
        Slot::After(units.iter().rposition(|u| u.start < at).unwrap_or(0))
    } else {
        Slot::Before(units.iter().position(|u| u.end > at).unwrap_or(last))
    };
    if !comment.is_doc() || last == 0 {
        return slot;
    }
    // Before the first line or after the last, a `///` comment would become a doc comment.
    match slot {
        Slot::Before(0) => Slot::Before(1),
        Slot::After(index) if index == last && at < end => Slot::Before(last),
        other => other,
    }
}

/// Ends line `index` with `comment`. If the line already has a trailing comment, `comment`
/// goes on its own line after it, or if that was the item's last line, the earlier one goes
/// on its own line before it.
fn place_trailing<'c>(attached: &mut [Attached<'c>], index: usize, comment: &'c Comment) {
    let occupied = attached.get(index).is_some_and(|line| line.trailing.is_some());
    if occupied && let Some(next) = attached.get_mut(index + 1) {
        next.before.push(comment);
    } else if let Some(line) = attached.get_mut(index)
        && let Some(previous) = line.trailing.replace(comment)
    {
        line.before.push(previous);
    }
}

// ---- layout ---------------------------------------------------------------------------------

/// One output line of an item's multi-line layout, with the source range its comments attach by.
struct Unit {
    /// Where its code starts in the source: a trailing comment after this ends the line.
    start: u32,
    /// Where its code ends in the source: an own-line comment before this precedes the line.
    end: u32,
    /// The code's indentation.
    indent: usize,
    /// The indentation of the own-line comments before it.
    comment_indent: usize,
    /// The code.
    code: String,
}

impl Unit {
    /// A line whose comments are indented like its code.
    fn new(start: u32, end: u32, indent: usize, code: String) -> Unit {
        Unit { start, end, indent, comment_indent: indent, code }
    }

    /// The `)` or `}` closing an item that ends at `end`, in column 1; comments before it are
    /// indented like the lines it closes.
    fn closer(end: u32, code: String) -> Unit {
        Unit { start: end.saturating_sub(1), end, indent: 0, comment_indent: INDENT, code }
    }
}

/// The ways an item can be printed.
struct Layout {
    /// The multi-line layout: annotations, then the item's first line, then the rest.
    units: Vec<Unit>,
    /// How many of `units` are annotations.
    annotations: usize,
    /// Everything after the annotations on one line, for items that have that form.
    one_line: Option<String>,
}

/// An item's lines, chosen, with their comments.
struct Printed<'c> {
    /// The lines.
    units: Vec<Unit>,
    /// The comments of each line.
    attached: Vec<Attached<'c>>,
    /// Whether the item (annotations aside) takes more than one line.
    multi_line: bool,
}

impl Layout {
    /// The lines to print with their comments: the one-line form if it fits and the comments
    /// allow it, else the multi-line form.
    fn choose(self, mut attached: Vec<Attached<'_>>) -> Printed<'_> {
        let split = self.annotations.min(attached.len());
        let fits =
            |line: &String| line.chars().count() <= MAX_WIDTH && collapsible(attached.get(split..).unwrap_or_default());
        let Some(line) = self.one_line.filter(fits) else {
            let multi_line = self.units.len() > split + 1;
            return Printed { units: self.units, attached, multi_line };
        };
        let rest = attached.split_off(split);
        let trailing = rest.last().and_then(|last| last.trailing);
        let before = rest.into_iter().next().map(|first| first.before).unwrap_or_default();
        let mut units = self.units;
        let first = units.get(split).map_or((0, 0), |unit| (unit.start, unit.end));
        units.truncate(split);
        units.push(Unit::new(first.0, first.1, 0, line));
        attached.push(Attached { before, trailing });
        Printed { units, attached, multi_line: false }
    }
}

/// Whether the comments of an item's lines (annotations excluded) all have a place when the
/// item is on one line: before its first line, or at the end of its last.
fn collapsible(lines: &[Attached<'_>]) -> bool {
    let last = lines.len().saturating_sub(1);
    lines
        .iter()
        .enumerate()
        .all(|(index, line)| (index == 0 || line.before.is_empty()) && (index == last || line.trailing.is_none()))
}

/// What gathers items without a blank line between them.
#[derive(PartialEq, Eq)]
enum Group<'a> {
    /// `use` items.
    Use,
    /// `type` aliases.
    Type,
    /// `input` and `data` declarations.
    Relation,
    /// Rules deriving the named relation.
    Rule(&'a str),
}

/// The group an item belongs to, if any; a declaration on several lines stands apart.
fn group(item: &Item, multi_line: bool) -> Option<Group<'_>> {
    match &item.kind {
        ItemKind::Use(_) => Some(Group::Use),
        ItemKind::TypeAlias(_) => Some(Group::Type),
        ItemKind::Relation(_) if !multi_line => Some(Group::Relation),
        ItemKind::Rule(rule) => Some(Group::Rule(&rule.head.relation.text)),
        _ => None,
    }
}

/// Whether an item whose final `.` is optional must keep it, so that the line after it is not
/// read as its continuation: its last token is `to` (which continues a line), or the next item
/// starts with `to` (which does not start an item).
fn keeps_dot(item: &Item, next: Option<&Item>) -> bool {
    let next_starts_with_to = next.is_some_and(|n| {
        n.annotations.is_empty() && matches!(&n.kind, ItemKind::Rule(rule) if rule.head.relation.text == "to")
    });
    match &item.kind {
        ItemKind::TypeAlias(alias) => alias.target.text == "to" || next_starts_with_to,
        ItemKind::Relation(_) | ItemKind::Default(_) => next_starts_with_to,
        _ => false,
    }
}

/// `/// text`.
fn doc_comment(line: &str) -> String {
    if line.is_empty() { "///".to_owned() } else { format!("/// {line}") }
}

// ---- output ---------------------------------------------------------------------------------

/// Builds the output line by line.
struct Formatter<'t> {
    /// Reads the source and prints nodes.
    printer: Printer<'t>,
    /// The output so far; an empty string is a blank line.
    lines: Vec<String>,
}

impl Formatter<'_> {
    /// Prints the items and every comment.
    fn file(&mut self, items: &[ItemAt], comments: &[Comment]) {
        let (placed, tail) = distribute(self.printer, items, comments);
        let mut previous: Option<Group<'_>> = None;
        for (index, (item, comments)) in items.iter().zip(&placed).enumerate() {
            let printed = self.printer.print(item, items.get(index + 1).map(|next| &**next), &comments.inner);
            let current = group(item, printed.multi_line);
            let separate = index > 0 && (current.is_none() || previous != current);
            self.leads(&comments.lead, separate);
            if comments.blank_before || (separate && comments.lead.is_empty()) {
                self.blank();
            }
            self.item(&item.docs, printed);
            previous = current;
        }
        self.leads(&tail, false);
    }

    /// Prints own-line comments between items; `separate` asks for a blank line before them.
    fn leads(&mut self, leads: &[Lead<'_>], separate: bool) {
        for (index, lead) in leads.iter().enumerate() {
            if lead.blank_before || (separate && index == 0) {
                self.blank();
            }
            self.line(0, &lead.comment.text);
        }
    }

    /// Prints one item's lines with their comments, its doc comment after the comments before
    /// its first line.
    fn item(&mut self, docs: &[String], printed: Printed<'_>) {
        for (index, (unit, comments)) in printed.units.iter().zip(printed.attached).enumerate() {
            for comment in comments.before {
                self.line(unit.comment_indent, &comment.text);
            }
            if index == 0 {
                for line in docs {
                    self.line(0, &doc_comment(line));
                }
            }
            match comments.trailing {
                Some(comment) => self.line(unit.indent, &format!("{} {}", unit.code, comment.text)),
                None => self.line(unit.indent, &unit.code),
            }
        }
    }

    /// Adds a line.
    fn line(&mut self, indent: usize, code: &str) {
        self.lines.push(format!("{:indent$}{code}", ""));
    }

    /// Adds a blank line unless at the start or after another.
    fn blank(&mut self) {
        if self.lines.last().is_some_and(|line| !line.is_empty()) {
            self.lines.push(String::new());
        }
    }

    /// The formatted text: the lines, each ending with a line break.
    fn finish(self) -> String {
        let mut out = self.lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }
}

// ---- the source and the nodes ---------------------------------------------------------------

/// Reads the source text around nodes and prints nodes as canonical text.
#[derive(Clone, Copy)]
struct Printer<'t> {
    /// The source.
    text: &'t str,
}

impl<'t> Printer<'t> {
    /// Where the next token at or after `from` starts, skipping whitespace and comments.
    fn code_start(self, from: u32) -> u32 {
        let mut at = from;
        loop {
            let rest = self.text.get(at as usize..).unwrap_or("");
            let code = rest.trim_start_matches(is_space);
            let skipped = rest.len() - code.len();
            if !code.starts_with("//") {
                return at + to_u32(skipped);
            }
            at += to_u32(skipped + code.find('\n').unwrap_or(code.len()));
        }
    }

    /// Whether code precedes `comment` on its line.
    fn is_trailing(self, comment: &Comment) -> bool {
        let before = self.text.get(..comment.span.start as usize).unwrap_or("");
        before.rsplit('\n').next().is_some_and(|line| !line.trim_matches(is_space).is_empty())
    }

    /// Whether the whitespace starting at `from` (up to `to`) holds a blank line.
    fn blank_between(self, from: u32, to: u32) -> bool {
        let gap = self.text.get(from as usize..to as usize).unwrap_or("");
        gap.chars().take_while(|&c| is_space(c)).filter(|&c| c == '\n').count() >= 2
    }

    /// The quoted string at `span` as written.
    fn quoted(self, span: Span) -> Option<&'t str> {
        self.text.get(span.range()).filter(|s| s.len() >= 2 && s.starts_with('"') && s.ends_with('"'))
    }

    /// Files a comment between items: at the end of the previous item's last line if code
    /// precedes it there, else as an own-line comment. Returns where the comment ends.
    fn place_between<'c>(
        self,
        comment: &'c Comment,
        cursor: u32,
        previous: Option<&mut ItemComments<'c>>,
        leads: &mut Vec<Lead<'c>>,
    ) -> u32 {
        match previous {
            Some(item) if self.is_trailing(comment) => item.inner.push(comment),
            _ => leads.push(Lead { comment, blank_before: self.blank_between(cursor, comment.span.start) }),
        }
        comment.span.end
    }

    /// An item's lines with its comments (`inner`); `next` is the item after it.
    fn print<'c>(self, item: &Item, next: Option<&Item>, inner: &[&'c Comment]) -> Printed<'c> {
        let layout = self.layout(item, next);
        let attached = attach(self, &layout.units, inner, item.span.end);
        layout.choose(attached)
    }

    /// An item's layouts; `next` is the item after it.
    fn layout(self, item: &Item, next: Option<&Item>) -> Layout {
        let mut units: Vec<Unit> =
            item.annotations.iter().map(|a| Unit::new(a.span.start, a.span.end, 0, annotation(a))).collect();
        let annotations = units.len();
        let start = item.annotations.last().map_or(item.span.start, |a| self.code_start(a.span.end));
        let end = item.span.end;
        let dot = if keeps_dot(item, next) { "." } else { "" };
        let mut single = |code: String| {
            units.push(Unit::new(start, end, 0, code));
            None
        };
        let one_line = match &item.kind {
            ItemKind::Package(path) => single(format!("package {}", path.dotted())),
            ItemKind::Use(path) => single(format!("use {}", path.dotted())),
            ItemKind::Default(DefaultDecision::Allow) => single(format!("default allow{dot}")),
            ItemKind::Default(DefaultDecision::Deny) => single(format!("default deny{dot}")),
            ItemKind::TypeAlias(alias) => {
                single(format!("type {} = {}{dot}", name(&alias.name.text), name(&alias.target.text)))
            }
            // Not reached through `format_source`, which refuses files with errors.
            ItemKind::Error(_) => single(self.text.get(item.span.range()).unwrap_or_default().to_owned()),
            ItemKind::Relation(decl) => Some(self.relation(&mut units, start, end, decl, dot)),
            ItemKind::Rule(rule) => {
                let head = Unit::new(start, rule.head.span.end, 0, self.atom(&rule.head));
                Some(self.clause(&mut units, head, &rule.body))
            }
            ItemKind::Decision(decision) => {
                Some(self.clause(&mut units, self.decision_head(decision, start), &decision.body))
            }
            ItemKind::Test(test) => self.test(&mut units, start, end, test),
            ItemKind::Invariant(invariant) => {
                let quantifier = if invariant.always { "always" } else { "never" };
                let code =
                    format!("invariant {}: {quantifier} {}", name(&invariant.name.text), invariant.effect.keyword());
                let head = Unit::new(start, invariant.quantifier.end, 0, code);
                Some(self.clause(&mut units, head, &invariant.body))
            }
            ItemKind::Fixture(fixture) => {
                let head = format!("fixture {}", name(&fixture.name.text));
                self.block(&mut units, (start, fixture.name.span.end, end), head, &fixture.statements)
            }
        };
        if let Some(last) = units.last_mut() {
            last.end = last.end.max(end);
        }
        Layout { units, annotations, one_line }
    }

    /// Adds the lines of a relation declaration; returns its one-line form.
    fn relation(self, units: &mut Vec<Unit>, start: u32, end: u32, decl: &RelationDecl, dot: &str) -> String {
        let one = if decl.one.is_some() { " one" } else { "" };
        let open = format!("{}{one} {}(", decl.kind.keyword(), name(&decl.name.text));
        let fields: Vec<String> = decl.fields.iter().map(field_decl).collect();
        let one_line = format!("{open}{}){dot}", fields.join(", "));
        units.push(Unit::new(start, decl.name.span.end, 0, open));
        for (field, text) in decl.fields.iter().zip(fields) {
            units.push(Unit::new(field.name.span.start, field.ty.span().end, INDENT, format!("{text},")));
        }
        units.push(Unit::closer(end, format!("){dot}")));
        one_line
    }

    /// The first line of a decision: effect, name, approver, points and message.
    fn decision_head(self, decision: &DecisionRule, start: u32) -> Unit {
        let mut code = format!("{} {}", decision.effect.keyword(), name(&decision.name.text));
        let mut end = decision.name.span.end;
        if let Some(approver) = &decision.approver {
            let group = match approver {
                Approver::Group(group) => self.str_lit(group),
                Approver::Var(var) => name(&var.text).into_owned(),
            };
            code = format!("{code} to {group}");
            end = end.max(approver.span().end);
        }
        if let Some(points) = &decision.points {
            code = format!("{code} {}", self.expr(points));
            end = end.max(points.span().end);
        }
        if let Some(message) = &decision.message {
            code = format!("{code} {}", self.message(message));
            end = end.max(message.span.end);
        }
        Unit::new(start, end, 0, code)
    }

    /// Adds the lines of a rule or decision after its first line `head`; returns its one-line form.
    fn clause(self, units: &mut Vec<Unit>, mut head: Unit, body: &[BodyItem]) -> String {
        let conditions: Vec<String> = body.iter().map(|item| self.body_item(item)).collect();
        let one_line = if conditions.is_empty() {
            head.code.push('.');
            head.code.clone()
        } else {
            format!("{} :- {}.", head.code, conditions.join(", "))
        };
        units.push(head);
        let count = conditions.len();
        for (index, (item, text)) in body.iter().zip(conditions).enumerate() {
            let end = if index + 1 == count { "." } else { "," };
            let (indent, code) =
                if index == 0 { (INDENT, format!(":- {text}{end}")) } else { (BODY_INDENT, format!("{text}{end}")) };
            units.push(Unit::new(item.span().start, item.span().end, indent, code));
        }
        one_line
    }

    /// Adds the lines of a test block; returns its one-line form if it is empty.
    fn test(self, units: &mut Vec<Unit>, start: u32, end: u32, test: &TestBlock) -> Option<String> {
        let mut head = format!("test {}", self.str_lit(&test.name));
        let mut head_end = test.name.span.end;
        if let Some(last) = test.uses.last() {
            let uses: Vec<String> = test.uses.iter().map(|u| name(&u.text).into_owned()).collect();
            head = format!("{head} uses {}", uses.join(", "));
            head_end = last.span.end;
        }
        self.block(units, (start, head_end, end), head, &test.statements)
    }

    /// Adds the lines of a block (a test's or a fixture's) after its `head`; `at` is where
    /// the head starts, ends and where the block ends. Returns its one-line form if it is
    /// empty.
    fn block(
        self,
        units: &mut Vec<Unit>,
        at: (u32, u32, u32),
        head: String,
        statements: &[TestStatement],
    ) -> Option<String> {
        let (start, head_end, end) = at;
        units.push(Unit::new(start, head_end, 0, format!("{head} {{")));
        for statement in statements {
            self.statement(units, statement);
        }
        units.push(Unit::closer(end, "}".to_owned()));
        statements.is_empty().then(|| format!("{head} {{}}"))
    }

    /// Adds the lines of a test statement: one, or one per `given` fact.
    fn statement(self, units: &mut Vec<Unit>, statement: &TestStatement) {
        match statement {
            TestStatement::WithData(file) => {
                units.push(Unit::new(
                    file.span.start,
                    file.span.end,
                    INDENT,
                    format!("with data {}", self.str_lit(file)),
                ));
            }
            TestStatement::Given(facts) => {
                for (index, fact) in facts.iter().enumerate() {
                    let (indent, keyword) = if index == 0 { (INDENT, "given ") } else { (GIVEN_INDENT, "") };
                    units.push(Unit::new(
                        fact.span.start,
                        fact.span.end,
                        indent,
                        format!("{keyword}{}.", self.atom(fact)),
                    ));
                }
            }
            TestStatement::Expect(expectation) => {
                let code = self.expectation(&expectation.kind);
                units.push(Unit::new(expectation.span.start, expectation.span.end, INDENT, code));
            }
        }
    }

    /// `expect …`.
    fn expectation(self, kind: &ExpectKind) -> String {
        match kind {
            ExpectKind::Effect { negated, effect, rules, approvers, messages } => {
                let not = if *negated { "not " } else { "" };
                let mut code = format!("expect {not}{}", effect.keyword());
                for rule in rules {
                    code = format!("{code} {}", name(&rule.text));
                }
                for approver in approvers {
                    code = format!("{code} to {}", self.str_lit(approver));
                }
                for message in messages {
                    code = format!("{code} {}", self.str_lit(message));
                }
                code
            }
            ExpectKind::Message { negated, messages } => {
                let not = if *negated { "not " } else { "" };
                let mut code = format!("expect {not}message");
                for message in messages {
                    code = format!("{code} {}", self.str_lit(message));
                }
                code
            }
            ExpectKind::Risk(points) => format!("expect risk {}", points.raw),
            ExpectKind::Error => "expect error".to_owned(),
        }
    }

    /// `rel(args)`.
    fn atom(self, atom: &Atom) -> String {
        let args: Vec<String> = atom.args.iter().map(|arg| self.arg(arg)).collect();
        format!("{}({})", name(&atom.relation.text), args.join(", "))
    }

    /// `value` or `field: value`.
    fn arg(self, arg: &Arg) -> String {
        match &arg.field {
            Some(field) => format!("{}: {}", field_name(&field.text), self.expr(&arg.value)),
            None => self.expr(&arg.value),
        }
    }

    /// One condition.
    fn body_item(self, item: &BodyItem) -> String {
        match item {
            BodyItem::Atom(atom) => self.atom(atom),
            BodyItem::Not(atom, _) => format!("not {}", self.atom(atom)),
            BodyItem::Compare(c) => format!("{} {} {}", self.expr(&c.left), c.op.symbol(), self.expr(&c.right)),
            BodyItem::Test(call) => self.call(call),
            BodyItem::NotTest(call, _) => format!("not {}", self.call(call)),
            BodyItem::In(membership) => {
                let collection = match &membership.collection {
                    Collection::Call(call) => self.call(call),
                    Collection::Set(set) => {
                        let items: Vec<&str> = set.items.iter().map(|lit| lit.raw.as_str()).collect();
                        format!("{{{}}}", items.join(", "))
                    }
                    Collection::List(list) => self.expr(list),
                };
                let not = if membership.negated.is_some() { "not " } else { "" };
                format!("{not}{} in {collection}", self.expr(&membership.element))
            }
        }
    }

    /// A call of a built-in.
    fn call(self, call: &Call) -> String {
        let args: Vec<String> = call.args.iter().map(|arg| self.expr(arg)).collect();
        format!("{}({})", call.name.text, args.join(", "))
    }

    /// An expression with the fewest parentheses that keep its tree.
    fn expr(self, expr: &Expr) -> String {
        match expr {
            Expr::Var(var) => name(&var.text).into_owned(),
            Expr::Wildcard(_) => "_".to_owned(),
            Expr::Lit(lit) => lit.raw.clone(),
            Expr::Binary(binary) => format!(
                "{} {} {}",
                self.operand(&binary.left, binary.op, false),
                binary.op.symbol(),
                self.operand(&binary.right, binary.op, true)
            ),
            Expr::Aggregate(aggregate) => {
                let body: Vec<String> = aggregate.body.iter().map(|item| self.body_item(item)).collect();
                format!("{}({} : {})", aggregate.function.name(), self.expr(&aggregate.target), body.join(", "))
            }
            Expr::Call(call) => self.call(call),
            Expr::List(list) => {
                let items: Vec<&str> = list.items.iter().map(|lit| lit.raw.as_str()).collect();
                format!("[{}]", items.join(", "))
            }
            Expr::Object(object) => {
                let members: Vec<String> = object.members.iter().map(|m| self.arg(m)).collect();
                format!("{{{}}}", members.join(", "))
            }
        }
    }

    /// An operand of `parent`, parenthesised if it binds more loosely, or as tightly on the
    /// right (the operators are left-associative).
    fn operand(self, expr: &Expr, parent: ArithOp, right: bool) -> String {
        let text = self.expr(expr);
        match expr {
            Expr::Binary(inner)
                if binding(inner.op) < binding(parent) || (right && binding(inner.op) == binding(parent)) =>
            {
                format!("({text})")
            }
            _ => text,
        }
    }

    /// A string literal as written.
    fn str_lit(self, lit: &StrLit) -> String {
        self.quoted(lit.span).map_or_else(|| quote(&lit.value), str::to_owned)
    }

    /// A message as written.
    fn message(self, message: &Message) -> String {
        self.quoted(message.span).map_or_else(|| quote_message(&message.parts), str::to_owned)
    }
}

/// `name: Type` in a declaration, an object type's members one after another.
fn field_decl(field: &FieldDecl) -> String {
    let ty = match &field.ty {
        FieldType::Named(ty) => name(&ty.text).into_owned(),
        FieldType::List(ty, _) => format!("[{}]", name(&ty.text)),
        FieldType::Object(members, _) => {
            format!("{{{}}}", members.iter().map(field_decl).collect::<Vec<_>>().join(", "))
        }
    };
    format!("{}: {ty}", field_name(&field.name.text))
}

/// Whether the lexer skips `c` as whitespace (a byte-order mark included).
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{FEFF}'
}

/// How tightly an operator binds.
fn binding(op: ArithOp) -> u8 {
    match op {
        ArithOp::Add | ArithOp::Sub => 1,
        ArithOp::Mul | ArithOp::Div => 2,
    }
}

/// `@name` or `@name(a, b)`.
fn annotation(annotation: &Annotation) -> String {
    if annotation.args.is_empty() {
        return format!("@{}", name(&annotation.name.text));
    }
    let args: Vec<std::borrow::Cow<'_, str>> = annotation.args.iter().map(|arg| name(&arg.text)).collect();
    format!("@{}({})", name(&annotation.name.text), args.join(", "))
}

/// A string literal with the value `value` (used only when the source text is not at hand).
pub fn quote(value: &str) -> String {
    let mut out = String::from('"');
    value.chars().for_each(|c| escape(&mut out, c));
    out.push('"');
    out
}

/// A message with `parts` (used only when the source text is not at hand).
fn quote_message(parts: &[MessagePart]) -> String {
    let mut out = String::from('"');
    for part in parts {
        match part {
            MessagePart::Text(text) => {
                for c in text.chars() {
                    match c {
                        '{' => out.push_str("{{"),
                        '}' => out.push_str("}}"),
                        c => escape(&mut out, c),
                    }
                }
            }
            MessagePart::Var(name) => {
                out.push('{');
                out.push_str(&name.text);
                out.push('}');
            }
        }
    }
    out.push('"');
    out
}

/// Whether `text` can be written as a bare name: an identifier that is no keyword (`to`,
/// a keyword only after `escalate NAME`, is a name elsewhere). Any other name is written
/// quoted.
fn is_bare_name(text: &str) -> bool {
    use logos::Logos;
    let mut tokens = crate::lexer::Token::lexer(text);
    let single_identifier =
        matches!(tokens.next(), Some(Ok(crate::lexer::Token::Ident(s))) if s == text) && tokens.next().is_none();
    text == "to" || (single_identifier && !text.starts_with('`'))
}

/// `text` as a name in source: bare where it can be, else between backticks
/// (`` `my-key` ``, `` `type` ``) with the escapes of strings.
pub fn name(text: &str) -> std::borrow::Cow<'_, str> {
    if is_bare_name(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::from('`');
    text.chars().for_each(|c| escape_in(&mut out, c, '`'));
    out.push('`');
    std::borrow::Cow::Owned(out)
}

/// `text` as a field's name, where a bare keyword is a name too (`input t(type: Str)`).
fn field_name(text: &str) -> std::borrow::Cow<'_, str> {
    use logos::Logos;
    let mut tokens = crate::lexer::Token::lexer(text);
    let keyword = tokens.next().and_then(Result::ok).and_then(|t| t.keyword_text());
    if keyword == Some(text) && text.chars().all(|c| c.is_ascii_alphabetic()) && tokens.next().is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    name(text)
}

/// Appends `c` to a string literal's body, escaped if it must be.
fn escape(out: &mut String, c: char) {
    escape_in(out, c, '"');
}

/// Appends `c` to the body of a token quoted by `quote`, escaped if it must be.
fn escape_in(out: &mut String, c: char, quote: char) {
    match c {
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c => out.push(c),
    }
}
