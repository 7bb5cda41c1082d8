//! The doctest output checker and failure report: `check_output`, `ellipsis_match`,
//! `strip_exception_details` and `output_difference` (all three diff styles) on an
//! arbitrary want/got pair. Input: two flag bytes, then want and got separated by NUL.
#![no_main]

use harness::doctest::check::strip_exception_details;
use harness::doctest::{check_output, ellipsis_match, report, Flags};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let flags = Flags(u32::from(u16::from_le_bytes([data[0], data[1]])) & 0x7ff);
    let text = String::from_utf8_lossy(&data[2..]);
    let (want, got) = text.split_once('\0').unwrap_or((&text, ""));
    let _ = ellipsis_match(want, got);
    let _ = check_output(want, got, flags);
    let _ = strip_exception_details(want);
    let _ = report::output_difference(want, got, flags);
    let _ = report::indent(got);
});
