//! HTTP API integration tests: one binary, a real server on 127.0.0.1:0 with
//! a fresh redb file per test (see `helpers`).

mod auth;
mod binary;
mod concurrency;
mod crash;
mod demo;
mod fixtures;
mod health;
mod helpers;
mod hostile_files;
mod ops;
mod packs;
mod runs;
mod sync;
mod validate;
mod workflows;
