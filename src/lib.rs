//! attune: a single-binary appliance that loads, validates and registers
//! automation-pack workflows, and serves a REST API and a web UI over them.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod pack;
pub mod store;
pub mod sync;
pub mod web;
pub mod workflow;
