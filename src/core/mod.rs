//! rex.core: the one error type, Python-style reprs of plain data, settings, the
//! application context, YAML loading and validators. Everything else builds on these.

pub mod app;
pub mod env;
pub mod error;
pub mod logging;
pub mod packages;
pub mod repr;
pub mod rex_process;
pub mod settings;
pub mod table;
pub mod validate;
pub mod work_tx;
pub mod yaml;

pub use error::{Error, Result};
