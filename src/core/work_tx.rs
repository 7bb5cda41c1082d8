//! The unit of work of a job or a task. While one is open on a thread, the database
//! work that code running there does on the unit's database through [`with_client`]
//! (an application's `get_db().produce(...)`) joins one transaction, begun at its
//! first statement; the job's completion or the task's removal from its queue is
//! written in that same transaction and commits it. A worker killed mid-run so
//! leaves nothing behind: the job or task runs again and its second run is its only
//! effect (exactly once). Each call is a savepoint of its own: a failed statement
//! undoes itself only, as it would in autocommit, and the work done before it stays.
//!
//! The domain opens units ([`Unit::enter`], [`Unit::enter_open`]); the bindings
//! reach the database through [`with_client`] and know nothing else of them.
//! Heartbeats and claims never use the unit's connection: they must commit at once.

use crate::core::app::Database;
use crate::core::{Error, Result};
use postgres::{Client, Transaction};
use std::cell::RefCell;
use std::marker::PhantomData;

/// The unit open on this thread.
struct Open {
    /// The database's URL: work on another database does not join.
    key: String,
    /// `None` while a call uses it (a nested call then works outside the unit).
    client: Option<Client>,
    /// Whether the transaction has begun (the work used the database).
    begun: bool,
    /// A call is using the connection.
    busy: bool,
}

thread_local! {
    static UNIT: RefCell<Option<Open>> = const { RefCell::new(None) };
}

fn key(db: &Database) -> String {
    db.server.url(&db.name)
}

/// Begins the unit's transaction on `client`. Notices below errors are not sent
/// (each call of the work begins a handle on the open transaction again, which the
/// server would warn about).
pub fn begin(client: &mut Client) -> Result<()> {
    client.batch_execute("BEGIN; SET LOCAL client_min_messages TO error")?;
    Ok(())
}

/// The unit open on this thread while alive (a guard: dropping it closes the unit;
/// a transaction still open is then rolled back).
pub struct Unit {
    /// Not `Send`: the unit belongs to the thread that opened it.
    _thread: PhantomData<*const ()>,
}

impl Unit {
    /// Opens a unit on `db` that begins its transaction when the work first uses
    /// the database; `idle` is a connection to reuse (none: one is opened then).
    pub fn enter(db: &Database, idle: Option<Client>) -> Unit {
        Unit::install(Open {
            key: key(db),
            client: idle,
            begun: false,
            busy: false,
        })
    }

    /// Opens a unit on a transaction already begun with [`begin`] on `client` (a
    /// task transport's, holding the task's row).
    pub fn enter_open(db: &Database, client: Client) -> Unit {
        Unit::install(Open {
            key: key(db),
            client: Some(client),
            begun: true,
            busy: false,
        })
    }

    fn install(open: Open) -> Unit {
        UNIT.with(|u| *u.borrow_mut() = Some(open));
        Unit {
            _thread: PhantomData,
        }
    }

    /// Closes the unit. Returns its connection: `(client, true)` with the
    /// transaction still open when the work used the database (the caller writes
    /// its outcome and commits), `(client, false)` idle otherwise.
    pub fn close(self) -> Option<(Client, bool)> {
        let open = UNIT.with(|u| u.borrow_mut().take())?;
        open.client.map(|c| (c, open.begun))
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        if let Some(open) = UNIT.with(|u| u.borrow_mut().take()) {
            if let (Some(mut client), true) = (open.client, open.begun) {
                let _ = client.batch_execute("ROLLBACK");
            }
        }
    }
}

/// Runs `f` on `db`: in the unit open on this thread when it is on `db` (in a
/// savepoint of its transaction), else in a transaction of its own on a new
/// connection, committed when `f` succeeds.
pub fn with_client<T>(
    db: &Database,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
) -> Result<T> {
    let want = key(db);
    // `Some`: this call works in the unit (its connection taken out meanwhile).
    let lent = UNIT.with(|u| match u.borrow_mut().as_mut() {
        Some(open) if open.key == want && !open.busy => {
            open.busy = true;
            Some((open.client.take(), open.begun))
        }
        _ => None,
    });
    let Some((client, mut begun)) = lent else {
        let mut client = db.connect()?;
        let mut tx = client.transaction()?;
        let out = f(&mut tx)?;
        tx.commit()?;
        return Ok(out);
    };
    let (client, out) = match client.map_or_else(|| db.connect(), Ok) {
        Ok(mut client) => {
            let out = in_unit(db, &mut client, &mut begun, f);
            (Some(client), out)
        }
        Err(e) => (None, Err(e)),
    };
    UNIT.with(|u| {
        if let Some(open) = u.borrow_mut().as_mut() {
            open.client = client;
            open.begun = begun;
            open.busy = false;
        }
    });
    out
}

/// One call of the work on the unit's connection: a savepoint, released when `f`
/// succeeds, rolled back to when it fails. Begins the transaction first if need be.
fn in_unit<T>(
    db: &Database,
    client: &mut Client,
    begun: &mut bool,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T>,
) -> Result<T> {
    if !*begun {
        // A connection kept idle between jobs may have gone stale (the server
        // restarted meanwhile): nothing is lost yet, so a new one serves.
        if client.is_closed() || begin(client).is_err() {
            *client = db.connect()?;
            begin(client)?;
        }
        *begun = true;
    } else if client.is_closed() {
        return Err(Error::new(
            "Lost the connection of this job's or task's transaction; it runs again",
        ));
    }
    // A handle on the open transaction (its `BEGIN` does nothing); it must not end
    // the transaction when dropped, so it is forgotten after the call.
    let mut outer = client.transaction()?;
    let out = (|| {
        let mut call = outer.transaction()?;
        let out = f(&mut call)?;
        call.commit()?;
        Ok(out)
    })();
    std::mem::forget(outer);
    out
}
