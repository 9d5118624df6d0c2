//! Users: records by id plus a login → id index.
//!
//! A user has a role (`viewer`, `operator`, `admin`) and may be disabled.
//! The first user created is `admin`; later ones default to `operator`.
//! The last enabled admin can be neither deleted, disabled nor demoted
//! (`Conflict`), checked inside the write transaction of the change. A
//! change of role, of `disabled` or of the password bumps the token
//! generation, which revokes every token issued before.

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Role, Store, StoreError, codec, next_id, tables};

const TABLE: &str = "users";

/// Format version of user records (2: `role` and `disabled` added by
/// schema version 2; `migrate` converts version-1 records).
pub const USER_FORMAT: u8 = 2;

/// A user account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: u64,
    pub login: String,
    /// PHC string of the password hash (argon2id).
    pub password_hash: String,
    /// Token generation: tokens carry it; bumping it revokes earlier tokens.
    pub token_gen: u64,
    pub role: Role,
    /// A disabled user cannot log in and their tokens are refused.
    pub disabled: bool,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp")]
    pub updated: OffsetDateTime,
}

/// A change to a user (`None` leaves the field as it is).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

pub(crate) fn encode_user(user: &User) -> Result<Vec<u8>, StoreError> {
    codec::encode_v(TABLE, USER_FORMAT, user)
}

pub(crate) fn decode_user(bytes: &[u8]) -> Result<User, StoreError> {
    codec::decode_v(TABLE, USER_FORMAT, bytes)
}

/// Whether a user other than `except` is an enabled admin.
fn another_enabled_admin(
    users: &impl ReadableTable<u64, &'static [u8]>,
    except: u64,
) -> Result<bool, StoreError> {
    for entry in users.iter()? {
        let (id, bytes) = entry?;
        if id.value() == except {
            continue;
        }
        let user = decode_user(bytes.value())?;
        if user.role == Role::Admin && !user.disabled {
            return Ok(true);
        }
    }
    Ok(false)
}

impl Store {
    /// Number of users.
    pub fn user_count(&self) -> Result<u64, StoreError> {
        let txn = self.db().begin_read()?;
        Ok(txn.open_table(tables::USERS)?.len()?)
    }

    /// Creates a user: `admin` when it is the first user, `operator`
    /// otherwise. `Conflict` when the login is taken.
    pub fn create_user(&self, login: &str, password_hash: &str) -> Result<User, StoreError> {
        self.create_user_as(login, password_hash, None)
    }

    /// Creates a user with `role` (`None`: admin for the first user,
    /// operator otherwise). `Conflict` when the login is taken.
    pub fn create_user_as(
        &self,
        login: &str,
        password_hash: &str,
        role: Option<Role>,
    ) -> Result<User, StoreError> {
        let txn = self.db().begin_write()?;
        let user = {
            let mut by_login = txn.open_table(tables::USERS_BY_LOGIN)?;
            if by_login.get(login)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "user '{login}' already exists"
                )));
            }
            let mut users = txn.open_table(tables::USERS)?;
            let first = users.len()? == 0;
            let role = role.unwrap_or(if first { Role::Admin } else { Role::Operator });
            let now = OffsetDateTime::now_utc();
            let user = User {
                id: next_id(&txn, TABLE)?,
                login: login.to_string(),
                password_hash: password_hash.to_string(),
                token_gen: 1,
                role,
                disabled: false,
                created: now,
                updated: now,
            };
            let bytes = encode_user(&user)?;
            users.insert(user.id, bytes.as_slice())?;
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
        decode_user(bytes.value()).map(Some)
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
            users.push(decode_user(bytes.value())?);
        }
        Ok(users)
    }

    /// Deletes a user by login (their tokens stop working: authentication
    /// looks the user up, and ids are never reused). `NotFound` for an
    /// unknown login; `Conflict` for the last user or the last enabled
    /// admin, which would leave no way to administer the appliance.
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
            let current = match users.get(id)? {
                Some(bytes) => decode_user(bytes.value())?,
                None => return Err(StoreError::NotFound(format!("no user '{login}'"))),
            };
            if current.role == Role::Admin
                && !current.disabled
                && !another_enabled_admin(&users, id)?
            {
                return Err(StoreError::Conflict(format!(
                    "'{login}' is the last enabled admin; make another user admin before deleting it"
                )));
            }
            users.remove(id)?;
            by_login.remove(login)?;
            current
        };
        txn.commit()?;
        Ok(user)
    }

    /// Applies a change to a user by login. A change of role, `disabled`
    /// or password bumps the token generation (revoking the user's tokens);
    /// an empty change changes nothing. `Conflict` when it would leave no
    /// enabled admin.
    pub fn update_user(&self, login: &str, change: &UserChange) -> Result<User, StoreError> {
        let txn = self.db().begin_write()?;
        let user = {
            let id = {
                let by_login = txn.open_table(tables::USERS_BY_LOGIN)?;
                match by_login.get(login)? {
                    Some(id) => id.value(),
                    None => return Err(StoreError::NotFound(format!("no user '{login}'"))),
                }
            };
            let mut users = txn.open_table(tables::USERS)?;
            let mut user = match users.get(id)? {
                Some(bytes) => decode_user(bytes.value())?,
                None => return Err(StoreError::NotFound(format!("no user '{login}'"))),
            };
            let was_admin = user.role == Role::Admin && !user.disabled;
            let mut changed = false;
            if let Some(role) = change.role {
                changed |= user.role != role;
                user.role = role;
            }
            if let Some(disabled) = change.disabled {
                changed |= user.disabled != disabled;
                user.disabled = disabled;
            }
            if let Some(hash) = &change.password_hash {
                changed = true;
                user.password_hash = hash.clone();
            }
            let is_admin = user.role == Role::Admin && !user.disabled;
            if was_admin && !is_admin && !another_enabled_admin(&users, id)? {
                return Err(StoreError::Conflict(format!(
                    "'{login}' is the last enabled admin; make another user admin first"
                )));
            }
            if changed {
                user.token_gen += 1;
                user.updated = OffsetDateTime::now_utc();
                let bytes = encode_user(&user)?;
                users.insert(id, bytes.as_slice())?;
            }
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
            let mut user = match table.get(id)? {
                Some(bytes) => decode_user(bytes.value())?,
                None => return Err(StoreError::NotFound(format!("user {id} not found"))),
            };
            user.password_hash = password_hash.to_string();
            user.token_gen += 1;
            user.updated = OffsetDateTime::now_utc();
            let bytes = encode_user(&user)?;
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
        store
            .create_user_as("bob", "h2", Some(Role::Admin))
            .unwrap();
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
    fn the_first_user_is_admin_and_the_last_enabled_admin_is_protected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let root = store.create_user("root", "h").unwrap();
        assert_eq!(root.role, Role::Admin);
        let bob = store.create_user("bob", "h").unwrap();
        assert_eq!(bob.role, Role::Operator);
        let vic = store
            .create_user_as("vic", "h", Some(Role::Viewer))
            .unwrap();
        assert_eq!(vic.role, Role::Viewer);
        for change in [
            UserChange {
                role: Some(Role::Operator),
                ..Default::default()
            },
            UserChange {
                disabled: Some(true),
                ..Default::default()
            },
        ] {
            let err = store.update_user("root", &change).unwrap_err();
            assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        }
        let err = store.delete_user("root").unwrap_err();
        assert!(err.to_string().contains("last enabled admin"), "{err}");
        // a second admin lifts the protection; the change bumps the generation
        let promoted = store
            .update_user(
                "bob",
                &UserChange {
                    role: Some(Role::Admin),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(promoted.token_gen, bob.token_gen + 1);
        let unchanged = store.update_user("bob", &UserChange::default()).unwrap();
        assert_eq!(unchanged.token_gen, promoted.token_gen);
        let disabled = store
            .update_user(
                "root",
                &UserChange {
                    disabled: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(disabled.disabled);
        // a disabled admin does not count: bob is now the last one
        let err = store.delete_user("bob").unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(store.delete_user("root").unwrap().login, "root");
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
