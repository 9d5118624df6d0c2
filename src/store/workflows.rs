//! Workflow definitions: records by stable numeric id, a ref → id index and a
//! `pack\0name` → id index for lookups by pack; the one write transaction of
//! a sync ([`Store::commit_sync`]); and the pack delete cascade.
//!
//! One type, [`WorkflowRecord`], is a workflow's content and registration
//! state. Its small part (everything but the normalized definition and the
//! source text, which live in their own tables) is what heads, lists,
//! indexes and counts decode. A record keeps the content hash of the files
//! it came from and the fingerprint of the catalog answers its validation
//! depended on, so an unchanged file is neither validated again nor
//! rewritten.

use redb::{ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::codec::JsonText;
use super::pending::{Pending, PendingChanges};
use super::revisions::{self, Author, RevisionPair, RevisionPolicy};
use super::runs::{NewRun, insert_run_with_id};
use super::workflow_index::{Facets, ListPage, Start, WorkflowFilter, list_in, reindex};
use super::{Pack, RunSummary, Store, StoreError, codec, next_id, tables};

const TABLE: &str = "workflows";
const DEFINITIONS_TABLE: &str = "workflow_definitions";
const SOURCES_TABLE: &str = "workflow_sources";
const PACKS_TABLE: &str = "packs";

/// Format version of a [`WorkflowRecord`] in [`tables::WORKFLOWS`]: 2 since
/// schema version 5 moved the definition and the source out of the record
/// (format 1 held them inline; migration 5 converts).
pub const WORKFLOW_FORMAT: u8 = 2;

/// A registered workflow: its content (what the validator produced and the
/// files it came from) and its registration state (id, `enabled`, `stale`,
/// times, which the store assigns). The one type the store writes and reads
/// and the API's answers are mapped from.
///
/// Stored in three tables under its id: everything but the two large
/// parts in [`tables::WORKFLOWS`] (small: what heads, lists, indexes and
/// counts decode), the normalized [`definition`](Self::definition) in
/// [`tables::WORKFLOW_DEFINITIONS`] and the [`source`](Self::source) text in
/// [`tables::WORKFLOW_SOURCES`]. A read fills the large parts it needs
/// ([`Body`]): a single workflow both, a list page the definition, the
/// heads a sync compares against neither (`null` and empty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowRecord {
    pub id: u64,
    pub r#ref: String,
    pub pack_ref: String,
    pub name: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    /// JSON-Schema form, `null` when the workflow declares none.
    #[serde(with = "codec::json_raw")]
    pub param_schema: JsonText,
    #[serde(with = "codec::json_raw")]
    pub out_schema: JsonText,
    pub tags: Vec<String>,
    pub task_count: u32,
    pub enabled: bool,
    /// The file now has errors; this is the last good version.
    pub stale: bool,
    /// The workflow file (for an action-linked workflow the graph file),
    /// relative to `packs_base_dir`; empty for workflows created through
    /// the API.
    pub source_file: String,
    /// An action-linked workflow's action file, relative to
    /// `packs_base_dir`; `None` for a standalone workflow file.
    pub action_file: Option<String>,
    /// Hex sha256 of the source bytes (of both files, linked).
    pub content_hash: String,
    /// Action refs the validator looked up, and packs it listed.
    pub deps: Vec<String>,
    pub dep_packs: Vec<String>,
    /// Hex sha256 of the catalog's answers for `deps` and `dep_packs`.
    pub deps_fingerprint: String,
    /// Warning messages, as in the sync response.
    pub warnings: Vec<String>,
    /// Warning diagnostics as a JSON array.
    #[serde(with = "codec::json_raw")]
    pub diagnostics: JsonText,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp")]
    pub updated: OffsetDateTime,
    /// The normalized definition (in [`tables::WORKFLOW_DEFINITIONS`]).
    #[serde(skip)]
    pub definition: JsonText,
    /// The original YAML text (in [`tables::WORKFLOW_SOURCES`]).
    #[serde(skip)]
    pub source: String,
}

/// Which large parts of a record a read fills in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// Neither: a head (what a sync compares against, indexes, counts).
    None,
    /// The definition: a list item (lists do not show the source).
    Definition,
    /// The definition and the source: one workflow.
    Full,
}

impl WorkflowRecord {
    /// The record of a validated workflow, to be written: its JSON fields
    /// become text and the trees are dropped. Where it came from and what
    /// the validation recorded (files, hash, dependencies, warnings,
    /// source) start empty for the caller to set (`WorkflowRecord { …,
    /// ..WorkflowRecord::new(w) }`); what the store assigns (id,
    /// `enabled`, `stale`, times) is left at a placeholder the write
    /// replaces.
    pub fn new(w: crate::workflow::Workflow) -> WorkflowRecord {
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(|v| JsonText::from_value(v).ok())
                .unwrap_or_else(JsonText::null)
        };
        WorkflowRecord {
            id: 0,
            param_schema: text(w.param_schema.as_ref()),
            out_schema: text(w.out_schema.as_ref()),
            definition: text(Some(&w.definition)),
            r#ref: w.r#ref,
            pack_ref: w.pack_ref,
            name: w.name,
            label: w.label,
            description: w.description,
            version: w.version,
            tags: w.tags,
            task_count: w.task_count,
            enabled: true,
            stale: false,
            source_file: String::new(),
            action_file: None,
            content_hash: String::new(),
            deps: Vec::new(),
            dep_packs: Vec::new(),
            deps_fingerprint: String::new(),
            warnings: Vec::new(),
            diagnostics: JsonText::null(),
            source: String::new(),
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
        }
    }
}

/// The record's small part, as [`tables::WORKFLOWS`] holds it.
pub(crate) fn encode_record(rec: &WorkflowRecord) -> Result<Vec<u8>, StoreError> {
    codec::encode_v(TABLE, WORKFLOW_FORMAT, rec)
}

/// A record from its [`tables::WORKFLOWS`] bytes, without its large parts.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<WorkflowRecord, StoreError> {
    codec::decode_v(TABLE, WORKFLOW_FORMAT, bytes)
}

fn decode_text(table: &'static str, bytes: &[u8]) -> Result<String, StoreError> {
    codec::decode(table, bytes)
}

/// Reads the large parts `body` asks for into `rec` from their tables.
fn read_body<D, S>(
    defs: &D,
    sources: &S,
    rec: &mut WorkflowRecord,
    body: Body,
) -> Result<(), StoreError>
where
    D: ReadableTable<u64, &'static [u8]>,
    S: ReadableTable<u64, &'static [u8]>,
{
    if body == Body::None {
        return Ok(());
    }
    if let Some(b) = defs.get(rec.id)? {
        let text = decode_text(DEFINITIONS_TABLE, b.value())?;
        rec.definition = JsonText::from_text(text).map_err(|e| StoreError::Codec {
            table: DEFINITIONS_TABLE,
            message: format!("stored definition is not JSON: {e}"),
        })?;
    }
    if body == Body::Full
        && let Some(b) = sources.get(rec.id)?
    {
        rec.source = decode_text(SOURCES_TABLE, b.value())?;
    }
    Ok(())
}

/// Workflow `id`'s definition and source, read from their tables inside
/// a write transaction; `None` when either row is missing.
pub(crate) fn body_in(
    txn: &WriteTransaction,
    id: u64,
) -> Result<Option<(JsonText, String)>, StoreError> {
    let defs = txn.open_table(tables::WORKFLOW_DEFINITIONS)?;
    let sources = txn.open_table(tables::WORKFLOW_SOURCES)?;
    let (Some(d), Some(s)) = (defs.get(id)?, sources.get(id)?) else {
        return Ok(None);
    };
    let text = decode_text(DEFINITIONS_TABLE, d.value())?;
    let definition = JsonText::from_text(text).map_err(|e| StoreError::Codec {
        table: DEFINITIONS_TABLE,
        message: format!("stored definition is not JSON: {e}"),
    })?;
    Ok(Some((definition, decode_text(SOURCES_TABLE, s.value())?)))
}

/// What [`Store::commit_sync`] did to an upserted ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Upserted {
    pub id: u64,
    pub created: bool,
    /// The revisions the change went from and to; `None` when revisions
    /// are off or the registered content did not change.
    pub revision: Option<RevisionPair>,
}

/// How a write records its revision: the retention policy, who made the
/// change, and the run that made it (syncs).
#[derive(Debug, Clone, Default)]
pub struct RevisionCtx {
    pub policy: RevisionPolicy,
    pub author: Author,
    pub run_id: Option<u64>,
}

/// Workflow `id` from its tables, with the large parts `body` asks for.
pub(crate) fn read_record<W, D, S>(
    wfs: &W,
    defs: &D,
    sources: &S,
    id: u64,
    body: Body,
) -> Result<Option<WorkflowRecord>, StoreError>
where
    W: ReadableTable<u64, &'static [u8]>,
    D: ReadableTable<u64, &'static [u8]>,
    S: ReadableTable<u64, &'static [u8]>,
{
    let Some(mut rec) = wfs.get(id)?.map(|b| decode_record(b.value())).transpose()? else {
        return Ok(None);
    };
    read_body(defs, sources, &mut rec, body)?;
    Ok(Some(rec))
}

/// Key of [`tables::PACK_WORKFLOWS`].
pub(crate) fn pack_key(pack_ref: &str, name: &str) -> String {
    format!("{pack_ref}\0{name}")
}

fn pack_range(pack_ref: &str) -> (String, String) {
    (format!("{pack_ref}\0"), format!("{pack_ref}\u{1}"))
}

fn workflow_not_found(r: &str) -> StoreError {
    StoreError::NotFound(format!("Workflow '{r}' not found"))
}

use super::packs::not_found as pack_not_found;

fn read_pack_in(txn: &WriteTransaction, pack_ref: &str) -> Result<Option<Pack>, StoreError> {
    let table = txn.open_table(tables::PACKS)?;
    let pack = match table.get(pack_ref)? {
        Some(b) => Some(codec::decode(PACKS_TABLE, b.value())?),
        None => None,
    };
    Ok(pack)
}

fn write_pack_in(txn: &WriteTransaction, pack: &Pack) -> Result<(), StoreError> {
    let mut table = txn.open_table(tables::PACKS)?;
    let bytes = codec::encode(PACKS_TABLE, pack)?;
    table.insert(pack.pack_ref.as_str(), bytes.as_slice())?;
    Ok(())
}

/// The workflow with ref `r` in transaction `txn` (read or write: their
/// tables are different types), with the large parts `body` asks for.
macro_rules! by_ref {
    ($txn:expr, $r:expr, $body:expr) => {{
        let id = $txn
            .open_table(tables::WORKFLOW_REFS)?
            .get($r)?
            .map(|v| v.value());
        match id {
            None => Ok(None),
            Some(id) => read_record(
                &$txn.open_table(tables::WORKFLOWS)?,
                &$txn.open_table(tables::WORKFLOW_DEFINITIONS)?,
                &$txn.open_table(tables::WORKFLOW_SOURCES)?,
                id,
                $body,
            ),
        }
    }};
}

/// The workflow with ref `r`, with the large parts `body` asks for.
fn get_by_ref_in(
    txn: &WriteTransaction,
    r: &str,
    body: Body,
) -> Result<Option<WorkflowRecord>, StoreError> {
    by_ref!(txn, r, body)
}

/// Writes the record's small part and its indexes; with `body` also the
/// definition and the source (a change of content; a flag change leaves
/// them as they are).
fn put_in(txn: &WriteTransaction, rec: &WorkflowRecord, body: bool) -> Result<(), StoreError> {
    let old = txn
        .open_table(tables::WORKFLOWS)?
        .get(rec.id)?
        .map(|b| decode_record(b.value()).map(|r| Facets::of(&r)))
        .transpose()?;
    write_parts_in(txn, rec, body)?;
    reindex(txn, rec.id, old.as_ref(), Some(&Facets::of(rec)))?;
    txn.open_table(tables::WORKFLOW_REFS)?
        .insert(rec.r#ref.as_str(), rec.id)?;
    txn.open_table(tables::PACK_WORKFLOWS)?
        .insert(pack_key(&rec.pack_ref, &rec.name).as_str(), rec.id)?;
    Ok(())
}

/// Writes the record's small part and, with `body`, its definition and
/// source; no index changes (migration 5 rewrites records whose indexes
/// already hold them).
pub(crate) fn write_parts_in(
    txn: &WriteTransaction,
    rec: &WorkflowRecord,
    body: bool,
) -> Result<(), StoreError> {
    let bytes = encode_record(rec)?;
    txn.open_table(tables::WORKFLOWS)?
        .insert(rec.id, bytes.as_slice())?;
    if body {
        let definition = codec::encode(DEFINITIONS_TABLE, &rec.definition.get())?;
        txn.open_table(tables::WORKFLOW_DEFINITIONS)?
            .insert(rec.id, definition.as_slice())?;
        let source = codec::encode(SOURCES_TABLE, &rec.source)?;
        txn.open_table(tables::WORKFLOW_SOURCES)?
            .insert(rec.id, source.as_slice())?;
    }
    Ok(())
}

/// Removes workflow `id`'s definition and source.
fn remove_body_in(txn: &WriteTransaction, id: u64) -> Result<(), StoreError> {
    txn.open_table(tables::WORKFLOW_DEFINITIONS)?.remove(id)?;
    txn.open_table(tables::WORKFLOW_SOURCES)?.remove(id)?;
    Ok(())
}

/// Removes a workflow (`rec` may be a head): its record, body and index
/// entries; its lean newest revision first gets its own copy of the body.
fn remove_in(txn: &WriteTransaction, rec: &WorkflowRecord) -> Result<(), StoreError> {
    revisions::detach_in(txn, rec, false, None)?;
    txn.open_table(tables::WORKFLOWS)?.remove(rec.id)?;
    remove_body_in(txn, rec.id)?;
    reindex(txn, rec.id, Some(&Facets::of(rec)), None)?;
    txn.open_table(tables::WORKFLOW_REFS)?
        .remove(rec.r#ref.as_str())?;
    txn.open_table(tables::PACK_WORKFLOWS)?
        .remove(pack_key(&rec.pack_ref, &rec.name).as_str())?;
    Ok(())
}

/// Creates or updates in place and records the revision; returns the id,
/// whether it was created and the revision pair. `rec`'s id, `enabled`,
/// `stale` and times are assigned here.
fn upsert_in(
    txn: &WriteTransaction,
    mut rec: WorkflowRecord,
    now: OffsetDateTime,
    rev: &RevisionCtx,
) -> Result<Upserted, StoreError> {
    // the revision of a change compares against, and may keep, the old body
    let body = if rev.policy.enabled() {
        Body::Full
    } else {
        Body::None
    };
    let existing = get_by_ref_in(txn, &rec.r#ref, body)?;
    let created = existing.is_none();
    (rec.id, rec.enabled, rec.created) = match &existing {
        Some(e) => (e.id, e.enabled, e.created),
        None => (next_id(txn, TABLE)?, true, now),
    };
    rec.stale = false;
    rec.updated = now;
    if let Some(old) = &existing {
        // the old content is about to be overwritten: a lean newest
        // revision that reads it gets its own copy first
        revisions::detach_in(txn, old, body == Body::Full, Some(&rec))?;
    }
    put_in(txn, &rec, true)?;
    let revision = revisions::record_in(
        txn,
        rev.policy,
        existing.as_ref(),
        &rec,
        &rev.author,
        rev.run_id,
    )?;
    Ok(Upserted {
        id: rec.id,
        created,
        revision,
    })
}

fn begin_immediate(store: &Store) -> Result<super::WriteTxn, StoreError> {
    let mut txn = store.db().begin_write()?;
    txn.set_durability(redb::Durability::Immediate)
        .map_err(|e| StoreError::Task(format!("cannot set durability: {e}")))?;
    Ok(txn)
}

impl Store {
    /// Every workflow of a pack, ordered by name (served from the index),
    /// with definition and source.
    pub fn pack_workflows(&self, pack_ref: &str) -> Result<Vec<WorkflowRecord>, StoreError> {
        self.scan_pack_workflows(pack_ref, Body::Full)
    }

    /// The heads of a pack's workflows, ordered by name: what a sync needs
    /// to tell unchanged files, the records without definition and source.
    pub fn pack_workflow_heads(&self, pack_ref: &str) -> Result<Vec<WorkflowRecord>, StoreError> {
        self.scan_pack_workflows(pack_ref, Body::None)
    }

    /// A pack's workflow records through the by-pack index, ordered by
    /// name, with the large parts `body` asks for.
    fn scan_pack_workflows(
        &self,
        pack_ref: &str,
        body: Body,
    ) -> Result<Vec<WorkflowRecord>, StoreError> {
        let txn = self.db().begin_read()?;
        let index = txn.open_table(tables::PACK_WORKFLOWS)?;
        let wfs = txn.open_table(tables::WORKFLOWS)?;
        let defs = txn.open_table(tables::WORKFLOW_DEFINITIONS)?;
        let sources = txn.open_table(tables::WORKFLOW_SOURCES)?;
        let (lo, hi) = pack_range(pack_ref);
        let mut out = Vec::new();
        for entry in index.range(lo.as_str()..hi.as_str())? {
            let (_, id) = entry?;
            out.extend(read_record(&wfs, &defs, &sources, id.value(), body)?);
        }
        Ok(out)
    }

    /// The names of a pack's registered workflows (index keys only).
    pub fn pack_workflow_names(&self, pack_ref: &str) -> Result<Vec<String>, StoreError> {
        let txn = self.db().begin_read()?;
        let index = txn.open_table(tables::PACK_WORKFLOWS)?;
        let (lo, hi) = pack_range(pack_ref);
        let prefix = lo.len();
        let mut out = Vec::new();
        for entry in index.range(lo.as_str()..hi.as_str())? {
            let (k, _) = entry?;
            out.push(k.value()[prefix..].to_string());
        }
        Ok(out)
    }

    /// The workflow with this ref, if any, with definition and source.
    pub fn get_workflow(&self, r: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let txn = self.db().begin_read()?;
        by_ref!(txn, r, Body::Full)
    }

    /// One page of workflows matching `filter`, ordered by name when
    /// `pack_ref` is set and by id otherwise, and the total that match,
    /// answered from the indexes (`workflow_index`). The records come
    /// with their definition and without their `source` (left empty):
    /// lists do not show it.
    pub fn list_workflows(
        &self,
        filter: &WorkflowFilter,
        start: &Start,
        per_page: u64,
    ) -> Result<ListPage, StoreError> {
        let txn = self.db().begin_read()?;
        list_in(&txn, filter, start, per_page)
    }

    /// Every workflow matching `filter` by decoding every record: what the
    /// indexes must agree with (tests), in the order of [`Self::list_workflows`].
    pub fn list_workflows_by_scan(
        &self,
        filter: &WorkflowFilter,
    ) -> Result<Vec<WorkflowRecord>, StoreError> {
        let txn = self.db().begin_read()?;
        let wfs = txn.open_table(tables::WORKFLOWS)?;
        let defs = txn.open_table(tables::WORKFLOW_DEFINITIONS)?;
        let sources = txn.open_table(tables::WORKFLOW_SOURCES)?;
        let mut out = Vec::new();
        for entry in wfs.iter()? {
            let (_, b) = entry?;
            let mut rec = decode_record(b.value())?;
            if filter.matches(&rec) {
                read_body(&defs, &sources, &mut rec, Body::Definition)?;
                out.push(rec);
            }
        }
        if filter.pack_ref.is_some() {
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(out)
    }

    /// Creates a workflow through the API; `NotFound` for an unknown pack,
    /// `Conflict` when the ref exists.
    pub fn create_workflow(
        &self,
        content: WorkflowRecord,
        rev: &RevisionCtx,
    ) -> Result<(WorkflowRecord, Option<RevisionPair>), StoreError> {
        let txn = begin_immediate(self)?;
        let r = content.r#ref.clone();
        if read_pack_in(&txn, &content.pack_ref)?.is_none() {
            return Err(pack_not_found(&content.pack_ref));
        }
        if get_by_ref_in(&txn, &r, Body::None)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "Workflow '{r}' already exists"
            )));
        }
        let u = upsert_in(&txn, content, OffsetDateTime::now_utc(), rev)?;
        let rec = get_by_ref_in(&txn, &r, Body::Full)?.ok_or_else(|| workflow_not_found(&r))?;
        txn.commit()?;
        Ok((rec, u.revision))
    }

    /// Replaces a workflow's content in place (id, `enabled` kept).
    pub fn replace_workflow(
        &self,
        content: WorkflowRecord,
        rev: &RevisionCtx,
    ) -> Result<(WorkflowRecord, Option<RevisionPair>), StoreError> {
        let txn = begin_immediate(self)?;
        let r = content.r#ref.clone();
        if get_by_ref_in(&txn, &r, Body::None)?.is_none() {
            return Err(workflow_not_found(&r));
        }
        let u = upsert_in(&txn, content, OffsetDateTime::now_utc(), rev)?;
        let rec = get_by_ref_in(&txn, &r, Body::Full)?.ok_or_else(|| workflow_not_found(&r))?;
        txn.commit()?;
        Ok((rec, u.revision))
    }

    /// Sets the `enabled` flag of a workflow.
    pub fn set_workflow_enabled(
        &self,
        r: &str,
        enabled: bool,
    ) -> Result<WorkflowRecord, StoreError> {
        let txn = begin_immediate(self)?;
        let mut rec = get_by_ref_in(&txn, r, Body::Full)?.ok_or_else(|| workflow_not_found(r))?;
        rec.enabled = enabled;
        rec.updated = OffsetDateTime::now_utc();
        put_in(&txn, &rec, false)?;
        txn.commit()?;
        Ok(rec)
    }

    /// Deletes a workflow and returns what it was. Its revisions stay
    /// (so the delete can be undone) unless `purge`.
    pub fn delete_workflow(&self, r: &str, purge: bool) -> Result<WorkflowRecord, StoreError> {
        let txn = begin_immediate(self)?;
        let rec = get_by_ref_in(&txn, r, Body::Full)?.ok_or_else(|| workflow_not_found(r))?;
        if purge {
            // first, so that no lean revision is detached only to go
            revisions::purge_in(&txn, r)?;
        }
        remove_in(&txn, &rec)?;
        txn.commit()?;
        Ok(rec)
    }

    /// The one write transaction of a sync: every change, its revisions,
    /// the run record and the pack's `last_sync` summary commit together or
    /// not at all. `NotFound` when the pack was deleted meanwhile. Contents
    /// are read back from `changes` one at a time; what redb holds of the
    /// transaction beyond its cache goes to the database file before the
    /// commit makes it visible. `run` builds the run record once the
    /// upserts (ids, revision pairs) are known.
    pub fn commit_sync(
        &self,
        pack_ref: &str,
        changes: PendingChanges,
        policy: RevisionPolicy,
        author: Author,
        run: impl FnOnce(&[(String, Upserted)]) -> NewRun,
        summary: impl FnOnce(u64) -> RunSummary,
    ) -> Result<(u64, Vec<(String, Upserted)>), StoreError> {
        let (items, mut contents) = changes.into_parts()?;
        let txn = begin_immediate(self)?;
        let mut pack = read_pack_in(&txn, pack_ref)?.ok_or_else(|| pack_not_found(pack_ref))?;
        let now = OffsetDateTime::now_utc();
        let run_id = super::runs::reserve_run_id(&txn)?;
        let rev = RevisionCtx {
            policy,
            author,
            run_id: Some(run_id),
        };
        let mut upserted = Vec::new();
        for change in items {
            match change {
                Pending::Upsert(len) => {
                    let content = contents.next(len)?;
                    let r = content.r#ref.clone();
                    let u = upsert_in(&txn, content, now, &rev)?;
                    upserted.push((r, u));
                }
                Pending::MarkStale(r) => {
                    if let Some(mut rec) = get_by_ref_in(&txn, &r, Body::None)?
                        && !rec.stale
                    {
                        rec.stale = true;
                        rec.updated = now;
                        put_in(&txn, &rec, false)?;
                    }
                }
                Pending::Prune(r) => {
                    if let Some(rec) = get_by_ref_in(&txn, &r, Body::None)? {
                        remove_in(&txn, &rec)?;
                    }
                }
            }
        }
        insert_run_with_id(&txn, run_id, run(&upserted))?;
        pack.last_sync = Some(summary(run_id));
        write_pack_in(&txn, &pack)?;
        txn.commit()?;
        Ok((run_id, upserted))
    }

    /// Records a validation run and the pack's `last_validation` summary in
    /// one transaction. `NotFound` when the pack was deleted meanwhile.
    pub fn commit_validation(
        &self,
        pack_ref: &str,
        run: NewRun,
        summary: impl FnOnce(u64) -> RunSummary,
    ) -> Result<u64, StoreError> {
        let txn = begin_immediate(self)?;
        let mut pack = read_pack_in(&txn, pack_ref)?.ok_or_else(|| pack_not_found(pack_ref))?;
        let run_id = super::runs::insert_run(&txn, run)?;
        pack.last_validation = Some(summary(run_id));
        write_pack_in(&txn, &pack)?;
        txn.commit()?;
        Ok(run_id)
    }

    /// Number of workflows registered for a pack.
    pub fn pack_workflow_count(&self, pack_ref: &str) -> Result<u64, StoreError> {
        let txn = self.db().begin_read()?;
        let counts = txn.open_table(tables::WORKFLOW_TERM_COUNTS)?;
        let n = counts
            .get(format!("p:{pack_ref}").as_str())?
            .map_or(0, |v| v.value());
        Ok(n)
    }

    /// Deletes a pack, its workflows and its runs in one transaction.
    pub fn delete_pack_cascade(&self, pack_ref: &str) -> Result<Pack, StoreError> {
        let txn = begin_immediate(self)?;
        let pack = {
            let mut packs = txn.open_table(tables::PACKS)?;
            let removed = packs.remove(pack_ref)?;
            match removed {
                Some(b) => codec::decode::<Pack>(PACKS_TABLE, b.value())?,
                None => return Err(pack_not_found(pack_ref)),
            }
        };
        let mut gone = Vec::new();
        {
            let mut index = txn.open_table(tables::PACK_WORKFLOWS)?;
            let mut wfs = txn.open_table(tables::WORKFLOWS)?;
            let mut refs = txn.open_table(tables::WORKFLOW_REFS)?;
            let (lo, hi) = pack_range(pack_ref);
            let mut ids = Vec::new();
            for entry in index.extract_from_if(lo.as_str()..hi.as_str(), |_, _| true)? {
                let (_, id) = entry?;
                ids.push(id.value());
            }
            for id in ids {
                let removed = wfs.remove(id)?;
                if let Some(b) = removed {
                    let rec = decode_record(b.value())?;
                    refs.remove(rec.r#ref.as_str())?;
                    gone.push(rec);
                }
            }
        }
        for rec in gone {
            // the revisions stay: a lean one gets its own copy of the body
            revisions::detach_in(&txn, &rec, false, None)?;
            remove_body_in(&txn, rec.id)?;
            reindex(&txn, rec.id, Some(&Facets::of(&rec)), None)?;
        }
        super::runs::delete_pack_runs(&txn, pack_ref)?;
        txn.commit()?;
        Ok(pack)
    }
}

#[cfg(test)]
mod tests {
    use redb::ReadableTableMetadata;

    use super::*;

    #[test]
    fn a_record_is_stored_without_its_large_parts_and_read_back_with_them() {
        let (_dir, store) = store_with_pack();
        let mut c = content(3);
        c.action_file = Some("p/actions/w3.yaml".into());
        let (written, _) = store
            .create_workflow(c.clone(), &RevisionCtx::default())
            .unwrap();
        let bytes = encode_record(&written).unwrap();
        assert_eq!(bytes[0], WORKFLOW_FORMAT);
        let small = decode_record(&bytes).unwrap();
        assert_eq!(
            small,
            WorkflowRecord {
                definition: JsonText::null(),
                source: String::new(),
                ..written.clone()
            },
            "the small part holds every field but the two large ones"
        );
        assert_eq!(
            (&written.definition, &written.source),
            (&c.definition, &c.source)
        );
        assert_eq!(written.action_file.as_deref(), Some("p/actions/w3.yaml"));
        assert_eq!(store.get_workflow("p.w3").unwrap().unwrap(), written);
        let head = store.pack_workflow_heads("p").unwrap().remove(0);
        assert_eq!(head, small);
        let listed = store
            .list_workflows(&WorkflowFilter::default(), &Start::Offset(0), 10)
            .unwrap()
            .items
            .remove(0);
        assert_eq!(
            listed,
            WorkflowRecord {
                source: String::new(),
                ..written.clone()
            }
        );
        // a flag change keeps the body; a delete removes it
        store.set_workflow_enabled("p.w3", false).unwrap();
        assert_eq!(
            store.get_workflow("p.w3").unwrap().unwrap().source,
            c.source
        );
        store.delete_workflow("p.w3", false).unwrap();
        let txn = store.db().begin_read().unwrap();
        for t in [tables::WORKFLOW_DEFINITIONS, tables::WORKFLOW_SOURCES] {
            assert_eq!(txn.open_table(t).unwrap().len().unwrap(), 0);
        }
    }

    fn content(i: usize) -> WorkflowRecord {
        let json = |v: serde_json::Value| JsonText::from_value(&v).unwrap();
        WorkflowRecord {
            id: 0,
            enabled: true,
            stale: false,
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
            action_file: None,
            r#ref: format!("p.w{i}"),
            pack_ref: "p".into(),
            name: format!("w{i}"),
            label: format!("W {i}"),
            description: i.is_multiple_of(2).then(|| "d".to_string()),
            version: "1.0.0".into(),
            param_schema: json(serde_json::json!({"type": "object", "i": i})),
            out_schema: JsonText::null(),
            definition: json(serde_json::json!({"tasks": [{"name": "a", "n": i}]})),
            tags: vec!["t".into()],
            task_count: 1,
            source_file: format!("p/workflows/w{i}.yaml"),
            content_hash: format!("{i:064}"),
            deps: vec!["core.echo".into()],
            dep_packs: vec![],
            deps_fingerprint: "fp".into(),
            warnings: vec![],
            diagnostics: json(serde_json::json!([])),
            source: "label: x\n".repeat(i + 1),
        }
    }

    fn new_run() -> NewRun {
        NewRun {
            pack_ref: "p".into(),
            kind: "sync".into(),
            user: "u".into(),
            started: OffsetDateTime::now_utc(),
            duration_ms: 1,
            dry_run: false,
            prune: false,
            counts: Default::default(),
            details: JsonText::from_value(&serde_json::json!({"k": [1, 2]})).unwrap(),
        }
    }

    fn summary(run_id: u64) -> RunSummary {
        RunSummary {
            run_id,
            at: OffsetDateTime::now_utc(),
            ok: true,
            error_count: 0,
            warning_count: 0,
            workflow_count: 0,
        }
    }

    fn store_with_pack() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .create_pack(super::super::NewPack::minimal("p", "P"))
            .unwrap();
        (dir, store)
    }

    #[test]
    fn spilled_and_in_memory_changes_commit_the_same_records_and_leave_no_file() {
        for spill_after in [0, usize::MAX] {
            let (dir, store) = store_with_pack();
            let mut pending = PendingChanges::with_spill_after(dir.path(), spill_after);
            for i in 0..40 {
                pending.upsert(&content(i)).unwrap();
            }
            pending.mark_stale("p.none".into());
            pending.prune("p.gone".into());
            assert_eq!(pending.spilled(), spill_after == 0);
            assert_eq!((pending.len(), pending.upserts()), (42, 40));
            let (run_id, upserted) = store
                .commit_sync(
                    "p",
                    pending,
                    RevisionPolicy::default(),
                    Author::default(),
                    |_| new_run(),
                    summary,
                )
                .unwrap();
            assert_eq!(upserted.len(), 40);
            assert!(upserted.iter().all(|(_, u)| u.created));
            let mut recs = store.pack_workflows("p").unwrap();
            recs.sort_by_key(|r| r.id);
            assert_eq!(recs.len(), 40);
            for (i, rec) in recs.iter().enumerate() {
                let c = content(i);
                assert_eq!(
                    (&rec.r#ref, &rec.definition, &rec.param_schema, &rec.source),
                    (&c.r#ref, &c.definition, &c.param_schema, &c.source)
                );
                assert_eq!(
                    (&rec.out_schema, &rec.description),
                    (&c.out_schema, &c.description)
                );
            }
            let run = store.get_run(run_id).unwrap().unwrap();
            assert_eq!(run.details, serde_json::json!({"k": [1, 2]}));
            let names: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                names,
                [super::super::DB_FILE_NAME],
                "no temporary file is left"
            );
        }
    }

    #[test]
    fn a_workflow_without_history_gets_a_baseline_revision_at_its_first_change() {
        let (_dir, store) = store_with_pack();
        let off = RevisionCtx {
            policy: RevisionPolicy::OFF,
            ..RevisionCtx::default()
        };
        let (_, none) = store.create_workflow(content(1), &off).unwrap();
        assert_eq!(none, None, "revisions off: nothing recorded");
        let on = RevisionCtx {
            author: Author {
                by: "alice".into(),
                trigger: "update".into(),
            },
            ..RevisionCtx::default()
        };
        let mut changed = content(1);
        changed.content_hash = "f".repeat(64);
        changed.source = "label: changed\n".into();
        let (_, pair) = store.replace_workflow(changed.clone(), &on).unwrap();
        assert_eq!(
            pair,
            Some(RevisionPair {
                from: Some(1),
                to: 2
            })
        );
        let base = store.get_revision("p.w1", 1).unwrap().unwrap();
        assert_eq!(
            (base.trigger.as_str(), base.by.as_str()),
            ("baseline", ""),
            "the content registered before history began"
        );
        assert_eq!(base.source, content(1).source);
        let new = store.get_revision("p.w1", 2).unwrap().unwrap();
        assert_eq!(
            (new.by.as_str(), new.source.as_str()),
            ("alice", "label: changed\n")
        );
        // the same content again records nothing
        let (_, same) = store.replace_workflow(changed, &on).unwrap();
        assert_eq!(same, None);
        assert_eq!(store.revision_count().unwrap(), 2);
    }

    #[test]
    fn a_sync_commit_that_cannot_complete_writes_nothing() {
        let (dir, store) = store_with_pack();
        let mut pending = PendingChanges::with_spill_after(dir.path(), 0);
        for i in 0..10 {
            pending.upsert(&content(i)).unwrap();
        }
        store.delete_pack_cascade("p").unwrap();
        let err = store
            .commit_sync(
                "p",
                pending,
                RevisionPolicy::default(),
                Author::default(),
                |_| new_run(),
                summary,
            )
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert!(store.get_workflow("p.w1").unwrap().is_none());
        assert!(store.list_runs(None, 1, 10).unwrap().0.is_empty());
    }
}
