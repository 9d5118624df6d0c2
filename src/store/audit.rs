//! The audit log: one record per mutation, written in the same write
//! transaction as the change it records.
//!
//! The HTTP layer opens an [`AuditScope`] for each mutating request (who,
//! from where, which action, which target) and runs the handler inside it
//! ([`AUDIT`] task-local; `Store::call` and the sync helpers carry it onto
//! the blocking thread). The first write transaction committed in that
//! scope inserts the entry, outcome `ok`, before it commits (see
//! `handle::WriteTxn::commit`), so the change and its record commit or fail
//! together. A request that fails without writing is recorded afterwards
//! in its own transaction, outcome `failed (<status>)`. Only the newest
//! `audit.max_entries` records are kept (the oldest are dropped by the
//! insert itself).

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Store, StoreError, codec, tables};

const TABLE: &str = "audit";

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: u64,
    #[serde(with = "codec::timestamp")]
    pub at: OffsetDateTime,
    /// Login of the caller (the login tried, for a failed login); empty
    /// when unknown.
    pub user: String,
    /// `session <id>`, `token <name>`, or empty.
    pub via: String,
    /// Client IP address, or empty.
    pub client: String,
    /// The operation (the route's operation id, e.g. `delete_pack`).
    pub action: String,
    /// What it acted on (the request path).
    pub target: String,
    /// `ok`, or `failed (<status>)`.
    pub outcome: String,
}

#[derive(Debug)]
struct Pending {
    entry: AuditEntry,
    recorded: bool,
    max_entries: u64,
}

/// The audit context of one request.
#[derive(Debug, Clone)]
pub struct AuditScope(Arc<Mutex<Pending>>);

tokio::task_local! {
    /// The audit scope of the request being handled.
    pub static AUDIT: AuditScope;
}

thread_local! {
    static THREAD_SCOPE: RefCell<Option<AuditScope>> = const { RefCell::new(None) };
}

impl AuditScope {
    pub fn new(action: &str, target: &str, client: &str, max_entries: u64) -> AuditScope {
        AuditScope(Arc::new(Mutex::new(Pending {
            entry: AuditEntry {
                id: 0,
                at: OffsetDateTime::now_utc(),
                user: String::new(),
                via: String::new(),
                client: client.to_string(),
                action: action.to_string(),
                target: target.to_string(),
                outcome: "ok".into(),
            },
            recorded: false,
            max_entries,
        })))
    }

    fn with<R>(&self, f: impl FnOnce(&mut Pending) -> R) -> R {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Names the caller.
    pub fn set_user(&self, user: &str, via: &str) {
        self.with(|p| {
            p.entry.user = user.to_string();
            p.entry.via = via.to_string();
        });
    }

    /// Whether a write of this request already carried the entry.
    pub fn recorded(&self) -> bool {
        self.with(|p| p.recorded)
    }

    /// The scope of the current task, if any.
    pub fn current() -> Option<AuditScope> {
        AUDIT.try_with(|s| s.clone()).ok()
    }
}

/// Runs `f` with `scope` as this thread's audit scope (the blocking-pool
/// side of [`AUDIT`]).
pub fn on_thread<R>(scope: Option<AuditScope>, f: impl FnOnce() -> R) -> R {
    let previous = THREAD_SCOPE.with(|t| t.replace(scope));
    let result = f();
    THREAD_SCOPE.with(|t| *t.borrow_mut() = previous);
    result
}

/// The scope in force here: the thread's, else the task's.
pub fn in_force() -> Option<AuditScope> {
    THREAD_SCOPE
        .with(|t| t.borrow().clone())
        .or_else(AuditScope::current)
}

fn insert(
    txn: &redb::WriteTransaction,
    mut entry: AuditEntry,
    max_entries: u64,
) -> Result<(), StoreError> {
    entry.id = super::next_id(txn, TABLE)?;
    entry.at = OffsetDateTime::now_utc();
    let mut table = txn.open_table(tables::AUDIT)?;
    let bytes = codec::encode(TABLE, &entry)?;
    table.insert(entry.id, bytes.as_slice())?;
    while table.len()? > max_entries.max(1) {
        if table.pop_first()?.is_none() {
            break;
        }
    }
    Ok(())
}

/// Called by `WriteTxn::commit` before it commits: adds the pending entry
/// of the scope in force, once. Returns the scope so a failed commit can
/// un-mark it.
pub(crate) fn record_in(txn: &redb::WriteTransaction) -> Option<AuditScope> {
    let scope = in_force()?;
    let (entry, max) = scope.with(|p| {
        if p.recorded {
            None
        } else {
            Some((p.entry.clone(), p.max_entries))
        }
    })?;
    match insert(txn, entry, max) {
        Ok(()) => {
            scope.with(|p| p.recorded = true);
            Some(scope)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot write the audit entry");
            None
        }
    }
}

/// Un-marks a scope whose commit failed.
pub(crate) fn commit_failed(scope: Option<AuditScope>) {
    if let Some(scope) = scope {
        scope.with(|p| p.recorded = false);
    }
}

/// Filters of [`Store::list_audit`] (substring matches; `since` inclusive).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<OffsetDateTime>,
}

impl Store {
    /// Records a request that changed nothing (a failure), in its own
    /// transaction.
    pub fn record_audit_failure(&self, scope: &AuditScope, status: u16) -> Result<(), StoreError> {
        let (mut entry, max) = scope.with(|p| (p.entry.clone(), p.max_entries));
        entry.outcome = format!("failed ({status})");
        let txn = self.db().begin_write()?;
        // this transaction carries the entry itself
        scope.with(|p| p.recorded = true);
        insert(&txn, entry, max)?;
        txn.commit()?;
        Ok(())
    }

    /// Audit entries, newest first, filtered, one page.
    pub fn list_audit(
        &self,
        filter: &AuditFilter,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::AUDIT)?;
        let skip = (page - 1).saturating_mul(per_page);
        let mut total = 0u64;
        let mut out = Vec::new();
        for entry in table.iter()?.rev() {
            let (_, bytes) = entry?;
            let e: AuditEntry = codec::decode(TABLE, bytes.value())?;
            if filter.since.is_some_and(|s| e.at < s) {
                break;
            }
            let keep = filter.user.as_deref().is_none_or(|u| e.user == u)
                && filter
                    .action
                    .as_deref()
                    .is_none_or(|a| e.action.contains(a))
                && filter
                    .target
                    .as_deref()
                    .is_none_or(|t| e.target.contains(t));
            if !keep {
                continue;
            }
            if total >= skip && (out.len() as u64) < per_page {
                out.push(e);
            }
            total += 1;
        }
        Ok((out, total))
    }
}
