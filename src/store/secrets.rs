//! Secrets generated once and kept in the database (the JWT signing key).

use redb::ReadableTable;

use super::{Store, StoreError, tables};

const JWT_SECRET_KEY: &str = "jwt_secret";

impl Store {
    /// Returns the stored JWT secret, storing `fresh` when there is none yet
    /// (one write transaction, so concurrent first starts cannot disagree).
    pub fn jwt_secret_or_insert(&self, fresh: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let txn = self.db().begin_write()?;
        let secret = {
            let mut table = txn.open_table(tables::SECRETS)?;
            let existing = table.get(JWT_SECRET_KEY)?.map(|v| v.value().to_vec());
            match existing {
                Some(secret) => secret,
                None => {
                    table.insert(JWT_SECRET_KEY, fresh.as_slice())?;
                    fresh
                }
            }
        };
        txn.commit()?;
        Ok(secret)
    }

    /// Replaces the stored JWT secret with `fresh`: every token signed with
    /// the old one is refused from then on.
    pub fn replace_jwt_secret(&self, fresh: &[u8]) -> Result<(), StoreError> {
        let txn = self.db().begin_write()?;
        txn.open_table(tables::SECRETS)?
            .insert(JWT_SECRET_KEY, fresh)?;
        txn.commit()?;
        Ok(())
    }
}
