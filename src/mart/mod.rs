//! rex.mart: mart definitions, creation, inventory, quotas and purging.
//!
//! - [`definition`]: `mart.yaml` loading and validation;
//! - [`runlist`]: the payload / RunList entry validator;
//! - [`creator`]: the creation pipeline; [`tasks`]: its worker and job executor;
//! - [`inventory`], [`purge`], [`quota`], [`sweep`]: the records and their lifecycle;
//! - [`rules`]: an application's access and quota rules and processors, for the
//!   work done outside a transcript;
//! - [`cluster`], [`etl`], [`processors`], [`params`], [`settings`]: the pieces;
//! - [`ext`]: the adapter onto rex.deploy and HTSQL.

pub mod assessments;
pub mod cluster;
pub mod creator;
pub mod datadictionary;
pub mod definers;
pub mod definition;
pub mod etl;
pub mod ext;
pub mod fields;
pub mod instruments;
pub mod inventory;
pub mod params;
pub mod permissions;
pub mod processors;
pub mod purge;
pub mod quota;
pub mod rc;
pub mod rules;
pub mod runlist;
pub mod settings;
pub mod sweep;
pub mod tables;
pub mod tasks;
pub mod util;

pub use creator::{CreateOptions, MartCreator};
pub use definition::{Definition, Definitions};
pub use inventory::Mart;
pub use purge::purge_mart;
pub use runlist::RunListEntry;
pub use tasks::{MartCreateExecutor, MartCreateWorker};
