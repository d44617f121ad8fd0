//! libFuzzer target: see `trawl_fuzz::targets::charset` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trawl_fuzz::targets::charset(data));
