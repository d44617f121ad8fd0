//! libFuzzer target: see `trawl_fuzz::targets::extract_site` for what it runs and checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| trawl_fuzz::targets::extract_site(data));
