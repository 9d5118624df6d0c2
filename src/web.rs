//! Embedded web UI.
