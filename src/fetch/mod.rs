//! Stage 2, fetch: one HTTP GET with the crawl's client settings.
//!
//! Redirects are followed here, by hand, so the chain is recorded and loops are named; the body
//! is streamed under a size cap, and gzip/deflate content is decoded under a second cap (a
//! small compressed body can expand without bound). Conditional requests carry the validators
//! stored from the previous fetch. Hosts can be pinned to addresses (`--resolve host=ip:port`,
//! as curl does), which is how the demo and every test reach their loopback network. Every
//! other host must resolve to a public address (see [`guard`]), unless `allow_private` is set;
//! only http and https are fetched, and credentials in a URL are never sent. Non-2xx
//! responses are returned, not turned into errors: the crawl loop decides what a status means.

pub mod charset;
pub mod guard;
pub mod retry;
pub mod robots;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use thiserror::Error;
use url::Url;

pub use crate::model::{Hop, Validators};

/// Client settings, validated by config.
#[derive(Clone, Debug)]
pub struct FetchSettings {
    /// `User-Agent` header.
    pub user_agent: String,
    /// Whole-request timeout (headers and body).
    pub timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Largest body read off the wire, and largest body after decoding.
    pub max_body_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
    /// Host → address pins.
    pub resolve: Vec<(String, SocketAddr)>,
    /// Whether loopback, private, link-local and other non-public addresses may be reached
    /// (pinned hosts always may).
    pub allow_private: bool,
}

/// Why a fetch produced no usable response.
#[derive(Debug, Error)]
pub enum FetchError {
    /// The client could not be built (TLS setup, say).
    #[error("cannot build HTTP client: {0}")]
    Client(String),
    /// Connection refused or DNS failure.
    #[error("connect: {0}")]
    Connect(String),
    /// Timed out (connect, headers or body).
    #[error("timed out: {0}")]
    Timeout(String),
    /// Body larger than the cap (on the wire or decoded).
    #[error("body larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: u64,
    },
    /// Too many redirects, a loop, or a redirect without a usable target.
    #[error("redirects: {0}")]
    Redirect(String),
    /// The body could not be decoded (truncated gzip, unknown encoding).
    #[error("content decoding: {0}")]
    Decode(String),
    /// The connection broke mid-response or the response was not valid HTTP.
    #[error("transport: {0}")]
    Transport(String),
    /// The host is (or resolves to) a non-public address, and the guard refused it.
    #[error(transparent)]
    Blocked(#[from] guard::BlockedAddress),
    /// Not an http or https URL.
    #[error("unsupported scheme `{0}` (only http and https are fetched)")]
    Scheme(String),
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
            FetchError::Decode(_) => "decode",
            FetchError::Transport(_) => "transport",
            FetchError::Blocked(_) => "blocked_address",
            FetchError::Scheme(_) => "unsupported_scheme",
        }
    }

    /// Whether trying again later can succeed (RFC 9110 semantics: the network, not the
    /// content, failed).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Connect(_) | FetchError::Timeout(_) | FetchError::Transport(_)
        )
    }

    fn from_reqwest(e: reqwest::Error) -> FetchError {
        if let Some(blocked) = guard::blocked_in(&e) {
            return FetchError::Blocked(blocked);
        }
        let (timeout, connect) = (e.is_timeout(), e.is_connect());
        // Strip the URL: it is recorded separately, and it may be long.
        let msg = chain(&e.without_url());
        if timeout {
            FetchError::Timeout(msg)
        } else if connect {
            FetchError::Connect(msg)
        } else {
            FetchError::Transport(msg)
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
    /// HTTP status of the final response.
    pub status: u16,
    /// Response headers of the final response, names lower-case, in order received.
    pub headers: Vec<(String, String)>,
    /// Redirects followed to get here, in order.
    pub redirects: Vec<Hop>,
    /// Body after content decoding (what gets parsed).
    pub body: Vec<u8>,
    /// The body as it came off the wire, when it differs from `body` (content-encoded).
    pub wire_body: Option<Vec<u8>>,
    /// When the final response's headers arrived.
    pub fetched_at: DateTime<Utc>,
}

impl Fetched {
    /// First value of a header (name in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// `Content-Type`, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The validators to send next time.
    pub fn validators(&self) -> Validators {
        Validators {
            etag: self.header("etag").map(str::to_string),
            last_modified: self.header("last-modified").map(str::to_string),
        }
    }
}

/// First value of header `name` (lower case) in a header list.
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The crawl's HTTP client.
#[derive(Clone, Debug)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: u64,
    max_redirects: usize,
    guard: guard::Guard,
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
            // Redirects are followed in `get`, so the chain is recorded and loops are named.
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            // Proxies come from the configuration or nowhere: an environment proxy would make
            // the connections itself, out of the guard's sight (and nothing after config
            // loading reads the environment).
            .no_proxy();
        if !s.allow_private {
            // Pins are applied before this resolver is asked, so pinned hosts stay reachable.
            b = b.dns_resolver(guard::PublicResolver);
        }
        for (host, addr) in &s.resolve {
            b = b.resolve(host, *addr);
        }
        let client = b.build().map_err(|e| FetchError::Client(chain(&e)))?;
        Ok(Fetcher {
            client,
            max_body: s.max_body_bytes,
            max_redirects: s.max_redirects,
            guard: guard::Guard {
                allow_private: s.allow_private,
                pinned: s
                    .resolve
                    .iter()
                    .map(|(h, _)| h.to_ascii_lowercase())
                    .collect(),
            },
        })
    }

    /// Checks one hop before it is requested: scheme, literal address, and no credentials
    /// (reqwest would send `user:pass@` as Basic auth to wherever a link points).
    fn admit(&self, url: &mut Url) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Scheme(url.scheme().to_string()));
        }
        let _ = url.set_username("");
        let _ = url.set_password(None);
        self.guard.check_literal(url)?;
        Ok(())
    }

    /// GETs `url`, following redirects, sending `validators` (on the first request only).
    pub async fn get(&self, url: &Url, validators: &Validators) -> Result<Fetched, FetchError> {
        let mut current = url.clone();
        let mut redirects: Vec<Hop> = Vec::new();
        loop {
            self.admit(&mut current)?;
            let mut req = self
                .client
                .get(current.clone())
                .header(
                    reqwest::header::ACCEPT,
                    "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
                )
                .header(reqwest::header::ACCEPT_ENCODING, "gzip, deflate");
            if redirects.is_empty() {
                if let Some(etag) = &validators.etag {
                    req = req.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &validators.last_modified {
                    req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(FetchError::from_reqwest)?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let mut target = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| current.join(l.trim()).ok())
                    .ok_or_else(|| {
                        FetchError::Redirect(format!("{status} without a usable Location"))
                    })?;
                // Credentials never reach a recorded hop, a log line or the next request.
                let _ = target.set_username("");
                let _ = target.set_password(None);
                redirects.push(Hop {
                    from: current.to_string(),
                    status,
                });
                if target == *url || redirects.iter().any(|h| h.from == target.as_str()) {
                    return Err(FetchError::Redirect(format!(
                        "loop after {} hop(s) back to {target}",
                        redirects.len()
                    )));
                }
                if redirects.len() > self.max_redirects {
                    return Err(FetchError::Redirect(format!(
                        "more than {} redirects",
                        self.max_redirects
                    )));
                }
                if !matches!(target.scheme(), "http" | "https") {
                    return Err(FetchError::Redirect(format!(
                        "redirect to unsupported scheme `{}`",
                        target.scheme()
                    )));
                }
                current = target;
                continue;
            }
            return self.read(resp, current, status, redirects).await;
        }
    }

    async fn read(
        &self,
        mut resp: reqwest::Response,
        url: Url,
        status: u16,
        redirects: Vec<Hop>,
    ) -> Result<Fetched, FetchError> {
        let fetched_at = Utc::now();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if resp.content_length().is_some_and(|n| n > self.max_body) {
            return Err(FetchError::TooLarge { max: self.max_body });
        }
        let mut wire = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(FetchError::from_reqwest)? {
            if wire.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(FetchError::TooLarge { max: self.max_body });
            }
            wire.extend_from_slice(&chunk);
        }
        let encoding = header(&headers, "content-encoding").map(|e| e.trim().to_ascii_lowercase());
        let (body, wire_body) = match encoding.as_deref() {
            None | Some("") | Some("identity") => (wire, None),
            Some(enc) => (decode_content(enc, &wire, self.max_body)?, Some(wire)),
        };
        Ok(Fetched {
            final_url: url,
            status,
            headers,
            redirects,
            body,
            wire_body,
            fetched_at,
        })
    }
}

/// Decodes a content-encoded body, refusing to produce more than `max` bytes.
pub fn decode_content(encoding: &str, wire: &[u8], max: u64) -> Result<Vec<u8>, FetchError> {
    let reader: Box<dyn Read + '_> = match encoding {
        "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(wire)),
        // "deflate" is zlib-wrapped by the spec, raw deflate in practice on some servers.
        "deflate" if wire.first().is_some_and(|b| b & 0x0f == 8) => {
            Box::new(flate2::read::ZlibDecoder::new(wire))
        }
        "deflate" => Box::new(flate2::read::DeflateDecoder::new(wire)),
        other => {
            return Err(FetchError::Decode(format!(
                "unsupported Content-Encoding `{other}`"
            )))
        }
    };
    let mut out = Vec::new();
    // Read one byte past the cap: if it arrives, the body is too large.
    reader
        .take(max + 1)
        .read_to_end(&mut out)
        .map_err(|e| FetchError::Decode(format!("{encoding}: {e}")))?;
    if out.len() as u64 > max {
        return Err(FetchError::TooLarge { max });
    }
    Ok(out)
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
    use std::io::Write;

    #[test]
    fn html_content_types() {
        assert!(is_html(Some("text/html; charset=gbk")));
        assert!(is_html(Some("TEXT/HTML")));
        assert!(is_html(Some("application/xhtml+xml")));
        assert!(is_html(None));
        assert!(!is_html(Some("image/png")));
        assert!(!is_html(Some("application/pdf")));
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_decodes_within_the_cap() {
        assert_eq!(
            decode_content("gzip", &gzip(b"hello"), 100).unwrap(),
            b"hello"
        );
    }

    #[test]
    fn gzip_bombs_stop_at_the_cap() {
        let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
        assert!(bomb.len() < 64 * 1024);
        assert!(matches!(
            decode_content("gzip", &bomb, 1024 * 1024),
            Err(FetchError::TooLarge { .. })
        ));
    }

    #[test]
    fn truncated_gzip_is_a_decode_error() {
        let g = gzip(&vec![7u8; 100_000]);
        let cut = &g[..g.len() / 2];
        assert!(matches!(
            decode_content("gzip", cut, 1 << 20),
            Err(FetchError::Decode(_))
        ));
        assert!(matches!(
            decode_content("br", b"x", 10),
            Err(FetchError::Decode(_))
        ));
    }

    #[test]
    fn deflate_both_flavours() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b"zlib").unwrap();
        assert_eq!(
            decode_content("deflate", &z.finish().unwrap(), 100).unwrap(),
            b"zlib"
        );
        let mut d = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        d.write_all(b"raw").unwrap();
        assert_eq!(
            decode_content("deflate", &d.finish().unwrap(), 100).unwrap(),
            b"raw"
        );
    }
}
