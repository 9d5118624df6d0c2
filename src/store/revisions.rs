//! Workflow revisions: every registered content a workflow had, numbered
//! per ref from 1, kept by `(ref, n)` with a global `seq` → `(ref, n)`
//! index in write order for the global cap.
//!
//! A revision is written inside the write transaction of the change that
//! made it (sync, workflows API, upload, restore), so a crash leaves both
//! or neither. A change whose content hash and normalized definition equal
//! the current record's writes none, so an unchanged sync writes nothing.
//! A workflow registered before revisions existed (or while they were off)
//! gets its current content written first as a `baseline` revision, so
//! every change has a "from". Retention is pruned in the same
//! transaction: the newest [`RevisionPolicy::keep`] per ref and at most
//! [`RevisionPolicy::max_total`] in all (oldest first). Deleting a workflow
//! keeps its revisions (numbering continues if the ref comes back) unless
//! the delete purges them.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::codec::JsonText;
use super::workflows::WorkflowRecord;
use super::{Store, StoreError, codec, next_id, tables};

const TABLE: &str = "revisions";

/// Default of `revisions.keep`.
pub const DEFAULT_KEEP: u32 = 50;
/// Default of `revisions.max_total`.
pub const DEFAULT_MAX_TOTAL: u64 = 50_000;

/// How many revisions are kept (`revisions.keep`, `revisions.max_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisionPolicy {
    /// Newest revisions kept per workflow; 0 turns revisions off.
    pub keep: u32,
    /// Most revisions kept in all; the oldest go first.
    pub max_total: u64,
}

impl Default for RevisionPolicy {
    fn default() -> Self {
        RevisionPolicy {
            keep: DEFAULT_KEEP,
            max_total: DEFAULT_MAX_TOTAL,
        }
    }
}

impl RevisionPolicy {
    /// No revisions are written.
    pub const OFF: RevisionPolicy = RevisionPolicy {
        keep: 0,
        max_total: 0,
    };

    pub fn enabled(&self) -> bool {
        self.keep > 0 && self.max_total > 0
    }
}

/// Who and what made a change, recorded in its revision.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Author {
    /// Login (with `via token '…'` for an API token), or `watch`.
    pub by: String,
    /// `sync`, `auto`, `watch`, `upload`, `create`, `update`, `restore`.
    pub trigger: String,
}

/// The revisions a change went from and to (`from` is `None` for a
/// workflow's first revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RevisionPair {
    pub from: Option<u64>,
    pub to: u64,
}

/// One stored revision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub r#ref: String,
    /// Number within the ref, from 1.
    pub n: u64,
    /// Global write order (the key of the cap index).
    pub seq: u64,
    #[serde(with = "codec::timestamp")]
    pub at: OffsetDateTime,
    pub by: String,
    pub trigger: String,
    /// The sync run that made it; `None` for API writes.
    pub run_id: Option<u64>,
    /// Relative to `packs_base_dir`; empty for API workflows.
    pub source_file: String,
    /// Hex sha256 of the source bytes.
    pub content_hash: String,
    #[serde(with = "codec::json_raw")]
    pub definition: JsonText,
    pub source: String,
    pub error_count: u32,
    pub warning_count: u32,
    /// The diagnostics it had, as a JSON array.
    #[serde(with = "codec::json_raw")]
    pub diagnostics: JsonText,
}

fn decode_rev(bytes: &[u8]) -> Result<Revision, StoreError> {
    codec::decode(TABLE, bytes)
}

/// The leading fields of a [`Revision`] (postcard is positional), decoded
/// without copying its source and definition: what a write needs to
/// compare and prune.
#[derive(Deserialize)]
struct RevHead<'a> {
    _ref: &'a str,
    _n: u64,
    seq: u64,
    _at: i128,
    _by: &'a str,
    _trigger: &'a str,
    _run_id: Option<u64>,
    _source_file: &'a str,
    content_hash: String,
}

fn decode_head(bytes: &[u8]) -> Result<(u64, String), StoreError> {
    let corrupt = |message: String| StoreError::Codec {
        table: TABLE,
        message,
    };
    match bytes.split_first() {
        Some((&codec::FORMAT_VERSION, rest)) => {
            let (h, _): (RevHead, _) = postcard::take_from_bytes(rest)
                .map_err(|e| corrupt(format!("cannot decode record: {e}")))?;
            Ok((h.seq, h.content_hash))
        }
        _ => decode_rev(bytes).map(|r| (r.seq, r.content_hash)),
    }
}

/// The newest revision number of a ref, if any.
fn latest_in(txn: &WriteTransaction, r: &str) -> Result<Option<u64>, StoreError> {
    let table = txn.open_table(tables::REVISIONS)?;
    let last = table.range((r, 0u64)..=(r, u64::MAX))?.next_back();
    match last {
        Some(entry) => Ok(Some(entry?.0.value().1)),
        None => Ok(None),
    }
}

/// The `n` a ref's next revision gets: after the newest kept, or after the
/// highest ever written (kept in a counter so a purge or prune never reuses
/// a number a link may still name).
fn next_n_in(txn: &WriteTransaction, r: &str, latest: Option<u64>) -> Result<u64, StoreError> {
    let key = format!("revision:{r}");
    let mut counters = txn.open_table(tables::COUNTERS)?;
    let counted = counters.get(key.as_str())?.map(|v| v.value()).unwrap_or(0);
    let n = counted.max(latest.unwrap_or(0)) + 1;
    counters.insert(key.as_str(), n)?;
    Ok(n)
}

fn put_rev_in(txn: &WriteTransaction, rev: &Revision) -> Result<(), StoreError> {
    let bytes = codec::encode(TABLE, rev)?;
    txn.open_table(tables::REVISIONS)?
        .insert((rev.r#ref.as_str(), rev.n), bytes.as_slice())?;
    txn.open_table(tables::REVISION_SEQ)?
        .insert(rev.seq, (rev.r#ref.as_str(), rev.n))?;
    Ok(())
}

fn revision_of(
    txn: &WriteTransaction,
    rec: &WorkflowRecord,
    n: u64,
    author: &Author,
    run_id: Option<u64>,
    at: OffsetDateTime,
) -> Result<Revision, StoreError> {
    Ok(Revision {
        r#ref: rec.r#ref.clone(),
        n,
        seq: next_id(txn, TABLE)?,
        at,
        by: author.by.clone(),
        trigger: author.trigger.clone(),
        run_id,
        source_file: rec.source_file.clone(),
        content_hash: rec.content_hash.clone(),
        definition: rec.definition.clone(),
        source: rec.source.clone(),
        // registered content has no errors; its diagnostics are warnings
        error_count: 0,
        warning_count: u32::try_from(rec.warnings.len()).unwrap_or(u32::MAX),
        diagnostics: rec.diagnostics.clone(),
    })
}

/// True when `new` registers other content than `old` (the revision-worthy
/// part: source bytes or normalized definition).
pub(crate) fn content_changed(old: &WorkflowRecord, new: &WorkflowRecord) -> bool {
    old.content_hash != new.content_hash || old.definition != new.definition
}

/// Records `new` (just written over `old`, if any) as a revision of its
/// ref and prunes retention; `None` when revisions are off or the content
/// did not change.
pub(crate) fn record_in(
    txn: &WriteTransaction,
    policy: RevisionPolicy,
    old: Option<&WorkflowRecord>,
    new: &WorkflowRecord,
    author: &Author,
    run_id: Option<u64>,
) -> Result<Option<RevisionPair>, StoreError> {
    if !policy.enabled() {
        return Ok(None);
    }
    if old.is_some_and(|o| !content_changed(o, new)) {
        return Ok(None);
    }
    let r = new.r#ref.as_str();
    let mut latest = latest_in(txn, r)?;
    if let Some(old) = old {
        let current = match latest {
            Some(n) => head_in(txn, r, n)?.map(|(_, hash)| hash == old.content_hash),
            None => None,
        };
        // No history, or history that does not end at the current content
        // (written while revisions were off): keep the current content
        // first, so the change has a "from".
        if current != Some(true) {
            let n = next_n_in(txn, r, latest)?;
            let baseline = Author {
                by: String::new(),
                trigger: "baseline".into(),
            };
            let rev = revision_of(txn, old, n, &baseline, None, old.updated)?;
            put_rev_in(txn, &rev)?;
            latest = Some(n);
        }
    }
    let n = next_n_in(txn, r, latest)?;
    let rev = revision_of(txn, new, n, author, run_id, new.updated)?;
    put_rev_in(txn, &rev)?;
    prune_in(txn, policy, r, n)?;
    Ok(Some(RevisionPair {
        from: latest,
        to: n,
    }))
}

/// `(seq, content_hash)` of one revision.
fn head_in(txn: &WriteTransaction, r: &str, n: u64) -> Result<Option<(u64, String)>, StoreError> {
    let table = txn.open_table(tables::REVISIONS)?;
    let found = table.get((r, n))?;
    match found {
        Some(b) => decode_head(b.value()).map(Some),
        None => Ok(None),
    }
}

/// Drops a ref's revisions older than the newest `keep`, then the oldest
/// of all past `max_total`.
fn prune_in(
    txn: &WriteTransaction,
    policy: RevisionPolicy,
    r: &str,
    newest: u64,
) -> Result<(), StoreError> {
    let mut revs = txn.open_table(tables::REVISIONS)?;
    let mut seqs = txn.open_table(tables::REVISION_SEQ)?;
    let keep_from = newest.saturating_sub(u64::from(policy.keep)) + 1;
    if keep_from > 1 {
        let mut old = Vec::new();
        for entry in revs.extract_from_if((r, 0u64)..(r, keep_from), |_, _| true)? {
            let (_, v) = entry?;
            old.push(decode_head(v.value())?.0);
        }
        for seq in old {
            seqs.remove(seq)?;
        }
    }
    let total = seqs.len()?;
    if total > policy.max_total {
        let excess = total - policy.max_total;
        let mut gone = Vec::new();
        for entry in seqs
            .iter()?
            .take(usize::try_from(excess).unwrap_or(usize::MAX))
        {
            let (seq, key) = entry?;
            let (kr, kn) = key.value();
            gone.push((seq.value(), kr.to_string(), kn));
        }
        for (seq, kr, kn) in gone {
            seqs.remove(seq)?;
            revs.remove((kr.as_str(), kn))?;
        }
    }
    Ok(())
}

/// Removes every revision of a ref (a purging delete).
pub(crate) fn purge_in(txn: &WriteTransaction, r: &str) -> Result<u64, StoreError> {
    let mut revs = txn.open_table(tables::REVISIONS)?;
    let mut seqs = txn.open_table(tables::REVISION_SEQ)?;
    let mut gone = Vec::new();
    for entry in revs.extract_from_if((r, 0u64)..=(r, u64::MAX), |_, _| true)? {
        let (_, v) = entry?;
        gone.push(decode_head(v.value())?.0);
    }
    for seq in &gone {
        seqs.remove(*seq)?;
    }
    Ok(gone.len() as u64)
}

impl Store {
    /// One page of a ref's revisions, newest first (without `source` and
    /// `definition`, left empty), and how many there are.
    pub fn list_revisions(
        &self,
        r: &str,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<Revision>, u64), StoreError> {
        let skip =
            usize::try_from(page.saturating_sub(1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(per_page).unwrap_or(usize::MAX);
        let txn = self.db().begin_read()?;
        let revs = txn.open_table(tables::REVISIONS)?;
        let mut total = 0u64;
        let mut out = Vec::new();
        for entry in revs.range((r, 0u64)..=(r, u64::MAX))?.rev() {
            let (_, v) = entry?;
            if (total as usize) >= skip && out.len() < take {
                let mut rev = decode_rev(v.value())?;
                rev.source = String::new();
                rev.definition = JsonText::null();
                out.push(rev);
            }
            total += 1;
        }
        Ok((out, total))
    }

    /// One revision of a ref, in full.
    pub fn get_revision(&self, r: &str, n: u64) -> Result<Option<Revision>, StoreError> {
        let txn = self.db().begin_read()?;
        let revs = txn.open_table(tables::REVISIONS)?;
        let found = revs.get((r, n))?;
        match found {
            Some(b) => decode_rev(b.value()).map(Some),
            None => Ok(None),
        }
    }

    /// The newest revision number of a ref below `n` (`u64::MAX`: the
    /// newest of all).
    pub fn revision_before(&self, r: &str, n: u64) -> Result<Option<u64>, StoreError> {
        let txn = self.db().begin_read()?;
        let revs = txn.open_table(tables::REVISIONS)?;
        let last = revs.range((r, 0u64)..(r, n))?.next_back();
        match last {
            Some(entry) => Ok(Some(entry?.0.value().1)),
            None => Ok(None),
        }
    }

    /// How many revisions are stored in all.
    pub fn revision_count(&self) -> Result<u64, StoreError> {
        let txn = self.db().begin_read()?;
        Ok(txn.open_table(tables::REVISION_SEQ)?.len()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_decodes_the_same_seq_and_hash_as_the_full_record() {
        let rev = Revision {
            r#ref: "p.w".into(),
            n: 3,
            seq: 17,
            at: OffsetDateTime::now_utc(),
            by: "alice via token 'ci'".into(),
            trigger: "sync".into(),
            run_id: Some(9),
            source_file: "p/workflows/w.yaml".into(),
            content_hash: "ab".repeat(32),
            definition: JsonText::from_value(&serde_json::json!({"tasks": []})).unwrap(),
            source: "label: x\n".into(),
            error_count: 0,
            warning_count: 1,
            diagnostics: JsonText::from_value(&serde_json::json!([{"code": "x"}])).unwrap(),
        };
        let bytes = codec::encode(TABLE, &rev).unwrap();
        assert_eq!(decode_head(&bytes).unwrap(), (17, "ab".repeat(32)));
        assert_eq!(decode_rev(&bytes).unwrap(), rev);
        assert!(decode_head(&[codec::FORMAT_VERSION, 0xff]).is_err());
        assert!(decode_head(&[]).is_err());
    }
}
