//! trawl: archive news that is syndicated across mirror domains.
//!
//! The pipeline runs one way, one module per stage:
//! [`scope`]/[`frontier`] → [`fetch`] → [`extract`] → [`fingerprint`] → [`dedup`] → [`store`]
//! → [`query`]. [`crawl`] wires the stages together; [`config`] turns a TOML file and flags
//! into the validated [`config::Settings`] they consume; [`model`] holds the shared data types;
//! [`demo`] generates and serves the demo mirror network that the demo and the tests crawl;
//! [`cluster`] lets several crawl workers share a frontier and a dedup index in Redis.

pub mod cluster;
pub mod config;
pub mod crawl;
pub mod dedup;
pub mod demo;
pub mod export;
pub mod extract;
pub mod fetch;
pub mod fingerprint;
pub mod frontier;
pub mod model;
pub mod query;
pub mod schedule;
pub mod scope;
pub mod store;

/// Caps glibc's malloc arenas at two, unless `MALLOC_ARENA_MAX` is set. glibc gives every
/// thread that contends for memory an arena of its own (up to eight per core) and returns
/// little of them; trawl's threads (reactor, blocking pool, sled's) allocate page-sized
/// buffers all crawl long, and the extra arenas were 15–20 MiB of a crawl's peak RSS for no
/// measurable speed (`cargo bench --bench crawl -- memory`). Call it first thing in `main`.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator tunable; M_ARENA_MAX with a positive value
        // is valid at any time, and no allocation is in progress on this thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}
