//! Shared helpers for the end-to-end tests: serve a mirror network on loopback, crawl it
//! through a resolve override, and find the shared corpus.

#![allow(dead_code)]

pub mod fixture;
pub mod jekyll;

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Arc;

use tokio::sync::watch;
use trawl::config::{Overrides, Settings};
use trawl::crawl::{crawl, CrawlSummary};
use trawl::demo::{serve, Mirror, Network, ServerHandle};
use trawl::store::Store;

/// Starts `network` on 127.0.0.1 (ephemeral port).
pub async fn start(network: Arc<Network>) -> ServerHandle {
    serve(network, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("the fixture server starts")
}

/// `host=addr` pins for every demo host.
pub fn pins(addr: SocketAddr) -> Vec<String> {
    Mirror::ALL
        .iter()
        .map(|m| format!("{}={addr}", m.host()))
        .collect()
}

/// Settings of the embedded demo config, pinned to `addr`, with extra overrides.
pub fn demo_settings(addr: SocketAddr, overrides: Overrides) -> Settings {
    let mut o = overrides;
    o.resolve.extend(pins(addr));
    Settings::load(None, &o).expect("the demo config is valid")
}

/// Crawls with `settings` into `store` and returns the summary.
pub async fn crawl_into(settings: Settings, store: &Store) -> CrawlSummary {
    let (_tx, rx) = watch::channel(false);
    crawl(Arc::new(settings), store, rx)
        .await
        .expect("the crawl runs")
}

/// `../shared/corpus/<rel>` next to the project, or `None` with a printed notice when the
/// shared data is absent. With `TRAWL_REQUIRE_SHARED=1` (CI) absence is a failure.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(rel);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("TRAWL_REQUIRE_SHARED").is_ok_and(|v| v == "1") {
        panic!("TRAWL_REQUIRE_SHARED=1 but {} is missing", path.display());
    }
    eprintln!(
        "SKIPPED: {} not found; this test needs ../shared beside the project",
        path.display()
    );
    None
}

/// Runs the real `trawl` binary on `store`, with the environment's trawl variables cleared.
pub fn trawl(args: &[&str], store: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .arg("--store")
        .arg(store)
        .env_remove("TRAWL_STORE")
        .env_remove("TRAWL_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the trawl binary runs")
}

/// Lossy UTF-8 of process output.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
