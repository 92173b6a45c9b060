//! Source locations.

/// Identifies one source file within a set of [`crate::Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Invariant: `start <= end`, and both lie on UTF-8 character boundaries of the file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// Builds a span; `end` is raised to `start` if it lies before it.
    pub fn new(file: FileId, start: u32, end: u32) -> Span {
        Span { file, start, end: end.max(start) }
    }

    /// The smallest span covering both `self` and `other` (which must share a file).
    pub fn to(self, other: Span) -> Span {
        Span::new(self.file, self.start.min(other.start), self.end.max(other.end))
    }

    /// The empty span just after `self`.
    pub fn after(self) -> Span {
        Span::new(self.file, self.end, self.end)
    }

    /// The range as `usize` offsets, for slicing.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The same range `by` bytes further on, modulo 2³² (an item's span moved with its
    /// text; a move back by `d` bytes is `0u32.wrapping_sub(d)`).
    pub fn shifted(self, by: u32) -> Span {
        Span { file: self.file, start: self.start.wrapping_add(by), end: self.end.wrapping_add(by) }
    }

    /// Whether `offset` lies within the span (end inclusive, as an editor cursor would).
    pub fn contains(self, offset: u32) -> bool {
        self.start <= offset && offset <= self.end
    }
}
