//! Shared helpers: paths of the test data and a catalog for it.

use attune::pack::{self, PackCatalog};
use std::path::PathBuf;

/// `tests/data`: a pack named `data` (workflows/ and actions/).
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// The file size limit the data-driven cases run with.
pub const CASE_MAX_BYTES: u64 = 16 * 1024;

/// The catalog of the `data` pack (its actions and workflows).
pub fn data_catalog() -> PackCatalog {
    let mut pc = PackCatalog::default();
    pack::add_pack(&mut pc, &data_dir(), "data", CASE_MAX_BYTES);
    assert!(pc.problems.is_empty(), "{:?}", pc.problems);
    pc
}
