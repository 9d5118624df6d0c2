//! `attune restore`: a backup file checked (schema version, every record's
//! format byte), migrated as a copy, and swapped in for the live database
//! atomically, the previous one kept as `attune.redb.bak`.

use super::*;

/// The outcome of [`restore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// What the restored database holds (after migrations).
    pub summary: Summary,
    /// Schema version of the backup before migrations ran.
    pub backup_schema_version: u64,
    /// Where the replaced database was kept (`None` when there was none).
    pub previous: Option<PathBuf>,
}

/// `attune restore FILE`: checks `file` and makes it the database of
/// `data_dir`, keeping the previous one as `attune.redb.bak`.
///
/// Steps: hold the live database (fails with `InUse` while a server runs,
/// and keeps a server from starting meanwhile); copy `file` into a
/// temporary file in the data dir and fsync it; open the copy as redb,
/// check its schema version and that every record carries a known format
/// byte; run the migrations on the copy; link the live file to
/// `attune.redb.bak`; rename the copy over `attune.redb` (atomic); fsync the
/// directory. Any failure before the rename leaves the live database as it
/// was.
pub fn restore(data_dir: &Path, file: &Path) -> Result<Restored, BackupError> {
    let meta = std::fs::metadata(file).map_err(io(file, "cannot read the backup file"))?;
    if !meta.is_file() {
        return Err(BackupError::BadBackup {
            path: file.to_path_buf(),
            reason: "not a regular file".into(),
        });
    }
    std::fs::create_dir_all(data_dir).map_err(io(data_dir, "cannot create the data directory"))?;
    let live = data_dir.join(DB_FILE_NAME);
    let guard = if live.exists() {
        Some(open_existing(&live)?)
    } else {
        None
    };
    let tmp = temp_path(data_dir, RESTORE_TEMP_PREFIX)?;
    let result = restore_via(file, &tmp, &live, data_dir, guard.is_some());
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    drop(guard);
    result
}

pub(super) fn restore_via(
    file: &Path,
    tmp: &Path,
    live: &Path,
    data_dir: &Path,
    had_live: bool,
) -> Result<Restored, BackupError> {
    copy_file_synced(file, tmp)?;
    let (backup_schema_version, summary) = check_and_migrate(tmp, file)?;
    take_ownership_of_previous(tmp, live, data_dir, had_live)?;
    let previous = if had_live {
        let bak = data_dir.join(BAK_FILE_NAME);
        match std::fs::remove_file(&bak) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&bak, "cannot remove the old backup copy")(e)),
        }
        if std::fs::hard_link(live, &bak).is_err() {
            copy_file_synced(live, &bak)?;
        }
        Some(bak)
    } else {
        None
    };
    std::fs::rename(tmp, live).map_err(io(live, "cannot move the restored database into place"))?;
    sync_dir(data_dir);
    Ok(Restored {
        summary,
        backup_schema_version,
        previous,
    })
}

/// Gives the restored file the owner and mode of the database it replaces
/// (or the data directory's owner when there was none), so that a restore
/// run as root leaves a file the service user can still open.
#[cfg(unix)]
pub(super) fn take_ownership_of_previous(
    tmp: &Path,
    live: &Path,
    data_dir: &Path,
    had_live: bool,
) -> Result<(), BackupError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let reference = if had_live { live } else { data_dir };
    let want = std::fs::metadata(reference).map_err(io(reference, "cannot read the owner"))?;
    let have = std::fs::metadata(tmp).map_err(io(tmp, "cannot read the owner"))?;
    if had_live {
        std::fs::set_permissions(tmp, std::fs::Permissions::from_mode(want.mode() & 0o7777))
            .map_err(io(tmp, "cannot set the mode of the restored database"))?;
    }
    if (have.uid(), have.gid()) != (want.uid(), want.gid()) {
        std::os::unix::fs::chown(tmp, Some(want.uid()), Some(want.gid())).map_err(|source| {
            BackupError::Io {
                path: tmp.to_path_buf(),
                action: "cannot give the restored database the owner of the data directory \
                         (run attune restore as that user, or as root)",
                source,
            }
        })?;
    }
    Ok(())
}

#[cfg(not(unix))]
pub(super) fn take_ownership_of_previous(
    _: &Path,
    _: &Path,
    _: &Path,
    _: bool,
) -> Result<(), BackupError> {
    Ok(())
}

/// Opens the copy of a backup, checks it and brings it to the current
/// schema. `origin` names the file in messages.
pub(super) fn check_and_migrate(copy: &Path, origin: &Path) -> Result<(u64, Summary), BackupError> {
    let bad = |reason: String| BackupError::BadBackup {
        path: origin.to_path_buf(),
        reason,
    };
    // attune's cache size, not redb's 1 GiB default: migrating a big
    // backup must not take the memory of its whole file.
    let db = crate::store::handle::database_builder()
        .open(copy)
        .map_err(|e| bad(format!("cannot open it as a redb database ({e})")))?;
    let version = {
        let txn = db.begin_read().map_err(db_err)?;
        let version = match txn.open_table(tables::META) {
            Ok(meta) => meta
                .get(tables::SCHEMA_VERSION_KEY)
                .map_err(db_err)?
                .map(|v| v.value()),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(bad(format!("its meta table is unreadable ({e})"))),
        };
        let Some(version) = version else {
            return Err(bad(
                "it has no schema version record, so it was not written by attune".into(),
            ));
        };
        if version > SCHEMA_VERSION {
            return Err(bad(format!(
                "its schema version {version} is newer than this attune supports \
                 ({SCHEMA_VERSION}); restore it with a newer attune"
            )));
        }
        check_records(&txn, &bad)?;
        version
    };
    migrate::run(&db)?;
    // A backup made before secrets were left out still carries the signing
    // secret: drop it, so the restored database gets a new one at start.
    let txn = db.begin_write().map_err(db_err)?;
    {
        let mut secrets = txn.open_table(tables::SECRETS).map_err(db_err)?;
        secrets.retain(|_, _| false).map_err(db_err)?;
    }
    txn.commit().map_err(db_err)?;
    let txn = db.begin_read().map_err(db_err)?;
    let summary = summarize(&txn)?;
    Ok((version, summary))
}

/// Checks that every stored record (the values of the record tables, which
/// go through [`codec`]) starts with a format version this build reads.
pub(super) fn check_records(
    txn: &ReadTransaction,
    bad: &dyn Fn(String) -> BackupError,
) -> Result<(), BackupError> {
    for handle in txn.list_tables().map_err(db_err)? {
        let name = handle.name().to_string();
        if name == tables::SECRETS.name() {
            continue;
        }
        let (key, value) = stored_types(txn, &name)?;
        if value != type_name::<&[u8]>() {
            continue;
        }
        macro_rules! scan {
            ($($K:ty),*) => {$(
                if key == type_name::<$K>() {
                    let def = TableDefinition::<$K, &[u8]>::new(&name);
                    let table = txn.open_table(def).map_err(db_err)?;
                    for entry in table.iter().map_err(db_err)? {
                        let (_, v) = entry.map_err(db_err)?;
                        if let Some(problem) = format_byte_problem(v.value()) {
                            return Err(bad(format!(
                                "a record in table '{name}' is unreadable: {problem}"
                            )));
                        }
                    }
                    continue;
                }
            )*};
        }
        scan!(
            u64,
            &str,
            &[u8],
            (&str, u64),
            (u64, u64),
            (&str, &str),
            u128
        );
        return Err(BackupError::UnknownTableType {
            table: name,
            key,
            value,
        });
    }
    Ok(())
}

pub(super) fn format_byte_problem(bytes: &[u8]) -> Option<String> {
    match bytes.first() {
        Some(v) if (1..=codec::NEWEST_FORMAT_VERSION).contains(v) => None,
        Some(v) => Some(format!(
            "record format version {v} is not supported (this attune reads 1 to {})",
            codec::NEWEST_FORMAT_VERSION
        )),
        None => Some("empty record".into()),
    }
}
