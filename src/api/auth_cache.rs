//! Recently authenticated bearer tokens, so that a client's run of requests
//! costs one store lookup, not one per request.
//!
//! An entry is the [`Caller`] a token authenticated as, keyed by the
//! SHA-256 of the token (the token itself is not kept). It answers only
//! while all of these hold:
//!
//! - the store's write epoch is the one read *before* the lookup that made
//!   the entry: any commit since — a logout, a revoked or expired-by-admin
//!   token, a role, password or account change, but also any other write —
//!   ends every entry at once, so nothing the store says about a token is
//!   ever answered stale;
//! - the token's own expiry (`exp` of an access token, `expires` of an API
//!   token) has not passed;
//! - the entry is younger than [`MAX_AGE`], a bound that does not depend on
//!   the epoch being right.
//!
//! Failed authentications are not cached. The map holds at most
//! [`MAX_ENTRIES`]; when full it is emptied (a burst of new tokens costs
//! lookups, never memory).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::Digest;

use super::extract::Caller;

/// Most entries kept.
pub const MAX_ENTRIES: usize = 4096;
/// Longest an entry answers, whatever the epoch says.
pub const MAX_AGE: Duration = Duration::from_secs(10);

/// The cache key of a bearer token.
pub type TokenKey = [u8; 32];

/// The key of `token`.
pub fn key_of(token: &str) -> TokenKey {
    sha2::Sha256::digest(token.as_bytes()).into()
}

#[derive(Debug)]
struct Entry {
    epoch: u64,
    /// Unix seconds at which the token itself expires.
    expires: i64,
    made: Instant,
    caller: Caller,
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct AuthCache {
    entries: Mutex<HashMap<TokenKey, Entry>>,
}

impl AuthCache {
    /// The caller `key` authenticated as, if the entry still answers at
    /// store epoch `epoch`.
    pub fn get(&self, key: &TokenKey, epoch: u64) -> Option<Caller> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get(key)?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if entry.epoch == epoch && now < entry.expires && entry.made.elapsed() < MAX_AGE {
            return Some(entry.caller.clone());
        }
        entries.remove(key);
        None
    }

    /// Keeps `caller` for `key`, authenticated from the store as it was at
    /// `epoch` (read before the lookup); the token expires at `expires`
    /// (Unix seconds).
    pub fn put(&self, key: TokenKey, epoch: u64, expires: i64, caller: Caller) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                epoch,
                expires,
                made: Instant::now(),
                caller,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::store::User;

    fn caller(login: &str) -> Caller {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        Caller {
            user: User {
                id: 1,
                login: login.into(),
                password_hash: String::new(),
                token_gen: 0,
                role: Role::Viewer,
                disabled: false,
                created: at,
                updated: at,
            },
            role: Role::Viewer,
            session: Some(1),
            api_token: None,
        }
    }

    fn len(cache: &AuthCache) -> usize {
        cache.entries.lock().unwrap().len()
    }

    fn far() -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp() + 3600
    }

    #[test]
    fn an_entry_answers_only_at_its_epoch_and_before_its_expiry() {
        let cache = AuthCache::default();
        let k = key_of("t1");
        cache.put(k, 7, far(), caller("alice"));
        assert_eq!(cache.get(&k, 7).map(|c| c.user.login), Some("alice".into()));
        assert!(cache.get(&key_of("t2"), 7).is_none(), "another token");
        assert!(cache.get(&k, 8).is_none(), "a write since");
        assert!(cache.get(&k, 7).is_none(), "a stale entry is dropped");

        let past = time::OffsetDateTime::now_utc().unix_timestamp() - 1;
        cache.put(k, 7, past, caller("alice"));
        assert!(cache.get(&k, 7).is_none(), "the token expired");
    }

    #[test]
    fn a_full_cache_starts_over_instead_of_growing() {
        let cache = AuthCache::default();
        for i in 0..MAX_ENTRIES {
            cache.put(key_of(&i.to_string()), 1, far(), caller("a"));
        }
        assert_eq!(len(&cache), MAX_ENTRIES);
        cache.put(key_of("one more"), 1, far(), caller("b"));
        assert_eq!(len(&cache), 1);
        assert!(cache.get(&key_of("one more"), 1).is_some());
    }
}
