//! See ARCHITECTURE.md.
pub mod pg;
