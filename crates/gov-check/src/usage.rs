//! Warnings about declarations nothing uses.

use crate::hash::{HashMap, HashSet};
use crate::removal::remove_item;
use crate::rules::Facts;
use crate::symbols::RelationKind;
use crate::{Origin, ParsedPackage, Symbols};
use gov_diag::{Applicability, Diagnostic, FileId, codes};
use gov_syntax::ast::ItemKind;

/// Reports unused relations, unused type aliases and unused `use`s of the package's own
/// files.
///
/// A package with syntax errors gets none of these warnings: the broken item (or the
/// unterminated string) may well be what used the declaration, and its syntax error is the
/// one report.
pub fn check(program: &ParsedPackage, symbols: &Symbols, facts: &Facts, diagnostics: &mut Vec<Diagnostic>) {
    if program.package_files().any(|f| f.parsed.diagnostics.iter().any(|d| d.severity() == gov_diag::Severity::Error)) {
        return;
    }
    let module_of: HashMap<FileId, &str> = program
        .files
        .iter()
        .filter_map(|f| match &f.origin {
            Origin::Library(module) => Some((f.id, module.as_str())),
            Origin::Package => None,
        })
        .collect();
    // A relation read only by the rules deriving it is as unused as one never read.
    let mut used = vec![false; symbols.relations.len()];
    let reads = facts.body_refs.iter().filter(|(r, _, consumer)| *consumer != Some(*r)).map(|(r, _, _)| *r);
    for relation in reads.chain(facts.guessed_refs.iter().copied()) {
        if let Some(slot) = used.get_mut(relation) {
            *slot = true;
        }
    }
    let mut used_modules: HashSet<&str> = HashSet::default();
    // The module declaring each relation (`None` for the package's own, most of them), so
    // that a reference to a package relation costs no lookup.
    let declared_in: Vec<Option<&str>> =
        symbols.relations.iter().map(|r| r.span.and_then(|s| module_of.get(&s.file).copied())).collect();
    // A rule head naming a module's relation refers to the module too (it is an error,
    // E0109, but removing the `use` is not the fix).
    let refs = facts
        .body_refs
        .iter()
        .map(|(relation, at, _)| (relation, at))
        .chain(facts.head_refs.iter().map(|(relation, at)| (relation, at)));
    for (relation, at) in refs {
        if let Some(module) = declared_in.get(*relation).copied().flatten()
            && !module_of.contains_key(&at.file)
        {
            used_modules.insert(module);
        }
    }
    for (index, relation) in symbols.relations.iter().enumerate() {
        let Some(span) = relation.span else { continue };
        if used.get(index).copied().unwrap_or(false)
            || relation.compound.is_some()
            || relation.poisoned
            || declared_in.get(index).copied().flatten().is_some()
        {
            continue;
        }
        let (what, help) = match relation.kind {
            RelationKind::Input => ("input relation", "use it in a rule, or remove it from the declarations"),
            RelationKind::Data => ("data relation", "use it in a rule, or remove it from the declarations"),
            RelationKind::Derived => (
                "relation",
                "no rule or decision reads it: use it in a decision rule, or remove the rules that derive it",
            ),
            RelationKind::Builtin => continue,
        };
        diagnostics.push(
            Diagnostic::new(codes::UNUSED_DECLARATION, format!("{what} `{}` is never used", relation.name), span)
                .with_primary_label("never used")
                .with_help(help),
        );
    }
    unused_types(program, symbols, &module_of, &mut used_modules, diagnostics);
    for file in program.package_files() {
        let mut seen: HashMap<String, gov_diag::Span> = HashMap::default();
        for (index, item) in file.parsed.file.items.iter().enumerate() {
            // The kinds of items are asked of the trees as parsed, so that reading them
            // does not copy the items an edit moved (`ItemAt`).
            if !matches!(item.unmoved().kind, ItemKind::Use(_)) {
                continue;
            }
            let ItemKind::Use(path) = &item.kind else { continue };
            let remove = remove_item(&file.parsed, index, "Remove this `use`", Applicability::Safe);
            let module = path.dotted();
            if let Some(first) = seen.get(&module) {
                diagnostics.push(
                    Diagnostic::new(codes::UNUSED_IMPORT, format!("`{module}` is already used above"), path.span)
                        .with_primary_label("used again here")
                        .with_label(*first, "first used here")
                        .with_help("remove this `use`")
                        .with_fixes(remove),
                );
                continue;
            }
            seen.insert(module.clone(), path.span);
            let has_decisions = program.files.iter().any(|f| {
                f.origin == Origin::Library(module.clone())
                    && f.parsed.file.items.iter().any(|i| matches!(i.unmoved().kind, ItemKind::Decision(_)))
            });
            let resolved = program.available_modules.contains(&module);
            if resolved && !has_decisions && !used_modules.contains(module.as_str()) {
                diagnostics.push(
                    Diagnostic::new(codes::UNUSED_IMPORT, format!("nothing from `{module}` is used"), path.span)
                        .with_primary_label("unused module")
                        .with_help("remove the `use`, or use one of the module's relations or types")
                        .with_fixes(remove),
                );
            }
        }
    }
}

fn unused_types<'p>(
    program: &'p ParsedPackage,
    symbols: &Symbols,
    module_of: &HashMap<FileId, &'p str>,
    used_modules: &mut HashSet<&'p str>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut referenced: HashSet<&'p str> = HashSet::default();
    // The names the package's own files reference: each is looked up once (most fields
    // name one of a few types).
    let mut referenced_by_package: HashSet<&'p str> = HashSet::default();
    for file in &program.files {
        let package = !module_of.contains_key(&file.id);
        for item in &file.parsed.file.items {
            let mut reference = |name: &'p str| {
                if !package {
                    referenced.insert(name);
                } else if referenced_by_package.insert(name) {
                    referenced.insert(name);
                    if let Some(module) = symbols.alias(name).and_then(|(_, t)| module_of.get(&t.span.file)) {
                        used_modules.insert(module);
                    }
                }
            };
            // Names only: the tree as parsed has them (`ItemAt::unmoved`).
            match &item.unmoved().kind {
                ItemKind::Relation(decl) => named_types(&decl.fields, &mut reference),
                ItemKind::TypeAlias(alias) => reference(alias.target.text.as_str()),
                _ => {}
            }
        }
    }
    for info in &symbols.types {
        if !referenced.contains(info.name.as_str()) && !module_of.contains_key(&info.span.file) {
            diagnostics.push(
                Diagnostic::new(codes::UNUSED_DECLARATION, format!("type `{}` is never used", info.name), info.span)
                    .with_primary_label("never used")
                    .with_help("use it as a field type, or remove it"),
            );
        }
    }
}

/// Calls `reference` with each type name a declaration's fields mention, those of list
/// elements and object members included.
fn named_types<'p>(fields: &'p [gov_syntax::ast::FieldDecl], reference: &mut impl FnMut(&'p str)) {
    for field in fields {
        match &field.ty {
            gov_syntax::ast::FieldType::Object(members, _) => named_types(members, reference),
            other => {
                if let Some(name) = other.named() {
                    reference(name.text.as_str());
                }
            }
        }
    }
}
