//! The `.govb` bundle format: writing, reading and validating (see docs/bundle.md).
//!
//! ```text
//! header   "GOVB" | version u16 | flags u16 (bit 0: signed) | payload length u32 | 0u32
//! payload  sections in a fixed order, each: tag u8 | length u32 | body
//! trailer  sha256(payload) [32 bytes] | ed25519 signature of that hash [64 bytes, if signed]
//! ```
//!
//! All integers are little-endian. Reading checks every length against the bytes that
//! remain before allocating, and [`validate`] checks every index, register and nesting
//! before the engine runs anything: a truncated, corrupted, tampered or future-version
//! bundle is a [`LoadError`] naming the byte offset, never a panic.

mod decode;
mod encode;
mod validate;

use crate::program::Program;
use crate::{LoadError, LoadErrorKind, WriteError};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

pub(crate) use validate::validate_data;
pub use validate::{MAX_RULE_LENGTH, validate};

/// The first four bytes of every bundle.
pub const MAGIC: &[u8; 4] = b"GOVB";
/// The format version this engine reads and writes.
pub const VERSION: u16 = 4;
/// Header length in bytes.
pub const HEADER_LEN: usize = 16;
const FLAG_SIGNED: u16 = 1;
const HASH_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;

/// A bundle read from bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The validated program.
    pub program: Program,
    /// `sha256:…` of the payload: the bundle's identity, signed or not.
    pub hash: String,
    /// The raw payload hash.
    pub digest: [u8; HASH_LEN],
    /// The signature, if the bundle is signed.
    pub signature: Option<[u8; SIGNATURE_LEN]>,
}

/// Encodes a program as an unsigned bundle; an error if it holds something the format
/// cannot (a length past 32 bits, an id the format reserves).
pub fn write(program: &Program) -> Result<Vec<u8>, WriteError> {
    let payload = encode::payload(program)?;
    assemble(&payload, None)
}

/// Encodes a program as a bundle signed with the 32-byte ed25519 secret key `secret`.
pub fn write_signed(program: &Program, secret: &[u8; 32]) -> Result<Vec<u8>, WriteError> {
    let payload = encode::payload(program)?;
    let digest: [u8; HASH_LEN] = Sha256::digest(&payload).into();
    assemble(&payload, Some(sign(secret, &digest)))
}

/// Signs `message` with the 32-byte ed25519 secret key `secret`. Bundles sign their
/// payload hash; the audit log (gov-audit) signs its checkpoints with the same keys.
pub fn sign(secret: &[u8; 32], message: &[u8]) -> [u8; SIGNATURE_LEN] {
    SigningKey::from_bytes(secret).sign(message).to_bytes()
}

/// The public key of a 32-byte ed25519 secret key.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    SigningKey::from_bytes(secret).verifying_key().to_bytes()
}

fn assemble(payload: &[u8], signature: Option<[u8; SIGNATURE_LEN]>) -> Result<Vec<u8>, WriteError> {
    let payload_len = u32::try_from(payload.len()).map_err(|_| WriteError::TooLong { len: payload.len() })?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + HASH_LEN + SIGNATURE_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(if signature.is_some() { FLAG_SIGNED } else { 0 }).to_le_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&Sha256::digest(payload));
    if let Some(signature) = signature {
        out.extend_from_slice(&signature);
    }
    Ok(out)
}

fn fail(kind: LoadErrorKind, offset: usize, message: impl Into<String>) -> LoadError {
    LoadError::new(kind, offset, message)
}

/// Reads and validates a bundle.
pub fn read(bytes: &[u8]) -> Result<Bundle, LoadError> {
    let header = bytes.get(..HEADER_LEN).ok_or_else(|| {
        fail(
            LoadErrorKind::Truncated,
            bytes.len(),
            format!("truncated: a bundle starts with a {HEADER_LEN}-byte header, found {} bytes", bytes.len()),
        )
    })?;
    if header.get(..4) != Some(MAGIC.as_slice()) {
        return Err(fail(LoadErrorKind::BadMagic, 0, "not a Gov bundle (bad magic number)"));
    }
    let u16_at = |i: usize| header.get(i..i + 2).and_then(|b| b.try_into().ok()).map_or(0, u16::from_le_bytes);
    let u32_at = |i: usize| header.get(i..i + 4).and_then(|b| b.try_into().ok()).map_or(0, u32::from_le_bytes);
    let version = u16_at(4);
    if version != VERSION {
        return Err(fail(
            LoadErrorKind::UnsupportedVersion,
            4,
            format!(
                "bundle format version {version}; this engine reads version {VERSION} (rebuild the bundle with a matching govc)"
            ),
        ));
    }
    let flags = u16_at(6);
    if flags & !FLAG_SIGNED != 0 {
        return Err(fail(LoadErrorKind::BadHeader, 6, format!("unknown flags {flags:#06x}")));
    }
    if u32_at(12) != 0 {
        return Err(fail(LoadErrorKind::BadHeader, 12, "reserved header field is not zero"));
    }
    let payload_len = u32_at(8) as usize;
    let signed = flags & FLAG_SIGNED != 0;
    let expected = HEADER_LEN + payload_len + HASH_LEN + if signed { SIGNATURE_LEN } else { 0 };
    if bytes.len() != expected {
        let kind = if bytes.len() < expected { LoadErrorKind::Truncated } else { LoadErrorKind::Malformed };
        return Err(fail(
            kind,
            bytes.len().min(expected),
            format!("the header promises {expected} bytes, the bundle has {}", bytes.len()),
        ));
    }
    let payload = bytes.get(HEADER_LEN..HEADER_LEN + payload_len).unwrap_or_default();
    let stored_hash = bytes.get(HEADER_LEN + payload_len..HEADER_LEN + payload_len + HASH_LEN).unwrap_or_default();
    let digest: [u8; HASH_LEN] = Sha256::digest(payload).into();
    if stored_hash != digest {
        return Err(fail(
            LoadErrorKind::HashMismatch,
            HEADER_LEN + payload_len,
            "content hash mismatch: the bundle was corrupted or modified",
        ));
    }
    let signature = if signed {
        let at = HEADER_LEN + payload_len + HASH_LEN;
        Some(
            bytes
                .get(at..at + SIGNATURE_LEN)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| fail(LoadErrorKind::Truncated, at, "truncated signature"))?,
        )
    } else {
        None
    };
    let program = decode::payload(payload, HEADER_LEN)?;
    validate(&program)
        .map_err(|message| fail(LoadErrorKind::Invalid, HEADER_LEN, format!("invalid program: {message}")))?;
    let hash = format!("sha256:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>());
    Ok(Bundle { program, hash, digest, signature })
}

/// Checks that 32 bytes are an ed25519 public key a signature can be checked against:
/// the encoding of a curve point that is not of small order. A small-order ("weak") key
/// is refused: with it, a signature can be made for any message without a secret key (the
/// identity key accepts R = identity, S = 0 for every bundle).
pub fn check_public_key(public_key: &[u8; 32]) -> Result<(), String> {
    parse_public_key(public_key).map(|_| ())
}

fn parse_public_key(public_key: &[u8; 32]) -> Result<VerifyingKey, String> {
    let key = VerifyingKey::from_bytes(public_key).map_err(|e| format!("invalid public key: {e}"))?;
    if key.is_weak() {
        return Err("weak public key: a point of small order, for which signatures can be forged".to_owned());
    }
    Ok(key)
}

/// Checks a bundle's signature against `public_key`; unsigned bundles and weak keys are
/// refused, and the signature is checked strictly (RFC 8032 with small-order R and
/// non-canonical S refused), so that no signature verifies without the secret key.
pub fn verify(bundle: &Bundle, public_key: &[u8; 32]) -> Result<(), LoadError> {
    let signature = bundle
        .signature
        .ok_or_else(|| fail(LoadErrorKind::Unsigned, 6, "the bundle is not signed, and a public key was given"))?;
    verify_signature(public_key, &bundle.digest, &signature).map_err(|error| match error {
        SignatureError::BadPublicKey(message) => fail(LoadErrorKind::BadPublicKey, 0, message),
        SignatureError::BadSignature => fail(
            LoadErrorKind::BadSignature,
            0,
            "the signature does not match the public key: the bundle was not signed by this key or was modified",
        ),
    })
}

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The public key is not a usable ed25519 key (see [`check_public_key`]); says why.
    BadPublicKey(String),
    /// The signature was not made by this key over this message.
    BadSignature,
}

/// Checks an ed25519 signature of `message` by `public_key`, with the rules bundles are
/// held to: weak keys refused, the signature checked strictly (RFC 8032 with small-order R
/// and non-canonical S refused), so that no signature verifies without the secret key.
pub fn verify_signature(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; SIGNATURE_LEN],
) -> Result<(), SignatureError> {
    let key = parse_public_key(public_key).map_err(SignatureError::BadPublicKey)?;
    key.verify_strict(message, &Signature::from_bytes(signature)).map_err(|_| SignatureError::BadSignature)
}
