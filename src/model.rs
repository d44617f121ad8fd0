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
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    s.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

macro_rules! hex_serde {
    ($name:ident, $n:expr) => {
        mod $name {
            use serde::{de::Error, Deserialize, Deserializer, Serializer};

            pub fn serialize<S: Serializer>(bytes: &[u8; $n], s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&super::hex(bytes))
            }

            pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; $n], D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                let bytes = super::unhex(&s).ok_or_else(|| D::Error::custom("invalid hex"))?;
                bytes
                    .try_into()
                    .map_err(|_| D::Error::custom(concat!("expected ", $n, " bytes")))
            }
        }
    };
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
