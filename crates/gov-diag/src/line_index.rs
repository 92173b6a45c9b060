//! Conversion between byte offsets and line/column positions.

/// A 1-based line and column; the column counts Unicode scalar values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct LineCol {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub col: u32,
}

/// The start offset of every line of a text, for O(log n) position lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `text`.
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        LineIndex { line_starts }
    }

    /// Updates the index for an edit of its text: bytes `start..end` replaced by
    /// `inserted`. The index is then [`LineIndex::new`]'s of the edited text, at the cost of
    /// the lines after the edit (moved) and the inserted text (scanned), not of the whole
    /// text: a keystroke in a large file need not re-read it.
    pub fn edit(&mut self, start: u32, end: u32, inserted: &str) {
        let end = end.max(start);
        // The lines that started inside the replaced bytes (after a `\n` in them) are gone…
        let first = self.line_starts.partition_point(|&line| line <= start);
        let after = self.line_starts.partition_point(|&line| line <= end);
        // …those after them move by the change of length…
        let grown = u32::try_from(inserted.len()).unwrap_or(u32::MAX);
        let removed = end - start;
        for line in self.line_starts.iter_mut().skip(after) {
            *line = line.saturating_sub(removed).saturating_add(grown);
        }
        // …and each `\n` inserted starts one.
        let added = inserted
            .bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'\n')
            .map(|(i, _)| start.saturating_add(u32::try_from(i + 1).unwrap_or(u32::MAX)));
        let first = first.min(after);
        self.line_starts.splice(first..after, added);
    }

    /// The 0-based line containing `offset`.
    pub fn line_of(&self, offset: u32) -> usize {
        self.line_starts.partition_point(|&start| start <= offset).saturating_sub(1)
    }

    /// The byte offset at which 0-based `line` starts, if the text has that line.
    pub fn line_start(&self, line: usize) -> Option<u32> {
        self.line_starts.get(line).copied()
    }

    /// The line and character column of `offset` in `text` (the text this index was built
    /// from). Offsets past the end are clamped.
    pub fn line_col(&self, text: &str, offset: u32) -> LineCol {
        let offset = offset.min(u32::try_from(text.len()).unwrap_or(u32::MAX));
        let line = self.line_of(offset);
        let start = self.line_start(line).unwrap_or(0) as usize;
        let col = text.get(start..offset as usize).map_or(0, |s| s.chars().count());
        LineCol { line: line as u32 + 1, col: col as u32 + 1 }
    }

    /// The byte offset of a 0-based line and a column counted in UTF-16 code units (the
    /// LSP encoding), clamped to the line.
    pub fn offset_of_utf16(&self, text: &str, line: usize, utf16_col: u32) -> u32 {
        let Some(start) = self.line_start(line) else {
            return u32::try_from(text.len()).unwrap_or(u32::MAX);
        };
        let rest = text.get(start as usize..).unwrap_or("");
        let mut units = 0;
        let mut offset = start;
        for ch in rest.chars() {
            if ch == '\n' || units >= utf16_col {
                break;
            }
            units += ch.len_utf16() as u32;
            offset += ch.len_utf8() as u32;
        }
        offset
    }

    /// The 0-based line and UTF-16 column of `offset` (the LSP encoding).
    pub fn utf16_position(&self, text: &str, offset: u32) -> (u32, u32) {
        let offset = offset.min(u32::try_from(text.len()).unwrap_or(u32::MAX));
        let line = self.line_of(offset);
        let start = self.line_start(line).unwrap_or(0) as usize;
        let col = text.get(start..offset as usize).map_or(0, |s| s.encode_utf16().count());
        (line as u32, col as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let text = "ab\nçd\n\nx";
        let index = LineIndex::new(text);
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, col: 1 });
        assert_eq!(index.line_col(text, 3), LineCol { line: 2, col: 1 });
        assert_eq!(index.line_col(text, 5), LineCol { line: 2, col: 2 });
        assert_eq!(index.line_col(text, 8), LineCol { line: 4, col: 1 });
        assert_eq!(index.line_col(text, 99), LineCol { line: 4, col: 2 });
        assert_eq!(index.offset_of_utf16(text, 1, 1), 5);
        assert_eq!(index.utf16_position(text, 5), (1, 1));
    }

    /// Every edit of a few texts (every range, several insertions) leaves the index a
    /// fresh one of the edited text.
    #[test]
    fn an_edited_index_is_the_index_of_the_edited_text() {
        let texts = ["", "a", "\n", "ab\ncd\n\nef", "\n\nx\ny\n", "é\nçd\n"];
        let inserts = ["", "z", "\n", "q\nr", "\n\n", "ü\n"];
        for text in texts {
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            for &start in &boundaries {
                for &end in boundaries.iter().filter(|&&end| end >= start) {
                    for inserted in inserts {
                        let mut edited = text.to_owned();
                        edited.replace_range(start..end, inserted);
                        let mut index = LineIndex::new(text);
                        index.edit(start as u32, end as u32, inserted);
                        assert_eq!(index, LineIndex::new(&edited), "{text:?} {start}..{end} := {inserted:?}");
                    }
                }
            }
        }
    }
}
