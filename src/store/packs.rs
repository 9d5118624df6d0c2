//! Packs: records by ref, each with a stable numeric id from a counter.

use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Store, StoreError, codec, next_id, tables};

const TABLE: &str = "packs";

/// Summary of one sync or validation run, kept on the pack for list views.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: u64,
    #[serde(with = "codec::timestamp")]
    pub at: OffsetDateTime,
    pub ok: bool,
    pub error_count: u64,
    pub warning_count: u64,
    pub workflow_count: u64,
}

/// A pack record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pack {
    pub id: u64,
    pub pack_ref: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    #[serde(with = "codec::json_text")]
    pub conf_schema: serde_json::Value,
    #[serde(with = "codec::json_text")]
    pub config: serde_json::Value,
    #[serde(with = "codec::json_text")]
    pub meta: serde_json::Value,
    pub tags: Vec<String>,
    pub runtime_deps: Vec<String>,
    pub is_standard: bool,
    #[serde(with = "codec::timestamp")]
    pub created: OffsetDateTime,
    #[serde(with = "codec::timestamp")]
    pub updated: OffsetDateTime,
    pub last_sync: Option<RunSummary>,
    pub last_validation: Option<RunSummary>,
}

/// Fields of a new pack (already validated by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct NewPack {
    pub pack_ref: String,
    pub label: String,
    pub description: Option<String>,
    pub version: String,
    pub conf_schema: serde_json::Value,
    pub config: serde_json::Value,
    pub meta: serde_json::Value,
    pub tags: Vec<String>,
    pub runtime_deps: Vec<String>,
    pub is_standard: bool,
}

/// A partial update: `None` leaves a field as it is. `description:
/// Some(None)` clears the description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PackUpdate {
    pub label: Option<String>,
    pub description: Option<Option<String>>,
    pub version: Option<String>,
    pub conf_schema: Option<serde_json::Value>,
    pub config: Option<serde_json::Value>,
    pub meta: Option<serde_json::Value>,
    pub tags: Option<Vec<String>>,
    pub runtime_deps: Option<Vec<String>>,
    pub is_standard: Option<bool>,
}

impl PackUpdate {
    fn apply(self, pack: &mut Pack) {
        if let Some(v) = self.label {
            pack.label = v;
        }
        if let Some(v) = self.description {
            pack.description = v;
        }
        if let Some(v) = self.version {
            pack.version = v;
        }
        if let Some(v) = self.conf_schema {
            pack.conf_schema = v;
        }
        if let Some(v) = self.config {
            pack.config = v;
        }
        if let Some(v) = self.meta {
            pack.meta = v;
        }
        if let Some(v) = self.tags {
            pack.tags = v;
        }
        if let Some(v) = self.runtime_deps {
            pack.runtime_deps = v;
        }
        if let Some(v) = self.is_standard {
            pack.is_standard = v;
        }
    }
}

/// The message of a missing pack, everywhere it is answered.
pub fn pack_not_found_message(pack_ref: &str) -> String {
    format!("Pack '{pack_ref}' not found")
}

/// `NotFound` for a missing pack.
pub(crate) fn not_found(pack_ref: &str) -> StoreError {
    StoreError::NotFound(pack_not_found_message(pack_ref))
}

impl Store {
    /// One page of packs ordered by ref (`page` counts from 1), and the total.
    pub fn list_packs(&self, page: u64, per_page: u64) -> Result<(Vec<Pack>, u64), StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::PACKS)?;
        let total = table.len()?;
        let skip = page.saturating_sub(1).saturating_mul(per_page);
        let mut packs = Vec::new();
        for entry in table
            .iter()?
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(usize::MAX))
        {
            let (_, bytes) = entry?;
            packs.push(codec::decode(TABLE, bytes.value())?);
        }
        Ok((packs, total))
    }

    /// The pack with this ref, if any.
    pub fn get_pack(&self, pack_ref: &str) -> Result<Option<Pack>, StoreError> {
        let txn = self.db().begin_read()?;
        let table = txn.open_table(tables::PACKS)?;
        let Some(bytes) = table.get(pack_ref)? else {
            return Ok(None);
        };
        codec::decode(TABLE, bytes.value()).map(Some)
    }

    /// The pack with this ref; `NotFound` ("Pack '…' not found") otherwise.
    pub fn require_pack(&self, pack_ref: &str) -> Result<Pack, StoreError> {
        self.get_pack(pack_ref)?.ok_or_else(|| not_found(pack_ref))
    }

    /// Creates a pack; `Conflict` when the ref exists.
    pub fn create_pack(&self, new: NewPack) -> Result<Pack, StoreError> {
        let txn = self.db().begin_write()?;
        let pack = {
            let mut table = txn.open_table(tables::PACKS)?;
            if table.get(new.pack_ref.as_str())?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "Pack '{}' already exists",
                    new.pack_ref
                )));
            }
            let now = OffsetDateTime::now_utc();
            let pack = Pack {
                id: next_id(&txn, TABLE)?,
                pack_ref: new.pack_ref,
                label: new.label,
                description: new.description,
                version: new.version,
                conf_schema: new.conf_schema,
                config: new.config,
                meta: new.meta,
                tags: new.tags,
                runtime_deps: new.runtime_deps,
                is_standard: new.is_standard,
                created: now,
                updated: now,
                last_sync: None,
                last_validation: None,
            };
            let bytes = codec::encode(TABLE, &pack)?;
            table.insert(pack.pack_ref.as_str(), bytes.as_slice())?;
            pack
        };
        txn.commit()?;
        Ok(pack)
    }

    /// Applies a partial update; `NotFound` when the ref does not exist.
    pub fn update_pack(&self, pack_ref: &str, update: PackUpdate) -> Result<Pack, StoreError> {
        self.modify_pack(pack_ref, |pack| update.apply(pack))
    }

    /// Records the summary of the latest sync run of a pack.
    pub fn set_pack_last_sync(&self, pack_ref: &str, run: RunSummary) -> Result<Pack, StoreError> {
        self.modify_pack(pack_ref, |pack| pack.last_sync = Some(run))
    }

    /// Records the summary of the latest validation run of a pack.
    pub fn set_pack_last_validation(
        &self,
        pack_ref: &str,
        run: RunSummary,
    ) -> Result<Pack, StoreError> {
        self.modify_pack(pack_ref, |pack| pack.last_validation = Some(run))
    }

    fn modify_pack(&self, pack_ref: &str, f: impl FnOnce(&mut Pack)) -> Result<Pack, StoreError> {
        let txn = self.db().begin_write()?;
        let pack = {
            let mut table = txn.open_table(tables::PACKS)?;
            let mut pack: Pack = match table.get(pack_ref)? {
                Some(bytes) => codec::decode(TABLE, bytes.value())?,
                None => return Err(not_found(pack_ref)),
            };
            f(&mut pack);
            pack.updated = OffsetDateTime::now_utc();
            let bytes = codec::encode(TABLE, &pack)?;
            table.insert(pack_ref, bytes.as_slice())?;
            pack
        };
        txn.commit()?;
        Ok(pack)
    }

    /// Deletes a pack and returns what it was; `NotFound` when absent.
    pub fn delete_pack(&self, pack_ref: &str) -> Result<Pack, StoreError> {
        let txn = self.db().begin_write()?;
        let pack = {
            let mut table = txn.open_table(tables::PACKS)?;
            let removed = table.remove(pack_ref)?;
            match removed {
                Some(bytes) => codec::decode(TABLE, bytes.value())?,
                None => return Err(not_found(pack_ref)),
            }
        };
        txn.commit()?;
        Ok(pack)
    }
}

/// A pack with only a ref and a label, for unit tests of other modules.
#[cfg(test)]
impl NewPack {
    pub(crate) fn minimal(pack_ref: &str, label: &str) -> NewPack {
        NewPack {
            pack_ref: pack_ref.into(),
            label: label.into(),
            description: None,
            version: "1.0.0".into(),
            conf_schema: serde_json::json!({}),
            config: serde_json::json!({}),
            meta: serde_json::json!({}),
            tags: vec![],
            runtime_deps: vec![],
            is_standard: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_pack(r: &str) -> NewPack {
        NewPack {
            pack_ref: r.into(),
            label: r.to_uppercase(),
            description: None,
            version: "1.0.0".into(),
            conf_schema: serde_json::json!({}),
            config: serde_json::json!({"a": 1}),
            meta: serde_json::json!({}),
            tags: vec!["t".into()],
            runtime_deps: vec![],
            is_standard: false,
        }
    }

    #[test]
    fn packs_are_created_listed_in_ref_order_updated_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for r in ["c", "a", "b"] {
            store.create_pack(new_pack(r)).unwrap();
        }
        assert!(matches!(
            store.create_pack(new_pack("a")),
            Err(StoreError::Conflict(_))
        ));
        let (page, total) = store.list_packs(1, 2).unwrap();
        assert_eq!(total, 3);
        let refs: Vec<_> = page.iter().map(|p| p.pack_ref.as_str()).collect();
        assert_eq!(refs, ["a", "b"]);
        let (page, _) = store.list_packs(2, 2).unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].pack_ref, "c");

        let before = store.get_pack("a").unwrap().unwrap();
        let after = store
            .update_pack(
                "a",
                PackUpdate {
                    version: Some("2.0.0".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(after.version, "2.0.0");
        assert_eq!(after.id, before.id);
        assert_eq!(after.config, before.config);
        assert!(after.updated >= before.updated);

        store.delete_pack("a").unwrap();
        assert!(store.get_pack("a").unwrap().is_none());
        assert!(matches!(
            store.delete_pack("a"),
            Err(StoreError::NotFound(_))
        ));
        // ids are never reused
        let again = store.create_pack(new_pack("a")).unwrap();
        assert!(again.id > 3);
    }
}
