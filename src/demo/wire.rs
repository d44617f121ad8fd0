//! Putting a `Response` on the wire: the head, then the body as its `Behaviour` says.
//!
//! Bodies are produced block by block from `body` followed by an endless filler byte, so a
//! 20 MiB or never-ending response costs no more memory than a block. Every byte actually
//! written is reported to the request's `Exchange`. Timed behaviours race against the
//! client hanging up, so an abandoned drip or delay ends at once instead of pinning a task
//! (and counting as a request in flight) until its timer runs out.

use std::future;
use std::io;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;

use super::render::{Behaviour, Response};
use super::stats::Exchange;

/// `Content-Length` a drip declares: a plausible page size (under any body cap, so only a
/// timeout ends it) that at a few bytes a second it never finishes sending.
pub(crate) const DRIP_DECLARED: u64 = 64 * 1024;

/// Largest single write.
const BLOCK: usize = 64 * 1024;

/// Headers the server writes itself; copies in `Response::headers` are dropped so the
/// framing cannot be contradicted.
const FRAMING_HEADERS: [&str; 5] = [
    "content-length",
    "content-type",
    "connection",
    "transfer-encoding",
    "keep-alive",
];

/// Whether the connection may carry another request after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum After {
    /// The response was framed and complete; read the next request.
    KeepAlive,
    /// Close the connection now.
    Close,
}

/// How one response is framed and paced; derived from the `Response` and the request.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    /// The `Content-Length` header, if any.
    declared: Option<u64>,
    /// Body bytes to send; `None` means until the client goes away.
    send: Option<u64>,
    /// Byte sent after `body` runs out.
    filler: u8,
    /// Bytes per write and the pause between writes, for a drip.
    pace: Option<(usize, Duration)>,
    /// `Connection` header: whether the client is told the connection stays open.
    advertise_keep_alive: bool,
    /// Whether the server closes after this response whatever it advertised.
    close: bool,
}

impl Plan {
    fn new(response: &Response, head_only: bool, keep_alive: bool) -> Plan {
        let length = response.body.len() as u64;
        let mut plan = Plan {
            declared: Some(length),
            send: Some(length),
            filler: b' ',
            pace: None,
            advertise_keep_alive: keep_alive,
            close: !keep_alive,
        };
        match response.behaviour {
            Behaviour::Normal | Behaviour::DelayHead(_) => {}
            Behaviour::Padded(total) => {
                let total = total.max(length);
                plan.declared = Some(total);
                plan.send = Some(total);
                plan.filler = 0;
            }
            Behaviour::Drip { chunk, interval } => {
                plan.declared = Some(DRIP_DECLARED);
                plan.send = Some(DRIP_DECLARED);
                plan.pace = Some((chunk.max(1), interval));
                plan.advertise_keep_alive = false;
                plan.close = true;
            }
            Behaviour::Endless => {
                // Without a length, only the end of the connection can end the body.
                plan.declared = None;
                plan.send = None;
                plan.advertise_keep_alive = false;
                plan.close = true;
            }
            Behaviour::CutAfter(cut) => {
                // Advertises whatever a normal response would: the close must be a surprise.
                plan.send = Some(length.min(cut as u64));
                plan.close = true;
            }
        }
        if matches!(response.status, 100..=199 | 204 | 304) {
            // These never have content (RFC 9110 §6.4.1); a `Content-Length` on a 304
            // would have to describe the 200 instead, so none is sent.
            plan.declared = None;
            plan.send = Some(0);
        }
        if head_only {
            plan.send = Some(0);
        }
        plan
    }

    /// The status line and headers.
    fn head(&self, response: &Response) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nServer: trawl-demo\r\n",
            response.status,
            reason(response.status)
        );
        if !response.content_type.is_empty() {
            head.push_str(&format!("Content-Type: {}\r\n", response.content_type));
        }
        if let Some(length) = self.declared {
            head.push_str(&format!("Content-Length: {length}\r\n"));
        }
        for (name, value) in &response.headers {
            let framing = FRAMING_HEADERS.iter().any(|f| name.eq_ignore_ascii_case(f));
            // A line break in a name or value would inject headers; such a pair is a bug in
            // a route, so it is dropped rather than sent.
            let injected = [name, value].iter().any(|s| s.contains(['\r', '\n']));
            if !framing && !injected {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(if self.advertise_keep_alive {
            "Connection: keep-alive\r\n\r\n"
        } else {
            "Connection: close\r\n\r\n"
        });
        head.into_bytes()
    }
}

/// Writes `response` (only its head for HEAD requests) as its behaviour says, reporting
/// to `exchange` if there is one, and says whether the connection may go on.
pub(crate) async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    head_only: bool,
    keep_alive: bool,
    exchange: Option<&Exchange>,
) -> io::Result<After> {
    let plan = Plan::new(response, head_only, keep_alive);
    let (mut reader, mut writer) = stream.split();
    let sending = send(&mut writer, response, &plan, exchange);
    if response.behaviour == Behaviour::Normal {
        sending.await?;
    } else {
        tokio::select! {
            result = sending => result?,
            () = hung_up(&mut reader) => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    "client went away during a slow response",
                ));
            }
        }
    }
    Ok(if plan.close {
        After::Close
    } else {
        After::KeepAlive
    })
}

/// Completes when the client has closed its end (or the socket failed). Pipelined input
/// is left unread and means the client is still there, so this then waits forever.
async fn hung_up(reader: &mut ReadHalf<'_>) {
    let mut byte = [0u8; 1];
    match reader.peek(&mut byte).await {
        Ok(0) | Err(_) => {}
        Ok(_) => future::pending().await,
    }
}

/// The head and the planned body, block by block.
async fn send(
    writer: &mut WriteHalf<'_>,
    response: &Response,
    plan: &Plan,
    exchange: Option<&Exchange>,
) -> io::Result<()> {
    if let Behaviour::DelayHead(delay) = response.behaviour {
        tokio::time::sleep(delay).await;
    }
    let (step, interval) = plan.pace.unwrap_or((BLOCK, Duration::ZERO));
    // The head goes out with the first block: one write, so Nagle's algorithm never holds
    // a body back behind an unacknowledged head.
    let mut pending = plan.head(response);
    let mut head_left = pending.len();
    let mut offset: u64 = 0;
    loop {
        let want = match plan.send {
            Some(total) => usize::try_from(total - offset).map_or(step, |left| left.min(step)),
            None => step,
        };
        fill(&mut pending, &response.body, plan.filler, offset, want);
        write_metered(writer, &pending, &mut head_left, response.status, exchange).await?;
        pending.clear();
        offset += want as u64;
        if plan.send.is_some_and(|total| offset >= total) {
            break;
        }
        if !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
    }
    writer.flush().await
}

/// Appends `len` bytes of the endless stream `body ++ filler…` starting at `offset`.
fn fill(out: &mut Vec<u8>, body: &[u8], filler: u8, offset: u64, len: usize) {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(body.len());
    let from_body = &body[start..(start + len).min(body.len())];
    out.extend_from_slice(from_body);
    out.resize(out.len() + (len - from_body.len()), filler);
}

/// Writes all of `bytes`, whose first `head_left` bytes are (the rest of) the head,
/// reporting the head once it is complete and every body byte as it is written.
async fn write_metered(
    writer: &mut WriteHalf<'_>,
    bytes: &[u8],
    head_left: &mut usize,
    status: u16,
    exchange: Option<&Exchange>,
) -> io::Result<()> {
    let mut rest = bytes;
    while !rest.is_empty() {
        let written = writer.write(rest).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        let head = written.min(*head_left);
        *head_left -= head;
        if let Some(exchange) = exchange {
            if head > 0 && *head_left == 0 {
                exchange.head_sent(status);
            }
            exchange.body_sent((written - head) as u64);
        }
        rest = &rest[written..];
    }
    Ok(())
}

/// Reason phrase for the status codes the demo uses.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &[u8], behaviour: Behaviour) -> Response {
        Response {
            status,
            content_type: "text/html".to_string(),
            body: body.to_vec(),
            headers: vec![
                ("Content-Length".to_string(), "1".to_string()),
                ("X-Evil".to_string(), "a\r\nSet-Cookie: b".to_string()),
                ("ETag".to_string(), "\"t\"".to_string()),
            ],
            behaviour,
        }
    }

    #[test]
    fn plans_follow_the_behaviour() {
        let plan = |status, behaviour, head_only, keep_alive| {
            Plan::new(
                &response(status, b"0123456789", behaviour),
                head_only,
                keep_alive,
            )
        };
        let normal = plan(200, Behaviour::Normal, false, true);
        assert_eq!(
            (normal.declared, normal.send, normal.close),
            (Some(10), Some(10), false)
        );
        let padded = plan(200, Behaviour::Padded(1000), false, true);
        assert_eq!(
            (padded.declared, padded.send, padded.filler),
            (Some(1000), Some(1000), 0)
        );
        let drip = plan(
            200,
            Behaviour::Drip {
                chunk: 0,
                interval: Duration::from_millis(5),
            },
            false,
            true,
        );
        assert_eq!(drip.pace, Some((1, Duration::from_millis(5))));
        assert!(drip.close && !drip.advertise_keep_alive);
        let endless = plan(200, Behaviour::Endless, false, true);
        assert_eq!((endless.declared, endless.send), (None, None));
        let cut = plan(200, Behaviour::CutAfter(4), false, true);
        assert_eq!((cut.declared, cut.send), (Some(10), Some(4)));
        assert!(cut.close && cut.advertise_keep_alive);
        let not_modified = plan(304, Behaviour::Normal, false, true);
        assert_eq!((not_modified.declared, not_modified.send), (None, Some(0)));
        let head = plan(200, Behaviour::Endless, true, true);
        assert_eq!(head.send, Some(0));
    }

    #[test]
    fn heads_keep_route_headers_but_not_framing_or_injections() {
        let r = response(200, b"abc", Behaviour::Normal);
        let head = String::from_utf8(Plan::new(&r, false, false).head(&r)).expect("ASCII");
        assert_eq!(
            head,
            "HTTP/1.1 200 OK\r\nServer: trawl-demo\r\nContent-Type: text/html\r\nContent-Length: 3\r\nETag: \"t\"\r\nConnection: close\r\n\r\n"
        );
        let endless = response(200, b"abc", Behaviour::Endless);
        let head =
            String::from_utf8(Plan::new(&endless, false, true).head(&endless)).expect("ASCII");
        assert!(!head.contains("Content-Length") && head.contains("Connection: close"));
    }

    #[test]
    fn fill_continues_the_body_with_filler() {
        let mut out = b"head".to_vec();
        fill(&mut out, b"abc", b'.', 1, 5);
        assert_eq!(out, b"headbc...");
        out.clear();
        fill(&mut out, b"abc", 0, 10, 2);
        assert_eq!(out, [0, 0]);
        out.clear();
        fill(&mut out, b"abc", 0, 0, 2);
        assert_eq!(out, b"ab");
    }
}
