//! API tokens (for scripts) and login sessions.
//!
//! An API token is stored only as the SHA-256 of its secret (the index
//! `api_token_hashes` maps that hash to the token's id); its record keeps
//! the owner, the role it was given, the owner's token generation when it
//! was made (a later password, role or account change revokes it), the
//! expiry and when it was last used. A session is what a login starts: the
//! refresh token carries the session id and a one-time id (`jti`); each
//! refresh replaces the session's current `jti`, and a refresh token whose
//! `jti` is not the current one is a replay, which ends the session.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Role, Store, StoreError, codec, next_id, tables};

const TOKENS: &str = "api_tokens";
const SESSIONS: &str = "sessions";

/// `last_used` is written at most this often per token (seconds), so a
/// busy script does not turn every request into a write.
pub const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// An API token as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: u64,
    pub user_id: u64,
    pub name: String,
    pub role: Role,
    /// The owner's token generation when the token was made.
    pub user_gen: u64,
    /// Hex SHA-256 of the secret.
    pub hash: String,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp_opt")]
    pub expires: Option<OffsetDateTime>,
    #[serde(with = "codec::timestamp_opt")]
    pub last_used: Option<OffsetDateTime>,
}

/// A login session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id: u64,
    pub user_id: u64,
    /// The `jti` of the one refresh token that may be used next.
    pub refresh_jti: String,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp")]
    pub expires: OffsetDateTime,
}

/// What a refresh found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    /// The session now expects `new_jti`.
    Rotated(Session),
    /// The refresh token was already used: the session was ended.
    Replayed,
    /// No such session (logged out, replayed before, or expired).
    Gone,
}

impl Store {
    /// Stores a new API token; returns it.
    pub fn create_api_token(
        &self,
        user_id: u64,
        user_gen: u64,
        name: &str,
        role: Role,
        hash: &str,
        expires: Option<OffsetDateTime>,
    ) -> Result<ApiToken, StoreError> {
        let txn = self.db().begin_write()?;
        let token = {
            let mut tokens = txn.open_table(tables::API_TOKENS)?;
            let mut hashes = txn.open_table(tables::API_TOKEN_HASHES)?;
            let token = ApiToken {
                id: next_id(&txn, TOKENS)?,
                user_id,
                name: name.to_string(),
                role,
                user_gen,
                hash: hash.to_string(),
                created: OffsetDateTime::now_utc(),
                expires,
                last_used: None,
            };
            let bytes = codec::encode(TOKENS, &token)?;
            tokens.insert(token.id, bytes.as_slice())?;
            hashes.insert(hash, token.id)?;
            token
        };
        txn.commit()?;
        Ok(token)
    }

    /// The API token whose secret hashes to `hash`.
    pub fn api_token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let txn = self.db().begin_read()?;
        let Some(id) = txn
            .open_table(tables::API_TOKEN_HASHES)?
            .get(hash)?
            .map(|v| v.value())
        else {
            return Ok(None);
        };
        let tokens = txn.open_table(tables::API_TOKENS)?;
        match tokens.get(id)? {
            Some(bytes) => codec::decode(TOKENS, bytes.value()).map(Some),
            None => Ok(None),
        }
    }

    /// Records a use of a token (when the last one is older than
    /// [`LAST_USED_RESOLUTION_SECS`]).
    pub fn touch_api_token(&self, token: &ApiToken, now: OffsetDateTime) -> Result<(), StoreError> {
        if token
            .last_used
            .is_some_and(|t| (now - t).whole_seconds() < LAST_USED_RESOLUTION_SECS)
        {
            return Ok(());
        }
        let txn = self.db().begin_write()?;
        {
            let mut tokens = txn.open_table(tables::API_TOKENS)?;
            let current = match tokens.get(token.id)? {
                Some(bytes) => Some(codec::decode::<ApiToken>(TOKENS, bytes.value())?),
                None => None,
            };
            if let Some(mut current) = current {
                current.last_used = Some(now);
                let bytes = codec::encode(TOKENS, &current)?;
                tokens.insert(current.id, bytes.as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// API tokens of one user (`Some`) or of everyone, by id.
    pub fn list_api_tokens(&self, user_id: Option<u64>) -> Result<Vec<ApiToken>, StoreError> {
        let txn = self.db().begin_read()?;
        let tokens = txn.open_table(tables::API_TOKENS)?;
        let mut out = Vec::new();
        for entry in tokens.iter()? {
            let (_, bytes) = entry?;
            let token: ApiToken = codec::decode(TOKENS, bytes.value())?;
            if user_id.is_none_or(|u| u == token.user_id) {
                out.push(token);
            }
        }
        Ok(out)
    }

    /// Deletes an API token; `owner` restricts it to that user's tokens
    /// (another user's token is `NotFound`, as if it did not exist).
    pub fn revoke_api_token(&self, id: u64, owner: Option<u64>) -> Result<ApiToken, StoreError> {
        let txn = self.db().begin_write()?;
        let token = {
            let mut tokens = txn.open_table(tables::API_TOKENS)?;
            let token: ApiToken = match tokens.get(id)? {
                Some(bytes) => codec::decode(TOKENS, bytes.value())?,
                None => return Err(StoreError::NotFound(format!("no API token {id}"))),
            };
            if owner.is_some_and(|o| o != token.user_id) {
                return Err(StoreError::NotFound(format!("no API token {id}")));
            }
            tokens.remove(id)?;
            txn.open_table(tables::API_TOKEN_HASHES)?
                .remove(token.hash.as_str())?;
            token
        };
        txn.commit()?;
        Ok(token)
    }

    /// Starts a session whose first refresh token has `jti`; drops the
    /// user's expired sessions on the way.
    pub fn create_session(
        &self,
        user_id: u64,
        jti: &str,
        expires: OffsetDateTime,
    ) -> Result<Session, StoreError> {
        let txn = self.db().begin_write()?;
        let session = {
            let mut sessions = txn.open_table(tables::SESSIONS)?;
            let now = OffsetDateTime::now_utc();
            let mut expired = Vec::new();
            for entry in sessions.iter()? {
                let (id, bytes) = entry?;
                let s: Session = codec::decode(SESSIONS, bytes.value())?;
                if s.user_id == user_id && s.expires <= now {
                    expired.push(id.value());
                }
            }
            for id in expired {
                sessions.remove(id)?;
            }
            let session = Session {
                id: next_id(&txn, SESSIONS)?,
                user_id,
                refresh_jti: jti.to_string(),
                created: now,
                expires,
            };
            let bytes = codec::encode(SESSIONS, &session)?;
            sessions.insert(session.id, bytes.as_slice())?;
            session
        };
        txn.commit()?;
        Ok(session)
    }

    /// Whether session `id` exists (not logged out, not ended by a replay).
    pub fn session_exists(&self, id: u64) -> Result<bool, StoreError> {
        let txn = self.db().begin_read()?;
        Ok(txn.open_table(tables::SESSIONS)?.get(id)?.is_some())
    }

    /// Uses refresh token `jti` of session `id`: rotates to `new_jti` when
    /// it is the current one, ends the session when it is an older one.
    pub fn refresh_session(
        &self,
        id: u64,
        jti: &str,
        new_jti: &str,
    ) -> Result<Refresh, StoreError> {
        let txn = self.db().begin_write()?;
        let outcome = {
            let mut sessions = txn.open_table(tables::SESSIONS)?;
            let current: Option<Session> = match sessions.get(id)? {
                Some(bytes) => Some(codec::decode(SESSIONS, bytes.value())?),
                None => None,
            };
            match current {
                None => Refresh::Gone,
                Some(s) if s.refresh_jti != jti => {
                    sessions.remove(id)?;
                    Refresh::Replayed
                }
                Some(mut s) => {
                    s.refresh_jti = new_jti.to_string();
                    let bytes = codec::encode(SESSIONS, &s)?;
                    sessions.insert(id, bytes.as_slice())?;
                    Refresh::Rotated(s)
                }
            }
        };
        txn.commit()?;
        Ok(outcome)
    }

    /// Ends a session (logout); `false` when it was already gone.
    pub fn end_session(&self, id: u64) -> Result<bool, StoreError> {
        let txn = self.db().begin_write()?;
        let existed = txn.open_table(tables::SESSIONS)?.remove(id)?.is_some();
        txn.commit()?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refresh_rotates_and_a_replay_ends_the_session() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let later = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let s = store.create_session(1, "a", later).unwrap();
        assert!(matches!(
            store.refresh_session(s.id, "a", "b").unwrap(),
            Refresh::Rotated(_)
        ));
        assert_eq!(
            store.refresh_session(s.id, "a", "c").unwrap(),
            Refresh::Replayed
        );
        assert!(!store.session_exists(s.id).unwrap());
        assert_eq!(
            store.refresh_session(s.id, "b", "d").unwrap(),
            Refresh::Gone
        );
    }

    #[test]
    fn api_tokens_are_found_by_hash_and_revoked_by_their_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = store
            .create_api_token(1, 1, "ci", Role::Viewer, "abc", None)
            .unwrap();
        assert_eq!(store.api_token_by_hash("abc").unwrap().unwrap().id, t.id);
        assert!(matches!(
            store.revoke_api_token(t.id, Some(2)),
            Err(StoreError::NotFound(_))
        ));
        store.revoke_api_token(t.id, Some(1)).unwrap();
        assert!(store.api_token_by_hash("abc").unwrap().is_none());
    }
}
