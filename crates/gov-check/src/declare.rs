//! The fixes of an unknown relation (E0101) that declare it.

use crate::hash::HashMap;
use crate::rules::lit_base;
use crate::{ParsedPackage, Symbols};
use gov_diag::{Applicability, Diagnostic, FileId, Fix, Span};
use gov_syntax::ast::{Atom, Expr, ItemKind};

/// Adds two fixes (to review) to each diagnostic of `unknown`, an index into `diagnostics`
/// and the atom whose relation is unknown: declaring the relation as `data` and as `input`,
/// one field per argument, named after the argument and typed as the checker inferred it
/// (`Str` where nothing says).
pub(crate) fn add_fixes(
    program: &ParsedPackage,
    symbols: &Symbols,
    unknown: &[(usize, Atom)],
    diagnostics: &mut [Diagnostic],
) {
    // One anchor per file: a generated file may hold many thousands of unknown names.
    let mut anchors: HashMap<FileId, (u32, &str)> = HashMap::default();
    for (index, atom) in unknown {
        let file = atom.relation.span.file;
        let (at, separator) = match anchors.get(&file) {
            Some(&anchor) => anchor,
            None => {
                let Some(parsed) = program.files.iter().find(|f| f.id == file) else { continue };
                *anchors.entry(file).or_insert_with(|| anchor(&parsed.parsed.file.items))
            }
        };
        let fields = fields(symbols, atom).join(", ");
        let name = &atom.relation.text;
        // Invariant: `index` is where `rules` pushed this atom's diagnostic; nothing
        // reorders the list before `check` sorts it at the end.
        let Some(diagnostic) = diagnostics.get_mut(*index) else { continue };
        for (keyword, article) in [("data", "a"), ("input", "an")] {
            let declaration = format!("{keyword} {name}({fields})");
            let text = if at == 0 { format!("{declaration}{separator}") } else { format!("{separator}{declaration}") };
            diagnostic.fixes.push(Fix::replace(
                format!("Declare `{name}` as {article} {keyword} relation"),
                Applicability::NeedsReview,
                Span::new(atom.relation.span.file, at, at),
                text,
            ));
        }
    }
}

/// Where a new declaration goes: after the last declaration of the file, else after its
/// header (type aliases, `use`s, `package`) with a blank line, else at the very start.
fn anchor(items: &[gov_syntax::ast::ItemAt]) -> (u32, &'static str) {
    let last = |pick: fn(&ItemKind) -> bool| items.iter().rev().find(|i| pick(&i.kind)).map(|i| i.span.end);
    last(|k| matches!(k, ItemKind::Relation(_)))
        .map(|end| (end, "\n"))
        .or_else(|| {
            last(|k| matches!(k, ItemKind::TypeAlias(_) | ItemKind::Use(_) | ItemKind::Package(_)))
                .map(|end| (end, "\n\n"))
        })
        .unwrap_or((0, "\n\n"))
}

/// `name: Type` for each argument of `atom`: the field it names, else its variable, else
/// `fieldN` (also for a name already taken).
fn fields(symbols: &Symbols, atom: &Atom) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for (i, arg) in atom.args.iter().enumerate() {
        let mut name = match (&arg.field, &arg.value) {
            (Some(field), _) => field.text.to_string(),
            (None, Expr::Var(var)) => var.text.trim_start_matches('_').to_ascii_lowercase(),
            _ => String::new(),
        };
        if name.is_empty() || fields.iter().any(|f| f.starts_with(&format!("{name}:"))) {
            name = format!("field{}", i + 1);
        }
        let ty = match &arg.value {
            Expr::Var(var) => symbols.variable_types.get(&var.span).map(|&ty| symbols.type_name(ty)),
            Expr::Lit(lit) => lit_base(&lit.value).map(|base| base.name().to_owned()),
            _ => None,
        };
        fields.push(format!("{name}: {}", ty.unwrap_or_else(|| "Str".to_owned())));
    }
    fields
}
