//! Who is calling: bearer tokens from a file, stored as their sha256, each with a name and
//! scopes; or, without a token file, any loopback caller as the local administrator.
//!
//! The token file is JSON: `{"tokens": [{"name": "uma", "sha256": "<64 hex digits>",
//! "scopes": ["approve"]}]}`. The name is the caller's identity: the person an approval is
//! recorded for, and whose groups (the policy's `approver` facts) the queue shows.

use crate::error::ApiError;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

/// What a caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Ask for decisions and read them.
    Decide,
    /// Answer escalations for the caller's groups, and read decisions.
    Approve,
    /// Everything: every group's queue, metrics.
    Admin,
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name; `None` for the local administrator (no token file), who names
    /// the person an approval is for.
    pub name: Option<String>,
    /// The scopes; `Admin` implies the others.
    pub scopes: Vec<Scope>,
}

impl Caller {
    /// Whether the caller holds `scope` (an administrator holds them all).
    pub fn may(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope) || self.scopes.contains(&Scope::Admin)
    }

    /// The caller, or 403 `forbidden` without `scope`.
    pub fn require(&self, scope: Scope) -> Result<&Caller, ApiError> {
        if self.may(scope) {
            Ok(self)
        } else {
            let scope = match scope {
                Scope::Decide => "decide",
                Scope::Approve => "approve",
                Scope::Admin => "admin",
            };
            Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", format!("this needs the `{scope}` scope")))
        }
    }
}

/// One entry of the token file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    name: String,
    sha256: String,
    scopes: Vec<Scope>,
}

/// The token file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenFile {
    tokens: Vec<TokenEntry>,
}

/// How callers are authenticated.
#[derive(Debug, Clone)]
pub enum Auth {
    /// By bearer token: the tokens' sha256 → caller.
    Tokens(HashMap<[u8; 32], Caller>),
    /// No token file: loopback callers only, each the local administrator.
    LoopbackOnly,
}

/// The name of the cookie the inbox page keeps the caller's token in (or, without a token
/// file, the name the local administrator acts as).
pub const COOKIE: &str = "gov_token";

impl Auth {
    /// Reads a token file.
    pub fn from_file(path: &Path) -> Result<Auth, String> {
        let shown = gov_driver::load::display(path);
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the token file `{shown}`: {e}"))?;
        Auth::from_json(&text).map_err(|e| format!("`{shown}`: {e}"))
    }

    /// Reads the token file's text.
    pub fn from_json(text: &str) -> Result<Auth, String> {
        let file: TokenFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut tokens = HashMap::new();
        for (i, entry) in file.tokens.into_iter().enumerate() {
            let hash =
                parse_hash(&entry.sha256).ok_or_else(|| format!("tokens[{i}].sha256: expected 64 hex digits"))?;
            if entry.name.is_empty() {
                return Err(format!("tokens[{i}].name: a token needs a name"));
            }
            if entry.scopes.is_empty() {
                return Err(format!("tokens[{i}].scopes: a token needs at least one scope"));
            }
            let caller = Caller { name: Some(entry.name), scopes: entry.scopes };
            if tokens.insert(hash, caller).is_some() {
                return Err(format!("tokens[{i}].sha256: the same token is listed twice"));
            }
        }
        Ok(Auth::Tokens(tokens))
    }

    /// The caller of a request from `peer` with `headers`: by `Authorization: Bearer` or
    /// the inbox's cookie. 401 `unauthorized` without a valid token; 403 `loopback_only`
    /// from another host when there is no token file.
    pub fn caller(&self, headers: &HeaderMap, peer: SocketAddr) -> Result<Caller, ApiError> {
        match self {
            Auth::LoopbackOnly if peer.ip().is_loopback() => Ok(Caller { name: None, scopes: vec![Scope::Admin] }),
            Auth::LoopbackOnly => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "loopback_only",
                "without --tokens the service answers only callers on this machine",
            )),
            Auth::Tokens(tokens) => {
                let token = bearer(headers).or_else(|| cookie(headers, COOKIE)).ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "send `Authorization: Bearer <token>`")
                })?;
                tokens
                    .get(&hash_token(&token))
                    .cloned()
                    .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown token"))
            }
        }
    }
}

/// The sha256 of a token, as the token file stores it.
pub fn hash_token(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// 64 hex digits as 32 bytes.
fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// The token of an `Authorization: Bearer` header.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// The value of the cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| percent_decode(value))
    })
}

/// Decodes `%XX` escapes (the inbox writes the cookie percent-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes every byte but unreserved ones as `%XX`, for a cookie value.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_values_round_trip_through_percent_encoding() {
        let encoded = percent_encode("tok en;=%");
        assert_eq!(percent_decode(&encoded), "tok en;=%");
    }

    #[test]
    fn a_token_file_with_a_short_hash_names_the_entry() {
        let error =
            Auth::from_json(r#"{"tokens": [{"name": "a", "sha256": "ab", "scopes": ["decide"]}]}"#).unwrap_err();
        assert_eq!(error, "tokens[0].sha256: expected 64 hex digits");
    }
}
