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
}
