//! A minimal loopback HTTP/1.1 server for the demo network.
//!
//! Written directly on tokio's `TcpListener` so tests depend on nothing but the crate: it
//! reads a request head (at most 16 KiB), routes by the `Host` header or by the host of an
//! absolute-form target (what a forward proxy receives), counts the request (`stats`) and
//! writes `Network::respond_nth`'s answer as its `Behaviour` says (`wire`). Keep-alive
//! follows HTTP/1.1 defaults. One task per connection, so a slow response never holds up
//! another; a single shutdown signal stops the accept loop and every connection, slow
//! responses included. Malformed input gets a 4xx and a closed connection, never a panic.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use super::render::{Behaviour, Network, Response};
use super::stats::Stats;
use super::wire::{self, write_response, After};

/// Largest accepted request head (request line + headers), in bytes.
const MAX_HEAD: usize = 16 * 1024;

/// A connection that sends nothing for this long is closed, so stray clients cannot pin
/// tasks forever between requests. Longer than common client pool idle timeouts (hyper's
/// is 90 s) so that the client, not the server, retires an idle connection: a server-side
/// close can race with the client reusing the connection and fail a request spuriously.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// Request bodies are not expected; larger ones are refused instead of being read.
const MAX_SKIPPED_BODY: u64 = 1024 * 1024;

/// Serves `network` on `addr` (use `127.0.0.1:0` for an ephemeral port) and returns once the
/// socket is listening; requests are answered on background tasks until the handle is shut
/// down or dropped.
pub async fn serve(network: Arc<Network>, addr: SocketAddr) -> io::Result<ServerHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (signal, receiver) = watch::channel(false);
    let stats = Arc::new(Stats::default());
    let network: Shared = Arc::new(RwLock::new(network));
    let accept_loop = tokio::spawn(accept_loop(
        listener,
        Arc::clone(&network),
        Arc::clone(&stats),
        Shutdown { receiver },
    ));
    Ok(ServerHandle {
        addr,
        stats,
        network,
        signal,
        accept_loop,
    })
}

/// The network being served; replaced whole when a test "publishes" new articles.
type Shared = Arc<RwLock<Arc<Network>>>;

fn current(network: &Shared) -> Arc<Network> {
    // A poisoned lock only means a writer panicked mid-swap of an Arc: the value is intact.
    Arc::clone(&network.read().unwrap_or_else(PoisonError::into_inner))
}

/// A running demo server.
///
/// Dropping the handle also stops the server (without waiting for it), so keep it alive
/// for as long as it should answer; call `shutdown` to stop it and wait.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stats: Arc<Stats>,
    network: Shared,
    /// Only `true` is ever sent; dropping the sender means the same to the receivers.
    signal: watch::Sender<bool>,
    accept_loop: JoinHandle<()>,
}

impl ServerHandle {
    /// Serves `network` from now on (requests already being answered finish with the old
    /// one): how tests publish new articles between two crawls.
    pub fn set_network(&self, network: Arc<Network>) {
        *self.network.write().unwrap_or_else(PoisonError::into_inner) = network;
    }

    /// The address actually bound (with the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many requests named `host` (any case, with or without a port), counting every
    /// parsed request for it whatever its status.
    pub fn requests(&self, host: &str) -> u64 {
        self.stats.requests(host)
    }

    /// How many requests for `host` are being handled right now (see `max_concurrent`).
    pub fn in_flight(&self, host: &str) -> u64 {
        self.stats.in_flight(host)
    }

    /// How many requests were answered in total, malformed and unknown-host ones included.
    pub fn total_requests(&self) -> u64 {
        self.stats.total()
    }

    /// Response body bytes actually written for `host` (any case, port ignored); heads,
    /// HEAD requests and 304s add nothing, an abandoned drip only what was sent.
    pub fn body_bytes(&self, host: &str) -> u64 {
        self.stats.body_bytes(host)
    }

    /// The most requests for `host` that were being handled at the same moment, each
    /// counted from its parsed head until its response was fully written or its
    /// connection dropped.
    pub fn max_concurrent(&self, host: &str) -> u64 {
        self.stats.max_concurrent(host)
    }

    /// When the head of each request for `host` was parsed, in arrival order; the gaps
    /// show a crawler's pacing.
    pub fn request_starts(&self, host: &str) -> Vec<Instant> {
        self.stats.request_starts(host)
    }

    /// How many requests named `host` and exactly `path_and_query` (origin form, e.g.
    /// `/a.html?x=1`).
    pub fn hits(&self, host: &str, path_and_query: &str) -> u64 {
        self.stats.hits(host, path_and_query)
    }

    /// How many response heads for `host` were written, by status; a response abandoned
    /// before its head went out (a delayed one, say) is not counted.
    pub fn status_counts(&self, host: &str) -> BTreeMap<u16, u64> {
        self.stats.status_counts(host)
    }

    /// Stops accepting, closes every open connection and waits for the accept loop (which
    /// itself waits for the connection tasks) to end.
    pub async fn shutdown(self) {
        // An error means the loop is already gone, which is the state we want anyway.
        let _ = self.signal.send(true);
        if let Err(error) = self.accept_loop.await {
            tracing::warn!(%error, "demo server accept loop ended abnormally");
        }
    }
}

/// Listens for the shutdown signal; cloned into every task.
#[derive(Clone, Debug)]
struct Shutdown {
    receiver: watch::Receiver<bool>,
}

impl Shutdown {
    /// Completes once shutdown is requested or the handle is dropped.
    async fn recv(&mut self) {
        // `Err` means the sender was dropped with the handle, which also means stop.
        let _ = self.receiver.wait_for(|stop| *stop).await;
    }
}

async fn accept_loop(
    listener: TcpListener,
    network: Shared,
    stats: Arc<Stats>,
    mut shutdown: Shutdown,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.recv() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Drips write a byte at a time; without this they would wait for acks.
                    if let Err(error) = stream.set_nodelay(true) {
                        tracing::debug!(%error, "demo server could not set TCP_NODELAY");
                    }
                    connections.spawn(connection(
                        stream,
                        Arc::clone(&network),
                        Arc::clone(&stats),
                        shutdown.clone(),
                    ));
                }
                Err(error) => {
                    // Typically out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "demo server failed to accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow with every client.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Every connection task selects on the same signal, so this drains promptly.
    while connections.join_next().await.is_some() {}
}

async fn connection(
    mut stream: TcpStream,
    network: Shared,
    stats: Arc<Stats>,
    mut shutdown: Shutdown,
) {
    tokio::select! {
        // Dropping the exchange future mid-request is fine: the stream closes with it.
        _ = shutdown.recv() => {}
        result = exchange(&mut stream, &network, &stats) => {
            if let Err(error) = result {
                tracing::debug!(%error, "demo server connection ended with an error");
            }
        }
    }
}

/// Answers requests on one connection until the client closes it or asks to.
async fn exchange(stream: &mut TcpStream, network: &Shared, stats: &Arc<Stats>) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let head_len = match read_head(stream, &mut buffer).await? {
            HeadRead::Complete(len) => len,
            HeadRead::Closed => return Ok(()),
            HeadRead::Truncated => {
                stats.record_hostless();
                return refuse(stream, 400, "incomplete request head").await;
            }
            HeadRead::TooLarge => {
                stats.record_hostless();
                return refuse(stream, 431, "request head larger than 16 KiB").await;
            }
        };
        let parsed = parse_head(&buffer[..head_len]);
        buffer.drain(..head_len);
        let head = match parsed {
            Ok(head) => head,
            Err(error) => {
                stats.record_hostless();
                return refuse(stream, error.status(), error.message()).await;
            }
        };
        if head.chunked {
            stats.record_hostless();
            return refuse(stream, 411, "chunked request bodies are not supported").await;
        }
        if let Some(length) = head.content_length {
            if length > MAX_SKIPPED_BODY {
                stats.record_hostless();
                return refuse(stream, 413, "request bodies are not expected").await;
            }
            // Bodies carry nothing the demo uses, but must be consumed to find the next head.
            if !skip_body(stream, &mut buffer, length).await? {
                return Ok(());
            }
        }

        let started = Instant::now();
        let keep_alive = head.keep_alive();
        let (host, path) = match target(&head) {
            Ok(target) => target,
            Err(message) => {
                stats.record_hostless();
                return refuse(stream, 400, message).await;
            }
        };
        // Lives until the response is written or abandoned: that is the request's time in
        // flight for `max_concurrent`.
        let exchange = stats.begin(&host, &path, started);
        let response = match head.method.as_str() {
            "GET" | "HEAD" => {
                current(network).respond_nth(&host, &path, exchange.nth, &head.headers)
            }
            _ => {
                let mut response = plain(405, "only GET and HEAD are served");
                response
                    .headers
                    .push(("Allow".to_string(), "GET, HEAD".to_string()));
                response
            }
        };
        let after = write_response(
            stream,
            &response,
            head.method == "HEAD",
            keep_alive,
            Some(&exchange),
        )
        .await?;
        drop(exchange);
        if after == After::Close {
            return stream.shutdown().await;
        }
    }
}

/// Outcome of waiting for a request head.
enum HeadRead {
    /// `buffer[..len]` is a complete head.
    Complete(usize),
    /// Clean end of stream (or idle timeout) between requests.
    Closed,
    /// End of stream in the middle of a head.
    Truncated,
    /// No head terminator within `MAX_HEAD` bytes.
    TooLarge,
}

/// Reads until `buffer` starts with a complete request head; bytes after it (a pipelined
/// request or a body) stay in `buffer`.
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> io::Result<HeadRead> {
    let mut chunk = [0u8; 4096];
    loop {
        // Stray line breaks before a request line are allowed (RFC 9112 §2.2).
        let blank = buffer
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        buffer.drain(..blank);
        if let Some(len) = head_end(buffer) {
            return Ok(if len > MAX_HEAD {
                HeadRead::TooLarge
            } else {
                HeadRead::Complete(len)
            });
        }
        if buffer.len() > MAX_HEAD {
            return Ok(HeadRead::TooLarge);
        }
        let read = match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk)).await {
            Ok(read) => read?,
            Err(_elapsed) => return Ok(HeadRead::Closed),
        };
        if read == 0 {
            return Ok(if buffer.is_empty() {
                HeadRead::Closed
            } else {
                HeadRead::Truncated
            });
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// Length of the head at the start of `bytes`, terminator included; bare `\n` line ends
/// are tolerated.
fn head_end(bytes: &[u8]) -> Option<usize> {
    let crlf = find(bytes, b"\r\n\r\n").map(|i| i + 4);
    let lf = find(bytes, b"\n\n").map(|i| i + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Discards a request body of `length` bytes; false if the client went away first.
async fn skip_body(stream: &mut TcpStream, buffer: &mut Vec<u8>, length: u64) -> io::Result<bool> {
    let buffered = buffer
        .len()
        .min(usize::try_from(length).unwrap_or(usize::MAX));
    buffer.drain(..buffered);
    let mut remaining = length - buffered as u64;
    let mut chunk = [0u8; 4096];
    while remaining > 0 {
        let want = chunk
            .len()
            .min(usize::try_from(remaining).unwrap_or(chunk.len()));
        let read = match tokio::time::timeout(IDLE_TIMEOUT, stream.read(&mut chunk[..want])).await {
            Ok(read) => read?,
            Err(_elapsed) => return Ok(false),
        };
        if read == 0 {
            return Ok(false);
        }
        remaining -= read as u64;
    }
    Ok(true)
}

/// The parts of a request head the server acts on.
#[derive(Debug, PartialEq, Eq)]
struct RequestHead {
    method: String,
    target: String,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    minor_version: u8,
    host: Option<String>,
    connection_close: bool,
    connection_keep_alive: bool,
    content_length: Option<u64>,
    chunked: bool,
    /// Every header line as `(name, value)`, value trimmed, in order.
    headers: Vec<(String, String)>,
}

impl RequestHead {
    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when asked to.
    fn keep_alive(&self) -> bool {
        !self.connection_close && (self.minor_version >= 1 || self.connection_keep_alive)
    }
}

/// Why a request head was refused.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// Not valid HTTP/1.x syntax.
    Malformed(&'static str),
    /// A well-formed request line for another HTTP version.
    Version,
}

impl HeadError {
    fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::Version => 505,
        }
    }

    fn message(&self) -> &'static str {
        match self {
            HeadError::Malformed(why) => why,
            HeadError::Version => "only HTTP/1.0 and HTTP/1.1 are served",
        }
    }
}

/// Parses a complete request head (request line, headers, blank line).
fn parse_head(bytes: &[u8]) -> Result<RequestHead, HeadError> {
    let text = std::str::from_utf8(bytes).map_err(|_| HeadError::Malformed("head is not UTF-8"))?;
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not `METHOD TARGET VERSION`",
        ));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(HeadError::Malformed("bad method"));
    }
    if target.is_empty() || target.bytes().any(|b| b.is_ascii_control()) {
        return Err(HeadError::Malformed("bad request target"));
    }
    let minor_version = match version {
        "HTTP/1.1" => 1,
        "HTTP/1.0" => 0,
        _ if version.starts_with("HTTP/") => return Err(HeadError::Version),
        _ => return Err(HeadError::Malformed("bad HTTP version")),
    };

    let mut head = RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        minor_version,
        host: None,
        connection_close: false,
        connection_keep_alive: false,
        content_length: None,
        chunked: false,
        headers: Vec::new(),
    };
    for line in lines.take_while(|line| !line.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Malformed("header line without a colon"));
        };
        if name.is_empty()
            || name
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
        {
            // Also rejects obsolete line folding, which starts with whitespace.
            return Err(HeadError::Malformed("bad header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        head.headers.push((name.to_string(), value.to_string()));
        if name.eq_ignore_ascii_case("host") {
            if head.host.is_some() {
                return Err(HeadError::Malformed("more than one Host header"));
            }
            head.host = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                head.connection_close |= token.eq_ignore_ascii_case("close");
                head.connection_keep_alive |= token.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            let length = value
                .parse::<u64>()
                .ok()
                .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
                .ok_or(HeadError::Malformed("bad Content-Length"))?;
            if head.content_length.is_some_and(|seen| seen != length) {
                return Err(HeadError::Malformed("conflicting Content-Length headers"));
            }
            head.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        }
    }
    if head.minor_version == 1 && head.host.is_none() && head.target.starts_with('/') {
        // RFC 9112 §3.2: an HTTP/1.1 request in origin form must name its host.
        return Err(HeadError::Malformed("missing Host header"));
    }
    Ok(head)
}

/// Splits an absolute-form target (`http://host[:port]/path?query`) into its authority and
/// origin-form path, as a forward proxy must.
fn split_absolute(target: &str) -> Option<(&str, String)> {
    let scheme = target.get(..7)?;
    if !scheme.eq_ignore_ascii_case("http://") {
        return None;
    }
    let rest = &target[7..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    // Credentials in the authority mean nothing to the demo; the host follows the last `@`.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return None;
    }
    let path = path.split('#').next().unwrap_or_default();
    let path = match path {
        "" => "/".to_string(),
        _ if path.starts_with('?') => format!("/{path}"),
        _ => path.to_string(),
    };
    Some((authority, path))
}

/// The host and origin-form path a request is for, from an absolute-form target (which
/// overrides the `Host` header, RFC 9112 §3.2.2) or from the `Host` header; the message
/// of a 400 otherwise.
fn target(head: &RequestHead) -> Result<(String, String), &'static str> {
    let (host, path) = if head.target.starts_with('/') {
        (head.host.clone(), head.target.clone())
    } else if let Some((authority, path)) = split_absolute(&head.target) {
        (Some(authority.to_string()), path)
    } else {
        return Err("unsupported request target");
    };
    match host {
        Some(host) => Ok((host, path)),
        None => Err("missing Host header"),
    }
}

/// A short plain-text response for errors produced by the server itself.
fn plain(status: u16, message: &str) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8".to_string(),
        body: format!("{status} {}: {message}\n", wire::reason(status)).into_bytes(),
        headers: Vec::new(),
        behaviour: Behaviour::Normal,
    }
}

/// Answers a request the server cannot continue after, then closes the connection.
async fn refuse(stream: &mut TcpStream, status: u16, message: &str) -> io::Result<()> {
    // Refused requests are counted in the total only, so nothing meters the writing.
    write_response(stream, &plain(status, message), false, false, None).await?;
    stream.shutdown().await?;
    linger(stream).await;
    Ok(())
}

/// Reads and discards what the client is still sending, for a short while, before the
/// socket is dropped. Closing with unread input makes the kernel send a reset, which can
/// destroy the error response before the client reads it ("lingering close").
async fn linger(stream: &mut TcpStream) {
    const BUDGET: usize = 256 * 1024;
    const WAIT: Duration = Duration::from_millis(500);
    let mut chunk = [0u8; 4096];
    let mut discarded = 0;
    while discarded < BUDGET {
        match tokio::time::timeout(WAIT, stream.read(&mut chunk)).await {
            Ok(Ok(read)) if read > 0 => discarded += read,
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::time::timeout;

    use super::super::faults::{FAULT_HOST, HUGE_LENGTH};
    use super::super::render::Mirror;
    use super::super::wire::DRIP_DECLARED;
    use super::*;

    /// One parsed response read off a client socket.
    struct Reply {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    }

    impl Reply {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str())
        }
    }

    /// Reads one response head from `stream`, keeping what follows it in `pending`.
    async fn read_head_only(stream: &mut TcpStream, pending: &mut Vec<u8>) -> Reply {
        let mut chunk = [0u8; 8192];
        let head_len = loop {
            if let Some(len) = find(pending, b"\r\n\r\n") {
                break len + 4;
            }
            let n = stream.read(&mut chunk).await.expect("read head");
            assert!(n > 0, "connection closed before a full response head");
            pending.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8(pending[..head_len].to_vec()).expect("ASCII head");
        pending.drain(..head_len);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().expect("status line");
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (n, v) = l.split_once(": ").expect("header");
                (n.to_string(), v.to_string())
            })
            .collect();
        Reply {
            status,
            headers,
            body: Vec::new(),
        }
    }

    /// Reads exactly one response (head + `Content-Length` body, none for HEAD or a 304)
    /// from `stream`, keeping any surplus in `pending`.
    async fn read_reply(stream: &mut TcpStream, pending: &mut Vec<u8>, head_only: bool) -> Reply {
        let mut reply = read_head_only(stream, pending).await;
        if reply.status == 304 {
            assert_eq!(reply.header("Content-Length"), None);
            return reply;
        }
        let mut chunk = [0u8; 8192];
        let length: usize = reply
            .header("Content-Length")
            .and_then(|v| v.parse().ok())
            .expect("Content-Length");
        if !head_only {
            while pending.len() < length {
                let n = stream.read(&mut chunk).await.expect("read body");
                assert!(n > 0, "connection closed mid-body");
                pending.extend_from_slice(&chunk[..n]);
            }
            reply.body = pending.drain(..length).collect();
        }
        reply
    }

    async fn start(n: usize) -> (Arc<Network>, ServerHandle) {
        let network = Arc::new(Network::generate(99, n));
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("literal address");
        let handle = serve(Arc::clone(&network), addr)
            .await
            .expect("bind loopback");
        (network, handle)
    }

    #[tokio::test]
    async fn serves_by_host_header_and_absolute_form_then_shuts_down() {
        let (network, server) = start(120).await;
        let mut client = TcpStream::connect(server.addr()).await.expect("connect");
        let mut pending = Vec::new();

        // Origin-form with a Host header (port included, as clients send it).
        let request = format!(
            "GET / HTTP/1.1\r\nHost: news.trawl-demo.test:{}\r\nUser-Agent: test\r\n\r\n",
            server.addr().port()
        );
        client.write_all(request.as_bytes()).await.expect("write");
        let reply = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(reply.header("Connection"), Some("keep-alive"));
        assert_eq!(
            reply.body,
            network.respond("news.trawl-demo.test", "/").body
        );

        // Absolute-form on the same (kept-alive) connection overrides the Host header.
        let url = network
            .article_url(Mirror::Origin, 5)
            .expect("origin carries all");
        let request = format!("GET {url} HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n");
        client.write_all(request.as_bytes()).await.expect("write");
        let reply = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(reply.status, 200);
        let page = String::from_utf8(reply.body).expect("UTF-8 page");
        assert!(page.contains(&pages_title(&network, 5)));

        // HEAD: same length, no body; the next response on the wire proves it.
        client
            .write_all(b"HEAD / HTTP/1.1\r\nHost: www.gbk-news.test\r\n\r\n")
            .await
            .expect("write");
        let head = read_reply(&mut client, &mut pending, true).await;
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Type"), Some("text/html"));
        let gbk_index = network.respond("www.gbk-news.test", "/");
        assert_eq!(
            head.header("Content-Length"),
            Some(gbk_index.body.len().to_string().as_str())
        );

        // Unknown path, unknown host, wrong method: answered, connection stays usable.
        client
            .write_all(b"GET /missing HTTP/1.1\r\nHost: m.finmirror.test\r\n\r\nGET / HTTP/1.1\r\nHost: nowhere.test\r\n\r\nPOST / HTTP/1.1\r\nHost: blog.newsarchive.test\r\nContent-Length: 5\r\n\r\nhello")
            .await
            .expect("write");
        assert_eq!(
            read_reply(&mut client, &mut pending, false).await.status,
            404
        );
        assert_eq!(
            read_reply(&mut client, &mut pending, false).await.status,
            404
        );
        let post = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(post.status, 405);
        assert_eq!(post.header("Allow"), Some("GET, HEAD"));

        // `Connection: close` is honoured: the server closes after answering.
        client
            .write_all(
                b"GET / HTTP/1.1\r\nHost: blog.newsarchive.test\r\nConnection: close\r\n\r\n",
            )
            .await
            .expect("write");
        let last = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(last.status, 200);
        assert_eq!(last.header("Connection"), Some("close"));
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.expect("read to end");
        assert!(rest.is_empty() && pending.is_empty());

        assert_eq!(server.requests("news.trawl-demo.test"), 2);
        assert_eq!(server.requests("NEWS.trawl-demo.test:80"), 2);
        assert_eq!(server.requests("www.gbk-news.test"), 1);
        assert_eq!(server.requests("m.finmirror.test"), 1);
        assert_eq!(server.requests("blog.newsarchive.test"), 2);
        assert_eq!(server.requests("nowhere.test"), 1);
        assert_eq!(server.requests("elsewhere.test"), 0);
        assert_eq!(server.total_requests(), 7);

        let addr = server.addr();
        server.shutdown().await;
        assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
    }

    fn pages_title(network: &Network, i: usize) -> String {
        super::super::pages::escape(&network.articles()[i].title)
    }

    #[tokio::test]
    async fn garbage_and_oversized_heads_get_4xx_and_a_close() {
        let (_network, server) = start(5).await;
        let cases: [(Vec<u8>, u16); 5] = [
            (b"NONSENSE\r\n\r\n".to_vec(), 400),
            (
                b"GET / HTTP/2.0\r\nHost: news.trawl-demo.test\r\n\r\n".to_vec(),
                505,
            ),
            (b"GET / HTTP/1.1\r\n\r\n".to_vec(), 400),
            (
                b"GET / HTTP/1.1\r\nHost: a\r\nbroken header\r\n\r\n".to_vec(),
                400,
            ),
            (
                [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD + 10]].concat(),
                431,
            ),
        ];
        for (request, status) in cases {
            let mut client = TcpStream::connect(server.addr()).await.expect("connect");
            client.write_all(&request).await.expect("write");
            let mut pending = Vec::new();
            let reply = read_reply(&mut client, &mut pending, false).await;
            assert_eq!(
                reply.status,
                status,
                "{}",
                String::from_utf8_lossy(&request[..20])
            );
            assert_eq!(reply.header("Connection"), Some("close"));
        }
        assert_eq!(server.total_requests(), 5);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn shutdown_closes_idle_keep_alive_connections() {
        let (_network, server) = start(5).await;
        let mut client = TcpStream::connect(server.addr()).await.expect("connect");
        client
            .write_all(b"GET / HTTP/1.1\r\nHost: news.trawl-demo.test\r\n\r\n")
            .await
            .expect("write");
        let mut pending = Vec::new();
        assert_eq!(
            read_reply(&mut client, &mut pending, false).await.status,
            200
        );
        server.shutdown().await;
        let mut rest = Vec::new();
        // EOF (or a reset) once the server task is gone; never a hang.
        let _ = client.read_to_end(&mut rest).await;
        assert!(rest.is_empty());
    }

    /// Connects and sends a GET for `path` on `host`.
    async fn get(server: &ServerHandle, host: &str, path: &str, extra: &str) -> TcpStream {
        let mut client = TcpStream::connect(server.addr()).await.expect("connect");
        let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n");
        client.write_all(request.as_bytes()).await.expect("write");
        client
    }

    /// Bound on anything that should happen "at once" in these tests; generous so that a
    /// loaded CI machine does not fail them, far below the delays being tested.
    const PROMPT: Duration = Duration::from_secs(5);

    /// A complete, fast request on a fresh connection while something slow is going on.
    async fn still_responsive(server: &ServerHandle) {
        let mut other = get(server, FAULT_HOST, "/", "").await;
        let reply = timeout(PROMPT, read_reply(&mut other, &mut Vec::new(), false))
            .await
            .expect("the index is served while another response is slow");
        assert_eq!(reply.status, 200);
    }

    /// Shuts `server` down within `PROMPT`.
    async fn prompt_shutdown(server: ServerHandle) {
        timeout(PROMPT, server.shutdown())
            .await
            .expect("shutdown ends slow responses promptly");
    }

    /// Waits (bounded) until the server has noticed that no request for `host` is left in
    /// flight: it learns about hang-ups asynchronously, so this polls a condition rather
    /// than sleeping for a guessed time.
    async fn settled(server: &ServerHandle, host: &str) {
        timeout(PROMPT, async {
            while server.in_flight(host) > 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the server notices the hang-up");
    }

    #[tokio::test]
    async fn delayed_head_sends_nothing_until_shutdown_ends_it() {
        let (_network, server) = start(5).await;
        let mut slow = get(&server, FAULT_HOST, "/timeout.html", "").await;
        let mut byte = [0u8; 1];
        assert!(
            timeout(Duration::from_millis(300), slow.read(&mut byte))
                .await
                .is_err(),
            "nothing is sent during the delay"
        );
        still_responsive(&server).await;
        assert_eq!(server.in_flight(FAULT_HOST), 1);
        assert_eq!(server.hits(FAULT_HOST, "/timeout.html"), 1);
        prompt_shutdown(server).await;
        let mut rest = Vec::new();
        let _ = timeout(PROMPT, slow.read_to_end(&mut rest))
            .await
            .expect("closed at shutdown");
        assert!(rest.is_empty(), "no head was ever sent");
    }

    #[tokio::test]
    async fn a_delayed_request_ends_when_the_client_hangs_up() {
        let (_network, server) = start(5).await;
        let slow = get(&server, FAULT_HOST, "/timeout.html", "").await;
        // The request is in flight once the server has parsed it.
        timeout(PROMPT, async {
            while server.in_flight(FAULT_HOST) == 0 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the request arrives");
        drop(slow);
        settled(&server, FAULT_HOST).await;
        assert_eq!(server.status_counts(FAULT_HOST), BTreeMap::new());
        assert_eq!(server.body_bytes(FAULT_HOST), 0);
        prompt_shutdown(server).await;
    }

    #[tokio::test]
    async fn drip_sends_a_byte_at_a_time_and_stops_at_hang_up() {
        let (_network, server) = start(5).await;
        let mut drip = get(&server, FAULT_HOST, "/drip.html", "").await;
        let mut pending = Vec::new();
        let head = timeout(PROMPT, read_head_only(&mut drip, &mut pending))
            .await
            .expect("the head comes at once");
        assert_eq!(head.status, 200);
        let declared = DRIP_DECLARED.to_string();
        assert_eq!(head.header("Content-Length"), Some(declared.as_str()));
        assert_eq!(head.header("Connection"), Some("close"));

        // Over ~700 ms a 200 ms drip of single bytes yields a handful, never the page.
        let started = Instant::now();
        let mut received = pending.len();
        let mut chunk = [0u8; 1024];
        while started.elapsed() < Duration::from_millis(700) {
            if let Ok(read) = timeout(Duration::from_millis(100), drip.read(&mut chunk)).await {
                received += read.expect("read");
            }
        }
        assert!((2..=8).contains(&received), "{received} bytes");
        still_responsive(&server).await;

        drop(drip);
        settled(&server, FAULT_HOST).await;
        let sent = server.body_bytes(FAULT_HOST);
        let index_len = Network::generate(99, 5).respond(FAULT_HOST, "/").body.len() as u64;
        assert!(
            sent - index_len < 20,
            "the drip went on after the hang-up: {sent}"
        );
        prompt_shutdown(server).await;
    }

    #[tokio::test]
    async fn endless_body_streams_until_the_client_stops() {
        let (_network, server) = start(5).await;
        let mut endless = get(&server, FAULT_HOST, "/endless.html", "").await;
        let mut pending = Vec::new();
        let head = timeout(PROMPT, read_head_only(&mut endless, &mut pending))
            .await
            .expect("the head comes at once");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), None);
        assert_eq!(head.header("Connection"), Some("close"));
        let mut received = pending.len();
        let mut chunk = vec![0u8; 64 * 1024];
        timeout(PROMPT, async {
            while received < 4 * 1024 * 1024 {
                let read = endless.read(&mut chunk).await.expect("read");
                assert!(read > 0, "an endless body never ends");
                received += read;
            }
        })
        .await
        .expect("4 MiB arrive quickly");
        still_responsive(&server).await;
        prompt_shutdown(server).await;
        // After shutdown the stream ends (EOF or reset), however much was buffered.
        timeout(PROMPT, async {
            while let Ok(read) = endless.read(&mut chunk).await {
                if read == 0 {
                    break;
                }
            }
        })
        .await
        .expect("the endless body stops at shutdown");
    }

    #[tokio::test]
    async fn cut_closes_after_a_hundred_body_bytes() {
        let (_network, server) = start(5).await;
        let mut cut = get(&server, FAULT_HOST, "/cut.html", "").await;
        let mut pending = Vec::new();
        let head = timeout(PROMPT, read_head_only(&mut cut, &mut pending))
            .await
            .expect("head");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("Content-Length"), Some("10240"));
        assert_eq!(
            head.header("Connection"),
            Some("keep-alive"),
            "a surprise close"
        );
        let mut body = pending;
        timeout(PROMPT, cut.read_to_end(&mut body))
            .await
            .expect("closed at once")
            .expect("clean close");
        assert_eq!(body.len(), 100);
        assert!(body.starts_with(b"<html><head><title>"));
        still_responsive(&server).await;
        settled(&server, FAULT_HOST).await;
        let index_len = Network::generate(99, 5).respond(FAULT_HOST, "/").body.len() as u64;
        assert_eq!(server.body_bytes(FAULT_HOST), 100 + index_len);
        prompt_shutdown(server).await;
    }

    #[tokio::test]
    async fn huge_declares_twenty_mebibytes_and_streams_zeros() {
        let (_network, server) = start(5).await;
        let mut huge = get(&server, FAULT_HOST, "/huge.html", "").await;
        let mut pending = Vec::new();
        let head = timeout(PROMPT, read_head_only(&mut huge, &mut pending))
            .await
            .expect("head");
        let declared = HUGE_LENGTH.to_string();
        assert_eq!(head.header("Content-Length"), Some(declared.as_str()));
        let mut body = pending;
        timeout(PROMPT, async {
            let mut chunk = vec![0u8; 64 * 1024];
            while body.len() < 1024 * 1024 {
                let read = huge.read(&mut chunk).await.expect("read");
                assert!(read > 0);
                body.extend_from_slice(&chunk[..read]);
            }
        })
        .await
        .expect("the first MiB arrives");
        assert!(body.starts_with(b"<html>"));
        assert!(body[1024..].iter().all(|&b| b == 0));
        drop(huge);
        settled(&server, FAULT_HOST).await;
        assert!(server.body_bytes(FAULT_HOST) < HUGE_LENGTH);
        prompt_shutdown(server).await;
    }

    #[tokio::test]
    async fn counts_concurrency_hits_statuses_and_bytes_per_host() {
        let (_network, server) = start(5).await;
        // Two drips at once: both heads arriving proves both requests are in flight.
        let mut first = get(&server, "Faults.Trawl-Demo.test:1234", "/drip.html", "").await;
        let mut second = get(&server, FAULT_HOST, "/drip.html", "").await;
        for client in [&mut first, &mut second] {
            let head = timeout(PROMPT, read_head_only(client, &mut Vec::new()))
                .await
                .expect("head");
            assert_eq!(head.status, 200);
        }
        assert_eq!(server.max_concurrent(FAULT_HOST), 2);
        drop((first, second));
        settled(&server, FAULT_HOST).await;

        // The flaky route fails once, then recovers: the server's counter drives `nth`.
        let mut client = get(&server, FAULT_HOST, "/flaky-500.html", "").await;
        let mut pending = Vec::new();
        assert_eq!(
            read_reply(&mut client, &mut pending, false).await.status,
            500
        );
        client
            .write_all(b"GET /flaky-500.html HTTP/1.1\r\nHost: faults.trawl-demo.test\r\n\r\n")
            .await
            .expect("write");
        let recovered = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(recovered.status, 200);
        // Sequential requests never raise the maximum.
        assert_eq!(server.max_concurrent(FAULT_HOST), 2);

        assert_eq!(server.hits(FAULT_HOST, "/drip.html"), 2);
        assert_eq!(server.hits("FAULTS.trawl-demo.test", "/flaky-500.html"), 2);
        assert_eq!(server.hits(FAULT_HOST, "/flaky-500.html?x"), 0);
        assert_eq!(
            server.status_counts(FAULT_HOST),
            BTreeMap::from([(200, 3), (500, 1)])
        );
        let starts = server.request_starts(FAULT_HOST);
        assert_eq!(starts.len(), 4);
        assert!(starts.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(server.requests(FAULT_HOST), 4);
        assert_eq!(server.max_concurrent("news.trawl-demo.test"), 0);
        prompt_shutdown(server).await;
    }

    #[tokio::test]
    async fn conditional_requests_get_bodyless_304s_on_a_kept_alive_connection() {
        let (network, server) = start(20).await;
        let host = Mirror::Origin.host();
        let url = network.article_url(Mirror::Origin, 3).expect("carried");
        let path = &url[url.find(".test").map_or(0, |i| i + 5)..];
        let mut client = get(&server, host, path, "").await;
        let mut pending = Vec::new();
        let first = read_reply(&mut client, &mut pending, false).await;
        assert_eq!(first.status, 200);
        let etag = first.header("ETag").expect("an ETag").to_string();
        let modified = first.header("Last-Modified").expect("a date").to_string();
        let bytes = server.body_bytes(host);
        assert_eq!(bytes, first.body.len() as u64);

        for validator in [
            format!("If-None-Match: {etag}"),
            format!("If-Modified-Since: {modified}"),
        ] {
            let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{validator}\r\n\r\n");
            client.write_all(request.as_bytes()).await.expect("write");
            let reply = read_reply(&mut client, &mut pending, false).await;
            assert_eq!(reply.status, 304, "{validator}");
            assert_eq!(reply.header("ETag"), Some(etag.as_str()));
        }
        // The connection still frames correctly after the body-less answers.
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nIf-None-Match: \"x\"\r\n\r\n");
        client.write_all(request.as_bytes()).await.expect("write");
        let again = read_reply(&mut client, &mut pending, false).await;
        assert_eq!((again.status, again.body.len()), (200, first.body.len()));
        assert_eq!(server.body_bytes(host), 2 * bytes);
        assert_eq!(
            server.status_counts(host),
            BTreeMap::from([(200, 2), (304, 2)])
        );
        prompt_shutdown(server).await;
    }

    #[test]
    fn parses_request_heads() {
        let head =
            parse_head(b"GET /x?y=1 HTTP/1.0\r\nHOST: a.test\r\nConnection: Keep-Alive\r\n\r\n")
                .expect("valid head");
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/x?y=1");
        assert_eq!(head.host.as_deref(), Some("a.test"));
        assert!(head.keep_alive());
        let head = parse_head(b"GET / HTTP/1.1\nHost: a\nConnection: close\n\n").expect("bare LF");
        assert!(!head.keep_alive());
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").is_err());
        assert!(parse_head(b"GET  / HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_head(b"get / HTTP/1.1\r\n\r\n").is_err());
        assert!(parse_head(&[0xff, 0xfe, b'\r', b'\n', b'\r', b'\n']).is_err());
    }

    #[test]
    fn splits_absolute_targets() {
        assert_eq!(
            split_absolute("http://news.trawl-demo.test/a?b=c"),
            Some(("news.trawl-demo.test", "/a?b=c".to_string()))
        );
        assert_eq!(
            split_absolute("HTTP://m.finmirror.test:8080"),
            Some(("m.finmirror.test:8080", "/".to_string()))
        );
        assert_eq!(
            split_absolute("http://u:p@x.test?q"),
            Some(("x.test", "/?q".to_string()))
        );
        assert_eq!(split_absolute("https://x.test/"), None);
        assert_eq!(split_absolute("http:///"), None);
        assert_eq!(split_absolute("*"), None);
    }

    proptest::proptest! {
        #[test]
        fn parsing_arbitrary_bytes_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)
        ) {
            if let Ok(head) = parse_head(&bytes) {
                proptest::prop_assert!(head.minor_version <= 1);
            }
            let _ = head_end(&bytes);
        }

        #[test]
        fn absolute_targets_always_yield_an_origin_form_path(target in "\\PC{0,60}") {
            if let Some((authority, path)) = split_absolute(&target) {
                proptest::prop_assert!(!authority.is_empty());
                proptest::prop_assert!(path.starts_with('/'));
            }
        }
    }

    #[test]
    fn finds_the_end_of_a_head() {
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.1\n\nrest"), Some(16));
        assert_eq!(head_end(b"GET / HTTP/1.1\r\n"), None);
    }
}
