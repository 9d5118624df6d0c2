//! The changes a sync will commit, gathered while it validates: small ones
//! in memory, and once their encoded size passes [`SPILL_AFTER`] in an
//! unnamed temporary file next to the database, so the memory a sync holds
//! until its one write transaction does not grow with the pack.
//!
//! The file is created with `O_TMPFILE` where the system has it (otherwise
//! created and unlinked at once): it has no name, so a crash leaves nothing
//! behind, and it is freed when the sync ends. Records in it are encoded by
//! [`codec`](super::codec) like the table records and read back one at a
//! time by [`Store::commit_sync`](super::Store::commit_sync).

use std::fs::File;
use std::io::{BufReader, BufWriter, Cursor, Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::codec::JsonText;
use super::{StoreError, WorkflowRecord, codec};

/// Encoded bytes of pending upserts kept in memory before the rest goes
/// to a temporary file.
pub const SPILL_AFTER: usize = 1024 * 1024;

const TABLE: &str = "pending sync changes";

/// One pending change; an upsert's content is in the byte stream.
#[derive(Debug)]
pub(crate) enum Pending {
    /// The next `len` bytes of the stream are the encoded content.
    Upsert(usize),
    MarkStale(String),
    Prune(String),
}

/// The changes of one sync, in order.
#[derive(Debug)]
pub struct PendingChanges {
    dir: PathBuf,
    spill_after: usize,
    items: Vec<Pending>,
    memory: Vec<u8>,
    file: Option<BufWriter<File>>,
    upserts: usize,
}

/// An I/O failure of the temporary file is sorted like one of the
/// database file (a full disk is [`StoreError::DiskFull`]).
fn io_error(e: std::io::Error) -> StoreError {
    StoreError::from_redb(redb::Error::Io(e))
}

impl PendingChanges {
    /// Changes whose overflow file, if one is needed, goes in `dir` (the
    /// data directory).
    pub fn new(dir: &Path) -> PendingChanges {
        Self::with_spill_after(dir, SPILL_AFTER)
    }

    /// As [`PendingChanges::new`], spilling past `bytes` (tests use 0).
    pub fn with_spill_after(dir: &Path, bytes: usize) -> PendingChanges {
        PendingChanges {
            dir: dir.to_path_buf(),
            spill_after: bytes,
            items: Vec::new(),
            memory: Vec::new(),
            file: None,
            upserts: 0,
        }
    }

    /// Create the workflow or update it in place.
    pub fn upsert(&mut self, content: &WorkflowRecord) -> Result<(), StoreError> {
        let bytes = Self::encode(content)?;
        self.upsert_encoded(&bytes)
    }

    /// A record's bytes as [`PendingChanges::upsert_encoded`] takes them
    /// (its small part, then the definition and the source); callers that
    /// validate in parallel encode there, off the one thread that gathers
    /// the changes.
    pub fn encode(content: &WorkflowRecord) -> Result<Vec<u8>, StoreError> {
        let parts = (content, content.definition.get(), content.source.as_str());
        codec::encode(TABLE, &parts)
    }

    /// Adds an upsert already encoded by [`PendingChanges::encode`].
    pub fn upsert_encoded(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if self.file.is_none() && self.memory.len() + bytes.len() > self.spill_after {
            let file = tempfile::tempfile_in(&self.dir).map_err(|e| {
                io_error(std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot create a temporary file for the sync in {}: {e}",
                        self.dir.display()
                    ),
                ))
            })?;
            let mut file = BufWriter::with_capacity(256 * 1024, file);
            file.write_all(&self.memory).map_err(io_error)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(bytes).map_err(io_error)?,
            None => self.memory.extend_from_slice(bytes),
        }
        self.items.push(Pending::Upsert(bytes.len()));
        self.upserts += 1;
        Ok(())
    }

    /// Flag the workflow stale (its file now has errors).
    pub fn mark_stale(&mut self, r#ref: String) {
        self.items.push(Pending::MarkStale(r#ref));
    }

    /// Delete the workflow (its file is gone and pruning was asked for).
    pub fn prune(&mut self, r#ref: String) {
        self.items.push(Pending::Prune(r#ref));
    }

    /// Number of changes.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of upserts.
    pub fn upserts(&self) -> usize {
        self.upserts
    }

    /// True when the upserts went to a temporary file.
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// The changes in order and a reader of the upserts' contents.
    pub(crate) fn into_parts(self) -> Result<(Vec<Pending>, ContentReader), StoreError> {
        let source: Box<dyn Read> = match self.file {
            Some(file) => {
                let mut file = file.into_inner().map_err(|e| io_error(e.into_error()))?;
                file.rewind().map_err(io_error)?;
                Box::new(BufReader::with_capacity(256 * 1024, file))
            }
            None => Box::new(Cursor::new(self.memory)),
        };
        Ok((
            self.items,
            ContentReader {
                source,
                buf: Vec::new(),
            },
        ))
    }
}

/// Reads the pending upserts back, one at a time.
pub(crate) struct ContentReader {
    source: Box<dyn Read>,
    buf: Vec<u8>,
}

impl ContentReader {
    /// The next record, `len` encoded bytes.
    pub(crate) fn next(&mut self, len: usize) -> Result<WorkflowRecord, StoreError> {
        self.buf.resize(len, 0);
        self.source.read_exact(&mut self.buf).map_err(io_error)?;
        let (mut rec, definition, source): (WorkflowRecord, String, String) =
            codec::decode(TABLE, &self.buf)?;
        rec.definition = JsonText::from_text(definition).map_err(|e| StoreError::Codec {
            table: TABLE,
            message: format!("definition is not JSON: {e}"),
        })?;
        rec.source = source;
        Ok(rec)
    }
}
