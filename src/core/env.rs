//! The environment as a thread sees it. A transcript's `os.environ` changes only its
//! own thread's view (an overlay on the process environment), because `harness run
//! -j` replays several files in one process: a `REX_PROJECT` one file sets must not
//! reach another. Code that reads variables a transcript may set (rex.ctl's
//! settings, the children `ctl` starts) reads them here; children get the overlay.

use std::cell::RefCell;
use std::collections::BTreeMap;

thread_local! {
    /// Variables set (`Some`) or removed (`None`) on this thread.
    static OVERLAY: RefCell<BTreeMap<String, Option<String>>> = const { RefCell::new(BTreeMap::new()) };
}

/// The variable `key` as this thread sees it.
pub fn var(key: &str) -> Option<String> {
    OVERLAY.with(|o| match o.borrow().get(key) {
        Some(v) => v.clone(),
        None => std::env::var(key).ok(),
    })
}

/// Every variable as this thread sees it, sorted by name.
pub fn vars() -> Vec<(String, String)> {
    let mut all: BTreeMap<String, String> = std::env::vars().collect();
    OVERLAY.with(|o| {
        for (k, v) in o.borrow().iter() {
            match v {
                Some(v) => all.insert(k.clone(), v.clone()),
                None => all.remove(k),
            };
        }
    });
    all.into_iter().collect()
}

/// Sets `key` for this thread (and the children it starts).
pub fn set(key: &str, value: &str) {
    OVERLAY.with(|o| {
        o.borrow_mut()
            .insert(key.to_string(), Some(value.to_string()))
    });
}

/// Removes `key` for this thread (and the children it starts).
pub fn remove(key: &str) {
    OVERLAY.with(|o| o.borrow_mut().insert(key.to_string(), None));
}

/// Applies this thread's changes to a child process about to start.
pub fn apply(command: &mut std::process::Command) {
    OVERLAY.with(|o| {
        for (k, v) in o.borrow().iter() {
            match v {
                Some(v) => command.env(k, v),
                None => command.env_remove(k),
            };
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_stay_on_their_thread() {
        set("HARNESS_ENV_TEST", "a");
        remove("PATH");
        assert_eq!(var("HARNESS_ENV_TEST").as_deref(), Some("a"));
        assert_eq!(var("PATH"), None);
        assert!(vars()
            .iter()
            .any(|(k, v)| k == "HARNESS_ENV_TEST" && v == "a"));
        let other = std::thread::spawn(|| (var("HARNESS_ENV_TEST"), var("PATH").is_some()));
        assert_eq!(other.join().unwrap(), (None, true));
        assert!(std::env::var("HARNESS_ENV_TEST").is_err());
    }
}
