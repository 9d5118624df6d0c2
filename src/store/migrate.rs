//! Schema version record and migrations, run by `Store::open` before the
//! server listens.
//!
//! Version 0 is an empty file. Each entry of [`MIGRATIONS`] moves the database
//! one version up inside one write transaction together with the new version
//! number, so a crash leaves either the old or the new schema. Tables listed
//! in `tables::create_all` are created on every open (idempotent); a
//! migration is only needed when existing records change shape.

use redb::{Database, ReadableDatabase, WriteTransaction};

use super::codec::JsonText;
use super::{StoreError, WorkflowRecord, tables};

/// A migration step from version `n` to `n + 1` (index `n`).
type Migration = fn(&WriteTransaction) -> Result<(), StoreError>;

/// Migration `i` upgrades schema version `i` to `i + 1`.
const MIGRATIONS: &[Migration] = &[
    initial_schema,
    users_get_roles,
    revisions_table,
    workflow_indexes,
    workflow_bodies,
    lean_revisions,
];

/// Schema version this build writes.
pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

fn initial_schema(_txn: &WriteTransaction) -> Result<(), StoreError> {
    // Version 1: the tables of `tables::create_all`; nothing to convert.
    Ok(())
}

/// A user record as schema version 1 wrote it (format byte 1).
#[derive(serde::Deserialize)]
struct UserV1 {
    id: u64,
    login: String,
    password_hash: String,
    token_gen: u64,
    #[serde(with = "super::codec::timestamp")]
    created: time::OffsetDateTime,
    #[serde(with = "super::codec::timestamp")]
    updated: time::OffsetDateTime,
}

/// Version 2: users get a role and a `disabled` flag (user format 2). The
/// user named `admin` becomes `admin` (the lowest id when there is none);
/// every other user becomes `operator`, the default of `attune user add`,
/// and keeps their tokens (their token generation is unchanged).
fn users_get_roles(txn: &WriteTransaction) -> Result<(), StoreError> {
    use redb::ReadableTable;
    let mut table = txn.open_table(tables::USERS)?;
    let mut old = Vec::new();
    for entry in table.iter()? {
        let (_, bytes) = entry?;
        let bytes = bytes.value();
        let user: UserV1 = match bytes.split_first() {
            Some((1, rest)) => postcard::from_bytes(rest).map_err(|e| StoreError::Codec {
                table: "users",
                message: format!("cannot decode a version-1 user record: {e}"),
            })?,
            _ => {
                return Err(StoreError::Codec {
                    table: "users",
                    message: "expected user records of format version 1 at schema version 1".into(),
                });
            }
        };
        old.push(user);
    }
    let admin_id = old
        .iter()
        // the login `attune` gives the user it creates on first start
        .find(|u| u.login == "admin")
        .or_else(|| old.iter().min_by_key(|u| u.id))
        .map(|u| u.id);
    for u in old {
        let role = if Some(u.id) == admin_id {
            super::Role::Admin
        } else {
            super::Role::Operator
        };
        let user = super::User {
            id: u.id,
            login: u.login,
            password_hash: u.password_hash,
            token_gen: u.token_gen,
            role,
            disabled: false,
            created: u.created,
            updated: u.updated,
        };
        let bytes = super::users::encode_user(&user)?;
        table.insert(user.id, bytes.as_slice())?;
    }
    Ok(())
}

/// Version 3: the `revisions` tables (created by `tables::create_all`);
/// no record changes shape. The version still moves so that an older
/// attune refuses a database (or a backup) holding revisions instead of
/// silently carrying tables it does not know.
fn revisions_table(_txn: &WriteTransaction) -> Result<(), StoreError> {
    Ok(())
}

/// Version 4: the workflow list indexes (`workflow_terms`,
/// `workflow_term_counts`, `workflow_search`) are built from the records
/// (of format 1 then: migration 5 converts them later in the same
/// transaction); the records themselves are unchanged.
fn workflow_indexes(txn: &WriteTransaction) -> Result<(), StoreError> {
    let n = super::workflow_index::rebuild_with(txn, workflow_of_any_format)?;
    tracing::info!(workflows = n, "workflow list indexes built");
    Ok(())
}

/// A workflow record as schema versions 1 to 4 wrote it (format byte 1):
/// one blob with the definition and the source inline. Field order is the
/// stored order (postcard is positional); never change it.
#[derive(serde::Deserialize)]
struct WorkflowV1 {
    id: u64,
    r#ref: String,
    pack_ref: String,
    name: String,
    label: String,
    description: Option<String>,
    version: String,
    #[serde(with = "super::codec::json_raw")]
    param_schema: JsonText,
    #[serde(with = "super::codec::json_raw")]
    out_schema: JsonText,
    #[serde(with = "super::codec::json_raw")]
    definition: JsonText,
    tags: Vec<String>,
    task_count: u32,
    enabled: bool,
    stale: bool,
    source_file: String,
    content_hash: String,
    deps: Vec<String>,
    dep_packs: Vec<String>,
    deps_fingerprint: String,
    warnings: Vec<String>,
    #[serde(with = "super::codec::json_raw")]
    diagnostics: JsonText,
    source: String,
    #[serde(with = "super::codec::timestamp")]
    created: time::OffsetDateTime,
    #[serde(with = "super::codec::timestamp")]
    updated: time::OffsetDateTime,
}

/// A format-1 workflow record as the record of this build (no action
/// file: the layout had none).
fn workflow_v1(bytes: &[u8]) -> Result<WorkflowRecord, StoreError> {
    let w: WorkflowV1 = super::codec::decode_v("workflows", 1, bytes)?;
    Ok(WorkflowRecord {
        id: w.id,
        r#ref: w.r#ref,
        pack_ref: w.pack_ref,
        name: w.name,
        label: w.label,
        description: w.description,
        version: w.version,
        param_schema: w.param_schema,
        out_schema: w.out_schema,
        tags: w.tags,
        task_count: w.task_count,
        enabled: w.enabled,
        stale: w.stale,
        source_file: w.source_file,
        action_file: None,
        content_hash: w.content_hash,
        deps: w.deps,
        dep_packs: w.dep_packs,
        deps_fingerprint: w.deps_fingerprint,
        warnings: w.warnings,
        diagnostics: w.diagnostics,
        created: w.created,
        updated: w.updated,
        definition: w.definition,
        source: w.source,
    })
}

/// A workflow record of format 1 or of this build's format: what the
/// indexes of migration 4 are built from (format 1 in every database
/// written at versions 1 to 3; the current one only in a test's
/// hand-rolled older database).
fn workflow_of_any_format(bytes: &[u8]) -> Result<WorkflowRecord, StoreError> {
    match bytes.first() {
        Some(1) => workflow_v1(bytes),
        _ => super::workflows::decode_record(bytes),
    }
}

/// Version 5: one workflow record (format 2) without its large parts,
/// which move to `workflow_definitions` and `workflow_sources` under the
/// same id. Every record of format 1 is rewritten; one already at format 2
/// is left as it is. The indexes are unchanged (the same facets).
fn workflow_bodies(txn: &WriteTransaction) -> Result<(), StoreError> {
    use redb::ReadableTable;
    let mut old = Vec::new();
    for entry in txn.open_table(tables::WORKFLOWS)?.iter()? {
        let (id, bytes) = entry?;
        if bytes.value().first() == Some(&1) {
            old.push(id.value());
        }
    }
    let n = old.len();
    for id in old {
        let bytes = txn
            .open_table(tables::WORKFLOWS)?
            .get(id)?
            .map(|b| b.value().to_vec());
        if let Some(bytes) = bytes {
            super::workflows::write_parts_in(txn, &workflow_v1(&bytes)?, true)?;
        }
    }
    tracing::info!(
        workflows = n,
        "workflow records rewritten (definition and source apart)"
    );
    Ok(())
}

/// Version 6: revisions of format 2 (`revisions::REVISION_FORMAT`), whose
/// newest may be lean (reads its source and definition from the workflow
/// record's tables). Nothing is converted: format-1 revisions keep their
/// own copy and read as before. The version moves so that an older attune,
/// which neither reads format 2 nor detaches a lean revision before
/// overwriting a workflow, refuses the database instead of corrupting its
/// history.
fn lean_revisions(_txn: &WriteTransaction) -> Result<(), StoreError> {
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
    run_with(db, MIGRATIONS)
}

/// [`run`] with an explicit migration list (tests add steps to it).
fn run_with(db: &Database, migrations: &[Migration]) -> Result<(), StoreError> {
    let target = migrations.len() as u64;
    let found = read_version(db)?;
    if found > target {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: target,
        });
    }
    let txn = db.begin_write()?;
    tables::create_all(&txn)?;
    for (version, migration) in migrations.iter().enumerate().skip(found as usize) {
        migration(&txn)?;
        tracing::info!(from = version, to = version + 1, "database migrated");
    }
    {
        let mut meta = txn.open_table(tables::META)?;
        meta.insert(tables::SCHEMA_VERSION_KEY, target)?;
    }
    txn.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    //! A migration test with a real older database: a file written at schema
    //! version 1 whose records have format version 1, opened by a build
    //! whose schema version 2 changed the record's shape.

    use redb::{ReadableTable, TableDefinition};
    use serde::{Deserialize, Serialize};

    use super::*;

    const NOTES: TableDefinition<u64, &[u8]> = TableDefinition::new("notes");

    /// The record as version 1 wrote it (format byte 1).
    #[derive(Serialize, Deserialize)]
    struct NoteV1 {
        text: String,
    }

    /// The record as version 2 writes it (format byte 2): a new field.
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct NoteV2 {
        text: String,
        words: u32,
    }

    fn notes_v1_to_v2(txn: &WriteTransaction) -> Result<(), StoreError> {
        let mut table = txn.open_table(NOTES)?;
        let mut rewritten = Vec::new();
        for entry in table.iter()? {
            let (id, bytes) = entry?;
            let bytes = bytes.value();
            if bytes.first() != Some(&1) {
                return Err(StoreError::Codec {
                    table: "notes",
                    message: "expected format version 1".into(),
                });
            }
            let old: NoteV1 = postcard::from_bytes(&bytes[1..]).map_err(|e| StoreError::Codec {
                table: "notes",
                message: e.to_string(),
            })?;
            let new = NoteV2 {
                words: old.text.split_whitespace().count() as u32,
                text: old.text,
            };
            let encoded = postcard::to_extend(&new, vec![2u8]).map_err(|e| StoreError::Codec {
                table: "notes",
                message: e.to_string(),
            })?;
            rewritten.push((id.value(), encoded));
        }
        for (id, bytes) in rewritten {
            table.insert(id, bytes.as_slice())?;
        }
        Ok(())
    }

    fn failing_step(_txn: &WriteTransaction) -> Result<(), StoreError> {
        Err(StoreError::Task("migration step failed on purpose".into()))
    }

    /// A database file exactly as schema version 1 leaves it, with notes.
    fn write_version_1(path: &std::path::Path) {
        let db = Database::create(path).unwrap();
        run_with(&db, &[initial_schema]).unwrap();
        let txn = db.begin_write().unwrap();
        {
            let mut notes = txn.open_table(NOTES).unwrap();
            for (id, text) in [(1u64, "hello old world"), (2, "kept")] {
                let bytes = postcard::to_extend(&NoteV1 { text: text.into() }, vec![1u8]).unwrap();
                notes.insert(id, bytes.as_slice()).unwrap();
            }
        }
        txn.commit().unwrap();
    }

    #[test]
    fn an_older_database_is_migrated_on_open_and_its_records_converted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.redb");
        write_version_1(&path);
        let db = Database::open(&path).unwrap();
        assert_eq!(read_version(&db).unwrap(), 1);

        run_with(&db, &[initial_schema, notes_v1_to_v2]).unwrap();
        assert_eq!(read_version(&db).unwrap(), 2);
        let txn = db.begin_read().unwrap();
        let notes = txn.open_table(NOTES).unwrap();
        let bytes = notes.get(1).unwrap().unwrap();
        assert_eq!(bytes.value()[0], 2, "the record got the new format byte");
        let note: NoteV2 = postcard::from_bytes(&bytes.value()[1..]).unwrap();
        assert_eq!(
            note,
            NoteV2 {
                text: "hello old world".into(),
                words: 3
            }
        );
        drop(notes);
        drop(txn);
        // opening again is a no-op: the version is current
        run_with(&db, &[initial_schema, notes_v1_to_v2]).unwrap();
        assert_eq!(read_version(&db).unwrap(), 2);
    }

    #[test]
    fn a_failing_migration_leaves_the_old_version_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.redb");
        write_version_1(&path);
        let db = Database::open(&path).unwrap();
        let err = run_with(&db, &[initial_schema, notes_v1_to_v2, failing_step]).unwrap_err();
        assert!(err.to_string().contains("on purpose"), "{err}");
        assert_eq!(read_version(&db).unwrap(), 1);
        let txn = db.begin_read().unwrap();
        let notes = txn.open_table(NOTES).unwrap();
        assert_eq!(notes.get(2).unwrap().unwrap().value()[0], 1);
    }

    #[test]
    fn a_database_from_a_newer_attune_is_refused_not_downgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.redb");
        let db = Database::create(&path).unwrap();
        run_with(&db, &[initial_schema, notes_v1_to_v2]).unwrap();
        let err = run_with(&db, &[initial_schema]).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::SchemaTooNew {
                    found: 2,
                    supported: 1
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("restore a backup"), "{err}");
        assert_eq!(read_version(&db).unwrap(), 2);
    }

    /// The database the previous layout wrote (tests/fixtures/README.md),
    /// copied as `attune.redb` into a fresh directory.
    fn schema_4_copy() -> tempfile::TempDir {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/attune-schema-4.redb");
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(fixture, dir.path().join(super::super::DB_FILE_NAME)).unwrap();
        dir
    }

    /// Every value of the workflow tables, as bytes.
    fn workflow_tables(db: &Database) -> Vec<Vec<(u64, Vec<u8>)>> {
        let txn = db.begin_read().unwrap();
        [
            tables::WORKFLOWS,
            tables::WORKFLOW_DEFINITIONS,
            tables::WORKFLOW_SOURCES,
        ]
        .into_iter()
        .map(|t| match txn.open_table(t) {
            Ok(t) => t
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect(),
            Err(redb::TableError::TableDoesNotExist(_)) => Vec::new(),
            Err(e) => panic!("{e}"),
        })
        .collect()
    }

    #[test]
    fn migration_5_moves_each_definition_and_source_out_of_its_record_in_one_step() {
        let dir = schema_4_copy();
        let path = dir.path().join(super::super::DB_FILE_NAME);
        let db = Database::open(&path).unwrap();
        assert_eq!(read_version(&db).unwrap(), 4);
        let [records, defs, sources] = <[_; 3]>::try_from(workflow_tables(&db)).unwrap();
        assert!(records.len() >= 5, "the fixture has workflows");
        assert!(defs.is_empty() && sources.is_empty());
        let before: Vec<WorkflowRecord> = records
            .iter()
            .map(|(_, b)| workflow_v1(b).unwrap())
            .collect();
        assert!(before.iter().all(|r| !r.source.is_empty()));

        // a failure later in the same transaction leaves version 4 as it was
        let mut failing = MIGRATIONS.to_vec();
        failing.push(failing_step);
        run_with(&db, &failing).unwrap_err();
        assert_eq!(read_version(&db).unwrap(), 4);
        assert_eq!(workflow_tables(&db)[0], records);

        run(&db).unwrap();
        assert_eq!(read_version(&db).unwrap(), SCHEMA_VERSION);
        let after = workflow_tables(&db);
        assert!(
            after[0]
                .iter()
                .all(|(_, b)| b[0] == super::super::WORKFLOW_FORMAT)
        );
        assert_eq!(
            (after[1].len(), after[2].len()),
            (records.len(), records.len())
        );
        // the step itself is idempotent: records already converted are kept
        let txn = db.begin_write().unwrap();
        workflow_bodies(&txn).unwrap();
        txn.commit().unwrap();
        assert_eq!(workflow_tables(&db), after);
        drop(db);

        let store = super::super::Store::open(dir.path()).unwrap();
        for old in &before {
            let now = store.get_workflow(&old.r#ref).unwrap().unwrap();
            assert_eq!(&now, old, "{} reads back as it was", old.r#ref);
        }
        let filter = super::super::WorkflowFilter::default();
        let listed = store
            .list_workflows(&filter, &super::super::Start::Offset(0), 100)
            .unwrap();
        assert_eq!(listed.total, before.len() as u64);
        for (item, old) in listed.items.iter().zip(&before) {
            assert_eq!(
                (&item.r#ref, &item.definition),
                (&old.r#ref, &old.definition)
            );
            assert!(item.source.is_empty(), "a list item has no source");
        }
        let counts = store.workflow_counts().unwrap();
        assert_eq!(
            (counts.registered, counts.stale, counts.disabled),
            (
                before.len() as u64,
                before.iter().filter(|r| r.stale).count() as u64,
                before.iter().filter(|r| !r.enabled).count() as u64
            )
        );
    }

    #[test]
    fn a_file_without_a_version_record_is_brought_to_the_current_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::create(dir.path().join("v0.redb")).unwrap();
        assert_eq!(read_version(&db).unwrap(), 0);
        run(&db).unwrap();
        assert_eq!(read_version(&db).unwrap(), SCHEMA_VERSION);
    }
}
