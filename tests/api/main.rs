//! HTTP API integration tests: one binary, a real server on 127.0.0.1:0 with
//! a fresh redb file per test (see `helpers`).

mod attacks;
mod audit;
mod auth;
mod backup_security;
mod binary;
mod budget;
mod concurrency;
mod crash;
mod demo;
mod disk_full;
mod events;
mod faults;
mod health;
mod helpers;
mod hostile_files;
mod metrics;
mod ops;
mod pack_crash;
mod pack_delivery;
mod packs;
mod revisions;
mod roles;
mod rules;
mod runs;
mod seed_examples;
mod symlinks;
mod sync;
mod tls;
mod tokens;
mod users;
mod validate;
mod watch;
mod workflows;
