//! Integration tests of the workflow core, the pack loader and the
//! `attune validate` / `attune schema` commands, as one test binary.

mod cli;
mod compat;
mod corpus;
mod data;
mod diff_cli;
mod expressions_doc;
mod generated;
mod helpers;
mod hints;
mod props;
mod rules_doc;
mod schema;
