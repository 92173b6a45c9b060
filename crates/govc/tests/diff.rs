#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! `govc diff` over the pairs of versions in `tests/diff/` (see its README): the human
//! output and exit code of each case as a snapshot, and every change's witness, in `--format
//! json`, replayed through `govc eval` on both versions, which must decide as reported.

mod common;
use common::{govc, root};

/// Every case directory under `tests/diff/`.
fn cases() -> Vec<String> {
    let mut cases: Vec<String> = std::fs::read_dir(root().join("tests/diff"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    cases
}

#[test]
fn each_case_matches_its_snapshot() {
    let cases = cases();
    assert!(cases.len() >= 6, "{cases:?}");
    for case in cases {
        let (old, new) = (format!("tests/diff/{case}/old"), format!("tests/diff/{case}/new"));
        let run = govc(&["diff", "--exit-code", &old, &new]);
        assert_eq!(run.stderr, "", "{case}");
        insta::assert_snapshot!(case.clone(), format!("exit code {}\n{}", run.code, run.stdout));
    }
}

/// Writes the witness's documents and decides them on `package`: the decision and the
/// rules that fired.
fn eval(package: &str, witness: &serde_json::Value, dir: &std::path::Path) -> (String, Vec<String>) {
    let (input, data) = (dir.join("input.json"), dir.join("data.json"));
    std::fs::write(&input, witness["input"].to_string()).unwrap();
    std::fs::write(&data, witness["data"].to_string()).unwrap();
    let run = govc(&["eval", package, "--input", input.to_str().unwrap(), "--data", data.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let decision: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut rules: Vec<String> =
        decision["reasons"].as_array().unwrap().iter().map(|r| r["rule"].as_str().unwrap().to_owned()).collect();
    rules.dedup();
    (decision["decision"].as_str().unwrap().to_owned(), rules)
}

#[test]
fn every_witness_replays_in_govc_eval_on_both_versions() {
    let dir = std::env::temp_dir().join(format!("govc-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut replayed = 0;
    for case in cases() {
        let (old, new) = (format!("tests/diff/{case}/old"), format!("tests/diff/{case}/new"));
        let run = govc(&["diff", "--exit-code", "--format", "json", &old, &new]);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let changes = report["changes"].as_array().unwrap();
        assert_eq!(run.code, if report["verdict"] == "same" { 0 } else { 1 }, "{case}");
        for change in changes {
            for (package, side) in [(&old, &change["old"]), (&new, &change["new"])] {
                let (decision, rules) = eval(package, &change["witness"], &dir);
                assert_eq!(decision, side["decision"], "{case}: {change}");
                let reported: Vec<&str> =
                    side["rules"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
                assert_eq!(rules, reported, "{case}: {change}");
            }
            assert_ne!(change["old"]["decision"], change["new"]["decision"], "{case}");
            replayed += 1;
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(replayed >= 3, "{replayed}");
}

#[test]
fn a_package_against_itself_has_no_change() {
    for example in ["customer-ops", "cybersecurity", "deployment", "finance", "healthcare", "multi-agent", "payments"] {
        let path = format!("examples/{example}");
        let run = govc(&["diff", "--exit-code", "--format", "json", &path, &path]);
        assert_eq!(run.code, 0, "{example}: {}{}", run.stdout, run.stderr);
        let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(report["verdict"], "same", "{example}");
    }
}

#[test]
fn a_missing_version_is_a_usage_error() {
    let run = govc(&["diff", "tests/diff/nowhere", "tests/diff/tightened/new"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("tests/diff/nowhere"), "{}", run.stderr);
}

#[test]
fn markdown_is_a_table_for_a_pull_request() {
    let run = govc(&["diff", "--format", "markdown", "tests/diff/tightened/old", "tests/diff/tightened/new"]);
    assert_eq!(run.code, 0, "without --exit-code a change found is not a failure");
    insta::assert_snapshot!("markdown_tightened", run.stdout);
}

/// Runs `git args…` in `dir`; fails the test loudly if git is missing or fails (CI has git).
fn git(dir: &std::path::Path, args: &[&str]) {
    let output = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=govc tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .expect("`git` must be installed to run these tests");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
}

/// Runs `govc args…` in `dir`, with `path` as `PATH` if given.
fn govc_in(dir: &std::path::Path, args: &[&str], path: Option<&std::path::Path>) -> common::Run {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_govc"));
    command.current_dir(dir).args(args);
    if let Some(path) = path {
        command.env("PATH", path);
    }
    let output = command.output().unwrap();
    common::Run {
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        code: output.status.code().unwrap(),
    }
}

/// Copies the files of `tests/diff/<case>/<version>` into `to`.
fn copy_version(case: &str, version: &str, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(root().join("tests/diff").join(case).join(version)).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A git repository whose commit has the old version of `case` under `policy/`, with the
/// new version in the working tree.
fn repository(case: &str) -> tempfile::TempDir {
    let repo = tempfile::tempdir().unwrap();
    git(repo.path(), &["init", "-q"]);
    copy_version(case, "old", &repo.path().join("policy"));
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-q", "-m", "old"]);
    copy_version(case, "new", &repo.path().join("policy"));
    repo
}

/// `--git REV PATH` reports what comparing a copy of PATH at REV with PATH reports: for a
/// change of the rules (`tightened`), and of the data files (`data_changed`, a change found
/// with the data files fixed), which must come along with the sources.
#[test]
fn git_compares_the_working_tree_with_a_revision() {
    for (case, verdict) in [("tightened", "changed"), ("data_changed", "changed")] {
        let repo = repository(case);
        let policy = repo.path().join("policy");
        // What comparing the two versions' directories directly reports.
        let old = root().join("tests/diff").join(case).join("old");
        let direct = govc(&["diff", "--format", "json", old.to_str().unwrap(), policy.to_str().unwrap()]);
        assert_eq!(direct.code, 0, "{}", direct.stderr);
        let expected: serde_json::Value = serde_json::from_str(&direct.stdout).unwrap();
        assert_eq!(expected["verdict"], verdict, "{case}: {expected}");
        // The same through git: from the repository's root with a path, from the package's
        // directory with the default `.`, and for the single file (which takes its data
        // files).
        let runs = [(repo.path(), Some("policy")), (policy.as_path(), None), (repo.path(), Some("policy/shop.gov"))];
        for (dir, path) in runs {
            let mut args = vec!["diff", "--exit-code", "--format", "json", "--git", "HEAD"];
            args.extend(path);
            let run = govc_in(dir, &args, None);
            assert_eq!(run.code, 1, "{case} {path:?}: {}{}", run.stdout, run.stderr);
            assert_eq!(serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(), expected, "{case} {path:?}");
        }
        // Once committed, the working tree is the revision: no change (had the data files
        // not been read at the revision, they would differ).
        git(repo.path(), &["commit", "-q", "-a", "-m", "new"]);
        let run = govc_in(repo.path(), &["diff", "--exit-code", "--git", "HEAD", "policy"], None);
        assert_eq!((run.code, run.stdout.as_str()), (0, "no change: both versions decide every request alike\n"));
        // And the revision before it is the old version again.
        let run = govc_in(repo.path(), &["diff", "--format", "json", "--git", "HEAD~1", "policy"], None);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&run.stdout).unwrap(), expected, "{case}");
    }
}

#[test]
fn git_errors_name_their_cause_and_exit_2() {
    let repo = repository("tightened");
    std::fs::create_dir(repo.path().join("later")).unwrap();
    std::fs::write(repo.path().join("later/p.gov"), "package later\n").unwrap();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("p.gov"), "package outside\n").unwrap();
    let no_git = tempfile::tempdir().unwrap();
    let cases: [(&std::path::Path, &[&str], Option<&std::path::Path>, &str); 6] = [
        (repo.path(), &["--git", "no-such-rev", "policy"], None, "`no-such-rev` is not a revision"),
        (repo.path(), &["--git", "HEAD", "later"], None, "`later` does not exist at revision `HEAD`"),
        (repo.path(), &["--git", "HEAD", "later/p.gov"], None, "`later/p.gov` does not exist at revision `HEAD`"),
        (outside.path(), &["--git", "HEAD"], None, "`.` is not in a git repository's working tree"),
        (
            repo.path(),
            &["--git", "HEAD", "policy"],
            Some(no_git.path()),
            "error: `--git` runs `git`, which is not installed",
        ),
        (repo.path(), &["--git", "HEAD", "nowhere"], None, "error: `nowhere` does not exist in the working tree"),
    ];
    for (dir, args, path, expected) in cases {
        let run = govc_in(dir, &[&["diff"][..], args].concat(), path);
        assert_eq!(run.code, 2, "{args:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
    }
    // Two versions and --git together are a usage error too.
    let run = govc_in(repo.path(), &["diff", "--git", "HEAD", "policy", "policy"], None);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
