//! `trawl demo`: generate the demo mirror network, serve it on loopback, crawl it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use trawl::config::Settings;
use trawl::demo::{serve, Mirror, Network};
use trawl::store::Store;

use super::crawl::{index_for_search, print_summary, runtime, stop_signal, CrawlFlags};
use super::FormatArg;

/// Arguments of `trawl demo`.
#[derive(Debug, Args)]
#[command(
    after_help = "The network has four hosts that publish the same generated articles with \
different markup and quirks: the origin share host news.trawl-demo.test, a full-width mirror \
m.finmirror.test, a blog-style mirror blog.newsarchive.test, and a GBK mirror www.gbk-news.test. \
Every mirrored copy should collapse into the origin's record."
)]
pub struct DemoArgs {
    /// Articles in the generated network.
    #[arg(long, default_value_t = 300, value_name = "N", global = true)]
    articles: usize,
    /// Seed of the generator (same seed, same network).
    #[arg(long, default_value_t = 20220121, value_name = "SEED", global = true)]
    net_seed: u64,
    #[command(flatten)]
    flags: CrawlFlags,
    #[command(flatten)]
    format: FormatArg,
    #[command(subcommand)]
    action: Option<DemoAction>,
}

/// `trawl demo` sub-actions.
#[derive(Debug, Subcommand)]
enum DemoAction {
    /// Only serve the network (until Ctrl-C), so other tools can be pointed at it.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
}

/// Runs `trawl demo`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &DemoArgs) -> Result<()> {
    if args.articles == 0 {
        return Err(super::UsageError("--articles must be at least 1".into()).into());
    }
    let network = Arc::new(Network::generate(args.net_seed, args.articles));
    let rt = runtime()?;
    match args.action {
        Some(DemoAction::Serve { addr }) => rt.block_on(serve_only(network, addr)),
        None => rt.block_on(crawl_demo(network, store_dir, config, args)),
    }
}

async fn serve_only(network: Arc<Network>, addr: SocketAddr) -> Result<()> {
    let n = network.articles().len();
    let server = serve(network, addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = server.addr();
    println!("serving the demo mirror network ({n} articles) on http://{addr}");
    let resolves: Vec<String> = Mirror::ALL
        .iter()
        .map(|m| format!("--resolve {}={addr}", m.host()))
        .collect();
    println!(
        "crawl it with:\n  trawl crawl --config config/demo.toml {}",
        resolves.join(" ")
    );
    println!(
        "or use it as an HTTP proxy: curl -x http://{addr} http://{}/",
        Mirror::Origin.host()
    );
    println!("press Ctrl-C to stop");
    let mut stop = stop_signal();
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            break;
        }
    }
    server.shutdown().await;
    Ok(())
}

async fn crawl_demo(
    network: Arc<Network>,
    store_dir: &Path,
    config: Option<&Path>,
    args: &DemoArgs,
) -> Result<()> {
    let stop = stop_signal();
    let server = serve(network.clone(), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("cannot start the demo network on 127.0.0.1")?;
    let addr = server.addr();
    let pins = Mirror::ALL
        .iter()
        .map(|m| format!("{}={addr}", m.host()))
        .collect();
    let settings = Settings::load(config, &args.flags.overrides(pins))?;
    let store = Store::open(store_dir)?;
    tracing::info!(articles = network.articles().len(), %addr, store = %store_dir.display(), "demo network up");
    let options = trawl::crawl::CrawlOptions {
        resume: !args.flags.fresh,
    };
    let summary = trawl::crawl::crawl_with(Arc::new(settings), &store, stop, options).await;
    server.shutdown().await;
    let summary = summary?;
    index_for_search(&store)?;
    let counts = store.counts();
    println!(
        "demo network: {} articles on {} hosts, served on {addr}",
        network.articles().len(),
        Mirror::ALL.len()
    );
    print_summary(
        &summary,
        args.format.format,
        Some((counts.records, counts.sightings)),
    )?;
    if args.format.format == super::Format::Table {
        println!(
            "\nstore: {} — try `trawl stats` and `trawl get <id|url>`",
            store_dir.display()
        );
    }
    Ok(())
}
