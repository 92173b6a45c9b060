//! "Did you mean" suggestions; [`gov_diag::Diagnostic::with_did_you_mean`] words them.

/// The candidate closest to `name` by Jaro-Winkler similarity (ties to the first), if
/// similar enough; case-insensitive equality always counts.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(f64, &str)> = None;
    for candidate in candidates {
        if candidate == name {
            continue;
        }
        let score = if candidate.to_lowercase() == lower {
            1.0
        } else {
            strsim::jaro_winkler(&lower, &candidate.to_lowercase())
        };
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_names_only() {
        assert_eq!(closest("trasnfer", ["transfer", "role"]), Some("transfer"));
        assert_eq!(closest("Role", ["role"]), Some("role"));
        assert_eq!(closest("xyz", ["transfer", "role"]), None);
    }
}
