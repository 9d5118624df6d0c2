//! The indexes behind `GET /api/v1/workflows`: every filter of the list is
//! answered from small index tables, never by decoding every record.
//!
//! - [`tables::WORKFLOW_TERMS`] holds one `(term, id)` key per workflow and
//!   term, so each term is a posting list in id order: `p:{pack_ref}`,
//!   `t:{tag}` (one per distinct tag), `e:1`/`e:0` (enabled) and
//!   `s:1`/`s:0` (stale).
//! - [`tables::WORKFLOW_TERM_COUNTS`] keeps the length of every posting
//!   list, so the `total` of a single-term filter is one lookup and a
//!   multi-term filter walks its shortest list only.
//! - [`tables::WORKFLOW_SEARCH`] keeps, per id, the lowercased ref, label and
//!   description: `search` is a bounded scan of this compact table (or a
//!   probe into it when other filters drive), never of the records.
//!
//! The indexes change in the same write transaction as the record
//! ([`reindex`], called by every put and remove of a workflow record), and
//! migration 4 builds them for databases written before they existed
//! ([`rebuild_with`]).
//!
//! A page is either an offset (`page`/`per_page`) or a position after the
//! last key of the previous page ([`Start::After`]): ids in id order, or
//! names in a pack's name order. A position is one B-tree seek, so page
//! 1,000 by position costs what page 1 costs.

use std::collections::BTreeSet;
use std::ops::Bound;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::workflows::{Body, WorkflowRecord, read_record};
use super::{StoreError, codec, tables};

const SEARCH_TABLE: &str = "workflow_search";

/// What the indexes know of one workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Facets {
    terms: BTreeSet<String>,
    /// Lowercased ref, label and description (empty when none).
    search: [String; 3],
}

fn pack_term(pack_ref: &str) -> String {
    format!("p:{pack_ref}")
}

fn tag_term(tag: &str) -> String {
    format!("t:{tag}")
}

pub(crate) fn enabled_term(enabled: bool) -> &'static str {
    if enabled { "e:1" } else { "e:0" }
}

pub(crate) fn stale_term(stale: bool) -> &'static str {
    if stale { "s:1" } else { "s:0" }
}

impl Facets {
    pub(crate) fn of(rec: &WorkflowRecord) -> Facets {
        let mut terms: BTreeSet<String> = rec.tags.iter().map(|t| tag_term(t)).collect();
        terms.insert(pack_term(&rec.pack_ref));
        terms.insert(enabled_term(rec.enabled).to_string());
        terms.insert(stale_term(rec.stale).to_string());
        let description = rec.description.as_deref().unwrap_or("");
        Facets {
            terms,
            search: [rec.r#ref.as_str(), rec.label.as_str(), description].map(str::to_lowercase),
        }
    }
}

/// Moves the indexes of workflow `id` from `old` to `new` (`None`: absent).
pub(crate) fn reindex(
    txn: &WriteTransaction,
    id: u64,
    old: Option<&Facets>,
    new: Option<&Facets>,
) -> Result<(), StoreError> {
    let empty = BTreeSet::new();
    let old_terms = old.map_or(&empty, |f| &f.terms);
    let new_terms = new.map_or(&empty, |f| &f.terms);
    {
        let mut terms = txn.open_table(tables::WORKFLOW_TERMS)?;
        let mut counts = txn.open_table(tables::WORKFLOW_TERM_COUNTS)?;
        for t in old_terms.difference(new_terms) {
            if terms.remove((t.as_str(), id))?.is_some() {
                let n = counts.get(t.as_str())?.map_or(0, |v| v.value());
                if n <= 1 {
                    counts.remove(t.as_str())?;
                } else {
                    counts.insert(t.as_str(), n - 1)?;
                }
            }
        }
        for t in new_terms.difference(old_terms) {
            if terms.insert((t.as_str(), id), ())?.is_none() {
                let n = counts.get(t.as_str())?.map_or(0, |v| v.value());
                counts.insert(t.as_str(), n + 1)?;
            }
        }
    }
    let mut search = txn.open_table(tables::WORKFLOW_SEARCH)?;
    match new {
        Some(f) if old.is_none_or(|o| o.search != f.search) => {
            let bytes = codec::encode(SEARCH_TABLE, &f.search)?;
            search.insert(id, bytes.as_slice())?;
        }
        Some(_) => {}
        None => {
            search.remove(id)?;
        }
    }
    Ok(())
}

/// Empties the index tables and builds them from every record, decoded
/// with `decode` (migration 4 reads the records in the layout of their
/// time, see `migrate`; a test compares against the current one).
pub(crate) fn rebuild_with(
    txn: &WriteTransaction,
    decode: fn(&[u8]) -> Result<WorkflowRecord, StoreError>,
) -> Result<u64, StoreError> {
    txn.open_table(tables::WORKFLOW_TERMS)?
        .retain(|_, _| false)?;
    txn.open_table(tables::WORKFLOW_TERM_COUNTS)?
        .retain(|_, _| false)?;
    txn.open_table(tables::WORKFLOW_SEARCH)?
        .retain(|_, _| false)?;
    let wfs = txn.open_table(tables::WORKFLOWS)?;
    let mut n = 0;
    for entry in wfs.iter()? {
        let (id, bytes) = entry?;
        let facets = Facets::of(&decode(bytes.value())?);
        reindex(txn, id.value(), None, Some(&facets))?;
        n += 1;
    }
    Ok(n)
}

/// Filters of [`super::Store::list_workflows`]; every one given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkflowFilter {
    pub pack_ref: Option<String>,
    /// Every tag must be present.
    pub tags: Vec<String>,
    pub enabled: Option<bool>,
    pub stale: Option<bool>,
    /// Case-insensitive substring of the ref, the label or the description.
    pub search: Option<String>,
}

impl WorkflowFilter {
    /// The filter applied to a whole record: the definition of what the
    /// indexes answer (tests compare the two on generated stores).
    pub fn matches(&self, w: &WorkflowRecord) -> bool {
        if self.pack_ref.as_ref().is_some_and(|p| *p != w.pack_ref) {
            return false;
        }
        if self.enabled.is_some_and(|e| e != w.enabled) {
            return false;
        }
        if self.stale.is_some_and(|s| s != w.stale) {
            return false;
        }
        if !self.tags.iter().all(|t| w.tags.contains(t)) {
            return false;
        }
        if let Some(s) = &self.search {
            let s = s.to_lowercase();
            let hit = [
                Some(w.r#ref.as_str()),
                Some(w.label.as_str()),
                w.description.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|f| f.to_lowercase().contains(&s));
            if !hit {
                return false;
            }
        }
        true
    }

    /// The posting lists that must all contain an id (the pack excluded:
    /// a pack's list is walked in name order through its own index).
    fn terms(&self) -> Vec<String> {
        let mut t: BTreeSet<String> = self.tags.iter().map(|t| tag_term(t)).collect();
        if let Some(e) = self.enabled {
            t.insert(enabled_term(e).to_string());
        }
        if let Some(s) = self.stale {
            t.insert(stale_term(s).to_string());
        }
        t.into_iter().collect()
    }
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Skip this many matches (page numbers).
    Offset(u64),
    /// After this key of the list's order (a cursor).
    After(ListKey),
}

/// A position in a list: an id (lists across packs, in id order) or a
/// workflow name (a pack's list, in name order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListKey {
    Id(u64),
    Name(String),
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub items: Vec<WorkflowRecord>,
    /// Matches of the whole filter.
    pub total: u64,
    /// The key of the last item when more matches follow it.
    pub next: Option<ListKey>,
}

/// A match predicate on ids, answered by point lookups in the indexes.
struct Probe<'t> {
    terms: Vec<String>,
    needle: Option<String>,
    term_table: &'t redb::ReadOnlyTable<(&'static str, u64), ()>,
    search_table: &'t redb::ReadOnlyTable<u64, &'static [u8]>,
}

impl Probe<'_> {
    fn is_trivial(&self) -> bool {
        self.terms.is_empty() && self.needle.is_none()
    }

    fn check(&self, id: u64) -> Result<bool, StoreError> {
        for t in &self.terms {
            if self.term_table.get((t.as_str(), id))?.is_none() {
                return Ok(false);
            }
        }
        match &self.needle {
            None => Ok(true),
            Some(n) => match self.search_table.get(id)? {
                Some(b) => search_hit(b.value(), n),
                None => Ok(false),
            },
        }
    }
}

fn search_hit(bytes: &[u8], needle: &str) -> Result<bool, StoreError> {
    let corrupt = |message: String| StoreError::Codec {
        table: SEARCH_TABLE,
        message,
    };
    let rest = match bytes.split_first() {
        Some((&codec::FORMAT_VERSION, rest)) => rest,
        _ => return Err(corrupt("unknown search entry format".into())),
    };
    let fields: [&str; 3] = postcard::from_bytes(rest)
        .map_err(|e| corrupt(format!("cannot decode search entry: {e}")))?;
    Ok(fields.iter().any(|f| f.contains(needle)))
}

/// Collects a page from a stream of candidate `(key, id)` in list order,
/// already positioned at the start key when `start` is a cursor.
fn collect_page(
    candidates: impl Iterator<Item = Result<(ListKey, u64), StoreError>>,
    probe: &Probe,
    start: &Start,
    per_page: u64,
) -> Result<(Vec<(ListKey, u64)>, bool), StoreError> {
    let mut skip = match start {
        Start::Offset(n) => *n,
        Start::After(_) => 0,
    };
    let mut out = Vec::new();
    for c in candidates {
        let (key, id) = c?;
        if !probe.check(id)? {
            continue;
        }
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if out.len() as u64 == per_page {
            return Ok((out, true));
        }
        out.push((key, id));
    }
    Ok((out, false))
}

fn count_matches(
    candidates: impl Iterator<Item = Result<(ListKey, u64), StoreError>>,
    probe: &Probe,
) -> Result<u64, StoreError> {
    let mut n = 0;
    for c in candidates {
        let (_, id) = c?;
        if probe.check(id)? {
            n += 1;
        }
    }
    Ok(n)
}

fn term_count(
    counts: &redb::ReadOnlyTable<&'static str, u64>,
    term: &str,
) -> Result<u64, StoreError> {
    Ok(counts.get(term)?.map_or(0, |v| v.value()))
}

/// One page of the workflows matching `filter` and their total, from the
/// indexes; each item with its definition and without its source.
pub(crate) fn list_in(
    txn: &redb::ReadTransaction,
    filter: &WorkflowFilter,
    start: &Start,
    per_page: u64,
) -> Result<ListPage, StoreError> {
    let term_table = txn.open_table(tables::WORKFLOW_TERMS)?;
    let counts = txn.open_table(tables::WORKFLOW_TERM_COUNTS)?;
    let search_table = txn.open_table(tables::WORKFLOW_SEARCH)?;
    let wfs = txn.open_table(tables::WORKFLOWS)?;
    let mut terms = filter.terms();
    let needle = filter.search.as_ref().map(|s| s.to_lowercase());
    for t in &terms {
        if term_count(&counts, t)? == 0 {
            return Ok(ListPage {
                items: Vec::new(),
                total: 0,
                next: None,
            });
        }
    }

    let (page, more, total) = if let Some(pack_ref) = &filter.pack_ref {
        // A pack's workflows in name order through `pack\0name` keys.
        let probe = Probe {
            terms,
            needle,
            term_table: &term_table,
            search_table: &search_table,
        };
        let index = txn.open_table(tables::PACK_WORKFLOWS)?;
        let lo = format!("{pack_ref}\0");
        let hi = format!("{pack_ref}\u{1}");
        let prefix = lo.len();
        let scan = |from: Bound<String>| -> Result<_, StoreError> {
            let range = index.range::<&str>((
                from.as_ref().map(String::as_str),
                Bound::Excluded(hi.as_str()),
            ))?;
            Ok(range.map(move |e| {
                let (k, id) = e?;
                Ok((ListKey::Name(k.value()[prefix..].to_string()), id.value()))
            }))
        };
        let from = match start {
            Start::After(ListKey::Name(n)) => Bound::Excluded(format!("{pack_ref}\0{n}")),
            _ => Bound::Included(lo.clone()),
        };
        let (page, more) = collect_page(scan(from)?, &probe, start, per_page)?;
        let total = if probe.is_trivial() {
            term_count(&counts, &pack_term(pack_ref))?
        } else {
            count_matches(scan(Bound::Included(lo.clone()))?, &probe)?
        };
        (page, more, total)
    } else if terms.is_empty() && needle.is_none() {
        // No filter: the records table itself, in id order.
        let probe = Probe {
            terms,
            needle,
            term_table: &term_table,
            search_table: &search_table,
        };
        let from = match start {
            Start::After(ListKey::Id(id)) => Bound::Excluded(*id),
            _ => Bound::Unbounded,
        };
        let keys = wfs.range::<u64>((from, Bound::Unbounded))?.map(|e| {
            e.map(|(k, _)| (ListKey::Id(k.value()), k.value()))
                .map_err(StoreError::from)
        });
        let (page, more) = match start {
            Start::Offset(n) => {
                let keys = wfs
                    .range::<u64>(..)?
                    .skip(usize::try_from(*n).unwrap_or(usize::MAX))
                    .map(|e| {
                        e.map(|(k, _)| (ListKey::Id(k.value()), k.value()))
                            .map_err(StoreError::from)
                    });
                collect_page(keys, &probe, &Start::Offset(0), per_page)?
            }
            Start::After(_) => collect_page(keys, &probe, start, per_page)?,
        };
        (page, more, wfs.len()?)
    } else if terms.is_empty() {
        // Search only: a scan of the compact search table in id order.
        let from = match start {
            Start::After(ListKey::Id(id)) => Bound::Excluded(*id),
            _ => Bound::Unbounded,
        };
        let needle = needle.unwrap_or_default();
        let scan = |from: Bound<u64>| -> Result<_, StoreError> {
            let needle = needle.clone();
            Ok(search_table
                .range::<u64>((from, Bound::Unbounded))?
                .filter_map(move |e| match e {
                    Err(e) => Some(Err(StoreError::from(e))),
                    Ok((k, v)) => match search_hit(v.value(), &needle) {
                        Ok(true) => Some(Ok((ListKey::Id(k.value()), k.value()))),
                        Ok(false) => None,
                        Err(e) => Some(Err(e)),
                    },
                }))
        };
        let probe = Probe {
            terms,
            needle: None,
            term_table: &term_table,
            search_table: &search_table,
        };
        let (page, more) = collect_page(scan(from)?, &probe, start, per_page)?;
        let total = count_matches(scan(Bound::Unbounded)?, &probe)?;
        (page, more, total)
    } else {
        // Terms: walk the shortest posting list, probe the others.
        let mut best = 0;
        let mut best_n = u64::MAX;
        for (i, t) in terms.iter().enumerate() {
            let n = term_count(&counts, t)?;
            if n < best_n {
                (best, best_n) = (i, n);
            }
        }
        let driver = terms.swap_remove(best);
        let probe = Probe {
            terms,
            needle,
            term_table: &term_table,
            search_table: &search_table,
        };
        let scan = |from: u64| -> Result<_, StoreError> {
            let d = driver.as_str();
            Ok(term_table.range((d, from)..=(d, u64::MAX))?.map(|e| {
                let (k, _) = e?;
                let id = k.value().1;
                Ok((ListKey::Id(id), id))
            }))
        };
        let from = match start {
            Start::After(ListKey::Id(id)) => id.saturating_add(1),
            _ => 0,
        };
        let (page, more) = if matches!(start, Start::After(ListKey::Id(u64::MAX))) {
            (Vec::new(), false)
        } else {
            collect_page(scan(from)?, &probe, start, per_page)?
        };
        let total = if probe.is_trivial() {
            best_n
        } else {
            count_matches(scan(0)?, &probe)?
        };
        (page, more, total)
    };

    let next = if more {
        page.last().map(|(k, _)| k.clone())
    } else {
        None
    };
    let defs = txn.open_table(tables::WORKFLOW_DEFINITIONS)?;
    let sources = txn.open_table(tables::WORKFLOW_SOURCES)?;
    let mut items = Vec::with_capacity(page.len());
    for (_, id) in page {
        items.extend(read_record(&wfs, &defs, &sources, id, Body::Definition)?);
    }
    Ok(ListPage { items, total, next })
}

#[cfg(test)]
mod tests {
    //! The indexes against a full scan: a store generated with real
    //! syncs, stale marks, enable toggles, deletes and a pack cascade, then
    //! random filters listed page by page (by offset and by cursor) and
    //! compared with [`super::super::Store::list_workflows_by_scan`].

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use time::OffsetDateTime;

    use super::*;
    use crate::store::codec::JsonText;
    use crate::store::{NewPack, NewRun, PendingChanges, RunSummary, Store, WorkflowRecord};

    const PACKS: [&str; 3] = ["alpha", "beta", "gamma.sub"];
    const TAGS: [&str; 5] = ["x", "y", "z", "Ünï", "a:b"];
    const WORDS: [&str; 6] = ["Deploy", "backup", "ÉTÉ", "cron", "net-x", "Ωmega"];

    /// A tiny deterministic generator (the store's shape comes from a seed).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    fn content(pack: &str, name: &str, rng: &mut Lcg) -> WorkflowRecord {
        let mut tags = Vec::new();
        for t in TAGS {
            if rng.next(3) == 0 {
                tags.push(t.to_string());
            }
        }
        if rng.next(5) == 0 && !tags.is_empty() {
            tags.push(tags[0].clone()); // a duplicate tag
        }
        let label = format!("{} {}", WORDS[rng.next(6)], WORDS[rng.next(6)]);
        let description = (rng.next(2) == 0).then(|| WORDS[rng.next(6)].to_lowercase());
        WorkflowRecord {
            id: 0,
            enabled: true,
            stale: false,
            created: OffsetDateTime::UNIX_EPOCH,
            updated: OffsetDateTime::UNIX_EPOCH,
            action_file: None,
            r#ref: format!("{pack}.{name}"),
            pack_ref: pack.into(),
            name: name.into(),
            label,
            description,
            version: "1.0.0".into(),
            param_schema: JsonText::null(),
            out_schema: JsonText::null(),
            definition: JsonText::null(),
            tags,
            task_count: 1,
            source_file: String::new(),
            content_hash: String::new(),
            deps: vec![],
            dep_packs: vec![],
            deps_fingerprint: String::new(),
            warnings: vec![],
            diagnostics: JsonText::from_value(&serde_json::json!([])).unwrap(),
            source: String::new(),
        }
    }

    fn run(pack: &str) -> NewRun {
        NewRun {
            pack_ref: pack.into(),
            kind: "sync".into(),
            user: "u".into(),
            started: OffsetDateTime::now_utc(),
            duration_ms: 1,
            dry_run: false,
            prune: false,
            counts: Default::default(),
            details: JsonText::null(),
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

    fn generated_store(seed: u64) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut rng = Lcg(seed);
        for p in PACKS.iter().chain(["doomed"].iter()) {
            store.create_pack(NewPack::minimal(p, "P")).unwrap();
        }
        // Two syncs per pack: the second rewrites some, marks some stale,
        // prunes some.
        for round in 0..2 {
            for p in PACKS.iter().chain(["doomed"].iter()) {
                let mut pending = PendingChanges::new(dir.path());
                for i in 0..60 {
                    let name = format!("w{:02}", (i * 37) % 60);
                    match (round, rng.next(6)) {
                        (1, 0) => pending.mark_stale(format!("{p}.{name}")),
                        (1, 1) => pending.prune(format!("{p}.{name}")),
                        (1, 2 | 3) => {}
                        _ => pending.upsert(&content(p, &name, &mut rng)).unwrap(),
                    }
                }
                let author = crate::store::Author {
                    by: "test".into(),
                    trigger: "sync".into(),
                };
                let policy = crate::store::RevisionPolicy {
                    keep: crate::store::revisions::DEFAULT_KEEP,
                    max_total: crate::store::revisions::DEFAULT_MAX_TOTAL,
                };
                store
                    .commit_sync(p, pending, policy, author, |_| run(p), summary)
                    .unwrap();
            }
        }
        for p in PACKS {
            for i in 0..60 {
                let r = format!("{p}.w{i:02}");
                match rng.next(8) {
                    0 => drop(store.set_workflow_enabled(&r, false)),
                    1 => drop(store.delete_workflow(&r, false)),
                    _ => {}
                }
            }
        }
        store.delete_pack_cascade("doomed").unwrap();
        (dir, store)
    }

    fn filter_strategy() -> impl Strategy<Value = WorkflowFilter> {
        (
            prop::option::of(prop::sample::select(vec![
                "alpha",
                "beta",
                "gamma.sub",
                "nope",
            ])),
            prop::collection::vec(prop::sample::select(TAGS.to_vec()), 0..3),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::sample::select(vec![
                "e", "deploy", "été", "ÉT", "ωMEGA", "alpha.w1", "a.w", "-x", "zzz", "cron ",
            ])),
        )
            .prop_map(|(pack, tags, enabled, stale, search)| WorkflowFilter {
                pack_ref: pack.map(str::to_string),
                tags: tags.into_iter().map(str::to_string).collect(),
                enabled,
                stale,
                search: search.map(str::to_string),
            })
    }

    fn ids(recs: &[WorkflowRecord]) -> Vec<u64> {
        recs.iter().map(|r| r.id).collect()
    }

    #[test]
    fn every_filter_lists_what_a_full_scan_finds_by_page_and_by_cursor() {
        let (_dir, store) = generated_store(7);
        let all = store
            .list_workflows_by_scan(&WorkflowFilter::default())
            .unwrap();
        assert!(all.len() > 100, "the generated store has workflows");
        assert!(all.iter().any(|w| w.stale) && all.iter().any(|w| !w.enabled));
        let mut runner = TestRunner::new(Config {
            cases: 256,
            ..Config::default()
        });
        runner
            .run(&(filter_strategy(), 1u64..8), |(filter, per_page)| {
                let expected = store.list_workflows_by_scan(&filter).unwrap();
                // by page number
                let mut by_page = Vec::new();
                for page in 1.. {
                    let skip = (page - 1) * per_page;
                    let got = store
                        .list_workflows(&filter, &Start::Offset(skip), per_page)
                        .unwrap();
                    prop_assert_eq!(got.total, expected.len() as u64);
                    let done = got.next.is_none();
                    prop_assert!(got.items.len() as u64 <= per_page);
                    by_page.extend(got.items);
                    if done {
                        break;
                    }
                }
                prop_assert_eq!(ids(&by_page), ids(&expected));
                prop_assert_eq!(&by_page, &expected, "the records are the listed ones");
                // by cursor
                let mut by_cursor = Vec::new();
                let mut start = Start::Offset(0);
                loop {
                    let got = store.list_workflows(&filter, &start, per_page).unwrap();
                    prop_assert_eq!(got.total, expected.len() as u64);
                    by_cursor.extend(got.items);
                    match got.next {
                        Some(k) => start = Start::After(k),
                        None => break,
                    }
                }
                prop_assert_eq!(ids(&by_cursor), ids(&expected));
                Ok(())
            })
            .unwrap();
        // the counts table agrees with the pack index
        for p in PACKS {
            let n = store.pack_workflow_names(p).unwrap().len() as u64;
            assert_eq!(store.pack_workflow_count(p).unwrap(), n);
        }
        assert_eq!(store.pack_workflow_count("doomed").unwrap(), 0);
    }

    #[test]
    fn rebuilt_indexes_equal_the_ones_kept_up_to_date() {
        let (_dir, store) = generated_store(11);
        let snapshot = |store: &Store| {
            let txn = store.db().begin_read().unwrap();
            let terms: Vec<(String, u64)> = txn
                .open_table(tables::WORKFLOW_TERMS)
                .unwrap()
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, _) = e.unwrap();
                    (k.value().0.to_string(), k.value().1)
                })
                .collect();
            let counts: Vec<(String, u64)> = txn
                .open_table(tables::WORKFLOW_TERM_COUNTS)
                .unwrap()
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value().to_string(), v.value())
                })
                .collect();
            let search: Vec<(u64, Vec<u8>)> = txn
                .open_table(tables::WORKFLOW_SEARCH)
                .unwrap()
                .iter()
                .unwrap()
                .map(|e| {
                    let (k, v) = e.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect();
            (terms, counts, search)
        };
        let kept = snapshot(&store);
        assert!(!kept.0.is_empty() && !kept.1.is_empty() && !kept.2.is_empty());
        assert!(
            kept.1.iter().all(|(t, _)| !t.starts_with("p:doomed")),
            "a deleted pack leaves no term"
        );
        let txn = store.db().begin_write().unwrap();
        rebuild_with(&txn, crate::store::workflows::decode_record).unwrap();
        txn.commit().unwrap();
        assert_eq!(snapshot(&store), kept);
    }

    #[test]
    fn a_database_from_before_the_indexes_gets_them_built_on_open() {
        let (dir, store) = generated_store(3);
        let filter = WorkflowFilter {
            tags: vec!["x".into()],
            ..Default::default()
        };
        let before = store
            .list_workflows(&filter, &Start::Offset(0), 100)
            .unwrap();
        assert!(before.total > 0);
        // what schema version 2 left: records, no index tables
        let txn = store.db().begin_write().unwrap();
        assert!(txn.delete_table(tables::WORKFLOW_TERMS).unwrap());
        assert!(txn.delete_table(tables::WORKFLOW_TERM_COUNTS).unwrap());
        assert!(txn.delete_table(tables::WORKFLOW_SEARCH).unwrap());
        txn.open_table(tables::META)
            .unwrap()
            .insert(tables::SCHEMA_VERSION_KEY, 2)
            .unwrap();
        txn.commit().unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let after = store
            .list_workflows(&filter, &Start::Offset(0), 100)
            .unwrap();
        assert_eq!(after, before);
        assert_eq!(
            store.pack_workflow_count("alpha").unwrap(),
            store.pack_workflow_names("alpha").unwrap().len() as u64
        );
    }
}
