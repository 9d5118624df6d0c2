//! The action catalog of a sync or validation: built-in `core` actions, the
//! actions and workflow files of every pack folder a workflow refers to
//! (loaded lazily, once per pack), and the workflows registered in the
//! store. A [`Recorder`] notes what one file's validation asked, so its
//! fingerprint can be checked again later without validating the file.
//!
//! The packs a workflow refers to are known only once it is parsed, so
//! they are read when first asked for (reading every pack up front would
//! cost every sync a scan of every registered workflow). A store read that
//! fails is never taken for "no such action": the catalog keeps the first
//! failure and the sync or validation asks [`SyncCatalog::failure`] before
//! it writes anything, and fails with that error.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::pack::{PackCatalog, add_pack};
use crate::store::{Store, StoreError};
use crate::workflow::catalog::split_ref;
use crate::workflow::{ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, is_valid_pack_ref};

/// What one pack contributes: its folder's actions and workflow names, and
/// its registered workflows.
#[derive(Debug, Default)]
struct PackEntries {
    disk: PackCatalog,
    registered: BTreeSet<String>,
    /// The pack has a folder under the packs folder or is registered.
    present: bool,
}

/// The catalog shared by the parallel validations of one sync.
pub struct SyncCatalog {
    builtin: BuiltinCatalog,
    packs_base_dir: PathBuf,
    max_bytes: u64,
    store: Store,
    packs: Mutex<HashMap<String, Arc<PackEntries>>>,
    /// A pack read from a staging folder instead of its own folder.
    staged: Option<(String, PathBuf)>,
    /// The first store read that failed; the answers given since are not
    /// to be trusted.
    failed: Mutex<Option<StoreError>>,
}

impl SyncCatalog {
    pub fn new(store: Store, packs_base_dir: PathBuf, max_bytes: u64) -> Self {
        SyncCatalog {
            builtin: BuiltinCatalog::new(),
            packs_base_dir,
            max_bytes,
            store,
            packs: Mutex::new(HashMap::new()),
            staged: None,
            failed: Mutex::new(None),
        }
    }

    /// The first store read that failed while answering, if any: the
    /// validations that used this catalog must then be thrown away.
    pub fn failure(&self) -> Result<(), StoreError> {
        match self.failed.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Why action files of `pack_ref` could not be used (a broken action
    /// file, an unreadable `actions/` folder): one diagnostic each, on the
    /// file. Loads the pack if no validation asked for it yet.
    pub fn pack_problems(&self, pack_ref: &str) -> Vec<crate::workflow::Diagnostic> {
        self.pack(pack_ref)
            .map(|p| p.disk.problems.clone())
            .unwrap_or_default()
    }

    fn record_failure(&self, e: StoreError) {
        tracing::warn!(error = %e, "store read failed while building the action catalog");
        if let Ok(mut f) = self.failed.lock()
            && f.is_none()
        {
            *f = Some(e);
        }
    }

    /// Reads `pack_ref`'s actions and workflow names from `dir` (an upload
    /// being checked before it replaces the pack's folder).
    pub fn with_staged(mut self, pack_ref: &str, dir: PathBuf) -> Self {
        self.staged = Some((pack_ref.to_string(), dir));
        self
    }

    fn pack(&self, pack_ref: &str) -> Option<Arc<PackEntries>> {
        if !is_valid_pack_ref(pack_ref) {
            return None;
        }
        if let Ok(map) = self.packs.lock()
            && let Some(p) = map.get(pack_ref)
        {
            return Some(p.clone());
        }
        // Loaded outside the lock; two threads may both load a pack, the
        // results are equal and the first insert wins.
        let mut disk = PackCatalog::default();
        let dir = match &self.staged {
            Some((r, dir)) if r == pack_ref => Some(dir.clone()),
            // A folder resolving outside packs_base_dir is never read.
            _ => crate::pack::pack_dir_within(&self.packs_base_dir, pack_ref).ok(),
        };
        let dir = dir.filter(|d| d.is_dir());
        if let Some(dir) = &dir {
            add_pack(&mut disk, dir, pack_ref, self.max_bytes);
        }
        // A staged pack replaces its folder wholesale (an upload prunes), so
        // only its staged files count, not what is registered now.
        let staged = self.staged.as_ref().is_some_and(|(r, _)| r == pack_ref);
        let registered = if staged {
            Ok(Vec::new())
        } else {
            self.store.pack_workflow_names(pack_ref)
        };
        let registered = match registered {
            Ok(names) => names
                .into_iter()
                .map(|n| format!("{pack_ref}.{n}"))
                .collect(),
            Err(e) => {
                self.record_failure(e);
                return None;
            }
        };
        let present = dir.is_some()
            || match self.store.get_pack(pack_ref) {
                Ok(p) => p.is_some(),
                Err(e) => {
                    self.record_failure(e);
                    return None;
                }
            };
        let entries = Arc::new(PackEntries {
            disk,
            registered,
            present,
        });
        match self.packs.lock() {
            Ok(mut map) => Some(map.entry(pack_ref.to_string()).or_insert(entries).clone()),
            Err(_) => Some(entries),
        }
    }
}

impl ActionCatalog for SyncCatalog {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        if let Some(info) = self.builtin.lookup(action_ref) {
            return Some(info);
        }
        let (pack_ref, _) = split_ref(action_ref)?;
        let entries = self.pack(pack_ref)?;
        if let Some(info) = entries.disk.lookup(action_ref) {
            return Some(info);
        }
        entries
            .registered
            .contains(action_ref)
            .then_some(ActionInfo {
                kind: ActionKind::Workflow,
                parameters: None,
            })
    }

    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        let mut v = self.builtin.refs_in_pack(pack_ref);
        if let Some(entries) = self.pack(pack_ref) {
            v.extend(entries.disk.refs_in_pack(pack_ref));
            v.extend(entries.registered.iter().cloned());
        }
        v.sort();
        v.dedup();
        v
    }

    fn has_pack(&self, pack_ref: &str) -> bool {
        self.builtin.has_pack(pack_ref) || self.pack(pack_ref).is_some_and(|p| p.present)
    }

    fn pack_sources(&self) -> String {
        format!(
            "the registered packs and the packs folder {}",
            self.packs_base_dir.display()
        )
    }
}

/// Wraps a catalog and notes every question asked of it.
pub struct Recorder<'a> {
    inner: &'a dyn ActionCatalog,
    lookups: Mutex<BTreeSet<String>>,
    packs: Mutex<BTreeSet<String>>,
}

impl<'a> Recorder<'a> {
    pub fn new(inner: &'a dyn ActionCatalog) -> Self {
        Recorder {
            inner,
            lookups: Mutex::new(BTreeSet::new()),
            packs: Mutex::new(BTreeSet::new()),
        }
    }

    /// The refs looked up and the packs listed, sorted.
    pub fn into_deps(self) -> (Vec<String>, Vec<String>) {
        let l = self.lookups.into_inner().unwrap_or_default();
        let p = self.packs.into_inner().unwrap_or_default();
        (l.into_iter().collect(), p.into_iter().collect())
    }
}

impl ActionCatalog for Recorder<'_> {
    fn lookup(&self, action_ref: &str) -> Option<ActionInfo> {
        if let Ok(mut l) = self.lookups.lock() {
            l.insert(action_ref.to_string());
        }
        self.inner.lookup(action_ref)
    }
    fn refs_in_pack(&self, pack_ref: &str) -> Vec<String> {
        if let Ok(mut p) = self.packs.lock() {
            p.insert(pack_ref.to_string());
        }
        self.inner.refs_in_pack(pack_ref)
    }
    fn has_pack(&self, pack_ref: &str) -> bool {
        if let Ok(mut p) = self.packs.lock() {
            p.insert(pack_ref.to_string());
        }
        self.inner.has_pack(pack_ref)
    }
    fn pack_sources(&self) -> String {
        self.inner.pack_sources()
    }
}

/// Hex sha256 of what `catalog` answers now for these questions; equal
/// fingerprints mean a validation would see the same catalog.
pub fn fingerprint(catalog: &dyn ActionCatalog, lookups: &[String], packs: &[String]) -> String {
    let answers: BTreeMap<&str, Option<ActionInfo>> = lookups
        .iter()
        .map(|r| (r.as_str(), catalog.lookup(r)))
        .collect();
    let listed: BTreeMap<&str, Vec<String>> = packs
        .iter()
        .map(|p| (p.as_str(), catalog.refs_in_pack(p)))
        .collect();
    // Packs that are present without any ref (`unknown-pack` or not):
    // appended only when there are some, so fingerprints stored before
    // this answer existed stay equal.
    let empty_present: Vec<&str> = listed
        .iter()
        .filter(|(p, refs)| refs.is_empty() && catalog.has_pack(p))
        .map(|(p, _)| *p)
        .collect();
    let text = if empty_present.is_empty() {
        serde_json::to_string(&(answers, listed))
    } else {
        serde_json::to_string(&(answers, listed, empty_present))
    }
    .unwrap_or_default();
    hex::encode(Sha256::digest(text.as_bytes()))
}
