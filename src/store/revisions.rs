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
//!
//! **The lean newest revision.** A ref's newest revision whose content is
//! the current workflow record's (the revision the change that registered
//! that content wrote) holds no copy of the source and the definition: its
//! body is [`RevisionBody::Current`], and [`Store::get_revision`] reads
//! both from the workflow record's own tables (`workflow_sources`,
//! `workflow_definitions`) in the same read transaction. So a sync that
//! creates a workflow writes its large parts once, not twice. Before the
//! record's content goes away (its content changes, with revisions on or
//! off, or the workflow or its pack is deleted), the same write
//! transaction gives the lean revision its own copy ([`detach_in`]); every
//! other revision is [`RevisionBody::Own`]. A revision pruned or purged
//! while lean is simply deleted.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::codec::JsonText;
use super::workflows::WorkflowRecord;
use super::{Store, StoreError, codec, next_id, tables};

const TABLE: &str = "revisions";

/// Format version of a revision record ([`tables::REVISIONS`]) this build
/// writes: 2 since schema version 6 ([`StoredRevision`], whose body may be
/// lean). Format 1, the [`Revision`] layout with the source and the
/// definition always inline, is still read (a format-1 revision is
/// [`RevisionBody::Own`]); nothing rewrites it.
pub const REVISION_FORMAT: u8 = 2;

/// Format version of the revisions schema versions 3–5 wrote.
const REVISION_FORMAT_V1: u8 = 1;

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

impl Author {
    /// A change asked by `login`, with the API token `token` if one was
    /// used: `by` is `login via token 'name'` then.
    pub fn of_login(login: &str, token: Option<&str>, trigger: &str) -> Author {
        let by = match token {
            Some(name) => format!("{login} via token '{name}'"),
            None => login.to_string(),
        };
        Author {
            by,
            trigger: trigger.to_string(),
        }
    }
}

/// The revisions a change went from and to (`from` is `None` for a
/// workflow's first revision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RevisionPair {
    pub from: Option<u64>,
    pub to: u64,
}

/// One revision, with its source and definition (what reads return).
/// Its serde layout is the stored format 1; this build stores
/// [`StoredRevision`] (format 2).
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

/// Where a stored revision's source text and normalized definition are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum RevisionBody {
    /// In the revision itself.
    Own {
        #[serde(with = "codec::json_raw")]
        definition: JsonText,
        source: String,
    },
    /// In the current workflow record of the revision's ref (its
    /// `workflow_definitions` and `workflow_sources` rows): only ever the
    /// ref's newest revision, while its content hash and definition are the
    /// record's. Encoded as postcard's variant index 1, one byte.
    Current,
}

/// A revision as [`tables::REVISIONS`] holds it (format
/// [`REVISION_FORMAT`]): the fields of [`Revision`] in the same order, the
/// source and the definition replaced by a [`RevisionBody`] in their place
/// (postcard is positional: the fields before it are format 1's, so
/// [`decode_head`] reads both formats alike).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredRevision {
    r#ref: String,
    n: u64,
    seq: u64,
    #[serde(with = "codec::timestamp")]
    at: OffsetDateTime,
    by: String,
    trigger: String,
    run_id: Option<u64>,
    source_file: String,
    content_hash: String,
    body: RevisionBody,
    error_count: u32,
    warning_count: u32,
    #[serde(with = "codec::json_raw")]
    diagnostics: JsonText,
}

impl StoredRevision {
    /// The revision with `definition` and `source` as its large parts.
    fn into_revision(self, definition: JsonText, source: String) -> Revision {
        Revision {
            r#ref: self.r#ref,
            n: self.n,
            seq: self.seq,
            at: self.at,
            by: self.by,
            trigger: self.trigger,
            run_id: self.run_id,
            source_file: self.source_file,
            content_hash: self.content_hash,
            definition,
            source,
            error_count: self.error_count,
            warning_count: self.warning_count,
            diagnostics: self.diagnostics,
        }
    }
}

impl From<Revision> for StoredRevision {
    /// A format-1 revision: its large parts are its own.
    fn from(r: Revision) -> Self {
        StoredRevision {
            r#ref: r.r#ref,
            n: r.n,
            seq: r.seq,
            at: r.at,
            by: r.by,
            trigger: r.trigger,
            run_id: r.run_id,
            source_file: r.source_file,
            content_hash: r.content_hash,
            body: RevisionBody::Own {
                definition: r.definition,
                source: r.source,
            },
            error_count: r.error_count,
            warning_count: r.warning_count,
            diagnostics: r.diagnostics,
        }
    }
}

/// A revision from its [`tables::REVISIONS`] bytes, of either format.
fn decode_stored(bytes: &[u8]) -> Result<StoredRevision, StoreError> {
    match bytes.first() {
        Some(&REVISION_FORMAT_V1) => {
            codec::decode_v::<Revision>(TABLE, REVISION_FORMAT_V1, bytes).map(StoredRevision::from)
        }
        _ => codec::decode_v(TABLE, REVISION_FORMAT, bytes),
    }
}

fn encode_stored(rev: &StoredRevision) -> Result<Vec<u8>, StoreError> {
    codec::encode_v(TABLE, REVISION_FORMAT, rev)
}

/// The leading fields of a revision of either format (postcard is
/// positional), decoded without copying its source and definition: what a
/// write needs to compare, detach and prune.
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
    content_hash: &'a str,
}

/// A format-2 head: the leading fields and which body follows (borrowed,
/// so an own body is skipped, not copied).
#[derive(Deserialize)]
struct RevHead2<'a> {
    #[serde(borrow)]
    head: RevHead<'a>,
    #[serde(borrow)]
    body: BodyTag<'a>,
}

/// [`RevisionBody`]'s variants, in the same order, borrowing.
#[derive(Deserialize)]
enum BodyTag<'a> {
    Own {
        _definition: &'a str,
        _source: &'a str,
    },
    Current,
}

/// What a write needs of a stored revision.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    seq: u64,
    content_hash: String,
    /// Its body is [`RevisionBody::Current`].
    lean: bool,
}

fn decode_head(bytes: &[u8]) -> Result<Head, StoreError> {
    let corrupt = |e: postcard::Error| StoreError::Codec {
        table: TABLE,
        message: format!("cannot decode record: {e}"),
    };
    let head = |h: RevHead, lean| Head {
        seq: h.seq,
        content_hash: h.content_hash.to_string(),
        lean,
    };
    match bytes.split_first() {
        Some((&REVISION_FORMAT_V1, rest)) => {
            let (h, _): (RevHead, _) = postcard::take_from_bytes(rest).map_err(corrupt)?;
            Ok(head(h, false))
        }
        Some((&REVISION_FORMAT, rest)) => {
            let (h, _): (RevHead2, _) = postcard::take_from_bytes(rest).map_err(corrupt)?;
            Ok(head(h.head, matches!(h.body, BodyTag::Current)))
        }
        // the codec's own message (unknown version, empty record)
        _ => decode_stored(bytes).map(|r| Head {
            seq: r.seq,
            content_hash: r.content_hash,
            lean: r.body == RevisionBody::Current,
        }),
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

fn put_rev_in(txn: &WriteTransaction, rev: &StoredRevision) -> Result<(), StoreError> {
    let bytes = encode_stored(rev)?;
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
    body: RevisionBody,
) -> Result<StoredRevision, StoreError> {
    Ok(StoredRevision {
        r#ref: rec.r#ref.clone(),
        n,
        seq: next_id(txn, TABLE)?,
        at: rec.updated,
        by: author.by.clone(),
        trigger: author.trigger.clone(),
        run_id,
        source_file: rec.source_file.clone(),
        content_hash: rec.content_hash.clone(),
        body,
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
/// did not change. `old` carries its large parts (a baseline copies them);
/// a lean newest revision of `old`'s content must have been detached
/// ([`detach_in`]) before `new` was written over it. `new`'s revision is
/// lean: `new` is the current record.
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
    let newest = match latest {
        Some(n) => head_in(txn, r, n)?,
        None => None,
    };
    if newest.as_ref().is_some_and(|h| h.lean) {
        // Its content was the record's, which is gone now: a missed
        // detach would silently make it the new content.
        return Err(StoreError::Codec {
            table: TABLE,
            message: format!(
                "the newest revision of '{r}' still reads the workflow's content, which changed"
            ),
        });
    }
    if let Some(old) = old {
        // No history, or history that does not end at the current content
        // (written while revisions were off): keep the current content
        // first, so the change has a "from". Its content is about to be
        // overwritten, so it is a copy.
        if newest.is_none_or(|h| h.content_hash != old.content_hash) {
            let n = next_n_in(txn, r, latest)?;
            let baseline = Author {
                by: String::new(),
                trigger: "baseline".into(),
            };
            let body = RevisionBody::Own {
                definition: old.definition.clone(),
                source: old.source.clone(),
            };
            let rev = revision_of(txn, old, n, &baseline, None, body)?;
            put_rev_in(txn, &rev)?;
            latest = Some(n);
        }
    }
    let n = next_n_in(txn, r, latest)?;
    let rev = revision_of(txn, new, n, author, run_id, RevisionBody::Current)?;
    put_rev_in(txn, &rev)?;
    prune_in(txn, policy, r, n)?;
    Ok(Some(RevisionPair {
        from: latest,
        to: n,
    }))
}

/// Before workflow `old`'s content is overwritten by `new`'s (`Some`) or
/// removed (`None`: the workflow or its pack is deleted): when the ref's
/// newest revision is lean and the content really goes away, it gets its
/// own copy of the source and the definition — `old`'s own when
/// `old_has_body` (read with [`Body::Full`](super::workflows::Body)),
/// else read from `old`'s rows of the record tables (`old` is a head).
/// Runs whatever the policy (a lean revision written while revisions were
/// on must not take on content registered while they are off). Nothing to
/// do, and nothing read but one head, when the newest revision already has
/// its own body.
pub(crate) fn detach_in(
    txn: &WriteTransaction,
    old: &WorkflowRecord,
    old_has_body: bool,
    new: Option<&WorkflowRecord>,
) -> Result<(), StoreError> {
    let r = old.r#ref.as_str();
    let Some(n) = latest_in(txn, r)? else {
        return Ok(());
    };
    let stored = {
        let revs = txn.open_table(tables::REVISIONS)?;
        let Some(bytes) = revs.get((r, n))? else {
            return Ok(());
        };
        if !decode_head(bytes.value())?.lean {
            return Ok(());
        }
        decode_stored(bytes.value())?
    };
    if stored.content_hash != old.content_hash {
        return Err(lean_without_record(r, n));
    }
    let (definition, source) = if old_has_body {
        (old.definition.clone(), old.source.clone())
    } else {
        match super::workflows::body_in(txn, old.id)? {
            Some(body) => body,
            None => return Err(lean_without_record(r, n)),
        }
    };
    if let Some(new) = new
        && new.content_hash == old.content_hash
        && new.definition == definition
    {
        // the same content is written again: the revision still reads it
        return Ok(());
    }
    let rev = StoredRevision {
        body: RevisionBody::Own { definition, source },
        ..stored
    };
    let bytes = encode_stored(&rev)?;
    txn.open_table(tables::REVISIONS)?
        .insert((r, n), bytes.as_slice())?;
    Ok(())
}

fn lean_without_record(r: &str, n: u64) -> StoreError {
    StoreError::Codec {
        table: TABLE,
        message: format!(
            "revision {n} of '{r}' reads the workflow's content, but the workflow's record is \
             missing or holds other content"
        ),
    }
}

/// The head of one revision.
fn head_in(txn: &WriteTransaction, r: &str, n: u64) -> Result<Option<Head>, StoreError> {
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
            old.push(decode_head(v.value())?.seq);
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
        gone.push(decode_head(v.value())?.seq);
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
                let rev = decode_stored(v.value())?;
                out.push(rev.into_revision(JsonText::null(), String::new()));
            }
            total += 1;
        }
        Ok((out, total))
    }

    /// One revision of a ref, in full: a lean one with the source and the
    /// definition of the current workflow record, read in the same read
    /// transaction.
    pub fn get_revision(&self, r: &str, n: u64) -> Result<Option<Revision>, StoreError> {
        let txn = self.db().begin_read()?;
        let mut stored = {
            let revs = txn.open_table(tables::REVISIONS)?;
            let found = revs.get((r, n))?;
            match found {
                Some(b) => decode_stored(b.value())?,
                None => return Ok(None),
            }
        };
        let (definition, source) = match std::mem::replace(&mut stored.body, RevisionBody::Current)
        {
            RevisionBody::Own { definition, source } => (definition, source),
            RevisionBody::Current => {
                let id = txn
                    .open_table(tables::WORKFLOW_REFS)?
                    .get(r)?
                    .map(|v| v.value());
                let current = match id {
                    Some(id) => super::workflows::read_record(
                        &txn.open_table(tables::WORKFLOWS)?,
                        &txn.open_table(tables::WORKFLOW_DEFINITIONS)?,
                        &txn.open_table(tables::WORKFLOW_SOURCES)?,
                        id,
                        super::workflows::Body::Full,
                    )?,
                    None => None,
                };
                match current {
                    Some(rec) if rec.content_hash == stored.content_hash => {
                        (rec.definition, rec.source)
                    }
                    _ => return Err(lean_without_record(r, n)),
                }
            }
        };
        Ok(Some(stored.into_revision(definition, source)))
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

    fn revision() -> Revision {
        Revision {
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
        }
    }

    #[test]
    fn a_head_decodes_the_same_seq_and_hash_from_either_format() {
        let rev = revision();
        let head = |lean| Head {
            seq: 17,
            content_hash: "ab".repeat(32),
            lean,
        };
        // format 1 (schema 3–5): read as a revision with its own body
        let v1 = codec::encode_v(TABLE, REVISION_FORMAT_V1, &rev).unwrap();
        assert_eq!(decode_head(&v1).unwrap(), head(false));
        let stored = decode_stored(&v1).unwrap();
        assert_eq!(stored, StoredRevision::from(rev.clone()));
        // format 2, own body
        let own = encode_stored(&stored).unwrap();
        assert_eq!(own[0], REVISION_FORMAT);
        assert_eq!(decode_head(&own).unwrap(), head(false));
        assert_eq!(decode_stored(&own).unwrap(), stored);
        // format 2, lean: no copy of either large part
        let lean = StoredRevision {
            body: RevisionBody::Current,
            ..stored.clone()
        };
        let bytes = encode_stored(&lean).unwrap();
        assert_eq!(decode_head(&bytes).unwrap(), head(true));
        assert_eq!(decode_stored(&bytes).unwrap(), lean);
        let large = rev.source.len() + rev.definition.get().len();
        assert_eq!(
            own.len() - bytes.len(),
            large + 2,
            "the lean body is one byte in place of the two texts and their lengths and tag"
        );
        // damaged or unknown records are errors, not panics
        for bad in [
            &[REVISION_FORMAT, 0xff][..],
            &[REVISION_FORMAT_V1, 0xff][..],
            &[9, 1, 2][..],
            &[][..],
        ] {
            assert!(decode_head(bad).is_err(), "{bad:?}");
            assert!(decode_stored(bad).is_err(), "{bad:?}");
        }
        let mut cut = bytes.clone();
        cut.truncate(bytes.len() - 3);
        assert!(decode_stored(&cut).is_err());
    }

    use crate::store::{NewPack, NewRun, PendingChanges, RunSummary, WorkflowRecord};
    use crate::store::{RevisionCtx, Upserted};

    fn store_with_pack() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.create_pack(NewPack::minimal("p", "P")).unwrap();
        (dir, store)
    }

    /// Workflow `p.{name}` whose source is `text` (hash and definition
    /// follow from it).
    fn content(name: &str, text: &str) -> WorkflowRecord {
        use sha2::Digest;
        let json = |v: serde_json::Value| JsonText::from_value(&v).unwrap();
        WorkflowRecord {
            id: 0,
            r#ref: format!("p.{name}"),
            pack_ref: "p".into(),
            name: name.into(),
            label: name.into(),
            description: None,
            version: "1.0.0".into(),
            param_schema: JsonText::null(),
            out_schema: JsonText::null(),
            tags: vec![],
            task_count: 1,
            enabled: true,
            stale: false,
            source_file: format!("p/workflows/{name}.yaml"),
            action_file: None,
            content_hash: hex::encode(sha2::Sha256::digest(text.as_bytes())),
            deps: vec![],
            dep_packs: vec![],
            deps_fingerprint: String::new(),
            warnings: vec![],
            diagnostics: json(serde_json::json!([])),
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
            definition: json(serde_json::json!({"tasks": [{"name": "a", "text": text}]})),
            source: text.into(),
        }
    }

    /// One sync of pack `p`: `upserts` written, `prunes` removed.
    fn sync(
        store: &Store,
        dir: &std::path::Path,
        policy: RevisionPolicy,
        upserts: &[WorkflowRecord],
        prunes: &[&str],
    ) -> Vec<(String, Upserted)> {
        let mut pending = PendingChanges::new(dir);
        for u in upserts {
            pending.upsert(u).unwrap();
        }
        for r in prunes {
            pending.prune(r.to_string());
        }
        let run = |_: &[(String, Upserted)]| NewRun {
            pack_ref: "p".into(),
            kind: "sync".into(),
            user: "u".into(),
            started: OffsetDateTime::now_utc(),
            duration_ms: 1,
            dry_run: false,
            prune: !prunes.is_empty(),
            counts: Default::default(),
            details: JsonText::null(),
        };
        let summary = |run_id| RunSummary {
            run_id,
            at: OffsetDateTime::now_utc(),
            ok: true,
            error_count: 0,
            warning_count: 0,
            workflow_count: 0,
        };
        let author = Author {
            by: "u".into(),
            trigger: "sync".into(),
        };
        store
            .commit_sync("p", pending, policy, author, run, summary)
            .unwrap()
            .1
    }

    /// Revision `n` of `r` as stored.
    fn stored(store: &Store, r: &str, n: u64) -> Option<StoredRevision> {
        let txn = store.db().begin_read().unwrap();
        let revs = txn.open_table(tables::REVISIONS).unwrap();
        revs.get((r, n))
            .unwrap()
            .map(|b| decode_stored(b.value()).unwrap())
    }

    fn is_lean(store: &Store, r: &str, n: u64) -> bool {
        stored(store, r, n).expect("revision").body == RevisionBody::Current
    }

    /// Revision `n` of `r` as read: its source (the definition checked to
    /// be the one that source gives).
    fn source_of(store: &Store, r: &str, n: u64) -> String {
        let rev = store.get_revision(r, n).unwrap().expect("revision");
        let name = r.strip_prefix("p.").unwrap();
        assert_eq!(
            rev.definition,
            content(name, &rev.source).definition,
            "{r} {n}"
        );
        assert_eq!(rev.content_hash, content(name, &rev.source).content_hash);
        rev.source
    }

    #[test]
    fn a_cold_sync_writes_each_body_once_and_its_revision_reads_it_back() {
        let (dir, store) = store_with_pack();
        let texts = ["a: 1\n".repeat(500), "b: 2\n".repeat(500)];
        let wfs = [content("a", &texts[0]), content("b", &texts[1])];
        let done = sync(&store, dir.path(), RevisionPolicy::default(), &wfs, &[]);
        assert!(
            done.iter()
                .all(|(_, u)| u.created && u.revision == Some(RevisionPair { from: None, to: 1 }))
        );
        for (w, text) in wfs.iter().zip(&texts) {
            assert!(is_lean(&store, &w.r#ref, 1), "{}", w.r#ref);
            assert_eq!(&source_of(&store, &w.r#ref, 1), text);
        }
        // the revisions table holds no copy of either large part
        let txn = store.db().begin_read().unwrap();
        let revs = txn.open_table(tables::REVISIONS).unwrap();
        for entry in revs.iter().unwrap() {
            let (_, v) = entry.unwrap();
            assert!(v.value().len() < 300, "{} bytes", v.value().len());
        }
        let (listed, total) = store.list_revisions("p.a", 1, 10).unwrap();
        assert_eq!((listed.len(), total), (1, 1));
        assert_eq!(listed[0].source, "", "a list has no bodies");
    }

    #[test]
    fn a_change_detaches_the_previous_revision_and_the_new_one_is_lean() {
        let (dir, store) = store_with_pack();
        let on = RevisionPolicy::default();
        sync(&store, dir.path(), on, &[content("w", "v1\n")], &[]);
        let done = sync(&store, dir.path(), on, &[content("w", "v2\n")], &[]);
        assert_eq!(
            done[0].1.revision,
            Some(RevisionPair {
                from: Some(1),
                to: 2
            })
        );
        assert!(!is_lean(&store, "p.w", 1) && is_lean(&store, "p.w", 2));
        assert_eq!(source_of(&store, "p.w", 1), "v1\n");
        assert_eq!(source_of(&store, "p.w", 2), "v2\n");
        sync(&store, dir.path(), on, &[content("w", "v3\n")], &[]);
        assert_eq!(
            (1..=3)
                .map(|n| source_of(&store, "p.w", n))
                .collect::<Vec<_>>(),
            ["v1\n", "v2\n", "v3\n"]
        );
        assert_eq!(
            (1..=3)
                .map(|n| is_lean(&store, "p.w", n))
                .collect::<Vec<_>>(),
            [false, false, true]
        );
        // the same content written again (e.g. un-staled) neither records
        // nor detaches, with revisions on or off
        for policy in [on, RevisionPolicy::OFF] {
            let done = sync(&store, dir.path(), policy, &[content("w", "v3\n")], &[]);
            assert_eq!(done[0].1.revision, None);
            assert!(is_lean(&store, "p.w", 3));
        }
        // so do the API's replace and a flag change
        let ctx = RevisionCtx::default();
        let (_, pair) = store.replace_workflow(content("w", "v3\n"), &ctx).unwrap();
        assert_eq!(pair, None);
        store.set_workflow_enabled("p.w", false).unwrap();
        assert!(is_lean(&store, "p.w", 3));
        assert_eq!(source_of(&store, "p.w", 3), "v3\n");
        // restoring revision 1 over the API path registers it as revision 4
        let old = store.get_revision("p.w", 1).unwrap().unwrap();
        let mut back = content("w", &old.source);
        back.definition = old.definition;
        let (now, pair) = store.replace_workflow(back, &ctx).unwrap();
        assert_eq!(
            pair,
            Some(RevisionPair {
                from: Some(3),
                to: 4
            })
        );
        assert_eq!(now.source, "v1\n");
        assert_eq!(source_of(&store, "p.w", 3), "v3\n");
        assert_eq!(source_of(&store, "p.w", 4), "v1\n");
        assert!(!is_lean(&store, "p.w", 3) && is_lean(&store, "p.w", 4));
    }

    #[test]
    fn deleting_a_workflow_or_its_pack_keeps_each_revision_whole() {
        let (dir, store) = store_with_pack();
        let on = RevisionPolicy::default();
        let wfs = ["x", "y", "z", "q"].map(|n| content(n, &format!("{n} one\n")));
        sync(&store, dir.path(), on, &wfs, &[]);
        // a delete without purge
        store.delete_workflow("p.x", false).unwrap();
        assert!(!is_lean(&store, "p.x", 1));
        assert_eq!(source_of(&store, "p.x", 1), "x one\n");
        // a sync that prunes the workflow
        sync(&store, dir.path(), on, &[], &["p.y"]);
        assert!(store.get_workflow("p.y").unwrap().is_none());
        assert_eq!(source_of(&store, "p.y", 1), "y one\n");
        // a purging delete leaves nothing
        store.delete_workflow("p.q", true).unwrap();
        assert!(stored(&store, "p.q", 1).is_none());
        // the pack cascade
        store.delete_pack_cascade("p").unwrap();
        assert_eq!(source_of(&store, "p.z", 1), "z one\n");
        assert!(!is_lean(&store, "p.z", 1));
        // the ref comes back: numbering goes on, the old revision stays whole
        store.create_pack(NewPack::minimal("p", "P")).unwrap();
        let done = sync(&store, dir.path(), on, &[content("z", "z two\n")], &[]);
        assert_eq!(
            done[0].1.revision,
            Some(RevisionPair {
                from: Some(1),
                to: 2
            })
        );
        assert_eq!(source_of(&store, "p.z", 1), "z one\n");
        assert_eq!(source_of(&store, "p.z", 2), "z two\n");
    }

    #[test]
    fn with_revisions_off_a_change_still_detaches_the_lean_newest() {
        let (dir, store) = store_with_pack();
        let on = RevisionPolicy::default();
        sync(&store, dir.path(), on, &[content("w", "old\n")], &[]);
        assert!(is_lean(&store, "p.w", 1));
        let off = RevisionCtx {
            policy: RevisionPolicy::OFF,
            ..RevisionCtx::default()
        };
        let (now, pair) = store.replace_workflow(content("w", "off\n"), &off).unwrap();
        assert_eq!((pair, now.source.as_str()), (None, "off\n"));
        assert_eq!(source_of(&store, "p.w", 1), "old\n", "not the new content");
        // on again: the change keeps the content registered while off as a
        // baseline, whole, and the new content as the lean newest
        let done = sync(&store, dir.path(), on, &[content("w", "new\n")], &[]);
        assert_eq!(
            done[0].1.revision,
            Some(RevisionPair {
                from: Some(2),
                to: 3
            })
        );
        let rev2 = store.get_revision("p.w", 2).unwrap().unwrap();
        assert_eq!(
            (rev2.trigger.as_str(), rev2.source.as_str()),
            ("baseline", "off\n")
        );
        assert_eq!(
            (1..=3)
                .map(|n| is_lean(&store, "p.w", n))
                .collect::<Vec<_>>(),
            [false, false, true]
        );
        // a sync with revisions off, and a delete with them off, detach too
        sync(
            &store,
            dir.path(),
            RevisionPolicy::OFF,
            &[content("w", "later\n")],
            &[],
        );
        assert_eq!(source_of(&store, "p.w", 3), "new\n");
        sync(&store, dir.path(), on, &[content("v", "v\n")], &[]);
        sync(&store, dir.path(), RevisionPolicy::OFF, &[], &["p.v"]);
        assert_eq!(source_of(&store, "p.v", 1), "v\n");
    }

    #[test]
    fn the_cap_deletes_a_lean_revision_like_any_other() {
        let (dir, store) = store_with_pack();
        let capped = RevisionPolicy {
            keep: 2,
            max_total: 3,
        };
        for v in 1..=3 {
            sync(
                &store,
                dir.path(),
                capped,
                &[content("w", &format!("v{v}\n"))],
                &[],
            );
        }
        // keep 2: revision 1 pruned; 2 whole, 3 lean
        assert!(stored(&store, "p.w", 1).is_none());
        assert_eq!(source_of(&store, "p.w", 2), "v2\n");
        assert!(is_lean(&store, "p.w", 3));
        // two more workflows: the oldest of all go, then w's lean newest
        sync(&store, dir.path(), capped, &[content("a", "a\n")], &[]);
        sync(&store, dir.path(), capped, &[content("b", "b\n")], &[]);
        assert_eq!(store.revision_count().unwrap(), 3);
        assert!(stored(&store, "p.w", 2).is_none());
        sync(&store, dir.path(), capped, &[content("c", "c\n")], &[]);
        assert!(stored(&store, "p.w", 3).is_none());
        // w has no history now: its next change starts with a baseline
        let done = sync(&store, dir.path(), capped, &[content("w", "v4\n")], &[]);
        assert_eq!(
            done[0].1.revision,
            Some(RevisionPair {
                from: Some(4),
                to: 5
            })
        );
        assert_eq!(source_of(&store, "p.w", 4), "v3\n");
        assert_eq!(source_of(&store, "p.w", 5), "v4\n");
    }

    #[test]
    fn a_format_1_revision_still_reads_and_is_never_detached() {
        let (dir, store) = store_with_pack();
        let on = RevisionPolicy::default();
        sync(&store, dir.path(), on, &[content("w", "v1\n")], &[]);
        // what schema 5 wrote: the revision with its own copy, format 1
        let full = store.get_revision("p.w", 1).unwrap().unwrap();
        let v1 = codec::encode_v(TABLE, REVISION_FORMAT_V1, &full).unwrap();
        let txn = store.db().begin_write().unwrap();
        txn.open_table(tables::REVISIONS)
            .unwrap()
            .insert(("p.w", 1), v1.as_slice())
            .unwrap();
        txn.commit().unwrap();
        assert_eq!(store.get_revision("p.w", 1).unwrap().unwrap(), full);
        sync(&store, dir.path(), on, &[content("w", "v2\n")], &[]);
        let txn = store.db().begin_read().unwrap();
        let revs = txn.open_table(tables::REVISIONS).unwrap();
        let raw = revs.get(("p.w", 1)).unwrap().unwrap().value().to_vec();
        assert_eq!(raw, v1, "left as it was");
        drop((revs, txn));
        assert_eq!(source_of(&store, "p.w", 1), "v1\n");
        assert_eq!(source_of(&store, "p.w", 2), "v2\n");
    }

    #[test]
    fn a_lean_revision_whose_record_is_missing_is_an_error_not_other_content() {
        let (dir, store) = store_with_pack();
        sync(
            &store,
            dir.path(),
            RevisionPolicy::default(),
            &[content("w", "v1\n")],
            &[],
        );
        // a record removed behind the store's back
        let txn = store.db().begin_write().unwrap();
        txn.open_table(tables::WORKFLOW_REFS)
            .unwrap()
            .remove("p.w")
            .unwrap();
        txn.commit().unwrap();
        let err = store.get_revision("p.w", 1).unwrap_err();
        assert!(
            err.to_string().contains("reads the workflow's content"),
            "{err}"
        );
    }
}
