//! The words of the language, for hover and rename; the names of a file are indexed by
//! `gov_db` ([`gov_db::file_names`], memoised per file), re-exported here.

pub use gov_db::names::{FileIndex, Occurrence, Role, Target};
use gov_syntax::lexer::{Spanned, Token};

/// Keywords and what they mean, for hover.
pub fn keyword_doc(word: &str) -> Option<&'static str> {
    Some(match word {
        "package" => {
            "`package NAME` — the first item of every file; all files of a package directory declare the same name."
        }
        "use" => "`use std.MODULE` — makes a standard-library module's relations available.",
        "default" => "`default allow | deny` — the decision when no decision rule decides (deny if absent).",
        "type" => "`type Name = Base` — a nominal type alias: distinct from its base type and from other aliases.",
        "input" => {
            "`input name(field: Type, …)` — a relation whose facts come with each request; \
             `input one name(…)`: exactly one fact per request."
        }
        "data" => "`data name(field: Type, …)` — a relation whose facts come with the bundle.",
        "not" => "`not atom` — negation: holds when no fact matches. Its variables must be bound by a positive atom.",
        "allow" => "`allow NAME :- body.` — the action may run (unless a deny or escalate fires).",
        "deny" => "`deny NAME \"message\" :- body.` — the action must not run; deny beats every other outcome.",
        "escalate" => "`escalate NAME to \"group\" \"message\" :- body.` — a human in `group` must approve first.",
        "obligation" => "`obligation NAME \"message\" :- body.` — something that must happen if the action runs.",
        "risk" => "`risk NAME POINTS :- body.` — adds points to the request's `risk_score`.",
        "test" => "`test \"name\" { given … expect … }` — a test run by `govc test`.",
        "given" => "`given fact. fact.` — the input and data facts of a test.",
        "expect" => {
            "`expect deny|allow|escalate|obligation [rule…]`, `expect risk N` or `expect error` — what a test asserts."
        }
        "with" => "`with data \"file.json\"` — loads data facts for a test from a JSON file.",
        "true" | "false" => "A `Bool` literal.",
        "to" => "`to \"group\"` — the approver group of an `escalate` rule.",
        _ => return None,
    })
}

/// What `one` means after `input`, for hover (`one` is a contextual word, not a keyword).
pub const ONE_DOC: &str = "`input one name(field: Type, …)` — every request holds exactly one fact of the relation \
     (its time, its requester); none, or two, is a request error, never a decision.";

/// Whether the token at `i` is the contextual word `one` of `input one NAME(…)`: an
/// identifier `one` right after `input` or `data` and followed by the relation's name.
pub fn is_one_modifier(tokens: &[Spanned<'_>], i: usize) -> bool {
    let token = |j: Option<usize>| j.and_then(|j| tokens.get(j)).map(|t| t.token);
    matches!(token(Some(i)), Some(Token::Ident("one")))
        && matches!(token(i.checked_sub(1)), Some(Token::Input | Token::Data))
        && matches!(token(i.checked_add(1)), Some(Token::Ident(_) | Token::To))
}

/// The index of the token under byte `offset` (one that contains it or ends there, the
/// first if two touch it): tokens are sorted and disjoint, so this is a binary search.
pub fn token_at(tokens: &[Spanned<'_>], offset: u32) -> Option<usize> {
    let first = tokens.partition_point(|t| t.end < offset);
    tokens.get(first).filter(|t| t.start <= offset).map(|_| first)
}

/// Whether `query` matches `name`: its characters appear in order, ignoring case.
pub fn fuzzy(query: &str, name: &str) -> bool {
    let mut wanted = query.chars().flat_map(char::to_lowercase).peekable();
    for c in name.chars().flat_map(char::to_lowercase) {
        if wanted.peek() == Some(&c) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

/// What an aggregate function does, for hover.
pub fn aggregate_doc(name: &str) -> &'static str {
    match name {
        "count" => "`count(x : body)` — the number of distinct bindings of the body. An `Int`.",
        "sum" => "`sum(x : body)` — the sum of `x` over the distinct bindings of the body (Int, Decimal or Duration).",
        "min" => "`min(x : body)` — the least value of `x` over the bindings of the body.",
        "max" => "`max(x : body)` — the greatest value of `x` over the bindings of the body.",
        _ => "An aggregate function.",
    }
}

/// Whether `name` can be written as an identifier (and is not a keyword).
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some('_') => name.len() > 1,
        _ => false,
    };
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && keyword_doc(name).is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::is_one_modifier;
    use gov_diag::FileId;
    use gov_syntax::lexer::lex;

    /// The positions of the tokens that are the word `one` of `input one NAME(…)`.
    fn modifiers(text: &str) -> Vec<usize> {
        let lexed = lex(FileId(0), text);
        (0..lexed.tokens.len()).filter(|&i| is_one_modifier(&lexed.tokens, i)).collect()
    }

    #[test]
    fn the_token_at_an_offset_is_the_first_that_touches_it() {
        let lexed = lex(FileId(0), "p(x)  q");
        let at = |offset| super::token_at(&lexed.tokens, offset);
        assert_eq!(
            [at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8)],
            [Some(0), Some(0), Some(1), Some(2), Some(3), None, Some(4), Some(4), None]
        );
    }

    #[test]
    fn one_is_a_modifier_only_before_the_relations_name() {
        assert_eq!(modifiers("input one request_time(at: Time)"), [1]);
        assert_eq!(modifiers("input one one(one: Int)"), [1]);
        assert_eq!(modifiers("input one(one: Int)"), Vec::<usize>::new());
        assert_eq!(modifiers("p(one) :- q(one, one)."), Vec::<usize>::new());
    }
}
