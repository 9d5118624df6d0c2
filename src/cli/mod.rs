//! Command-line commands as library functions; `main.rs` wires them to clap.

pub mod schema;
pub mod validate;
