//! The export schema, defined once: column names in order and how each value derives from a
//! record (and, with `all_copies`, one of its sightings). README.md documents it; changing a
//! name or a meaning is a breaking change for users' pipelines.

use chrono::{DateTime, SecondsFormat, TimeZone};

use crate::model::{Record, Sighting};

/// Columns of every row, in order.
pub const RECORD_COLUMNS: &[&str] = &[
    "record_id",
    "canonical_url",
    "canonical_host",
    "title",
    "published",
    "source",
    "author",
    "language",
    "body",
    "extractor",
    "content_hash",
    "content_hashes",
    "cluster_size",
    "canonical_reason",
    "first_seen",
    "urls",
];

/// Columns added with `all_copies` (one row per sighting), after [`RECORD_COLUMNS`].
pub const SIGHTING_COLUMNS: &[&str] = &[
    "sighting_url",
    "sighting_host",
    "fetched_at",
    "status",
    "sighting_content_hash",
    "sighting_title",
    "sighting_extractor",
    "charset",
    "run",
    "is_canonical",
];

/// RFC 3339 with the value's own offset (`Z` for UTC), seconds precision unless finer.
pub fn time<Tz: TimeZone>(t: &DateTime<Tz>) -> String
where
    Tz::Offset: std::fmt::Display,
{
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The body as one string: paragraphs joined by a newline.
pub fn body(r: &Record) -> String {
    r.canonical.body.join("\n")
}

/// Content hash (hex) of the canonical copy; the first member's when no copy is at the
/// canonical URL (cannot happen for records written by `dedup::admit`).
pub fn content_hash(r: &Record) -> String {
    r.copies
        .iter()
        .find(|c| c.url == r.canonical.url)
        .map(|c| c.hash)
        .or_else(|| r.members.first().map(|m| m.hash))
        .map(|h| h.to_hex())
        .unwrap_or_default()
}

/// Every content hash in the record (hex), in join order.
pub fn content_hashes(r: &Record) -> Vec<String> {
    r.members.iter().map(|m| m.hash.to_hex()).collect()
}

/// The deciding criterion of the canonical choice, as its stable snake_case tag
/// (`only_copy`, `preferred_host`, `earliest_seen`, `shortest_url`, …).
pub fn canonical_reason(r: &Record) -> String {
    // The tag is the serde tag of `CanonicalReason`, so new criteria need no change here.
    serde_json::to_value(&r.canonical_reason)
        .ok()
        .and_then(|v| {
            v.get("criterion")
                .and_then(|c| c.as_str())
                .map(String::from)
        })
        .unwrap_or_default()
}

/// Copies in the record's cluster (distinct URLs).
pub fn cluster_size(r: &Record) -> u32 {
    u32::try_from(r.copies.len()).unwrap_or(u32::MAX)
}

/// Whether a sighting is of the canonical URL.
pub fn is_canonical(r: &Record, s: &Sighting) -> bool {
    s.url == r.canonical.url
}
