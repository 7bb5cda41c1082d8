//! Idle PostgreSQL sessions kept per database between requests, so a request costs a
//! query, not a connection. A session whose work failed is dropped, not returned.

use crate::core::app::Database;
use crate::core::Result;
use postgres::Client;
use std::collections::HashMap;
use std::sync::Mutex;

/// At most this many idle sessions are kept per database.
const IDLE_PER_DATABASE: usize = 16;

#[derive(Default)]
pub struct Pool {
    idle: Mutex<HashMap<(String, String), Vec<Client>>>,
}

impl Pool {
    /// Runs `f` on an idle session of `db` (or a new one).
    pub fn with<T>(&self, db: &Database, f: impl FnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let key = (db.server.url("postgres"), db.name.clone());
        let taken = self
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.get_mut(&key).and_then(Vec::pop));
        let mut client = match taken {
            Some(c) if !c.is_closed() => c,
            _ => db.connect()?,
        };
        let out = f(&mut client)?;
        if let Ok(mut idle) = self.idle.lock() {
            let list = idle.entry(key).or_default();
            if list.len() < IDLE_PER_DATABASE {
                list.push(client);
            }
        }
        Ok(out)
    }

    /// Closes the idle sessions of database `name` (before it is dropped).
    pub fn forget(&self, name: &str) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|(_, db), _| db != name);
        }
    }
}
