//! Signing key files: an ed25519 secret key is 32 bytes written as 64 hex digits and a
//! newline (mode 0600 on unix); its public key goes next to it in `KEYFILE.pub`, in the
//! same form. Reading accepts surrounding whitespace and either case, and refuses weak
//! (small-order) public keys.

use crate::load;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A fresh secret key from the operating system's random source.
pub fn generate() -> Result<[u8; 32], String> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| format!("cannot get random bytes from the operating system: {e}"))?;
    Ok(secret)
}

/// Where the public key of the secret key file `secret` goes: `secret` with `.pub`
/// appended to its name.
pub fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `text` to a new file readable only by its owner (on unix), or over an existing
/// one if `overwrite`.
fn write_private(path: &Path, text: &str, overwrite: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if overwrite {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // An existing file keeps its mode when opened: narrow it before writing the secret.
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

/// Writes the secret key to `path` (refusing to replace a file unless `overwrite`) and its
/// public key to [`public_path`]; returns the public key.
pub fn write_pair(path: &Path, secret: &[u8; 32], overwrite: bool) -> Result<[u8; 32], String> {
    let public = gov_vm::bundle::public_key(secret);
    let public_file = public_path(path);
    if !overwrite {
        for existing in [path, public_file.as_path()] {
            if existing.exists() {
                return Err(format!("`{}` already exists; pass --force to replace it", load::display(existing)));
            }
        }
    }
    write_private(path, &format!("{}\n", hex(secret)), overwrite)
        .map_err(|e| format!("cannot write `{}`: {e}", load::display(path)))?;
    std::fs::write(&public_file, format!("{}\n", hex(&public)))
        .map_err(|e| format!("cannot write `{}`: {e}", load::display(&public_file)))?;
    Ok(public)
}

/// Reads a 32-byte key written as 64 hex digits; `what` names it in errors.
fn read_key(path: &Path, what: &str) -> Result<[u8; 32], String> {
    let shown = load::display(path);
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {what} `{shown}`: {e}"))?;
    parse_hex(text.trim()).ok_or_else(|| {
        format!("`{shown}` is not an ed25519 {what}: expected 64 hexadecimal digits (as `govc keygen` writes)")
    })
}

/// 32 bytes from exactly 64 hex digits.
fn parse_hex(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(out)
}

/// Reads a secret key file.
pub fn read_secret(path: &Path) -> Result<[u8; 32], String> {
    read_key(path, "secret key")
}

/// Reads a public key file, refusing a key no signature check can rely on (not a curve
/// point, or a weak key of small order).
pub fn read_public(path: &Path) -> Result<[u8; 32], String> {
    let key = read_key(path, "public key")?;
    gov_vm::bundle::check_public_key(&key).map_err(|problem| format!("`{}`: {problem}", load::display(path)))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37) as u8);
        assert_eq!(parse_hex(&hex(&bytes)), Some(bytes));
        assert_eq!(parse_hex(&hex(&bytes).to_uppercase()), Some(bytes));
        assert_eq!(parse_hex("00"), None);
        assert_eq!(parse_hex(&"zz".repeat(32)), None);
        assert_eq!(parse_hex(&"é".repeat(32)), None);
        assert_eq!(parse_hex(&"+1".repeat(32)), None, "from_str_radix accepts a sign; a key does not");
    }

    #[test]
    fn public_key_file_sits_next_to_the_secret() {
        assert_eq!(public_path(Path::new("keys/release.key")), PathBuf::from("keys/release.key.pub"));
    }
}
