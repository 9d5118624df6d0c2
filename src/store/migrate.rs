//! Schema version record and migrations, run by `Store::open` before the
//! server listens.
//!
//! Version 0 is an empty file. Each entry of [`MIGRATIONS`] moves the database
//! one version up inside one write transaction together with the new version
//! number, so a crash leaves either the old or the new schema. Tables listed
//! in `tables::create_all` are created on every open (idempotent); a
//! migration is only needed when existing records change shape.

use redb::{Database, ReadableDatabase, WriteTransaction};

use super::{StoreError, tables};

/// A migration step from version `n` to `n + 1` (index `n`).
type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Migration `i` upgrades schema version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[initial_schema];

/// Schema version this build writes.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

fn initial_schema(_txn: &WriteTransaction) -> Result<(), StoreError> {
    // Version 1: the tables of `tables::create_all`; nothing to convert.
    Ok(())
}

/// Reads the schema version (0 for a fresh file).
pub(crate) fn read_version(db: &Database) -> Result<u64, StoreError> {
    let txn = db.begin_read()?;
    match txn.open_table(tables::META) {
        Ok(table) => Ok(table
            .get(tables::SCHEMA_VERSION_KEY)?
            .map(|v| v.value())
            .unwrap_or(0)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Creates missing tables and applies pending migrations.
pub(crate) fn run(db: &Database) -> Result<(), StoreError> {
    let found = read_version(db)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let txn = db.begin_write()?;
    tables::create_all(&txn)?;
    for (version, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        migration(&txn)?;
        tracing::info!(from = version, to = version + 1, "database migrated");
    }
    {
        let mut meta = txn.open_table(tables::META)?;
        meta.insert(tables::SCHEMA_VERSION_KEY, SCHEMA_VERSION)?;
    }
    txn.commit()?;
    Ok(())
}
