//! Configuration: a TOML file (raw, as written) merged with command-line overrides and
//! validated once into [`Settings`], the typed value every stage consumes.
//!
//! Every error names the file, the key and what was expected; unknown keys are errors, so a
//! typo never silently falls back to a default. Nothing after [`Settings::load`] re-validates.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::FixedOffset;
use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use thiserror::Error;
use url::Url;

use crate::dedup::{CanonicalPolicy, Criterion, NearPolicy};
use crate::extract::api::{
    self, ApiKind, ApiRule, ApiRules, BodyFormat, Field, FieldMap, Paging, Template, TimeFormat,
};
use crate::extract::{date::parse_offset, Extractor, SiteRule};
use crate::fetch::retry::RetryPolicy;
use crate::fetch::robots::product_token;
use crate::fetch::FetchSettings;
use crate::fingerprint::{Fingerprinter, Normaliser};
use crate::scope::{Scope, SiteScope, UrlPolicy, DEFAULT_STRIP_PARAMS};

/// The demo network's configuration, embedded so `trawl demo` works from any directory.
pub const DEMO_CONFIG: &str = include_str!("../config/demo.toml");

/// A configuration problem: which file, which key, what is wrong.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {file}: {source}")]
    Read {
        /// File path.
        file: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// TOML syntax error, unknown key or wrong type (toml's message has line and column).
    #[error("config {file}: {message}")]
    Parse {
        /// File path (or `<embedded demo config>`).
        file: String,
        /// Parser message.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("config {file}: key `{key}`: {message}")]
    Invalid {
        /// File path, or `command line`.
        file: String,
        /// Dotted key, e.g. `site[1].article[0]`, or the flag.
        key: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

/// The file as written. Every table rejects unknown keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawConfig {
    crawl: RawCrawl,
    url: RawUrl,
    normalise: RawNormalise,
    dedup: RawDedup,
    site: Vec<RawSite>,
    cluster: RawCluster,
}

/// `[cluster]`: where the shared frontier and dedup index live (empty `url`: one machine).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCluster {
    url: String,
    worker: String,
    lease_ms: u64,
    deadline_ms: u64,
}

impl Default for RawCluster {
    fn default() -> Self {
        RawCluster {
            url: String::new(),
            worker: String::new(),
            lease_ms: 10_000,
            deadline_ms: 30_000,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawCrawl {
    seeds: Vec<String>,
    user_agent: String,
    concurrency: usize,
    per_host_concurrency: usize,
    per_host_delay_ms: u64,
    max_pages: u64,
    max_depth: u32,
    timeout_secs: u64,
    connect_timeout_secs: u64,
    max_body_bytes: u64,
    max_redirects: usize,
    default_timezone: String,
    resolve: Vec<String>,
    max_retries: u32,
    retry_base_ms: u64,
    max_retry_after_secs: u64,
    robots: bool,
    max_crawl_delay_secs: u64,
    allow_private: bool,
    max_links_per_page: usize,
}

impl Default for RawCrawl {
    fn default() -> Self {
        RawCrawl {
            seeds: Vec::new(),
            user_agent: format!(
                "trawl/{} (archival news crawler)",
                env!("CARGO_PKG_VERSION")
            ),
            concurrency: 32,
            per_host_concurrency: 4,
            per_host_delay_ms: 0,
            max_pages: 100_000,
            max_depth: 10,
            timeout_secs: 30,
            connect_timeout_secs: 10,
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            default_timezone: "+08:00".into(),
            resolve: Vec::new(),
            max_retries: 3,
            retry_base_ms: 500,
            max_retry_after_secs: 300,
            robots: true,
            max_crawl_delay_secs: 30,
            allow_private: false,
            max_links_per_page: DEFAULT_MAX_LINKS_PER_PAGE,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawUrl {
    strip_params: Vec<String>,
    strip_param_prefixes: Vec<String>,
    max_length: usize,
}

impl Default for RawUrl {
    fn default() -> Self {
        RawUrl {
            strip_params: DEFAULT_STRIP_PARAMS.iter().map(|s| s.to_string()).collect(),
            strip_param_prefixes: vec!["utm_".into()],
            max_length: 2048,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawNormalise {
    default_boilerplate: bool,
    drop_lines: Vec<String>,
    strip_suffixes: Vec<String>,
    unify_quotes: bool,
    min_body_chars: usize,
}

impl Default for RawNormalise {
    fn default() -> Self {
        RawNormalise {
            default_boilerplate: true,
            drop_lines: Vec::new(),
            strip_suffixes: Vec::new(),
            unify_quotes: true,
            min_body_chars: 50,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawDedup {
    preferred_hosts: Vec<String>,
    canonical_order: Vec<String>,
    max_distance: u32,
    min_jaccard: f64,
    join_revisions: bool,
}

impl Default for RawDedup {
    fn default() -> Self {
        let near = NearPolicy::default();
        RawDedup {
            preferred_hosts: Vec::new(),
            canonical_order: Criterion::ALL.iter().map(|(_, n)| n.to_string()).collect(),
            max_distance: near.max_distance,
            min_jaccard: near.min_jaccard,
            join_revisions: near.join_revisions,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    name: String,
    hosts: Vec<String>,
    #[serde(default)]
    article: Vec<String>,
    #[serde(default)]
    listing: Vec<String>,
    #[serde(default)]
    extract: Option<RawExtract>,
    #[serde(default)]
    ignore_robots: bool,
    #[serde(default)]
    recrawl_after: Option<String>,
    #[serde(default)]
    api: Vec<RawApi>,
}

/// `[[site.api]]`: a JSON endpoint of the site.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApi {
    name: String,
    kind: RawApiKind,
    url: String,
    #[serde(default)]
    items: String,
    #[serde(default)]
    fields: RawApiFields,
    #[serde(default)]
    follow: Vec<String>,
    #[serde(default)]
    paginate: Option<RawPaginate>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawApiKind {
    JsonList,
    JsonDetail,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawApiFields {
    id: Option<String>,
    title: Option<String>,
    published: Option<String>,
    published_format: Option<String>,
    timezone: Option<String>,
    source: Option<String>,
    body: Option<String>,
    body_format: Option<String>,
    url: Option<String>,
    optional: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPaginate {
    param: String,
    max_pages: u32,
    #[serde(default)]
    first: Option<u64>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExtract {
    body: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    drop: Vec<String>,
}

/// Values given on the command line; they override the file.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--seed`: replaces the configured seeds when non-empty.
    pub seeds: Vec<String>,
    /// `--resolve host=ip:port`: added to the configured pins.
    pub resolve: Vec<String>,
    /// `--max-pages`.
    pub max_pages: Option<u64>,
    /// `--max-depth`.
    pub max_depth: Option<u32>,
    /// `--concurrency`.
    pub concurrency: Option<usize>,
    /// `--per-host-concurrency`.
    pub per_host_concurrency: Option<usize>,
    /// `--delay-ms`.
    pub per_host_delay_ms: Option<u64>,
    /// `--user-agent`.
    pub user_agent: Option<String>,
    /// `--cluster redis://HOST:PORT/DB`: crawl as one worker of a cluster.
    pub cluster: Option<String>,
    /// `--worker NAME`: this worker's name in the cluster.
    pub worker: Option<String>,
}

/// A crawl worker's place in a cluster (`[cluster]`, `--cluster`, `--worker`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterSettings {
    /// The Redis server, e.g. `redis://127.0.0.1:6379/0`.
    pub url: String,
    /// This worker's name: unique in the cluster, stable across restarts.
    pub worker: String,
    /// How long a host lease lasts unless renewed.
    pub lease: Duration,
    /// How long a URL taken for fetching may stay in flight unless renewed.
    pub deadline: Duration,
}

/// Checks a Redis URL the way `trawl` accepts it: `redis://[user:pass@]HOST[:PORT][/DB]`.
pub fn check_redis_url(url: &str) -> Result<(), String> {
    let parsed = Url::parse(url)
        .map_err(|e| format!("`{url}` is not a URL ({e}); expected redis://HOST:PORT/DB"))?;
    if parsed.scheme() != "redis" {
        return Err(format!(
            "`{url}` has scheme `{}`; expected redis://HOST:PORT/DB (TLS is not supported)",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "`{url}` names no host; expected redis://HOST:PORT/DB"
        ));
    }
    let db = parsed.path().trim_start_matches('/');
    if !db.is_empty() && db.parse::<u32>().is_err() {
        return Err(format!(
            "`{url}`: database `{db}` is not a number; expected redis://HOST:PORT/DB"
        ));
    }
    Ok(())
}

/// Crawl-loop limits.
#[derive(Clone, Debug)]
pub struct CrawlLimits {
    /// Requests in flight at once, over all hosts.
    pub concurrency: usize,
    /// Requests in flight at once per host.
    pub per_host_concurrency: usize,
    /// Minimum time between request starts on one host.
    pub per_host_delay: Duration,
    /// Pages fetched per run at most.
    pub max_pages: u64,
    /// Link depth from a seed at most.
    pub max_depth: u32,
    /// Links taken from one page (or feed, or JSON list) at most, in document order: a page
    /// of a million links must not flood the frontier.
    pub max_links_per_page: usize,
}

/// robots.txt handling.
#[derive(Clone, Debug)]
pub struct RobotsSettings {
    /// Whether robots.txt is fetched and obeyed at all (per-site opt-outs in the scope).
    pub enabled: bool,
    /// `Crawl-delay` values above this are capped.
    pub max_crawl_delay: Duration,
    /// The product token matched against `User-agent` lines.
    pub agent: String,
}

/// Validated settings: what the pipeline runs on.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the settings came from (file path or `<embedded demo config>`).
    pub origin: String,
    /// Seed URLs, normalised.
    pub seeds: Vec<Url>,
    /// Crawl-loop limits.
    pub limits: CrawlLimits,
    /// HTTP client settings.
    pub fetch: FetchSettings,
    /// Retry and backoff policy.
    pub retry: RetryPolicy,
    /// robots.txt handling.
    pub robots: RobotsSettings,
    /// Scope: URL policy and site patterns.
    pub scope: Scope,
    /// Extraction rules.
    pub extractor: Extractor,
    /// JSON endpoints (`[[site.api]]`), per site.
    pub apis: ApiRules,
    /// Normalisation and fingerprinting.
    pub fingerprinter: Fingerprinter,
    /// Canonical-copy policy.
    pub canonical: CanonicalPolicy,
    /// When a similar body joins a record as a near-duplicate.
    pub near: NearPolicy,
    /// The cluster this process crawls in, if any (`None`: one machine, sled only).
    pub cluster: Option<ClusterSettings>,
}

impl Settings {
    /// Reads `path` (or the embedded demo config when `None`), applies overrides, validates.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Settings, ConfigError> {
        match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    file: p.to_path_buf(),
                    source,
                })?;
                Self::from_toml(&text, &p.display().to_string(), overrides)
            }
            None => Self::from_toml(DEMO_CONFIG, "<embedded demo config>", overrides),
        }
    }

    /// Parses and validates TOML text; `origin` names it in errors.
    pub fn from_toml(
        text: &str,
        origin: &str,
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            file: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        Validator { origin }.settings(raw, overrides)
    }
}

struct Validator<'a> {
    origin: &'a str,
}

impl Validator<'_> {
    fn err(&self, key: impl Into<String>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: self.origin.to_string(),
            key: key.into(),
            message: message.into(),
        }
    }

    fn cli_err(&self, flag: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            file: "command line".into(),
            key: flag.into(),
            message: message.into(),
        }
    }

    fn settings(&self, raw: RawConfig, o: &Overrides) -> Result<Settings, ConfigError> {
        let c = &raw.crawl;
        let positive = |key: &str, v: u64| {
            if v == 0 {
                Err(self.err(format!("crawl.{key}"), "must be at least 1"))
            } else {
                Ok(())
            }
        };
        positive("concurrency", c.concurrency as u64)?;
        positive("per_host_concurrency", c.per_host_concurrency as u64)?;
        positive("max_pages", c.max_pages)?;
        positive("timeout_secs", c.timeout_secs)?;
        positive("connect_timeout_secs", c.connect_timeout_secs)?;
        positive("max_body_bytes", c.max_body_bytes)?;
        positive("max_links_per_page", c.max_links_per_page as u64)?;
        if o.concurrency == Some(0) {
            return Err(self.cli_err("--concurrency", "must be at least 1"));
        }
        if o.per_host_concurrency == Some(0) {
            return Err(self.cli_err("--per-host-concurrency", "must be at least 1"));
        }
        if o.max_pages == Some(0) {
            return Err(self.cli_err("--max-pages", "must be at least 1"));
        }
        let zone = parse_offset(&c.default_timezone).ok_or_else(|| {
            self.err(
                "crawl.default_timezone",
                format!(
                    "`{}` is not a UTC offset; expected e.g. \"+08:00\"",
                    c.default_timezone
                ),
            )
        })?;
        if c.user_agent.trim().is_empty() {
            return Err(self.err("crawl.user_agent", "must not be empty"));
        }

        let urls = UrlPolicy {
            strip_params: raw
                .url
                .strip_params
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            strip_prefixes: raw
                .url
                .strip_param_prefixes
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            max_len: raw.url.max_length,
        };
        if urls.max_len < 16 {
            return Err(self.err("url.max_length", "must be at least 16"));
        }

        let mut resolve = Vec::new();
        for (i, r) in c.resolve.iter().enumerate() {
            resolve.push(parse_resolve(r).map_err(|m| self.err(format!("crawl.resolve[{i}]"), m))?);
        }
        for r in &o.resolve {
            resolve.push(parse_resolve(r).map_err(|m| self.cli_err("--resolve", m))?);
        }

        let (mut sites, rules) = self.sites(&raw.site)?;
        let apis = self.apis(&raw.site, zone)?;
        for (site, rules) in sites.iter_mut().zip(&apis.sites) {
            // An endpoint's URLs are in scope as what they are: lists are hubs (re-fetched every
            // run), details are articles.
            for r in rules {
                match r.kind {
                    ApiKind::List => site.listing.push(r.url.clone()),
                    ApiKind::Detail => site.article.push(r.url.clone()),
                }
            }
        }
        let scope = Scope { urls, sites };

        let seeds = if o.seeds.is_empty() {
            c.seeds
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    self.seed(&scope, s)
                        .map_err(|m| self.err(format!("crawl.seeds[{i}]"), m))
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            o.seeds
                .iter()
                .map(|s| self.seed(&scope, s).map_err(|m| self.cli_err("--seed", m)))
                .collect::<Result<Vec<_>, _>>()?
        };

        let n = &raw.normalise;
        let normaliser = Normaliser::new(
            n.default_boilerplate,
            &n.drop_lines,
            &n.strip_suffixes,
            n.unify_quotes,
        )
        .map_err(|(list, e)| {
            self.err(
                format!("normalise.{list}[{}]", e.index),
                format!("invalid regular expression `{}`: {}", e.pattern, e.source),
            )
        })?;

        let (canonical_order, near) = self.dedup(&raw.dedup)?;
        let cluster = self.cluster(&raw.cluster, o)?;
        let user_agent = o.user_agent.clone().unwrap_or_else(|| c.user_agent.clone());
        let robots_agent = product_token(&user_agent).to_string();
        if c.allow_private {
            tracing::warn!(
                "{}: crawl.allow_private = true: links to loopback, private and link-local addresses are followed",
                self.origin
            );
        }
        if !c.robots {
            tracing::warn!(
                "{}: crawl.robots = false: robots.txt is ignored for every host",
                self.origin
            );
        }
        for site in scope.sites.iter().filter(|s| !s.obey_robots) {
            tracing::warn!(
                "{}: site `{}` has ignore_robots = true: its robots.txt is not obeyed",
                self.origin,
                site.name
            );
        }
        Ok(Settings {
            origin: self.origin.to_string(),
            seeds,
            limits: CrawlLimits {
                concurrency: o.concurrency.unwrap_or(c.concurrency),
                per_host_concurrency: o.per_host_concurrency.unwrap_or(c.per_host_concurrency),
                per_host_delay: Duration::from_millis(
                    o.per_host_delay_ms.unwrap_or(c.per_host_delay_ms),
                ),
                max_pages: o.max_pages.unwrap_or(c.max_pages),
                max_depth: o.max_depth.unwrap_or(c.max_depth),
                max_links_per_page: c.max_links_per_page,
            },
            fetch: FetchSettings {
                user_agent,
                timeout: Duration::from_secs(c.timeout_secs),
                connect_timeout: Duration::from_secs(c.connect_timeout_secs),
                max_body_bytes: c.max_body_bytes,
                max_redirects: c.max_redirects,
                resolve,
                allow_private: c.allow_private,
            },
            retry: RetryPolicy {
                max_retries: c.max_retries,
                base: Duration::from_millis(c.retry_base_ms),
                max_backoff: Duration::from_secs(60),
                max_retry_after: Duration::from_secs(c.max_retry_after_secs),
            },
            robots: RobotsSettings {
                enabled: c.robots,
                max_crawl_delay: Duration::from_secs(c.max_crawl_delay_secs),
                agent: robots_agent,
            },
            extractor: Extractor { rules, zone },
            apis,
            fingerprinter: Fingerprinter {
                normaliser,
                min_body_chars: n.min_body_chars,
                zone,
            },
            canonical: CanonicalPolicy {
                preferred_hosts: raw
                    .dedup
                    .preferred_hosts
                    .iter()
                    .map(|h| h.to_ascii_lowercase())
                    .collect(),
                order: canonical_order,
            },
            near,
            scope,
            cluster,
        })
    }

    fn cluster(
        &self,
        c: &RawCluster,
        o: &Overrides,
    ) -> Result<Option<ClusterSettings>, ConfigError> {
        let url = match &o.cluster {
            Some(u) => {
                check_redis_url(u).map_err(|m| self.cli_err("--cluster", m))?;
                u.clone()
            }
            None if c.url.is_empty() => {
                if o.worker.is_some() {
                    return Err(self.cli_err(
                        "--worker",
                        "needs --cluster redis://HOST:PORT/DB (or cluster.url in the config)",
                    ));
                }
                return Ok(None);
            }
            None => {
                check_redis_url(&c.url).map_err(|m| self.err("cluster.url", m))?;
                c.url.clone()
            }
        };
        let worker = match (&o.worker, c.worker.is_empty()) {
            (Some(w), _) => w.clone(),
            (None, false) => c.worker.clone(),
            // A name must be stable for a restarted worker to resume; the process id is only
            // a fallback for one-off workers.
            (None, true) => format!("worker-{}", std::process::id()),
        };
        if worker.is_empty()
            || worker.len() > 64
            || !worker
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            let m = format!(
                "worker name `{worker}` must be 1-64 characters of letters, digits, `-`, `_`, `.`"
            );
            return Err(match o.worker {
                Some(_) => self.cli_err("--worker", m),
                None => self.err("cluster.worker", m),
            });
        }
        if c.lease_ms < 100 {
            return Err(self.err("cluster.lease_ms", "must be at least 100"));
        }
        if c.deadline_ms < c.lease_ms {
            return Err(self.err(
                "cluster.deadline_ms",
                format!(
                    "must be at least cluster.lease_ms ({}): a URL must not return to the queue while its host is still leased",
                    c.lease_ms
                ),
            ));
        }
        Ok(Some(ClusterSettings {
            url,
            worker,
            lease: Duration::from_millis(c.lease_ms),
            deadline: Duration::from_millis(c.deadline_ms),
        }))
    }

    fn dedup(&self, d: &RawDedup) -> Result<(Vec<Criterion>, NearPolicy), ConfigError> {
        let names: Vec<&str> = Criterion::ALL.iter().map(|(_, n)| *n).collect();
        let mut order = Vec::new();
        for (i, name) in d.canonical_order.iter().enumerate() {
            let key = format!("dedup.canonical_order[{i}]");
            let c = Criterion::parse(name).ok_or_else(|| {
                self.err(
                    &key,
                    format!(
                        "unknown criterion `{name}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })?;
            if order.contains(&c) {
                return Err(self.err(key, format!("`{name}` is listed twice")));
            }
            order.push(c);
        }
        if d.max_distance > 64 {
            return Err(self.err(
                "dedup.max_distance",
                "a 64-bit simhash distance is at most 64 (default 22)",
            ));
        }
        if !(d.min_jaccard > 0.0 && d.min_jaccard <= 1.0) {
            return Err(self.err(
                "dedup.min_jaccard",
                "must be in (0, 1]; 1 joins only identical shingle sets (default 0.5)",
            ));
        }
        Ok((
            order,
            NearPolicy {
                max_distance: d.max_distance,
                min_jaccard: d.min_jaccard,
                join_revisions: d.join_revisions,
            },
        ))
    }

    fn seed(&self, scope: &Scope, s: &str) -> Result<Url, String> {
        let url = scope
            .urls
            .normalise(s, None)
            .map_err(|e| format!("{e}; expected an absolute http(s) URL"))?;
        if scope.site_for(&url).is_none() {
            return Err(format!(
                "`{url}` is on no configured site; add its host to a [[site]] table's `hosts`"
            ));
        }
        Ok(url)
    }

    fn sites(
        &self,
        raw: &[RawSite],
    ) -> Result<(Vec<SiteScope>, Vec<Option<SiteRule>>), ConfigError> {
        let mut sites = Vec::new();
        let mut rules = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let key = |k: &str| format!("site[{i}].{k}");
            if s.name.trim().is_empty() {
                return Err(self.err(key("name"), "must not be empty"));
            }
            if sites.iter().any(|x: &SiteScope| x.name == s.name) {
                return Err(self.err(
                    key("name"),
                    format!("`{}` is used by two sites; names must be unique", s.name),
                ));
            }
            if s.hosts.is_empty() {
                return Err(self.err(key("hosts"), "must list at least one host name"));
            }
            let mut hosts = Vec::new();
            for (j, h) in s.hosts.iter().enumerate() {
                let h = h.trim().to_ascii_lowercase();
                let bare = h.strip_prefix("*.").unwrap_or(&h);
                if bare.is_empty()
                    || bare.contains(['/', ':', ' '])
                    || url::Host::parse(bare).is_err()
                {
                    return Err(self.err(
                        key(&format!("hosts[{j}]")),
                        format!("`{h}` is not a host name; expected e.g. \"news.example.com\" or \"*.example.com\""),
                    ));
                }
                hosts.push(h);
            }
            let regexes = |list: &[String], name: &str| -> Result<Vec<Regex>, ConfigError> {
                list.iter()
                    .enumerate()
                    .map(|(j, p)| {
                        Regex::new(p).map_err(|e| {
                            self.err(
                                key(&format!("{name}[{j}]")),
                                format!(
                                    "invalid regular expression (matched against path?query): {e}"
                                ),
                            )
                        })
                    })
                    .collect()
            };
            let article = regexes(&s.article, "article")?;
            let listing = regexes(&s.listing, "listing")?;
            let rule = match &s.extract {
                None => None,
                Some(x) => {
                    let sel = |v: &str, k: &str| {
                        Selector::parse(v).map_err(|e| {
                            self.err(
                                key(&format!("extract.{k}")),
                                format!("invalid CSS selector `{v}`: {e}"),
                            )
                        })
                    };
                    let opt =
                        |v: &Option<String>, k: &str| v.as_deref().map(|v| sel(v, k)).transpose();
                    Some(SiteRule {
                        name: s.name.clone(),
                        body: sel(&x.body, "body")?,
                        title: opt(&x.title, "title")?,
                        published: opt(&x.published, "published")?,
                        source: opt(&x.source, "source")?,
                        author: opt(&x.author, "author")?,
                        drop: x
                            .drop
                            .iter()
                            .enumerate()
                            .map(|(j, d)| sel(d, &format!("drop[{j}]")))
                            .collect::<Result<_, _>>()?,
                    })
                }
            };
            let recrawl_after = match &s.recrawl_after {
                None => DEFAULT_RECRAWL_AFTER,
                Some(v) => parse_duration(v).ok_or_else(|| {
                    self.err(key("recrawl_after"), format!("`{v}` is not a duration; expected e.g. \"30m\", \"12h\", \"7d\" or \"0s\""))
                })?,
            };
            sites.push(SiteScope {
                name: s.name.clone(),
                hosts,
                article,
                listing,
                obey_robots: !s.ignore_robots,
                recrawl_after,
            });
            rules.push(rule);
        }
        Ok((sites, rules))
    }
}

impl Validator<'_> {
    /// Every site's `[[site.api]]` tables → rules; `zone` is `crawl.default_timezone`.
    fn apis(&self, raw: &[RawSite], zone: FixedOffset) -> Result<ApiRules, ConfigError> {
        let mut names: Vec<&str> = Vec::new();
        let mut sites = Vec::new();
        for (i, s) in raw.iter().enumerate() {
            let mut rules = Vec::new();
            for (j, a) in s.api.iter().enumerate() {
                let key = |k: &str| format!("site[{i}].api[{j}].{k}");
                if a.name.trim().is_empty() {
                    return Err(self.err(key("name"), "must not be empty; it is recorded as the extractor, e.g. \"origin-api:detail\""));
                }
                if names.contains(&a.name.as_str()) || raw.iter().any(|s| s.name == a.name) {
                    return Err(self.err(
                        key("name"),
                        format!(
                            "`{}` is already a site or API rule name; names must be unique",
                            a.name
                        ),
                    ));
                }
                names.push(&a.name);
                rules.push(self.api(a, zone, &key)?);
            }
            sites.push(rules);
        }
        Ok(ApiRules { sites })
    }

    fn api(
        &self,
        a: &RawApi,
        default_zone: FixedOffset,
        key: &dyn Fn(&str) -> String,
    ) -> Result<ApiRule, ConfigError> {
        let kind = match a.kind {
            RawApiKind::JsonList => ApiKind::List,
            RawApiKind::JsonDetail => ApiKind::Detail,
        };
        let url = Regex::new(&a.url).map_err(|e| {
            self.err(
                key("url"),
                format!("invalid regular expression (matched against path?query): {e}"),
            )
        })?;
        let pointer = |v: &str, k: &str| {
            if api::is_pointer(v) {
                Ok(v.to_string())
            } else {
                Err(self.err(
                    key(k),
                    format!("`{v}` is not a JSON pointer; expected \"\" (the whole document) or one starting with `/`, e.g. \"/{v}\""),
                ))
            }
        };
        let items = pointer(&a.items, "items")?;
        let f = &a.fields;
        let field = |v: &Option<String>, k: &str| {
            v.as_deref()
                .map(|p| pointer(p, &format!("fields.{k}")))
                .transpose()
        };
        let fields = FieldMap {
            id: field(&f.id, "id")?,
            title: field(&f.title, "title")?,
            published: field(&f.published, "published")?,
            source: field(&f.source, "source")?,
            body: field(&f.body, "body")?,
            url: field(&f.url, "url")?,
        };
        if fields.get(Field::Published).is_none() && f.published_format.is_some() {
            return Err(self.err(
                key("fields.published_format"),
                "is set but `fields.published` is not; map the time's pointer too",
            ));
        }
        let published_format = match &f.published_format {
            None => TimeFormat::Auto,
            Some(v) => {
                TimeFormat::parse(v).map_err(|m| self.err(key("fields.published_format"), m))?
            }
        };
        let zone = match &f.timezone {
            None => default_zone,
            Some(z) => parse_offset(z).ok_or_else(|| {
                self.err(key("fields.timezone"), format!("`{z}` is not a UTC offset; expected e.g. \"+08:00\" (the default is crawl.default_timezone)"))
            })?,
        };
        let mut optional = std::collections::HashSet::new();
        for (k, name) in f.optional.iter().enumerate() {
            let fk = || key(&format!("fields.optional[{k}]"));
            let Some(field) = Field::from_name(name) else {
                return Err(self.err(fk(), format!("`{name}` is not a field; expected one of id, title, published, source, body, url")));
            };
            if fields.get(field).is_none() {
                return Err(self.err(
                    fk(),
                    format!("`{name}` is not mapped; map `fields.{name}` or remove it here"),
                ));
            }
            optional.insert(field);
        }
        let body_format = match (kind, f.body.is_some(), f.body_format.as_deref()) {
            (ApiKind::List, true, _) => {
                return Err(self.err(key("fields.body"), "a json_list rule only finds links; map `body` in a json_detail rule"))
            }
            (ApiKind::List, false, Some(_)) => {
                return Err(self.err(key("fields.body_format"), "a json_list rule has no body; remove it"))
            }
            (ApiKind::List, false, None) => BodyFormat::Html,
            (ApiKind::Detail, false, _) => {
                return Err(self.err(key("fields.body"), "is REQUIRED in a json_detail rule: the pointer to the body, e.g. \"/text\""))
            }
            (ApiKind::Detail, true, Some("html")) => BodyFormat::Html,
            (ApiKind::Detail, true, Some("text")) => BodyFormat::Text,
            (ApiKind::Detail, true, Some(other)) => {
                return Err(self.err(key("fields.body_format"), format!("`{other}` is not a body format; expected \"html\" or \"text\"")))
            }
            (ApiKind::Detail, true, None) => {
                return Err(self.err(key("fields.body_format"), "is REQUIRED in a json_detail rule: \"html\" (markup) or \"text\" (plain text, a paragraph per line)"))
            }
        };
        let follow = a
            .follow
            .iter()
            .enumerate()
            .map(|(k, t)| {
                Template::parse(t).map_err(|m| {
                    self.err(
                        key(&format!("follow[{k}]")),
                        format!("{m}; placeholders are {{member}}, {{/json/pointer}} or {{id}}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if kind == ApiKind::Detail && !follow.is_empty() {
            return Err(self.err(
                key("follow"),
                "is for json_list rules; map `fields.url` to queue a link from a detail record",
            ));
        }
        if kind == ApiKind::List && follow.is_empty() && fields.url.is_none() {
            return Err(self.err(key("follow"), "a json_list rule must say what to queue: URL templates such as \"/api/GetNewsText.do?id={infoCode}\", or `fields.url`"));
        }
        let paging =
            match &a.paginate {
                None => Paging::None,
                Some(_) if kind == ApiKind::Detail => {
                    return Err(self.err(key("paginate"), "is for json_list rules; remove it"))
                }
                Some(p) => {
                    if p.param.trim().is_empty() {
                        return Err(self.err(
                            key("paginate.param"),
                            "must name the query parameter, e.g. \"page\"",
                        ));
                    }
                    if p.max_pages == 0 {
                        return Err(self.err(key("paginate.max_pages"), "must be at least 1"));
                    }
                    match (&p.cursor, p.first) {
                        (Some(_), Some(_)) => return Err(self.err(
                            key("paginate.first"),
                            "is for page numbers; a cursor-paged list starts wherever its URL does",
                        )),
                        (Some(c), None) => Paging::Cursor {
                            param: p.param.clone(),
                            pointer: pointer(c, "paginate.cursor")?,
                            max_pages: p.max_pages,
                        },
                        (None, first) => Paging::Page {
                            param: p.param.clone(),
                            first: first.unwrap_or(1),
                            max_pages: p.max_pages,
                        },
                    }
                }
            };
        Ok(ApiRule {
            name: a.name.clone(),
            kind,
            url,
            items,
            fields,
            optional,
            published_format,
            zone,
            body_format,
            follow,
            paging,
        })
    }
}

/// Links taken from one page at most unless `crawl.max_links_per_page` says otherwise: the
/// sitemap protocol's own limit, so a whole sitemap fits, and far less than a trap page holds.
pub const DEFAULT_MAX_LINKS_PER_PAGE: usize = 50_000;

/// Article pages are re-fetched (conditionally) once a day unless a site says otherwise.
pub const DEFAULT_RECRAWL_AFTER: Duration = Duration::from_secs(24 * 3600);

/// `90s`, `30m`, `12h`, `7d`, `1w` (or a bare number of seconds) → a duration.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs).map(Duration::from_secs)
}

/// `host=ip:port` (or `host:port:ip` as curl writes it) → a DNS pin.
pub fn parse_resolve(s: &str) -> Result<(String, SocketAddr), String> {
    let expected = "expected HOST=IP:PORT, e.g. news.example.com=127.0.0.1:8080";
    let (host, addr) = match s.split_once('=') {
        Some((h, a)) => (h.trim().to_ascii_lowercase(), a.trim().to_string()),
        None => {
            // curl's form: HOST:PORT:ADDR
            let mut parts = s.splitn(3, ':');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(h), Some(p), Some(a)) if p.parse::<u16>().is_ok() => {
                    let a = a.trim_matches(['[', ']']);
                    let addr = if a.contains(':') {
                        format!("[{a}]:{p}")
                    } else {
                        format!("{a}:{p}")
                    };
                    (h.to_ascii_lowercase(), addr)
                }
                _ => return Err(format!("`{s}`: {expected}")),
            }
        }
    };
    if host.is_empty() || url::Host::parse(&host).is_err() {
        return Err(format!("`{s}`: `{host}` is not a host name; {expected}"));
    }
    // No DNS lookup here: a pin names an address, and config validation never does I/O.
    let addr: SocketAddr = addr
        .parse()
        .map_err(|_| format!("`{s}`: `{addr}` is not IP:PORT; {expected}"))?;
    Ok((host, addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Settings, ConfigError> {
        Settings::from_toml(text, "test.toml", &Overrides::default())
    }

    const MINIMAL: &str = r#"
        [crawl]
        seeds = ["http://news.test/"]
        [[site]]
        name = "news"
        hosts = ["news.test"]
        article = ['^/a/\d+\.html$']
        listing = ['^/$']
        [site.extract]
        body = "div.body p"
    "#;

    #[test]
    fn minimal_config_loads_with_defaults() {
        let s = load(MINIMAL).unwrap();
        assert_eq!(s.seeds[0].as_str(), "http://news.test/");
        assert_eq!(s.limits.concurrency, 32);
        assert_eq!(s.fingerprinter.min_body_chars, 50);
        assert!(s.extractor.rules[0].is_some());
        assert_eq!(s.near, NearPolicy::default());
        assert_eq!(s.canonical.order, CanonicalPolicy::default().order);
    }

    #[test]
    fn the_demo_config_is_valid() {
        let s = Settings::load(None, &Overrides::default()).unwrap();
        assert!(s.scope.sites.len() >= 4);
    }

    #[test]
    fn the_example_config_is_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml");
        let s = Settings::load(Some(&path), &Overrides::default()).unwrap();
        assert_eq!(s.seeds.len(), 3);
        assert_eq!(s.limits.per_host_concurrency, 2);
        let detail =
            Url::parse("https://newsapi.eastmoney.com/api/GetNewsText.do?id=NW202201210001")
                .unwrap();
        assert_eq!(
            s.apis.rule_for(0, &detail).map(|r| r.name.as_str()),
            Some("eastmoney-api:detail")
        );
        assert!(
            s.extractor.rules[1].is_none(),
            "the mirror uses the generic extractor"
        );
        let share = Url::parse(
            "https://wap.eastmoney.com/html_News/NewsShare.html?infoCode=NW202201210001",
        )
        .unwrap();
        assert_eq!(
            s.scope.classify(&share).map(|p| p.kind),
            Some(crate::scope::PageKind::Article)
        );
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        let e = load(&MINIMAL.replace("[crawl]", "[crawl]\nconcurency = 3"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("test.toml") && e.contains("concurency"), "{e}");
        let e = load("[crawl]\n[bogus]\n").unwrap_err().to_string();
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn wrong_types_are_errors() {
        let e = load(&MINIMAL.replace("[crawl]", "[crawl]\nconcurrency = \"many\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("concurrency"), "{e}");
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cases = [
            (MINIMAL.replace(r"'^/$'", "'(('"), "site[0].listing[0]"),
            (
                MINIMAL.replace("div.body p", "div..p"),
                "site[0].extract.body",
            ),
            (
                MINIMAL.replace("http://news.test/", "ftp://news.test/"),
                "crawl.seeds[0]",
            ),
            (
                MINIMAL.replace("http://news.test/", "http://other.test/"),
                "crawl.seeds[0]",
            ),
            (
                MINIMAL.replace("[crawl]", "[crawl]\nconcurrency = 0"),
                "crawl.concurrency",
            ),
            (
                MINIMAL.replace("[crawl]", "[crawl]\ndefault_timezone = \"CST\""),
                "crawl.default_timezone",
            ),
            (
                MINIMAL.replace("[crawl]", "[crawl]\nresolve = [\"x\"]"),
                "crawl.resolve[0]",
            ),
            (
                MINIMAL.replace("\"news.test\"]", "\"news test\"]"),
                "site[0].hosts[0]",
            ),
            (
                format!("{MINIMAL}\n[normalise]\ndrop_lines = ['[']"),
                "normalise.drop_lines[0]",
            ),
            (
                format!("{MINIMAL}\n[dedup]\ncanonical_order = ['newest']"),
                "dedup.canonical_order[0]",
            ),
            (
                format!("{MINIMAL}\n[dedup]\ncanonical_order = ['earliest_seen', 'earliest_seen']"),
                "dedup.canonical_order[1]",
            ),
            (
                format!("{MINIMAL}\n[dedup]\nmin_jaccard = 1.5"),
                "dedup.min_jaccard",
            ),
            (
                format!("{MINIMAL}\n[dedup]\nmax_distance = 65"),
                "dedup.max_distance",
            ),
        ];
        for (text, key) in cases {
            let e = load(&text).unwrap_err().to_string();
            assert!(
                e.contains(&format!("`{key}`")),
                "expected key {key} in: {e}"
            );
        }
    }

    #[test]
    fn overrides_apply_and_are_validated() {
        let o = Overrides {
            seeds: vec!["http://news.test/a/1.html".into()],
            max_pages: Some(5),
            resolve: vec!["news.test=127.0.0.1:9".into()],
            ..Default::default()
        };
        let s = Settings::from_toml(MINIMAL, "t", &o).unwrap();
        assert_eq!(s.seeds.len(), 1);
        assert_eq!(s.limits.max_pages, 5);
        assert_eq!(s.fetch.resolve[0].1, "127.0.0.1:9".parse().unwrap());
        let bad = Overrides {
            seeds: vec!["not a url".into()],
            ..Default::default()
        };
        let e = Settings::from_toml(MINIMAL, "t", &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--seed") && e.contains("command line"), "{e}");
    }

    const API: &str = r#"
        [[site.api]]
        name = "news-api:list"
        kind = "json_list"
        url = '^/api/list\?page=\d+$'
        items = "/record"
        follow = ["/api/text?id={infoCode}"]
        [site.api.fields]
        id = "/infoCode"
        title = "/title"
        published = "/showTime"
        published_format = "%Y-%m-%d %H:%M:%S"
        [site.api.paginate]
        param = "page"
        max_pages = 3

        [[site.api]]
        name = "news-api:detail"
        kind = "json_detail"
        url = '^/api/text\?id=\w+$'
        [site.api.fields]
        body = "/text"
        body_format = "html"
    "#;

    #[test]
    fn api_rules_load_and_put_their_urls_in_scope() {
        let s = load(&format!("{MINIMAL}{API}")).unwrap();
        let list = Url::parse("http://news.test/api/list?page=2").unwrap();
        let detail = Url::parse("http://news.test/api/text?id=NW1").unwrap();
        let rule = s.apis.rule_for(0, &list).unwrap();
        assert_eq!(rule.kind, ApiKind::List);
        assert_eq!(rule.zone, s.extractor.zone, "the zone defaults to crawl's");
        assert_eq!(
            rule.paging,
            Paging::Page {
                param: "page".into(),
                first: 1,
                max_pages: 3
            }
        );
        assert_eq!(s.apis.rule_for(0, &detail).unwrap().name, "news-api:detail");
        use crate::scope::PageKind;
        assert_eq!(
            s.scope.classify(&list).map(|p| p.kind),
            Some(PageKind::Listing)
        );
        assert_eq!(
            s.scope.classify(&detail).map(|p| p.kind),
            Some(PageKind::Article)
        );
    }

    #[test]
    fn api_rule_errors_name_the_key() {
        let full = format!("{MINIMAL}{API}");
        let cases = [
            (
                full.replace("max_pages = 3", "max_pages = 3\nbogus = 1"),
                "bogus",
            ),
            (
                full.replace(r#"kind = "json_list""#, r#"kind = "json""#),
                "json_list",
            ),
            (
                full.replace(r#"items = "/record""#, r#"items = "record""#),
                "`site[0].api[0].items`",
            ),
            (
                full.replace(r#"id = "/infoCode""#, r#"id = "infoCode""#),
                "`site[0].api[0].fields.id`",
            ),
            (
                full.replace("%Y-%m-%d %H:%M:%S", "%Q"),
                "`site[0].api[0].fields.published_format`",
            ),
            (
                full.replace("{infoCode}", "{infoCode"),
                "`site[0].api[0].follow[0]`",
            ),
            (
                full.replace("max_pages = 3", "max_pages = 0"),
                "`site[0].api[0].paginate.max_pages`",
            ),
            (
                full.replace(r#"body_format = "html""#, r#"body_format = "markdown""#),
                "`site[0].api[1].fields.body_format`",
            ),
            (
                full.replace(r#"body_format = "html""#, ""),
                "`site[0].api[1].fields.body_format`",
            ),
            (
                full.replace(r#"body = "/text""#, ""),
                "`site[0].api[1].fields.body`",
            ),
            (
                full.replace("news-api:detail", "news-api:list"),
                "`site[0].api[1].name`",
            ),
            (
                full.replace(r#"follow = ["/api/text?id={infoCode}"]"#, ""),
                "`site[0].api[0].follow`",
            ),
            (
                full.replace(
                    r#"title = "/title""#,
                    "title = \"/title\"\noptional = [\"source\"]",
                ),
                "`site[0].api[0].fields.optional[0]`",
            ),
            (
                full.replace(r#"published = "/showTime""#, ""),
                "`site[0].api[0].fields.published_format`",
            ),
            (
                full.replace(r#"body = "/text""#, "body = \"/text\"\ntimezone = \"CST\""),
                "`site[0].api[1].fields.timezone`",
            ),
            (
                full.replace(r#"url = '^/api/list"#, r#"url = '(^/api/list"#),
                "`site[0].api[0].url`",
            ),
        ];
        for (text, key) in cases {
            let e = load(&text).unwrap_err().to_string();
            assert!(
                e.contains("test.toml") && e.contains(key),
                "expected {key} in: {e}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(parse_duration("7d"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("0s"), Some(Duration::ZERO));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("5y"), None);
        let e = load(&MINIMAL.replace(
            "name = \"news\"",
            "name = \"news\"\nrecrawl_after = \"often\"",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("site[0].recrawl_after"), "{e}");
    }

    #[test]
    fn resolve_forms() {
        assert_eq!(
            parse_resolve("News.test=127.0.0.1:80").unwrap(),
            ("news.test".to_string(), "127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            parse_resolve("a.test:443:127.0.0.1").unwrap().1,
            "127.0.0.1:443".parse().unwrap()
        );
        assert!(parse_resolve("a.test=nowhere").is_err());
        assert!(parse_resolve("=1.2.3.4:5").is_err());
    }

    #[test]
    fn cluster_is_off_unless_asked_for_and_checked_once() {
        assert_eq!(load(MINIMAL).unwrap().cluster, None);
        let o = Overrides {
            cluster: Some("redis://127.0.0.1:6390/2".into()),
            worker: Some("w1".into()),
            ..Default::default()
        };
        let s = Settings::from_toml(MINIMAL, "t.toml", &o).unwrap();
        let c = s.cluster.unwrap();
        assert_eq!(
            (c.url.as_str(), c.worker.as_str()),
            ("redis://127.0.0.1:6390/2", "w1")
        );
        assert_eq!(c.lease, Duration::from_secs(10));
        let from_file = load(&format!("{MINIMAL}\n[cluster]\nurl = \"redis://r.test\"\nworker = \"a\"\nlease_ms = 500\ndeadline_ms = 900\n"))
            .unwrap()
            .cluster
            .unwrap();
        assert_eq!(
            (from_file.lease, from_file.deadline),
            (Duration::from_millis(500), Duration::from_millis(900))
        );
        for bad in ["http://x:1/0", "redis://", "redis://h:1/zero", "not a url"] {
            let o = Overrides {
                cluster: Some(bad.into()),
                ..Default::default()
            };
            let e = Settings::from_toml(MINIMAL, "t.toml", &o)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("--cluster") && e.contains("redis://HOST:PORT/DB"),
                "{bad}: {e}"
            );
        }
        let e = load(&format!(
            "{MINIMAL}\n[cluster]\nurl = \"redis://h\"\nlease_ms = 5000\ndeadline_ms = 10\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("cluster.deadline_ms"), "{e}");
        let o = Overrides {
            worker: Some("w1".into()),
            ..Default::default()
        };
        assert!(Settings::from_toml(MINIMAL, "t.toml", &o)
            .unwrap_err()
            .to_string()
            .contains("--worker"));
        let o = Overrides {
            cluster: Some("redis://h".into()),
            worker: Some("no spaces".into()),
            ..Default::default()
        };
        assert!(Settings::from_toml(MINIMAL, "t.toml", &o).is_err());
    }
}
