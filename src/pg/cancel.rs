//! Cancelling the database calls of a piece of work from another thread.
//!
//! A [`Scope`] is shared (`Arc`) between the thread that does the work and the one
//! that may give up on it. While a scope is current on a thread ([`Scope::enter`]),
//! every connection [`Server::connect`](super::Server::connect) opens there is
//! registered in it; [`Scope::cancel`] then asks the server to cancel whatever
//! statement each of them is running (a cancel request, as `pg_cancel_backend`: the
//! call fails with `canceling statement due to user request`; a connection that is
//! idle ignores it). The work itself decides what a failed call means.
//!
//! - Registration costs nothing per query: the connection's cancel key is kept once,
//!   when it is opened. Only threads where a scope is current pay anything at all.
//! - A connection is forgotten when it is closed: its registration lives in the
//!   connection's notice callback, which the connection owns and drops with it, so a
//!   long piece of work that opens many connections keeps only its open ones.
//! - Once cancelled, a scope refuses new connections ([`Server::connect`] fails) until
//!   [`Scope::reset`]: work that retries or reconnects after a cancelled call stops
//!   there instead of starting another long statement.
//! - A cancel request is sent, not awaited: the server may act on it a moment after
//!   [`Scope::cancel`] returns.
//! - Threads inherit nothing: code that opens connections for the current work on a
//!   thread of its own carries the scope there ([`current`], then [`Scope::enter`]).
//!   Connections opened by other processes (`rex` children) are not covered.
//!
//! [`Server::connect`]: super::Server::connect

use crate::core::{Error, Result};
use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

/// The connections opened for one piece of work, to cancel their calls.
#[derive(Default)]
pub struct Scope {
    /// Set by [`Scope::cancel`] (under `open`'s lock), cleared by [`Scope::reset`].
    cancelled: AtomicBool,
    open: Mutex<Vec<Registered>>,
}

/// One connection: its cancel key, and whether it is still open.
struct Registered {
    token: postgres::CancelToken,
    alive: Weak<Alive>,
}

/// Owned by a connection (through its notice callback) while it is open.
struct Alive;

thread_local! {
    static CURRENT: RefCell<Option<Arc<Scope>>> = const { RefCell::new(None) };
}

/// The scope current on this thread, if any.
pub fn current() -> Option<Arc<Scope>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// Keeps a scope current on its thread; the previous one is current again when
/// it is dropped.
pub struct Entered {
    previous: Option<Arc<Scope>>,
    /// Not `Send`: it restores its own thread's scope.
    _thread: std::marker::PhantomData<*const ()>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

impl Scope {
    pub fn new() -> Arc<Scope> {
        Arc::new(Scope::default())
    }

    /// Makes this scope current on this thread until the guard is dropped.
    pub fn enter(self: &Arc<Self>) -> Entered {
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        Entered {
            previous,
            _thread: std::marker::PhantomData,
        }
    }

    /// Asks the server to cancel the statement each open connection of the scope is
    /// running, and refuses new connections until [`Scope::reset`]. Returns how many
    /// requests were sent (a server that cannot be reached is skipped).
    pub fn cancel(&self) -> usize {
        let tokens: Vec<postgres::CancelToken> = {
            let mut open = self.lock();
            self.cancelled.store(true, Ordering::SeqCst);
            prune(&mut open);
            open.iter().map(|r| r.token.clone()).collect()
        };
        tokens
            .iter()
            .filter(|t| t.cancel_query(postgres::NoTls).is_ok())
            .count()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Lets the scope serve new work: new connections are accepted again.
    pub fn reset(&self) {
        self.cancelled.store(false, Ordering::SeqCst);
    }

    /// How many of the connections registered are still open.
    pub fn open_connections(&self) -> usize {
        let mut open = self.lock();
        prune(&mut open);
        open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Registered>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn prune(open: &mut Vec<Registered>) {
    open.retain(|r| r.alive.strong_count() > 0);
}

fn refused() -> Error {
    Error::with(
        "Failed to connect to the database server:",
        "the work this connection is for was cancelled",
    )
}

/// A connection about to be opened in the current scope.
pub(super) struct Pending {
    scope: Arc<Scope>,
    alive: Weak<Alive>,
}

/// Prepares `config` for a connection opened in the current scope, if any: fails
/// when the scope is cancelled; otherwise the connection will own a token of its
/// life (in its notice callback, which logs as the default one does).
pub(super) fn prepare(config: &mut postgres::Config) -> Result<Option<Pending>> {
    let Some(scope) = current() else {
        return Ok(None);
    };
    if scope.is_cancelled() {
        return Err(refused());
    }
    let alive = Arc::new(Alive);
    let pending = Pending {
        scope,
        alive: Arc::downgrade(&alive),
    };
    config.notice_callback(move |notice| {
        let _owned = &alive;
        log::info!(target: "postgres::config", "{}: {}", notice.severity(), notice.message());
    });
    Ok(Some(pending))
}

impl Pending {
    /// Registers the connection just opened; fails when the scope was cancelled
    /// meanwhile (the caller closes it: the cancel did not reach it).
    pub(super) fn register(self, client: &postgres::Client) -> Result<()> {
        let mut open = self.scope.lock();
        if self.scope.is_cancelled() {
            return Err(refused());
        }
        prune(&mut open);
        open.push(Registered {
            token: client.cancel_token(),
            alive: self.alive,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Scope;
    use crate::pg::testing::server;
    use std::time::{Duration, Instant};

    /// A statement blocked on one thread is cancelled from another through the
    /// scope it was opened in, promptly, with PostgreSQL's cancel error.
    #[test]
    fn a_blocked_statement_is_cancelled_from_another_thread() {
        let scope = Scope::new();
        let (opened, blocked) = std::sync::mpsc::channel();
        let worker = {
            let scope = scope.clone();
            std::thread::spawn(move || {
                let _in = scope.enter();
                let mut client = server().connect("postgres").expect("connect");
                opened.send(()).unwrap();
                let started = Instant::now();
                let result = client.batch_execute("SELECT pg_sleep(100)");
                (result, started.elapsed(), client)
            })
        };
        blocked.recv().unwrap();
        assert_eq!(scope.open_connections(), 1);
        // The statement may not have reached the server yet: cancel until it ends.
        let until = Instant::now() + Duration::from_secs(20);
        while !worker.is_finished() && Instant::now() < until {
            scope.cancel();
            std::thread::sleep(Duration::from_millis(100));
        }
        let (result, took, mut client) = worker.join().unwrap();
        let Err(error) = result else {
            panic!("the statement was not cancelled");
        };
        assert_eq!(
            error.as_db_error().map(|e| e.message()),
            Some("canceling statement due to user request")
        );
        assert!(took < Duration::from_secs(10), "{took:?}");
        // The connection itself is fine.
        let one: i32 = client.query_one("SELECT 1", &[]).unwrap().get(0);
        assert_eq!(one, 1);
        drop(client);
        assert_eq!(scope.open_connections(), 0);
    }

    /// A cancelled scope refuses connections until it is reset; other threads and
    /// a thread outside any scope are not affected.
    #[test]
    fn a_cancelled_scope_refuses_connections_until_reset() {
        let scope = Scope::new();
        {
            let _in = scope.enter();
            let kept = server().connect("postgres").expect("connect");
            assert_eq!(scope.open_connections(), 1);
            scope.cancel();
            let Err(refused) = server().connect("postgres") else {
                panic!("a cancelled scope accepted a connection");
            };
            assert!(refused.to_string().contains("was cancelled"), "{refused}");
            // A cancel of an idle connection does nothing to it.
            drop(kept);
            scope.reset();
            let mut again = server().connect("postgres").expect("connect");
            let one: i32 = again.query_one("SELECT 1", &[]).unwrap().get(0);
            assert_eq!(one, 1);
            {
                let other = Scope::new();
                let _nested = other.enter();
                server().connect("postgres").expect("connect");
                assert!(!super::current().is_some_and(|c| std::sync::Arc::ptr_eq(&c, &scope)));
            }
            assert!(super::current().is_some_and(|c| std::sync::Arc::ptr_eq(&c, &scope)));
            scope.cancel();
        }
        assert!(super::current().is_none());
        server().connect("postgres").expect("outside the scope");
    }

    /// Closed connections are forgotten.
    #[test]
    fn closed_connections_are_forgotten() {
        let scope = Scope::new();
        let _in = scope.enter();
        let kept = server().connect("postgres").expect("connect");
        for _ in 0..5 {
            drop(server().connect("postgres").expect("connect"));
        }
        assert_eq!(scope.open_connections(), 1);
        let mut kept = kept;
        // A notice still reaches the log through the callback the scope installed.
        kept.batch_execute("DO $$ BEGIN RAISE NOTICE 'hello'; END $$")
            .unwrap();
        drop(kept);
        assert_eq!(scope.open_connections(), 0);
    }
}
