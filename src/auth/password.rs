//! Password hashing with argon2id (default parameters) and password rules.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use super::AuthError;

// The rule itself lives in `config`, which checks `admin_password` with it
// and sits below `auth` in the code map.
pub use crate::config::{MAX_PASSWORD_BYTES, MIN_PASSWORD_LEN};

/// Checks the password rules; the message says what to do.
pub fn check_password_rules(password: &str) -> Result<(), AuthError> {
    match crate::config::password_problem(password) {
        Some(problem) => Err(AuthError::WeakPassword(problem)),
        None => Ok(()),
    }
}

/// Hashes a password into a PHC string (argon2id, random salt).
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Verifies a password against a PHC string. A malformed hash verifies
/// nothing.
pub fn verify_password(password: &str, hash: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a random password, verified against when the login does not
/// exist so that unknown and known logins take the same time.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let random = super::random_token(16).unwrap_or_else(|_| "attune-dummy-password".into());
        hash_password(&random).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn short_passwords_are_refused_with_a_hint() {
        let err = check_password_rules("short").unwrap_err();
        assert!(err.to_string().contains("at least 8 characters"), "{err}");
        check_password_rules("long enough").unwrap();
    }
}
