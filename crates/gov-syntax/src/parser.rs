//! Parsing a file: lex, split into items, parse each item, attach doc comments.

use crate::ast::{ErrorItem, Item, ItemAt, ItemKind, Origin, Salvaged, SourceFile};
use crate::grammar::ItemParser;
use crate::lexer::{Comment, Spanned, Token, to_u32};
use crate::split::{self, Chunk};
use gov_diag::{Applicability, Diagnostic, FileId, Fix, Span, codes};
use lalrpop_util::ParseError;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// A parsed file: its tree, its comments and the problems found on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The syntax tree (items that failed to parse are [`ItemKind::Error`]).
    pub file: SourceFile,
    /// Comments not attached to an item as its doc comment, in order.
    pub comments: Vec<Comment>,
    /// Lexical and syntax errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Keywords an item can start with, for "did you mean" on a misspelt one.
/// (`invariant` is a contextual word, not a keyword, but starts an item too.)
const ITEM_KEYWORDS: [&str; 13] = [
    "package",
    "use",
    "default",
    "type",
    "input",
    "data",
    "allow",
    "deny",
    "escalate",
    "obligation",
    "risk",
    "test",
    "invariant",
];

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> Parsed {
    parse_items(file, text, None).0.0
}

/// Parses one file's text again, reusing the trees of `previous` (an earlier parse of the
/// same file, from [`reparse`]) for every item whose text did not change, wherever it
/// moved: an edit parses only the items it touched. The result equals [`parse`]'s; the
/// [`Reusable`] returned serves the next edit (it replaces `previous`, which is dropped
/// with the trees no longer used).
pub fn reparse(file: FileId, text: &str, previous: Option<&Reusable>) -> (Arc<Parsed>, Reusable) {
    let ((parsed, items, pieces), Counts { fresh, lexed }) = parse_items(file, text, previous);
    let parsed = Arc::new(parsed);
    (Arc::clone(&parsed), Reusable { text: text.to_owned(), parsed, items, pieces, fresh, lexed })
}

/// A file's parse kept for its next parse ([`reparse`]): the text, the tree, and where
/// each item's tree and problems lie in them.
#[derive(Debug)]
pub struct Reusable {
    text: String,
    parsed: Arc<Parsed>,
    items: Vec<ItemRecord>,
    /// Where each tree of `parsed`'s file, in order, has its first token start and its
    /// last token end.
    pieces: Vec<(u32, u32)>,
    fresh: usize,
    lexed: usize,
}

impl Reusable {
    /// How many items the parse that made this parsed rather than reused (for tests and
    /// measurements).
    pub fn fresh_items(&self) -> usize {
        self.fresh
    }

    /// How many bytes of the text the parse that made this lexed in the window it kept
    /// (windows tried and given up for a longer one not counted; for tests and
    /// measurements).
    pub fn lexed_bytes(&self) -> usize {
        self.lexed
    }
}

/// What a parse did: how many items it parsed afresh and how many bytes it lexed.
#[derive(Debug, Default)]
struct Counts {
    fresh: usize,
    lexed: usize,
}

/// A file's parse, the records of its items and where each tree's tokens start and end.
type Assembled = (Parsed, Vec<ItemRecord>, Vec<(u32, u32)>);

/// One item as the splitter cut it out of its file, with what its parse gave.
// Invariant: an item's parse depends only on the fields of its [`ItemKey`] (its text, the
// splitter's verdicts and where the lexer failed in it); never on text around it.
#[derive(Debug, Clone)]
struct ItemRecord {
    /// From the start of its first token to the end of its last.
    text: std::ops::Range<u32>,
    /// Whether the item lacks its `.` (the splitter reported E0002).
    synthetic_dot: bool,
    /// Whether the item nests too deeply to be parsed (the splitter reported E0005).
    too_deep: bool,
    /// Whether its last token is a `.`.
    ends_with_dot: bool,
    /// Where the file's lexer reported a character no token starts, relative to the item.
    lexical: Vec<u32>,
    /// Its trees in the file's items (one, or more when a missing `.` split it).
    items: std::ops::Range<usize>,
    /// The problems its parse found.
    diagnostics: Vec<Diagnostic>,
    /// E0002s of the splitter its parse withdrew.
    dropped_dots: Vec<Span>,
}

impl ItemRecord {
    /// Whether the file can be re-cut after this item without looking at what comes before
    /// it: it parsed cleanly and ends with its own `.`, followed by whitespace or the end of
    /// `text` (its file's text), so the splitter ended it there and starts the next item
    /// afresh, and the lexer read nothing after the `.` (`crate::window`).
    fn anchor(&self, text: &[u8]) -> bool {
        let end = self.text.end as usize;
        self.ends_with_dot
            && !self.synthetic_dot
            && !self.too_deep
            && self.lexical.is_empty()
            && self.diagnostics.is_empty()
            && self.dropped_dots.is_empty()
            && self.items.len() == 1
            && text.get(end).is_none_or(u8::is_ascii_whitespace)
    }

    /// The record of this item moved `by` bytes, its trees now from index `base` on where
    /// they were from `old_base`.
    fn moved(&self, by: u32, base: usize, old_base: usize) -> ItemRecord {
        let mut diagnostics = self.diagnostics.clone();
        diagnostics.iter_mut().for_each(|d| d.shift(by));
        ItemRecord {
            text: self.text.start.wrapping_add(by)..self.text.end.wrapping_add(by),
            synthetic_dot: self.synthetic_dot,
            too_deep: self.too_deep,
            ends_with_dot: self.ends_with_dot,
            lexical: self.lexical.clone(),
            items: self.items.start - old_base + base..self.items.end - old_base + base,
            diagnostics,
            dropped_dots: self.dropped_dots.iter().map(|dot| dot.shifted(by)).collect(),
        }
    }
}

/// What an item's parse depends on: equal keys parse alike (spans moved by the distance
/// between them).
#[derive(PartialEq, Eq, Hash)]
struct ItemKey<'a> {
    text: &'a str,
    synthetic_dot: bool,
    too_deep: bool,
    lexical: &'a [u32],
}

/// Parses `text` item by item, reusing `previous`'s trees where an item's key is the same;
/// returns the parse, the record of its items, where each tree's tokens start and end, and
/// how many items were parsed afresh. With a `previous` parse, only the stretch of items
/// around the edit is lexed, split and looked up ([`crate::window`]); the items before it
/// are kept as they were and those after it moved by the edit's change of length.
fn parse_items(file: FileId, text: &str, previous: Option<&Reusable>) -> (Assembled, Counts) {
    let len = to_u32(text.len());
    let Some(previous) = previous else {
        // A region that ends at the end of the text is always parsed (never `None`).
        let region = parse_region(file, text, 0..len, None).unwrap_or_default();
        let Region { items, records, pieces, comments, diagnostics, counts } = region;
        return ((Parsed { file: SourceFile { items }, comments, diagnostics }, records, pieces), counts);
    };
    let edit = crate::window::Edit::between(&previous.text, text);
    let anchor = |record: &ItemRecord| record.anchor(previous.text.as_bytes());
    // The last anchor wholly before the edit: the items up to it are kept as they are.
    let before = previous.items.partition_point(|r| (r.text.end as usize) < edit.start);
    let kept = previous.items.get(..before).unwrap_or_default().iter().rposition(anchor).map_or(0, |i| i + 1);
    let from = kept.checked_sub(1).and_then(|i| previous.items.get(i)).map_or(0, |r| r.text.end);
    // The anchors whose `.` lies in the unchanged text after the edit: the first one the
    // re-split also ends an item at is where the moved items start.
    let after = previous.items.partition_point(|r| (r.text.end as usize) <= edit.old_end);
    let ends = previous.items.iter().enumerate().skip(after.max(kept)).filter(|(_, r)| anchor(r)).take(3);
    let by = len.wrapping_sub(to_u32(previous.text.len()));
    for (last, record) in ends {
        let window = previous.items.get(kept..=last).unwrap_or_default();
        let to = record.text.end.wrapping_add(by);
        if let Some(region) = parse_region(file, text, from..to, Some((previous, window))) {
            let moved = Moved { records: last + 1, from: record.text.end, by };
            return splice(previous, kept, region, from, Some(moved));
        }
    }
    let window = previous.items.get(kept..).unwrap_or_default();
    let region = parse_region(file, text, from..len, Some((previous, window))).unwrap_or_default();
    splice(previous, kept, region, from, None)
}

/// The items of the last parse after an edit's region: from record `records` on, whose
/// old text from byte `from` on is unchanged, moved `by` bytes.
struct Moved {
    records: usize,
    from: u32,
    by: u32,
}

/// The parse made of `previous`'s items before record `kept` as they are, `region` (which
/// starts at byte `from`), and `moved`, the items after it.
fn splice(previous: &Reusable, kept: usize, region: Region, from: u32, moved: Option<Moved>) -> (Assembled, Counts) {
    let old = &previous.parsed;
    let records_before = previous.items.get(..kept).unwrap_or_default();
    let Moved { records: after, from: until, by } =
        moved.unwrap_or(Moved { records: usize::MAX, from: u32::MAX, by: 0 });
    let records_after = previous.items.get(after..).unwrap_or_default();
    let trees_before = records_before.last().map_or(0, |r| r.items.end);
    let trees_after = records_after.first().map_or(old.file.items.len(), |r| r.items.start);
    let old_trees = |range: std::ops::Range<usize>| old.file.items.get(range).unwrap_or_default().iter();
    let mut items = Vec::with_capacity(old.file.items.len() + region.items.len());
    items.extend(old_trees(0..trees_before).cloned());
    items.extend(region.items);
    let base = items.len();
    items.extend(old_trees(trees_after..old.file.items.len()).map(|item| item.moved(by)));
    let mut records: Vec<ItemRecord> = records_before.to_vec();
    records.extend(
        region
            .records
            .into_iter()
            .map(|r| ItemRecord { items: r.items.start + trees_before..r.items.end + trees_before, ..r }),
    );
    records.extend(records_after.iter().map(|r| r.moved(by, base, trees_after)));
    let old_pieces = |range: std::ops::Range<usize>| previous.pieces.get(range).unwrap_or_default().iter();
    let mut pieces: Vec<(u32, u32)> = old_pieces(0..trees_before).copied().collect();
    pieces.extend(region.pieces);
    pieces
        .extend(old_pieces(trees_after..previous.pieces.len()).map(|&(a, b)| (a.wrapping_add(by), b.wrapping_add(by))));
    let mut comments: Vec<Comment> = old.comments.iter().take_while(|c| c.span.start < from).cloned().collect();
    comments.extend(region.comments);
    comments.extend(
        old.comments
            .iter()
            .filter(|c| c.span.start >= until)
            .map(|c| Comment { text: c.text.clone(), span: c.span.shifted(by) }),
    );
    let mut diagnostics: Vec<Diagnostic> =
        old.diagnostics.iter().take_while(|d| d.primary.span.start < from).cloned().collect();
    diagnostics.extend(region.diagnostics);
    diagnostics.extend(old.diagnostics.iter().filter(|d| d.primary.span.start >= until).map(|d| {
        let mut d = d.clone();
        d.shift(by);
        d
    }));
    ((Parsed { file: SourceFile { items }, comments, diagnostics }, records, pieces), region.counts)
}

/// The items of a stretch of a file, parsed.
#[derive(Default)]
struct Region {
    items: Vec<ItemAt>,
    records: Vec<ItemRecord>,
    pieces: Vec<(u32, u32)>,
    /// The comments in it that are no item's doc comment.
    comments: Vec<Comment>,
    /// Its lexical and syntax errors, in source order.
    diagnostics: Vec<Diagnostic>,
    counts: Counts,
}

/// Parses the items of `text` within `range`, which starts where an item starts afresh
/// (the file's start, or just after an item's own `.`), reusing the trees of `previous`'s
/// records in `known` where an item's key is the same. `None` if `range` ends before the
/// end of `text` but not with an item's own `.`: the items after it could then be cut
/// differently.
fn parse_region(
    file: FileId,
    text: &str,
    range: std::ops::Range<u32>,
    previous: Option<(&Reusable, &[ItemRecord])>,
) -> Option<Region> {
    let whole = range.end as usize >= text.len();
    let lexed = crate::lexer::lex_range(file, text, range.start as usize..range.end as usize);
    let mut diagnostics = lexed.diagnostics;
    let lexical_ends: HashSet<u32> = diagnostics.iter().map(|d| d.primary.span.end).collect();
    let mut lexical: Vec<u32> =
        diagnostics.iter().filter(|d| d.code == codes::LEXICAL).map(|d| d.primary.span.start).collect();
    lexical.sort_unstable();
    let (chunks, terminated) = split::split_region(file, text, &lexed.tokens, &mut diagnostics);
    if !whole {
        // The region must end with an item's own `.`, at its end.
        let last = lexed.tokens.last()?;
        let ends = chunks.last().is_some_and(|c| c.end == lexed.tokens.len());
        if !(terminated && ends && last.token == Token::Dot && last.end == range.end) {
            return None;
        }
    }
    // An unterminated string swallows the rest of its line, `.` included: that is one
    // mistake, reported by the lexer, not also a missing `.`.
    diagnostics.retain(|d| d.code != codes::MISSING_TERMINATOR || !lexical_ends.contains(&d.primary.span.start));
    // foldhash, not SipHash: the keys are the texts of the items looked up (at most every
    // item of the file), hashed on every keystroke.
    let known: HashMap<ItemKey<'_>, &ItemRecord, foldhash::fast::RandomState> = previous
        .map(|(previous, records)| {
            records
                .iter()
                .filter_map(|record| {
                    let text = previous.text.get(record.text.start as usize..record.text.end as usize)?;
                    let key = ItemKey {
                        text,
                        synthetic_dot: record.synthetic_dot,
                        too_deep: record.too_deep,
                        lexical: &record.lexical,
                    };
                    Some((key, record))
                })
                .collect()
        })
        .unwrap_or_default();
    let previous = previous.map(|(previous, _)| previous);
    let mut comments = Comments { pending: lexed.comments.into_iter().peekable(), kept: Vec::new() };
    let parser = ItemParser::new();
    let mut items = Vec::with_capacity(chunks.len());
    let mut records = Vec::with_capacity(chunks.len());
    let mut pieces = Vec::with_capacity(chunks.len());
    let mut fresh = 0;
    let mut previous_end = range.start;
    let mut dropped_dots = HashSet::new();
    for chunk in &chunks {
        let tokens = lexed.tokens.get(chunk.start..chunk.end).unwrap_or_default();
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else { continue };
        let offset = first.start;
        let inside = lexical.partition_point(|&at| at < offset)..lexical.partition_point(|&at| at <= last.end);
        let inside = lexical.get(inside).unwrap_or_default();
        let relative: Vec<u32> = inside.iter().map(|at| at - offset).collect();
        let key = ItemKey {
            text: text.get(offset as usize..last.end as usize).unwrap_or_default(),
            synthetic_dot: chunk.synthetic_dot,
            too_deep: chunk.too_deep,
            lexical: &relative,
        };
        let start = items.len();
        let problems = match previous.zip(known.get(&key)) {
            Some((previous, record)) => {
                // Moved from where it was: a move back is a wrapping add of the distance.
                let by = offset.wrapping_sub(record.text.start);
                let trees = previous.parsed.file.items.get(record.items.clone()).unwrap_or_default();
                items.extend(trees.iter().map(|item| item.moved(by)));
                let moved = previous.pieces.get(record.items.clone()).unwrap_or_default();
                pieces.extend(moved.iter().map(|&(first, end)| (first.wrapping_add(by), end.wrapping_add(by))));
                let mut problems = Problems {
                    diagnostics: record.diagnostics.clone(),
                    dropped_dots: record.dropped_dots.iter().map(|dot| dot.shifted(by)).collect(),
                };
                problems.diagnostics.iter_mut().for_each(|d| d.shift(by));
                problems
            }
            None => {
                fresh += 1;
                parse_item(&parser, file, text, tokens, chunk, inside, &mut items, &mut pieces)
            }
        };
        for (item, &(first, end)) in items.iter_mut().zip(&pieces).skip(start) {
            let docs = take_docs(text, &mut comments, previous_end, first);
            // The docs hold no span: the tree as parsed has them.
            if item.unmoved().docs != docs {
                let item = item.make_mut();
                item.docs = docs;
                item.origin = Origin::fresh();
            }
            previous_end = end;
        }
        diagnostics.extend(problems.diagnostics.iter().cloned());
        dropped_dots.extend(problems.dropped_dots.iter().copied());
        records.push(ItemRecord {
            text: offset..last.end,
            synthetic_dot: chunk.synthetic_dot,
            too_deep: chunk.too_deep,
            ends_with_dot: last.token == Token::Dot,
            lexical: relative,
            items: start..items.len(),
            diagnostics: problems.diagnostics,
            dropped_dots: problems.dropped_dots,
        });
    }
    // Once for the whole region: once per broken item would be quadratic.
    if !dropped_dots.is_empty() {
        diagnostics.retain(|d| !(d.code == codes::MISSING_TERMINATOR && dropped_dots.contains(&d.primary.span)));
    }
    diagnostics.sort_by_key(|d| d.primary.span.start);
    let comments = comments.kept.into_iter().chain(comments.pending).collect();
    let counts = Counts { fresh, lexed: (range.end - range.start) as usize };
    Some(Region { items, records, pieces, comments, diagnostics, counts })
}

/// What one item's parse found wrong: its problems and the splitter's E0002s it withdraws.
#[derive(Default)]
struct Problems {
    diagnostics: Vec<Diagnostic>,
    dropped_dots: Vec<Span>,
}

/// Parses one item (`tokens`, one chunk of the file `text`); `lexical` holds where the
/// file's lexer failed inside it. Pushes its trees (docs not attached) onto `items`, and
/// where each one's first token starts and last token ends onto `pieces`.
#[allow(clippy::too_many_arguments)]
fn parse_item(
    parser: &ItemParser,
    file: FileId,
    text: &str,
    tokens: &[Spanned<'_>],
    chunk: &Chunk,
    lexical: &[u32],
    items: &mut Vec<ItemAt>,
    pieces: &mut Vec<(u32, u32)>,
) -> Problems {
    let mut problems = Problems::default();
    // Nearly every item is one chunk: the queue (which allocates) serves only the items a
    // missing `.` splits.
    let mut next = Some(Chunk { start: 0, end: tokens.len(), ..chunk.clone() });
    let mut queue = VecDeque::new();
    while let Some(chunk) = next.take().or_else(|| queue.pop_front()) {
        let chunk_tokens = tokens.get(chunk.start..chunk.end).unwrap_or_default();
        let (Some(first), Some(last)) = (chunk_tokens.first(), chunk_tokens.last()) else { continue };
        let item = match parse_chunk(parser, file, text, &chunk, chunk_tokens, lexical, &mut problems) {
            Parse::Item(item) => *item,
            Parse::Split(at) => {
                // The item lacks its `.` before an indented item: two items, one E0002.
                let (head, rest) = (Chunk { end: at, ..chunk.clone() }, Chunk { start: at, ..chunk });
                let head_tokens = tokens.get(head.start..head.end).unwrap_or_default();
                let head = Chunk { synthetic_dot: split::needs_dot(split::after_annotations(head_tokens)), ..head };
                if let (true, Some(last)) = (head.synthetic_dot, head_tokens.last()) {
                    problems.diagnostics.push(split::missing_dot(Span::new(file, last.end, last.end)));
                }
                queue.push_front(rest);
                next = Some(head);
                continue;
            }
        };
        items.push(ItemAt::new(item));
        pieces.push((first.start, last.end));
    }
    problems
}

/// What parsing one chunk gave.
enum Parse {
    /// The item (an error item if it failed).
    Item(Box<Item>),
    /// The chunk is two items, the first lacking its `.`: the second starts at this token.
    Split(usize),
}

// lalrpop's token stream must have the grammar's error type, a `Diagnostic`, as its `Err`.
#[allow(clippy::result_large_err)]
/// Parses one item. A synthesised `.` whose E0002 must be withdrawn (the item has a syntax
/// error of its own) is added to `dropped_dots`. An item that fails at the first token of
/// an indented line, a token that starts items, when what comes before it is a whole item
/// once given a `.`, is two items ([`Parse::Split`]): the `.` is missing, and reporting
/// the failure instead would hide the second item (its name then reported unknown).
fn parse_chunk(
    parser: &ItemParser,
    file: FileId,
    text: &str,
    chunk: &Chunk,
    tokens: &[Spanned<'_>],
    lexical: &[u32],
    parsed: &mut Problems,
) -> Parse {
    let span = match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => Span::new(file, first.start, last.end),
        _ => Span::new(file, 0, 0),
    };
    let error_item = |tokens: &[Spanned<'_>]| Item {
        docs: Vec::new(),
        annotations: Vec::new(),
        kind: ItemKind::Error(ErrorItem { salvaged: salvage(file, tokens) }),
        span,
        origin: Origin::fresh(),
        compound_syntax: false,
    };
    if chunk.too_deep {
        return Parse::Item(Box::new(error_item(tokens)));
    }
    let dot = chunk.synthetic_dot.then_some(Spanned { token: Token::Dot, start: span.end, end: span.end });
    let stream = split::joined(tokens).chain(dot).map(|t| Ok((t.start, t.token, t.end)));
    let mut errors = Vec::new();
    let result = parser.parse(file, &mut errors, stream);
    if let Err(ParseError::UnrecognizedToken { token: (location, _, _), .. }) = &result
        && let Some(at) = indented_item_start(parser, file, text, tokens, *location)
    {
        return Parse::Split(chunk.start + at);
    }
    parsed.diagnostics.append(&mut errors);
    Parse::Item(Box::new(match result {
        Ok(item) => item,
        Err(error) => {
            let error = match error {
                // Stuck at the `.` the splitter supplied: the item ends too early.
                ParseError::UnrecognizedToken { token: (location, Token::Dot, _), expected }
                    if chunk.synthetic_dot && location == span.end =>
                {
                    ParseError::UnrecognizedEof { location, expected }
                }
                other => other,
            };
            if chunk.synthetic_dot {
                // The item is broken anyway: its syntax error is the one report, not also
                // the E0002 for the `.` the splitter supplied.
                parsed.dropped_dots.push(Span::new(file, span.end, span.end));
            }
            // A character no token starts was already reported inside this item: that is
            // the mistake, and the parser's complaint about the gap would be a cascade.
            let lexical = lexical.iter().any(|&at| span.contains(at))
                || parsed.diagnostics.iter().any(|d| d.code == codes::LEXICAL && span.contains(d.primary.span.start));
            if lexical {
                return Parse::Item(Box::new(error_item(tokens)));
            }
            let mut diagnostic = syntax_error(file, text, tokens, span, error);
            if let Some(open) = unclosed(tokens).filter(|open| open.start < diagnostic.primary.span.start) {
                diagnostic = unclosed_error(file, open, diagnostic.primary.span);
            }
            parsed.diagnostics.push(diagnostic);
            error_item(tokens)
        }
    }))
}

/// The index in `tokens` of the token at byte `location` if it starts an indented line and
/// can start an item, and the tokens before it parse as an item with a `.` added.
#[allow(clippy::result_large_err)]
fn indented_item_start(
    parser: &ItemParser,
    file: FileId,
    text: &str,
    tokens: &[Spanned<'_>],
    location: u32,
) -> Option<usize> {
    let at = tokens.iter().position(|t| t.start == location).filter(|at| *at > 0)?;
    let token = tokens.get(at)?;
    let line_start = text.get(..location as usize)?.rfind('\n')? + 1;
    let indented = text.get(line_start..location as usize)?.chars().all(|c| c == ' ' || c == '\t');
    if !indented || !token.token.starts_item() {
        return None;
    }
    let head = tokens.get(..at)?;
    let end = head.last()?.end;
    let dot = Spanned { token: Token::Dot, start: end, end };
    let stream = split::joined(head).chain(std::iter::once(dot)).map(|t| Ok((t.start, t.token, t.end)));
    parser.parse(file, &mut Vec::new(), stream).is_ok().then_some(at)
}

/// The innermost `(` or `{` of an item that is never closed.
fn unclosed<'t, 's>(tokens: &'t [Spanned<'s>]) -> Option<&'t Spanned<'s>> {
    let mut open = Vec::new();
    for token in tokens {
        match token.token {
            Token::LParen | Token::LBrace => open.push(token),
            Token::RParen | Token::RBrace => {
                open.pop();
            }
            _ => {}
        }
    }
    open.pop()
}

/// The report for a parse that failed at `stuck` because `open` is never closed.
fn unclosed_error(file: FileId, open: &Spanned<'_>, stuck: Span) -> Diagnostic {
    let (delimiter, closing) = if open.token == Token::LBrace { ("{", "}") } else { ("(", ")") };
    Diagnostic::new(codes::SYNTAX, format!("unclosed `{delimiter}`"), Span::new(file, open.start, open.end))
        .with_primary_label(format!("this `{delimiter}` is never closed"))
        .with_label(stuck, format!("expected `{closing}` before this"))
        .with_help(format!("add the missing `{closing}`"))
        .with_fix(Fix::replace(
            format!("Add `{closing}`"),
            Applicability::NeedsReview,
            Span::new(file, stuck.start, stuck.start),
            closing,
        ))
}

/// A file's comments while items are read in order: those not reached yet, and those
/// that are no item's doc comment.
struct Comments {
    pending: std::iter::Peekable<std::vec::IntoIter<Comment>>,
    kept: Vec<Comment>,
}

/// Takes the `///` comments that directly precede offset `item_start` (after `after`) and
/// returns their text; the other comments before `item_start` are kept. Each comment is
/// looked at once, so a file of documented items costs linear time.
fn take_docs(text: &str, comments: &mut Comments, after: u32, item_start: u32) -> Vec<String> {
    let mut before: Vec<Comment> = Vec::new();
    while let Some(comment) = comments.pending.next_if(|c| c.span.start < item_start) {
        before.push(comment);
    }
    let mut first = before.len();
    let mut gap_end = item_start;
    while first > 0 {
        let Some(comment) = before.get(first - 1) else { break };
        let gap = text.get(comment.span.end as usize..gap_end as usize).unwrap_or("x");
        let line_start =
            text.get(..comment.span.start as usize).map_or(0, |before| before.rfind('\n').map_or(0, |i| i + 1));
        let first_on_line = text.get(line_start..comment.span.start as usize).is_some_and(|s| s.trim().is_empty());
        if comment.span.start < after || !comment.is_doc() || !gap.trim().is_empty() || !first_on_line {
            break;
        }
        gap_end = comment.span.start;
        first -= 1;
    }
    let docs = before.split_off(first);
    comments.kept.append(&mut before);
    docs.into_iter()
        .map(|c| {
            let body = c.text.strip_prefix("///").unwrap_or(&c.text);
            body.strip_prefix(' ').unwrap_or(body).to_owned()
        })
        .collect()
}

/// The name a broken item was about to define, read off its first tokens.
fn salvage(file: FileId, tokens: &[Spanned<'_>]) -> Option<Salvaged> {
    // Skip annotations: `@name` optionally followed by a parenthesised list.
    let mut rest = tokens;
    while let [Spanned { token: Token::At, .. }, _, tail @ ..] = rest {
        rest = tail;
        if let [Spanned { token: Token::LParen, .. }, ..] = rest {
            let close = rest.iter().position(|t| t.token == Token::RParen).map_or(rest.len(), |i| i + 1);
            rest = rest.get(close..).unwrap_or_default();
        }
    }
    // A quoted name (`` `my-key` ``) is salvaged as the name it stands for.
    let name = |t: &Spanned<'_>, s: &str| crate::literal::name(file, s, t.start, t.end, &mut Vec::new());
    match rest {
        // `input one NAME(…` (or a misspelt `one`): the name follows the modifier.
        [
            Spanned { token: Token::Input | Token::Data, .. },
            Spanned { token: Token::Ident(_), .. },
            t @ Spanned { token: Token::Ident(s), .. },
            ..,
        ] => Some(Salvaged::Relation(name(t, s))),
        [Spanned { token: Token::Input | Token::Data, .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => {
            Some(Salvaged::Relation(name(t, s)))
        }
        [Spanned { token: Token::Type, .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => {
            Some(Salvaged::Type(name(t, s)))
        }
        [
            Spanned { token: Token::Allow | Token::Deny | Token::Escalate | Token::Obligation | Token::Risk, .. },
            t @ Spanned { token: Token::Ident(s), .. },
            ..,
        ] => Some(Salvaged::Rule(name(t, s))),
        [t @ Spanned { token: Token::Ident(s), .. }, Spanned { token: Token::LParen, .. }, ..] => {
            Some(Salvaged::Relation(name(t, s)))
        }
        [Spanned { token: Token::Test, .. }, Spanned { token: Token::Str(s), .. }, ..] => {
            Some(Salvaged::Test(s.trim_matches('"').to_owned()))
        }
        // A misspelt keyword (`deni name …`): salvage the name as the keyword would have.
        [Spanned { token: Token::Ident(word), .. }, t @ Spanned { token: Token::Ident(s), .. }, ..] => {
            match crate::suggest::closest(word, ITEM_KEYWORDS)? {
                "input" | "data" => Some(Salvaged::Relation(name(t, s))),
                "type" => Some(Salvaged::Type(name(t, s))),
                "allow" | "deny" | "escalate" | "obligation" | "risk" => Some(Salvaged::Rule(name(t, s))),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Turns a parser error into one diagnostic.
fn syntax_error(
    file: FileId,
    text: &str,
    tokens: &[Spanned<'_>],
    item: Span,
    error: ParseError<u32, Token<'_>, Box<Diagnostic>>,
) -> Diagnostic {
    match error {
        ParseError::User { error } => *error,
        ParseError::UnrecognizedEof { location, expected } => {
            let span = Span::new(file, location, location);
            Diagnostic::new(
                codes::SYNTAX,
                format!("this item ends too early: expected {}", describe_expected(&expected)),
                span,
            )
            .with_primary_label("the item ends here")
            .with_label(item, "in this item")
        }
        ParseError::UnrecognizedToken { token: (l, token, r), expected } => {
            let span = Span::new(file, l, r);
            // `deni foo :- …`: a misspelt keyword reads as a relation name followed by junk,
            // or (two names) as the start of an invariant missing its `:`.
            // (`deni foo {` would have been a fixture: the error is then one token later.)
            if let [Spanned { token: Token::Ident(word), start, end }, second, rest @ ..] = tokens
                && (second.start == l
                    || (*word != "invariant"
                        && matches!(second.token, Token::Ident(_))
                        && rest.first().is_some_and(|third| third.start == l)))
                && let Some(guess) = crate::suggest::closest(word, ITEM_KEYWORDS)
            {
                let span = Span::new(file, *start, *end);
                return Diagnostic::new(codes::SYNTAX, format!("unknown keyword `{word}`"), span)
                    .with_primary_label("not a keyword")
                    .with_did_you_mean(span, Some(guess));
            }
            let mut diagnostic = Diagnostic::new(
                codes::SYNTAX,
                format!("expected {}, found {}", describe_expected(&expected), token.describe()),
                span,
            )
            .with_primary_label("unexpected here");
            if token == Token::LBracket {
                diagnostic = diagnostic.with_help(
                    "a list `[…]` is written only as a field's type (`tags: [Str]`) or as an atom's argument (a `given` fact's value); for one of several values write a set literal: `t in {\"a\", \"b\"}`",
                );
            } else if expected.iter().any(|e| e == "\",\"") && expected.iter().any(|e| e == "\".\"") {
                diagnostic = diagnostic.with_help("separate conditions with `,` and end the rule with `.`");
            }
            let _ = text;
            diagnostic
        }
        ParseError::ExtraToken { token: (l, token, r) } => {
            Diagnostic::new(codes::SYNTAX, format!("unexpected {}", token.describe()), Span::new(file, l, r))
                .with_primary_label("not expected here")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::new(codes::SYNTAX, "invalid token", Span::new(file, location, location))
        }
    }
}

/// "`(`, `,` or a name" from lalrpop's quoted terminal names.
fn describe_expected(expected: &[String]) -> String {
    let bare: Vec<&str> = expected.iter().map(|e| e.trim_matches('"')).collect();
    if bare.contains(&"package") {
        return "the start of an item (a declaration, rule or test)".to_owned();
    }
    // Where any expression may start, list "a value" rather than every way to write one.
    let value_start = ["identifier", "integer", "("].iter().all(|t| bare.contains(t));
    let mut names: Vec<String> = Vec::new();
    for terminal in &bare {
        let name = match *terminal {
            "identifier" | "to" | "in" | "_" | "integer" | "decimal" | "string" | "time" | "duration" | "true"
            | "false" | "(" | "-"
                if value_start =>
            {
                "a value".to_owned()
            }
            "to" | "in" if bare.contains(&"identifier") => continue, // `to` and `in` are names too
            "identifier" => "a name".to_owned(),
            "integer" => "an integer".to_owned(),
            "decimal" | "string" | "time" | "duration" => format!("a {terminal}"),
            other => format!("`{other}`"),
        };
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => "nothing more".to_owned(),
        [one] => one.clone(),
        many if many.len() > 6 => format!("one of {} and more", many.get(..6).unwrap_or_default().join(", ")),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The tests that compare a re-parse with a parse from scratch (`tests/incremental.rs`,
    /// `gov-db`'s) would see reuse gone wrong: a last parse whose trees are not those of
    /// its text gives a result that differs from the parse from scratch.
    #[test]
    fn a_stale_last_parse_would_show() {
        let text = "package p\ninput a(x: Int)\nallow b :- a(1).\nallow c :- a(2).\n";
        let (_, mut last) = reparse(FileId(0), text, None);
        let (other, _) = reparse(FileId(0), &text.replace("a(2)", "a(3)"), None);
        last.parsed = other;
        let edited = text.replace("a(1)", "a(9)");
        let (parsed, _) = reparse(FileId(0), &edited, Some(&last));
        assert_ne!(*parsed, parse(FileId(0), &edited));
        // With its own trees, the same edit gives the parse from scratch.
        let (_, last) = reparse(FileId(0), text, None);
        assert_eq!(*reparse(FileId(0), &edited, Some(&last)).0, parse(FileId(0), &edited));
    }
}
