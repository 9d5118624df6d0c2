//! Users, passwords and tokens: everything about who is calling.
//!
//! No HTTP here (the `AuthUser` extractor lives in `api::extract`): this
//! module hashes and checks passwords ([`password`]), issues and verifies
//! HS256 tokens ([`token`]), creates the first `admin` user, and resolves a
//! token to a live [`User`] ([`authenticate`]), refusing tokens whose user is
//! gone or whose generation predates a password change. [`ratelimit`]
//! throttles login guessing.

pub mod password;
pub mod ratelimit;
pub mod token;

use crate::store::{ApiToken, Refresh, Store, StoreError, User};

pub use crate::store::Role;
pub use password::{check_password_rules, hash_password, verify_password};
pub use token::{Claims, TokenKeys, TokenType};

/// Login name of the user created on first start.
pub const ADMIN_LOGIN: &str = "admin";

/// Errors of the auth layer.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Missing, malformed, expired, wrongly signed or revoked token.
    #[error("{0}")]
    InvalidToken(String),
    /// Unknown login or wrong password (deliberately not saying which).
    #[error("invalid login or password")]
    BadCredentials,
    /// The account exists but an admin disabled it.
    #[error("account '{0}' is disabled; ask an admin to enable it")]
    Disabled(String),
    #[error("{0}")]
    WeakPassword(String),
    /// An API token may not have a higher role than its owner.
    #[error("cannot give a token the role '{asked}': your role is '{have}'")]
    RoleTooHigh { asked: Role, have: Role },
    /// Change-password with a wrong `current_password`.
    #[error("current password is wrong")]
    WrongCurrentPassword,
    #[error("{0}")]
    InvalidLogin(String),
    #[error("cannot read random bytes from the operating system: {0}")]
    Random(String),
    #[error("cannot hash password: {0}")]
    Hash(String),
    #[error("cannot sign token: {0}")]
    Sign(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `n` random bytes, hex encoded.
pub fn random_token(n: usize) -> Result<String, AuthError> {
    Ok(hex::encode(random_bytes(n)?))
}

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, AuthError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(bytes)
}

/// A random password of 20 characters from an unambiguous alphabet.
pub fn generate_password() -> Result<String, AuthError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    // 256 % 56 != 0: rejection sampling keeps the distribution uniform.
    let limit = 256 - (256 % ALPHABET.len());
    let mut out = String::with_capacity(20);
    while out.len() < 20 {
        for b in random_bytes(32)? {
            if (b as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// Checks a login name: `^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`.
pub fn check_login(login: &str) -> Result<(), AuthError> {
    let mut chars = login.chars();
    let ok = match chars.next() {
        Some(first) => {
            first.is_ascii_alphanumeric()
                && login.len() <= 64
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '@' | '-'))
        }
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidLogin(format!(
            "invalid login '{}': use 1 to 64 letters, digits, '_', '.', '@' or '-', starting with a letter or digit",
            login.chars().take(80).collect::<String>()
        )))
    }
}

/// What first start did about the admin user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// Users already existed; nothing done.
    Existing,
    /// `admin` created with the configured password.
    CreatedWithConfiguredPassword,
    /// `admin` created with this generated password (to be shown once).
    CreatedWithGeneratedPassword(String),
}

/// On an empty users table, creates `admin` with `configured` or a generated
/// password.
pub fn ensure_admin(store: &Store, configured: Option<&str>) -> Result<AdminBootstrap, AuthError> {
    if store.user_count()? > 0 {
        return Ok(AdminBootstrap::Existing);
    }
    let (password, generated) = match configured {
        Some(p) => {
            check_password_rules(p)?;
            (p.to_string(), false)
        }
        None => (generate_password()?, true),
    };
    let hash = hash_password(&password)?;
    store.create_user(ADMIN_LOGIN, &hash)?;
    Ok(if generated {
        AdminBootstrap::CreatedWithGeneratedPassword(password)
    } else {
        AdminBootstrap::CreatedWithConfiguredPassword
    })
}

/// Checks a login and password; the same error for an unknown login and a
/// wrong password, after the same amount of hashing work.
pub fn check_credentials(store: &Store, login: &str, password: &str) -> Result<User, AuthError> {
    match store.user_by_login(login)? {
        Some(user) if verify_password(password, &user.password_hash) => {
            if user.disabled {
                return Err(AuthError::Disabled(user.login));
            }
            Ok(user)
        }
        Some(_) => Err(AuthError::BadCredentials),
        None => {
            verify_password(password, password::dummy_hash());
            Err(AuthError::BadCredentials)
        }
    }
}

/// Resolves a token of the expected type to its user: verifies it, then
/// checks the user and the session ([`session_user`]).
pub fn authenticate(
    store: &Store,
    keys: &TokenKeys,
    token: &str,
    expected: TokenType,
) -> Result<User, AuthError> {
    let claims = keys.decode(token, expected)?;
    session_user(store, &claims).map(|(user, _)| user)
}

/// The live user and session of verified claims: the user exists, has the
/// claims' generation and is enabled, and the session (none for tokens
/// made by `attune token`) has not ended.
pub fn session_user(store: &Store, claims: &Claims) -> Result<(User, Option<u64>), AuthError> {
    let user = current_user(store, claims)?;
    if let Some(sid) = claims.sid
        && !store.session_exists(sid)?
    {
        return Err(AuthError::InvalidToken(
            "session has ended (logged out); log in again".into(),
        ));
    }
    Ok((user, claims.sid))
}

/// The live user of verified claims: exists, same generation, enabled.
fn current_user(store: &Store, claims: &Claims) -> Result<User, AuthError> {
    let user = store
        .user_by_id(claims.user_id()?)?
        .ok_or_else(|| AuthError::InvalidToken("token user no longer exists".into()))?;
    if user.token_gen != claims.r#gen {
        return Err(AuthError::InvalidToken(
            "token was revoked (password, role or account change); log in again".into(),
        ));
    }
    if user.disabled {
        return Err(AuthError::Disabled(user.login));
    }
    Ok(user)
}

/// Token lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenTtls {
    pub access: u64,
    pub refresh: u64,
}

/// An access + refresh token pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: u64,
}

/// Issues a pair for a user in session `sid`, whose refresh token gets
/// `refresh_jti`.
fn issue_pair_in(
    keys: &TokenKeys,
    user: &User,
    ttls: TokenTtls,
    sid: u64,
    refresh_jti: &str,
) -> Result<TokenPair, AuthError> {
    Ok(TokenPair {
        access_token: keys.issue_in_session(
            user.id,
            &user.login,
            user.token_gen,
            TokenType::Access,
            ttls.access,
            Some(sid),
            None,
        )?,
        refresh_token: keys.issue_in_session(
            user.id,
            &user.login,
            user.token_gen,
            TokenType::Refresh,
            ttls.refresh,
            Some(sid),
            Some(refresh_jti.to_string()),
        )?,
        expires_in: ttls.access,
    })
}

/// Starts a login session for a user and issues its first pair.
pub fn start_session(
    store: &Store,
    keys: &TokenKeys,
    user: &User,
    ttls: TokenTtls,
) -> Result<TokenPair, AuthError> {
    let jti = random_token(16)?;
    let ttl = i64::try_from(ttls.refresh).unwrap_or(i64::MAX / 2);
    let expires = time::OffsetDateTime::now_utc()
        .checked_add(time::Duration::seconds(ttl))
        .unwrap_or(time::OffsetDateTime::now_utc() + time::Duration::days(36500));
    match store.create_session(user.id, &jti, expires) {
        Ok(session) => issue_pair_in(keys, user, ttls, session.id, &jti),
        // A full disk (or a failed database) must not lock people out:
        // the pair is then tied to no stored session, like the tokens of
        // `attune token`. Its refresh token is refused ("no session"), so
        // the login lasts one access-token lifetime; a password change
        // still revokes it.
        Err(e @ (StoreError::DiskFull | StoreError::Unavailable(_))) => {
            tracing::warn!(user = %user.login, error = %e,
                "login without a stored session: the database refuses writes");
            Ok(TokenPair {
                access_token: keys.issue_in_session(
                    user.id,
                    &user.login,
                    user.token_gen,
                    TokenType::Access,
                    ttls.access,
                    None,
                    None,
                )?,
                refresh_token: keys.issue_in_session(
                    user.id,
                    &user.login,
                    user.token_gen,
                    TokenType::Refresh,
                    ttls.refresh,
                    None,
                    Some(jti),
                )?,
                expires_in: ttls.access,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Exchanges a refresh token for a new pair (rotation): the refresh token
/// used stops working; using it again (a replay: someone else has it) ends
/// the whole session, so neither party can go on with it.
pub fn refresh_session(
    store: &Store,
    keys: &TokenKeys,
    refresh_token: &str,
    ttls: TokenTtls,
) -> Result<TokenPair, AuthError> {
    let claims = keys.decode(refresh_token, TokenType::Refresh)?;
    let user = current_user(store, &claims)?;
    let Some(sid) = claims.sid else {
        return Err(AuthError::InvalidToken(
            "refresh token has no session; log in again".into(),
        ));
    };
    let new_jti = random_token(16)?;
    match store.refresh_session(sid, &claims.jti, &new_jti)? {
        Refresh::Rotated(_) => issue_pair_in(keys, &user, ttls, sid, &new_jti),
        Refresh::Replayed => {
            tracing::warn!(user = %user.login, session = sid,
                "a used refresh token was presented again; the session was ended");
            Err(AuthError::InvalidToken(
                "refresh token was already used; the session was ended for safety, log in again"
                    .into(),
            ))
        }
        Refresh::Gone => Err(AuthError::InvalidToken(
            "session has ended (logged out or replaced); log in again".into(),
        )),
    }
}

/// Prefix of API tokens.
pub const API_TOKEN_PREFIX: &str = "att_";

/// Hex SHA-256 of an API token's secret: what the store keeps.
pub fn api_token_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Makes an API token for `owner` with at most the owner's role; returns
/// the secret (shown once) and the stored record.
pub fn issue_api_token(
    store: &Store,
    owner: &User,
    name: &str,
    role: Role,
    expires: Option<time::OffsetDateTime>,
) -> Result<(String, ApiToken), AuthError> {
    if role > owner.role {
        return Err(AuthError::RoleTooHigh {
            asked: role,
            have: owner.role,
        });
    }
    let secret = format!("{API_TOKEN_PREFIX}{}", random_token(32)?);
    let record = store.create_api_token(
        owner.id,
        owner.token_gen,
        name,
        role,
        &api_token_hash(&secret),
        expires,
    )?;
    Ok((secret, record))
}

/// Resolves an API token to its owner and the role it acts with: the
/// lower of the token's role and the owner's current role.
pub fn authenticate_api_token(
    store: &Store,
    secret: &str,
) -> Result<(User, Role, ApiToken), AuthError> {
    let Some(token) = store.api_token_by_hash(&api_token_hash(secret))? else {
        return Err(AuthError::InvalidToken(
            "API token is unknown or was revoked".into(),
        ));
    };
    let now = time::OffsetDateTime::now_utc();
    if token.expires.is_some_and(|e| e <= now) {
        return Err(AuthError::InvalidToken("API token has expired".into()));
    }
    let user = store
        .user_by_id(token.user_id)?
        .ok_or_else(|| AuthError::InvalidToken("API token owner no longer exists".into()))?;
    if user.token_gen != token.user_gen {
        return Err(AuthError::InvalidToken(
            "API token was revoked by a change to its owner (password, role or account)".into(),
        ));
    }
    if user.disabled {
        return Err(AuthError::Disabled(user.login));
    }
    store.touch_api_token(&token, now)?;
    let role = token.role.min(user.role);
    Ok((user, role, token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        check_password_rules(&a).unwrap();
    }

    #[test]
    fn logins_are_checked() {
        for ok in ["admin", "a", "ops.bot-1@site"] {
            check_login(ok).unwrap();
        }
        for bad in ["", ".x", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_login(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_first_start_creates_admin_once_and_a_password_change_revokes_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            ensure_admin(&store, Some("s3cret-pass")).unwrap(),
            AdminBootstrap::CreatedWithConfiguredPassword
        );
        assert_eq!(
            ensure_admin(&store, None).unwrap(),
            AdminBootstrap::Existing
        );
        let admin = check_credentials(&store, "admin", "s3cret-pass").unwrap();
        assert!(matches!(
            check_credentials(&store, "admin", "nope-nope"),
            Err(AuthError::BadCredentials)
        ));
        assert!(matches!(
            check_credentials(&store, "ghost", "s3cret-pass"),
            Err(AuthError::BadCredentials)
        ));

        let keys = TokenKeys::from_secret(&[1u8; 32]);
        let ttls = TokenTtls {
            access: 60,
            refresh: 120,
        };
        let pair = start_session(&store, &keys, &admin, ttls).unwrap();
        authenticate(&store, &keys, &pair.access_token, TokenType::Access).unwrap();
        store.set_password(admin.id, "x").unwrap();
        let err = authenticate(&store, &keys, &pair.access_token, TokenType::Access).unwrap_err();
        assert!(err.to_string().contains("revoked"), "{err}");
    }
}
