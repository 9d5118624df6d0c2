//! Every redb table of the attune database, as `const` definitions.
//!
//! This is the only place table names and key/value types are declared.
//! Values are byte slices produced by [`super::codec`]; keys are plain redb
//! types so range scans stay ordered. A new resource adds its tables here
//! and opens them in [`create_all`] so that `Store::open` creates them.

use redb::TableDefinition;

/// `schema_version` → current schema version of the database.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Named monotonically increasing id counters (`users`, `packs`, ...).
pub const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// Generated secrets kept across restarts (`jwt_secret`).
pub const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets");

/// Users by numeric id → encoded `User`.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users");

/// Index: login name → user id.
pub const USERS_BY_LOGIN: TableDefinition<&str, u64> = TableDefinition::new("users_by_login");

/// Packs by ref → encoded `Pack`.
pub const PACKS: TableDefinition<&str, &[u8]> = TableDefinition::new("packs");

/// Workflows by stable numeric id → encoded `WorkflowRecord` (format 2:
/// every field but the definition and the source, which are the two tables
/// below under the same id).
pub const WORKFLOWS: TableDefinition<u64, &[u8]> = TableDefinition::new("workflows");

/// Workflow id → encoded normalized definition (JSON text). A list page
/// reads it; heads, indexes and counts never do.
pub const WORKFLOW_DEFINITIONS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("workflow_definitions");

/// Workflow id → encoded original YAML text. Only a single workflow's read
/// (and its lean newest revision's) uses it.
pub const WORKFLOW_SOURCES: TableDefinition<u64, &[u8]> = TableDefinition::new("workflow_sources");

/// Index: workflow ref (`pack.name`) → workflow id.
pub const WORKFLOW_REFS: TableDefinition<&str, u64> = TableDefinition::new("workflow_refs");

/// Index: `"{pack_ref}\0{name}"` → workflow id, so a pack's workflows are
/// one range scan (the NUL byte sorts before every allowed ref character).
pub const PACK_WORKFLOWS: TableDefinition<&str, u64> = TableDefinition::new("pack_workflows");

/// Index: `(term, workflow id)` → nothing; one posting list per term, in id
/// order: `p:{pack_ref}`, `t:{tag}`, `e:1`/`e:0` (enabled), `s:1`/`s:0`
/// (stale). See `workflow_index`.
pub const WORKFLOW_TERMS: TableDefinition<(&str, u64), ()> = TableDefinition::new("workflow_terms");

/// Index: term of [`WORKFLOW_TERMS`] → how many workflows have it (absent: 0).
pub const WORKFLOW_TERM_COUNTS: TableDefinition<&str, u64> =
    TableDefinition::new("workflow_term_counts");

/// Index: workflow id → encoded lowercased `[ref, label, description]`, the
/// compact table `search` scans instead of the records.
pub const WORKFLOW_SEARCH: TableDefinition<u64, &[u8]> = TableDefinition::new("workflow_search");

/// Sync and validation runs by id → encoded `RunRecord`.
pub const RUNS: TableDefinition<u64, &[u8]> = TableDefinition::new("runs");

/// Index: `(pack_ref, run id)` → nothing; a pack's runs in id order.
pub const PACK_RUNS: TableDefinition<(&str, u64), ()> = TableDefinition::new("pack_runs");

/// API tokens by id → encoded `ApiToken` (the secret's hash, never the secret).
pub const API_TOKENS: TableDefinition<u64, &[u8]> = TableDefinition::new("api_tokens");

/// Index: hex SHA-256 of an API token's secret → token id.
pub const API_TOKEN_HASHES: TableDefinition<&str, u64> = TableDefinition::new("api_token_hashes");

/// Login sessions by id → encoded `Session` (the current refresh `jti`).
pub const SESSIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("sessions");

/// Audit log by id (time order) → encoded `AuditEntry`.
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");

/// Workflow revisions by `(ref, n)` → encoded `StoredRevision` (format 2;
/// format-1 `Revision`s of older schemas still read; see
/// `store::revisions`); kept after the workflow is deleted. A ref's newest
/// revision may be lean: its source and definition are the workflow's
/// rows in [`WORKFLOW_SOURCES`] and [`WORKFLOW_DEFINITIONS`].
pub const REVISIONS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("revisions");

/// Index: global revision write order `seq` → `(ref, n)`, for the global cap.
pub const REVISION_SEQ: TableDefinition<u64, (&str, u64)> = TableDefinition::new("revision_seq");

/// Key of the schema version record in [`META`].
pub const SCHEMA_VERSION_KEY: &str = "schema_version";

/// Opens every table of the schema inside a write transaction, creating the
/// missing ones. Called by `Store::open` before any read transaction runs, so
/// readers never meet a missing table.
pub(crate) fn create_all(txn: &redb::WriteTransaction) -> Result<(), redb::TableError> {
    txn.open_table(META)?;
    txn.open_table(COUNTERS)?;
    txn.open_table(SECRETS)?;
    txn.open_table(USERS)?;
    txn.open_table(USERS_BY_LOGIN)?;
    txn.open_table(PACKS)?;
    txn.open_table(WORKFLOWS)?;
    txn.open_table(WORKFLOW_DEFINITIONS)?;
    txn.open_table(WORKFLOW_SOURCES)?;
    txn.open_table(WORKFLOW_REFS)?;
    txn.open_table(PACK_WORKFLOWS)?;
    txn.open_table(WORKFLOW_TERMS)?;
    txn.open_table(WORKFLOW_TERM_COUNTS)?;
    txn.open_table(WORKFLOW_SEARCH)?;
    txn.open_table(RUNS)?;
    txn.open_table(PACK_RUNS)?;
    txn.open_table(API_TOKENS)?;
    txn.open_table(API_TOKEN_HASHES)?;
    txn.open_table(SESSIONS)?;
    txn.open_table(AUDIT)?;
    txn.open_table(REVISIONS)?;
    txn.open_table(REVISION_SEQ)?;
    Ok(())
}
