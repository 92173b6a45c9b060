//! The path family: `path.*`, lexical only.
//!
//! Paths are POSIX paths judged by their text alone: no built-in reads the filesystem,
//! so symbolic links are not followed (a policy cannot see them) and `\` is an ordinary
//! character. Every built-in but `path.normalize` works on the normalised path, so
//! `/repo/../etc/passwd` is judged as `/etc/passwd`.

use std::borrow::Cow;

use smallvec::SmallVec;

use crate::Val;
use crate::strings::text;

/// A path after lexical normalisation, its names slices of the text it was made from.
///
/// Invariant: `names` holds no empty name and no `.`; `..` only as a leading run, and
/// only in a relative path (at the root of an absolute path `..` is the root itself).
struct Normal<'s> {
    /// Whether the path starts at the root (`/`).
    absolute: bool,
    /// The names after the root, in order (inline up to a depth no real path reaches).
    names: SmallVec<[&'s str; 16]>,
}

impl<'s> Normal<'s> {
    /// Normalises `path`: repeated `/` and `.` names dropped, each `..` removing the name
    /// before it. `..` at the root stays at the root (`/..` is `/`); in a relative path a
    /// leading `..` is kept, since what it leads to is unknown (`a/../../b` is `../b`).
    fn of(path: &'s str) -> Normal<'s> {
        let absolute = path.starts_with('/');
        let mut names = SmallVec::new();
        for name in path.split('/') {
            match name {
                "" | "." => {}
                ".." => match names.last() {
                    Some(&last) if last != ".." => {
                        names.pop();
                    }
                    _ if absolute => {}
                    _ => names.push(".."),
                },
                _ => names.push(name),
            }
        }
        Normal { absolute, names }
    }

    /// The text of the path: `/` for the root, `.` for an empty relative path, and never a
    /// trailing `/`. A slice of `source` when `source` starts with it (as a path already
    /// normal, or its parent, does), so most calls copy nothing.
    fn text<'t>(&self, source: &'t str) -> Cow<'t, str> {
        if !self.absolute && self.names.is_empty() {
            return Cow::Borrowed(".");
        }
        match self.prefix_of(source) {
            Some(prefix) => Cow::Borrowed(prefix),
            None => Cow::Owned(self.joined()),
        }
    }

    /// The text of the path, made anew (see [`Normal::text`]).
    fn joined(&self) -> String {
        if !self.absolute && self.names.is_empty() {
            return ".".to_owned();
        }
        let mut text = String::with_capacity(self.names.iter().map(|name| name.len() + 1).sum());
        for (i, name) in self.names.iter().enumerate() {
            if self.absolute || i > 0 {
                text.push('/');
            }
            text.push_str(name);
        }
        if text.is_empty() {
            text.push('/');
        }
        text
    }

    /// The start of `source` that spells this path (`/`, then the names separated by `/`),
    /// if it does.
    fn prefix_of<'t>(&self, source: &'t str) -> Option<&'t str> {
        let mut rest = if self.absolute { source.strip_prefix('/')? } else { source };
        for (i, name) in self.names.iter().enumerate() {
            if i > 0 {
                rest = rest.strip_prefix('/')?;
            }
            rest = rest.strip_prefix(name)?;
        }
        source.get(..source.len() - rest.len())
    }

    /// The last name, if it names something below its parent (not `..`).
    fn file_name(&self) -> Option<&'s str> {
        self.names.last().copied().filter(|&name| name != "..")
    }
}

/// The path argument and its normalised form.
fn normal<'v>(args: &'v [Val<'_>]) -> Option<(&'v str, Normal<'v>)> {
    text(args.first()).map(|path| (path, Normal::of(path)))
}

fn borrowed(text: &str) -> Val<'_> {
    Val::Str(Cow::Borrowed(text))
}

/// `path.normalize(p)`
pub(crate) fn normalize<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    normal(args).map(|(source, path)| Val::Str(path.text(source)))
}

/// `path.components(p)`: the names of the normalised path, root excluded, in order.
pub(crate) fn components(args: &[Val<'_>], each: &mut dyn FnMut(Val<'_>)) {
    if let Some((_, path)) = normal(args) {
        path.names.into_iter().for_each(|name| each(borrowed(name)));
    }
}

/// `path.parent(p)`: the normalised path without its last name; none for `/`, `.` and a
/// relative path of `..` only.
pub(crate) fn parent<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    let (source, mut path) = normal(args)?;
    path.file_name()?;
    path.names.pop();
    Some(Val::Str(path.text(source)))
}

/// `path.file_name(p)`
pub(crate) fn file_name<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    let path = text(args.first())?;
    // A last name that normalisation keeps as it is (no `..` after it can remove it) is
    // the file name: `rm`, `/bin/rm`, `../x`. Anything else is normalised first.
    // A byte scan, not `rsplit`: names are short, and the searcher's set-up cost more.
    let last = path.bytes().rposition(|b| b == b'/').and_then(|slash| path.get(slash + 1..)).unwrap_or(path);
    if !matches!(last, "" | "." | "..") {
        return Some(borrowed(last));
    }
    Normal::of(path).file_name().map(borrowed)
}

/// `path.extension(p)`: the text after the last `.` of the file name, when a non-empty
/// stem precedes it (`.env` has none; `archive.tar.gz` has `gz`; `notes.` has ``).
pub(crate) fn extension<'v>(args: &'v [Val<'_>]) -> Option<Val<'v>> {
    let name = normal(args)?.1.file_name()?;
    let (stem, extension) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| borrowed(extension))
}

/// `path.under(p, dir)`: both normalised, `p` is `dir` or inside it, name by name (so
/// `/etc2` is not under `/etc`). An absolute path is never under a relative directory nor
/// the reverse, and a relative path that climbs out of `dir` (`../x` from `.`) is not
/// under it.
pub(crate) fn under(args: &[Val<'_>]) -> bool {
    let (Some((_, path)), Some(dir)) = (normal(args), text(args.get(1)).map(Normal::of)) else { return false };
    path.absolute == dir.absolute
        && path.names.starts_with(&dir.names)
        && path.names.get(dir.names.len()) != Some(&"..")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{Builtin, Yield, eval};

    use super::*;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn one(builtin: Builtin, path: &str) -> Option<String> {
        match eval(builtin, &[s(path)], None) {
            Ok(Yield::One(Some(Val::Str(text)))) => Some(text.into_owned()),
            _ => None,
        }
    }

    fn many(builtin: Builtin, path: &str) -> Vec<String> {
        match eval(builtin, &[s(path)], None) {
            Ok(Yield::Many(values)) => values
                .into_iter()
                .filter_map(|v| match v {
                    Val::Str(text) => Some(text.into_owned()),
                    _ => None,
                })
                .collect(),
            _ => vec![],
        }
    }

    fn under(path: &str, dir: &str) -> bool {
        eval(Builtin::PathUnder, &[s(path), s(dir)], None) == Ok(Yield::Test(true))
    }

    #[test]
    fn normalize_resolves_dots_and_repeated_slashes() {
        let cases = [
            ("/repo/../etc/passwd", "/etc/passwd"),
            ("/repo//src/./main.rs", "/repo/src/main.rs"),
            ("/repo/src/", "/repo/src"),
            ("/../../etc", "/etc"),
            ("/..", "/"),
            ("//", "/"),
            ("", "."),
            (".", "."),
            ("./a/./b/..", "a"),
            ("a/../../b", "../b"),
            ("../../x/..", "../.."),
            (r"C:\repo\..\x", r"C:\repo\..\x"),
        ];
        for (path, normal) in cases {
            assert_eq!(one(Builtin::PathNormalize, path).as_deref(), Some(normal), "{path}");
        }
    }

    #[test]
    fn components_of_the_normalised_path() {
        assert_eq!(many(Builtin::PathComponents, "/repo/sub/.git/config"), ["repo", "sub", ".git", "config"]);
        assert_eq!(many(Builtin::PathComponents, "/repo/.git/../x"), ["repo", "x"]);
        assert_eq!(many(Builtin::PathComponents, "../a"), ["..", "a"]);
        assert!(many(Builtin::PathComponents, "/").is_empty());
    }

    #[test]
    fn parent_file_name_and_extension() {
        assert_eq!(one(Builtin::PathParent, "/repo/src/main.rs").as_deref(), Some("/repo/src"));
        assert_eq!(one(Builtin::PathParent, "/repo").as_deref(), Some("/"));
        assert_eq!(one(Builtin::PathParent, "main.rs").as_deref(), Some("."));
        assert_eq!(one(Builtin::PathParent, "/"), None);
        assert_eq!(one(Builtin::PathParent, "."), None);
        assert_eq!(one(Builtin::PathParent, "../.."), None);
        assert_eq!(one(Builtin::PathFileName, "/repo/.env").as_deref(), Some(".env"));
        assert_eq!(one(Builtin::PathFileName, "/repo/.env/").as_deref(), Some(".env"));
        assert_eq!(one(Builtin::PathFileName, "/repo/x/../.env").as_deref(), Some(".env"));
        assert_eq!(one(Builtin::PathFileName, "/"), None);
        assert_eq!(one(Builtin::PathFileName, ".."), None);
        assert_eq!(one(Builtin::PathExtension, "/a/archive.tar.gz").as_deref(), Some("gz"));
        assert_eq!(one(Builtin::PathExtension, "/a/notes.").as_deref(), Some(""));
        assert_eq!(one(Builtin::PathExtension, "/a/.env"), None);
        assert_eq!(one(Builtin::PathExtension, "/a/..bashrc").as_deref(), Some("bashrc"));
        assert_eq!(one(Builtin::PathExtension, "/a.d/Makefile"), None);
    }

    #[test]
    fn under_is_judged_on_normalised_components() {
        assert!(under("/etc/passwd", "/etc"));
        assert!(under("/etc/passwd", "/etc/"));
        assert!(under("/etc", "/etc"));
        assert!(under("/repo/../etc/passwd", "/etc"));
        assert!(!under("/repo/../etc/passwd", "/repo"));
        assert!(!under("/etc2/x", "/etc"));
        assert!(!under("/etc", "/etc/passwd"));
        assert!(under("/anything", "/"));
        assert!(under("/../etc/shadow", "/etc"));
        assert!(!under("etc/passwd", "/etc"));
        assert!(!under("/etc/passwd", "etc"));
        assert!(under("src/main.rs", "."));
        assert!(!under("../x", "."));
        assert!(!under("../../x", ".."));
        assert!(under("../x", ".."));
    }

    /// `under` by a different route: the normalised texts, one a prefix of the other at a
    /// `/` boundary.
    fn under_by_text(path: &str, dir: &str) -> bool {
        let (path, dir) = (Normal::of(path), Normal::of(dir));
        let (p, d) = (path.joined(), dir.joined());
        if path.absolute != dir.absolute || path.names.get(dir.names.len()) == Some(&"..") {
            return false;
        }
        d == "." || d == "/" || p == d || p.starts_with(&format!("{d}/"))
    }

    proptest! {
        #[test]
        fn arbitrary_paths_never_panic(path in ".{0,40}", dir in ".{0,20}") {
            for builtin in [Builtin::PathNormalize, Builtin::PathParent, Builtin::PathFileName, Builtin::PathExtension, Builtin::PathComponents] {
                let _ = eval(builtin, &[s(&path)], None);
            }
            let _ = eval(Builtin::PathUnder, &[s(&path), s(&dir)], None);
        }

        #[test]
        fn the_file_name_read_from_the_end_is_the_normal_paths(path in "/?[ab./]{0,24}") {
            let normal = Normal::of(&path).file_name().map(str::to_owned);
            prop_assert_eq!(one(Builtin::PathFileName, &path), normal);
        }

        #[test]
        fn the_text_borrowed_from_the_path_is_the_text_made_anew(path in "/?[ab./]{0,24}") {
            let normal = Normal::of(&path);
            prop_assert_eq!(normal.text(&path).into_owned(), normal.joined());
            let mut parent = Normal::of(&path);
            parent.names.pop();
            prop_assert_eq!(parent.text(&path).into_owned(), parent.joined());
        }

        #[test]
        fn normalisation_is_idempotent_and_keeps_under(path in "[a./]{0,24}", dir in "[a./]{0,12}") {
            let once = one(Builtin::PathNormalize, &path).unwrap_or_default();
            prop_assert_eq!(one(Builtin::PathNormalize, &once), Some(once.clone()));
            prop_assert_eq!(under(&once, &dir), under(&path, &dir));
            prop_assert_eq!(under(&path, &dir), under_by_text(&path, &dir));
        }

        #[test]
        fn a_path_is_under_its_parent_and_parent_plus_name_is_the_path(path in "/?[ab./]{0,24}") {
            if let (Some(parent), Some(name)) = (one(Builtin::PathParent, &path), one(Builtin::PathFileName, &path)) {
                prop_assert!(under(&path, &parent));
                let joined = if parent.ends_with('/') { format!("{parent}{name}") } else { format!("{parent}/{name}") };
                prop_assert_eq!(one(Builtin::PathNormalize, &joined), one(Builtin::PathNormalize, &path));
            }
        }
    }
}
