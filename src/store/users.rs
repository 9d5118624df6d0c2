//! Users: records by id plus a login → id index.

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Store, StoreError, codec, next_id, tables};

const TABLE: &str = "users";

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub login: String,
    /// PHC string of the password hash (argon2id).
    pub password_hash: String,
    /// Token generation: tokens carry it; bumping it revokes earlier tokens.
    pub token_gen: u64,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp")]
    pub updated: OffsetDateTime,
}

impl Store {
    /// Number of users.
    pub fn user_count(&self) -> Result<u64, StoreError> {
        let txn = self.db().begin_read()?;
        Ok(txn.open_table(tables::USERS)?.len()?)
    }

    /// Creates a user; `Conflict` when the login is taken.
    pub fn create_user(&self, login: &str, password_hash: &str) -> Result<User, StoreError> {
        let txn = self.db().begin_write()?;
        let user = {
            let mut by_login = txn.open_table(tables::USERS_BY_LOGIN)?;
            if by_login.get(login)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "user '{login}' already exists"
                )));
            }
            let now = OffsetDateTime::now_utc();
            let user = User {
                id: next_id(&txn, TABLE)?,
                login: login.to_string(),
                password_hash: password_hash.to_string(),
                token_gen: 1,
                created: now,
                updated: now,
            };
            let bytes = codec::encode(TABLE, &user)?;
            txn.open_table(tables::USERS)?
                .insert(user.id, bytes.as_slice())?;
            by_login.insert(login, user.id)?;
            user
        };
        txn.commit()?;
        Ok(user)
    }

    /// Looks a user up by id.
    pub fn user_by_id(&self, id: u64) -> Result<Option<User>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::USERS)?;
        let Some(bytes) = table.get(id)? else {
            return Ok(None);
        };
        codec::decode(TABLE, bytes.value()).map(Some)
    }

    /// Looks a user up by login.
    pub fn user_by_login(&self, login: &str) -> Result<Option<User>, StoreError> {
        let id = {
            let txn = self.db().begin_read()?;
            let index = txn.open_table(tables::USERS_BY_LOGIN)?;
            match index.get(login)? {
                Some(id) => id.value(),
                None => return Ok(None),
            }
        };
        self.user_by_id(id)
    }

    /// Every user, by id.
    pub fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::USERS)?;
        let mut users = Vec::new();
        for entry in table.iter()? {
            let (_, bytes) = entry?;
            users.push(codec::decode(TABLE, bytes.value())?);
        }
        Ok(users)
    }

    /// Deletes a user by login (their tokens stop working: authentication
    /// looks the user up, and ids are never reused). `NotFound` for an
    /// unknown login; `Conflict` for the last user, which would leave no
    /// way to log in.
    pub fn delete_user(&self, login: &str) -> Result<User, StoreError> {
        let txn = self.db().begin_write()?;
        let user = {
            let mut by_login = txn.open_table(tables::USERS_BY_LOGIN)?;
            let Some(id) = by_login.get(login)?.map(|v| v.value()) else {
                return Err(StoreError::NotFound(format!("no user '{login}'")));
            };
            let mut users = txn.open_table(tables::USERS)?;
            if users.len()? <= 1 {
                return Err(StoreError::Conflict(format!(
                    "'{login}' is the last user; add another user before deleting it"
                )));
            }
            let user: User = match users.remove(id)? {
                Some(bytes) => codec::decode(TABLE, bytes.value())?,
                None => return Err(StoreError::NotFound(format!("no user '{login}'"))),
            };
            by_login.remove(login)?;
            user
        };
        txn.commit()?;
        Ok(user)
    }

    /// Replaces a user's password hash and bumps the token generation, so
    /// every token issued before is refused. Returns the updated user.
    pub fn set_password(&self, id: u64, password_hash: &str) -> Result<User, StoreError> {
        let txn = self.db().begin_write()?;
        let user = {
            let mut table = txn.open_table(tables::USERS)?;
            let mut user: User = match table.get(id)? {
                Some(bytes) => codec::decode(TABLE, bytes.value())?,
                None => return Err(StoreError::NotFound(format!("user {id} not found"))),
            };
            user.password_hash = password_hash.to_string();
            user.token_gen += 1;
            user.updated = OffsetDateTime::now_utc();
            let bytes = codec::encode(TABLE, &user)?;
            table.insert(id, bytes.as_slice())?;
            user
        };
        txn.commit()?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_listed_by_id_and_the_last_one_cannot_be_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_user("alice", "h1").unwrap();
        store.create_user("bob", "h2").unwrap();
        let logins: Vec<_> = store
            .list_users()
            .unwrap()
            .into_iter()
            .map(|u| u.login)
            .collect();
        assert_eq!(logins, ["alice", "bob"]);
        assert!(matches!(
            store.delete_user("carol"),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(store.delete_user("alice").unwrap().login, "alice");
        assert!(store.user_by_login("alice").unwrap().is_none());
        let err = store.delete_user("bob").unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.user_count().unwrap(), 1);
        // a new user never takes a deleted user's id
        assert!(store.create_user("alice", "h3").unwrap().id > 2);
    }

    #[test]
    fn a_login_is_unique_and_set_password_bumps_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.user_count().unwrap(), 0);
        let alice = store.create_user("alice", "h1").unwrap();
        assert!(matches!(
            store.create_user("alice", "h2"),
            Err(StoreError::Conflict(_))
        ));
        let bob = store.create_user("bob", "h3").unwrap();
        assert_ne!(alice.id, bob.id);
        let updated = store.set_password(alice.id, "h4").unwrap();
        assert_eq!(updated.token_gen, alice.token_gen + 1);
        assert_eq!(
            store.user_by_login("alice").unwrap().unwrap().password_hash,
            "h4"
        );
        assert!(store.user_by_login("carol").unwrap().is_none());
        assert!(matches!(
            store.set_password(999, "x"),
            Err(StoreError::NotFound(_))
        ));
    }
}
