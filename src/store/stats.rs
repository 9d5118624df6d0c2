//! Counts for monitoring (`/metrics`): workflows by state, read from the
//! records' small fields without decoding definitions or sources.

use redb::ReadableTable;
use serde::Deserialize;

use super::{Store, StoreError, codec, tables};

/// Workflows registered, and how many of them are stale or disabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkflowCounts {
    pub registered: u64,
    pub stale: u64,
    pub disabled: u64,
}

/// The leading fields of a workflow record (postcard is positional: the
/// order is `WorkflowRecord`'s), borrowing the large ones.
#[derive(Deserialize)]
struct StateRaw<'a> {
    _id: u64,
    _ref: &'a str,
    _pack_ref: &'a str,
    _name: &'a str,
    _label: &'a str,
    _description: Option<&'a str>,
    _version: &'a str,
    _param_schema: &'a str,
    _out_schema: &'a str,
    _definition: &'a str,
    _tags: Vec<&'a str>,
    _task_count: u32,
    enabled: bool,
    stale: bool,
}

impl Store {
    /// Counts every registered workflow by state (one read transaction).
    pub fn workflow_counts(&self) -> Result<WorkflowCounts, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::WORKFLOWS)?;
        let mut c = WorkflowCounts::default();
        for entry in table.iter()? {
            let (_, bytes) = entry?;
            let bytes = bytes.value();
            let raw: StateRaw = match bytes.split_first() {
                Some((&codec::FORMAT_VERSION, rest)) => {
                    postcard::take_from_bytes(rest)
                        .map_err(|e| StoreError::Codec {
                            table: "workflows",
                            message: format!("cannot decode record: {e}"),
                        })?
                        .0
                }
                _ => {
                    return Err(StoreError::Codec {
                        table: "workflows",
                        message: "unsupported record format version".into(),
                    });
                }
            };
            c.registered += 1;
            c.stale += u64::from(raw.stale);
            c.disabled += u64::from(!raw.enabled);
        }
        Ok(c)
    }
}
