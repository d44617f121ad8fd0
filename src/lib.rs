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
