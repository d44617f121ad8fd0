//! The data model shared by every stage: what extraction yields ([`Post`]), the canonical
//! article ([`Record`]), one fetch that produced a post ([`Sighting`]), what happened to a URL
//! ([`UrlState`], [`Outcome`]) and one crawl ([`Run`]).
//!
//! These types are plain data: no I/O, no sled. The store serialises them as JSON values.

use std::fmt;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// blake3 of a normalised body (or of title+date+body for short bodies): the exact identity of
/// a piece of text. Every faithful mirror of an article has the same hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ContentHash(#[serde(with = "hex32")] pub [u8; 32]);

impl ContentHash {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", self.to_hex())
    }
}

/// Stable identity of a canonical record: the first 16 bytes of the content hash of the first
/// copy ever seen. It never changes, even when a better copy becomes canonical later.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordId(#[serde(with = "hex16")] pub [u8; 16]);

impl RecordId {
    /// The id a record gets when `hash` is its first copy.
    pub fn from_first_hash(hash: &ContentHash) -> RecordId {
        let mut id = [0u8; 16];
        id.copy_from_slice(&hash.0[..16]);
        RecordId(id)
    }

    /// Lower-case hex, 32 characters: what users type after `trawl get`.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses a full 32-character hex id.
    pub fn parse_hex(s: &str) -> Option<RecordId> {
        let bytes = unhex(s)?;
        let arr: [u8; 16] = bytes.try_into().ok()?;
        Some(RecordId(arr))
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.to_hex())
    }
}

/// Identity of one crawl run; allocated by the store, increasing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
pub struct RunId(pub u64);

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What extraction yields from one fetched page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Final URL of the page (after redirects), normalised.
    pub url: String,
    /// Headline as the page shows it (whitespace-trimmed).
    pub title: String,
    /// Publication time; pages that give no zone get the configured default zone.
    pub published: Option<DateTime<FixedOffset>>,
    /// Source or media name (`来源：…`).
    pub source: Option<String>,
    /// Author, when the page names one.
    pub author: Option<String>,
    /// Body paragraphs as displayed (not normalised).
    pub body: Vec<String>,
    /// Language guess: `zh` or `en` (or another ISO 639-1 code later).
    pub language: Option<String>,
    /// Which extractor produced it: a site rule's name, or `generic`.
    pub extractor: String,
}

impl Post {
    /// Characters in the displayed body, a cheap completeness measure.
    pub fn body_chars(&self) -> usize {
        self.body.iter().map(|p| p.chars().count()).sum()
    }
}

/// Why the canonical copy of a record won: the first criterion of the configured order
/// (`dedup.canonical_order`) on which it beat the runner-up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "criterion", rename_all = "snake_case")]
pub enum CanonicalReason {
    /// The record has a single copy so far.
    OnlyCopy,
    /// Its host ranks higher in `dedup.preferred_hosts` than every other copy's host.
    PreferredHost {
        /// The winning host.
        host: String,
    },
    /// Its normalised body is the longest (e.g. the mirror that kept the last paragraph).
    MostComplete {
        /// Normalised characters of the winning body.
        chars: usize,
    },
    /// It carries the earliest publication time (copies without one rank last).
    EarliestPublished,
    /// It was seen first.
    EarliestSeen,
    /// Every other criterion tied; its URL is the shortest (then lexically first).
    ShortestUrl,
}

impl fmt::Display for CanonicalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CanonicalReason::OnlyCopy => f.write_str("only copy"),
            CanonicalReason::PreferredHost { host } => write!(f, "preferred host {host}"),
            CanonicalReason::MostComplete { chars } => {
                write!(f, "most complete body ({chars} chars)")
            }
            CanonicalReason::EarliestPublished => f.write_str("earliest published"),
            CanonicalReason::EarliestSeen => f.write_str("earliest seen"),
            CanonicalReason::ShortestUrl => f.write_str("shortest url"),
        }
    }
}

/// One switch of a record's canonical copy, kept on the record; the old copy stays a member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CanonicalChange {
    /// When the switch happened (the fetch time of the copy that caused it).
    pub at: DateTime<Utc>,
    /// URL of the copy that was canonical before.
    pub from: String,
    /// URL of the copy that is canonical now.
    pub to: String,
    /// Why the new copy won.
    pub reason: CanonicalReason,
}

/// One distinct URL at which a record's text was found, kept on the record so that the
/// canonical choice can be recomputed over all copies without scanning sightings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Copy {
    /// Normalised URL.
    pub url: String,
    /// Host of `url`.
    pub host: String,
    /// When this URL first yielded this record.
    pub first_seen: DateTime<Utc>,
    /// Content hash of the copy at that URL (its latest version that joined this record).
    pub hash: ContentHash,
    /// Characters in the normalised body: the "most complete" criterion.
    pub chars: usize,
    /// Publication time the copy gives, if any.
    pub published: Option<DateTime<FixedOffset>>,
}

/// How a content hash joined a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "how", rename_all = "snake_case")]
pub enum Join {
    /// The first copy: the record's id derives from it.
    First,
    /// Same normalised text as a hash already in the record.
    Exact,
    /// Similar text: a trimmed, annotated or revised copy of a member.
    Near {
        /// Hamming distance between the simhashes.
        distance: u32,
        /// Estimated shingle Jaccard similarity.
        jaccard: f64,
        /// The member it was found similar to.
        to: ContentHash,
    },
    /// A changed body at a URL whose previous version belongs to the record.
    Revision {
        /// The previous version's hash.
        previous: ContentHash,
    },
}

impl fmt::Display for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Join::First => f.write_str("first"),
            Join::Exact => f.write_str("exact"),
            Join::Near {
                distance, jaccard, ..
            } => write!(f, "near(distance {distance}, jaccard {jaccard:.2})"),
            Join::Revision { previous } => write!(f, "revision(of {})", &previous.to_hex()[..12]),
        }
    }
}

/// A content hash that belongs to a record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// The content hash.
    pub hash: ContentHash,
    /// How it joined.
    pub joined: Join,
    /// The URL that first carried it.
    pub url: String,
    /// When it joined.
    pub first_seen: DateTime<Utc>,
    /// Characters in its normalised body.
    pub chars: usize,
}

/// One canonical article with the provenance of every copy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Stable id (see [`RecordId`]).
    pub id: RecordId,
    /// The canonical copy's post.
    pub canonical: Post,
    /// The canonical copy's host.
    pub canonical_host: String,
    /// Why the canonical copy won.
    pub canonical_reason: CanonicalReason,
    /// Every content hash that belongs to this record.
    pub members: Vec<Member>,
    /// Every distinct URL the record was seen at (one entry per URL).
    pub copies: Vec<Copy>,
    /// When the record was created.
    pub first_seen: DateTime<Utc>,
    /// Every switch of the canonical copy, oldest first.
    #[serde(default)]
    pub canonical_changes: Vec<CanonicalChange>,
}

impl Record {
    /// Distinct hosts that carry this record, in first-seen order.
    pub fn hosts(&self) -> Vec<&str> {
        let mut hosts: Vec<&str> = Vec::new();
        for c in &self.copies {
            if !hosts.contains(&c.host.as_str()) {
                hosts.push(&c.host);
            }
        }
        hosts
    }
}

/// One fetch of one URL that produced a post. Never overwritten.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    /// The record the post belongs to.
    pub record: RecordId,
    /// Normalised URL that was fetched.
    pub url: String,
    /// Host of `url`.
    pub host: String,
    /// When the response was received.
    pub fetched_at: DateTime<Utc>,
    /// HTTP status.
    pub status: u16,
    /// Content hash of the extracted, normalised body.
    pub hash: ContentHash,
    /// Extractor that produced the post.
    pub extractor: String,
    /// The headline this copy showed (mirrors rewrite headlines).
    pub title: String,
    /// The run that fetched it.
    pub run: RunId,
    /// Character encoding used to decode the page, and where that decision came from.
    pub charset: String,
    /// Redirects followed to reach the page.
    #[serde(default)]
    pub redirects: Vec<Hop>,
}

/// One version of the text at one URL. A URL that serves a changed body gets a new version
/// linked to the one before; nothing is overwritten.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Version {
    /// 1 for the first text seen at the URL, then 2, 3, …
    pub number: u32,
    /// Content hash of this version.
    pub hash: ContentHash,
    /// The hash of the version before, if any.
    pub previous: Option<ContentHash>,
    /// The record this version belongs to.
    pub record: RecordId,
    /// When this version was first fetched.
    pub seen: DateTime<Utc>,
    /// The run that first fetched it.
    pub run: RunId,
    /// Characters in the normalised body.
    pub chars: usize,
    /// The headline it showed.
    pub title: String,
}

/// The single outcome every URL a crawl touches ends in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Produced a post whose text was new: a record was created.
    New {
        /// The new record.
        record: RecordId,
    },
    /// Produced a post whose text an existing record already holds.
    Duplicate {
        /// The record it joined.
        of: RecordId,
    },
    /// Produced a post whose text is new but similar to a record's: it joined that record.
    NearDuplicate {
        /// The record it joined.
        of: RecordId,
    },
    /// The server answered 304: the page is unchanged since the last fetch.
    NotModified,
    /// A listing page: links followed, no post.
    Hub,
    /// Not fetched, or fetched but not archived, on purpose.
    Skipped {
        /// Why (e.g. `max_depth`, `max_pages`, `not_article`).
        reason: String,
    },
    /// Could not be fetched or extracted.
    Failed {
        /// Short machine-readable class (`http_404`, `connect`, `timeout`, `extract`…).
        class: String,
        /// Human-readable detail.
        message: String,
    },
}

impl Outcome {
    /// The outcome's kind, for counting: `new`, `duplicate`, `near_duplicate`, `hub`,
    /// `skipped`, `failed`.
    pub fn kind(&self) -> &'static str {
        match self {
            Outcome::New { .. } => "new",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::NearDuplicate { .. } => "near_duplicate",
            Outcome::NotModified => "not_modified",
            Outcome::Hub => "hub",
            Outcome::Skipped { .. } => "skipped",
            Outcome::Failed { .. } => "failed",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::New { record } => write!(f, "new({record})"),
            Outcome::Duplicate { of } => write!(f, "duplicate({of})"),
            Outcome::NearDuplicate { of } => write!(f, "near_duplicate({of})"),
            Outcome::NotModified => f.write_str("not_modified"),
            Outcome::Hub => f.write_str("hub"),
            Outcome::Skipped { reason } => write!(f, "skipped({reason})"),
            Outcome::Failed { class, message } => write!(f, "failed({class}, {message})"),
        }
    }
}

/// What the store knows about one normalised URL.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlState {
    /// Normalised URL.
    pub url: String,
    /// Last time it was fetched (or decided on, for skipped URLs).
    pub last_fetch: DateTime<Utc>,
    /// The outcome of that attempt.
    pub outcome: Outcome,
    /// The run that decided it.
    pub run: RunId,
    /// HTTP status of the last response, if any.
    pub status: Option<u16>,
    /// Fetch attempts made for that outcome (retries included).
    #[serde(default)]
    pub attempts: u32,
    /// The record this URL's content belongs to, kept across `not_modified` re-fetches.
    #[serde(default)]
    pub record: Option<RecordId>,
    /// Validators for the next conditional request.
    #[serde(default)]
    pub validators: Validators,
    /// For listing pages: the links found, so a `304` still feeds the frontier.
    #[serde(default)]
    pub links: Vec<String>,
    /// Redirects followed on the last fetch.
    #[serde(default)]
    pub redirects: Vec<Hop>,
}

impl UrlState {
    /// A state with no record, validators, links or redirects.
    pub fn new(
        url: &str,
        outcome: Outcome,
        run: RunId,
        status: Option<u16>,
        attempts: u32,
    ) -> UrlState {
        UrlState {
            url: url.to_string(),
            last_fetch: Utc::now(),
            outcome,
            run,
            status,
            attempts,
            record: None,
            validators: Validators::default(),
            links: Vec::new(),
            redirects: Vec::new(),
        }
    }
}

/// Validators from a previous fetch, sent as `If-None-Match` / `If-Modified-Since`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validators {
    /// `ETag` as the server sent it.
    pub etag: Option<String>,
    /// `Last-Modified` as the server sent it.
    pub last_modified: Option<String>,
}

impl Validators {
    /// Whether there is anything to send.
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// One hop of a redirect chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hop {
    /// URL that answered with a redirect.
    pub from: String,
    /// Its status (301, 302, 303, 307, 308).
    pub status: u16,
}

/// The response a canonical copy was extracted from, kept for WARC export: status line,
/// headers and body exactly as received (the body still content-encoded if it was).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawResponse {
    /// The URL fetched (after redirects).
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Headers in order received, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Body bytes as they came off the wire.
    #[serde(with = "serde_bytes_b64")]
    pub body: Vec<u8>,
    /// When the headers arrived.
    pub fetched_at: DateTime<Utc>,
}

/// One crawl run and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Run id.
    pub id: RunId,
    /// Start time.
    pub started: DateTime<Utc>,
    /// End time; `None` while the run is going (or if it never finished).
    pub finished: Option<DateTime<Utc>>,
    /// Outcome counts by kind (`new`, `duplicate`, `hub`, `skipped`, `failed`).
    pub outcomes: std::collections::BTreeMap<String, u64>,
    /// How the run ended; `None` while it runs, or if the process died (it is then resumed).
    #[serde(default)]
    pub ended: Option<RunEnd>,
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunEnd {
    /// The frontier emptied.
    Completed,
    /// The page limit was reached; the rest of the queue was recorded as skipped.
    PageLimit,
    /// Stopped by a signal; the queue is kept and the next crawl resumes it.
    Stopped,
    /// Left unfinished and replaced by a fresh run (`--fresh`).
    Abandoned,
}

impl fmt::Display for RunEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunEnd::Completed => "completed",
            RunEnd::PageLimit => "page limit",
            RunEnd::Stopped => "stopped",
            RunEnd::Abandoned => "abandoned",
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0u8; bytes.len() * 2];
    hex_into(bytes, &mut out);
    out.into_iter().map(char::from).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    s.as_bytes().chunks(2).map(hex_byte).collect()
}

/// The byte two hex digits spell (either case).
fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    match pair {
        [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
        _ => None,
    }
}

/// Writes `bytes` as lower-case hex into `out` (twice as long).
fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[(b >> 4) as usize];
        pair[1] = DIGITS[(b & 0xf) as usize];
    }
}

/// Hashes and ids inside JSON values: hex strings, written and read without an allocation
/// (every stored value carries several, and every ingest reads and writes some).
macro_rules! hex_serde {
    ($name:ident, $n:expr) => {
        mod $name {
            use serde::de::{Error, Visitor};
            use serde::{Deserializer, Serializer};

            pub fn serialize<S: Serializer>(bytes: &[u8; $n], s: S) -> Result<S::Ok, S::Error> {
                let mut buf = [0u8; 2 * $n];
                super::hex_into(bytes, &mut buf);
                s.serialize_str(std::str::from_utf8(&buf).map_err(serde::ser::Error::custom)?)
            }

            struct Hex;

            impl Visitor<'_> for Hex {
                type Value = [u8; $n];

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    write!(f, "{} hex digits", 2 * $n)
                }

                fn visit_str<E: Error>(self, s: &str) -> Result<Self::Value, E> {
                    if s.len() != 2 * $n {
                        return Err(E::custom(concat!("expected ", $n, " bytes")));
                    }
                    let mut out = [0u8; $n];
                    for (o, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
                        *o = super::hex_byte(pair).ok_or_else(|| E::custom("invalid hex"))?;
                    }
                    Ok(out)
                }
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; $n], D::Error> {
                d.deserialize_str(Hex)
            }
        }
    };
}
/// Bodies inside JSON values: a byte array would triple their size, so store them as base64.
mod serde_bytes_b64 {
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        s.serialize_str(&out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let mut out = Vec::with_capacity(s.len() / 4 * 3);
        let mut acc = 0u32;
        let mut bits = 0;
        for c in s.bytes().filter(|c| *c != b'=') {
            let v = ALPHABET
                .iter()
                .position(|a| *a == c)
                .ok_or_else(|| D::Error::custom("invalid base64"))? as u32;
            acc = acc << 6 | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Ok(out)
    }
}

hex_serde!(hex32, 32);
hex_serde!(hex16, 16);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_id_round_trips_through_hex() {
        let hash = ContentHash(*blake3::hash(b"x").as_bytes());
        let id = RecordId::from_first_hash(&hash);
        assert_eq!(RecordId::parse_hex(&id.to_hex()), Some(id));
        assert_eq!(&hash.to_hex()[..32], id.to_hex());
        assert_eq!(RecordId::parse_hex("zz"), None);
        assert_eq!(RecordId::parse_hex("abc"), None);
    }

    #[test]
    fn ids_serialise_as_hex_strings() {
        let hash = ContentHash([0xab; 32]);
        let json = serde_json::to_string(&hash).unwrap();
        assert_eq!(json, format!("\"{}\"", "ab".repeat(32)));
        let back: ContentHash = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hash);
        // Read from any source (a reader hands the visitor a transient string), either case.
        let upper = json.to_uppercase();
        let back: ContentHash = serde_json::from_reader(upper.as_bytes()).unwrap();
        assert_eq!(back, hash);
        let id: RecordId = serde_json::from_value(serde_json::json!("00ff".repeat(8))).unwrap();
        assert_eq!(id.0[..2], [0x00, 0xff]);
        for bad in ["\"abc\"", "\"zz\"", "7", &format!("\"{}\"", "a".repeat(63))] {
            assert!(serde_json::from_str::<ContentHash>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn raw_bodies_round_trip_as_base64() {
        for body in [
            vec![],
            vec![0u8],
            vec![1, 2],
            vec![0xff, 0, 7],
            (0..=255).collect::<Vec<u8>>(),
        ] {
            let raw = RawResponse {
                url: "http://a.test/".into(),
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: body.clone(),
                fetched_at: Utc::now(),
            };
            let back: RawResponse =
                serde_json::from_str(&serde_json::to_string(&raw).unwrap()).unwrap();
            assert_eq!(back.body, body);
        }
    }

    #[test]
    fn outcome_json_is_tagged() {
        let o = Outcome::Failed {
            class: "http_404".into(),
            message: "not found".into(),
        };
        let v = serde_json::to_value(&o).unwrap();
        assert_eq!(v["outcome"], "failed");
        assert_eq!(v["class"], "http_404");
    }
}
