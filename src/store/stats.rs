//! Counts for monitoring (`/metrics`): workflows by state, answered from
//! the list indexes' term counts (`workflow_index`) without reading a record.

use redb::ReadableTableMetadata;

use super::workflow_index::{enabled_term, stale_term};
use super::{Store, StoreError, tables};

/// Workflows registered, and how many of them are stale or disabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkflowCounts {
    pub registered: u64,
    pub stale: u64,
    pub disabled: u64,
}

impl Store {
    /// Counts every registered workflow by state (one read transaction).
    pub fn workflow_counts(&self) -> Result<WorkflowCounts, StoreError> {
        let txn = self.db().begin_read()?;
        let counts = txn.open_table(tables::WORKFLOW_TERM_COUNTS)?;
        let count = |term: &str| -> Result<u64, StoreError> {
            Ok(counts.get(term)?.map_or(0, |v| v.value()))
        };
        Ok(WorkflowCounts {
            registered: txn.open_table(tables::WORKFLOWS)?.len()?,
            stale: count(stale_term(true))?,
            disabled: count(enabled_term(false))?,
        })
    }
}
