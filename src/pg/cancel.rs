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
//! - A cancel is no barrier: a connection opened after [`Scope::cancel`] is
//!   registered like any other and reached by the next cancel only. The work's
//!   cleanup after a cancelled call (rolling back, dropping what it half made) can
//!   so still connect; a caller that wants the work's later calls cancelled too
//!   cancels again.
//! - A cancel request is sent, not awaited: the server may act on it a moment after
//!   [`Scope::cancel`] returns (on an idle connection it then does nothing).
//! - Threads inherit nothing: code that opens connections for the current work on a
//!   thread of its own carries the scope there ([`current`], then [`Scope::enter`]).
//!   Connections opened by other processes (`rex` children) are not covered.
//! - Sessions shared by the whole process (the marks of [`super::marker`]) are
//!   opened [`outside`] any scope: cancelling one file's work must not fail a call
//!   another thread makes on them.
//!
//! [`Server::connect`]: super::Server::connect

use std::cell::RefCell;
use std::sync::{Arc, Mutex, Weak};

/// The connections opened for one piece of work, to cancel their calls.
#[derive(Default)]
pub struct Scope {
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
    /// running. Returns how many requests were sent (a server that cannot be
    /// reached is skipped).
    pub fn cancel(&self) -> usize {
        let tokens: Vec<postgres::CancelToken> = {
            let mut open = self.lock();
            prune(&mut open);
            open.iter().map(|r| r.token.clone()).collect()
        };
        tokens
            .iter()
            .filter(|t| t.cancel_query(postgres::NoTls).is_ok())
            .count()
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

/// Runs `f` with no scope current on this thread: for connections that outlive
/// the work at hand and serve other threads too.
pub(super) fn outside<T>(f: impl FnOnce() -> T) -> T {
    let previous = CURRENT.with(|c| c.borrow_mut().take());
    let _restore = Entered {
        previous,
        _thread: std::marker::PhantomData,
    };
    f()
}

/// A connection about to be opened in the current scope.
pub(super) struct Pending {
    scope: Arc<Scope>,
    alive: Weak<Alive>,
}

/// Prepares `config` for a connection opened in the current scope, if any: the
/// connection will own a token of its life (in its notice callback, which logs as
/// the default one does).
pub(super) fn prepare(config: &mut postgres::Config) -> Option<Pending> {
    let scope = current()?;
    let alive = Arc::new(Alive);
    let pending = Pending {
        scope,
        alive: Arc::downgrade(&alive),
    };
    config.notice_callback(move |notice| {
        let _owned = &alive;
        log::info!(target: "postgres::config", "{}: {}", notice.severity(), notice.message());
    });
    Some(pending)
}

impl Pending {
    /// Registers the connection just opened.
    pub(super) fn register(self, client: &postgres::Client) {
        let mut open = self.scope.lock();
        prune(&mut open);
        open.push(Registered {
            token: client.cancel_token(),
            alive: self.alive,
        });
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

    /// A connection opened after a cancel serves (the work's cleanup) and is
    /// reached by the next cancel; scopes nest; `outside` opens unregistered ones.
    #[test]
    fn connections_after_a_cancel_nested_scopes_and_outside() {
        use std::sync::Arc;
        let scope = Scope::new();
        let is_current = |s: &Arc<Scope>| super::current().is_some_and(|c| Arc::ptr_eq(&c, s));
        {
            let _in = scope.enter();
            let kept = server().connect("postgres").expect("connect");
            // A cancel of an idle connection does nothing to it.
            assert_eq!(scope.cancel(), 1);
            let mut after = server()
                .connect("postgres")
                .expect("connect after a cancel");
            let one: i32 = after.query_one("SELECT 1", &[]).unwrap().get(0);
            assert_eq!(one, 1);
            assert_eq!(scope.open_connections(), 2);
            assert_eq!(scope.cancel(), 2);
            drop(kept);
            {
                let other = Scope::new();
                let _nested = other.enter();
                let _c = server().connect("postgres").expect("connect");
                assert!(is_current(&other));
                assert_eq!(other.open_connections(), 1);
                let shared = super::outside(|| {
                    assert!(super::current().is_none());
                    server().connect("postgres").expect("connect")
                });
                assert!(is_current(&other));
                assert_eq!(other.open_connections(), 1);
                drop(shared);
            }
            assert!(is_current(&scope));
            assert_eq!(scope.open_connections(), 1);
        }
        assert!(super::current().is_none());
        server().connect("postgres").expect("outside the scope");
        assert_eq!(scope.open_connections(), 0);
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
