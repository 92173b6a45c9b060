//! The standard library, compiled into the toolchain so that `use std.x` resolves on any
//! machine without a search path.

/// A standard-library module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdModule {
    /// The dotted name used in `use` (`std.approvals`).
    pub name: &'static str,
    /// The file's path relative to the repository root, as shown in diagnostics.
    pub path: &'static str,
    /// The module's source.
    pub text: &'static str,
}

/// Every standard-library module. A test checks this lists every file under `stdlib/`.
pub const STDLIB: &[StdModule] = &[
    StdModule {
        name: "std.approvals",
        path: "stdlib/std/approvals.gov",
        text: include_str!("../../../stdlib/std/approvals.gov"),
    },
    StdModule {
        name: "std.agents",
        path: "stdlib/std/agents.gov",
        text: include_str!("../../../stdlib/std/agents.gov"),
    },
    StdModule { name: "std.time", path: "stdlib/std/time.gov", text: include_str!("../../../stdlib/std/time.gov") },
    StdModule { name: "std.risk", path: "stdlib/std/risk.gov", text: include_str!("../../../stdlib/std/risk.gov") },
];

#[cfg(test)]
mod tests {
    use super::STDLIB;

    #[test]
    fn every_stdlib_file_is_listed() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../stdlib/std");
        let mut on_disk: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".gov"))
            .map(|n| format!("stdlib/std/{n}"))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = STDLIB.iter().map(|m| m.path.to_owned()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
        for module in STDLIB {
            let stem = module.path.trim_start_matches("stdlib/").trim_end_matches(".gov").replace('/', ".");
            assert_eq!(stem, module.name);
        }
    }
}
