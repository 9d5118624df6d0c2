//! Integration tests of the workflow core, the pack loader and the
//! `attune validate` / `attune schema` commands, as one test binary.

mod cli;
mod corpus;
mod data;
mod generated;
mod helpers;
mod props;
mod rules_doc;
mod schema;
