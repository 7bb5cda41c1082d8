//! harness: RexDB's mart creation system re-implemented in Rust, plus the doctest
//! transcript runner that proves it. See ARCHITECTURE.md for the map.

pub mod asynctask;
pub mod bindings;
pub mod cli;
pub mod core;
pub mod deploy;
pub mod doctest;
pub mod htsql;
pub mod job;
pub mod mart;
pub mod pg;
pub mod provision;
pub mod script;
pub mod timings;
pub mod web;
