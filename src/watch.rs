//! Watch mode (`attune serve --watch`): the packs folder is watched and a
//! registered pack whose `workflows/` or `actions/` change is synced by
//! itself, once per settled burst of changes.
//!
//! How it works:
//! - A `notify` watcher (inotify; the polling watcher when inotify cannot
//!   be used or `watch_poll` forces it) calls [`Inbox::record`] on its own
//!   thread with each changed path. The path is mapped to its pack and the
//!   pack's name goes into a set: events are coalesced per pack, and the
//!   set is bounded ([`MAX_QUEUED_PACKS`]; past it one "rescan every pack"
//!   flag stands for all of them).
//! - One coordinator task keeps per pack the time of its last change and
//!   whether a sync is running. A pack is synced when it has been quiet for
//!   the debounce time (default 300 ms). A change during the pack's own
//!   sync marks one follow-up, run after the sync ends: never two syncs of
//!   one pack at once, never more than one waiting.
//! - The sync is the ordinary one (`AppState::run_sync`, under the pack's
//!   lock, so it also serializes with API syncs) with trigger `watch`, no
//!   user and never `prune`: a deleted file is reported `missing`.
//! - Pack folders appearing or disappearing publish `discovery_changed`;
//!   an unregistered pack is never synced.
//! - The packs folder itself may be removed, renamed or re-created: once a
//!   second the coordinator compares the folder's identity (device and
//!   inode) with the one watched and rebuilds the watcher when it differs,
//!   then rescans every pack.
//! - At start every registered pack is synced once (changes made while
//!   attune was stopped); unchanged files are not revalidated, so this is
//!   cheap.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::Watcher as _;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::events::Event;
use crate::sync::{SyncError, SyncOptions, Trigger};

/// Packs queued at once; beyond it the queue collapses into "rescan all".
pub const MAX_QUEUED_PACKS: usize = 4096;

/// How often the packs folder's identity is checked.
const IDENTITY_CHECK: Duration = Duration::from_secs(1);

/// How the folder is watched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum WatchMode {
    /// Watch mode is not enabled.
    Off,
    /// Kernel notifications (inotify).
    Inotify,
    /// Polling at `watch_poll_interval_ms` (forced or as a fallback).
    Polling,
}

/// What `/health` and `/metrics` show of watch mode.
#[derive(Debug, Default)]
pub struct WatchStatus {
    state: Mutex<ModeState>,
    /// Packs waiting for their debounce or for a follow-up.
    pub queue_depth: AtomicUsize,
    /// Syncs running now.
    pub syncing: AtomicUsize,
    /// Times the watcher fell back to polling.
    pub fallbacks: AtomicU64,
    /// Watch syncs started.
    pub syncs: AtomicU64,
    /// Times the watcher was rebuilt (packs folder replaced).
    pub rewatches: AtomicU64,
}

#[derive(Debug, Clone, Default)]
struct ModeState {
    mode: Option<WatchMode>,
    reason: Option<String>,
}

/// A snapshot of [`WatchStatus`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WatchReport {
    pub mode: WatchMode,
    /// Why polling is used (forced, or the inotify error), or why the
    /// folder is not watched right now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub queue_depth: usize,
    pub syncing: usize,
}

impl WatchStatus {
    pub fn report(&self) -> WatchReport {
        let m = lock(&self.state).clone();
        WatchReport {
            mode: m.mode.unwrap_or(WatchMode::Off),
            reason: m.reason,
            queue_depth: self.queue_depth.load(Ordering::Relaxed),
            syncing: self.syncing.load(Ordering::Relaxed),
        }
    }

    fn set_mode(&self, mode: WatchMode, reason: Option<String>) {
        *lock(&self.state) = ModeState {
            mode: Some(mode),
            reason,
        };
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Where the watcher thread leaves what it saw.
#[derive(Debug, Default)]
struct Inbox {
    packs: Mutex<HashSet<String>>,
    rescan_all: AtomicBool,
    discovery: AtomicBool,
    /// The packs folder itself changed: check its identity now.
    base_changed: AtomicBool,
    wake: tokio::sync::Notify,
}

/// What a changed path means.
#[derive(Debug, PartialEq, Eq)]
enum Change {
    /// Nothing to do (another file, a hidden folder, outside the folder).
    None,
    /// The packs folder itself.
    Base,
    /// A pack folder appeared, vanished or was renamed: discovery and a
    /// sync of that pack (when registered).
    PackFolder(String),
    /// Workflow or action content of a pack.
    Content(String),
    /// `pack.yaml` of a pack: discovery only.
    Manifest,
}

fn is_yaml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Maps a path the watcher reported to what changed. `bases` are the
/// spellings of the packs folder (as configured and canonical).
fn classify(bases: &[PathBuf], path: &Path) -> Change {
    let Some(rel) = bases.iter().find_map(|b| path.strip_prefix(b).ok()) else {
        return Change::None;
    };
    let parts: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Change::None;
    }
    let Some(pack) = parts.first() else {
        return Change::Base;
    };
    if pack.starts_with('.') || crate::refs::PackRef::parse(pack).is_err() {
        return Change::None;
    }
    let pack = (*pack).to_string();
    match parts.as_slice() {
        [_] => Change::PackFolder(pack),
        [_, "workflows" | "actions"] => Change::Content(pack),
        [_, "pack.yaml" | "pack.yml"] => Change::Manifest,
        [_, "workflows" | "actions", .., last] if is_yaml(last) => Change::Content(pack),
        _ => Change::None,
    }
}

impl Inbox {
    fn record(&self, bases: &[PathBuf], event: &notify::Event) {
        use notify::EventKind;
        use notify::event::{AccessKind, AccessMode};
        let relevant = match event.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        if event.need_rescan() {
            self.rescan_all.store(true, Ordering::Relaxed);
        }
        if relevant {
            for path in &event.paths {
                match classify(bases, path) {
                    Change::None => {}
                    // Created, removed or renamed; not its mtime changing
                    // because a pack folder was added.
                    Change::Base
                        if matches!(
                            event.kind,
                            EventKind::Create(_)
                                | EventKind::Remove(_)
                                | EventKind::Modify(notify::event::ModifyKind::Name(_))
                        ) =>
                    {
                        self.base_changed.store(true, Ordering::Relaxed);
                    }
                    Change::Base => {}
                    Change::Manifest => self.discovery.store(true, Ordering::Relaxed),
                    Change::PackFolder(p) => {
                        self.discovery.store(true, Ordering::Relaxed);
                        self.queue(p);
                    }
                    Change::Content(p) => self.queue(p),
                }
            }
        }
        self.wake.notify_one();
    }

    fn queue(&self, pack: String) {
        let mut packs = lock(&self.packs);
        if packs.len() >= MAX_QUEUED_PACKS && !packs.contains(&pack) {
            self.rescan_all.store(true, Ordering::Relaxed);
        } else {
            packs.insert(pack);
        }
    }
}

/// Stops the watcher when dropped.
#[derive(Debug)]
pub struct WatchHandle {
    stop: CancellationToken,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts watch mode for `state` (config `watch` must be on; the caller
/// checks). Runs until the handle drops or the state shuts down.
pub fn start(state: AppState) -> WatchHandle {
    let stop = state.shutdown.child_token();
    let handle = WatchHandle { stop: stop.clone() };
    tokio::spawn(coordinate(state, stop));
    handle
}

/// The live watcher, whichever kind.
enum Active {
    Kernel {
        _watcher: notify::RecommendedWatcher,
    },
    Poll {
        _watcher: notify::PollWatcher,
    },
}

/// Identity of the packs folder: device and inode (None when absent).
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_dir())
        .map(|m| (m.dev(), m.ino()))
}

/// Builds a watcher on the packs folder (recursive) and on its parent
/// (not recursive, to see the folder re-created). Falls back to polling
/// when the kernel watcher cannot be built or hits its limit.
fn build(state: &AppState, inbox: &Arc<Inbox>, base: &Path) -> Option<Active> {
    let config = &state.config.watch;
    let bases: Arc<Vec<PathBuf>> = Arc::new({
        let mut b = vec![base.to_path_buf()];
        if let Ok(c) = std::fs::canonicalize(base)
            && c != base
        {
            b.push(c);
        }
        b
    });
    let handler = {
        let inbox = inbox.clone();
        let bases = bases.clone();
        move |res: notify::Result<notify::Event>| match res {
            Ok(event) => inbox.record(&bases, &event),
            Err(e) => {
                tracing::warn!(error = %e, "watch error; rescanning every pack");
                inbox.rescan_all.store(true, Ordering::Relaxed);
                inbox.wake.notify_one();
            }
        }
    };
    let exists = base.is_dir();
    let parent = base
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let status = &state.watch;
    if !config.poll {
        let kernel = notify::recommended_watcher(handler.clone()).and_then(|mut w| {
            if exists {
                w.watch(base, notify::RecursiveMode::Recursive)?;
            }
            // The parent may be unwatchable (gone, or no permission):
            // the once-a-second identity check still sees a new folder.
            if let Err(e) = w.watch(&parent, notify::RecursiveMode::NonRecursive) {
                tracing::debug!(error = %e, parent = %parent.display(), "cannot watch the packs folder's parent");
            }
            Ok(w)
        });
        match kernel {
            Ok(w) => {
                let reason = (!exists).then(|| {
                    format!(
                        "packs folder {} does not exist; waiting for it",
                        base.display()
                    )
                });
                status.set_mode(WatchMode::Inotify, reason);
                tracing::info!(packs_base_dir = %base.display(), debounce_ms = config.debounce_ms, "watching the packs folder (inotify)");
                return Some(Active::Kernel { _watcher: w });
            }
            Err(e) => {
                let why = match &e.kind {
                    notify::ErrorKind::MaxFilesWatch => format!(
                        "inotify watch limit reached ({e}); raise fs.inotify.max_user_watches"
                    ),
                    _ => format!("inotify unavailable: {e}"),
                };
                status.fallbacks.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    reason = %why,
                    poll_interval_ms = config.poll_interval_ms,
                    "watch falls back to polling"
                );
                return build_poll(state, handler, base, exists, Some(why));
            }
        }
    }
    build_poll(
        state,
        handler,
        base,
        exists,
        Some("polling forced by watch_poll".to_string()),
    )
}

fn build_poll(
    state: &AppState,
    handler: impl notify::EventHandler,
    base: &Path,
    exists: bool,
    reason: Option<String>,
) -> Option<Active> {
    let interval = Duration::from_millis(state.config.watch.poll_interval_ms);
    let config = notify::Config::default().with_poll_interval(interval);
    let result = notify::PollWatcher::new(handler, config).and_then(|mut w| {
        if exists {
            w.watch(base, notify::RecursiveMode::Recursive)?;
        }
        Ok(w)
    });
    match result {
        Ok(w) => {
            tracing::info!(packs_base_dir = %base.display(), interval_ms = interval.as_millis() as u64, reason = reason.as_deref().unwrap_or(""), "watching the packs folder (polling)");
            state.watch.set_mode(WatchMode::Polling, reason);
            Some(Active::Poll { _watcher: w })
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the packs folder; retrying every second");
            state
                .watch
                .set_mode(WatchMode::Polling, Some(format!("cannot watch: {e}")));
            None
        }
    }
}

/// Per-pack state of the coordinator.
#[derive(Debug, Default)]
struct PackState {
    /// Last change seen while no sync was waiting to start.
    last_change: Option<Instant>,
    running: bool,
    /// A change arrived during the running sync.
    follow_up: bool,
}

async fn coordinate(state: AppState, stop: CancellationToken) {
    let inbox = Arc::new(Inbox::default());
    let base = state.config.packs_base_dir.clone();
    let debounce = Duration::from_millis(state.config.watch.debounce_ms);
    let mut watched = identity(&base);
    let mut watcher = build(&state, &inbox, &base);
    let mut packs: HashMap<String, PackState> = HashMap::new();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<String>();
    let mut check = tokio::time::interval(IDENTITY_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut discovery_at: Option<Instant> = None;
    let mut rebuild = false;
    // Changes made while attune was stopped.
    inbox.rescan_all.store(true, Ordering::Relaxed);
    loop {
        let now = Instant::now();
        // Drain what the watcher saw.
        let mut changed: Vec<String> = std::mem::take(&mut *lock(&inbox.packs))
            .into_iter()
            .collect();
        if inbox.rescan_all.swap(false, Ordering::Relaxed) {
            let st = state.clone();
            match st.store.call(|s| s.list_packs(1, u64::MAX)).await {
                Ok((all, _)) => changed.extend(all.into_iter().map(|p| p.pack_ref)),
                Err(e) => tracing::warn!(error = %e, "watch cannot list packs"),
            }
        }
        for pack in changed {
            let p = packs.entry(pack).or_default();
            if p.running {
                p.follow_up = true;
            }
            p.last_change = Some(now);
        }
        if inbox.discovery.swap(false, Ordering::Relaxed) {
            discovery_at = Some(now + debounce);
        }
        if discovery_at.is_some_and(|t| t <= now) {
            discovery_at = None;
            state.events.publish(Event::DiscoveryChanged);
        }
        if inbox.base_changed.swap(false, Ordering::Relaxed) {
            // Renamed away and back keeps its identity but may have lost
            // its watches: rebuild in any case.
            rebuild = true;
            check.reset_immediately();
        }
        // Start the syncs that are due.
        let mut next: Option<Instant> = discovery_at;
        for (name, p) in packs.iter_mut() {
            if p.running {
                continue;
            }
            let Some(changed) = p.last_change else {
                continue;
            };
            let due = changed + debounce;
            if due <= now {
                p.last_change = None;
                p.running = true;
                state.watch.syncing.fetch_add(1, Ordering::Relaxed);
                state.watch.syncs.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(sync_one(state.clone(), name.clone(), done_tx.clone()));
            } else {
                next = Some(next.map_or(due, |n| n.min(due)));
            }
        }
        packs.retain(|_, p| p.running || p.last_change.is_some());
        state.watch.queue_depth.store(
            packs
                .values()
                .filter(|p| p.last_change.is_some() || p.follow_up)
                .count(),
            Ordering::Relaxed,
        );
        let sleep = async {
            match next {
                Some(t) => tokio::time::sleep_until(t).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = stop.cancelled() => break,
            () = inbox.wake.notified() => {}
            () = sleep => {}
            Some(done) = done_rx.recv() => {
                state.watch.syncing.fetch_sub(1, Ordering::Relaxed);
                if let Some(p) = packs.get_mut(&done) {
                    p.running = false;
                    if std::mem::take(&mut p.follow_up) {
                        // Settled already if the last change is older
                        // than the debounce: then it starts at once.
                        p.last_change.get_or_insert(Instant::now());
                    }
                }
            }
            _ = check.tick() => {
                let now_id = identity(&base);
                let forced = std::mem::take(&mut rebuild);
                if now_id != watched || forced {
                    tracing::info!(packs_base_dir = %base.display(), present = now_id.is_some(), "packs folder replaced; watching it again");
                    state.watch.rewatches.fetch_add(1, Ordering::Relaxed);
                    drop(watcher.take());
                    watched = now_id;
                    watcher = build(&state, &inbox, &base);
                    inbox.rescan_all.store(true, Ordering::Relaxed);
                    inbox.discovery.store(true, Ordering::Relaxed);
                } else if watcher.is_none() {
                    watcher = build(&state, &inbox, &base);
                }
            }
        }
    }
    drop(watcher);
    tracing::debug!("watch stopped");
}

async fn sync_one(state: AppState, pack: String, done: mpsc::UnboundedSender<String>) {
    let options = SyncOptions {
        dry_run: false,
        prune: false,
        user: String::new(),
        token: None,
        trigger: Trigger::Watch,
        revision_trigger: None,
    };
    match state.run_sync(&pack, options).await {
        Ok(report) => tracing::info!(
            pack = %pack,
            loaded = report.loaded_count,
            failed = report.failed.len(),
            missing = report.missing.len(),
            run_id = report.run_id,
            "watch sync"
        ),
        // A folder that is not a registered pack: discovery only.
        Err(SyncError::PackNotFound(_)) => {}
        Err(e) => tracing::warn!(pack = %pack, error = %e, "watch sync failed"),
    }
    let _ = done.send(pack);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_their_pack() {
        let bases = vec![PathBuf::from("/p")];
        let c = |s: &str| classify(&bases, Path::new(s));
        assert_eq!(c("/p"), Change::Base);
        assert_eq!(c("/p/demo"), Change::PackFolder("demo".into()));
        assert_eq!(c("/p/demo/workflows"), Change::Content("demo".into()));
        assert_eq!(
            c("/p/demo/workflows/a.yaml"),
            Change::Content("demo".into())
        );
        assert_eq!(c("/p/demo/actions/x/a.YML"), Change::Content("demo".into()));
        assert_eq!(c("/p/demo/pack.yaml"), Change::Manifest);
        assert_eq!(c("/p/demo/workflows/.a.yaml.swp"), Change::None);
        assert_eq!(c("/p/demo/workflows/4913"), Change::None);
        assert_eq!(c("/p/demo/README.md"), Change::None);
        assert_eq!(c("/p/.staging-1/workflows/a.yaml"), Change::None);
        assert_eq!(c("/elsewhere/demo/workflows/a.yaml"), Change::None);
        assert_eq!(c("/p/demo/../x/workflows/a.yaml"), Change::None);
    }
}
