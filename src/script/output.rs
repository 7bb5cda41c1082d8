//! The captured stdout of the running example. A thread-local buffer so that `print`
//! and the harness's log handler (log lines written by Rust domain code while an
//! example runs) interleave in the order they happened.

use std::cell::RefCell;

thread_local! {
    static BUFFER: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Appends text to the current example's output.
pub fn write(text: &str) {
    BUFFER.with(|b| b.borrow_mut().push_str(text));
}

/// Returns and clears everything written since the last `take`.
pub fn take() -> String {
    BUFFER.with(|b| std::mem::take(&mut *b.borrow_mut()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn write_then_take_clears() {
        super::take();
        super::write("a");
        super::write("b\n");
        assert_eq!(super::take(), "ab\n");
        assert_eq!(super::take(), "");
    }
}
