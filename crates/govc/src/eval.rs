//! `govc eval`.

use crate::cli::{EvalArgs, EvalFormat};
use crate::{Outcome, keys, load, output, package};
use gov_vm::{Engine, Limits};
use std::io::Read;

/// Loads a bundle (checking its signature if asked), or builds one in memory from a
/// package.
fn engine(args: &EvalArgs) -> Result<Engine, Outcome> {
    let is_bundle = args.policy.extension().is_some_and(|e| e == "govb");
    if args.public_key.is_some() && !is_bundle {
        eprintln!("error: --public-key applies to bundles (`.govb`); a package compiled in memory is not signed");
        return Err(Outcome::UsageError);
    }
    let public_key = args.public_key.as_deref().map(keys::read_public).transpose().map_err(|message| {
        eprintln!("error: {message}");
        Outcome::UsageError
    })?;
    if !is_bundle {
        return package::engine(&args.policy, &args.data, args.color);
    }
    if !args.data.is_empty() {
        eprintln!("error: --data applies to packages; a bundle carries its data");
        return Err(Outcome::UsageError);
    }
    let bytes = std::fs::read(&args.policy).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", load::display(&args.policy));
        Outcome::UsageError
    })?;
    let loaded = match public_key {
        Some(key) => Engine::load_verified(&bytes, &key),
        None => Engine::load(&bytes),
    };
    loaded.map_err(|e| {
        eprintln!("error: `{}`: {e}", load::display(&args.policy));
        Outcome::UsageError
    })
}

/// Reads the request, at most `--max-request-bytes` of it: a longer stream (even an
/// endless one such as `/dev/zero`) is refused after one byte more, never read whole.
fn read_input(args: &EvalArgs) -> Result<String, Outcome> {
    let shown = load::display(&args.input);
    let limit = args.max_request_bytes;
    let mut bytes = Vec::new();
    let read = if args.input.as_os_str() == "-" {
        read_at_most(std::io::stdin().lock(), limit, &mut bytes)
    } else {
        std::fs::File::open(&args.input).and_then(|file| read_at_most(file, limit, &mut bytes))
    };
    let fail = |message: String| {
        eprintln!("error: {message}");
        Outcome::UsageError
    };
    read.map_err(|e| fail(format!("cannot read `{shown}`: {e}")))?;
    if bytes.len() > limit {
        return Err(fail(format!(
            "`{shown}`: the request is longer than the limit of {limit} bytes (see --max-request-bytes)"
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        fail(format!("`{shown}`: the request is not UTF-8 (invalid byte at offset {})", e.utf8_error().valid_up_to()))
    })
}

/// Appends up to `limit + 1` bytes of `reader` to `bytes`.
fn read_at_most(reader: impl Read, limit: usize, bytes: &mut Vec<u8>) -> std::io::Result<()> {
    let bound = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader.take(bound).read_to_end(bytes).map(|_| ())
}

/// Decides one request and prints the decision JSON.
pub fn run(args: &EvalArgs) -> Outcome {
    let (engine, text) = match (engine(args), read_input(args)) {
        (Ok(engine), Ok(text)) => {
            let limits = Limits { max_request_bytes: args.max_request_bytes, ..args.limits.limits() };
            (engine.with_limits(limits), text)
        }
        (Err(outcome), _) | (_, Err(outcome)) => return outcome,
    };
    let request = match engine.request_from_json(&text) {
        Ok(request) => request,
        Err(error) => {
            eprintln!("error: {}: {error}", load::display(&args.input));
            return Outcome::UsageError;
        }
    };
    let result = if args.explain {
        engine.explain(&request).map(|(decision, explanation)| (decision, Some(explanation)))
    } else {
        engine.decide(&request).map(|decision| (decision, None))
    };
    let result = result.and_then(|(decision, explanation)| {
        if args.format == EvalFormat::Human {
            let mut text = gov_vm::text::report(&engine.report(&request, &decision)?);
            if let Some(explanation) = explanation {
                let tree = gov_vm::text::derivation(&engine, engine.strings(&request)?, &explanation);
                text.push_str(if tree.is_empty() { "derivation: no rule fired\n" } else { "derivation:\n" });
                for line in tree.lines() {
                    text.push_str(&format!("  {line}\n"));
                }
            }
            return Ok((decision, text));
        }
        let mut document = engine.decision_json(&request, &decision)?;
        if let (Some(explanation), Some(object)) = (explanation, document.as_object_mut()) {
            object.insert("explanation".to_owned(), gov_vm::json::explanation(&engine, &request, &explanation)?);
        }
        Ok((decision, format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default())))
    });
    match result {
        Ok((decision, text)) => {
            output::emit(&text);
            if args.exit_code && decision.outcome != gov_vm::Outcome::Allow {
                Outcome::PolicyFailure
            } else {
                Outcome::Success
            }
        }
        Err(error) => {
            if let gov_vm::EvalError::Limit { .. } = error {
                eprintln!(
                    "error: {error}; a legitimate request may need a higher --max-facts, --max-fact-bytes, --max-steps or --max-rounds"
                );
            }
            // An evaluation error is never an allow: report a deny with the error.
            if args.format == EvalFormat::Human {
                output::emit(&format!("decision: deny\nerror: {error}\n"));
                return Outcome::PolicyFailure;
            }
            let document =
                serde_json::json!({ "decision": "deny", "error": error.to_string(), "bundle": engine.hash() });
            output::emit(&format!("{}\n", serde_json::to_string_pretty(&document).unwrap_or_default()));
            Outcome::PolicyFailure
        }
    }
}
