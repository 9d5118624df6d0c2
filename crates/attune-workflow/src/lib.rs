//! The pure workflow core: YAML layer, model, rules, diagnostics and
//! expressions. No filesystem, no database, no HTTP: bytes in,
//! `(Option<Workflow>, Vec<Diagnostic>)` out (as a [`Validation`]).
//!
//! Entry point: [`validate`]. Parts: [`yaml`] (spanned tree with budgets),
//! [`diagnostic`] (codes and the `Diagnostic` record), [`model`]
//! (`Workflow`, `SourceContext`), [`catalog`] (actions the rules resolve
//! against, built-ins embedded), [`diff`] (the semantic diff of two
//! normalized definitions), [`suppress`] (ignore comments), [`expr`]
//! (the expression language), [`schema`] (JSON Schema of the format),
//! [`refs`] (validated reference types such as `PackRef`).
//!
//! This crate depends on no I/O crate (no tokio, axum, redb or file-system
//! helpers), so the invariant holds at compile time; the appliance
//! (`attune`), the fuzz targets, the benchmarks and the editor integration
//! all build on it.

pub mod catalog;
pub mod diagnostic;
pub mod diff;
pub mod expr;
#[cfg(feature = "gen")]
pub mod generator;
pub mod model;
pub mod refs;
pub mod rules;
pub mod schema;
pub mod suppress;
pub mod validate;
pub mod yaml;

pub use catalog::{
    ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, LayeredCatalog, MapCatalog, ParamInfo,
};
pub use diagnostic::{Code, Diagnostic, Fix, Severity};
pub use model::{SourceContext, Validation, Workflow, is_valid_name, is_valid_pack_ref};
pub use validate::{
    ACTION_KEYS, JsonValidation, LinkedAction, check, check_linked, validate, validate_json,
    validate_linked, validate_linked_json, validate_text, validate_with_limits,
};
