//! A built-in's signature as one line of text, as the reference documents it and the
//! editor shows it: `str.starts_with(Str, Str) → test`, `str.lower(Str) → Str`,
//! `str.split(Str, Str) → each Str`.

use crate::{Builtin, Output, Param};

/// How a parameter's type is written.
fn param(param: Param) -> &'static str {
    match param {
        Param::Base(base) => base.name(),
        Param::Pattern => "Pattern",
        Param::Numeric => "Num",
    }
}

impl Builtin {
    /// The built-in's name, parameter types and output, in one line (see the module doc).
    pub fn synopsis(self) -> String {
        let signature = self.signature();
        let params: Vec<&str> = signature.params.iter().map(|p| param(*p)).collect();
        let output = match signature.output {
            Output::Test => "test".to_owned(),
            Output::Value(p) => param(p).to_owned(),
            Output::Values(p) => format!("each {}", param(p)),
        };
        format!("{}({}) → {output}", self.name(), params.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use crate::Builtin;

    #[test]
    fn synopses_name_types_and_output() {
        assert_eq!(Builtin::StrStartsWith.synopsis(), "str.starts_with(Str, Str) → test");
        assert_eq!(Builtin::StrLength.synopsis(), "str.length(Str) → Int");
        assert_eq!(Builtin::StrSplit.synopsis(), "str.split(Str, Str) → each Str");
    }
}
