//! The pure workflow core: YAML layer, model, rules, diagnostics and
//! expressions. No filesystem, no database, no HTTP: bytes in,
//! `(Option<Workflow>, Vec<Diagnostic>)` out (as a [`Validation`]).
//!
//! Entry point: [`validate`]. Parts: [`yaml`] (spanned tree with budgets),
//! [`diagnostic`] (codes and the `Diagnostic` record), [`model`]
//! (`Workflow`, `SourceContext`), [`catalog`] (actions the rules resolve
//! against, built-ins embedded), [`suppress`] (ignore comments), [`expr`]
//! (the expression language), [`schema`] (JSON Schema of the format).

pub mod catalog;
pub mod diagnostic;
pub mod expr;
pub mod model;
pub mod schema;
pub mod suppress;
pub mod validate;
pub mod yaml;

pub use catalog::{
    ActionCatalog, ActionInfo, ActionKind, BuiltinCatalog, LayeredCatalog, MapCatalog, ParamInfo,
};
pub use diagnostic::{Code, Diagnostic, Fix, Severity};
pub use model::{SourceContext, Validation, Workflow, is_valid_name, is_valid_pack_ref};
pub use validate::{check, validate, validate_text, validate_with_limits};
