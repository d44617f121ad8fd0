//! WARC 1.1 (ISO 28500:2017) for archivists and replay tools.
//!
//! The file opens with a `warcinfo` record. Then, per exported record:
//! - one `response` record for the canonical copy, whose block is the HTTP response as
//!   fetched (status line, headers, body still content-encoded if it was), from
//!   [`Store::raw_response`];
//! - one `revisit` record per mirror copy (per copy URL; with `all_copies`, per sighting other
//!   than the canonical response itself), with the identical-payload-digest profile,
//!   `WARC-Refers-To` the response and the response's payload digest, and an empty block.
//!
//! So replay tools see one payload and many URLs. Note what "identical" means here: mirrors
//! serve different markup around the same article, and trawl found them identical after
//! normalisation (same content hash), not byte for byte.
//!
//! Digests are `sha1:` + base32 (the convention every WARC tool reads). Record ids are
//! `urn:uuid:` values derived from the record id, URL and date, so an export is
//! reproducible byte for byte. The stored body is already transfer-decoded, so a
//! `Transfer-Encoding` header is dropped and `Content-Length` is set to the body's length.
//! Records whose raw response was not kept (stores written before raw responses were) are
//! skipped and counted.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use sha1::{Digest, Sha1};

use super::{ExportError, Sink};
use crate::model::{RawResponse, Record, RecordId, Sighting};
use crate::store::Store;

/// The revisit profile for payloads identical to an earlier response's.
pub const IDENTICAL_PAYLOAD_PROFILE: &str =
    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest";

/// Writes WARC.
pub struct WarcSink<W> {
    out: W,
    store: Store,
    all_copies: bool,
    started: bool,
    /// The response written for the current record (for its revisits), or `None` when the
    /// record has no raw response.
    current: Option<(RecordId, Option<ResponseRef>)>,
    /// Whether the current record's canonical sighting was already covered by its response.
    canonical_covered: bool,
    records: u64,
    skipped: u64,
}

/// What a revisit refers to.
#[derive(Clone)]
struct ResponseRef {
    uuid: String,
    url: String,
    date: String,
    payload_digest: String,
}

impl<W: Write> WarcSink<W> {
    /// A sink writing to `out`, reading raw responses from `store`.
    pub fn new(out: W, store: Store, all_copies: bool) -> Self {
        WarcSink {
            out,
            store,
            all_copies,
            started: false,
            current: None,
            canonical_covered: false,
            records: 0,
            skipped: 0,
        }
    }

    fn write_record(&mut self, headers: &[(&str, String)], block: &[&[u8]]) -> std::io::Result<()> {
        let len: usize = block.iter().map(|b| b.len()).sum();
        let mut head = String::from("WARC/1.1\r\n");
        for (k, v) in headers {
            head.push_str(k);
            head.push_str(": ");
            head.push_str(v);
            head.push_str("\r\n");
        }
        head.push_str(&format!("Content-Length: {len}\r\n\r\n"));
        self.out.write_all(head.as_bytes())?;
        for b in block {
            self.out.write_all(b)?;
        }
        self.out.write_all(b"\r\n\r\n")?;
        self.records += 1;
        Ok(())
    }

    fn warcinfo(&mut self) -> std::io::Result<()> {
        let body = format!(
            "software: trawl/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let headers = [
            ("WARC-Type", "warcinfo".to_string()),
            ("WARC-Record-ID", uuid(&[b"warcinfo"])),
            ("WARC-Date", "1970-01-01T00:00:00Z".to_string()),
            ("Content-Type", "application/warc-fields".to_string()),
        ];
        self.write_record(&headers, &[body.as_bytes()])
    }

    fn response(&mut self, record: &Record, raw: &RawResponse) -> std::io::Result<ResponseRef> {
        let head = http_head(raw);
        let payload_digest = sha1_b32(&[&raw.body]);
        let block_digest = sha1_b32(&[head.as_bytes(), &raw.body]);
        let date = warc_date(&raw.fetched_at);
        let r = ResponseRef {
            uuid: uuid(&[
                &record.id.0,
                raw.url.as_bytes(),
                date.as_bytes(),
                b"response",
            ]),
            url: raw.url.clone(),
            date: date.clone(),
            payload_digest: payload_digest.clone(),
        };
        let headers = [
            ("WARC-Type", "response".to_string()),
            ("WARC-Record-ID", r.uuid.clone()),
            ("WARC-Date", date),
            ("WARC-Target-URI", raw.url.clone()),
            (
                "Content-Type",
                "application/http;msgtype=response".to_string(),
            ),
            ("WARC-Payload-Digest", payload_digest),
            ("WARC-Block-Digest", block_digest),
        ];
        self.write_record(&headers, &[head.as_bytes(), &raw.body])?;
        Ok(r)
    }

    fn revisit(&mut self, to: &ResponseRef, url: &str, at: &DateTime<Utc>) -> std::io::Result<()> {
        let date = warc_date(at);
        let headers = [
            ("WARC-Type", "revisit".to_string()),
            (
                "WARC-Record-ID",
                uuid(&[
                    to.uuid.as_bytes(),
                    url.as_bytes(),
                    date.as_bytes(),
                    b"revisit",
                ]),
            ),
            ("WARC-Date", date),
            ("WARC-Target-URI", url.to_string()),
            ("WARC-Profile", IDENTICAL_PAYLOAD_PROFILE.to_string()),
            ("WARC-Refers-To", to.uuid.clone()),
            ("WARC-Refers-To-Target-URI", to.url.clone()),
            ("WARC-Refers-To-Date", to.date.clone()),
            ("WARC-Payload-Digest", to.payload_digest.clone()),
            (
                "Content-Type",
                "application/http;msgtype=response".to_string(),
            ),
        ];
        self.write_record(&headers, &[])
    }
}

impl<W: Write> Sink<W> for WarcSink<W> {
    fn row(&mut self, r: &Record, s: Option<&Sighting>) -> Result<(), ExportError> {
        if !self.started {
            self.started = true;
            self.warcinfo()?;
        }
        if self.current.as_ref().map(|c| c.0) != Some(r.id) {
            let response = match self.store.raw_response(r.id)? {
                Some(raw) => Some(self.response(r, &raw)?),
                None => {
                    self.skipped += 1;
                    None
                }
            };
            self.current = Some((r.id, response));
            self.canonical_covered = false;
        }
        let Some((_, Some(to))) = self.current.clone() else {
            return Ok(());
        };
        match s {
            None if !self.all_copies => {
                for c in r.copies.iter().filter(|c| c.url != to.url) {
                    self.revisit(&to, &c.url, &c.first_seen)?;
                }
            }
            Some(s) => {
                // The response stands for one fetch of the canonical URL; every other
                // sighting is a revisit, so WARC records per record equal its sightings.
                if s.url == to.url && !self.canonical_covered {
                    self.canonical_covered = true;
                } else {
                    self.revisit(&to, &s.url, &s.fetched_at)?;
                }
            }
            None => {}
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<W, ExportError> {
        if !self.started {
            self.warcinfo()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn units(&self) -> Option<u64> {
        // The warcinfo record is not a data row.
        Some(self.records.saturating_sub(1))
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// Status line and headers of a stored response, ending with the blank line.
fn http_head(raw: &RawResponse) -> String {
    let reason = reqwest::StatusCode::from_u16(raw.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let mut head = format!("HTTP/1.1 {} {}\r\n", raw.status, reason);
    for (k, v) in &raw.headers {
        if k.eq_ignore_ascii_case("transfer-encoding") || k.eq_ignore_ascii_case("content-length") {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", raw.body.len()));
    head
}

fn warc_date(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `sha1:` + RFC 4648 base32 of the SHA-1 of the parts.
pub fn sha1_b32(parts: &[&[u8]]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p);
    }
    format!("sha1:{}", base32(&h.finalize()))
}

fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buf, mut bits) = (0u64, 0);
    for &b in bytes {
        buf = (buf << 8) | u64::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// A deterministic `<urn:uuid:…>` (version 8, RFC 9562) from the blake3 of the parts.
fn uuid(parts: &[&[u8]]) -> String {
    let mut h = blake3::Hasher::new();
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p);
    }
    let mut b = [0u8; 16];
    b.copy_from_slice(&h.finalize().as_bytes()[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "<urn:uuid:{}-{}-{}-{}-{}>",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        // The SHA-1 of the empty string, as WARC tools print it.
        assert_eq!(sha1_b32(&[b""]), "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    }

    #[test]
    fn uuids_are_stable_and_well_formed() {
        let a = uuid(&[b"x"]);
        assert_eq!(a, uuid(&[b"x"]));
        assert_ne!(a, uuid(&[b"y"]));
        assert_eq!(a.len(), "<urn:uuid:>".len() + 36);
        assert_eq!(&a[24..25], "8");
    }
}
