//! The line format (docs/audit.md): what a record's header holds, what is hashed and what
//! a checkpoint signs. Writing, resuming and verifying all read and write lines through
//! this module, so they cannot disagree on a byte.

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// What the first record's `prev` holds: 32 zero bytes.
pub const GENESIS: Hash = [0; 32];

/// The longest line the writer writes and the readers read, in bytes. A request is at
/// most `gov_vm::MAX_REQUEST_BYTES` (4 MiB); its decision, reasons and escaping fit in
/// the rest.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The `kind` of a checkpoint record.
pub const CHECKPOINT: &str = "checkpoint";
/// The `kind` of the record a writer adds when it resumes after removing a torn line.
pub const RECOVERY: &str = "recovery";

/// The hash a line is chained by: SHA-256 of its bytes as stored, without the newline
/// that ends it.
pub fn line_hash(line: &[u8]) -> Hash {
    Sha256::digest(line).into()
}

/// Lowercase hex (made for every line written, so without `format!` per byte).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    // Hex digits are ASCII.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends the lowercase hex digits of `bytes` (made in a stack buffer, appended at once:
/// a line's `prev` is written for every record).
fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digit = |nibble: u8| DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0');
    for chunk in bytes.chunks(32) {
        let mut hex = [0u8; 64];
        for (pair, &b) in hex.chunks_exact_mut(2).zip(chunk) {
            if let [high, low] = pair {
                *high = digit(b >> 4);
                *low = digit(b & 0xf);
            }
        }
        out.extend_from_slice(hex.get(..2 * chunk.len()).unwrap_or_default());
    }
}

/// `N` bytes from exactly `2N` lowercase hex digits.
pub fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N || !digits.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// `sha256:` and the hex digest, as `prev` holds it.
pub fn hash_text(hash: &Hash) -> String {
    format!("sha256:{}", hex(hash))
}

/// The first part of every line: `{"seq":N,"prev":"sha256:…",` — the rest of the
/// record's fields follow it.
pub fn line_start(seq: u64, prev: &Hash) -> String {
    let mut out = Vec::with_capacity(96);
    push_line_start(&mut out, seq, prev);
    // Digits, ASCII punctuation and hex: UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends [`line_start`] to a line being built (the writer's reused buffer), without
/// allocating.
pub fn push_line_start(out: &mut Vec<u8>, seq: u64, prev: &Hash) {
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
    out.extend_from_slice(b",\"prev\":\"sha256:");
    push_hex(out, prev);
    out.extend_from_slice(b"\",");
}

/// What a checkpoint's signature covers: the text
/// `gov-audit checkpoint\nseq N\nprev sha256:…\ntime T\nclosing C\n` in UTF-8, where
/// `prev` is the hash of the line before the checkpoint (the chain head it vouches for) and
/// `C` is `true` or `false`.
pub fn checkpoint_message(seq: u64, prev: &Hash, time: &str, closing: bool) -> Vec<u8> {
    format!("gov-audit checkpoint\nseq {seq}\nprev {}\ntime {time}\nclosing {closing}\n", hash_text(prev)).into_bytes()
}

/// A checkpoint line (without its newline). A closing checkpoint is the last line a
/// writer writes; a writer that reopens the log starts with a checkpoint.
pub fn checkpoint_line(seq: u64, prev: &Hash, time: &str, closing: bool, signing_key: Option<&[u8; 32]>) -> String {
    let (key, sig) = match signing_key {
        Some(secret) => {
            let signature = gov_vm::bundle::sign(secret, &checkpoint_message(seq, prev, time, closing));
            (format!("\"{}\"", hex(&gov_vm::bundle::public_key(secret))), format!("\"{}\"", hex(&signature)))
        }
        None => ("null".to_owned(), "null".to_owned()),
    };
    format!(
        "{}\"kind\":\"{CHECKPOINT}\",\"time\":\"{time}\",\"closing\":{closing},\"key\":{key},\"sig\":{sig}}}",
        line_start(seq, prev)
    )
}

/// The fields of a line that chain it, and those of a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The record's sequence number, from 1, one more than the line before it.
    pub seq: u64,
    /// The hash of the line before it ([`GENESIS`] for the first).
    pub prev: Hash,
    /// `decision`, `approval`, `bundle_load`, `checkpoint` or `recovery`.
    pub kind: String,
    /// The record's time, as written.
    pub time: Option<String>,
    /// Whether a checkpoint closed the log.
    pub closing: bool,
    /// A checkpoint's public key (hex), if it is signed.
    pub key: Option<String>,
    /// A checkpoint's signature (hex), if it is signed.
    pub sig: Option<String>,
}

#[derive(Deserialize)]
struct RawHeader {
    seq: u64,
    prev: String,
    kind: String,
    time: Option<String>,
    #[serde(default)]
    closing: bool,
    key: Option<String>,
    sig: Option<String>,
}

/// Reads the header of a line; the error says what is missing or malformed.
pub fn parse_header(line: &[u8]) -> Result<Header, String> {
    let raw: RawHeader = serde_json::from_slice(line).map_err(|e| format!("not a record: {e}"))?;
    let prev = raw
        .prev
        .strip_prefix("sha256:")
        .and_then(unhex::<32>)
        .ok_or_else(|| format!("not a record: `prev` is `{}`, not `sha256:` and 64 hex digits", raw.prev))?;
    Ok(Header { seq: raw.seq, prev, kind: raw.kind, time: raw.time, closing: raw.closing, key: raw.key, sig: raw.sig })
}

/// What a checkpoint's signature says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// The checkpoint carries no signature.
    Unsigned,
    /// Signed by the given key, and the signature holds.
    Valid,
    /// Signed by the other key it names, for which its signature holds: not by the given
    /// key (the wrong public key, or a log signed with another key).
    OtherKey(String),
    /// Signed, but the signature holds for no key it could be from: the checkpoint (or the
    /// chain it vouches for) changed; says why.
    Invalid(String),
}

/// Checks a checkpoint's signature against `public_key`.
pub fn check_signature(header: &Header, public_key: &[u8; 32]) -> Signature {
    let Some(sig) = &header.sig else { return Signature::Unsigned };
    let Some(signature) = unhex::<64>(sig) else {
        return Signature::Invalid("its `sig` is not 128 hex digits".to_owned());
    };
    let message =
        checkpoint_message(header.seq, &header.prev, header.time.as_deref().unwrap_or_default(), header.closing);
    match gov_vm::bundle::verify_signature(public_key, &message, &signature) {
        Ok(()) => Signature::Valid,
        Err(gov_vm::bundle::SignatureError::BadSignature) => {
            let named = header.key.as_deref().and_then(unhex::<32>).filter(|key| key != public_key);
            match named {
                Some(key) if gov_vm::bundle::verify_signature(&key, &message, &signature).is_ok() => {
                    Signature::OtherKey(hex(&key))
                }
                _ => Signature::Invalid("its signature does not verify with the given public key".to_owned()),
            }
        }
        Err(gov_vm::bundle::SignatureError::BadPublicKey(why)) => Signature::Invalid(why),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_upper_case_and_signs() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(unhex::<32>(&hex(&bytes)), Some(bytes));
        assert_eq!(unhex::<32>(&hex(&bytes).to_uppercase()), None, "one spelling per hash");
        assert_eq!(unhex::<32>(&"+1".repeat(32)), None);
        assert_eq!(unhex::<2>("é1"), None);
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_an_altered_one_does_not() {
        let secret = [7u8; 32];
        let public = gov_vm::bundle::public_key(&secret);
        let line = checkpoint_line(5, &[1; 32], "2026-01-01T00:00:00Z", true, Some(&secret));
        let header = parse_header(line.as_bytes()).unwrap();
        assert_eq!(check_signature(&header, &public), Signature::Valid);
        let moved = Header { seq: 6, ..header.clone() };
        assert!(matches!(check_signature(&moved, &public), Signature::Invalid(_)));
        let reopened = Header { closing: false, ..header.clone() };
        assert!(matches!(check_signature(&reopened, &public), Signature::Invalid(_)));
        let other = gov_vm::bundle::public_key(&[8u8; 32]);
        assert_eq!(check_signature(&header, &other), Signature::OtherKey(hex(&public)));
        let forged = Header { seq: 6, ..header.clone() };
        assert!(matches!(check_signature(&forged, &other), Signature::Invalid(_)), "not even by the key it names");
        let unsigned = parse_header(checkpoint_line(5, &[1; 32], "t", false, None).as_bytes()).unwrap();
        assert_eq!(check_signature(&unsigned, &public), Signature::Unsigned);
    }
}
