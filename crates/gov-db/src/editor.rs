//! Per-file queries for the editor: a file's line index, tokens and names, memoised like
//! its parse, so that the language server's requests never re-lex, re-index or re-walk a
//! file whose text did not change (and an edit recomputes them for that file only, and
//! only when a request asks).

use crate::names::FileIndex;
use crate::queries::{SourceInput, parse_file};
use gov_diag::{FileId, LineIndex};
use gov_syntax::lexer::{Lexed, lex};
use gov_syntax::split::{Chunk, split};
use std::sync::Arc;

/// What `lex` returns for a text that lives as long as `'s`.
type LexedText<'s> = Lexed<'s>;

self_cell::self_cell!(
    /// A text and its tokens, which borrow it.
    struct LexedCell {
        owner: String,
        #[covariant]
        dependent: LexedText,
    }
    impl {Debug}
);

/// A file's tokens and comments (what [`lex`] returns) and the items the splitter cuts
/// them into.
#[derive(Debug)]
pub struct FileTokens {
    cell: LexedCell,
    chunks: Vec<Chunk>,
}

impl FileTokens {
    /// Lexes and splits `text`.
    pub fn new(file: FileId, text: String) -> FileTokens {
        let cell = LexedCell::new(text, |text| lex(file, text));
        let chunks = cell.with_dependent(|text, lexed| split(file, text, &lexed.tokens, &mut Vec::new()));
        FileTokens { cell, chunks }
    }

    /// The tokens, comments and lexical errors.
    pub fn lexed(&self) -> &Lexed<'_> {
        self.cell.borrow_dependent()
    }

    /// The text the tokens were read from.
    pub fn text(&self) -> &str {
        self.cell.borrow_owner()
    }

    /// The items, as ranges of token indexes, in order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }
}

/// Equal texts lex alike: comparing the texts is comparing the results.
impl PartialEq for FileTokens {
    fn eq(&self, other: &FileTokens) -> bool {
        self.text() == other.text()
    }
}

impl Eq for FileTokens {}

/// A file's line starts (memoised: re-run only when its text changes).
#[salsa::tracked(returns(clone))]
pub fn line_index(db: &dyn salsa::Database, file: SourceInput) -> Arc<LineIndex> {
    Arc::new(LineIndex::new(file.text(db)))
}

/// A file's tokens and items (memoised: re-run only when its text changes).
#[salsa::tracked(returns(clone))]
pub fn file_tokens(db: &dyn salsa::Database, file: SourceInput) -> Arc<FileTokens> {
    Arc::new(FileTokens::new(file.id(db), file.text(db).clone()))
}

/// The names of a file and what each refers to (memoised: re-run only when its parse
/// changes).
#[salsa::tracked(returns(clone))]
pub fn file_names(db: &dyn crate::queries::Db, file: SourceInput) -> Arc<FileIndex> {
    Arc::new(FileIndex::new(&parse_file(db, file)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::queries::Database;
    use gov_syntax::lexer::Token;
    use salsa::Setter;
    use std::sync::Mutex;

    const A: &str = "package p\n\ninput order(total: Int)\n\nallow small :- order(t), t < 10.\n";
    const B: &str = "package p\n\nallow big :- order(t), t > 100.\n";

    /// Asks every editor query of both files and returns what ran.
    fn ask(db: &Database, files: [SourceInput; 2], log: &Mutex<Vec<String>>) -> Vec<String> {
        log.lock().unwrap().clear();
        for file in files {
            line_index(db, file);
            file_tokens(db, file);
            file_names(db, file);
        }
        log.lock().unwrap().clone()
    }

    #[test]
    fn editing_one_file_recomputes_its_editor_queries_only() {
        let (mut db, log) = Database::recording();
        let a = SourceInput::new(&db, FileId(0), "a.gov".to_owned(), A.to_owned());
        let b = SourceInput::new(&db, FileId(1), "b.gov".to_owned(), B.to_owned());
        let first = ask(&db, [a, b], &log);
        assert_eq!(first.iter().filter(|q| *q == "file_names").count(), 2, "{first:?}");
        // Asked again with nothing changed: nothing runs.
        assert_eq!(ask(&db, [a, b], &log), Vec::<String>::new());
        // One character of a rule body of `a`: only `a`'s queries (and its parse) run.
        a.set_text(&mut db).to(A.replace("t < 10", "t < 11"));
        let mut ran = ask(&db, [a, b], &log);
        ran.sort();
        assert_eq!(ran, ["file_names", "file_tokens", "line_index", "parse_file"]);
    }

    #[test]
    fn tokens_and_items_are_the_lexer_and_splitter_results() {
        let tokens = FileTokens::new(FileId(0), A.to_owned());
        assert_eq!(tokens.text(), A);
        assert_eq!(tokens.lexed().tokens.first().map(|t| t.token), Some(Token::Package));
        // `package p`, `input order(…)`, the rule.
        assert_eq!(tokens.chunks().len(), 3);
        assert_eq!(tokens, FileTokens::new(FileId(0), A.to_owned()));
        assert_ne!(tokens, FileTokens::new(FileId(0), B.to_owned()));
    }
}
