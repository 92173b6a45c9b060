#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! How commands find a package's files on disk: a single `.gov` file reads the data files
//! beside it, as its directory does; directory walks follow symlinks but list each real
//! directory once; a FIFO named like a source or data file is an error, never a read that
//! blocks; `build -o` never overwrites a file the build reads. Every case runs the real
//! binary in a fresh scratch directory, with a time limit, so a hang fails the test.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// Far more than any case needs, even on a loaded machine: reaching it means a hang.
const TIME_LIMIT: Duration = Duration::from_secs(60);

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// Runs `govc args…` in `dir`, killing it (and failing) if it outlives [`TIME_LIMIT`].
fn govc_in<S: AsRef<OsStr>>(dir: &Path, args: &[S]) -> Run {
    let stdout = tempfile(dir, "stdout");
    let stderr = tempfile(dir, "stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_govc"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let Some(status) = child.wait_timeout(TIME_LIMIT).unwrap() else {
        child.kill().unwrap();
        child.wait().unwrap();
        let shown: Vec<String> = args.iter().map(|a| a.as_ref().to_string_lossy().into_owned()).collect();
        panic!("`govc {}` hung (killed after {TIME_LIMIT:?})", shown.join(" "));
    };
    let run = Run {
        stdout: std::fs::read_to_string(&stdout).unwrap(),
        stderr: std::fs::read_to_string(&stderr).unwrap(),
        code: status.code().unwrap(),
    };
    std::fs::remove_file(stdout).unwrap();
    std::fs::remove_file(stderr).unwrap();
    assert!(!run.stderr.contains("panicked"), "govc panicked:\n{}", run.stderr);
    run
}

/// Where a run's output goes: outside the scratch tree, so that walks do not see it.
fn tempfile(dir: &Path, what: &str) -> PathBuf {
    let name = dir.file_name().unwrap().to_string_lossy();
    std::env::temp_dir().join(format!("{name}.{what}"))
}

/// A fresh, empty directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-packages-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `files` (relative path, text) under `dir`, creating directories.
fn write(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

fn symlink(target: &str, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// A policy that denies orders by blocked agents; the block list is data.
const SHOP: &str = r#"package shop

input order(agent: Str)
data blocked(agent: Str)

allow ordinary :- order(_).

deny blocked_agent "{a} is blocked" :- order(a), blocked(a).

test "a blocked agent is denied" {
  given order("bot-9"). blocked("bot-9").
  expect deny blocked_agent
}

test "tests bring their own data" {
  given order("bot-9").
  expect allow ordinary
}
"#;

const BLOCKLIST: &str = r#"{"blocked": [{"agent": "bot-9"}]}"#;
const ORDER: &str = r#"{"order": [{"agent": "bot-9"}]}"#;

/// A scratch package `shop/` (policy and block list) and a request beside it.
fn shop(name: &str) -> PathBuf {
    let dir = scratch(name);
    write(&dir, &[("shop/policy.gov", SHOP), ("shop/blocklist.data.json", BLOCKLIST), ("order.json", ORDER)]);
    dir
}

fn decision(run: &Run) -> String {
    let json: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr));
    json["decision"].as_str().unwrap().to_owned()
}

/// `govc eval DIR/policy.gov` decides like `govc eval DIR`: the block list beside the file
/// is read, so the blocked agent is denied (it was allowed when the file ignored it).
#[test]
fn a_single_file_package_reads_the_data_beside_it() {
    let dir = shop("single-file-data");
    for package in ["shop", "shop/policy.gov"] {
        let run = govc_in(&dir, &["eval", package, "--input", "order.json"]);
        assert_eq!(run.code, 0, "{package}: {}", run.stderr);
        assert_eq!(decision(&run), "deny", "{package}");
    }
    let build = govc_in(&dir, &["build", "shop/policy.gov", "-o", "shop.govb"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    let run = govc_in(&dir, &["eval", "shop.govb", "--input", "order.json"]);
    assert_eq!(decision(&run), "deny");
    // Tests never read the package's data, whichever way the package is named.
    for package in ["shop", "shop/policy.gov"] {
        let run = govc_in(&dir, &["test", package]);
        assert_eq!(run.code, 0, "{package}: {}", run.stdout);
        assert!(run.stdout.contains("2 passed"), "{package}: {}", run.stdout);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// In a directory holding files of two packages, one file's package also gets the other's
/// data files, and refuses them: an error naming the file, never a decision without them.
#[test]
fn data_beside_a_file_that_is_not_its_package_data_is_an_error() {
    let dir = shop("foreign-data");
    write(
        &dir,
        &[
            ("shop/other.gov", "package other\n\ninput x(a: Int)\n\ndeny d :- x(_).\n"),
            ("shop/other.data.json", "{\"y\": []}"),
        ],
    );
    for command in ["eval", "build"] {
        let args: &[&str] = if command == "eval" {
            &["eval", "shop/policy.gov", "--input", "order.json"]
        } else {
            &["build", "shop/policy.gov", "-o", "shop.govb"]
        };
        let run = govc_in(&dir, args);
        assert_eq!(run.code, 2, "{command}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{command}: {}", run.stdout);
        assert!(run.stderr.contains("shop/other.data.json"), "{command}: {}", run.stderr);
        assert!(run.stderr.contains("reads the data files beside it"), "{command}: {}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Data whose load-time evaluation fails (here `x + 1` overflows in a relation of data
/// only) makes no engine: `govc eval` of the package fails as `govc eval` of its bundle
/// does, exit 2 and the load error naming the policy, never a decision.
#[test]
fn data_that_fails_at_load_is_an_error_of_eval() {
    let dir = scratch("load-overflow");
    write(
        &dir,
        &[
            (
                "over/policy.gov",
                "package over\n\ninput t(x: Int)\ndata big(x: Int)\n\nnext(y) :- big(x), y = x + 1.\n\ndeny d :- t(x), next(x).\n",
            ),
            ("over/big.data.json", r#"{"big": [{"x": 9223372036854775807}]}"#),
            ("t.json", r#"{"t": [{"x": 1}]}"#),
        ],
    );
    let build = govc_in(&dir, &["build", "over", "-o", "over.govb"]);
    assert_eq!(build.code, 0, "{}", build.stderr);
    for policy in ["over", "over.govb"] {
        let run = govc_in(&dir, &["eval", policy, "--input", "t.json"]);
        assert_eq!(run.code, 2, "{policy}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{policy}: {}", run.stdout);
        assert!(
            run.stderr.starts_with(&format!("error: `{policy}`: invalid bundle at byte ")),
            "{policy}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("overflow"), "{policy}: {}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A symlink named like a data file that leads nowhere is an error, not a file to skip.
#[test]
fn a_dangling_data_file_is_an_error() {
    let dir = shop("dangling-data");
    symlink("nowhere.json", &dir.join("shop/more.data.json"));
    for package in ["shop", "shop/policy.gov"] {
        let run = govc_in(&dir, &["eval", package, "--input", "order.json"]);
        assert_eq!(run.code, 2, "{package}: {}", run.stdout);
        assert!(run.stderr.contains("cannot read `shop/more.data.json`"), "{package}: {}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// A FIFO named like a source or data file stops every command that lists its directory
/// with an error naming it (reading it would block until some other process wrote to it).
#[test]
fn a_fifo_named_like_a_source_or_data_file_is_an_error() {
    for fifo in ["shop/pipe.gov", "shop/pipe.data.json"] {
        let dir = shop("fifo");
        mkfifo(&dir.join(fifo));
        let commands: [&[&str]; 8] = [
            &["fmt", "shop"],
            &["fmt", "--check", "."],
            &["check", "shop"],
            &["build", "shop", "-o", "shop.govb"],
            &["build", "shop/policy.gov", "-o", "shop.govb"],
            &["eval", "shop", "--input", "order.json"],
            &["test", "shop"],
            &["test", "."],
        ];
        for args in commands {
            let run = govc_in(&dir, args);
            assert_eq!(run.code, 2, "{fifo}, {args:?}: {}", run.stdout);
            assert!(run.stderr.contains(&format!("`{fifo}` is a FIFO")), "{fifo}, {args:?}: {}", run.stderr);
        }
        // Named on the command line, too.
        if fifo.ends_with(".gov") {
            for command in ["fmt", "check", "test"] {
                let run = govc_in(&dir, &[command, fifo]);
                assert_eq!(run.code, 2, "{command} {fifo}: {}", run.stdout);
                assert!(run.stderr.contains("is a FIFO"), "{command} {fifo}: {}", run.stderr);
            }
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

/// `govc test` ignores a package's data files, even one that does not fit the package: the
/// tests bring their own data. The language server's Run-test lens runs the same package
/// the same way (crates/gov-lsp/src/lens.rs, `the_lens_agrees_with_govc_test_on_a_package_with_data_files`).
#[test]
fn govc_test_ignores_the_package_data_files() {
    let dir = scratch("test-data");
    let source = "package p\ninput t(x: Int)\ndata big(x: Int)\ndeny d :- t(x), big(x).\n\
                  test \"blocked\" {\n    given t(1).\n          big(1).\n    expect deny d\n}\n";
    write(&dir, &[("p/p.gov", source), ("p/stray.data.json", "{\"nothing\": [{\"x\": 1}]}")]);
    let run = govc_in(&dir, &["test", "p"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("1 passed; 0 failed"), "{}", run.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

/// A test's `with data` fixture that is a FIFO is an error of that test, not a hang.
#[test]
fn a_fifo_as_a_test_fixture_is_an_error_of_the_test() {
    let dir = shop("fifo-fixture");
    let with_fixture =
        SHOP.replace("given order(\"bot-9\").\n", "given order(\"bot-9\").\n  with data \"pipe.json\"\n");
    write(&dir, &[("shop/policy.gov", &with_fixture)]);
    mkfifo(&dir.join("shop/pipe.json"));
    let run = govc_in(&dir, &["test", "shop"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.contains("1 passed; 0 failed; 1 error"), "{}", run.stdout);
    assert!(run.stdout.contains("`shop/pipe.json` is a FIFO"), "{}", run.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Three links to `..` in every directory of a chain (each level multiplies the paths by
/// four), and two links to the same sibling: each file is still found once, and the walk
/// ends.
#[test]
fn symlink_loops_are_walked_once_per_real_directory() {
    let dir = scratch("loops");
    let messy = "package p\ninput  t( x:Int )\ndeny d :- t(_).\n";
    let mut path = PathBuf::from("tree");
    for level in 0..8 {
        path.push(format!("d{level}"));
        write(&dir, &[(&format!("{}/p.gov", path.display()), messy)]);
        for link in ["up1", "up2", "up3"] {
            symlink("..", &dir.join(&path).join(link));
        }
    }
    write(&dir, &[("tree/shared/p.gov", messy)]);
    std::fs::create_dir_all(dir.join("tree/links")).unwrap();
    symlink("../shared", &dir.join("tree/links/one"));
    symlink("../shared", &dir.join("tree/links/two"));

    let run = govc_in(&dir, &["fmt", "--check", "tree"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let listed: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("not formatted: ")).collect();
    assert_eq!(listed.len(), 9, "{listed:?}");
    let mut names: Vec<PathBuf> = listed.iter().map(|l| dir.join(l).canonicalize().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 9, "a file was listed twice: {listed:?}");

    let run = govc_in(&dir, &["fmt", "tree"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(govc_in(&dir, &["fmt", "--check", "tree"]).code, 0);

    // Each package is found (and tested) once.
    let run = govc_in(&dir, &["test", "tree"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(run.stdout.matches("running 0 tests in p").count(), 2, "{}", run.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

/// `build -o` naming a file the build reads (a source or data file, a `--data` file, the
/// key, or any of them through a symlink), or any file named like a source or data file,
/// is refused, and the file is left as it was (or not created).
#[test]
fn build_refuses_to_overwrite_what_it_reads() {
    let dir = shop("overwrite");
    let key = govc_in(&dir, &["keygen", "-o", "release.key"]);
    assert_eq!(key.code, 0, "{}", key.stderr);
    write(&dir, &[("extra.json", "{\"blocked\": []}")]);
    symlink("shop/policy.gov", &dir.join("alias.gov"));
    write(&dir, &[("other.gov", "package other\n")]);
    let cases: [(&[&str], &str); 8] = [
        (&["build", "shop/policy.gov", "-o", "shop/policy.gov"], "shop/policy.gov"),
        // Named like a source or data file, even of another package or not there yet.
        (&["build", "shop", "-o", "other.gov"], "other.gov"),
        (&["build", "shop", "-o", "new.data.json"], "new.data.json"),
        (&["build", "shop", "-o", "shop/policy.gov"], "shop/policy.gov"),
        (&["build", "shop", "-o", "./shop/../shop/blocklist.data.json"], "shop/blocklist.data.json"),
        (&["build", "shop", "-o", "alias.gov"], "shop/policy.gov"),
        (&["build", "shop", "--data", "extra.json", "-o", "extra.json"], "extra.json"),
        (&["build", "shop", "--sign", "release.key", "-o", "release.key"], "release.key"),
    ];
    for (args, read) in cases {
        let before = std::fs::read(dir.join(read)).ok();
        let run = govc_in(&dir, args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains("refusing to"), "{args:?}: {}", run.stderr);
        assert_eq!(std::fs::read(dir.join(read)).ok(), before, "{args:?} changed {read}");
    }
    let run = govc_in(&dir, &["build", "shop", "-o", "shop/shop.govb"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
}
