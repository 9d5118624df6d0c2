//! `attune lsp`: a Language Server Protocol server over a byte stream
//! (stdin/stdout in the binary), built on the pure core crate. No database,
//! no network, no async runtime.
//!
//! Threads: a reader (frames in, [`transport`]), a writer (frames out), the
//! main loop (requests and notifications, [`server`]) and one checker that
//! validates documents after the debounce. Modules: [`disk`] (finding packs,
//! safe reads), [`workspace`] (packs and their catalog), [`analysis`] (names
//! and spans of one text), [`context`] (the cursor's place, by indentation),
//! [`diag`] (core diagnostics → LSP), [`features`] (completion, navigation,
//! rename, code actions), [`text`] (positions).

pub mod analysis;
pub mod context;
pub mod diag;
pub mod disk;
pub mod features;
pub mod server;
pub mod text;
pub mod transport;
pub mod workspace;

pub use server::{Options, run};
