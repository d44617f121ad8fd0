//! The stored form of a raw response (the canonical copy's HTTP response, kept for WARC
//! export).
//!
//! Current form: the byte [`MAGIC`], a format byte, then Snappy (raw format) of the header
//! length (u32, little-endian), the header as JSON (URL, status, headers, fetch time) and the
//! body bytes exactly as they came off the wire. Stores written before 2026-11-30 hold the
//! whole [`RawResponse`] as JSON, the body in base64, deflated; those are still read.
//!
//! Why the change: deflating base64 was 4% of a crawl's CPU (base64 hides the text's
//! repetitions from the compressor, which then works harder for less), and Snappy on the raw
//! bytes is several times faster at a similar size on HTML.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::RawResponse;

/// First byte of the current form. A raw deflate stream (the old form) can never start with
/// it: bits 1–2 of its first byte are the first block's type, and deflate reserves type 3.
const MAGIC: u8 = 0xFF;
/// The format byte after [`MAGIC`].
const SNAPPY_V1: u8 = 1;

/// Why stored raw-response bytes could not be read.
#[derive(Debug, Error)]
pub enum RawError {
    /// The bytes start like the current form but carry a format this build does not know.
    #[error("unknown raw-response format {0}")]
    UnknownFormat(u8),
    /// Snappy or deflate rejected the bytes.
    #[error("cannot decompress: {0}")]
    Decompress(String),
    /// The decompressed bytes are shorter than their header says.
    #[error("truncated: header of {header} bytes in {len}")]
    Truncated {
        /// Header length the bytes claim.
        header: usize,
        /// Bytes there are.
        len: usize,
    },
    /// The header (or an old-form value) is not the JSON it should be.
    #[error("bad JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Everything but the body, borrowed for writing.
#[derive(Serialize)]
struct HeadRef<'a> {
    url: &'a str,
    status: u16,
    headers: &'a [(String, String)],
    fetched_at: DateTime<Utc>,
}

/// Everything but the body, owned for reading.
#[derive(Deserialize)]
struct Head {
    url: String,
    status: u16,
    headers: Vec<(String, String)>,
    fetched_at: DateTime<Utc>,
}

/// The bytes to store for `raw`.
pub(crate) fn encode(raw: &RawResponse) -> Vec<u8> {
    let head = HeadRef {
        url: &raw.url,
        status: raw.status,
        headers: &raw.headers,
        fetched_at: raw.fetched_at,
    };
    // Serialising plain strings and numbers into a Vec cannot fail.
    let head = serde_json::to_vec(&head).unwrap_or_default();
    let mut plain = Vec::with_capacity(4 + head.len() + raw.body.len());
    plain.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
    plain.extend_from_slice(&head);
    plain.extend_from_slice(&raw.body);
    let mut out = vec![0u8; 2 + snap::raw::max_compress_len(plain.len())];
    out[0] = MAGIC;
    out[1] = SNAPPY_V1;
    // Only fails for inputs over 4 GiB, far above the fetch size limit; kept uncompressed-safe
    // by falling back to the old form rather than losing the response.
    match snap::raw::Encoder::new().compress(&plain, &mut out[2..]) {
        Ok(n) => {
            out.truncate(2 + n);
            out
        }
        Err(_) => legacy_encode(raw),
    }
}

/// Reads either form.
pub(crate) fn decode(bytes: &[u8]) -> Result<RawResponse, RawError> {
    match bytes {
        [MAGIC, SNAPPY_V1, rest @ ..] => {
            let plain = snap::raw::Decoder::new()
                .decompress_vec(rest)
                .map_err(|e| RawError::Decompress(e.to_string()))?;
            let (len, rest) = plain.split_at_checked(4).ok_or(RawError::Truncated {
                header: 4,
                len: plain.len(),
            })?;
            let mut n = [0u8; 4];
            n.copy_from_slice(len);
            let header = usize::try_from(u32::from_le_bytes(n)).unwrap_or(usize::MAX);
            let (head, body) = rest.split_at_checked(header).ok_or(RawError::Truncated {
                header,
                len: rest.len(),
            })?;
            let head: Head = serde_json::from_slice(head)?;
            Ok(RawResponse {
                url: head.url,
                status: head.status,
                headers: head.headers,
                body: body.to_vec(),
                fetched_at: head.fetched_at,
            })
        }
        [MAGIC, other, ..] => Err(RawError::UnknownFormat(*other)),
        _ => {
            use std::io::Read;
            let mut json = Vec::with_capacity(bytes.len() * 3);
            flate2::read::DeflateDecoder::new(bytes)
                .read_to_end(&mut json)
                .map_err(|e| RawError::Decompress(e.to_string()))?;
            Ok(serde_json::from_slice(&json)?)
        }
    }
}

/// The form stores held before 2026-11-30: JSON (body in base64), deflated.
pub(crate) fn legacy_encode(raw: &RawResponse) -> Vec<u8> {
    use std::io::Write;
    let json = serde_json::to_vec(raw).unwrap_or_default();
    let mut e = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(json.len() / 3),
        flate2::Compression::fast(),
    );
    // Writing into a Vec cannot fail.
    let _ = e.write_all(&json);
    e.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(body: &[u8]) -> RawResponse {
        RawResponse {
            url: "https://news.example/a/1.html".into(),
            status: 200,
            headers: vec![
                ("content-type".into(), "text/html; charset=gbk".into()),
                ("etag".into(), "\"abc\"".into()),
            ],
            body: body.to_vec(),
            fetched_at: "2026-11-30T01:02:03Z".parse().unwrap(),
        }
    }

    #[test]
    fn the_current_form_round_trips_any_body() {
        let html = "<html><p>新闻正文</p></html>".repeat(50);
        for body in [
            &b""[..],
            html.as_bytes(),
            &[0u8, 255, 1, 254, 0xFF, 0x01][..],
        ] {
            let raw = sample(body);
            let bytes = encode(&raw);
            assert_eq!(bytes[0], MAGIC);
            assert_eq!(decode(&bytes).unwrap(), raw);
        }
    }

    #[test]
    fn old_form_values_are_still_read() {
        let raw = sample(b"<html><body>old store</body></html>");
        let old = legacy_encode(&raw);
        assert_ne!(old[0], MAGIC, "a deflate stream never starts with 0xFF");
        assert_eq!(decode(&old).unwrap(), raw);
    }

    #[test]
    fn html_is_stored_smaller_than_before() {
        let html = "<div class=\"para\"><p>市场消息：今日沪深两市成交额突破一万亿元。</p></div>\n"
            .repeat(40);
        let raw = sample(html.as_bytes());
        assert!(encode(&raw).len() < legacy_encode(&raw).len());
    }

    #[test]
    fn damaged_values_are_errors_not_panics() {
        let bytes = encode(&sample(b"<p>x</p>"));
        assert!(matches!(
            decode(&[MAGIC, 9, 1, 2]),
            Err(RawError::UnknownFormat(9))
        ));
        assert!(decode(&bytes[..bytes.len() - 3]).is_err());
        assert!(decode(&[MAGIC, SNAPPY_V1]).is_err());
        assert!(decode(b"not deflate at all").is_err());
        assert!(decode(&[]).is_err());
    }
}
