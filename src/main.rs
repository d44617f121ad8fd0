//! The `trawl` binary: parse arguments, set up logging, run the command, map errors to exit
//! codes (0 success, 1 failure, 2 usage/config error).

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command};

fn main() -> ExitCode {
    trawl::limit_malloc_arenas();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    init_logging(cli.verbose, cli.quiet);
    let config = cli.config.as_deref();
    let result = match &cli.command {
        Command::Demo(a) => cli::demo::run(&cli.store, config, a),
        Command::Crawl(a) => cli::crawl::run(&cli.store, config, a),
        Command::Run(a) => cli::run::run(&cli.store, config, a),
        Command::Runs(a) => cli::runs::run(&cli.store, a),
        Command::Stats(a) => cli::stats::run(&cli.store, a),
        Command::Get(a) => cli::get::run(&cli.store, config, a),
        Command::List(a) => cli::list::run(&cli.store, config, a),
        Command::Search(a) => cli::search::run(&cli.store, a),
        Command::Export(a) => cli::export::run(&cli.store, config, cli.quiet > 0, a),
        Command::Dupes(a) => cli::dupes::run(&cli.store, config, a),
        Command::History(a) => cli::history::run(&cli.store, config, a),
        Command::Extract(a) => cli::extract::run(config, a),
        Command::Cluster(a) => cli::cluster::run(config, a),
        Command::Merge(a) => cli::merge::run(config, a),
        Command::Verify(a) => cli::verify::run(&cli.store, config, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Error messages can quote page text (a JSON value, a URL): escape it like any
            // other output that may reach a terminal.
            eprintln!("error: {}", trawl::query::terminal_safe(&format!("{e:#}")));
            ExitCode::from(cli::exit_code(&e))
        }
    }
}

fn init_logging(verbose: u8, quiet: u8) {
    let level = match (verbose, quiet) {
        (0, 0) => "info",
        (0, 1) => "warn",
        (0, _) => "error",
        (1, _) => "debug",
        _ => "trace",
    };
    // RUST_LOG, when set, wins; otherwise only trawl's own logs at the chosen level.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("warn,trawl={level}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .compact()
        .init();
}
