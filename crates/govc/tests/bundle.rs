#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! Bundles from the command line: `keygen`, `build --sign`, `eval` and `inspect` with
//! `--public-key`, and damaged bundles.

mod common;
use common::{Run, govc};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("govc-bundle-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const REQUEST: &str = "examples/payments/requests/over_limit.json";

/// Builds the payments example into `dir`, signed with `key` if given.
fn build(dir: &Path, name: &str, key: Option<&Path>) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["build", "examples/payments", "-o", path(&out)];
    if let Some(key) = key {
        args.extend(["--sign", path(key)]);
    }
    let run = govc(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    out
}

/// A key pair in `dir`: (secret key file, public key file).
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let secret = dir.join(name);
    let run = govc(&["keygen", "-o", path(&secret)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let public = dir.join(format!("{name}.pub"));
    let hex = std::fs::read_to_string(&public).unwrap();
    assert_eq!(hex.trim().len(), 64);
    assert!(run.stdout.contains(&format!("public key: {}", hex.trim())), "{}", run.stdout);
    (secret, public)
}

fn no_panic(run: &Run) {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn keygen_sign_and_verify() {
    let dir = scratch("sign");
    let (secret, public) = keygen(&dir, "release.key");
    let text = std::fs::read_to_string(&secret).unwrap();
    assert_eq!(text.len(), 65, "64 hex digits and a newline");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let bundle = build(&dir, "payments.govb", Some(&secret));
    let run = govc(&["eval", path(&bundle), "--input", REQUEST, "--public-key", path(&public)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let decision: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["reasons"][0]["rule"], "too_large");
    // Without --public-key a signed bundle loads like any other.
    assert_eq!(govc(&["eval", path(&bundle), "--input", REQUEST]).code, 0);
    let run = govc(&["inspect", path(&bundle), "--public-key", path(&public)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("signature   ed25519, verified"), "{}", run.stdout);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn keygen_keeps_existing_keys_unless_forced() {
    let dir = scratch("keygen");
    let (secret, _) = keygen(&dir, "k");
    let before = std::fs::read_to_string(&secret).unwrap();
    let run = govc(&["keygen", "-o", path(&secret)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("already exists; pass --force"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), before);
    let run = govc(&["keygen", "-o", path(&secret), "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_ne!(std::fs::read_to_string(&secret).unwrap(), before, "a new key every time");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unsigned_bundle_with_a_public_key_exits_2() {
    let dir = scratch("unsigned");
    let (_, public) = keygen(&dir, "k");
    let bundle = build(&dir, "payments.govb", None);
    for command in ["eval", "inspect"] {
        let mut args = vec![command, path(&bundle), "--public-key", path(&public)];
        if command == "eval" {
            args.extend(["--input", REQUEST]);
        }
        let run = govc(&args);
        assert_eq!(run.code, 2, "{command}");
        assert!(run.stdout.is_empty(), "{command}: {}", run.stdout);
        assert!(run.stderr.contains("the bundle is not signed"), "{command}: {}", run.stderr);
    }
    // A package is compiled in memory, unsigned: --public-key makes no sense there.
    let run = govc(&["eval", "examples/payments", "--input", REQUEST, "--public-key", path(&public)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--public-key applies to bundles"), "{}", run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bundle_signed_by_another_key_exits_2() {
    let dir = scratch("other");
    let (secret, _) = keygen(&dir, "ours");
    let (_, theirs) = keygen(&dir, "theirs");
    let bundle = build(&dir, "payments.govb", Some(&secret));
    for command in ["eval", "inspect"] {
        let mut args = vec![command, path(&bundle), "--public-key", path(&theirs)];
        if command == "eval" {
            args.extend(["--input", REQUEST]);
        }
        let run = govc(&args);
        assert_eq!(run.code, 2, "{command}");
        assert!(run.stderr.contains("signature does not match the public key"), "{command}: {}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_key_files_exit_2() {
    let dir = scratch("badkeys");
    let bundle = build(&dir, "payments.govb", None);
    let junk = dir.join("junk.pub");
    std::fs::write(&junk, "not a key\n").unwrap();
    let run = govc(&["eval", path(&bundle), "--input", REQUEST, "--public-key", path(&junk)]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("is not an ed25519 public key"), "{}", run.stderr);
    let run = govc(&[
        "build",
        "examples/payments",
        "-o",
        path(&dir.join("x.govb")),
        "--sign",
        path(&dir.join("missing.key")),
    ]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot read secret key"), "{}", run.stderr);
    assert!(!dir.join("x.govb").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

/// An unsigned bundle with flag bit 0 set and the signature R = identity, S = 0, checked
/// against the identity public key: the non-strict ed25519 equation holds for every
/// message, so without strict checking it decides. The key file is refused when read.
#[test]
fn forged_signature_with_a_weak_key_exits_2() {
    let dir = scratch("weak");
    let mut bytes = std::fs::read(build(&dir, "payments.govb", None)).unwrap();
    bytes[6] |= 1;
    let identity = format!("01{}", "00".repeat(31));
    bytes.extend_from_slice(&[1]);
    bytes.extend_from_slice(&[0; 63]);
    let forged = dir.join("forged.govb");
    std::fs::write(&forged, &bytes).unwrap();
    let key = dir.join("identity.pub");
    std::fs::write(&key, format!("{identity}\n")).unwrap();
    for command in ["eval", "inspect"] {
        let mut args = vec![command, path(&forged), "--public-key", path(&key)];
        if command == "eval" {
            args.extend(["--input", REQUEST]);
        }
        let run = govc(&args);
        no_panic(&run);
        assert_eq!(run.code, 2, "{command}: {}", run.stdout);
        assert!(run.stdout.is_empty(), "{command} decided: {}", run.stdout);
        assert!(run.stderr.contains("identity.pub") && run.stderr.contains("weak public key"), "{}", run.stderr);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn damaged_bundles_exit_2_naming_the_byte() {
    let dir = scratch("damaged");
    let (secret, public) = keygen(&dir, "k");
    let original = std::fs::read(build(&dir, "payments.govb", None)).unwrap();
    let signed = std::fs::read(build(&dir, "signed.govb", Some(&secret))).unwrap();
    let trailer = original.len() - 32;
    let damaged = dir.join("damaged.govb");
    // (bundle, byte to flip, public key?, what the message says)
    let cases: Vec<(&[u8], usize, bool, String)> = vec![
        (&original, 4, false, "invalid bundle at byte 4: bundle format version".to_owned()),
        (&original, 100, false, format!("invalid bundle at byte {trailer}: content hash mismatch")),
        (&original, original.len() - 1, false, format!("invalid bundle at byte {trailer}: content hash mismatch")),
        (&signed, signed.len() - 1, true, "signature does not match".to_owned()),
    ];
    for (bytes, at, verify, expected) in cases {
        let mut bytes = bytes.to_vec();
        bytes[at] ^= 0x10;
        std::fs::write(&damaged, &bytes).unwrap();
        for command in ["eval", "inspect"] {
            let mut args = vec![command, path(&damaged)];
            if command == "eval" {
                args.extend(["--input", REQUEST]);
            }
            if verify {
                args.extend(["--public-key", path(&public)]);
            }
            let run = govc(&args);
            no_panic(&run);
            assert_eq!(run.code, 2, "{command}, byte {at}: {}", run.stderr);
            assert!(run.stderr.contains(&expected), "{command}, byte {at}: {}", run.stderr);
        }
    }
    // Truncated.
    std::fs::write(&damaged, &original[..original.len() / 2]).unwrap();
    let run = govc(&["eval", path(&damaged), "--input", REQUEST]);
    no_panic(&run);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("invalid bundle at byte"), "{}", run.stderr);
    // Not a bundle at all.
    let run = govc(&["inspect", "examples/payments/payments.gov"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a Gov bundle"), "{}", run.stderr);
    std::fs::remove_dir_all(dir).unwrap();
}

/// Replaces what changes from run to run (or with every edit of the example): the
/// scratch path (and so the bundle's size, which includes it) and hashes.
fn stable(text: &str, dir: &Path) -> String {
    let text = text.replace(path(dir), "[dir]");
    let text = match text.split_once(" bytes)\n") {
        Some((first, rest)) if first.starts_with("bundle ") => {
            let (name, _) = first.rsplit_once(" (").unwrap();
            format!("{name} ([size] bytes)\n{rest}")
        }
        _ => text,
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("sha256:") {
        out.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        let hex = rest.chars().take_while(char::is_ascii_hexdigit).count();
        out.push_str("[hash]");
        rest = &rest[hex..];
    }
    out.push_str(rest);
    out
}

/// The listings of the rules whose source is at `location`, without their numbers.
fn own_rules(text: &str, location: &str) -> String {
    let code = &text[text.find("\ncode (").unwrap()..];
    let mut out = String::new();
    let mut keep = false;
    for line in code.lines() {
        if line.starts_with("  rule ") || line.starts_with("  delta rule ") {
            keep = line.contains(location);
            if keep {
                let (what, rest) = line.split_once(':').unwrap();
                let what = what.trim_end_matches(|c: char| c.is_ascii_digit());
                out.push_str(&format!("{what}N:{rest}\n"));
            }
        } else if line.starts_with("    ") && keep {
            out.push_str(line);
            out.push('\n');
        } else {
            keep = false;
        }
    }
    out
}

const SHOP: &str = r#"package shop

input order(customer: Str, total: Int)
data vip(customer: Str)
data limit(max: Int)
data refers(customer: Str, by: Str)

referred(a, b) :- refers(a, b).
referred(a, c) :- refers(a, b), referred(b, c).

spent(c, s) :- order(customer: c), s = sum(t : order(c, t)).

deny too_big "order of {t} is over {m}" :- order(c, t), limit(m), t > m, not vip(c).
escalate big_spender to "sales" "{c} spent {s}" :- spent(c, s), s > 2000.
risk unreferred 40 :- order(c, _), not referred(c, _).
allow ok :- order(_, _).
"#;

const SHOP_DATA: &str = r#"{"vip": [{"customer": "ada"}], "limit": [{"max": 500}], "refers": [{"customer": "ada", "by": "bob"}, {"customer": "bob", "by": "cy"}]}"#;

/// The whole listing of a small package that uses no library: every section, a recursive
/// stratum with its delta rule, an aggregate, negations and each kind of instruction.
#[test]
fn inspect_lists_a_whole_bundle() {
    let dir = scratch("shop");
    let package = dir.join("shop");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("shop.gov"), SHOP).unwrap();
    std::fs::write(package.join("shop.data.json"), SHOP_DATA).unwrap();
    let bundle = dir.join("shop.govb");
    let run = govc(&["build", path(&package), "-o", path(&bundle)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = govc(&["inspect", path(&bundle)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("inspect_shop", stable(&run.stdout, &dir));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn inspect_shows_schemas_decisions_and_code() {
    let dir = scratch("inspect");
    let bundle = build(&dir, "payments.govb", None);
    let run = govc(&["inspect", path(&bundle)]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = &run.stdout;
    for name in [
        "transfer(agent: Agent, amount: Int, to: Account)",
        "role(agent: Agent, role: Str)",
        "manages(",
        "over_limit(",
        "risk_score(score: Int)",
    ] {
        assert!(text.contains(name), "no `{name}` in\n{text}");
    }
    for line in [
        "package     payments",
        &format!("format      version {}", gov_vm::bundle::VERSION),
        "signature   none",
        "default     deny",
    ] {
        assert!(text.contains(line), "no `{line}` in\n{text}");
    }
    assert!(text.contains("deny       too_large"), "{text}");
    for one in ["request_time(at: Time)", "requested_by(requester: Str)"] {
        let line = text.lines().find(|l| l.contains(one)).unwrap_or_else(|| panic!("no `{one}` in\n{text}"));
        assert!(line.starts_with("  input") && line.ends_with("exactly one fact per request"), "{line}");
    }
    assert!(text.contains("recursive"), "{text}");
    for mnemonic in ["scan", "compare", "emit", "fire", "absent", "aggregate"] {
        assert!(
            text.lines().any(|l| l.split_whitespace().nth(1) == Some(mnemonic)),
            "no `{mnemonic}` instruction in\n{text}"
        );
    }
    assert!(text.contains("manages Δ"), "a semi-naive delta scan:\n{text}");
    assert!(text.contains("(examples/payments/payments.gov:"), "source locations:\n{text}");
    // The example's own rules (the standard library's, and the rule numbers, change as the
    // library grows).
    insta::assert_snapshot!("inspect_payments_rules", own_rules(text, "(examples/payments/payments.gov:"));

    let run = govc(&["inspect", path(&bundle), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["package"], "payments");
    assert_eq!(doc["format_version"], gov_vm::bundle::VERSION);
    assert_eq!(doc["signed"], false);
    assert!(doc["hash"].as_str().unwrap().starts_with("sha256:"));
    let transfer = doc["relations"].as_array().unwrap().iter().find(|r| r["name"] == "transfer").unwrap();
    assert_eq!(transfer["kind"], "input");
    assert_eq!(transfer["one"], false);
    let time = doc["relations"].as_array().unwrap().iter().find(|r| r["name"] == "request_time").unwrap();
    assert_eq!((&time["kind"], &time["one"]), (&Value::from("input"), &Value::from(true)));
    assert_eq!(transfer["columns"][1]["name"], "amount");
    assert_eq!(transfer["columns"][1]["type"], "Int");
    let role = doc["relations"].as_array().unwrap().iter().find(|r| r["name"] == "role").unwrap();
    assert!(role["facts"].as_u64().unwrap() > 0);
    let too_large = doc["decisions"].as_array().unwrap().iter().find(|d| d["name"] == "too_large").unwrap();
    assert_eq!(too_large["effect"], "deny");
    assert_eq!(too_large["message"], "transfer of {0} exceeds the {1} limit");
    std::fs::remove_dir_all(dir).unwrap();
}
