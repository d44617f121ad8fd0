//! A tiny HTTP/1.1 server for hand-made pages (hostile ones, mostly): a function from
//! (Host header, path?query) to a reply, one thread per connection, every request recorded.
//! The demo network's server is for the demo's own sites; this one serves whatever a test
//! writes.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// One response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Reply {
    /// A 200 `text/html; charset=utf-8` page.
    pub fn html(body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), "text/html; charset=utf-8".into())],
            body: body.into(),
        }
    }

    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }

    /// A 404.
    pub fn not_found() -> Reply {
        Reply {
            status: 404,
            headers: Vec::new(),
            body: b"not found".to_vec(),
        }
    }
}

type Handler = dyn Fn(&str, &str) -> Reply + Send + Sync;

/// A running server; it lives as long as the test process.
#[derive(Clone)]
pub struct FixtureServer {
    /// Where it listens (127.0.0.1, an ephemeral port).
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl FixtureServer {
    /// Starts serving `handler(host, path_and_query)`.
    pub fn start(handler: impl Fn(&str, &str) -> Reply + Send + Sync + 'static) -> FixtureServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (handler, log) = (handler.clone(), log.clone());
                std::thread::spawn(move || {
                    let _ = serve_connection(stream, &*handler, &log);
                });
            }
        });
        FixtureServer { addr, requests }
    }

    /// Every request so far: (Host header, path?query).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.requests.lock().expect("request log").clone()
    }

    /// Whether any request arrived with this Host header.
    pub fn saw_host(&self, host: &str) -> bool {
        self.requests().iter().any(|(h, _)| h == host)
    }
}

fn serve_connection(
    stream: TcpStream,
    handler: &Handler,
    log: &Mutex<Vec<(String, String)>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let mut host = String::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("host") {
                    host = v.trim().to_string();
                }
            }
        }
        log.lock()
            .expect("request log")
            .push((host.clone(), target.clone()));
        let reply = handler(&host, &target);
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        out.write_all(head.as_bytes())?;
        out.write_all(&reply.body)?;
        out.flush()?;
    }
}

/// An article page the `site.test` fixture config extracts (`div.body p`).
pub fn article(title: &str, paragraphs: &[&str]) -> String {
    let body: String = paragraphs.iter().map(|p| format!("<p>{p}</p>")).collect();
    format!(
        "<html><head><title>{title}</title></head><body><h1>{title}</h1>\
         <div class=body>{body}</div></body></html>"
    )
}

/// A minimal config for hand-made sites: `site.test` (and any extra `hosts`), articles at
/// `/a/N.html`, listings at `/` and `/list…`, one request at a time, no retries, `extra`
/// appended to `[crawl]`.
pub fn config(hosts: &[&str], extra: &str) -> String {
    let mut all = vec!["site.test"];
    all.extend_from_slice(hosts);
    let hosts: Vec<String> = all.iter().map(|h| format!("\"{h}\"")).collect();
    format!(
        r#"[crawl]
seeds = ["http://site.test/"]
concurrency = 4
per_host_concurrency = 2
max_retries = 0
connect_timeout_secs = 2
timeout_secs = 20
{extra}

[[site]]
name = "site"
hosts = [{}]
article = ['^/a/\d+\.html$']
listing = ['^/$', '^/list']
recrawl_after = "0s"
[site.extract]
body = "div.body p"
title = "h1"
"#,
        hosts.join(", ")
    )
}
