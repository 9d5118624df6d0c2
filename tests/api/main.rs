//! HTTP API integration tests: one binary, a real server on 127.0.0.1:0 with
//! a fresh redb file per test (see `helpers`).

mod attacks;
mod auth;
mod binary;
mod demo;
mod faults;
mod health;
mod helpers;
mod ops;
mod packs;
