//! Stage 2, fetch: one HTTP GET with the crawl's client settings, a streamed body under a size
//! cap, and the bytes decoded by [`charset`].
//!
//! Hosts can be pinned to addresses (`--resolve host=ip:port`, as curl does), which is how the
//! demo and every test reach their loopback mirror network. Non-2xx responses are returned,
//! not turned into errors: the crawl loop decides what a status means.

pub mod charset;

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

/// Client settings, validated by config.
#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// `User-Agent` header.
    pub user_agent: String,
    /// Whole-request timeout.
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Largest body read; larger ones fail as `too_large`.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Host → address pins.
    pub resolve: Vec<(String, SocketAddr)>,
}

/// Why a fetch produced no response.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The client could not be built (TLS setup, say).
    #[error("cannot build HTTP client: {0}")]
    Client(String),
    /// Connection refused, reset, DNS failure.
    #[error("connect: {0}")]
    Connect(String),
    /// Timed out.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Body larger than the cap.
    #[error("body larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: u64,
    },
    /// Too many redirects, or a redirect loop.
    #[error("redirects: {0}")]
    Redirect(String),
    /// Anything else the transport reported (a body cut short, invalid HTTP).
    #[error("{0}")]
    Other(String),
}

impl FetchError {
    /// Short class name recorded in `failed(class, …)` outcomes.
    pub fn class(&self) -> &'static str {
        match self {
            FetchError::Client(_) => "client",
            FetchError::Connect(_) => "connect",
            FetchError::Timeout(_) => "timeout",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Redirect(_) => "redirect",
            FetchError::Other(_) => "transport",
        }
    }

    fn from_reqwest(e: reqwest::Error) -> FetchError {
        let (timeout, redirect, connect) = (e.is_timeout(), e.is_redirect(), e.is_connect());
        // Strip the URL: it is recorded separately, and it may be long.
        let msg = chain(&e.without_url());
        if timeout {
            FetchError::Timeout(msg)
        } else if redirect {
            FetchError::Redirect(msg)
        } else if connect {
            FetchError::Connect(msg)
        } else {
            FetchError::Other(msg)
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// A response with its body read.
#[derive(Clone, Debug)]
pub struct Fetched {
    /// URL after redirects.
    pub final_url: Url,
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Body bytes (at most the cap).
    pub body: Vec<u8>,
    /// When the response headers arrived.
    pub fetched_at: DateTime<Utc>,
}

/// The crawl's HTTP client.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
}

impl Fetcher {
    /// Builds the client.
    pub fn new(s: &FetchSettings) -> Result<Fetcher, FetchError> {
        // reqwest is built without a bundled crypto provider (ring builds far faster than
        // aws-lc); install ring once per process. A second install is a harmless no-op error.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder()
            .user_agent(s.user_agent.clone())
            .timeout(s.timeout)
            .connect_timeout(s.connect_timeout)
            .redirect(reqwest::redirect::Policy::limited(s.max_redirects))
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true);
        for (host, addr) in &s.resolve {
            b = b.resolve(host, *addr);
        }
        let client = b.build().map_err(|e| FetchError::Client(chain(&e)))?;
        Ok(Fetcher {
            client,
            max_body: s.max_body_bytes,
        })
    }

    /// GETs `url` and reads the body, streaming, up to the cap.
    pub async fn get(&self, url: &Url) -> Result<Fetched, FetchError> {
        let mut resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        let fetched_at = Utc::now();
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(FetchError::TooLarge { max: self.max_body });
        }
        let status = resp.status().as_u16();
        let final_url = resp.url().clone();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(FetchError::from_reqwest)? {
            if body.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::TooLarge { max: self.max_body });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            final_url,
            status,
            content_type,
            body,
            fetched_at,
        })
    }
}

/// Whether a `Content-Type` names a document trawl parses (HTML or XHTML; absent counts).
pub fn is_html(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let mime = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            mime.is_empty() || mime == "text/html" || mime == "application/xhtml+xml"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_content_types() {
        assert!(is_html(Some("text/html; charset=gbk")));
        assert!(is_html(Some("TEXT/HTML")));
        assert!(is_html(Some("application/xhtml+xml")));
        assert!(is_html(None));
        assert!(!is_html(Some("image/png")));
        assert!(!is_html(Some("application/pdf")));
    }
}
