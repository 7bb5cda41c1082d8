//! Figures shared by the benchmarks (`#[path = "support/stats.rs"] mod stats;`).

#![allow(dead_code)]

use std::time::Duration;

/// (min, median, max) of `times`; zeros when there are none.
pub fn stats(times: &[Duration]) -> (Duration, Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    if sorted.is_empty() {
        return Default::default();
    }
    (
        sorted[0],
        sorted[sorted.len() / 2],
        sorted[sorted.len() - 1],
    )
}
