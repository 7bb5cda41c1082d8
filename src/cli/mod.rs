//! See ARCHITECTURE.md.

pub mod jobs;
pub mod submit;
pub mod task;
pub mod worker;
