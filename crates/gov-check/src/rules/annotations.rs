//! Annotations: `@overrides(rule, …)` only, on a `deny` or `escalate` rule, naming `allow` rules.

use super::{Cx, a_rule};
use gov_diag::{Diagnostic, codes};
use gov_syntax::ast::{Effect, Item, ItemKind};
use gov_syntax::suggest::closest;

impl<'a> Cx<'a, '_> {
    pub(super) fn annotations(&mut self, item: &Item) {
        for annotation in &item.annotations {
            if annotation.name.text != "overrides" {
                let name = &annotation.name;
                self.diagnostics.push(
                    Diagnostic::new(
                        codes::UNKNOWN_ANNOTATION,
                        format!("unknown annotation `@{}`", name.text),
                        name.span,
                    )
                    .with_primary_label("not an annotation")
                    .with_did_you_mean(name.span, closest(&name.text, ["overrides"]))
                    .or_help("the only annotation is `@overrides(rule, …)`"),
                );
                continue;
            }
            // `@overrides` marks a deny or escalate rule's overlap with allow rules as intended.
            let effect = match &item.kind {
                ItemKind::Decision(decision) => Some(decision.effect),
                _ => None,
            };
            if !matches!(effect, Some(Effect::Deny | Effect::Escalate)) {
                let label = effect.map_or_else(
                    || "on an item that is not a decision rule".to_owned(),
                    |e| format!("on {}", a_rule(e)),
                );
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_ANNOTATION, "`@overrides` applies only to `deny` and `escalate` rules", annotation.span)
                        .with_primary_label(label)
                        .with_help("write `@overrides(rule, …)` on the deny or escalate rule, naming the allow rules whose overlap with it is intended"),
                );
                continue;
            }
            if annotation.args.is_empty() {
                self.diagnostics.push(
                    Diagnostic::new(codes::UNKNOWN_ANNOTATION, "`@overrides` names no rule", annotation.span)
                        .with_primary_label("no rule named")
                        .with_help(
                            "name the allow rules whose overlap with this rule is intended: `@overrides(rule, …)`",
                        ),
                );
                continue;
            }
            for arg in &annotation.args {
                self.rule_reference(arg, Some(Effect::Allow));
            }
        }
    }
}
