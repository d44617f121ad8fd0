//! trawl's fuzz targets. `targets` holds what each libFuzzer target runs (plain Rust, so the
//! regression tests in `tests/fuzz_regressions.rs` run the very same functions on stable);
//! `seeds` builds the seed corpora from the demo generator and small hand-made inputs.

pub mod seeds;
pub mod targets;
