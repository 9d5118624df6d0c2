//! HS256 access and refresh tokens.
//!
//! Claims: `sub` (user id), `login`, `typ` (`access` | `refresh`), `iat`,
//! `nbf`, `exp`, `jti` and `gen` (the user's token generation). Decoding
//! accepts HS256 only, with no leeway, and refuses a token of the other type.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AuthError;

/// The two kinds of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

impl std::fmt::Display for TokenType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenType::Access => "access",
            TokenType::Refresh => "refresh",
        })
    }
}

/// JWT claims of attune tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// User id, as a decimal string.
    pub sub: String,
    pub login: String,
    pub typ: TokenType,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: String,
    /// The user's token generation when the token was issued.
    pub r#gen: u64,
    /// The login session (absent in tokens made by `attune token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<u64>,
}

impl Claims {
    /// The user id in `sub`.
    pub fn user_id(&self) -> Result<u64, AuthError> {
        self.sub
            .parse()
            .map_err(|_| AuthError::InvalidToken("token subject is not a user id".into()))
    }
}

/// Signing and verification keys, built once from the secret.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

impl TokenKeys {
    /// Builds the keys from a secret (at least 32 bytes are expected).
    pub fn from_secret(secret: &[u8]) -> TokenKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// Signs claims as an HS256 JWT.
    pub fn sign(&self, claims: &Claims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AuthError::Sign(e.to_string()))
    }

    /// Issues a token of `typ` for a user, valid `ttl_secs` from now, with
    /// no session (what `attune token` makes).
    pub fn issue(
        &self,
        user_id: u64,
        login: &str,
        token_gen: u64,
        typ: TokenType,
        ttl_secs: u64,
    ) -> Result<String, AuthError> {
        self.issue_in_session(user_id, login, token_gen, typ, ttl_secs, None, None)
    }

    /// [`TokenKeys::issue`] within session `sid`, with a given `jti`.
    #[allow(clippy::too_many_arguments)]
    pub fn issue_in_session(
        &self,
        user_id: u64,
        login: &str,
        token_gen: u64,
        typ: TokenType,
        ttl_secs: u64,
        sid: Option<u64>,
        jti: Option<String>,
    ) -> Result<String, AuthError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let ttl = i64::try_from(ttl_secs).unwrap_or(i64::MAX);
        let claims = Claims {
            sub: user_id.to_string(),
            login: login.to_string(),
            typ,
            iat: now,
            nbf: now,
            exp: now.saturating_add(ttl),
            jti: match jti {
                Some(j) => j,
                None => super::random_token(16)?,
            },
            r#gen: token_gen,
            sid,
        };
        self.sign(&claims)
    }

    /// Verifies signature, algorithm, time claims and type. Does not look
    /// the user up (see `auth::authenticate`).
    pub fn decode(&self, token: &str, expected: TokenType) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::InvalidToken("token has expired".into()),
                ErrorKind::ImmatureSignature => {
                    AuthError::InvalidToken("token is not valid yet".into())
                }
                ErrorKind::InvalidSignature => {
                    AuthError::InvalidToken("token signature is invalid".into())
                }
                ErrorKind::InvalidAlgorithm => {
                    AuthError::InvalidToken("token algorithm is not accepted".into())
                }
                _ => AuthError::InvalidToken("token is malformed".into()),
            })?;
        let claims = data.claims;
        if claims.typ != expected {
            return Err(AuthError::InvalidToken(format!(
                "wrong token type: expected '{expected}', got '{}'",
                claims.typ
            )));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::from_secret(&[7u8; 32])
    }

    #[test]
    fn an_issued_token_decodes_as_its_own_type_only() {
        let keys = keys();
        let token = keys.issue(3, "alice", 1, TokenType::Access, 60).unwrap();
        let claims = keys.decode(&token, TokenType::Access).unwrap();
        assert_eq!(claims.user_id().unwrap(), 3);
        assert_eq!(claims.login, "alice");
        let err = keys.decode(&token, TokenType::Refresh).unwrap_err();
        assert_eq!(
            err.to_string(),
            "wrong token type: expected 'refresh', got 'access'"
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = TokenKeys::from_secret(&[8u8; 32]);
        let token = other.issue(1, "a", 1, TokenType::Access, 60).unwrap();
        assert!(keys().decode(&token, TokenType::Access).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let claims = Claims {
            sub: "1".into(),
            login: "a".into(),
            typ: TokenType::Access,
            iat: now - 100,
            nbf: now - 100,
            exp: now - 10,
            jti: "x".into(),
            r#gen: 1,
            sid: None,
        };
        let token = keys.sign(&claims).unwrap();
        let err = keys.decode(&token, TokenType::Access).unwrap_err();
        assert!(err.to_string().contains("expired"), "{err}");
    }
}
