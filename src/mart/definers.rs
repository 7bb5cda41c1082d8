//! Definers (`dynamic:` assessments of a definition): the built-in `rexdb` definer
//! and the ones an application registers (rex's `Definer` extensions).

use std::cell::RefCell;

/// The built-in definer ids.
pub const DEFINERS: [&str; 1] = ["rexdb"];

thread_local! {
    /// Definer ids registered by application code on this thread.
    static EXTRA: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Whether `id` names a definer.
pub fn is_known(id: &str) -> bool {
    DEFINERS.contains(&id) || EXTRA.with(|e| e.borrow().iter().any(|d| d == id))
}

/// Registers a definer id (an application's `Definer` subclass).
pub fn register(id: &str) {
    EXTRA.with(|e| {
        let mut e = e.borrow_mut();
        if !e.iter().any(|d| d == id) {
            e.push(id.to_string());
        }
    });
}

/// Forgets the registered definers (a new transcript starts clean).
pub fn clear() {
    EXTRA.with(|e| e.borrow_mut().clear());
}
