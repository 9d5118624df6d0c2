//! Sync and validation runs: records by id plus a `(pack_ref, id)` index,
//! the last [`RUNS_KEPT_PER_PACK`] kept per pack. Runs are written inside the
//! transaction of the sync or validation they describe.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Store, StoreError, codec, next_id, tables};

const TABLE: &str = "runs";

/// Runs kept per pack; older ones are deleted when a new one is recorded.
pub const RUNS_KEPT_PER_PACK: usize = 100;

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub loaded: u64,
    pub registered: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub missing: u64,
    pub pruned: u64,
    pub errors: u64,
    pub warnings: u64,
    pub suppressed: u64,
}

/// A run as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub pack_ref: String,
    /// `sync` or `validate`.
    pub kind: String,
    /// Login of the user who started it.
    pub user: String,
    #[serde(with = "codec::timestamp")]
    pub started: OffsetDateTime,
    pub duration_ms: u64,
    pub dry_run: bool,
    pub prune: bool,
    pub counts: RunCounts,
    /// The full report (workflows, failed, missing, pruned, errors,
    /// diagnostics) as a JSON object.
    #[serde(with = "codec::json_text")]
    pub details: serde_json::Value,
}

/// A run to record (the id is assigned on insert).
#[derive(Debug, Clone, PartialEq)]
pub struct NewRun {
    pub pack_ref: String,
    pub kind: String,
    pub user: String,
    pub started: OffsetDateTime,
    pub duration_ms: u64,
    pub dry_run: bool,
    pub prune: bool,
    pub counts: RunCounts,
    /// The report as JSON text: written as is, never built as a tree.
    pub details: codec::JsonText,
}

/// [`RunRecord`] as written: the same fields, the details already text.
#[derive(Serialize)]
struct RunOut {
    id: u64,
    pack_ref: String,
    kind: String,
    user: String,
    #[serde(with = "codec::timestamp")]
    started: OffsetDateTime,
    duration_ms: u64,
    dry_run: bool,
    prune: bool,
    counts: RunCounts,
    #[serde(with = "codec::json_raw")]
    details: codec::JsonText,
}

/// Inserts a run inside `txn` and trims the pack's history; returns its id.
pub(crate) fn insert_run(txn: &WriteTransaction, run: NewRun) -> Result<u64, StoreError> {
    let id = reserve_run_id(txn)?;
    insert_run_with_id(txn, id, run)?;
    Ok(id)
}

/// The id the next run gets, taken now (a sync's revisions name their run
/// before the run record is written in the same transaction).
pub(crate) fn reserve_run_id(txn: &WriteTransaction) -> Result<u64, StoreError> {
    next_id(txn, TABLE)
}

/// [`insert_run`] with an id from [`reserve_run_id`].
pub(crate) fn insert_run_with_id(
    txn: &WriteTransaction,
    id: u64,
    run: NewRun,
) -> Result<(), StoreError> {
    let rec = RunOut {
        id,
        pack_ref: run.pack_ref,
        kind: run.kind,
        user: run.user,
        started: run.started,
        duration_ms: run.duration_ms,
        dry_run: run.dry_run,
        prune: run.prune,
        counts: run.counts,
        details: run.details,
    };
    let bytes = codec::encode(TABLE, &rec)?;
    let mut runs = txn.open_table(tables::RUNS)?;
    runs.insert(id, bytes.as_slice())?;
    let mut index = txn.open_table(tables::PACK_RUNS)?;
    let pack = rec.pack_ref.as_str();
    index.insert((pack, id), ())?;
    let mut ids = Vec::new();
    for entry in index.range((pack, 0u64)..=(pack, u64::MAX))? {
        let (k, _) = entry?;
        ids.push(k.value().1);
    }
    if ids.len() > RUNS_KEPT_PER_PACK {
        for old in &ids[..ids.len() - RUNS_KEPT_PER_PACK] {
            index.remove((pack, *old))?;
            runs.remove(*old)?;
        }
    }
    Ok(())
}

/// Deletes every run of a pack inside `txn`.
pub(crate) fn delete_pack_runs(txn: &WriteTransaction, pack_ref: &str) -> Result<(), StoreError> {
    let mut index = txn.open_table(tables::PACK_RUNS)?;
    let mut runs = txn.open_table(tables::RUNS)?;
    let mut ids = Vec::new();
    for entry in index.extract_from_if((pack_ref, 0u64)..=(pack_ref, u64::MAX), |_, _| true)? {
        let (k, _) = entry?;
        ids.push(k.value().1);
    }
    for id in ids {
        runs.remove(id)?;
    }
    Ok(())
}

fn decode_run(bytes: &[u8]) -> Result<RunRecord, StoreError> {
    codec::decode(TABLE, bytes)
}

impl Store {
    /// One page of runs, newest first, of one pack or of all; and the total.
    pub fn list_runs(
        &self,
        pack_ref: Option<&str>,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<RunRecord>, u64), StoreError> {
        let skip =
            usize::try_from(page.saturating_sub(1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(per_page).unwrap_or(usize::MAX);
        let txn = self.db().begin_read()?;
        let runs = txn.open_table(tables::RUNS)?;
        let mut out = Vec::new();
        match pack_ref {
            Some(pack) => {
                let index = txn.open_table(tables::PACK_RUNS)?;
                let mut total = 0u64;
                let mut ids = Vec::new();
                for entry in index.range((pack, 0u64)..=(pack, u64::MAX))?.rev() {
                    let (k, _) = entry?;
                    if (total as usize) >= skip && ids.len() < take {
                        ids.push(k.value().1);
                    }
                    total += 1;
                }
                for id in ids {
                    if let Some(b) = runs.get(id)? {
                        out.push(decode_run(b.value())?);
                    }
                }
                Ok((out, total))
            }
            None => {
                let total = runs.len()?;
                for entry in runs.iter()?.rev().skip(skip).take(take) {
                    let (_, b) = entry?;
                    out.push(decode_run(b.value())?);
                }
                Ok((out, total))
            }
        }
    }

    /// The run with this id, if any.
    pub fn get_run(&self, id: u64) -> Result<Option<RunRecord>, StoreError> {
        let txn = self.db().begin_read()?;
        let runs = txn.open_table(tables::RUNS)?;
        match runs.get(id)? {
            Some(b) => decode_run(b.value()).map(Some),
            None => Ok(None),
        }
    }
}
