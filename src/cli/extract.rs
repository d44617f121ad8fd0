//! `trawl extract <file | -> [--url URL] [--format text|json]`: run the extractor on one saved
//! page, offline. Bytes in; the charset is decided exactly as the fetcher decides it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use trawl::config::Settings;
use trawl::extract::Extraction;
use trawl::fetch::charset;
use trawl::query::terminal_safe;
use url::Url;

use super::{print_json, UsageError};

/// What `trawl extract` prints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ExtractFormat {
    /// The body only: paragraphs separated by blank lines.
    #[default]
    Text,
    /// The whole post (title, published, source, author, language, body, extractor) and the
    /// charset decision, or the reason the page is not an article.
    Json,
}

/// Arguments of `trawl extract`.
#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Saved page to read, or `-` for standard input.
    #[arg(value_name = "FILE|-")]
    input: PathBuf,
    /// URL the page was fetched from: site rules match on its host, relative links and URL
    /// dates read from it. Defaults to the file's `file://` URL.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The Content-Type header the page was served with, if known (its charset wins, as in a
    /// crawl).
    #[arg(long, value_name = "TYPE")]
    content_type: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExtractFormat::Text)]
    format: ExtractFormat,
}

/// Runs `trawl extract`.
pub fn run(config: Option<&Path>, args: &ExtractArgs) -> Result<()> {
    let bytes = read_input(&args.input)?;
    let url = page_url(args)?;
    // Site rules and the default zone come from the configuration, as in a crawl.
    let settings = Settings::load(config, &Default::default())?;
    let decoded = charset::decode(&bytes, args.content_type.as_deref());
    let html = trawl::extract::bounds::parse_document(&decoded.text)
        .map_err(|e| anyhow::anyhow!("cannot extract from this page: {e}"))?;
    let site = settings.scope.site_for(&url);
    let extraction = settings.extractor.extract(&html, &url, site);
    match (args.format, extraction) {
        (ExtractFormat::Json, Extraction::Post(post)) => {
            let mut v = serde_json::to_value(&post)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("charset".into(), decoded.describe().into());
            }
            print_json(&v)
        }
        (ExtractFormat::Json, Extraction::NotArticle(reason)) => print_json(&serde_json::json!({
            "url": url.as_str(),
            "not_article": reason,
            "charset": decoded.describe(),
        })),
        (ExtractFormat::Text, Extraction::Post(post)) => {
            let mut out = std::io::stdout().lock();
            let body = post.body.join("\n\n");
            writeln!(out, "{}", terminal_safe(&body))?;
            Ok(())
        }
        (ExtractFormat::Text, Extraction::NotArticle(reason)) => {
            // Nothing on stdout: there is no body. The reason is a diagnostic.
            eprintln!("not an article: {}", terminal_safe(&reason));
            Ok(())
        }
    }
}

fn read_input(input: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if input == Path::new("-") {
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| UsageError(format!("cannot read standard input: {e}")))?;
    } else {
        bytes = std::fs::read(input).map_err(|e| {
            UsageError(format!(
                "cannot read {}: {e}; give a saved HTML file or - for standard input",
                input.display()
            ))
        })?;
    }
    Ok(bytes)
}

fn page_url(args: &ExtractArgs) -> Result<Url> {
    if let Some(u) = &args.url {
        return Url::parse(u)
            .map_err(|e| UsageError(format!("--url {u:?} is not a URL: {e}")).into());
    }
    if args.input == Path::new("-") {
        return Url::parse("file:///dev/stdin").context("a literal URL parses");
    }
    let abs = std::path::absolute(&args.input)
        .map_err(|e| UsageError(format!("cannot resolve {}: {e}", args.input.display())))?;
    Url::from_file_path(&abs)
        .map_err(|()| UsageError(format!("{} has no file URL; pass --url", abs.display())).into())
}
