//! Who may see and manage what (rex.mart's `MartAccessPermissions` with its default
//! rules): every definition is open to every user; a user sees and manages the
//! marts they own.

use crate::core::Result;
use crate::mart::inventory;
use crate::mart::Mart;
use postgres::Client;

/// The access rules the handlers ask.
pub trait Access: Send + Sync {
    fn can_access_definition(&self, _user: &str, _definition: &str) -> bool {
        true
    }
    fn can_access_mart(&self, user: &str, mart: &Mart) -> bool {
        mart.owner == user && self.can_access_definition(user, &mart.definition)
    }
    fn can_manage_mart(&self, user: &str, mart: &Mart) -> bool {
        self.can_access_mart(user, mart)
    }
}

/// rex.mart's own rules.
pub struct DefaultAccess;

impl Access for DefaultAccess {}

/// What looking a mart up for a user found.
pub enum Found {
    /// No such mart (rex: `None`).
    Missing,
    /// The mart exists but the user may not see it (rex: `False`).
    Denied,
    Mart(Mart),
}

/// rex's `get_mart(code, user)`.
pub fn get_mart(access: &dyn Access, db: &mut Client, code: i64, user: &str) -> Result<Found> {
    Ok(match inventory::get(db, code)? {
        None => Found::Missing,
        Some(m) if access.can_access_mart(user, &m) => Found::Mart(m),
        Some(_) => Found::Denied,
    })
}

/// rex's `get_marts_for_user(user, definition_id)`: `None` when the definition is
/// not the user's to see; else the user's complete marts, latest completion first.
pub fn marts_for_user(
    access: &dyn Access,
    db: &mut Client,
    user: &str,
    definition: Option<&str>,
) -> Result<Option<Vec<Mart>>> {
    if let Some(d) = definition {
        if !access.can_access_definition(user, d) {
            return Ok(None);
        }
    }
    let mut marts = inventory::complete(db, user, definition)?;
    marts.reverse();
    marts.retain(|m| access.can_access_mart(user, m));
    Ok(Some(marts))
}
