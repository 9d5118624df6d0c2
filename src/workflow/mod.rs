//! The pure workflow core: YAML layer, model, rules, diagnostics and
//! expressions. No filesystem, no database, no HTTP: bytes in,
//! `(Option<Workflow>, Vec<Diagnostic>)` out.

pub mod yaml;
