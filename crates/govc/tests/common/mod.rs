//! The one helper for `govc` integration tests: run the real binary from the repository
//! root (so paths print as `tests/check/x.gov`) and capture what it printed.
// Each test crate uses a different subset of these helpers.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root; every command runs there.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// What a `govc` run printed, and its exit code.
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Runs `govc args…` from the repository root.
pub fn govc(args: &[&str]) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_govc"))
        .current_dir(root())
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap();
    Run {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}
