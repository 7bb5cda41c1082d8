//! rex.mart's `MartAccessPermissions`: which definitions and marts a user may see
//! and manage. [`AccessPermissions`] is the extension point (an application
//! replaces any of its three rules); the lookups built on the rules
//! ([`get_mart`], [`get_marts_for_user`], [`get_definitions_for_user`]) always go
//! through the implementation they are given, so an override applies everywhere.

use super::definition::{Definition, Definitions};
use super::inventory::{self, Mart};
use crate::core::Result;
use postgres::Client;

/// The rules. Each method's default is rex's default behaviour, also available as
/// the free function of the same name for implementations that extend it.
pub trait AccessPermissions {
    /// Whether `user` may use definition `definition_id` (default: always).
    fn user_can_access_definition(&mut self, user: &str, definition_id: &str) -> Result<bool> {
        let _ = (user, definition_id);
        Ok(true)
    }
    /// Whether `user` may see `mart` (default: the owner, if the definition is
    /// accessible to them).
    fn user_can_access_mart(&mut self, user: &str, mart: &Mart) -> Result<bool> {
        Ok(mart.owner == user && self.user_can_access_definition(user, &mart.definition)?)
    }
    /// Whether `user` may pin or purge `mart` (default: whoever may see it).
    fn user_can_manage_mart(&mut self, user: &str, mart: &Mart) -> Result<bool> {
        self.user_can_access_mart(user, mart)
    }
}

/// rex's permissions, unchanged.
pub struct DefaultPermissions;

impl AccessPermissions for DefaultPermissions {}

/// What `get_mart` finds.
#[derive(Clone, Debug, PartialEq)]
pub enum MartAccess {
    /// No mart has the code.
    Missing,
    /// The user may not see it.
    Denied,
    Granted(Mart),
}

/// Mart `code`, if `can_access` (the requesting user's rule) lets them see it.
pub fn get_mart(
    db: &mut Client,
    code: i64,
    can_access: &mut dyn FnMut(&Mart) -> Result<bool>,
) -> Result<MartAccess> {
    let Some(mart) = inventory::get(db, code)? else {
        return Ok(MartAccess::Missing);
    };
    Ok(if can_access(&mart)? {
        MartAccess::Granted(mart)
    } else {
        MartAccess::Denied
    })
}

/// The complete marts of `user` (of one definition when given) that pass
/// `can_access`, latest completion first.
pub fn get_marts_for_user(
    db: &mut Client,
    user: &str,
    definition: Option<&str>,
    can_access: &mut dyn FnMut(&Mart) -> Result<bool>,
) -> Result<Vec<Mart>> {
    let mut marts = inventory::complete(db, user, definition)?;
    marts.reverse();
    let mut out = Vec::new();
    for mart in marts {
        if can_access(&mart)? {
            out.push(mart);
        }
    }
    Ok(out)
}

/// The definitions `user` may access, in definition order.
pub fn get_definitions_for_user<'d>(
    definitions: &'d Definitions,
    user: &str,
    rules: &mut dyn AccessPermissions,
) -> Result<Vec<&'d Definition>> {
    let mut out = Vec::new();
    for d in &definitions.items {
        if rules.user_can_access_definition(user, &d.id)? {
            out.push(d);
        }
    }
    Ok(out)
}
